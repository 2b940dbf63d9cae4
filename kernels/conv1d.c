/* conv1d.c: y = x·W + b with W [in][out] (conv1d.h), a reference loop and a cblas_sgemm fast path. */
#include "conv1d.h"

#include <cblas.h> /* cblas_sgemm */
#include <stddef.h>

void ss_conv1d_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * in; /* [in] */
        float *yt = y + (size_t)t * out;      /* [out] */
        for (int o = 0; o < out; o++) {
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < in; i++) acc += (double)xt[i] * W[(size_t)i * out + o];
            yt[o] = (float)acc;
        }
    }
}

void ss_conv1d_blas(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    if (T <= 0 || out <= 0) return;
    /* Seed every row of y with the bias, then accumulate x·W onto it (beta = 1). */
    float beta = 0.0f;
    if (b) {
        for (int t = 0; t < T; t++) {
            float *yt = y + (size_t)t * out; /* [out] */
            for (int o = 0; o < out; o++) yt[o] = b[o];
        }
        beta = 1.0f;
    }
    if (in <= 0) {
        if (!b)
            for (size_t i = 0; i < (size_t)T * out; i++) y[i] = 0.0f;
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, out, in, 1.0f, x, in, W, out, beta, y, out);
}

void ss_conv1d(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF)
        ss_conv1d_ref(y, x, W, b, T, in, out);
    else
        ss_conv1d_blas(y, x, W, b, T, in, out);
}
