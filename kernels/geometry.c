/* geometry.c: hidden-state and q/k/v geometry, and its correlations with attention (b10, b12). */
#include "geometry.h"

#include <cblas.h>
#include <lapacke.h>
#include <float.h>
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

/* The singular values of a [n][cols] (double, row-major) from the eigenvalues of its smaller Gram matrix
 * (a·aᵀ when n <= cols, else aᵀ·a; cblas_dsyrk + LAPACK dsyevd): s_k = sqrt(max(λ_k, 0)), descending, r =
 * min(n, cols) of them. An n×n eigenproblem instead of an n×cols SVD: 10-30× faster for the hidden states (n = 64 tokens, cols =
 * d_model in the hundreds). Singular values below about 1e-8·s_1 lose their relative accuracy (they come from
 * squares); every use here weighs them by their size or treats them as zero. */
static int gram_svals(const double *a, int n, int cols, double *s)
{
    const int r = n < cols ? n : cols;
    double *g = calloc((size_t)r * (size_t)r, sizeof *g);
    double *lam = malloc((size_t)r * sizeof *lam);
    int rc = -1;
    if (!g || !lam) goto done;
    if (n <= cols)
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, cols, 1.0, a, cols, 0.0, g, r);
    else
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, cols, n, 1.0, a, cols, 0.0, g, r);
    if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', r, g, r, lam) != 0) goto done;
    /* an eigenvalue within the solver's rounding of 0 (|λ| <= 4·r·ε·λ_max) is an exact zero singular value:
     * its square root (~1e-7·s_1) would otherwise read as a direction (a rank-1 matrix would not have
     * effective rank 1) */
    const double floor_l = 4.0 * r * DBL_EPSILON * (lam[r - 1] > 0.0 ? lam[r - 1] : 0.0);
    for (int k = 0; k < r; k++) { /* ascending -> descending */
        const double l = lam[r - 1 - k];
        s[k] = l > floor_l ? sqrt(l) : 0.0;
    }
    rc = 0;
done:
    free(g);
    free(lam);
    return rc;
}

/* The top m (<= n) singular values s [m] and left singular vectors u [n][m] of a [n][cols] from the n×n Gram
 * matrix a·aᵀ (its m largest eigenpairs by LAPACK dsyevr, range 'I'), whatever cols is: principal-component
 * scores without an n×cols SVD or a full eigen-decomposition. */
static int gram_top_rows(const double *a, int n, int cols, int m, double *s, double *u)
{
    double *g = calloc((size_t)n * (size_t)n, sizeof *g);
    double *lam = malloc((size_t)n * sizeof *lam);
    double *z = malloc((size_t)n * (size_t)m * sizeof *z);
    lapack_int *isuppz = malloc((size_t)2 * (size_t)m * sizeof *isuppz);
    int rc = -1;
    lapack_int found = 0;
    if (!g || !lam || !z || !isuppz) goto done;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, cols, 1.0, a, cols, 0.0, g, n);
    /* column-major: the row-major upper triangle dsyrk filled is the column-major lower one (no transposed
     * copies inside LAPACKE); eigenvector k comes back as column k of z [m][n] */
    if (LAPACKE_dsyevr(LAPACK_COL_MAJOR, 'V', 'I', 'L', n, g, n, 0.0, 0.0, n - m + 1, n, 0.0, &found, lam, z, n,
                       isuppz) != 0 ||
        found != m)
        goto done;
    for (int k = 0; k < m; k++) { /* ascending -> descending */
        const double l = lam[m - 1 - k];
        s[k] = l > 0.0 ? sqrt(l) : 0.0;
        for (int i = 0; i < n; i++) u[(long)i * m + k] = z[(long)(m - 1 - k) * n + i];
    }
    rc = 0;
done:
    free(g);
    free(lam);
    free(z);
    free(isuppz);
    return rc;
}

