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

void ss_attention_ref(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h,
                      int ld, int causal);
void ss_attention_blas(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h,
                       int ld, int causal);
void ss_attention(float *P, float *out, const float *q, const float *k, const float *v, int T, int H, int d_h, int ld,
                  int causal);

#endif
