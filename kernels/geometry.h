/* geometry.h: geometry of hidden states and of q/k/v vectors, and its correlation with attention
 * (science b10 and b12, pitfalls C10 and C11). Plain CPU reference code; double accumulation; 0-based indices.
 *
 * Conventions shared by every function here:
 *   - cos(a, b) = a·b / (‖a‖ ‖b‖), and cos(a, b) = 0 when ‖a‖ = 0 or ‖b‖ = 0 (a zero vector has no direction, so
 *     no alignment; the authors' notebook does the same below a 1e-8 floor). Clamped to [-1, 1].
 *   - Pearson r(x, y) = Σ(x-x̄)(y-ȳ) / sqrt(Σ(x-x̄)² Σ(y-ȳ)²), two-pass, in double, clamped to [-1, 1];
 *     NaN when n < 2 or either variance is exactly 0.
 *   - Per head, not per layer (C11): every function taking an attention matrix A [n][n] (row = query i, column =
 *     key j) works on whatever matrix it is given. The engine calls it per head with A^{l,h} and aggregates the
 *     per-head results afterwards; calling it on the head average Ā^l reproduces the authors' notebooks
 *     (authors_compat) and hides head-level sinks. */
#ifndef SS_KERNEL_GEOMETRY_H
#define SS_KERNEL_GEOMETRY_H

/* ---- helpers */

/* Pearson r of x [n] and y [n] (see above). */
double ss_pearson(const double *x, const double *y, int n);
/* The same for float inputs (converted to double before any arithmetic). */
double ss_pearson_f(const float *x, const float *y, int n);
/* cos(a, b) for a [d], b [d] (0 when either is the zero vector). */
double ss_cosine(const float *a, const float *b, int d);

/* ---- hidden-state geometry of h [n][d] (row = token i, column = channel) */

/* norm[i] = ‖h_i‖₂.  norm: [n]. */
void ss_row_norms(const float *h /* [n][d] */, int n, int d, double *norm /* [n] */);

/* cos_out[i] = cos(h_i, h_anchor) for every i (so cos_out[anchor] = 1 unless h_anchor = 0). 0 <= anchor < n. */
void ss_cos_to_anchor(const float *h /* [n][d] */, int n, int d, int anchor, double *cos_out /* [n] */);

/* Norm ratio of position s: ‖x_s‖ / ((1/(n-1)) Σ_{j≠s} ‖x_j‖). Used for hidden states (‖h_s‖), keys and values
 * (b12, Gu et al.: the first token has a large hidden-state norm but small key and value norms).
 * NaN when n < 2 or the mean of the others is 0. */
double ss_norm_ratio(const float *x /* [n][d] */, int n, int d, int s);

/* Anisotropy: the mean pairwise cosine (2/(n(n-1))) Σ_{i<j} cos(h_i, h_j). Computed as
 * (‖Σ_i u_i‖² - Σ_i ‖u_i‖²) / (n(n-1)) with u_i = h_i/‖h_i‖ (u_i = 0 for a zero row), which equals the pair
 * mean exactly; O(n·d). *aniso = NaN when n < 2. Orthonormal rows give 0, identical rows 1.
 * Returns 0, or -1 when out of memory. */
int ss_anisotropy(const float *h /* [n][d] */, int n, int d, double *aniso);

/* Effective rank (Roy & Vetterli 2007): with σ_1..σ_r the singular values of X (r = min(n, d)) and
 * p_k = σ_k / Σ_m σ_m, erank = exp(-Σ_k p_k ln p_k) (0·ln 0 = 0); 1 <= erank <= rank(X).
 * X = h when center = 0 (the default), X = h - 1·μᵀ with μ the mean row when center = 1.
 * Not centred by default: Roy & Vetterli define erank on the matrix itself, and the direction shared by all
 * tokens (the mean, where sinks and massive activations live) is part of the geometry being measured: an
 * anisotropic cloud then reads as low rank. Centred, erank measures the spread around the mean instead
 * (the n×n identity has erank n, centred n-1). Singular values by LAPACKE_dgesdd on a double copy.
 * *erank = NaN when X = 0. Returns 0, or -1 on out-of-memory or LAPACK failure. */
int ss_effective_rank(const float *h /* [n][d] */, int n, int d, int center, double *erank);

/* ---- b12: q/k norm-versus-angle decomposition for one head.
 * s_{t,j} = q_t·k_j/√d_h = ‖q_t‖ ‖k_j‖ cos θ_{t,j} / √d_h: is the sink key s attended because of its angle or
 * its norm? q and k as they enter the dot product (after RoPE, after QK-norm), v the values of the same
 * (KV) head. Query set Q(s): the queries that see the sink key, itself excluded (its score on s is a self score):
 *   causal: t > s;  bidirectional: t ≠ s.
 * Keys seen by query t other than s: K(t) = {j ≠ s : j <= t} (causal; j = t included, as in the science's
 * mean_{1<j<=t}) or {j ≠ s} (bidirectional); never empty for t in Q(s). */
typedef struct {
    double k_norm_ratio; /* ‖k_s‖ / mean_{j≠s} ‖k_j‖ (all j ≠ s, whatever the mask) */
    double v_norm_ratio; /* ‖v_s‖ / mean_{j≠s} ‖v_j‖ */
    double cos_sink;     /* mean_{t∈Q(s)} cos(q_t, k_s) */
    double cos_other;    /* mean_{t∈Q(s)} mean_{j∈K(t)} cos(q_t, k_j) */
    double q_norm_mean;  /* mean_{t∈Q(s)} ‖q_t‖ */
    int n_queries;       /* |Q(s)|; the three means are NaN when it is 0 */
} ss_qk_decomp;

