/* test_divergence.c: KL to the mean head with and without sinks (b7), the sink set and its percentile, and the
 * row entropy in nats (b10), on hand-computed cases plus randomized cross-checks against naive code here.
 *
 * Hand cases:
 *   percentile of x = [10 3 1 4 2] (sorted 1 2 3 4 10), v = 4q: q = .9 -> v = 3.6 -> 4 + 6(.6) = 7.6;
 *     q = .8 -> 5.2; q = .95 -> 8.8; q = .5 -> 3; q = 0 -> 1; q = 1 -> 10; q = .25 -> v = 1 -> 2.
 *   one dominant column: H = 2, n = 4, every row [.7 .1 .1 .1]: c = 8 [.7 .1 .1 .1] = [5.6 .8 .8 .8];
 *     P_.9 = .8 + 4.8 (.7) = 4.16 -> S = {0}, sink % = 5.6/8 = 70; P_.5 = .8 -> S = everything, 100 %.
 *   n heads, head h's every row = e_h (one-hot on key h): the mean row is uniform 1/n, so
 *     KL_h = 1 ln(1 / (1/n)) = ln n exactly, for every head.
 *   H = 2, head 0 rows uniform 1/n, head 1 rows e_0: Abar = [(1/n + 1)/2, 1/(2n), ...]:
 *     KL_0 = (1/n) ln(2/(n+1)) + ((n-1)/n) ln 2,   KL_1 = ln(2n/(n+1)).
 *   heads that differ only on the sink column: head 0 rows [.7 .1 .1 .1], head 1 rows [.1 .3 .3 .3], S = {0}:
 *     with: Abar = [.4 .2 .2 .2], KL_0 = .7 ln(.7/.4) + .3 ln(.1/.2), KL_1 = .1 ln(.1/.4) + .9 ln(.3/.2);
 *     without: both rows become [0 1/3 1/3 1/3] -> KL = 0, reduction = KL(with).
 *   causal, head 0 all on the sink (rows e_0), head 1 uniform over j <= i, S = {0}, without sinks:
 *     causal fallback: head 0 row i -> uniform over 1..i = head 1's renormalised row -> KL = 0;
 *     the notebook's fallback (causal = 0): head 0 row i -> uniform over 1..n-1; head 1 -> uniform over 1..i.
 *   entropy: a uniform row of n -> ln n; one-hot -> 0; [.5 .5] = [.5 .5 1e-6 100 FLT_EPSILON] -> ln 2 (the tiny
 *   entries are at or below the floor and dropped). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "divergence.h"
#include "test_util.h"

static unsigned g_rng = 987654321u;
static double urand(void)
{
    g_rng = g_rng * 1664525u + 1013904223u;
    return (double)(g_rng >> 8) / 16777216.0;
}
static int irand(int lo, int hi)
{
    return lo + (int)(urand() * (hi - lo + 1));
}

static void test_percentile_and_sinks(void)
{
    const double x[5] = {10, 3, 1, 4, 2};
    const double q[7] = {0.9, 0.8, 0.95, 0.5, 0.0, 1.0, 0.25};
    const double want[7] = {7.6, 5.2, 8.8, 3.0, 1.0, 10.0, 2.0};
    for (int k = 0; k < 7; k++) {
        double p;
        CHECK(ss_percentile_linear(x, 5, q[k], &p) == 0);
        CHECK_NEAR(p, want[k], 1e-12);
    }
    double p1;
    CHECK(ss_percentile_linear(x, 1, 0.9, &p1) == 0 && p1 == 10.0);
    CHECK(ss_percentile_linear(x, 0, 0.9, &p1) == 0 && isnan(p1));
    CHECK(x[0] == 10 && x[4] == 2); /* input untouched */

    float A[2][4][4];
    for (int h = 0; h < 2; h++)
        for (int i = 0; i < 4; i++) {
            A[h][i][0] = 0.7f;
            A[h][i][1] = A[h][i][2] = A[h][i][3] = 0.1f;
        }
    double c[4], thr, pct;
    unsigned char in_S[4];
    int n_S;
    ss_layer_column_sums(&A[0][0][0], 2, 4, c);
    CHECK_NEAR(c[0], 5.6, 1e-6);
    CHECK_NEAR(c[3], 0.8, 1e-6);
    CHECK(ss_sink_set(c, 4, 0.9, in_S, &n_S, &thr, &pct) == 0);
    CHECK_NEAR(thr, 4.16, 1e-6);
    CHECK(n_S == 1 && in_S[0] && !in_S[1] && !in_S[2] && !in_S[3]);
    CHECK_NEAR(pct, 70.0, 1e-5);
    CHECK(ss_sink_set(c, 4, 0.5, in_S, &n_S, NULL, &pct) == 0);
    CHECK(n_S == 4);
    CHECK_NEAR(pct, 100.0, 1e-12);
    CHECK(ss_sink_set(c, 0, 0.9, in_S, NULL, NULL, NULL) == -1);

    /* per-head concentration: head 0 as above (.7 on key 0), head 1 all on key 3 -> 0 on S = {0} */
    for (int i = 0; i < 4; i++) {
        A[1][i][0] = A[1][i][1] = A[1][i][2] = 0.0f;
        A[1][i][3] = 1.0f;
    }
    unsigned char S0[4] = {1, 0, 0, 0};
    double conc[2];
    ss_sink_head_concentration(&A[0][0][0], 2, 4, S0, conc);
    CHECK_NEAR(conc[0], 0.7, 1e-6);
    CHECK(conc[1] == 0.0);

    float Abar[4][4];
    ss_head_mean(&A[0][0][0], 2, 4, &Abar[0][0]);
    CHECK_NEAR(Abar[2][0], 0.35, 1e-7);
    CHECK_NEAR(Abar[2][3], 0.55, 1e-7);

    /* randomized: column sums and the sink set against a naive double loop and an insertion-sort percentile */
    for (int trial = 0; trial < 100; trial++) {
        int H = irand(1, 5), n = irand(1, 20);
        float *B = malloc((size_t)H * n * n * sizeof *B);
        for (int e = 0; e < H * n * n; e++) B[e] = (float)(trial % 4 == 0 ? 0.25 * irand(0, 4) : urand());
        double cc[20], s[20];
        ss_layer_column_sums(B, H, n, cc);
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int h = 0; h < H; h++)
                for (int i = 0; i < n; i++) sum += B[(h * n + i) * n + j];
            CHECK_NEAR(cc[j], sum, 1e-9);
        }
        memcpy(s, cc, sizeof(double) * n);
        for (int a = 1; a < n; a++)
            for (int b = a; b > 0 && s[b - 1] > s[b]; b--) {
                double t = s[b];
                s[b] = s[b - 1];
                s[b - 1] = t;
            }
        double qq = 0.8 + 0.05 * (trial % 4), v = qq * (n - 1);
        int lo = (int)v;
        double want_thr = lo + 1 < n ? s[lo] + (s[lo + 1] - s[lo]) * (v - lo) : s[n - 1];
        unsigned char inS[20];
        CHECK(ss_sink_set(cc, n, qq, inS, &n_S, &thr, &pct) == 0);
        CHECK_NEAR(thr, want_thr, 1e-9 * (1.0 + fabs(want_thr)));
        int cnt = 0;
        double tot = 0.0, on = 0.0;
        for (int j = 0; j < n; j++) {
            CHECK(inS[j] == (cc[j] >= thr));
            cnt += inS[j];
            tot += cc[j];
            on += inS[j] ? cc[j] : 0.0;
        }
        CHECK(n_S == cnt && cnt >= 1);
        CHECK_NEAR(pct, tot > 0 ? 100.0 * on / tot : 0.0, 1e-9);
        free(B);
    }
}

