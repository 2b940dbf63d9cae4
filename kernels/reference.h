/* reference.h: reference tokens (science b2) and their influence on the attention output (b3), plain CPU
 * reference code. Positions are 0-based; the science docs are 1-based (key k there is j = k - 1 here).
 *
 * ---- b2: the reference-token detector, on a score vector s [n] over the keys of one attention matrix.
 * The caller chooses s: the raw column mean r_j = (1/n) sum_i A_ij (ss_column_mean; authors_compat, C1's
 * biased version) or the causal-corrected alpha_j (ss_column_importance), usually of the head mean Abar or of one
 * head (C11). Only keys j < n_candidates can be chosen (ss_key_candidates: for alpha in causal models the late
 * keys, seen by few queries, are noise); pass n_candidates = n for every key. With m = n_candidates:
 *   T = { j < m : s_j > tau }                          strict; tau is rounded to float first, as numpy does when
 *                                                      it compares a float32 array with a Python float
 *   k = |T|                                            when T is not empty;
 *   k = max(1, ceil(frac * n))                         when T is empty (fallback_floor = 0: science.md b2);
 *   k = max(1, floor(frac * n))                        idem with fallback_floor = 1 (the notebook's int(0.1 * n))
 *   k = min(k, max(1, floor(cap_frac * n)), m)         the cap; frac * n and cap_frac * n are double products
 *   R = the k candidates with the largest s_j          (T itself when |T| = k)
 * Ordering for "largest": s_j descending, ties broken by the lowest index j (numpy's argsort leaves ties
 * unspecified), NaN scores rank below every number. The fallback and the cap use the full length n, not m.
 * R is written in ascending index order. The defaults are tau = 0.1, frac = 0.1, cap_frac = 0.3.
 *
 * ---- b3: reference-point influence on one attention matrix A [n][n] (one head, C11, or the head mean Abar as
 * the authors do) with vectors z [n][dz] ("values"): the residual stream h^l (authors_compat) or the true
 * per-head contributions z_j = W_O^h v^h_j (C2; ss_head_output_vectors builds them).
 * Rows of A are renormalised first: a_ij = A_ij / sum_j A_ij (sums in double; non-finite or negative entries
 * count as 0; a row with no mass stays zero). For every query i not in R:
 *   t_i   = sum_j a_ij z_j              (the attention output)
 *   rho_i = sum_{j in R} a_ij z_j       (the part that comes from the reference tokens)
 *   RM_i  = clip(|rho_i| / |t_i|, 0, 1)                relative magnitude (|.| = Euclidean norm)
 *   DI_i  = (cos(rho_i, t_i) + 1) / 2,  in [0, 1]      directional influence; DI_i = 0.5 when rho_i = 0
 *                                                      (cos with a zero vector taken as 0, as the notebook does)
 *   IC_i  = min(|rho_i|, 1e6)                          information change |t_i - u_i| = |rho_i|, capped
 * C9: queries i in R are excluded (the notebook gives them dummies 0.5, 0.5, 0 that enter its means); so are
 * queries with t_i = 0 exactly (|t_i| = 0: RM and DI undefined). Both get NaN in the per-query arrays. The
 * summary means are over the queries that entered, and the counts say how many did and why the others did not.
 * The notebook's rescale of z when max|z| > 1e5 is not applied here (it only changes IC; RM and DI are
 * scale-invariant): an authors_compat caller scales z itself. */
#ifndef SS_KERNEL_REFERENCE_H
#define SS_KERNEL_REFERENCE_H

typedef struct {
    double tau;         /* threshold, strict (0.1) */
    double frac;        /* fallback fraction when no score exceeds tau (0.1) */
    double cap_frac;    /* cap fraction (0.3) */
    int fallback_floor; /* 0: fallback count ceil(frac * n) (science.md); 1: floor(frac * n) (the notebook) */
} ss_reftok_params;

#define SS_REFTOK_TAU 0.1
#define SS_REFTOK_FRAC 0.1
#define SS_REFTOK_CAP_FRAC 0.3
#define SS_REFTOK_DEFAULTS ((ss_reftok_params){SS_REFTOK_TAU, SS_REFTOK_FRAC, SS_REFTOK_CAP_FRAC, 0})

/* The detector above. params NULL: SS_REFTOK_DEFAULTS. n_candidates is clamped to [0, n]; with no candidate
 * (n_candidates <= 0 or n <= 0) R is empty. Writes |R| indices into R (ascending) and returns |R| (>= 0), or -1
 * when out of memory. */
int ss_reference_tokens(const float *s /* [n] key scores */, int n, int n_candidates, const ss_reftok_params *params,
                        int *R /* [n] output: the reference keys, ascending; the first |R| entries are set */);

/* Summary of ss_reference_influence. */
typedef struct {
    int n_entered;    /* queries in the means: i not in R with |t_i| > 0 */
    int n_reference;  /* queries left out because i is in R (C9) */
    int n_degenerate; /* queries left out because |t_i| = 0 (a row with no mass, or a zero output) */
    double rm_mean;   /* means over the n_entered queries; NaN when n_entered = 0 */
    double di_mean;
    double ic_mean;
} ss_ref_influence_stats;

/* b3 as above. R: n_R distinct indices in [0, n) in any order (out-of-range entries are ignored). The per-query
 * outputs may be NULL; entries of queries that did not enter are NaN. Returns 0, or -1 when out of memory. */
int ss_reference_influence(const float *A /* [n][n] row = query, column = key */, int n,
                           const float *z /* [n][ld_z] vectors, the first dz columns of each row are used */, int dz,
                           int ld_z, const int *R /* [n_R] */, int n_R, double *RM /* [n] or NULL */,
                           double *DI /* [n] or NULL */, double *IC /* [n] or NULL */, ss_ref_influence_stats *stats);

/* b3 on outputs already summed: t [n][d] = each query's output and rho [n][d] = the part of it that comes
 * from the reference keys, for a decomposition the caller did itself (sinkscope's corrected variant sums
 * every head's W_O^h·Σ_j A^h_ij v^h_j, so t is the attention block's output without its bias). Same
 * per-query RM, DI, IC, exclusions (in_R may be NULL) and means as ss_reference_influence. Returns 0,
 * or -1 when out of memory. */
int ss_reference_influence_parts(const float *t /* [n][d] */, const float *rho /* [n][d] */, int n, int d,
                                 const unsigned char *in_R /* [n] or NULL */, ss_ref_influence_stats *stats);

/* C2's "true value" vectors of head h, what the head writes to the residual stream:
 *   z[j][r] = sum_{c=0..d_h-1} W_O[r][h*d_h + c] * v[j][c],   j < n, r < d_model
 * with W_O stored [d_model][H*d_h] row-major (PyTorch's o_proj.weight: out_features x in_features; head h owns
 * input columns h*d_h .. (h+1)*d_h - 1). v holds the head's values v^h_j = W_V x_j + b_V (under GQA the values
 * of KV head floor(h * H_kv / H)); the o_proj bias is common to all heads and not included. Accumulates in
 * double. For per-head values inside a fused [n][H*d_h] buffer pass v + h*d_h with ld_v = H*d_h. */
void ss_head_output_vectors(const float *v /* [n][ld_v] the head's d_h values in columns 0..d_h-1 */, int n, int d_h,
                            int ld_v, const float *W_O /* [d_model][H*d_h] */, int d_model, int H, int h,
                            float *z /* [n][d_model] output */);

#endif
