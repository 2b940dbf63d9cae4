/* divergence.h: how far each head is from the mean head, with and without the sink columns (science b7), and
 * the per-row attention entropy in nats (b10). Plain CPU reference code; everything accumulates in double.
 * Positions are 0-based. One layer at a time: A [H][n][n] holds H heads, A^h_ij = A[h][i][j], row i = query,
 * column j = key; in a causal model A^h_ij = 0 for j > i. Logs are natural (nats).
 *
 * ---- Sink set (b7). Column sums over the heads and rows of the layer, and the sink set at level q:
 *   c_j = sum_h sum_i A^h_ij
 *   S_q = { j : c_j >= P_q(c) }                     (q in (0, 1); the notebook uses q = 0.9, science.md 0.8-0.95)
 *   sink attention % = 100 * sum_{j in S} c_j / sum_j c_j   (0 when sum_j c_j = 0)
 * P_q is numpy's default percentile, np.percentile(c, 100 q) with method 'linear': with x the ascending sort,
 * v = q (n - 1), lo = floor(v), g = v - lo, P_q = x[lo] + (x[lo+1] - x[lo]) g, computed as numpy's lerp does
 * (x[lo+1] - (x[lo+1] - x[lo]) (1 - g) when g >= 0.5), and P_q = x[n-1] when v >= n - 1. S is never empty.
 * Per-head concentration (C11; the notebook averages the first <= 4 heads):
 *   conc_h = sum_i sum_{j in S} A^h_ij / sum_i sum_j A^h_ij         (0 when head h has no mass)
 *
 * ---- KL to the mean head (b7). Each head's rows are first made distributions:
 *   p^h_i = A^h_i / sum_j A^h_ij  (negative or NaN entries count as 0), and a row with no mass becomes uniform
 *   over the keys the query can see: j <= i when causal, all n keys otherwise (the notebook: all n keys).
 *   Abar_i = (1/H) sum_h p^h_i
 *   KL_h = (1/|I|) sum_{i in I} sum_{j : p^h_ij > 0} p^h_ij ln( p^h_ij / max(Abar_ij, 1e-10) )
 * over a row list I chosen by the caller (ss_kl_rows). The notebook uses scipy.stats.entropy (which renormalises
 * p and q, a no-op here) without the floor; terms with p = 0 are 0 in both.
 * "Without sinks": before the renormalisation the columns j in S are set to 0 in every head, and a row left with
 * no mass becomes uniform over the non-sink keys the query can see (causal: j <= i, j not in S; otherwise every
 * j not in S, which is what the notebook does in every model: pass causal = 0 for authors_compat). A row with no
 * such key stays all zero; it is then the same in every head and adds 0 to every KL_h.
 *   reduction_h = KL_h(with) - KL_h(without)
 *
 * ---- Row entropy in nats (b10, attention_value.ipynb): for each row a of A,
 *   keep the entries a_j > e, e = 100 * FLT_EPSILON (= 100 * 2^-23; entries <= e are dropped, so are NaNs);
 *   s = sum of the kept entries; p_j = a_j / s; H = - sum_{p_j > e} p_j ln p_j
 * and H = 0 when nothing is kept or s < e (the notebook's choices). The b8 variant in bits with 1e-10 inside the
 * log is spectral.h's ss_mean_row_entropy_bits. */
#ifndef SS_KERNEL_DIVERGENCE_H
#define SS_KERNEL_DIVERGENCE_H

#define SS_KL_Q_FLOOR 1e-10       /* floor of the mean-head probability inside the log */
#define SS_KL_FAST_ROWS 20        /* the notebook's fast mode: at most this many rows */
#define SS_SINK_PERCENTILE_Q 0.9  /* the notebook's default sink level */

/* Head mean Abar[i][j] = (1/H) sum_h A[h][i][j] of the raw matrices (no renormalisation). */
void ss_head_mean(const float *A /* [H][n][n] */, int H, int n, float *Abar /* [n][n] output */);

/* c[j] = sum_h sum_i A[h][i][j]. */
void ss_layer_column_sums(const float *A /* [H][n][n] */, int H, int n, double *c /* [n] output */);

/* numpy's linear percentile P_q of x [n] (x is not modified; q is clamped to [0, 1]). *out = NaN when n < 1.
 * Returns 0, or -1 when out of memory (it sorts a copy). */
int ss_percentile_linear(const double *x /* [n] */, int n, double q, double *out);

/* Sink set S_q of the column sums c [n]: in_S[j] = 1 for j in S, else 0. Optional outputs (NULL to skip):
 * n_S = |S|, threshold = P_q(c), sink_pct = the sink attention %. Returns 0, or -1 when out of memory or n < 1. */
int ss_sink_set(const double *c /* [n] */, int n, double q, unsigned char *in_S /* [n] output */, int *n_S,
                double *threshold, double *sink_pct);

/* Per-head concentration conc[h] on the sink set (formula above). */
void ss_sink_head_concentration(const float *A /* [H][n][n] */, int H, int n, const unsigned char *in_S /* [n] */,
                                double *conc /* [H] output */);

/* The default rows I that enter the KL means, written ascending into rows; returns |I|.
 *   fast = 0: causal = 0 -> 0..n-1; causal = 1 -> 1..n-1 (row 0 of a causal model is [1, 0, ...] in every
 *             head and says nothing about the heads).
 *   fast = 1: with f = causal ? 1 : 0 and m = n - f rows eligible: all of them when m <= 20, otherwise the
 *             notebook's np.linspace(f, n-1, 20, dtype=int): floor(f + k (n-1-f)/19) for k < 19, and n - 1.
 * causal = 0, fast = 1 reproduces the notebook exactly (it keeps row 0 of decoders too). */
int ss_kl_rows(int n, int causal, int fast, int *rows /* [n] output */);

/* KL_h to the mean head over the rows I (rows [n_rows], indices in [0, n)). in_S [n] NULL: with sinks; otherwise
 * the sink columns are removed first (above). kl[h] = NaN when n_rows = 0. Returns 0, or -1 when out of memory. */
int ss_kl_to_mean_head(const float *A /* [H][n][n] */, int H, int n, int causal, const unsigned char *in_S /* [n] */,
                       const int *rows /* [n_rows] */, int n_rows, double *kl /* [H] output */);

/* Both KLs and the reduction per head (any output may be NULL). Returns 0, or -1 when out of memory. */
int ss_kl_sink_reduction(const float *A /* [H][n][n] */, int H, int n, int causal, const unsigned char *in_S /* [n] */,
                         const int *rows /* [n_rows] */, int n_rows, double *kl_with /* [H] */,
                         double *kl_without /* [H] */, double *reduction /* [H] */);

/* Row entropy in nats (b10, above) of each of the n_rows rows of A. */
void ss_row_entropy_nats(const float *A /* [n_rows][n_cols] row = query, column = key */, int n_rows, int n_cols,
                         float *H /* [n_rows] output */);

#endif