static void test_rows(void)
{
    int rows[64];
    int k = ss_kl_rows(5, 1, 0, rows);
    CHECK(k == 4 && rows[0] == 1 && rows[3] == 4);
    k = ss_kl_rows(5, 0, 0, rows);
    CHECK(k == 5 && rows[0] == 0 && rows[4] == 4);
    k = ss_kl_rows(20, 0, 1, rows); /* <= 20 rows: all of them */
    CHECK(k == 20 && rows[19] == 19);
    k = ss_kl_rows(1, 1, 0, rows);
    CHECK(k == 0);
    /* np.linspace(0, 39, 20, dtype=int): floor(k * 39/19) = 0 2 4 ... 36 (k < 19), then 39 */
    k = ss_kl_rows(40, 0, 1, rows);
    CHECK(k == 20);
    for (int r = 0; r < 19; r++) CHECK(rows[r] == 2 * r);
    CHECK(rows[19] == 39);
    /* causal n = 22: 21 eligible rows > 20 -> linspace(1, 21, 20): 1 + floor(20k/19) = 1 + k for k < 19, then 21 */
    k = ss_kl_rows(22, 1, 1, rows);
    CHECK(k == 20);
    for (int r = 0; r < 19; r++) CHECK(rows[r] == 1 + r);
    CHECK(rows[19] == 21);
}

