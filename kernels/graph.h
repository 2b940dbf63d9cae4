/* graph.h: attention-graph Laplacian metrics of one attention matrix at one threshold (science.md b4, b5;
 * plain CPU reference, O(n^2) plus one dense symmetric eigenproblem via LAPACKE_dsyevd).
 *
 * Indices are 0-based: A [n][n], row i = query, column j = key. For a threshold tau:
 *   B_ij = 1[A_ij > tau]                     edge query i -> key j. The comparison is done in float, i.e. tau is
 *                                            rounded to fp32 first, as torch/numpy do for an fp32 array vs a scalar.
 *   diagonal rule                            include_diag = 0 (sinkscope default): B_ii := 0 for every i, so a token's
 *                                            attention to itself is not an edge. include_diag = 1 keeps B_ii (the
 *                                            authors' code may count it; science.md b4 "to verify"). The rule applies
 *                                            to the degrees, the edge count and the density alike.
 *   d_j   = sum_i B_ij                       in-degree of key j
 *   E     = sum_ij B_ij                      edge count;  rho_B = E / n^2 (denominator n^2 under both rules, as the
 *                                            authors' formula: with the diagonal excluded rho_B <= (n-1)/n)
 *   effective                                1 when SS_GRAPH_EFFECTIVE_LO <= rho_B <= SS_GRAPH_EFFECTIVE_HI
 *   S_b   = max_j d_j / (n-1)                basic star-likeness (1 for an ideal star; n/(n-1) for a star whose
 *                                            hub also attends to itself when include_diag = 1)
 *   G     = 2 sum_{k=1..n} k d_(k) / (n sum_j d_j) - (n+1)/n      Gini, d_(1) <= ... <= d_(n); G = 0 when E = 0
 *   S     = 0.3 S_b + 0.7 G                  star-likeness (b5 uses S_b alone: read star_basic)
 *   C_d   = sum_j (d_max - d_j) / (n-1)^2    degree centralisation
 *   Var(d)= 1/n sum_j (d_j - mean d)^2       population variance (numpy's np.var default)
 *   W     = (B + B^T)/2,  Lap = diag(W 1) - W (self-loops cancel in Lap, so Lap does not depend on the
 *                                            diagonal rule); eigenvalues l_1 <= ... <= l_n ascending (l_1 = 0)
 *   fiedler = l_2 (0 for a disconnected graph), spectral_gap = l_3 - l_2, lambda_max = l_n.
 * Quantities that need more nodes are NaN: S_b, S, C_d and l_2 when n < 2, l_3 - l_2 when n < 3.
 * Eigenvalues are returned as LAPACK computes them: a "zero" may be +-1e-16.
 *
 * Check values (science.md b4): a causal star (edges leaf -> hub only) has W weights 1/2, so its Laplacian
 * spectrum is {0, 1/2 (n-2 times), n/2}; a two-way star has {0, 1 (n-2 times), n}. An ideal star without
 * self-loops has S_b = 1, G = (n-1)/n, C_d = 1. */
#ifndef SS_KERNEL_GRAPH_H
#define SS_KERNEL_GRAPH_H

#include <stddef.h>

#define SS_GRAPH_EFFECTIVE_LO 0.05
#define SS_GRAPH_EFFECTIVE_HI 0.95

typedef struct ss_graph_metrics {
    int n;                 /* tokens (nodes) */
    int include_diag;      /* the diagonal rule used */
    long n_edges;          /* E = sum_ij B_ij */
    double density;        /* rho_B = E / n^2 */
    int effective;         /* 1 when rho_B in [0.05, 0.95] */
    int degree_max;        /* max_j d_j */
    double degree_mean;    /* E / n */
    double degree_var;     /* Var(d), population */
    double star_basic;     /* S_b */
    double gini;           /* G */
    double star;           /* S = 0.3 S_b + 0.7 G */
    double centralisation; /* C_d */
    double fiedler;        /* l_2 */
    double spectral_gap;   /* l_3 - l_2 */
    double lambda_max;     /* l_n */
} ss_graph_metrics;

/* Bytes of workspace ss_graph_metrics_compute needs for n nodes (Laplacian, eigenvalues, LAPACK work, degrees).
 * The workspace may be reused across calls with the same or a smaller n. */
size_t ss_graph_workspace_bytes(int n);

/* All b4 metrics of A at threshold tau into *out.
 *   A     [n][n]  row = query, column = key
 *   work  ss_graph_workspace_bytes(n) bytes, suitably aligned for double (e.g. from malloc); NULL: allocated here
 *   deg   [n]     optional (NULL): the in-degrees d_j
 *   eig   [n]     optional (NULL): the Laplacian eigenvalues, ascending
 * Returns 0, or -1 on n < 1, out-of-memory or a LAPACK failure (then *out is unspecified). */
int ss_graph_metrics_compute(const float *A, int n, float tau, int include_diag, void *work, int *deg, double *eig,
                             ss_graph_metrics *out);
/* The same without the Laplacian spectrum (fiedler, spectral_gap, lambda_max are NaN): the degree metrics
 * only, O(n^2) and no LAPACK call, for per-head use where an eigen-decomposition per head would cost more
 * than the forward pass. */
int ss_graph_degree_metrics_compute(const float *A, int n, float tau, int include_diag, void *work, int *deg,
                                    ss_graph_metrics *out);

/* Gini of n non-negative values already sorted ascending, d_(1) <= ... <= d_(n) (header formula, 1-based ranks);
 * 0 when all are 0 or n < 1. sorted [n]. */
double ss_gini_sorted_int(const int *sorted, int n);

#endif
