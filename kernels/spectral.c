/* spectral.c: singular-value, eigenvalue, Marchenko-Pastur and column-concentration metrics (see spectral.h). */
#include "spectral.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

static const double SS_PI = 3.14159265358979323846;

int ss_singular_values(const float *A, int rows, int cols, double *s)
{
    if (rows < 1 || cols < 1 || !A || !s) return -1;
    size_t count = (size_t)rows * (size_t)cols;
    double *a = malloc(count * sizeof(double));
    if (!a) return -1;
    for (size_t k = 0; k < count; k++) a[k] = A[k];
    /* The row-major [rows][cols] buffer is the column-major [cols][rows] matrix A^T, which has the same singular
     * values, so LAPACK can read it in place (no transposing copy). */
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', (lapack_int)cols, (lapack_int)rows, a, (lapack_int)cols,
                                     s, NULL, 1, NULL, 1);
    free(a);
    return info == 0 ? 0 : -1;
}

void ss_sv_metrics_from_values(const double *s, int k, ss_sv_metrics *out)
{
    double sum2 = 0.0, sum4 = 0.0;
    for (int i = 0; i < k; i++) {
        double q = s[i] * s[i];
        sum2 += q;
        sum4 += q * q;
    }
    out->k = k;
    out->sigma1 = k >= 1 ? s[0] : 0.0;
    out->sigma2 = k >= 2 ? s[1] : 0.0;
    out->frob2 = sum2;
    if (k < 1 || out->sigma1 <= 0.0) {
        out->stable_rank = out->participation = out->sigma_gap = NAN;
        return;
    }
    out->stable_rank = sum2 / (out->sigma1 * out->sigma1);
    out->participation = sum2 * sum2 / sum4;
    out->sigma_gap = k < 2 ? NAN : (out->sigma2 > 0.0 ? out->sigma1 / out->sigma2 : INFINITY);
}

int ss_sv_metrics_compute(const float *A, int rows, int cols, double *s, ss_sv_metrics *out)
{
    if (rows < 1 || cols < 1 || !out) return -1;
    int k = rows < cols ? rows : cols;
    double *owned = NULL;
    if (!s) {
        owned = malloc((size_t)k * sizeof(double));
        if (!owned) return -1;
        s = owned;
    }
    int rc = ss_singular_values(A, rows, cols, s);
    if (rc == 0) ss_sv_metrics_from_values(s, k, out);
    free(owned);
    return rc;
}

void ss_sv_normalise_sq(const double *s, int k, double *x)
{
    double sum = 0.0;
    for (int i = 0; i < k; i++) sum += s[i] * s[i];
    double mean = k > 0 ? sum / (double)k : 0.0;
    for (int i = 0; i < k; i++) x[i] = mean > 0.0 ? s[i] * s[i] / mean : 0.0;
}

double ss_mp_cdf(double x, double gamma)
{
    if (!(gamma > 0.0 && gamma <= 1.0)) return NAN;
    double sg = sqrt(gamma);
    double lp = (1.0 + sg) * (1.0 + sg), lm = (1.0 - sg) * (1.0 - sg);
    if (x <= lm) return 0.0;
    if (x >= lp) return 1.0;
    double c = 1.0 + gamma, r = 2.0 * sg;
    double cphi = (c - x) / r;
    if (cphi > 1.0) cphi = 1.0;
    if (cphi < -1.0) cphi = -1.0;
    double phi = acos(cphi);
    double at = atan2(sqrt(lp) * sin(0.5 * phi), sqrt(lm) * cos(0.5 * phi));
    double F = r * sin(phi) + c * phi - 2.0 * (1.0 - gamma) * at;
    F /= 2.0 * SS_PI * gamma;
    return F < 0.0 ? 0.0 : (F > 1.0 ? 1.0 : F);
}

int ss_mp_kl(const double *x, long m, double gamma, int n_bins, double *kl)
{
    if (m < 1 || n_bins < 1 || !x || !kl || !(gamma > 0.0 && gamma <= 1.0)) return -1;
    double lo = x[0], hi = x[0];
    for (long i = 0; i < m; i++) {
        if (!isfinite(x[i])) return -1;
        if (x[i] < lo) lo = x[i];
        if (x[i] > hi) hi = x[i];
    }
    if (lo == hi) { /* numpy: a degenerate range becomes [x - 0.5, x + 0.5] */
        lo -= 0.5;
        hi += 0.5;
    }
    long *count = calloc((size_t)n_bins, sizeof(long));
    double *edge = malloc(((size_t)n_bins + 1) * sizeof(double));
    int rc = -1;
    if (!count || !edge) goto cleanup;
    double width = (hi - lo) / (double)n_bins;
    for (int b = 0; b < n_bins; b++) edge[b] = lo + (double)b * width;
    edge[n_bins] = hi;
    /* Bin b holds [edge_b, edge_{b+1}), the last bin also holds hi; the index from the scaled offset is fixed up
     * against the edges themselves, as np.histogram does. */
    for (long i = 0; i < m; i++) {
        long b = (long)floor((x[i] - lo) / (hi - lo) * (double)n_bins);
        if (b >= n_bins) b = n_bins - 1;
        if (b < 0) b = 0;
        if (x[i] < edge[b] && b > 0) b--;
        else if (b < n_bins - 1 && x[i] >= edge[b + 1]) b++;
        count[b]++;
    }
    double sum = 0.0, F_prev = ss_mp_cdf(edge[0], gamma);
    for (int b = 0; b < n_bins; b++) {
        double F_next = ss_mp_cdf(edge[b + 1], gamma);
        double Q = F_next - F_prev;
        F_prev = F_next;
        if (count[b] == 0) continue;
        if (Q < SS_MP_FLOOR) Q = SS_MP_FLOOR;
        double P = (double)count[b] / (double)m;
        sum += P * log(P / Q);
    }
    *kl = sum;
    rc = 0;
cleanup:
    free(count);
    free(edge);
    return rc;
}