/* Naive KL: build the full normalised tensor first, then the mean head, then the KL (floored q). */
static void naive_kl(const float *A, int H, int n, int causal, const unsigned char *in_S, const int *rows, int n_rows,
                     double *kl)
{
    double *P = calloc((size_t)H * n * n, sizeof *P), *M = calloc((size_t)n * n, sizeof *M);
    for (int h = 0; h < H; h++)
        for (int i = 0; i < n; i++) {
            double *p = P + ((long)h * n + i) * n;
            double s = 0.0;
            for (int j = 0; j < n; j++) {
                p[j] = (in_S && in_S[j]) ? 0.0 : A[((long)h * n + i) * n + j];
                s += p[j];
            }
            if (s > 0.0) {
                for (int j = 0; j < n; j++) p[j] /= s;
            } else {
                int cnt = 0;
                for (int j = 0; j < n; j++) cnt += (!causal || j <= i) && !(in_S && in_S[j]);
                for (int j = 0; j < n; j++) p[j] = ((!causal || j <= i) && !(in_S && in_S[j])) ? 1.0 / cnt : 0.0;
            }
            for (int j = 0; j < n; j++) M[i * n + j] += p[j] / H;
        }
    for (int h = 0; h < H; h++) {
        double sum = 0.0;
        for (int r = 0; r < n_rows; r++) {
            int i = rows[r];
            for (int j = 0; j < n; j++) {
                double p = P[((long)h * n + i) * n + j];
                if (p > 0.0) sum += p * (log(p) - log(fmax(M[i * n + j], 1e-10)));
            }
        }
        kl[h] = sum / n_rows;
    }
    free(P);
    free(M);
}

