/* activation.c: GELU (erf and tanh forms), SiLU and SwiGLU, see activation.h. */
#include "activation.h"

#include <math.h>

void ss_gelu_erf_ref(float *x, size_t n)
{
    const float inv_sqrt2 = 0.70710678118654752440f;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + erff(v * inv_sqrt2));
    }
}

void ss_gelu_tanh_ref(float *x, size_t n)
{
    const float k = 0.79788456080286535588f; /* √(2/π) */
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(k * (v + 0.044715f * v * v * v)));
    }
}

static float silu1(float v) { return v / (1.0f + expf(-v)); }

void ss_silu_ref(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = silu1(x[i]);
}

void ss_swiglu_ref(float *gate, const float *up, size_t n)
{
    for (size_t i = 0; i < n; i++) gate[i] = silu1(gate[i]) * up[i];
}
