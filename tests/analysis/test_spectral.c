/* test_spectral.c: singular-value, eigenvalue, Marchenko-Pastur, sink-concentration and entropy metrics
 * (kernels/spectral.h).
 *
 * Hand values:
 *  - identity I_n: every s = 1, stable rank = participation = n, sigma gap 1; eigenvalues all 1 (gap 1, PR n).
 *  - uniform rows A_ij = 1/n = (1/n) 1 1^T: rank one, s_1 = (1/n) |1|^2 = 1, stable rank = PR = 1.
 *  - P D (a permutation times diag(d)): singular values = |d| sorted; for d = (3, -0.5, 2, 0.25, -1, 4, 0):
 *    s = (4, 3, 2, 1, .5, .25, 0), sum s^2 = 30.3125, stable rank 30.3125/16, sum s^4 = 354.06640625,
 *    PR = 30.3125^2/354.06640625, sigma gap 4/3.
 *  - upper-triangular U with diagonal (0.5, -3, 1, 2): eigenvalues = the diagonal, |l| = (3, 2, 1, .5):
 *    gap 1.5, PR = 6.5^2/14.25. Rotation block [[0,-2],[2,0]] (+) [1]: l = +-2i, 1: |l| = (2, 2, 1), gap 1,
 *    PR = 25/9. A causal matrix is flagged triangular and its |l| are its |diagonal| (pitfall C3).
 *  - MP: F against a midpoint quadrature of rho (x = l_- + t^2 removes the lower-edge singularity) and rho as
 *    the derivative of F; KL of a constant spectrum = -ln Q([1, 1.05)) (numpy's [x-.5, x+.5] range, all mass in
 *    bin 10); KL of {0,1,2,3,4} in 4 bins (counts 1,1,1,2, the last bin closed); a Wishart sample (X 400 x 400
 *    gaussian, eigenvalues of X X^T / n from dsyevd here) has KL < 0.05 while a two-point spectrum, the top 10
 *    values alone (the authors' C5 setup) and a constant spectrum give large KL.
 *  - sink concentration of the causal head [[1],[.5,.5],[.5,.25,.25],[.25 x4]]: c = (2.25, 1, .5, .25);
 *    sorted, h = .9*3 = 2.7, p = 1 + .7*1.25 = 1.875; S = {0}, concentration 2.25/4. Mean row entropy of the
 *    same head: (0 + 1 + 1.5 + 2)/4 = 1.125 bits.
 * Random: dgesdd against ||A||_F^2 = sum s^2, ||A^T A||_F^2 = sum s^4 and s_1 from power iteration on A^T A;
 * s(A) = s(A^T) for rectangular A; sink concentration against a naive quantile. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spectral.h"
#include "test_util.h"

static uint64_t g_rng = 0x243F6A8885A308D3ULL;

static double urand(void) /* xorshift64*, uniform in (0, 1) */
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return ((double)((g_rng * 0x2545F4914F6CDD1DULL) >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(void) /* Box-Muller */
{
    return sqrt(-2.0 * log(urand())) * cos(6.283185307179586 * urand());
}

/* MP density, straight from the formula. */
static double mp_rho(double x, double gamma)
{
    double lp = (1 + sqrt(gamma)) * (1 + sqrt(gamma)), lm = (1 - sqrt(gamma)) * (1 - sqrt(gamma));
    if (x <= lm || x >= lp) return 0.0;
    return sqrt((lp - x) * (x - lm)) / (2.0 * 3.14159265358979323846 * gamma * x);
}

/* integral of rho over [a, b] (inside [l_-, l_+]) by the midpoint rule in t, x = l_- + t^2, dx = 2t dt. */
static double mp_mass(double a, double b, double gamma)
{
    double lm = (1 - sqrt(gamma)) * (1 - sqrt(gamma)), lp = (1 + sqrt(gamma)) * (1 + sqrt(gamma));
    if (a < lm) a = lm;
    if (b > lp) b = lp;
    if (b <= a) return 0.0;
    double ta = sqrt(a - lm), tb = sqrt(b - lm), h = (tb - ta) / 200000.0, s = 0.0;
    for (int k = 0; k < 200000; k++) {
        double t = ta + (k + 0.5) * h;
        s += mp_rho(lm + t * t, gamma) * 2.0 * t;
    }
    return s * h;
}

static void test_known_singular_values(void)
{
    enum { N = 8 };
    float Id[N * N] = {0}, U[N * N];
    for (int i = 0; i < N; i++) Id[i * N + i] = 1.0f;
    for (int i = 0; i < N * N; i++) U[i] = 1.0f / N;
    double s[N];
    ss_sv_metrics m;
    CHECK(ss_sv_metrics_compute(Id, N, N, s, &m) == 0);
    for (int i = 0; i < N; i++) CHECK_NEAR(s[i], 1.0, 1e-14);
    CHECK(m.k == N);
    CHECK_NEAR(m.stable_rank, N, 1e-12);
    CHECK_NEAR(m.participation, N, 1e-12);
    CHECK_NEAR(m.sigma_gap, 1.0, 1e-12);
    CHECK_NEAR(m.frob2, N, 1e-12);

    CHECK(ss_sv_metrics_compute(U, N, N, s, &m) == 0);
    CHECK_NEAR(m.sigma1, 1.0, 1e-6); /* 1/8 is exact in float */
    CHECK_NEAR(m.stable_rank, 1.0, 1e-12);
    CHECK_NEAR(m.participation, 1.0, 1e-12);
    CHECK(m.sigma_gap > 1e8); /* s_2 is 0 up to rounding */
    for (int i = 1; i < N; i++) CHECK_NEAR(s[i], 0.0, 1e-12);

    /* P D: row i has d[perm[i]] in column perm[i]... i.e. a permuted diagonal */
    enum { M = 7 };
    const double d[M] = {3, -0.5, 2, 0.25, -1, 4, 0};
    const int perm[M] = {3, 6, 0, 5, 1, 4, 2};
    float PD[M * M] = {0};
    for (int i = 0; i < M; i++) PD[perm[i] * M + i] = (float)d[i];
    double sv[M];
    CHECK(ss_sv_metrics_compute(PD, M, M, sv, &m) == 0);
    const double want[M] = {4, 3, 2, 1, 0.5, 0.25, 0};
    for (int i = 0; i < M; i++) CHECK_NEAR(sv[i], want[i], 1e-13);
    CHECK_NEAR(m.stable_rank, 30.3125 / 16.0, 1e-13);
    CHECK_NEAR(m.participation, 30.3125 * 30.3125 / 354.06640625, 1e-12);
    CHECK_NEAR(m.sigma_gap, 4.0 / 3.0, 1e-13);

    /* the zero matrix: no metric */
    float Z[4] = {0};
    CHECK(ss_sv_metrics_compute(Z, 2, 2, NULL, &m) == 0);
    CHECK(m.sigma1 == 0.0 && isnan(m.stable_rank) && isnan(m.participation) && isnan(m.sigma_gap));
    CHECK(ss_sv_metrics_compute(Z, 0, 2, NULL, &m) == -1);
}

static void test_random_singular_values(void)
{
    for (int trial = 0; trial < 12; trial++) {
        int rows = 2 + (int)(urand() * 40), cols = trial % 3 ? rows : 2 + (int)(urand() * 40);
        int k = rows < cols ? rows : cols;
        float *A = malloc(sizeof(float) * rows * cols), *At = malloc(sizeof(float) * rows * cols);
        double *s = malloc(sizeof(double) * k), *st = malloc(sizeof(double) * k);
        double *G = malloc(sizeof(double) * cols * cols), v[64], w[64];
        for (int i = 0; i < rows; i++) { /* softmax rows, causal when square and trial odd */
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                double x = (trial % 2 && rows == cols && j > i) ? 0.0 : exp(3.0 * gauss());
                A[i * cols + j] = (float)x;
                sum += x;
            }
            for (int j = 0; j < cols; j++) A[i * cols + j] = (float)(A[i * cols + j] / sum);
        }
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) At[j * rows + i] = A[i * cols + j];
        ss_sv_metrics m;
        CHECK(ss_sv_metrics_compute(A, rows, cols, s, &m) == 0);
        CHECK(ss_singular_values(At, cols, rows, st) == 0);
        for (int i = 0; i < k; i++) {
            CHECK_NEAR(st[i], s[i], 1e-12);
            if (i) CHECK(s[i] <= s[i - 1]);
            CHECK(s[i] >= 0.0);
        }
        /* G = A^T A naively: trace G = sum s^2, ||G||_F^2 = sum s^4 */
        double fro = 0, g2 = 0;
        for (int i = 0; i < rows * cols; i++) fro += (double)A[i] * A[i];
        for (int a = 0; a < cols; a++)
            for (int b = 0; b < cols; b++) {
                double x = 0;
                for (int i = 0; i < rows; i++) x += (double)A[i * cols + a] * A[i * cols + b];
                G[a * cols + b] = x;
                g2 += x * x;
            }
        double s2 = 0, s4 = 0;
        for (int i = 0; i < k; i++) {
            s2 += s[i] * s[i];
            s4 += s[i] * s[i] * s[i] * s[i];
        }
        CHECK_NEAR(s2, fro, 1e-10 * fro);
        CHECK_NEAR(s4, g2, 1e-10 * g2);
        CHECK_NEAR(m.frob2, fro, 1e-10 * fro);
        /* s_1^2 = the top eigenvalue of G by power iteration (the Rayleigh quotient converges at (s2/s1)^4k) */
        for (int a = 0; a < cols; a++) v[a] = 1.0 + 0.01 * a;
        double lam = 0;
        for (int it = 0; it < 3000; it++) {
            double nrm = 0;
            for (int a = 0; a < cols; a++) {
                w[a] = 0;
                for (int b = 0; b < cols; b++) w[a] += G[a * cols + b] * v[b];
                nrm += w[a] * w[a];
            }
            nrm = sqrt(nrm);
            lam = 0;
            for (int a = 0; a < cols; a++) lam += v[a] * w[a];
            double vv = 0;
            for (int a = 0; a < cols; a++) vv += v[a] * v[a];
            lam /= vv;
            for (int a = 0; a < cols; a++) v[a] = w[a] / nrm;
        }
        CHECK_NEAR(m.sigma1, sqrt(lam), 1e-9 * m.sigma1);
        CHECK_NEAR(m.stable_rank, fro / lam, 1e-8 * m.stable_rank);
        CHECK_NEAR(m.participation, fro * fro / g2, 1e-9 * m.participation);
        CHECK(m.stable_rank >= 1.0 - 1e-12 && m.stable_rank <= k + 1e-12);
        CHECK(m.participation >= 1.0 - 1e-12 && m.participation <= k + 1e-12);
        free(A);
        free(At);
        free(s);
        free(st);
        free(G);
    }
}

