/* attention.h: multi-head scaled dot-product attention, probabilities kept.
 *
 * Dimensions: T tokens, H heads of d_h columns each; rows of q, k, v and out are ld floats apart
 * (ld >= H·d_h; for a fused layout ld = d_model), and head h occupies columns [h·d_h, (h+1)·d_h).
 *   q, k, v  [T][ld]      queries, keys, values (already projected, bias added)
 *   P        [H][T][T]    output: P[h][i][j] = softmax_j(q_i·k_j / √d_h), query i, key j
 *   out      [T][ld]      output: out[i][h·d_h + c] = Σ_j P[h][i][j] · v[j][h·d_h + c]
 * With causal = 1, keys j > i are masked: P[h][i][j] = 0 exactly.
 *
 * The passes: (1) scores S = Q_h·K_hᵀ / √d_h into P; (2) mask + max-subtracted softmax of each row
 * in place (fp32 values, double row sums); (3) out_h = P_h·V_h.
 * ss_attention_ref runs plain loops for (1) and (3); ss_attention_blas runs cblas_sgemm for them.
 * Both share ss_softmax_rows_ref for (2). ss_attention dispatches on ss_kernels_get_path(). */
#ifndef SS_KERNELS_ATTENTION_H
#define SS_KERNELS_ATTENTION_H

#include "path.h"

/* S [rows][cols] in place: row r becomes softmax over its columns. With causal = 1, row r keeps
 * columns j <= r + offset (offset = cols - rows for a query block at the end of the keys; 0 for
 * square) and sets the others to exactly 0. A row with every entry masked is left all zero. */
void ss_softmax_rows_ref(float *S, int rows, int cols, int causal);
/* The same with a sliding window (window > 0, causal = 1): row r keeps only columns j with
 * r + offset − window < j <= r + offset, the last `window` keys up to the query itself (transformers'
 * sliding_window_overlay: kv_idx > q_idx − sliding_window). window <= 0 or causal = 0: no window. */
void ss_softmax_rows_window_ref(float *S, int rows, int cols, int causal, int window);
/* The fast path of the same: exp from fastmath.h (a few ulp from expf), partial sums in fp32 over 16
 * lanes added in double. Masked entries are exactly 0 as in the reference. */
void ss_softmax_rows_window_fast(float *S, int rows, int cols, int causal, int window);

void ss_attention_ref(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h,
                      int ld, int causal);
void ss_attention_blas(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h,
                       int ld, int causal);
void ss_attention(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h, int ld,
                  int causal);

/* ---- ss_mha: heads in their own blocks, grouped-query attention, ALiBi bias, any scale.
 *
 * Layout: H query heads, H_kv key/value heads (H a multiple of H_kv); query head h reads KV head
 * h / (H / H_kv) (= floor(h · H_kv / H), as Hugging Face's repeat_kv).
 *   q        [H][T][d_h]      queries (positional encoding already applied)
 *   k, v     [H_kv][T][d_h]   keys (idem), values
 *   P        [H][T][T]        output: P[h][i][j] = softmax_j(S[h][i][j]), query i, key j
 *   out      [T][ld_out]      output: out[i][h·d_h + c] = Σ_j P[h][i][j] · v[kv(h)][j][c]; ld_out >= H·d_h
 * with the scores S[h][i][j] = scale · q[h][i]·k[kv(h)][j] − (alibi ? alibi[h] · |i − j| : 0).
 * With causal = 1, keys j > i are masked: P[h][i][j] = 0 exactly; with a window W > 0 as well, keys
 * j <= i − W are masked too (Gemma-3's local layers: query i sees keys i−W+1 .. i).
 * ALiBi: the bias is −slope·|i − j|, minus the slope times the distance to the query. Causal, only
 * j <= i counts and it is −slope·(i − j); Hugging Face's BLOOM adds slope·j instead, which differs by a
 * constant per row and so gives the same softmax (up to rounding). Bidirectional (causal = 0) it is
 * the symmetric variant (MosaicBERT's), which the `alibi` ablation uses on BERT.
 * ss_mha_ref runs plain loops (double accumulation) and ss_softmax_rows_window_ref. ss_mha_blas runs
 * cblas_sgemm for Q·Kᵀ and P·V and the fast softmax; under a causal mask it takes the queries in
 * blocks of 64 and multiplies only the keys a block can see (half the work at long T, a band with a
 * window). ss_mha dispatches on ss_kernels_get_path(). */
typedef struct {
    int T, H, H_kv, d_h;
    float scale;        /* 1/√d_h for every supported architecture (GPT-2 may divide by the layer too) */
    int causal;         /* 1: mask keys after the query */
    const float *alibi; /* [H] ALiBi slopes, or NULL */
    int window;         /* > 0 (with causal): sliding window of that many keys ending at the query; 0: none */
} ss_mha_desc;

void ss_mha_ref(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k, const float *v);
void ss_mha_blas(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k,
                 const float *v);
void ss_mha(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k, const float *v);

/* The ALiBi slopes of H heads, Hugging Face's schedule (BLOOM's build_alibi_tensor, after Press et al.):
 * with n = the largest power of 2 <= H, head h < n gets b^(h+1) with b = 2^(−8/n); the remaining
 * H − n heads get b'^1, b'^3, b'^5, ... with b' = 2^(−4/n) (the odd powers of the schedule of 2n heads).
 * Computed in fp32 as there. slopes: [H]. */
void ss_alibi_slopes(float *slopes, int H);

#endif
