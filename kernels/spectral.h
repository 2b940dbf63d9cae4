/* spectral.h: random-matrix spectral metrics of attention matrices (science.md b8, pitfalls C3, C5, C11; plain CPU
 * reference, one LAPACK call per matrix on a double copy). Indices are 0-based; A is row = query, column = key.
 * Per C11 these work on one matrix: call them per head and aggregate afterwards (Abar is just another matrix).
 *
 * Singular values (the correct version, C3): s_1 >= s_2 >= ... >= s_k >= 0, k = min(rows, cols), via LAPACKE_dgesdd.
 *   spectral norm   s_1
 *   stable rank     sum_i s_i^2 / s_1^2                     (in [1, k]; k for the identity, 1 for rank one)
 *   participation   (sum_i s_i^2)^2 / sum_i s_i^4            participation ratio of the squared singular values
 *                                                           (effective number of directions; in [1, k])
 *   sigma gap       s_1 / s_2                               (+inf when s_2 = 0 < s_1)
 * All are NaN for the zero matrix; sigma gap is NaN when k < 2.
 *
 * Marchenko-Pastur KL (C5 correct version): x = all squared singular values of each matrix, each matrix's values
 * divided by their mean (ss_sv_normalise_sq), pooled over samples and heads. With ratio gamma in (0, 1] and
 * l_pm = (1 +- sqrt(gamma))^2, the MP density is rho(x) = sqrt((l_+ - x)(x - l_-)) / (2 pi gamma x) on [l_-, l_+]
 * (gamma = 1: sqrt(x(4-x))/(2 pi x) on (0, 4], an integrable 1/sqrt(x) singularity at 0). The histogram has n_bins
 * equal bins over [min x, max x] (numpy's np.histogram: the last bin is closed; [x - 0.5, x + 0.5] when all x are
 * equal). With P_b = count_b / m and Q_b = max(integral of rho over bin b, 1e-10) -- the MP mass of the bin from
 * the EXACT closed-form CDF (ss_mp_cdf), not the density at the bin centre --
 *   KL = sum_{b : P_b > 0} P_b ln(P_b / Q_b)   (nats).
 * This equals sum_b w p_b ln(p_b / q_b) for the density histogram p_b = P_b / w and the bin-mean MP density
 * q_b = Q_b / w. Defaults: 20 bins, gamma = 1 (SS_MP_GAMMA); the authors' code uses gamma = 0.99
 * (SS_MP_GAMMA_AUTHORS) and only the top 10 eigenvalues of A (authors_compat, not reproduced here).
 *
 * Eigenvalues (bidirectional models ONLY): for a causal A (lower triangular) the eigenvalues are exactly the
 * diagonal A_ii (A_00 = 1), so these metrics see only self-attention, never the sink column (C3). Via
 * LAPACKE_dgeev, sorted by modulus descending |l_1| >= |l_2| >= ...:
 *   eigen gap           |l_1| / |l_2|                        (+inf when |l_2| = 0 < |l_1|; NaN when n < 2)
 *   eigen participation (sum |l|)^2 / sum |l|^2              (NaN when all l = 0)
 *
 * Sink concentration (b8): c_j = sum_i A_ij (column sums), p = the q-quantile of c with numpy's default linear
 * interpolation (sorted c_(0) <= ... <= c_(n-1), position h = q (n-1), p = c_(floor h) + (h - floor h)(c_(floor h + 1)
 * - c_(floor h))), S = {j : c_j >= p}, concentration = sum_{j in S} c_j / sum_j c_j (NaN when sum c = 0).
 * b8 uses q = 0.9 (np.percentile(c, 90)).
 *
 * Mean row entropy (b8): H = 1/n sum_i ( -sum_j A_ij log2(A_ij + 1e-10) ), in bits. */
#ifndef SS_KERNEL_SPECTRAL_H
#define SS_KERNEL_SPECTRAL_H

#define SS_MP_GAMMA 1.0
#define SS_MP_GAMMA_AUTHORS 0.99
#define SS_MP_BINS 20
#define SS_MP_FLOOR 1e-10
#define SS_SINK_QUANTILE 0.9
#define SS_ENTROPY_EPS 1e-10

