/* sink.h: attention-sink statistics of one head's attention matrix (plain CPU reference; these are
 * O(T^2) column sums, far cheaper than the forward pass that produced A, so no fast path is needed).
 * Positions are 0-based here; the science docs use 1-based k (k = j + 1). */
#ifndef SS_KERNEL_SINK_H
#define SS_KERNEL_SINK_H

/* Column importance of every key j of A [T][T] (row = query):
 *   causal:        alpha[j] = 1/(T - j) * sum_{i=j..T-1} A[i][j]   (Gu et al.'s (T-k+1) normalisation)
 *   bidirectional: alpha[j] = 1/T       * sum_{i=0..T-1} A[i][j]   (the raw column mean r_j)
 * Accumulates in double. alpha: [T]. */
void ss_column_importance(const float *A, int T, int causal, float *alpha);
/* The same on a sliding-window layer (window W > 0, causal): key j is seen by queries j .. min(T, j+W)−1,
 * so alpha[j] = their mean; W <= 0 (or >= T) is ss_column_importance. */
void ss_column_importance_window(const float *A, int T, int causal, int window, float *alpha);

/* Raw column mean r[j] = 1/T * sum_i A[i][j], masked zeros included (the authors' convention). r: [T]. */
void ss_column_mean(const float *A, int T, float *r);

/* Index of the largest v[j] over candidates j in [0, n_candidates); ties go to the lowest index. */
int ss_argmax(const float *v, int n_candidates);

/* Number of keys (a prefix 0..n-1) that count as top-key candidates: T for bidirectional models,
 * otherwise the keys j seen by T - j >= max(min_queries, ceil(T/4)) queries. 0 when even key 0 is
 * seen by fewer than min_queries queries (a prompt shorter than min_queries). */
int ss_key_candidates(int T, int causal, int min_queries);
/* With a sliding window W (> 0, < T): a key has at most W visible queries, so the quarter is of W:
 * keys seen by min(T − j, W) >= max(min_queries, ceil(W/4)) queries. 0 when min_queries > W. */
int ss_key_candidates_window(int T, int causal, int window, int min_queries);

#endif