static void test_eigen(void)
{
    ss_eig_metrics e;
    double ab[4];
    /* upper triangular (not causal): eigenvalues = diagonal */
    float U[16] = {0.5f, 0.3f, -0.7f, 0.2f, 0, -3, 0.9f, 0.4f, 0, 0, 1, -0.6f, 0, 0, 0, 2};
    CHECK(ss_eig_metrics_compute(U, 4, ab, &e) == 0);
    const double want[4] = {3, 2, 1, 0.5};
    for (int i = 0; i < 4; i++) CHECK_NEAR(ab[i], want[i], 1e-12);
    CHECK(e.triangular == 0);
    CHECK_NEAR(e.gap, 1.5, 1e-12);
    CHECK_NEAR(e.participation, 6.5 * 6.5 / 14.25, 1e-12);
    CHECK_NEAR(e.abs_l1, 3.0, 1e-12);
    CHECK_NEAR(e.abs_l2, 2.0, 1e-12);

    float R[9] = {0, -2, 0, 2, 0, 0, 0, 0, 1}; /* +-2i and 1 */
    CHECK(ss_eig_metrics_compute(R, 3, ab, &e) == 0);
    CHECK_NEAR(ab[0], 2.0, 1e-12);
    CHECK_NEAR(ab[1], 2.0, 1e-12);
    CHECK_NEAR(ab[2], 1.0, 1e-12);
    CHECK_NEAR(e.gap, 1.0, 1e-12);
    CHECK_NEAR(e.participation, 25.0 / 9.0, 1e-12);

    /* C3: a causal matrix's eigenvalues are its diagonal, whatever the sink column holds */
    float C[16] = {1, 0, 0, 0, 0.9f, 0.1f, 0, 0, 0.9f, 0.05f, 0.05f, 0, 0.7f, 0.1f, 0.1f, 0.1f};
    CHECK(ss_eig_metrics_compute(C, 4, ab, &e) == 0);
    CHECK(e.triangular == 1);
    const double diag[4] = {1, 0.1f, 0.1f, 0.05f};
    for (int i = 0; i < 4; i++) CHECK_NEAR(ab[i], diag[i], 1e-7);
    CHECK_NEAR(e.gap, 10.0, 1e-5);
    CHECK(ss_eig_metrics_compute(C, 0, ab, &e) == -1);
}

