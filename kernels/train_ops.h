/* train_ops.h: forward and backward of the building blocks of a small decoder, for `sinkscope train` (issue 8).
 *
 * Every op has a double-precision reference form (suffix _d), plain loops, which the finite-difference tests
 * (tests/train/test_train_grads.c) check; linear also has a float form on cblas_sgemm (suffix _f), the one
 * training runs, checked against the double form. The design of the model, AdamW and the checkpoint writer
 * built on these is in train_ops.md.
 *
 * Conventions, shared by every op:
 *   - row-major; N rows (tokens) unless said otherwise; shapes are given beside every buffer;
 *   - a backward takes the upstream gradient dy (dL/dy for some scalar loss L) and what its forward saved;
 *   - gradients of INPUTS (dx, dq, ...) are OVERWRITTEN; gradients of PARAMETERS (dW, db, dg, dtable) are
 *     ACCUMULATED (+=), so that a parameter used by several rows, heads or micro-batches sums its parts.
 *     The caller zeroes parameter gradients once per optimizer step;
 *   - a NULL gradient pointer skips that gradient (e.g. dx of the first layer's input);
 *   - nothing allocates; buffers never alias unless said so.
 */
#ifndef SS_KERNELS_TRAIN_OPS_H
#define SS_KERNELS_TRAIN_OPS_H

#include <stdint.h>

#include "rope.h" /* ss_rope_pairing */

/* ---------------------------------------------------------------------------------------------- linear
 * y = x·Wᵀ + b:   y[n][o] = Σ_i x[n][i]·W[o][i] + b[o]          (Hugging Face nn.Linear layout, W [out][in])
 * Backward:       dx[n][i] = Σ_o dy[n][o]·W[o][i]               (dx = dy·W)
 *                 dW[o][i] += Σ_n dy[n][o]·x[n][i]             (dW += dyᵀ·x)
 *                 db[o]    += Σ_n dy[n][o]
 *   x [N][in], W [out][in], b [out] or NULL (no bias), y [N][out], dy [N][out], dx [N][in], dW [out][in],
 *   db [out] or NULL. */
void ss_tr_linear_fwd_d(double *y, const double *x, const double *W, const double *b, int N, int in, int out);
void ss_tr_linear_bwd_d(double *dx, double *dW, double *db, const double *dy, const double *x, const double *W, int N,
                        int in, int out);
/* The same in float on cblas_sgemm (accumulating in fp32 as BLAS does). */
void ss_tr_linear_fwd_f(float *y, const float *x, const float *W, const float *b, int N, int in, int out);
void ss_tr_linear_bwd_f(float *dx, float *dW, float *db, const float *dy, const float *x, const float *W, int N, int in,
                        int out);

/* ------------------------------------------------------------------------------------------- embedding
 * y[n] = table[ids[n]]  (token embedding; learned absolute positions are the same with ids[n] = n).
 * Backward:  dtable[ids[n]] += dy[n]   (rows that repeat sum their gradients).
 *   table [V][d], ids [N] (0 <= ids[n] < V, checked by the caller), y [N][d], dy [N][d], dtable [V][d]. */
void ss_tr_embed_fwd_d(double *y, const double *table, const int32_t *ids, int N, int d);
void ss_tr_embed_bwd_d(double *dtable, const double *dy, const int32_t *ids, int N, int d);

/* ------------------------------------------------------------------------------------------- LayerNorm
 * Per row n, over d columns:  μ = mean(x),  σ² = mean((x − μ)²),  r = 1/√(σ² + eps),  x̂ = (x − μ)·r,
 *                             y = x̂·g + b.
 * Backward, with ĝ = dy·g (per column):
 *   dg[c] += Σ_n dy[n][c]·x̂[n][c],   db[c] += Σ_n dy[n][c],
 *   dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))       (means over the d columns of the row).
 *   x [N][d], g [d], b [d] or NULL, y [N][d], mean [N] and rstd [N] (saved by the forward: μ and r),
 *   dy [N][d], dx [N][d], dg [d], db [d] or NULL. */
void ss_tr_layernorm_fwd_d(double *y, double *mean, double *rstd, const double *x, const double *g, const double *b,
                           int N, int d, double eps);
