/* attention.c: scaled dot-product attention with probabilities (attention.h). */
#include "attention.h"

#include <cblas.h> /* cblas_sgemm */
#include <math.h>
#include <stddef.h>

void ss_softmax_rows_window_ref(float *S, int rows, int cols, int causal, int window)
{
    int offset = cols - rows;
    for (int r = 0; r < rows; r++) {
        float *s = S + (size_t)r * cols; /* [cols] */
        int n_keep = causal ? r + offset + 1 : cols;
        if (n_keep > cols) n_keep = cols;
        if (n_keep < 0) n_keep = 0;
        /* first kept column: keys j <= r + offset − window fall outside the window */
        int lo = causal && window > 0 ? r + offset - window + 1 : 0;
        if (lo < 0) lo = 0;
        if (lo > n_keep) lo = n_keep;
        for (int j = 0; j < lo; j++) s[j] = 0.0f;
        for (int j = n_keep; j < cols; j++) s[j] = 0.0f;
        if (n_keep == lo) continue;
        float mx = s[lo];
        for (int j = lo + 1; j < n_keep; j++)
            if (s[j] > mx) mx = s[j];
        double sum = 0.0;
        for (int j = lo; j < n_keep; j++) {
            s[j] = expf(s[j] - mx);
            sum += s[j];
        }
        float inv = (float)(1.0 / sum);
        for (int j = lo; j < n_keep; j++) s[j] *= inv;
    }
}

void ss_softmax_rows_ref(float *S, int rows, int cols, int causal)
{
    ss_softmax_rows_window_ref(S, rows, cols, causal, 0);
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

/* ---------------------------------------------------------------------------------------- ss_mha */

/* Adds the ALiBi bias −slope·|i − j| to the scores S [T][T] of one head (masked entries included:
 * the softmax zeroes them anyway). For j <= i this is slope·(j − i), bit for bit. */
static void add_alibi(float *S, int T, float slope)
{
    for (int i = 0; i < T; i++) {
        float *s = S + (size_t)i * T; /* [T] */
        for (int j = 0; j < T; j++) s[j] += -(slope * (float)(j <= i ? i - j : j - i));
    }
}

void ss_mha_ref(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k, const float *v)
{
    const int T = a->T, H = a->H, d_h = a->d_h, group = a->H / a->H_kv;
    for (int h = 0; h < H; h++) {
        const int g = h / group;
        float *Ph = P + (size_t)h * T * T;                                        /* [T][T] */
        const float *qh = q + (size_t)h * T * d_h;                                /* [T][d_h] */
        const float *kg = k + (size_t)g * T * d_h, *vg = v + (size_t)g * T * d_h; /* [T][d_h] */
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) {
                double dot = 0.0;
                for (int c = 0; c < d_h; c++) dot += (double)qh[(size_t)i * d_h + c] * kg[(size_t)j * d_h + c];
                Ph[(size_t)i * T + j] = (float)(dot * a->scale);
            }
        if (a->alibi) add_alibi(Ph, T, a->alibi[h]);
        ss_softmax_rows_window_ref(Ph, T, T, a->causal, a->window);
        for (int i = 0; i < T; i++)
            for (int c = 0; c < d_h; c++) {
                double acc = 0.0;
                for (int j = 0; j < T; j++) acc += (double)Ph[(size_t)i * T + j] * vg[(size_t)j * d_h + c];
                out[(size_t)i * ld_out + (size_t)h * d_h + c] = (float)acc;
            }
    }
}

void ss_mha_blas(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k, const float *v)
{
    const int T = a->T, H = a->H, d_h = a->d_h, group = a->H / a->H_kv;
    if (T <= 0 || H <= 0 || d_h <= 0) return;
    for (int h = 0; h < H; h++) {
        const int g = h / group;
        float *Ph = P + (size_t)h * T * T;                                        /* [T][T] */
        const float *qh = q + (size_t)h * T * d_h;                                /* [T][d_h] */
        const float *kg = k + (size_t)g * T * d_h, *vg = v + (size_t)g * T * d_h; /* [T][d_h] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d_h, a->scale, qh, d_h, kg, d_h, 0.0f, Ph, T);
        if (a->alibi) add_alibi(Ph, T, a->alibi[h]);
        ss_softmax_rows_window_ref(Ph, T, T, a->causal, a->window);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d_h, T, 1.0f, Ph, T, vg, d_h, 0.0f,
                    out + (size_t)h * d_h, ld_out);
    }
}

void ss_mha(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k, const float *v)
{
    if (ss_kernels_get_path() == SS_KERNEL_REF)
        ss_mha_ref(a, P, out, ld_out, q, k, v);
    else
        ss_mha_blas(a, P, out, ld_out, q, k, v);
}

void ss_alibi_slopes(float *slopes, int H)
{
    if (H <= 0) return;
    int n = 1;
    while (n * 2 <= H) n *= 2;
    /* fp32 as torch: base = float(2^(−2^−(log2(n) − 3))) = float(2^(−8/n)); slope = powf(base, power) */
    const float base = (float)pow(2.0, -8.0 / n);
    for (int h = 0; h < n; h++) slopes[h] = powf(base, (float)(h + 1));
    if (n < H) {
        const float extra = (float)pow(2.0, -4.0 / n);
        for (int e = 0; e < H - n; e++) slopes[n + e] = powf(extra, (float)(2 * e + 1));
    }
}