/* Fills *out for one head. n >= 1, 0 <= s < n (s = 0: the first token, the usual sink). */
void ss_qk_decompose(const float *q /* [n][d_h] */, const float *k /* [n][d_h] */, const float *v /* [n][d_h] */,
                     int n, int d_h, int s, int causal, ss_qk_decomp *out);

/* ---- b10: attention–geometry correlations, per layer l, with h_pre = h^l and h_post = h^{l+1}. */

/* Transformation magnitude M_i = ‖h_post,i - h_pre,i‖₂.
 * authors_compat = 1 reproduces attention_value.ipynb: with m = max(max|h_pre|, max|h_post|), both are first
 * multiplied by c = 1e3/m when m > 1e3 (c = 1 otherwise), and each component of the difference is clipped to
 * [-1e3, 1e3]: M_i = ‖clip(c·h_post,i - c·h_pre,i)‖. The rescale is a per-sample constant (it changes magnitudes
 * across samples, not their within-sample correlations); the clip only bites on a component change > 1e3 after it. */
void ss_transformation_magnitude(const float *h_pre /* [n][d] */, const float *h_post /* [n][d] */, int n, int d,
                                 int authors_compat, double *M /* [n] */);

/* Entropy–magnitude correlation: Pearson r over tokens between the row entropy H_i (nats, computed elsewhere)
 * and M_i. NaN as ss_pearson. */
double ss_entropy_magnitude_r(const float *entropy /* [n] */, const double *M /* [n] */, int n);

/* Geometric–semantic alignment: Pearson r between A_ij and cos(h_pre,i, h_pre,j) over the pairs
 *   causal = 1: j < i only (C10: the masked zeros j > i and the diagonal are left out);
 *   causal = 0: every off-diagonal pair i ≠ j.
 * Passing causal = 0 with a decoder's A reproduces the authors' notebook (authors_compat: masked zeros included).
 * *r = NaN when there are fewer than 2 pairs or a variance is 0. Returns 0, or -1 when out of memory. */
int ss_geometric_alignment(const float *A /* [n][n] row = query, column = key */, const float *h_pre /* [n][d] */,
                           int n, int d, int causal, double *r);

/* PCA correlation. Principal components with rows as observations: X_c = X - 1·μᵀ (columns centred),
 * X_c = U Σ Vᵀ (LAPACKE_dgesdd), PC-k scores = σ_k u_k (an n-vector). For X = A [n][n] and X = h_pre [n][d],
 * r_k = |Pearson(scores_A,k, scores_h,k)| for k = 0, 1, 2 (signs of singular vectors are arbitrary, hence |r|;
 * the authors average the signed r), and *mean_r = (r_0 + r_1 + r_2)/3.
 * Degenerate (r_k = NaN): component k of either matrix is not determined, i.e. it does not exist
 * (min(n, columns) <= k), or σ_k <= 1e-8·σ_0 (no variance; this includes σ_0 = 0), or σ_k is within
 * 1e-8·σ_0 of σ_{k-1} or σ_{k+1} (a repeated singular value: the component is any vector of a subspace).
 * *mean_r = NaN when n < 4 (centring leaves rank <= n-1 < 3) or any r_k is NaN.
 * r_abs [3] may be NULL. Returns 0, or -1 on out-of-memory or LAPACK failure. */
#define SS_PCA_COMPONENTS 3
int ss_pca_correlation(const float *A /* [n][n] row = query, column = key */, const float *h_pre /* [n][d] */, int n,
                       int d, double *r_abs /* [3] or NULL */, double *mean_r);

/* ---- fast paths, each tested against the plain version above (test_geometry). */

/* C [n][n] = cos(h_i, h_j) for every pair (0 when a norm is 0; 1 on the diagonal of a non-zero row), from
 * the double Gram matrix h·hᵀ (cblas_dsyrk). Returns 0, or -1 when out of memory. */
int ss_cosine_matrix(const float *h /* [n][d] */, int n, int d, double *C /* [n][n] */);
/* ss_geometric_alignment with the cosines given (C from ss_cosine_matrix): the cosines depend only on h_pre, so
 * a layer computes them once and every head only correlates. Same pairs, same NaN rules; with a sliding window
 * W > 0 (causal), only the pairs the mask keeps, i − W < j < i (window 0: ss_geometric_alignment's pairs). */
double ss_alignment_from_cos(const float *A /* [n][n] */, const double *C /* [n][n] */, int n, int causal,
                             int window);
/* ss_qk_decompose with all q_t·k_j from one cblas_dgemm and the norms computed once (the plain version
 * recomputes them inside its O(n²) loop). With a sliding window W > 0 (causal; Gemma-3's local layers) the
 * queries are those that still see s (s < t < s + W) and each one's other keys are its window t − W < j <= t;
 * window 0 gives ss_qk_decompose's sets. Returns 0, or -1 when out of memory. */
int ss_qk_decompose_blas(const float *q /* [n][d_h] */, const float *k /* [n][d_h] */, const float *v /* [n][d_h] */,
                         int n, int d_h, int s, int causal, int window, ss_qk_decomp *out);

#endif