void ss_tr_layernorm_bwd_d(double *dx, double *dg, double *db, const double *dy, const double *x, const double *mean,
                           const double *rstd, const double *g, int N, int d);

/* --------------------------------------------------------------------------------------------- RMSNorm
 * Per row:  r = 1/√(mean(x²) + eps),  y = x·r·g        (Llama's RMSNorm; no mean subtracted, no bias).
 * Backward, with ĝ = dy·g:
 *   dg[c] += Σ_n dy[n][c]·x[n][c]·r[n],
 *   dx = r·ĝ − x·r³·mean(ĝ·x)                          (mean over the d columns of the row).
 *   x [N][d], g [d], y [N][d], rstd [N] (r, saved by the forward), dy [N][d], dx [N][d], dg [d]. */
void ss_tr_rmsnorm_fwd_d(double *y, double *rstd, const double *x, const double *g, int N, int d, double eps);
void ss_tr_rmsnorm_bwd_d(double *dx, double *dg, const double *dy, const double *x, const double *rstd,
                         const double *g, int N, int d);

/* ---------------------------------------------------------------------------------------- GELU (tanh)
 * y = ½·x·(1 + tanh u),  u = c·(x + 0.044715·x³),  c = √(2/π)      (GPT-2's gelu_new, elementwise).
 * Backward:  dx = dy·(½·(1 + t) + ½·x·(1 − t²)·c·(1 + 3·0.044715·x²)),  t = tanh u.
 *   x [n], y [n], dy [n], dx [n]; dx may alias dy. */
void ss_tr_gelu_fwd_d(double *y, const double *x, int n);
void ss_tr_gelu_bwd_d(double *dx, const double *dy, const double *x, int n);

/* ----------------------------------------------------------------------------- softmax cross-entropy
 * Over a vocabulary of V logits per row, rows with a target:  p = softmax(z),  ℓ_n = −log p[t_n],
 *   L = (1/M)·Σ_n ℓ_n     (M = number of rows with target >= 0; a negative target ignores the row).
 * The forward returns L (0 when M = 0) and keeps p.
 * Backward, for an upstream dL (1 for the loss itself):
 *   dz[n][v] = dL·(p[n][v] − [v = t_n]) / M   for counted rows,   0 for ignored rows.
 *   z [N][V] logits, targets [N], probs [N][V] (written by the forward), dz [N][V]; dz may alias probs. */
double ss_tr_xent_fwd_d(double *probs, const double *z, const int32_t *targets, int N, int V);
void ss_tr_xent_bwd_d(double *dz, const double *probs, const int32_t *targets, int N, int V, double dL);

/* ------------------------------------------------------------------------------------------------ RoPE
 * Rotary embedding of one head's rows, in double (the training form of rope.h, same pairings):
 * frequency i < r/2 turns pair (a, b) at position t by φ = t·θ^(−2i/r):
 *   a' = a·cos φ − b·sin φ,   b' = b·cos φ + a·sin φ      (columns r..d_h−1 pass through).
 * The rotation R_t is orthogonal, so the backward is the transposed rotation (by −φ):
 *   da = da'·cos φ + db'·sin φ,   db = db'·cos φ − da'·sin φ.
 *   cos_t, sin_t [T][r/2] (ss_tr_rope_tables_d), x [T][d_h] rotated in place; dx [T][d_h] in place. */
void ss_tr_rope_tables_d(double *cos_t, double *sin_t, int T, int rot_dims, double theta);
void ss_tr_rope_fwd_d(double *x, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const double *cos_t,
                      const double *sin_t);
void ss_tr_rope_bwd_d(double *dx, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const double *cos_t,
                      const double *sin_t);

