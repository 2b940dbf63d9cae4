/* graph.c: thresholded attention graph, degree statistics and symmetrised Laplacian spectrum (see graph.h). */
#include "graph.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

/* LAPACK work for dsyevd, JOBZ = 'N': LWORK >= 2n+1 (1 when n <= 1), LIWORK >= 1. The extra 32n lets dsytrd
 * use its blocked path. */
static size_t graph_lwork(int n)
{
    return n <= 1 ? 1 : (size_t)34 * (size_t)n + 1;
}

/* Workspace layout, each part rounded up to 8 bytes:
 *   Lap [n][n] double | eig [n] double | work [lwork] double | iwork [1] lapack_int | sorted [n] int | deg [n] int */
static size_t round8(size_t b)
{
    return (b + 7) & ~(size_t)7;
}

size_t ss_graph_workspace_bytes(int n)
{
    if (n < 1) n = 1;
    size_t nn = (size_t)n;
    return round8(nn * nn * sizeof(double)) + round8(nn * sizeof(double)) + round8(graph_lwork(n) * sizeof(double)) +
           round8(sizeof(lapack_int)) + 2 * round8(nn * sizeof(int));
}

double ss_gini_sorted_int(const int *sorted, int n)
{
    double sum = 0.0, ranked = 0.0;
    for (int k = 0; k < n; k++) {
        sum += sorted[k];
        ranked += (double)(k + 1) * sorted[k];
    }
    if (n < 1 || sum <= 0.0) return 0.0;
    return 2.0 * ranked / ((double)n * sum) - (double)(n + 1) / (double)n;
}

/* Sorts v [n], values in [0, n], ascending. */
static void counting_sort(int *v, int n)
{
    int small[257];
    int *count = n < 256 ? small : calloc((size_t)n + 1, sizeof *count);
    if (!count) { /* out of memory: an insertion sort is slow but right */
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
                const int t = v[j];
                v[j] = v[j - 1];
                v[j - 1] = t;
            }
        return;
    }
    if (count == small)
        for (int k = 0; k <= n; k++) count[k] = 0;
    for (int i = 0; i < n; i++) count[v[i]]++;
    int o = 0;
    for (int k = 0; k <= n; k++)
        for (int c = 0; c < count[k]; c++) v[o++] = k;
    if (count != small) free(count);
}

static int graph_compute(const float *A, int n, float tau, int include_diag, void *work, int *deg, double *eig,
                         ss_graph_metrics *out, int want_eig)
{
    if (n < 1 || !A || !out) return -1;
    int rc = -1;
    void *owned = NULL;
    if (!work) {
        owned = malloc(ss_graph_workspace_bytes(n));
        if (!owned) return -1;
        work = owned;
    }
    size_t nn = (size_t)n;
    unsigned char *p = work;
    double *Lap = (double *)p;
    p += round8(nn * nn * sizeof(double));
    double *lam = (double *)p;
    p += round8(nn * sizeof(double));
    double *lwork = (double *)p;
    p += round8(graph_lwork(n) * sizeof(double));
    lapack_int *iwork = (lapack_int *)p;
    p += round8(sizeof(lapack_int));
    int *sorted = (int *)p;
    p += round8(nn * sizeof(int));
    int *d = deg ? deg : (int *)p;

    /* Degrees, edge count, and Lap = diag(W 1) - W with W = (B + B^T)/2, column-major = row-major (symmetric).
     * Off-diagonal W_ij = (B_ij + B_ji)/2; the self-loop W_ii adds to the degree and is subtracted again. */
    if (want_eig)
        for (size_t k = 0; k < nn * nn; k++) Lap[k] = 0.0;
    for (int j = 0; j < n; j++) d[j] = 0;
    long edges = 0;
    if (!want_eig) { /* degrees only: a branch-free count that vectorises, then the diagonal taken out */
        for (int i = 0; i < n; i++) {
            const float *row = A + (size_t)i * nn;
            for (int j = 0; j < n; j++) d[j] += row[j] > tau;
        }
        if (!include_diag)
            for (int i = 0; i < n; i++) d[i] -= A[(size_t)i * nn + i] > tau;
        for (int j = 0; j < n; j++) edges += d[j];
    }
    for (int i = 0; want_eig && i < n; i++) {
        const float *row = A + (size_t)i * nn;
        for (int j = 0; j < n; j++) {
            if (!(row[j] > tau)) continue;
            if (i == j) {
                if (include_diag) {
                    d[j]++;
                    edges++;
                }
                continue;
            }
            d[j]++;
            edges++;
            if (!want_eig) continue;
            Lap[(size_t)i * nn + j] -= 0.5;
            Lap[(size_t)j * nn + i] -= 0.5;
            Lap[(size_t)i * nn + i] += 0.5;
            Lap[(size_t)j * nn + j] += 0.5;
        }
    }

    /* Degree statistics. */
    int dmax = 0;
    double dsum = 0.0;
    for (int j = 0; j < n; j++) {
        if (d[j] > dmax) dmax = d[j];
        dsum += d[j];
        sorted[j] = d[j];
    }
    double dmean = dsum / (double)n, var = 0.0, cen = 0.0;
    for (int j = 0; j < n; j++) {
        var += ((double)d[j] - dmean) * ((double)d[j] - dmean);
        cen += (double)(dmax - d[j]);
    }
    counting_sort(sorted, n); /* degrees are integers in [0, n]: O(n), where qsort per head and threshold was not */

    out->n = n;
    out->include_diag = include_diag ? 1 : 0;
    out->n_edges = edges;
    out->density = (double)edges / ((double)n * (double)n);
    out->effective = out->density >= SS_GRAPH_EFFECTIVE_LO && out->density <= SS_GRAPH_EFFECTIVE_HI;
    out->degree_max = dmax;
    out->degree_mean = dmean;
    out->degree_var = var / (double)n;
    out->gini = ss_gini_sorted_int(sorted, n);
    if (n >= 2) {
        out->star_basic = (double)dmax / (double)(n - 1);
        out->centralisation = cen / ((double)(n - 1) * (double)(n - 1));
        out->star = 0.3 * out->star_basic + 0.7 * out->gini;
    } else {
        out->star_basic = out->centralisation = out->star = NAN;
    }

    if (!want_eig) {
        out->fiedler = out->spectral_gap = out->lambda_max = NAN;
        rc = 0;
        goto cleanup;
    }
    /* Laplacian spectrum, ascending. */
    lapack_int info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, 'N', 'U', (lapack_int)n, Lap, (lapack_int)n, lam, lwork,
                                          (lapack_int)graph_lwork(n), iwork, 1);
    if (info != 0) goto cleanup;
    out->fiedler = n >= 2 ? lam[1] : NAN;
    out->spectral_gap = n >= 3 ? lam[2] - lam[1] : NAN;
    out->lambda_max = lam[n - 1];
    if (eig)
        for (int k = 0; k < n; k++) eig[k] = lam[k];
    rc = 0;
cleanup:
    free(owned);
    return rc;
}

int ss_graph_metrics_compute(const float *A, int n, float tau, int include_diag, void *work, int *deg, double *eig,
                             ss_graph_metrics *out)
{
    return graph_compute(A, n, tau, include_diag, work, deg, eig, out, 1);
}

int ss_graph_degree_metrics_compute(const float *A, int n, float tau, int include_diag, void *work, int *deg,
                                    ss_graph_metrics *out)
{
    return graph_compute(A, n, tau, include_diag, work, deg, NULL, out, 0);
}