static int cmp_double_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static int cmp_double_asc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ss_eig_metrics_compute(const float *A, int n, double *abs_eig, ss_eig_metrics *out)
{
    if (n < 1 || !A || !out) return -1;
    size_t nn = (size_t)n;
    double *a = malloc(nn * nn * sizeof(double));
    double *wr = malloc(nn * sizeof(double));
    double *wi = malloc(nn * sizeof(double));
    int rc = -1;
    if (!a || !wr || !wi) goto cleanup;
    int tri = 1;
    for (size_t i = 0; i < nn; i++)
        for (size_t j = 0; j < nn; j++) {
            a[i * nn + j] = A[i * nn + j];
            if (j > i && A[i * nn + j] != 0.0f) tri = 0;
        }
    /* Read as column-major this is A^T: same eigenvalues. */
    lapack_int info =
        LAPACKE_dgeev(LAPACK_COL_MAJOR, 'N', 'N', (lapack_int)n, a, (lapack_int)n, wr, wi, NULL, 1, NULL, 1);
    if (info != 0) goto cleanup;
    for (size_t k = 0; k < nn; k++) wr[k] = hypot(wr[k], wi[k]);
    qsort(wr, nn, sizeof(double), cmp_double_desc);
    double s1 = 0.0, s2 = 0.0;
    for (size_t k = 0; k < nn; k++) {
        s1 += wr[k];
        s2 += wr[k] * wr[k];
    }
    out->triangular = tri;
    out->abs_l1 = wr[0];
    out->abs_l2 = n >= 2 ? wr[1] : 0.0;
    if (n < 2 || out->abs_l1 <= 0.0) out->gap = NAN;
    else out->gap = out->abs_l2 > 0.0 ? out->abs_l1 / out->abs_l2 : INFINITY;
    out->participation = s2 > 0.0 ? s1 * s1 / s2 : NAN;
    if (abs_eig)
        for (size_t k = 0; k < nn; k++) abs_eig[k] = wr[k];
    rc = 0;
cleanup:
    free(a);
    free(wr);
    free(wi);
    return rc;
}

double ss_quantile_linear_sorted(const double *sorted, int n, double q)
{
    if (n < 1) return NAN;
    double h = q * (double)(n - 1);
    if (h <= 0.0) return sorted[0];
    if (h >= (double)(n - 1)) return sorted[n - 1];
    int lo = (int)floor(h);
    double t = h - (double)lo, a = sorted[lo], b = sorted[lo + 1], diff = b - a;
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

int ss_sink_concentration(const float *A, int n, double q, double *conc, int *n_sink)
{
    if (n < 1 || !A || !conc) return -1;
    size_t nn = (size_t)n;
    double *c = calloc(nn, sizeof(double));
    double *sorted = malloc(nn * sizeof(double));
    int rc = -1;
    if (!c || !sorted) goto cleanup;
    for (size_t i = 0; i < nn; i++)
        for (size_t j = 0; j < nn; j++) c[j] += A[i * nn + j];
    for (size_t j = 0; j < nn; j++) sorted[j] = c[j];
    qsort(sorted, nn, sizeof(double), cmp_double_asc);
    double p = ss_quantile_linear_sorted(sorted, n, q);
    double total = 0.0, in_s = 0.0;
    int count = 0;
    for (size_t j = 0; j < nn; j++) {
        total += c[j];
        if (c[j] >= p) {
            in_s += c[j];
            count++;
        }
    }
    *conc = total != 0.0 ? in_s / total : NAN;
    if (n_sink) *n_sink = count;
    rc = 0;
cleanup:
    free(c);
    free(sorted);
    return rc;
}

double ss_mean_row_entropy_bits(const float *A, int n)
{
    if (n < 1) return NAN;
    size_t nn = (size_t)n;
    double total = 0.0;
    for (size_t i = 0; i < nn; i++) {
        double h = 0.0;
        for (size_t j = 0; j < nn; j++) {
            double a = A[i * nn + j];
            h -= a * log2(a + SS_ENTROPY_EPS);
        }
        total += h;
    }
    return total / (double)n;
}