int ss_effective_rank(const float *h, int n, int d, int center, double *erank)
{
    int rc = -1;
    int r = n < d ? n : d;
    double *a = copy_centred(h, n, d, center);
    double *s = malloc((size_t)r * sizeof *s);
    if (!a || !s) goto done;
    if (gram_svals(a, n, d, s) != 0) goto done;
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
    const int r = n < cols ? n : cols, m = SS_PCA_COMPONENTS + 1 < n ? SS_PCA_COMPONENTS + 1 : n;
    double *a = copy_centred(X, n, cols, 1);
    double *s = malloc((size_t)m * sizeof *s);
    double *u = malloc((size_t)n * (size_t)m * sizeof *u);
    if (!a || !s || !u) goto done;
    /* scores = U·Σ from the top eigenpairs of the n×n Gram matrix X_c·X_cᵀ (rows are the observations); one
     * more than the three components, for the gap test of the third */
    if (gram_top_rows(a, n, cols, m, s, u) != 0) goto done;
    double tol = PCA_TOL * s[0];
    for (int k = 0; k < SS_PCA_COMPONENTS; k++) {
        valid[k] = k < r && k < m && s[0] > 0.0 && s[k] > tol && (k == 0 || s[k - 1] - s[k] > tol) &&
                   (k + 1 >= r || k + 1 >= m || s[k] - s[k + 1] > tol);
        for (int i = 0; i < n; i++) scores[(long)k * n + i] = valid[k] ? s[k] * u[(long)i * m + k] : 0.0;
    }
    rc = 0;
done:
    free(a);
    free(s);
    free(u);
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

/* ---------------------------------------------------------------- fast paths (BLAS), tested against the above */

int ss_cosine_matrix(const float *h, int n, int d, double *C)
{
    double *a = copy_centred(h, n, d, 0);
    if (!a) return -1;
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, d, 1.0, a, d, 0.0, C, n);
    free(a);
    for (int i = 0; i < n; i++) C[(long)i * n + i] = C[(long)i * n + i] > 0.0 ? sqrt(C[(long)i * n + i]) : 0.0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            const double c = cos_from(C[(long)i * n + j], C[(long)i * n + i], C[(long)j * n + j]);
            C[(long)i * n + j] = C[(long)j * n + i] = c;
        }
    for (int i = 0; i < n; i++) C[(long)i * n + i] = C[(long)i * n + i] > 0.0 ? 1.0 : 0.0;
    return 0;
}

double ss_alignment_from_cos(const float *A, const double *C, int n, int causal, int window)
{
    const int w = causal && window > 0 ? window : 0;
    long n_pairs = 0;
    for (int i = 0; i < n; i++) n_pairs += causal ? (w && i >= w ? w - 1 : i) : n - 1;
    if (n_pairs < 2) return NAN;
    double mx = 0.0, my = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = w && i - w + 1 > 0 ? i - w + 1 : 0; j < (causal ? i : n); j++)
            if (j != i) {
                mx += (double)A[(long)i * n + j];
                my += C[(long)i * n + j];
            }
    mx /= (double)n_pairs;
    my /= (double)n_pairs;
    double sxy = 0.0, sxx = 0.0, syy = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = w && i - w + 1 > 0 ? i - w + 1 : 0; j < (causal ? i : n); j++)
            if (j != i) {
                const double dx = (double)A[(long)i * n + j] - mx, dy = C[(long)i * n + j] - my;
                sxy += dx * dy;
                sxx += dx * dx;
                syy += dy * dy;
            }
    if (sxx == 0.0 || syy == 0.0) return NAN;
    return clamp1(sxy / sqrt(sxx * syy));
}

int ss_qk_decompose_blas(const float *q, const float *k, const float *v, int n, int d_h, int s, int causal, int window,
                         ss_qk_decomp *out)
{
    const int w = causal && window > 0 ? window : 0; /* query t sees keys t - w + 1 .. t */
    double *qd = copy_centred(q, n, d_h, 0), *kd = copy_centred(k, n, d_h, 0); /* [n][d_h] each */
    double *S = malloc((size_t)n * (size_t)n * sizeof *S);                       /* [n][n] q_t·k_j */
    double *nk = malloc((size_t)n * 2 * sizeof *nk);                             /* [n] |k_j|, [n] |q_t| */
    if (!qd || !kd || !S || !nk) {
        free(qd);
        free(kd);
        free(S);
        free(nk);
        return -1;
    }
    double *nq = nk + n;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, d_h, 1.0, qd, d_h, kd, d_h, 0.0, S, n);
    for (int j = 0; j < n; j++) {
        nk[j] = norm_f(k + (long)j * d_h, d_h);
        nq[j] = norm_f(q + (long)j * d_h, d_h);
    }
    out->k_norm_ratio = ss_norm_ratio(k, n, d_h, s);
    out->v_norm_ratio = ss_norm_ratio(v, n, d_h, s);
    double sum_sink = 0.0, sum_other = 0.0, sum_qn = 0.0;
    int n_q = 0;
    const int t_end = w && s + w < n ? s + w : n; /* the queries that still see s */
    for (int t = causal ? s + 1 : 0; t < t_end; t++) {
        if (t == s) continue;
        const double *St = S + (long)t * n; /* [n] */
        sum_sink += cos_from(St[s], nq[t], nk[s]);
        const int last = causal ? t : n - 1;
        double acc = 0.0;
        int n_k = 0;
        for (int j = w && t - w + 1 > 0 ? t - w + 1 : 0; j <= last; j++) {
            if (j == s) continue;
            acc += cos_from(St[j], nq[t], nk[j]);
            n_k++;
        }
        sum_other += acc / n_k;
        sum_qn += nq[t];
        n_q++;
    }
    out->n_queries = n_q;
    out->cos_sink = n_q ? sum_sink / n_q : NAN;
    out->cos_other = n_q ? sum_other / n_q : NAN;
    out->q_norm_mean = n_q ? sum_qn / n_q : NAN;
    free(qd);
    free(kd);
    free(S);
    free(nk);
    return 0;
}