typedef struct ss_sv_metrics {
    int k;                /* number of singular values, min(rows, cols) */
    double sigma1;        /* s_1, the spectral norm */
    double sigma2;        /* s_2 (0 when k < 2) */
    double frob2;         /* sum s_i^2 = ||A||_F^2 */
    double stable_rank;   /* sum s^2 / s_1^2 */
    double participation; /* (sum s^2)^2 / sum s^4 */
    double sigma_gap;     /* s_1 / s_2 */
} ss_sv_metrics;

typedef struct ss_eig_metrics {
    int triangular;       /* 1 when A is lower triangular (a causal matrix): the metrics below are meaningless */
    double abs_l1;        /* |l_1| */
    double abs_l2;        /* |l_2| (0 when n < 2) */
    double gap;           /* |l_1| / |l_2| */
    double participation; /* (sum |l|)^2 / sum |l|^2 */
} ss_eig_metrics;

/* Singular values of A, descending. A [rows][cols]; s [min(rows, cols)]. Returns 0, or -1 on bad sizes,
 * out-of-memory or a LAPACK failure. */
int ss_singular_values(const float *A, int rows, int cols, double *s);

/* The singular-value metrics of k values s [k] (descending, as from ss_singular_values). */
void ss_sv_metrics_from_values(const double *s, int k, ss_sv_metrics *out);

/* ss_singular_values + ss_sv_metrics_from_values. A [rows][cols]; s [min(rows, cols)] optional (NULL): the
 * singular values. Returns 0 or -1 as ss_singular_values. */
int ss_sv_metrics_compute(const float *A, int rows, int cols, double *s, ss_sv_metrics *out);

/* x_i = s_i^2 / mean_j s_j^2 (mean 1), for pooling into ss_mp_kl. s [k], x [k] (may alias s). All-zero s: x = 0. */
void ss_sv_normalise_sq(const double *s, int k, double *x);

/* Marchenko-Pastur cumulative distribution F(x) = integral of rho over [l_-, x] for gamma in (0, 1], exact:
 * with c = (l_+ + l_-)/2 = 1 + gamma, r = (l_+ - l_-)/2 = 2 sqrt(gamma) and x = c - r cos(phi), phi in [0, pi],
 *   F = ( r sin(phi) + c phi - 2 (1 - gamma) atan2(sqrt(l_+) sin(phi/2), sqrt(l_-) cos(phi/2)) ) / (2 pi gamma).
 * 0 below l_-, 1 above l_+; NaN when gamma is outside (0, 1]. */
double ss_mp_cdf(double x, double gamma);

/* KL(histogram || MP) of m pooled values x [m] (already normalised, see the header), n_bins bins (SS_MP_BINS),
 * ratio gamma in (0, 1]. Returns 0 with *kl set, or -1 on m < 1, n_bins < 1, gamma outside (0, 1], a non-finite
 * x, or out-of-memory. */
int ss_mp_kl(const double *x, long m, double gamma, int n_bins, double *kl);

/* Eigenvalue metrics of A [n][n] via LAPACKE_dgeev (bidirectional models only, see the header). abs_eig [n]
 * optional (NULL): |l| descending. Returns 0, or -1 on n < 1, out-of-memory or a LAPACK failure. */
int ss_eig_metrics_compute(const float *A, int n, double *abs_eig, ss_eig_metrics *out);

/* q-quantile (q in [0, 1]) of sorted [n] (ascending), numpy's default 'linear' method (including numpy's
 * lerp, which interpolates from the upper neighbour when the fraction is >= 0.5). NaN when n < 1. */
double ss_quantile_linear_sorted(const double *sorted, int n, double q);

/* Sink concentration of A [n][n] at quantile q (SS_SINK_QUANTILE = 0.9). *conc: the concentration; n_sink
 * optional (NULL): |S|. Returns 0, or -1 on n < 1 or out-of-memory. */
int ss_sink_concentration(const float *A, int n, double q, double *conc, int *n_sink);

/* Mean row entropy of A [n][n] in bits, 1e-10 inside the log (SS_ENTROPY_EPS). */
double ss_mean_row_entropy_bits(const float *A, int n);

#endif