static void test_mp_cdf(void)
{
    const double gammas[2] = {1.0, SS_MP_GAMMA_AUTHORS};
    for (int g = 0; g < 2; g++) {
        double gm = gammas[g], lp = (1 + sqrt(gm)) * (1 + sqrt(gm)), lm = (1 - sqrt(gm)) * (1 - sqrt(gm));
        CHECK(ss_mp_cdf(lm, gm) == 0.0 && ss_mp_cdf(-1.0, gm) == 0.0);
        CHECK(ss_mp_cdf(lp, gm) == 1.0 && ss_mp_cdf(10.0, gm) == 1.0);
        CHECK_NEAR(ss_mp_cdf(lp - 1e-12, gm), 1.0, 1e-6);
        const double xs[6] = {1e-6, 0.01, 0.3, 1.0, 2.5, 3.9};
        for (int i = 0; i < 6; i++) {
            if (xs[i] <= lm) continue;
            CHECK_NEAR(ss_mp_cdf(xs[i], gm), mp_mass(lm, xs[i], gm), 2e-6);
            double h = 1e-6;
            if (xs[i] - h > lm)
                CHECK_NEAR((ss_mp_cdf(xs[i] + h, gm) - ss_mp_cdf(xs[i] - h, gm)) / (2 * h), mp_rho(xs[i], gm),
                           1e-5 * (1 + mp_rho(xs[i], gm)));
        }
    }
    CHECK(isnan(ss_mp_cdf(1.0, 1.5)) && isnan(ss_mp_cdf(1.0, 0.0)));
}

