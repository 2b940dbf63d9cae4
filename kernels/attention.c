/* attention.c: scaled dot-product attention with probabilities (attention.h). */
#include "attention.h"

#include <cblas.h> /* cblas_sgemm */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "fastmath.h" /* ss_exp_fast, SS_VECTOR_CLONES */

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

/* Softmax of one contiguous span s[n] (n >= 1) in place: 16 partial maxima and sums, so the loops vectorise. */
SS_VECTOR_CLONES static void softmax_span_fast(float *s, int n)
{
    enum { W = 16 };
    float m[W];
    for (int u = 0; u < W; u++) m[u] = s[0];
    int j = 0;
    for (; j + W <= n; j += W)
        for (int u = 0; u < W; u++) m[u] = s[j + u] > m[u] ? s[j + u] : m[u];
    float mx = m[0];
    for (int u = 1; u < W; u++) mx = m[u] > mx ? m[u] : mx;
    for (; j < n; j++) mx = s[j] > mx ? s[j] : mx;
    float acc[W] = {0};
    j = 0;
    for (; j + W <= n; j += W)
        for (int u = 0; u < W; u++) {
            s[j + u] = ss_exp_fast(s[j + u] - mx);
            acc[u] += s[j + u];
        }
    double sum = 0.0;
    for (; j < n; j++) {
        s[j] = ss_exp_fast(s[j] - mx);
        sum += s[j];
    }
    for (int u = 0; u < W; u++) sum += acc[u];
    const float inv = (float)(1.0 / sum);
    for (j = 0; j < n; j++) s[j] *= inv;
}

void ss_softmax_rows_window_fast(float *S, int rows, int cols, int causal, int window)
{
    const int offset = cols - rows;
    for (int r = 0; r < rows; r++) {
        float *s = S + (size_t)r * cols; /* [cols] */
        int n_keep = causal ? r + offset + 1 : cols;
        if (n_keep > cols) n_keep = cols;
        if (n_keep < 0) n_keep = 0;
        int lo = causal && window > 0 ? r + offset - window + 1 : 0;
        if (lo < 0) lo = 0;
        if (lo > n_keep) lo = n_keep;
        if (lo > 0) memset(s, 0, (size_t)lo * sizeof *s);
        if (n_keep < cols) memset(s + n_keep, 0, (size_t)(cols - n_keep) * sizeof *s);
        if (n_keep > lo) softmax_span_fast(s + lo, n_keep - lo);
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

/* Query rows are taken in blocks of MHA_BLOCK. Under a causal mask a block of queries [i0, i1) sees
 * only keys [lo, i1) (lo > 0 with a sliding window), so both products skip the masked keys: about half
 * of the Q·Kᵀ and P·V work at long T. The skipped entries of P are set to exactly 0. */
enum { MHA_BLOCK = 64 };

void ss_mha_blas(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k, const float *v)
{
    const int T = a->T, H = a->H, d_h = a->d_h, group = a->H / a->H_kv;
    if (T <= 0 || H <= 0 || d_h <= 0) return;
    for (int h = 0; h < H; h++) {
        const int g = h / group;
        float *Ph = P + (size_t)h * T * T;                                        /* [T][T] */
        const float *qh = q + (size_t)h * T * d_h;                                /* [T][d_h] */
        const float *kg = k + (size_t)g * T * d_h, *vg = v + (size_t)g * T * d_h; /* [T][d_h] */
        if (!a->causal) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, d_h, a->scale, qh, d_h, kg, d_h, 0.0f, Ph, T);
            if (a->alibi) add_alibi(Ph, T, a->alibi[h]);
            ss_softmax_rows_window_fast(Ph, T, T, 0, 0);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, d_h, T, 1.0f, Ph, T, vg, d_h, 0.0f,
                        out + (size_t)h * d_h, ld_out);
            continue;
        }
        for (int i0 = 0; i0 < T; i0 += MHA_BLOCK) {
            const int i1 = i0 + MHA_BLOCK < T ? i0 + MHA_BLOCK : T, m = i1 - i0;
            int lo = a->window > 0 ? i0 - a->window + 1 : 0; /* first key any query of the block sees */
            if (lo < 0) lo = 0;
            const int nk = i1 - lo;
            float *Pb = Ph + (size_t)i0 * T; /* rows [i0, i1) of P_h, [m][T] */
            /* S[i][lo..i1) = scale · q_i·k_j; the columns outside are masked for every row of the block */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, nk, d_h, a->scale, qh + (size_t)i0 * d_h, d_h,
                        kg + (size_t)lo * d_h, d_h, 0.0f, Pb + lo, T);
            for (int r = 0; r < m; r++) {
                float *row = Pb + (size_t)r * T; /* [T] */
                const int i = i0 + r;
                if (a->alibi) {
                    const float slope = a->alibi[h];
                    for (int j = lo; j <= i; j++) row[j] += -(slope * (float)(i - j));
                }
                /* the window's first key for this row; entries [lo, first) and (i, T) are masked */
                int first = a->window > 0 ? i - a->window + 1 : 0;
                if (first < lo) first = lo;
                if (first > 0) memset(row, 0, (size_t)first * sizeof *row);
                if (i + 1 < T) memset(row + i + 1, 0, (size_t)(T - i - 1) * sizeof *row);
                softmax_span_fast(row + first, i + 1 - first);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d_h, nk, 1.0f, Pb + lo, T, vg + (size_t)lo * d_h,
                        d_h, 0.0f, out + (size_t)i0 * ld_out + (size_t)h * d_h, ld_out);
        }
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