/* ---------------------------------------------------------------------------- attention (one head)
 * Queries and keys optionally rotated first (q̃ = R q, k̃ = R k, per position; identity without RoPE):
 *   S[i][j] = scale·q̃_i·k̃_j − slope·|i − j|         (ALiBi with this head's slope; slope = 0: none)
 *   P[i]    = softmax_j S[i][j]   over keys j <= i when causal (P[i][j] = 0 exactly for j > i), all j otherwise
 *   out_i   = Σ_j P[i][j]·v_j
 * Backward, from dout:
 *   dv_j  = Σ_i P[i][j]·dout_i                            (dV = Pᵀ·dout)
 *   dP[i][j] = dout_i·v_j                                   (dP = dout·Vᵀ)
 *   dS[i][j] = P[i][j]·(dP[i][j] − Σ_l P[i][l]·dP[i][l])    (softmax Jacobian; 0 where masked)
 *   dq̃_i = scale·Σ_j dS[i][j]·k̃_j,   dk̃_j = scale·Σ_i dS[i][j]·q̃_i
 *   dq = Rᵀ dq̃,  dk = Rᵀ dk̃                               (ss_tr_rope_bwd_d; the ALiBi bias has no input)
 * Buffers: q, k, v [T][d_h] (pre-RoPE), out [T][d_h], P [T][T] (saved), qr, kr [T][d_h] (saved: q̃, k̃; equal
 * to q, k without RoPE), dout [T][d_h], dq, dk, dv [T][d_h]. A multi-head layer calls this per head on the
 * head's gathered columns (train_ops.md). */
typedef struct {
    int T, d_h;
    double scale;            /* 1/√d_h */
    int causal;              /* 1: keys after the query are masked (decoders) */
    double alibi_slope;      /* this head's ALiBi slope (ss_alibi_slopes), 0: no bias */
    int rot_dims;            /* 0: no RoPE; else even, <= d_h */
    ss_rope_pairing pairing; /* with rot_dims > 0 */
    const double *rope_cos;  /* [T][rot_dims/2], with rot_dims > 0 */
    const double *rope_sin;  /* [T][rot_dims/2] */
} ss_tr_attn_desc;

void ss_tr_attn_fwd_d(const ss_tr_attn_desc *a, double *out, double *P, double *qr, double *kr, const double *q,
                      const double *k, const double *v);
/* ws [T]: scratch for one row of dP. */
void ss_tr_attn_bwd_d(const ss_tr_attn_desc *a, double *dq, double *dk, double *dv, const double *dout,
                      const double *P, const double *qr, const double *kr, const double *v, double *ws);

/* ------------------------------------------------------------------------------------- float twins
 * The forms training runs: same signatures and formulas as the double forms above, on float buffers.
 * Row statistics (LayerNorm mean and variance, the softmax sums of the cross-entropy) are summed in
 * double and stored in float; the loss is returned in double. Each twin is checked against its double
 * form in tests/train/test_train_grads.c. */
void ss_tr_embed_fwd_f(float *y, const float *table, const int32_t *ids, int N, int d);
void ss_tr_embed_bwd_f(float *dtable, const float *dy, const int32_t *ids, int N, int d);
void ss_tr_layernorm_fwd_f(float *y, float *mean, float *rstd, const float *x, const float *g, const float *b, int N,
                           int d, double eps);
void ss_tr_layernorm_bwd_f(float *dx, float *dg, float *db, const float *dy, const float *x, const float *mean,
                           const float *rstd, const float *g, int N, int d);
void ss_tr_gelu_fwd_f(float *y, const float *x, int n);
void ss_tr_gelu_bwd_f(float *dx, const float *dy, const float *x, int n);
double ss_tr_xent_fwd_f(float *probs, const float *z, const int32_t *targets, int N, int V);
void ss_tr_xent_bwd_f(float *dz, const float *probs, const int32_t *targets, int N, int V, double dL);
/* Attention in float with the same descriptor (RoPE tables in double, rotated in float); the four
 * products Q·K̃ᵀ, P·V and their backward go through cblas_sgemm over the full [T][T] (masked entries of P
 * are exact zeros). ws here is [T][T] (dP and dS), not [T]. */
void ss_tr_attn_fwd_f(const ss_tr_attn_desc *a, float *out, float *P, float *qr, float *kr, const float *q,
                      const float *k, const float *v);
void ss_tr_attn_bwd_f(const ss_tr_attn_desc *a, float *dq, float *dk, float *dv, const float *dout, const float *P,
                      const float *qr, const float *kr, const float *v, float *ws);

#endif