static void test_kl(void)
{
    enum { N = 6 };
    int rows[64];
    double kl[8], klo[8], red[8];

    /* identical heads: KL 0, with and without sinks */
    float B[3][N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) B[0][i][j] = j <= i ? (float)(1.0 + i + 2 * j) : 0.0f;
    for (int i = 0; i < N; i++) { /* rows to distributions */
        float s = 0;
        for (int j = 0; j < N; j++) s += B[0][i][j];
        for (int j = 0; j < N; j++) B[0][i][j] /= s;
    }
    memcpy(B[1], B[0], sizeof B[0]);
    memcpy(B[2], B[0], sizeof B[0]);
    int nr = ss_kl_rows(N, 1, 0, rows);
    unsigned char S0[N] = {1, 0, 0, 0, 0, 0};
    CHECK(ss_kl_sink_reduction(&B[0][0][0], 3, N, 1, S0, rows, nr, kl, klo, red) == 0);
    for (int h = 0; h < 3; h++) CHECK(fabs(kl[h]) < 1e-14 && fabs(klo[h]) < 1e-14 && fabs(red[h]) < 1e-14);

    /* n one-hot heads around a uniform mean: KL_h = ln n exactly (bidirectional, all rows) */
    static float C[N][N][N];
    memset(C, 0, sizeof C);
    for (int h = 0; h < N; h++)
        for (int i = 0; i < N; i++) C[h][i][h] = 1.0f;
    nr = ss_kl_rows(N, 0, 0, rows);
    CHECK(ss_kl_to_mean_head(&C[0][0][0], N, N, 0, NULL, rows, nr, kl) == 0);
    for (int h = 0; h < N; h++) CHECK_NEAR(kl[h], log((double)N), 1e-12);

    /* uniform vs one-hot (H = 2): the closed forms in the header comment */
    float D[2][N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            D[0][i][j] = 1.0f / N;
            D[1][i][j] = j == 0 ? 1.0f : 0.0f;
        }
    CHECK(ss_kl_to_mean_head(&D[0][0][0], 2, N, 0, NULL, rows, nr, kl) == 0);
    CHECK_NEAR(kl[0], log(2.0 / (N + 1)) / N + (N - 1.0) / N * log(2.0), 1e-7);
    CHECK_NEAR(kl[1], log(2.0 * N / (N + 1)), 1e-7);

    /* heads that differ only on the sink column */
    float E[2][4][4];
    for (int i = 0; i < 4; i++) {
        E[0][i][0] = 0.7f;
        E[1][i][0] = 0.1f;
        for (int j = 1; j < 4; j++) {
            E[0][i][j] = 0.1f;
            E[1][i][j] = 0.3f;
        }
    }
    double c[4];
    unsigned char inS[4];
    int n_S;
    ss_layer_column_sums(&E[0][0][0], 2, 4, c);
    CHECK(ss_sink_set(c, 4, 0.9, inS, &n_S, NULL, NULL) == 0);
    CHECK(n_S == 1 && inS[0]);
    nr = ss_kl_rows(4, 0, 0, rows);
    CHECK(ss_kl_sink_reduction(&E[0][0][0], 2, 4, 0, inS, rows, nr, kl, klo, red) == 0);
    CHECK_NEAR(kl[0], 0.7 * log(0.7 / 0.4) + 0.3 * log(0.5), 1e-6);
    CHECK_NEAR(kl[1], 0.1 * log(0.25) + 0.9 * log(1.5), 1e-6);
    CHECK_NEAR(klo[0], 0.0, 1e-7);
    CHECK_NEAR(klo[1], 0.0, 1e-7);
    CHECK_NEAR(red[0], kl[0] - klo[0], 1e-15);
    CHECK_NEAR(red[1], kl[1] - klo[1], 1e-15);

    /* causal: head 0 all on the sink, head 1 uniform over j <= i; without S = {0} */
    float F[2][N][N];
    memset(F, 0, sizeof F);
    for (int i = 0; i < N; i++) {
        F[0][i][0] = 1.0f;
        for (int j = 0; j <= i; j++) F[1][i][j] = 1.0f / (i + 1);
    }
    nr = ss_kl_rows(N, 1, 0, rows);
    CHECK(ss_kl_to_mean_head(&F[0][0][0], 2, N, 1, S0, rows, nr, klo) == 0);
    CHECK_NEAR(klo[0], 0.0, 1e-12);
    CHECK_NEAR(klo[1], 0.0, 1e-12);
    /* the notebook's fallback: p0 = uniform over N-1 keys 1..N-1, p1 = uniform over 1..i; Abar by hand */
    CHECK(ss_kl_to_mean_head(&F[0][0][0], 2, N, 0, S0, rows, nr, klo) == 0);
    double w0 = 0.0, w1 = 0.0;
    for (int i = 1; i < N; i++) {
        double a = 1.0 / (N - 1), b = 1.0 / i, in = (a + b) / 2, out = a / 2;
        w0 += i * a * log(a / in) + (N - 1 - i) * a * log(a / out);
        w1 += i * b * log(b / in);
    }
    CHECK_NEAR(klo[0], w0 / (N - 1), 1e-12);
    CHECK_NEAR(klo[1], w1 / (N - 1), 1e-12);
    /* a row whose visible keys are all sinks stays zero in every head: row 1 with S = {0, 1} adds 0 */
    unsigned char S01[N] = {1, 1, 0, 0, 0, 0};
    int row1[1] = {1};
    CHECK(ss_kl_to_mean_head(&F[0][0][0], 2, N, 1, S01, row1, 1, klo) == 0);
    CHECK(klo[0] == 0.0 && klo[1] == 0.0);
    CHECK(ss_kl_to_mean_head(&F[0][0][0], 2, N, 1, S01, row1, 0, klo) == 0);
    CHECK(isnan(klo[0]) && isnan(klo[1]));

    /* disjoint supports (H = 2, bidirectional): Abar = p/2 on each support, so KL_h = ln 2 for both */
    float G[2][2][2] = {{{1, 0}, {1, 0}}, {{0, 1}, {0, 1}}};
    int r2[2] = {0, 1};
    CHECK(ss_kl_to_mean_head(&G[0][0][0], 2, 2, 0, NULL, r2, 2, kl) == 0);
    CHECK_NEAR(kl[0], log(2.0), 1e-12);
    CHECK_NEAR(kl[1], log(2.0), 1e-12);

    /* randomized against the naive version; also sparse rows, zero rows, and both fallbacks */
    for (int trial = 0; trial < 80; trial++) {
        int H = irand(1, 6), n = irand(2, 30), causal = trial & 1, fast = (trial >> 1) & 1;
        float *A = calloc((size_t)H * n * n, sizeof *A);
        for (int h = 0; h < H; h++)
            for (int i = 0; i < n; i++) {
                if (urand() < 0.1) continue; /* a zero row */
                double s = 0.0;
                for (int j = 0; j <= (causal ? i : n - 1); j++)
                    if (urand() < 0.7) s += (A[((long)h * n + i) * n + j] = (float)(urand() * urand() * urand()));
                for (int j = 0; j < n && s > 0; j++) A[((long)h * n + i) * n + j] /= (float)s;
            }
        double cc[30];
        unsigned char S[30];
        ss_layer_column_sums(A, H, n, cc);
        CHECK(ss_sink_set(cc, n, 0.8 + 0.05 * (trial % 4), S, NULL, NULL, NULL) == 0);
        nr = ss_kl_rows(n, causal, fast, rows);
        double nk[8], nko[8];
        naive_kl(A, H, n, causal, NULL, rows, nr, nk);
        naive_kl(A, H, n, causal, S, rows, nr, nko);
        CHECK(ss_kl_sink_reduction(A, H, n, causal, S, rows, nr, kl, klo, red) == 0);
        for (int h = 0; h < H; h++) {
            CHECK_NEAR(kl[h], nk[h], 1e-9 * (1.0 + nk[h]));
            CHECK_NEAR(klo[h], nko[h], 1e-9 * (1.0 + nko[h]));
            CHECK(kl[h] >= -1e-12 && klo[h] >= -1e-12); /* Gibbs: the mean head is a distribution */
        }
        /* head order does not matter: reversing the heads reverses the KLs */
        float *Ar = malloc((size_t)H * n * n * sizeof *Ar);
        for (int h = 0; h < H; h++) memcpy(Ar + (long)h * n * n, A + (long)(H - 1 - h) * n * n, sizeof(float) * n * n);
        double kr[8];
        CHECK(ss_kl_to_mean_head(Ar, H, n, causal, S, rows, nr, kr) == 0);
        for (int h = 0; h < H; h++) CHECK_NEAR(kr[h], klo[H - 1 - h], 1e-12);
        free(Ar);
        free(A);
    }
}

