/* matmul.c: y = x·Wᵀ + b (matmul.h) and, through the same two functions, conv1d.h's y = x·W + b: a reference
 * loop and a cblas_sgemm fast path. */
#include "matmul.h"

#include <cblas.h> /* cblas_sgemm */
#include <stddef.h>

void ss_dense_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out, ss_w_layout l)
{
    /* W[o][i] is at o·in + i for [out][in], at i·out + o for [in][out] */
    const size_t s_o = l == SS_W_OUT_IN ? (size_t)in : 1, s_i = l == SS_W_OUT_IN ? 1 : (size_t)out;
    for (int t = 0; t < T; t++) {
        const float *xt = x + (size_t)t * in; /* [in] */
        float *yt = y + (size_t)t * out;      /* [out] */
        for (int o = 0; o < out; o++) {
            double acc = b ? b[o] : 0.0;
            for (int i = 0; i < in; i++) acc += (double)xt[i] * W[(size_t)o * s_o + (size_t)i * s_i];
            yt[o] = (float)acc;
        }
    }
}

void ss_dense_blas(float *y, const float *x, const float *W, const float *b, int T, int in, int out, ss_w_layout l)
{
    if (T <= 0 || out <= 0) return;
    /* Seed every row of y with the bias, then accumulate x·W(ᵀ) onto it (beta = 1). */
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
    if (l == SS_W_OUT_IN)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, out, in, 1.0f, x, in, W, in, beta, y, out);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, out, in, 1.0f, x, in, W, out, beta, y, out);
}

void ss_matmul_ref(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    ss_dense_ref(y, x, W, b, T, in, out, SS_W_OUT_IN);
}

void ss_matmul_blas(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    ss_dense_blas(y, x, W, b, T, in, out, SS_W_OUT_IN);
}

void ss_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF)
        ss_matmul_ref(y, x, W, b, T, in, out);
    else
        ss_matmul_blas(y, x, W, b, T, in, out);
}
