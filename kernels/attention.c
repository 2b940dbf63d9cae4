/* attention.c: scaled dot-product attention with probabilities (attention.h). */
#include "attention.h"

#include <cblas.h> /* cblas_sgemm */
#include <math.h>
#include <stddef.h>

void ss_softmax_rows_ref(float *S, int rows, int cols, int causal)
{
    int offset = cols - rows;
    for (int r = 0; r < rows; r++) {
        float *s = S + (size_t)r * cols; /* [cols] */
        int n_keep = causal ? r + offset + 1 : cols;
        if (n_keep > cols) n_keep = cols;
        if (n_keep < 0) n_keep = 0;
        for (int j = n_keep; j < cols; j++) s[j] = 0.0f;
        if (n_keep == 0) continue;
        float mx = s[0];
        for (int j = 1; j < n_keep; j++)
            if (s[j] > mx) mx = s[j];
        double sum = 0.0;
        for (int j = 0; j < n_keep; j++) {
            s[j] = expf(s[j] - mx);
            sum += s[j];
        }
        float inv = (float)(1.0 / sum);
        for (int j = 0; j < n_keep; j++) s[j] *= inv;
    }
}

void ss_attention_ref(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h,
                      int ld, int causal)
{
    const double scale = 1.0 / sqrt((double)d_h);
    for (int h = 0; h < H; h++) {
        float *Ph = P + (size_t)h * T * T; /* [T][T] */
        /* pass 1: scores, query i against key j */
        for (int i = 0; i < T; i++) {
            const float *qi = q + (size_t)i * ld + (size_t)h * d_h; /* [d_h] */
            for (int j = 0; j < T; j++) {
                const float *kj = k + (size_t)j * ld + (size_t)h * d_h; /* [d_h] */
                double dot = 0.0;
                for (int c = 0; c < d_h; c++) dot += (double)qi[c] * kj[c];
                Ph[(size_t)i * T + j] = (float)(dot * scale);
            }
        }
        /* pass 2: mask + softmax over keys */
        ss_softmax_rows_ref(Ph, T, T, causal);
        /* pass 3: weighted sum of values */
        for (int i = 0; i < T; i++) {
            float *oi = out + (size_t)i * ld + (size_t)h * d_h; /* [d_h] */
            for (int c = 0; c < d_h; c++) {
                double acc = 0.0;
                for (int j = 0; j < T; j++)
                    acc += (double)Ph[(size_t)i * T + j] * v[(size_t)j * ld + (size_t)h * d_h + c];
                oi[c] = (float)acc;
            }
        }
    }
}

void ss_attention_blas(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h,
                       int ld, int causal)
{
    if (T <= 0 || H <= 0) return;
    const float scale = (float)(1.0 / sqrt((double)d_h));
    for (int h = 0; h < H; h++) {
        float *Ph = P + (size_t)h * T * T;                                                           /* [T][T] */
        const float *qh = q + (size_t)h * d_h, *kh = k + (size_t)h * d_h, *vh = v + (size_t)h * d_h; /* [T][ld] views */
        float *oh = out + (size_t)h * d_h;                                                           /* [T][ld] view */
        /* pass 1: S = Q_h·K_hᵀ·scale */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d_h, scale, qh, ld, kh, ld, 0.0f, Ph, T);
        /* pass 2 */
        ss_softmax_rows_ref(Ph, T, T, causal);
        /* pass 3: O_h = P_h·V_h */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d_h, T, 1.0f, Ph, T, vh, ld, 0.0f, oh, ld);
    }
}

void ss_attention(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h, int ld,
                  int causal)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF)
        ss_attention_ref(P, out, q, k, v, T, H, d_h, ld, causal);
    else
        ss_attention_blas(P, out, q, k, v, T, H, d_h, ld, causal);
}