static void test_mp_kl(void)
{
    double kl = -1;
    /* constant spectrum: range [0.5, 1.5], 20 bins of 0.05, x = 1 in bin [1.0, 1.05) */
    double ones[100];
    for (int i = 0; i < 100; i++) ones[i] = 1.0;
    CHECK(ss_mp_kl(ones, 100, 1.0, SS_MP_BINS, &kl) == 0);
    CHECK_NEAR(kl, -log(mp_mass(1.0, 1.05, 1.0)), 1e-5);
    CHECK(kl > 3.0);

    /* {0,1,2,3,4} in 4 bins: counts (1,1,1,2) */
    const double five[5] = {0, 1, 2, 3, 4};
    CHECK(ss_mp_kl(five, 5, 1.0, 4, &kl) == 0);
    double want = 0;
    const double P[4] = {0.2, 0.2, 0.2, 0.4};
    for (int b = 0; b < 4; b++) want += P[b] * log(P[b] / mp_mass(b, b + 1, 1.0));
    CHECK_NEAR(kl, want, 1e-5);

    /* two-point spectrum 0.2 / 1.8 (mean 1): range [0.2, 1.8], bins of 0.08, half the mass in each end bin */
    double two[200];
    for (int i = 0; i < 200; i++) two[i] = i % 2 ? 1.8 : 0.2;
    CHECK(ss_mp_kl(two, 200, 1.0, SS_MP_BINS, &kl) == 0);
    want = 0.5 * log(0.5 / mp_mass(0.2, 0.28, 1.0)) + 0.5 * log(0.5 / mp_mass(1.72, 1.8, 1.0));
    CHECK_NEAR(kl, want, 1e-5);
    CHECK(kl > 1.0);

    /* bins with MP mass below the floor: all mass beyond l_+ = 4 */
    const double far[3] = {5, 6, 7};
    CHECK(ss_mp_kl(far, 3, 1.0, 2, &kl) == 0);
    want = (2.0 / 3) * log((2.0 / 3) / 1e-10) + (1.0 / 3) * log((1.0 / 3) / 1e-10);
    CHECK_NEAR(kl, want, 1e-9);

    CHECK(ss_mp_kl(ones, 0, 1.0, 20, &kl) == -1);
    CHECK(ss_mp_kl(ones, 10, 1.2, 20, &kl) == -1);
    CHECK(ss_mp_kl(ones, 10, 1.0, 0, &kl) == -1);

    /* Wishart: X n x n gaussian, eigenvalues of X X^T / n follow MP(gamma = 1) */
    enum { N = 400 };
    double *X = malloc(sizeof(double) * N * N), *W = malloc(sizeof(double) * N * N);
    double *ev = malloc(sizeof(double) * N), *s = malloc(sizeof(double) * N), *x = malloc(sizeof(double) * N);
    float *Xf = malloc(sizeof(float) * N * N);
    g_rng = 20250801ULL;
    for (int i = 0; i < N * N; i++) {
        X[i] = gauss();
        Xf[i] = (float)X[i];
        X[i] = Xf[i]; /* the same matrix for both routes */
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, N, 1.0 / N, X, N, X, N, 0.0, W, N);
    CHECK(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', N, W, N, ev) == 0); /* ascending */
    /* cross-check: squared singular values of X / n = eigenvalues of X X^T / n */
    CHECK(ss_singular_values(Xf, N, N, s) == 0);
    for (int i = 0; i < N; i++) CHECK_NEAR(s[i] * s[i] / N, ev[N - 1 - i], 1e-10 * (1 + ev[N - 1]));
    for (int i = 0; i < N; i++) s[i] = sqrt(fmax(ev[N - 1 - i], 0.0));
    ss_sv_normalise_sq(s, N, x);
    double mean = 0;
    for (int i = 0; i < N; i++) mean += x[i] / N;
    CHECK_NEAR(mean, 1.0, 1e-12);
    double kl_full = -1, kl_authors = -1, kl_top10 = -1;
    CHECK(ss_mp_kl(x, N, SS_MP_GAMMA, SS_MP_BINS, &kl_full) == 0);
    CHECK(ss_mp_kl(x, N, SS_MP_GAMMA_AUTHORS, SS_MP_BINS, &kl_authors) == 0);
    CHECK_MSG(kl_full >= 0.0 && kl_full < 0.05, "Wishart KL %g", kl_full);
    CHECK_MSG(kl_authors >= 0.0 && kl_authors < 0.1, "Wishart KL (gamma .99) %g", kl_authors);
    /* C5: the top 10 values alone, renormalised to mean 1, are far from MP */
    double top[10];
    for (int i = 0; i < 10; i++) top[i] = s[i];
    ss_sv_normalise_sq(top, 10, top);
    CHECK(ss_mp_kl(top, 10, SS_MP_GAMMA_AUTHORS, SS_MP_BINS, &kl_top10) == 0);
    CHECK_MSG(kl_top10 > 1.0, "top-10 KL %g", kl_top10);
    /* pooling: two copies of the same sample give the same histogram, hence the same KL */
    double *x2 = malloc(sizeof(double) * 2 * N);
    memcpy(x2, x, sizeof(double) * N);
    memcpy(x2 + N, x, sizeof(double) * N);
    CHECK(ss_mp_kl(x2, 2 * N, 1.0, SS_MP_BINS, &kl) == 0);
    CHECK_NEAR(kl, kl_full, 1e-12);
    free(X);
    free(W);
    free(ev);
    free(s);
    free(x);
    free(x2);
    free(Xf);
}

static void test_sink_entropy(void)
{
    const double sorted[5] = {1, 2, 3, 4, 5};
    CHECK_NEAR(ss_quantile_linear_sorted(sorted, 5, 0.9), 4.6, 1e-15); /* np.percentile([1..5], 90) */
    CHECK(ss_quantile_linear_sorted(sorted, 5, 0.0) == 1.0);
    CHECK(ss_quantile_linear_sorted(sorted, 5, 1.0) == 5.0);
    CHECK(ss_quantile_linear_sorted(sorted, 5, 0.5) == 3.0);
    CHECK_NEAR(ss_quantile_linear_sorted(sorted, 5, 0.1), 1.4, 1e-15);

    float C[16] = {1, 0, 0, 0, 0.5f, 0.5f, 0, 0, 0.5f, 0.25f, 0.25f, 0, 0.25f, 0.25f, 0.25f, 0.25f};
    double conc = 0;
    int ns = 0;
    CHECK(ss_sink_concentration(C, 4, SS_SINK_QUANTILE, &conc, &ns) == 0);
    CHECK_NEAR(conc, 2.25 / 4.0, 1e-15);
    CHECK(ns == 1);
    CHECK_NEAR(ss_mean_row_entropy_bits(C, 4), 1.125, 1e-8);

    enum { N = 8 };
    float U[N * N], Id[N * N] = {0};
    for (int i = 0; i < N * N; i++) U[i] = 1.0f / N;
    for (int i = 0; i < N; i++) Id[i * N + i] = 1.0f;
    CHECK(ss_sink_concentration(U, N, 0.9, &conc, &ns) == 0);
    CHECK(conc == 1.0 && ns == N); /* all columns tie at the percentile */
    CHECK_NEAR(ss_mean_row_entropy_bits(U, N), 3.0, 1e-8);
    CHECK_NEAR(ss_mean_row_entropy_bits(Id, N), 0.0, 1e-8);
    float Z[4] = {0};
    CHECK(ss_sink_concentration(Z, 2, 0.9, &conc, NULL) == 0 && isnan(conc));

    /* random: naive quantile by repeated minimum selection */
    for (int trial = 0; trial < 20; trial++) {
        int n = 2 + (int)(urand() * 50);
        float *A = malloc(sizeof(float) * n * n);
        double c[64], srt[64] = {0};
        int used[64] = {0};
        for (int j = 0; j < n; j++) c[j] = 0;
        for (int i = 0; i < n * n; i++) {
            A[i] = (float)(urand() * urand());
            c[i % n] += A[i];
        }
        for (int r = 0; r < n; r++) {
            int best = -1;
            for (int j = 0; j < n; j++)
                if (!used[j] && (best < 0 || c[j] < c[best])) best = j;
            used[best] = 1;
            srt[r] = c[best];
        }
        double h = 0.9 * (n - 1), t = h - floor(h);
        int lo = (int)floor(h), hi = lo + 1 < n ? lo + 1 : lo;
        double p = srt[lo] + t * (srt[hi] - srt[lo]), tot = 0, in = 0;
        int cnt = 0;
        for (int j = 0; j < n; j++) {
            tot += c[j];
            if (c[j] >= p) {
                in += c[j];
                cnt++;
            }
        }
        CHECK(ss_sink_concentration(A, n, 0.9, &conc, &ns) == 0);
        CHECK_NEAR(conc, in / tot, 1e-12);
        CHECK(ns == cnt);
        CHECK(ns == n - (int)ceil(h - 1e-12)); /* distinct sums: the top n - ceil(h) columns */
        free(A);
    }
}

int main(void)
{
    test_known_singular_values();
    test_random_singular_values();
    test_eigen();
    test_mp_cdf();
    test_mp_kl();
    test_sink_entropy();
    TEST_END();
}
