/* norm.c: LayerNorm and RMSNorm references (norm.h). */
#include "norm.h"

#include <math.h>
#include <stddef.h>

void ss_layernorm_ref(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps)
{
    if (d <= 0) return;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * d; /* [d] */
        float *yt = y + (size_t)t * d;       /* [d] */
        double mean = 0.0;
        for (int i = 0; i < d; i++) mean += xt[i];
        mean /= d;
        double var = 0.0;
        for (int i = 0; i < d; i++) {
            double c = xt[i] - mean;
            var += c * c;
        }
        var /= d;
        double inv = 1.0 / sqrt(var + (double)eps);
        for (int i = 0; i < d; i++) yt[i] = (float)((xt[i] - mean) * inv * gamma[i] + beta[i]);
    }
}

void ss_rmsnorm_ref(float *y, const float *x, const float *gamma, int T, int d, float eps)
{
    if (d <= 0) return;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * d; /* [d] */
        float *yt = y + (size_t)t * d;       /* [d] */
        double ms = 0.0;
        for (int i = 0; i < d; i++) ms += (double)xt[i] * xt[i];
        ms /= d;
        double inv = 1.0 / sqrt(ms + (double)eps);
        for (int i = 0; i < d; i++) yt[i] = (float)(xt[i] * inv * gamma[i]);
    }
}
