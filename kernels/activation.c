/* activation.c: GELU (erf and tanh forms), SiLU and SwiGLU, see activation.h. */
#include "activation.h"

#include <math.h>

#include "fastmath.h" /* ss_exp_fast, SS_VECTOR_CLONES */
#include "path.h"

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

/* -------------------------------------------------------------------------------- fast paths */

/* erfc(z) for z >= 0 as t·exp(−z² + c(t)), t = 1/(1 + z/2), with the degree-9 Chebyshev fit c of
 * Press et al. (Numerical Recipes, erfcc): relative error below 1.2e-7 for every z >= 0, so
 * 1 + erf(x/√2) keeps its relative accuracy in the far negative tail, where GELU is tiny. */
static inline float erfc_pos(float z)
{
    const float t = 1.0f / (1.0f + 0.5f * z);
    float c = 0.17087277f;
    c = c * t - 0.82215223f;
    c = c * t + 1.48851587f;
    c = c * t - 1.13520398f;
    c = c * t + 0.27886807f;
    c = c * t - 0.18628806f;
    c = c * t + 0.09678418f;
    c = c * t + 0.37409196f;
    c = c * t + 1.00002368f;
    c = c * t - 1.26551223f;
    return t * ss_exp_fast(-z * z + c);
}

SS_VECTOR_CLONES void ss_gelu_erf_fast(float *x, size_t n)
{
    const float inv_sqrt2 = 0.70710678118654752440f;
    for (size_t i = 0; i < n; i++) {
        /* 1 + erf(v/√2) = 2 − erfc(|v|/√2) for v >= 0, erfc(|v|/√2) below; both arms computed, then one
         * selected, so the loop has no branch (a conditional fp operation blocks vectorisation) */
        const float v = x[i], e = erfc_pos(fabsf(v) * inv_sqrt2), pos = 2.0f - e;
        x[i] = 0.5f * v * (v >= 0.0f ? pos : e);
    }
}

SS_VECTOR_CLONES void ss_gelu_tanh_fast(float *x, size_t n)
{
    const float k = 0.79788456080286535588f;
    for (size_t i = 0; i < n; i++) {
        const float v = x[i], y = k * (v + 0.044715f * v * v * v);
        /* 1 + tanh(y) = 2 − 2/(e^{2y} + 1) = 2·e^{2y}/(e^{2y} + 1); the second form for y < 0 keeps the
         * relative accuracy where 1 + tanh(y) is small */
        const float e = ss_exp_fast(-2.0f * fabsf(y)); /* in (0, 1] */
        const float pos = 2.0f / (1.0f + e), neg = pos * e;
        x[i] = 0.5f * v * (y >= 0.0f ? pos : neg);
    }
}

SS_VECTOR_CLONES void ss_silu_fast(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + ss_exp_fast(-x[i]));
}

SS_VECTOR_CLONES void ss_swiglu_fast(float *gate, const float *up, size_t n)
{
    for (size_t i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + ss_exp_fast(-gate[i])) * up[i];
}

void ss_gelu_erf(float *x, size_t n)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF) ss_gelu_erf_ref(x, n);
    else ss_gelu_erf_fast(x, n);
}

void ss_gelu_tanh(float *x, size_t n)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF) ss_gelu_tanh_ref(x, n);
    else ss_gelu_tanh_fast(x, n);
}

void ss_silu(float *x, size_t n)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF) ss_silu_ref(x, n);
    else ss_silu_fast(x, n);
}

void ss_swiglu(float *gate, const float *up, size_t n)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF) ss_swiglu_ref(gate, up, n);
    else ss_swiglu_fast(gate, up, n);
}
