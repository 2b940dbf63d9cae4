/* geometry.c: hidden-state and q/k/v geometry, and its correlations with attention (b10, b12). */
#include "geometry.h"

#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#define PCA_TOL 1e-8 /* relative to σ_0: below it a singular value, or a gap between two, counts as zero */

static double clamp1(double x)
{
    return x > 1.0 ? 1.0 : (x < -1.0 ? -1.0 : x);
}

static double norm_f(const float *a, int d)
{
    double s = 0.0;
    for (int c = 0; c < d; c++) s += (double)a[c] * (double)a[c];
    return sqrt(s);
}

static double dot_f(const float *a, const float *b, int d)
{
    double s = 0.0;
    for (int c = 0; c < d; c++) s += (double)a[c] * (double)b[c];
    return s;
}

/* cos from a dot product and two norms, 0 when a norm is 0. */
static double cos_from(double dot, double na, double nb)
{
    if (na == 0.0 || nb == 0.0) return 0.0;
    return clamp1(dot / (na * nb));
}

double ss_pearson(const double *x, const double *y, int n)
{
    if (n < 2) return NAN;
    double mx = 0.0, my = 0.0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (int i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (sxx == 0.0 || syy == 0.0) return NAN;
    return clamp1(sxy / sqrt(sxx * syy));
}

double ss_pearson_f(const float *x, const float *y, int n)
{
    if (n < 2) return NAN;
    double mx = 0.0, my = 0.0;
    for (int i = 0; i < n; i++) {
        mx += (double)x[i];
        my += (double)y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (int i = 0; i < n; i++) {
        double dx = (double)x[i] - mx, dy = (double)y[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (sxx == 0.0 || syy == 0.0) return NAN;
    return clamp1(sxy / sqrt(sxx * syy));
}

double ss_cosine(const float *a, const float *b, int d)
{
    return cos_from(dot_f(a, b, d), norm_f(a, d), norm_f(b, d));
}

void ss_row_norms(const float *h, int n, int d, double *norm)
{
    for (int i = 0; i < n; i++) norm[i] = norm_f(h + (long)i * d, d);
}

void ss_cos_to_anchor(const float *h, int n, int d, int anchor, double *cos_out)
{
    const float *ha = h + (long)anchor * d;
    double na = norm_f(ha, d);
    for (int i = 0; i < n; i++) {
        const float *hi = h + (long)i * d;
        cos_out[i] = cos_from(dot_f(hi, ha, d), norm_f(hi, d), na);
    }
}

double ss_norm_ratio(const float *x, int n, int d, int s)
{
    if (n < 2) return NAN;
    double others = 0.0;
    for (int j = 0; j < n; j++)
        if (j != s) others += norm_f(x + (long)j * d, d);
    others /= (double)(n - 1);
    if (others == 0.0) return NAN;
    return norm_f(x + (long)s * d, d) / others;
}

int ss_anisotropy(const float *h, int n, int d, double *aniso)
{
    if (n < 2) {
        *aniso = NAN;
        return 0;
    }
    double *sum = calloc((size_t)d, sizeof *sum);
    if (!sum) return -1;
    double self = 0.0; /* Σ_i ‖u_i‖²: the number of non-zero rows */
    for (int i = 0; i < n; i++) {
        const float *hi = h + (long)i * d;
        double ni = norm_f(hi, d);
        if (ni == 0.0) continue;
        for (int c = 0; c < d; c++) sum[c] += (double)hi[c] / ni;
        self += 1.0;
    }
    double s2 = 0.0;
    for (int c = 0; c < d; c++) s2 += sum[c] * sum[c];
    *aniso = (s2 - self) / ((double)n * (double)(n - 1));
    free(sum);
    return 0;
}

/* Copy of X [n][cols] in double, columns centred when center != 0. */
static double *copy_centred(const float *X, int n, int cols, int center)
{
    double *a = malloc((size_t)n * (size_t)cols * sizeof *a);
    if (!a) return NULL;
    for (long e = 0; e < (long)n * cols; e++) a[e] = (double)X[e];
    if (center) {
        for (int c = 0; c < cols; c++) {
            double mu = 0.0;
            for (int i = 0; i < n; i++) mu += a[(long)i * cols + c];
            mu /= n;
            for (int i = 0; i < n; i++) a[(long)i * cols + c] -= mu;
        }
    }
    return a;
}

int ss_effective_rank(const float *h, int n, int d, int center, double *erank)
{
    int rc = -1;
    int r = n < d ? n : d;
    double *a = copy_centred(h, n, d, center);
    double *s = malloc((size_t)r * sizeof *s);
    if (!a || !s) goto done;
    double dummy = 0.0; /* u and vt are not referenced with jobz = 'N'; LAPACKE still checks their strides */
    if (LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', n, d, a, d, s, &dummy, n, &dummy, d) != 0) goto done;
    double total = 0.0;
    for (int k = 0; k < r; k++) total += s[k];
    if (total == 0.0) {
        *erank = NAN;
    } else {
        double ent = 0.0;
        for (int k = 0; k < r; k++) {
            double p = s[k] / total;
            if (p > 0.0) ent -= p * log(p);
        }
        *erank = exp(ent);
    }
    rc = 0;
done:
    free(a);
    free(s);
    return rc;
}

void ss_qk_decompose(const float *q, const float *k, const float *v, int n, int d_h, int s, int causal,
                     ss_qk_decomp *out)
{
    out->k_norm_ratio = ss_norm_ratio(k, n, d_h, s);
    out->v_norm_ratio = ss_norm_ratio(v, n, d_h, s);
    const float *ks = k + (long)s * d_h;
    double nks = norm_f(ks, d_h);
    double sum_sink = 0.0, sum_other = 0.0, sum_qn = 0.0;
    int nq = 0;
    for (int t = causal ? s + 1 : 0; t < n; t++) {
        if (t == s) continue;
        const float *qt = q + (long)t * d_h;
        double nqt = norm_f(qt, d_h);
        sum_sink += cos_from(dot_f(qt, ks, d_h), nqt, nks);
        int last = causal ? t : n - 1;
        double acc = 0.0;
        int nk = 0;
        for (int j = 0; j <= last; j++) {
            if (j == s) continue;
            const float *kj = k + (long)j * d_h;
            acc += cos_from(dot_f(qt, kj, d_h), nqt, norm_f(kj, d_h));
            nk++;
        }
        sum_other += acc / nk; /* nk >= 1: t itself (t ≠ s) is always in K(t) */
        sum_qn += nqt;
        nq++;
    }
    out->n_queries = nq;
    out->cos_sink = nq ? sum_sink / nq : NAN;
    out->cos_other = nq ? sum_other / nq : NAN;
    out->q_norm_mean = nq ? sum_qn / nq : NAN;
}

void ss_transformation_magnitude(const float *h_pre, const float *h_post, int n, int d, int authors_compat, double *M)
{
    double scale = 1.0;
    if (authors_compat) {
        double m = 0.0;
        for (long e = 0; e < (long)n * d; e++) {
            double a = fabs((double)h_pre[e]), b = fabs((double)h_post[e]);
            if (a > m) m = a;
            if (b > m) m = b;
        }
        if (m > 1e3) scale = 1e3 / m;
    }
    for (int i = 0; i < n; i++) {
        const float *a = h_pre + (long)i * d, *b = h_post + (long)i * d;
        double s2 = 0.0;
        for (int c = 0; c < d; c++) {
            double diff = scale * (double)b[c] - scale * (double)a[c];
            if (authors_compat) diff = diff > 1e3 ? 1e3 : (diff < -1e3 ? -1e3 : diff);
            s2 += diff * diff;
        }
        M[i] = sqrt(s2);
    }
}

double ss_entropy_magnitude_r(const float *entropy, const double *M, int n)
{
    if (n < 2) return NAN;
    double mx = 0.0, my = 0.0;
    for (int i = 0; i < n; i++) {
        mx += (double)entropy[i];
        my += M[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (int i = 0; i < n; i++) {
        double dx = (double)entropy[i] - mx, dy = M[i] - my;
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if (sxx == 0.0 || syy == 0.0) return NAN;
    return clamp1(sxy / sqrt(sxx * syy));
}

int ss_geometric_alignment(const float *A, const float *h_pre, int n, int d, int causal, double *r)
{
    long n_pairs = causal ? (long)n * (n - 1) / 2 : (long)n * (n - 1);
    if (n_pairs < 2) {
        *r = NAN;
        return 0;
    }
    int rc = -1;
    double *norm = malloc((size_t)n * sizeof *norm);
    double *x = malloc((size_t)n_pairs * sizeof *x);
    double *y = malloc((size_t)n_pairs * sizeof *y);
    if (!norm || !x || !y) goto done;
    ss_row_norms(h_pre, n, d, norm);
    long p = 0;
    for (int i = 0; i < n; i++) {
        const float *hi = h_pre + (long)i * d;
        int end = causal ? i : n;
        for (int j = 0; j < end; j++) {
            if (j == i) continue;
            x[p] = (double)A[(long)i * n + j];
            y[p] = cos_from(dot_f(hi, h_pre + (long)j * d, d), norm[i], norm[j]);
            p++;
        }
    }
    *r = ss_pearson(x, y, (int)p);
    rc = 0;
done:
    free(norm);
    free(x);
    free(y);
    return rc;
}

/* Top-3 PC scores of X [n][cols] (columns centred): scores[k][i] = σ_k U[i][k], with valid[k] = 0 when
 * component k is degenerate (see geometry.h). */
static int pc_scores(const float *X, int n, int cols, double *scores /* [3][n] */, int valid[SS_PCA_COMPONENTS])
{
    int rc = -1;
    int r = n < cols ? n : cols;
    double *a = copy_centred(X, n, cols, 1);
    double *s = malloc((size_t)r * sizeof *s);
    double *u = malloc((size_t)n * (size_t)r * sizeof *u);
    double *vt = malloc((size_t)r * (size_t)cols * sizeof *vt);
    if (!a || !s || !u || !vt) goto done;
    if (LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', n, cols, a, cols, s, u, r, vt, cols) != 0) goto done;
    double tol = PCA_TOL * s[0];
    for (int k = 0; k < SS_PCA_COMPONENTS; k++) {
        valid[k] = k < r && s[0] > 0.0 && s[k] > tol && (k == 0 || s[k - 1] - s[k] > tol) &&
                   (k + 1 >= r || s[k] - s[k + 1] > tol);
        for (int i = 0; i < n; i++) scores[(long)k * n + i] = valid[k] ? s[k] * u[(long)i * r + k] : 0.0;
    }
    rc = 0;
done:
    free(a);
    free(s);
    free(u);
    free(vt);
    return rc;
}

int ss_pca_correlation(const float *A, const float *h_pre, int n, int d, double *r_abs, double *mean_r)
{
    double r[SS_PCA_COMPONENTS];
    for (int k = 0; k < SS_PCA_COMPONENTS; k++) r[k] = NAN;
    *mean_r = NAN;
    if (n < 4) {
        if (r_abs)
            for (int k = 0; k < SS_PCA_COMPONENTS; k++) r_abs[k] = NAN;
        return 0;
    }
    int rc = -1;
    int valid_a[SS_PCA_COMPONENTS], valid_h[SS_PCA_COMPONENTS];
    double *sa = malloc((size_t)SS_PCA_COMPONENTS * (size_t)n * sizeof *sa);
    double *sh = malloc((size_t)SS_PCA_COMPONENTS * (size_t)n * sizeof *sh);
    if (!sa || !sh) goto done;
    if (pc_scores(A, n, n, sa, valid_a) != 0 || pc_scores(h_pre, n, d, sh, valid_h) != 0) goto done;
    double sum = 0.0;
    int all = 1;
    for (int k = 0; k < SS_PCA_COMPONENTS; k++) {
        if (valid_a[k] && valid_h[k]) r[k] = fabs(ss_pearson(sa + (long)k * n, sh + (long)k * n, n));
        if (isnan(r[k])) all = 0;
        sum += r[k];
    }
    if (all) *mean_r = sum / SS_PCA_COMPONENTS;
    rc = 0;
done:
    if (r_abs)
        for (int k = 0; k < SS_PCA_COMPONENTS; k++) r_abs[k] = r[k];
    free(sa);
    free(sh);
    return rc;
}