static double naive_entropy(const float *a, int n)
{
    const double e = 100.0 * FLT_EPSILON;
    double s = 0.0;
    for (int j = 0; j < n; j++) s += a[j] > e ? a[j] : 0.0;
    if (s < e) return 0.0;
    double H = 0.0;
    for (int j = 0; j < n; j++)
        if (a[j] > e && a[j] / s > e) H += (a[j] / s) * log(s / a[j]);
    return H;
}

static void test_entropy(void)
{
    float U[7], one[7] = {0, 0, 1, 0, 0, 0, 0};
    for (int j = 0; j < 7; j++) U[j] = 1.0f / 7;
    float Hv[4];
    ss_row_entropy_nats(U, 1, 7, Hv);
    CHECK_NEAR(Hv[0], log(7.0), 1e-6);
    ss_row_entropy_nats(one, 1, 7, Hv);
    CHECK(Hv[0] == 0.0f);
    const float e = 100.0f * FLT_EPSILON;
    float M[3][4] = {{0.5f, 0.5f, 0, 0}, {0.5f, 0.5f, 1e-6f, e}, {0, 0, 0, 0}};
    ss_row_entropy_nats(&M[0][0], 3, 4, Hv);
    CHECK_NEAR(Hv[0], log(2.0), 1e-7);
    CHECK(Hv[1] == Hv[0]); /* entries at or below the floor are dropped before the renormalisation */
    CHECK(Hv[2] == 0.0f);  /* nothing left: 0, as the notebook */
    float above[3] = {0.5f, 0.5f, 2e-5f}; /* above the floor: it counts, and the entropy exceeds ln 2 */
    ss_row_entropy_nats(above, 1, 3, Hv);
    CHECK(Hv[0] > (float)log(2.0) + 1e-5f);
    /* the notebook also drops renormalised p <= floor: in [1, 1, 2e-5] (sum 2.00002) the last p = 1e-5 < 1.19e-5
     * leaves the sum, H = 2 (1/s) ln s with s = 2.00002 (it would add 1e-5 ln 1e5 = 1.2e-4 otherwise) */
    float over[3] = {1.0f, 1.0f, 2e-5f};
    ss_row_entropy_nats(over, 1, 3, Hv);
    double s_over = 2.0 + (double)2e-5f;
    CHECK_NEAR(Hv[0], 2.0 / s_over * log(s_over), 1e-7);
    /* scaling a row does not change its entropy (it is renormalised) */
    float half[4] = {0.25f, 0.125f, 0.0625f, 0.0625f}, full[4] = {0.5f, 0.25f, 0.125f, 0.125f};
    float h1, h2;
    ss_row_entropy_nats(half, 1, 4, &h1);
    ss_row_entropy_nats(full, 1, 4, &h2);
    CHECK_NEAR(h1, h2, 1e-7);
    CHECK_NEAR(h2, 0.5 * log(2.0) + 0.25 * log(4.0) + 0.25 * log(8.0), 1e-6);

    for (int trial = 0; trial < 50; trial++) {
        int rows = irand(1, 8), n = irand(1, 40);
        float *A = malloc((size_t)rows * n * sizeof *A), *Hr = malloc((size_t)rows * sizeof *Hr);
        for (int e2 = 0; e2 < rows * n; e2++) {
            double u = urand();
            A[e2] = (float)(u < 0.3 ? 0.0 : u < 0.5 ? 1e-6 * urand() : urand());
        }
        ss_row_entropy_nats(A, rows, n, Hr);
        for (int i = 0; i < rows; i++) CHECK_NEAR(Hr[i], naive_entropy(A + i * n, n), 1e-6);
        free(A);
        free(Hr);
    }
}

int main(void)
{
    test_percentile_and_sinks();
    test_rows();
    test_kl();
    test_entropy();
    TEST_END();
}
