/* activation.c: GELU (erf form), see activation.h. */
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
