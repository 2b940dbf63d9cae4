/* test_reference.c: the reference-token detector (b2) and the reference-point influence (b3) on hand-computed
 * cases, invariances, and randomized cross-checks against naive code written here.
 *
 * Detector cases (tau = 0.1 strict, fallback ceil(0.1 n), cap max(1, floor(0.3 n))):
 *   n = 10, s = [.5 .05 .2 .05 0.1f .05 .05 .05 .05 0]: T = {0, 2} (0.1f is not > 0.1f) -> R = {0, 2}
 *   n = 25, all .04 but s7 = .09, s3 = s5 = s11 = .08: T empty; ceil(2.5) = 3 -> {7, then 3 and 5 of the tied .08s
 *           (lowest indices)} = {3, 5, 7}; with the notebook's floor(2.5) = 2 -> {3, 7}
 *   n = 10, every s > .1: cap floor(3) = 3 keeps the three largest; all equal -> {0, 1, 2}
 *   causal star A[i][0] = 1: r = alpha = e_0 -> R = {0}
 *   half star (n = 16): A[0][0] = 1, A[i][0] = A[i][i] = .5 (i >= 1):
 *     r_0 = (1 + 15/2)/16 = .53125, r_j = .5/16 = .03125 -> R(r) = {0}
 *     alpha_0 = .53125, alpha_j = .5/(16 - j): > .1 iff j >= 12 (alpha_11 = .1 exactly is not) ->
 *     T = {0, 12, 13, 14, 15}, cap floor(4.8) = 4 drops alpha_12 = .125 -> R(alpha) = {0, 13, 14, 15};
 *     with the candidates of ss_key_candidates(16, causal, 4) = 13 (keys 0..12): R = {0, 12}.
 * Influence geometry (R = {0}, z_0 = (1,0), z_1 = (-1,1), z_2 = (-3,0)):
 *   row [.5 .5 0]: rho = (.5, 0), t = (0, .5): orthogonal -> DI = .5, RM = |rho|/|t| = 1, IC = .5
 *   row [.5 0 .5]: rho = (.5, 0), t = (-1, 0): opposite -> DI = 0, RM = .5, IC = .5 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "sink.h"
#include "test_util.h"

static unsigned g_rng = 12345u;
static double urand(void)
{
    g_rng = g_rng * 1664525u + 1013904223u;
    return (double)(g_rng >> 8) / 16777216.0;
}
static int irand(int lo, int hi) /* inclusive */
{
    return lo + (int)(urand() * (hi - lo + 1));
}

static int same_set(const int *R, int k, const int *want, int k_want)
{
    if (k != k_want) return 0;
    for (int r = 0; r < k; r++)
        if (R[r] != want[r]) return 0;
    return 1;
}

/* Naive detector: rank of j = number of candidates strictly before it in (score desc, index asc); R = ranks < k. */
static int naive_reference(const float *s, int n, int m, int floor_mode, int *R)
{
    if (m > n) m = n;
    if (m <= 0) return 0;
    int above = 0;
    for (int j = 0; j < m; j++)
        if (s[j] > 0.1f) above++;
    int k = above;
    if (k == 0) {
        k = floor_mode ? (int)floor(0.1 * n) : (int)ceil(0.1 * n);
        if (k < 1) k = 1;
    }
    int cap = (int)floor(0.3 * n);
    if (cap < 1) cap = 1;
    if (k > cap) k = cap;
    if (k > m) k = m;
    int cnt = 0;
    for (int j = 0; j < m; j++) {
        int rank = 0;
        for (int l = 0; l < m; l++)
            if (s[l] > s[j] || (s[l] == s[j] && l < j)) rank++;
        if (rank < k) R[cnt++] = j;
    }
    return cnt;
}

static void test_detector(void)
{
    int R[64];
    float s1[10] = {0.5f, 0.05f, 0.2f, 0.05f, 0.1f, 0.05f, 0.05f, 0.05f, 0.05f, 0.0f};
    int k = ss_reference_tokens(s1, 10, 10, NULL, R);
    CHECK(same_set(R, k, (int[]){0, 2}, 2));

    float s2[25];
    for (int j = 0; j < 25; j++) s2[j] = 0.04f;
    s2[7] = 0.09f;
    s2[3] = s2[5] = s2[11] = 0.08f;
    k = ss_reference_tokens(s2, 25, 25, NULL, R);
    CHECK(same_set(R, k, (int[]){3, 5, 7}, 3));
    ss_reftok_params nb = SS_REFTOK_DEFAULTS;
    nb.fallback_floor = 1;
    k = ss_reference_tokens(s2, 25, 25, &nb, R);
    CHECK(same_set(R, k, (int[]){3, 7}, 2));

    float s3[10] = {0.2f, 0.9f, 0.3f, 0.2f, 0.15f, 0.2f, 0.5f, 0.11f, 0.12f, 0.2f};
    k = ss_reference_tokens(s3, 10, 10, NULL, R);
    CHECK(same_set(R, k, (int[]){1, 2, 6}, 3));
    for (int j = 0; j < 10; j++) s3[j] = 0.2f;
    k = ss_reference_tokens(s3, 10, 10, NULL, R);
    CHECK(same_set(R, k, (int[]){0, 1, 2}, 3));

    /* candidates: the big score at key 9 is not a candidate when n_candidates = 9; fallback 1 of the tied .05s */
    float s4[10];
    for (int j = 0; j < 10; j++) s4[j] = 0.05f;
    s4[9] = 0.9f;
    k = ss_reference_tokens(s4, 10, 9, NULL, R);
    CHECK(same_set(R, k, (int[]){0}, 1));
    k = ss_reference_tokens(s4, 10, 10, NULL, R);
    CHECK(same_set(R, k, (int[]){9}, 1));
    CHECK(ss_reference_tokens(s4, 10, 0, NULL, R) == 0);
    CHECK(ss_reference_tokens(s4, 0, 0, NULL, R) == 0);
    k = ss_reference_tokens(s4, 1, 5, NULL, R); /* n = 1: the one key, whatever its score */
    CHECK(same_set(R, k, (int[]){0}, 1));
    float s5[3] = {NAN, 0.05f, 0.03f}; /* NaN ranks last */
    k = ss_reference_tokens(s5, 3, 3, NULL, R);
    CHECK(same_set(R, k, (int[]){1}, 1));
    ss_reftok_params lo = SS_REFTOK_DEFAULTS;
    lo.tau = 0.04; /* strict: the .04 keys of s2 stay out, everything above goes in, cap floor(7.5) = 7 */
    k = ss_reference_tokens(s2, 25, 25, &lo, R);
    CHECK(same_set(R, k, (int[]){3, 5, 7, 11}, 4));

    /* causal stars, scored with the sink kernels */
    enum { N = 16 };
    static float A[N][N];
    float r[N], alpha[N];
    memset(A, 0, sizeof A);
    for (int i = 0; i < N; i++) A[i][0] = 1.0f;
    ss_column_mean(&A[0][0], N, r);
    ss_column_importance(&A[0][0], N, 1, alpha);
    k = ss_reference_tokens(r, N, N, NULL, R);
    CHECK(same_set(R, k, (int[]){0}, 1));
    k = ss_reference_tokens(alpha, N, N, NULL, R);
    CHECK(same_set(R, k, (int[]){0}, 1));
    memset(A, 0, sizeof A);
    A[0][0] = 1.0f;
    for (int i = 1; i < N; i++) A[i][0] = A[i][i] = 0.5f;
    ss_column_mean(&A[0][0], N, r);
    ss_column_importance(&A[0][0], N, 1, alpha);
    k = ss_reference_tokens(r, N, N, NULL, R);
    CHECK(same_set(R, k, (int[]){0}, 1));
    k = ss_reference_tokens(alpha, N, N, NULL, R);
    CHECK(same_set(R, k, (int[]){0, 13, 14, 15}, 4));
    int m = ss_key_candidates(N, 1, 4);
    CHECK(m == 13);
    k = ss_reference_tokens(alpha, N, m, NULL, R);
    CHECK(same_set(R, k, (int[]){0, 12}, 2));

    /* randomized against the naive ranking; scores on a coarse grid so that ties and tau itself occur */
    for (int trial = 0; trial < 400; trial++) {
        int n = irand(1, 60), mc = irand(0, n + 2), fm = trial & 1;
        float s[64];
        int Rn[64];
        for (int j = 0; j < n; j++) s[j] = (float)(0.02 * irand(0, trial % 3 == 0 ? 4 : 12));
        ss_reftok_params p = SS_REFTOK_DEFAULTS;
        p.fallback_floor = fm;
        k = ss_reference_tokens(s, n, mc, &p, R);
        int kn = naive_reference(s, n, mc, fm, Rn);
        CHECK_MSG(same_set(R, k, Rn, kn), "trial %d n %d m %d: %d vs %d keys", trial, n, mc, k, kn);
    }
}

/* Naive b3: normalise A into a double matrix, then full products; rho from a copy with non-R columns zeroed. */
static void naive_influence(const float *A, int n, const float *z, int dz, const int *R, int n_R, double *RM,
                            double *DI, double *IC)
{
    double *a = calloc((size_t)n * n, sizeof *a), *aR = calloc((size_t)n * n, sizeof *aR);
    for (int i = 0; i < n; i++) {
        double s = 0.0;
        for (int j = 0; j < n; j++) s += A[i * n + j];
        for (int j = 0; j < n; j++) a[i * n + j] = s > 0.0 ? A[i * n + j] / s : 0.0;
        for (int r = 0; r < n_R; r++) aR[i * n + R[r]] = a[i * n + R[r]];
    }
    for (int i = 0; i < n; i++) {
        int isref = 0;
        for (int r = 0; r < n_R; r++) isref |= R[r] == i;
        RM[i] = DI[i] = IC[i] = NAN;
        if (isref) continue;
        double tt = 0.0, rr = 0.0, rt = 0.0;
        for (int c = 0; c < dz; c++) {
            double t = 0.0, rho = 0.0;
            for (int j = 0; j < n; j++) {
                t += a[i * n + j] * z[j * dz + c];
                rho += aR[i * n + j] * z[j * dz + c];
            }
            tt += t * t;
            rr += rho * rho;
            rt += rho * t;
        }
        if (tt == 0.0) continue;
        RM[i] = fmin(1.0, sqrt(rr / tt));
        DI[i] = rr > 0.0 ? (rt / sqrt(rr * tt) + 1.0) / 2.0 : 0.5;
        IC[i] = fmin(sqrt(rr), 1e6);
    }
    free(a);
    free(aR);
}

static void test_influence(void)
{
    double RM[32], DI[32], IC[32];
    ss_ref_influence_stats st;

    /* all attention on R = {0}: rho = t = z_0 -> RM = 1, DI = 1, IC = |z_0| = 3; row 1 unnormalised */
    float A1[4][4] = {{1, 0, 0, 0}, {2, 0, 0, 0}, {1, 0, 0, 0}, {1, 0, 0, 0}};
    float z1[4][3] = {{1, 2, 2}, {5, -1, 0}, {0, 0, 7}, {-3, 4, 1}};
    int R0[1] = {0};
    CHECK(ss_reference_influence(&A1[0][0], 4, &z1[0][0], 3, 3, R0, 1, RM, DI, IC, &st) == 0);
    CHECK(isnan(RM[0]) && isnan(DI[0]) && isnan(IC[0])); /* C9: the reference query is out */
    for (int i = 1; i < 4; i++) {
        CHECK_NEAR(RM[i], 1.0, 1e-12);
        CHECK_NEAR(DI[i], 1.0, 1e-12);
        CHECK_NEAR(IC[i], 3.0, 1e-12);
    }
    CHECK(st.n_entered == 3 && st.n_reference == 1 && st.n_degenerate == 0);
    CHECK_NEAR(st.rm_mean, 1.0, 1e-12);
    CHECK_NEAR(st.di_mean, 1.0, 1e-12);
    CHECK_NEAR(st.ic_mean, 3.0, 1e-12);

    /* no attention on R: rho = 0 -> RM = 0, DI = 0.5 (cos with a zero vector is 0), IC = 0 */
    float A2[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0.5f, 0.5f, 0}, {0, 0.25f, 0.25f, 0.5f}};
    CHECK(ss_reference_influence(&A2[0][0], 4, &z1[0][0], 3, 3, R0, 1, RM, DI, IC, &st) == 0);
    for (int i = 1; i < 4; i++) {
        CHECK(RM[i] == 0.0);
        CHECK(DI[i] == 0.5);
        CHECK(IC[i] == 0.0);
    }
    CHECK(st.n_entered == 3 && st.rm_mean == 0.0 && st.di_mean == 0.5 && st.ic_mean == 0.0);

    /* geometry: orthogonal rho and t (DI = .5, RM = 1), opposite (DI = 0, RM = .5); row 2 unnormalised */
    float A3[3][3] = {{1, 0, 0}, {0.5f, 0.5f, 0}, {1, 0, 1}};
    float z3[3][2] = {{1, 0}, {-1, 1}, {-3, 0}};
    CHECK(ss_reference_influence(&A3[0][0], 3, &z3[0][0], 2, 2, R0, 1, RM, DI, IC, &st) == 0);
    CHECK_NEAR(DI[1], 0.5, 1e-12);
    CHECK_NEAR(RM[1], 1.0, 1e-12);
    CHECK_NEAR(IC[1], 0.5, 1e-12);
    CHECK_NEAR(DI[2], 0.0, 1e-12);
    CHECK_NEAR(RM[2], 0.5, 1e-12);
    CHECK_NEAR(IC[2], 0.5, 1e-12);
    CHECK(st.n_entered == 2);
    CHECK_NEAR(st.rm_mean, 0.75, 1e-12);
    CHECK_NEAR(st.di_mean, 0.25, 1e-12);
    CHECK_NEAR(st.ic_mean, 0.5, 1e-12);
    /* ld_z: the same vectors inside a wider buffer give the same answer */
    float z3w[3][5] = {{1, 0, 9, 9, 9}, {-1, 1, 9, 9, 9}, {-3, 0, 9, 9, 9}};
    double RMw[3], DIw[3], ICw[3];
    CHECK(ss_reference_influence(&A3[0][0], 3, &z3w[0][0], 2, 5, R0, 1, RMw, DIw, ICw, NULL) == 0);
    for (int i = 1; i < 3; i++) CHECK(RMw[i] == RM[i] && DIw[i] == DI[i] && ICw[i] == IC[i]);

    /* degenerate queries: t = 0 (attends only to a zero vector) and a row with no mass -> NaN, not in the means */
    float A4[4][4] = {{1, 0, 0, 0}, {0.5f, 0.5f, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 0}};
    float z4[4][2] = {{1, 0}, {0, 1}, {0, 0}, {2, 2}};
    CHECK(ss_reference_influence(&A4[0][0], 4, &z4[0][0], 2, 2, R0, 1, RM, DI, IC, &st) == 0);
    CHECK(isnan(RM[2]) && isnan(DI[2]) && isnan(IC[2]) && isnan(RM[3]));
    CHECK(st.n_entered == 1 && st.n_reference == 1 && st.n_degenerate == 2);
    CHECK_NEAR(st.rm_mean, sqrt(0.5), 1e-12); /* row 1: rho = (.5, 0), t = (.5, .5) */
    CHECK_NEAR(st.di_mean, (sqrt(0.5) + 1.0) / 2.0, 1e-12);
    /* every query in R: nothing enters, the means are NaN */
    int Rall[4] = {3, 1, 0, 2};
    CHECK(ss_reference_influence(&A4[0][0], 4, &z4[0][0], 2, 2, Rall, 4, NULL, NULL, NULL, &st) == 0);
    CHECK(st.n_entered == 0 && st.n_reference == 4 && isnan(st.rm_mean) && isnan(st.di_mean));

    /* randomized: causal rows, random R; naive cross-check, scale and rotation invariance, row scaling */
    for (int trial = 0; trial < 60; trial++) {
        int n = irand(2, 24), dz = irand(1, 9), causal = trial & 1;
        float *A = calloc((size_t)n * n, sizeof *A), *z = malloc((size_t)n * dz * sizeof *z);
        float *z8 = malloc((size_t)n * dz * sizeof *z8), *zp = malloc((size_t)n * dz * sizeof *zp);
        float *As = malloc((size_t)n * n * sizeof *As);
        for (int i = 0; i < n; i++) {
            double s = 0.0;
            for (int j = 0; j <= (causal ? i : n - 1); j++) s += (A[i * n + j] = (float)(urand() * urand()));
            for (int j = 0; j < n; j++) A[i * n + j] = (float)(A[i * n + j] / s);
        }
        for (int e = 0; e < n * dz; e++) {
            z[e] = (float)(4.0 * urand() - 2.0);
            z8[e] = 8.0f * z[e];
        }
        /* a signed permutation of the coordinates (orthogonal): (x_0..x_{d-1}) -> (-x_{d-1}, x_0, ..., x_{d-2}) */
        for (int j = 0; j < n; j++)
            for (int c = 0; c < dz; c++) zp[j * dz + c] = c == 0 ? -z[j * dz + dz - 1] : z[j * dz + c - 1];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) As[i * n + j] = A[i * n + j] * (float)(1 + i % 3);
        int R[32], n_R = irand(1, n / 2 + 1);
        int used[32] = {0};
        for (int r = 0; r < n_R;) {
            int j = irand(0, n - 1);
            if (!used[j]) {
                used[j] = 1;
                R[r++] = j;
            }
        }
        double nRM[32], nDI[32], nIC[32], b[3][32];
        naive_influence(A, n, z, dz, R, n_R, nRM, nDI, nIC);
        CHECK(ss_reference_influence(A, n, z, dz, dz, R, n_R, RM, DI, IC, &st) == 0);
        int entered = 0;
        double sum_rm = 0.0;
        for (int i = 0; i < n; i++) {
            CHECK(isnan(RM[i]) == isnan(nRM[i]));
            if (isnan(nRM[i])) continue;
            entered++;
            sum_rm += nRM[i];
            CHECK_NEAR(RM[i], nRM[i], 1e-9);
            CHECK_NEAR(DI[i], nDI[i], 1e-9);
            CHECK_NEAR(IC[i], nIC[i], 1e-9);
        }
        CHECK(st.n_entered == entered && st.n_reference == n_R && st.n_degenerate == n - n_R - entered);
        if (entered) CHECK_NEAR(st.rm_mean, sum_rm / entered, 1e-9);
        CHECK(ss_reference_influence(A, n, z8, dz, dz, R, n_R, b[0], b[1], b[2], NULL) == 0);
        for (int i = 0; i < n; i++) {
            if (isnan(RM[i])) continue;
            CHECK_NEAR(b[0][i], RM[i], 1e-12);
            CHECK_NEAR(b[1][i], DI[i], 1e-12);
            CHECK_NEAR(b[2][i], 8.0 * IC[i], 1e-9);
        }
        CHECK(ss_reference_influence(A, n, zp, dz, dz, R, n_R, b[0], b[1], b[2], NULL) == 0);
        for (int i = 0; i < n; i++) {
            if (isnan(RM[i])) continue;
            CHECK_NEAR(b[0][i], RM[i], 1e-12);
            CHECK_NEAR(b[1][i], DI[i], 1e-12);
            CHECK_NEAR(b[2][i], IC[i], 1e-12);
        }
        CHECK(ss_reference_influence(As, n, z, dz, dz, R, n_R, b[0], b[1], b[2], NULL) == 0);
        for (int i = 0; i < n; i++) {
            if (isnan(RM[i])) continue;
            CHECK_NEAR(b[0][i], RM[i], 1e-6);
            CHECK_NEAR(b[1][i], DI[i], 1e-6);
            CHECK_NEAR(b[2][i], IC[i], 1e-6);
        }
        free(A);
        free(z);
        free(z8);
        free(zp);
        free(As);
    }
}

static void test_head_output(void)
{
    /* H = 3 heads of d_h = 2, d_model = 4, head h = 1. W_O's head-1 columns are [I_2; 0]: z_j = (v_j, 0, 0). */
    enum { H = 3, DH = 2, DM = 4, N = 3 };
    float W[DM][H * DH];
    for (int r = 0; r < DM; r++)
        for (int c = 0; c < H * DH; c++) W[r][c] = 100.0f + (float)(r * 10 + c); /* other heads: large junk */
    for (int r = 0; r < DM; r++)
        for (int c = 0; c < DH; c++) W[r][DH + c] = (r == c) ? 1.0f : 0.0f;
    float vf[N][H * DH]; /* fused values [n][H*d_h]; head 1 in columns 2..3 */
    for (int j = 0; j < N; j++)
        for (int c = 0; c < H * DH; c++) vf[j][c] = (float)(j + 1) * (c % 2 ? -1.0f : 0.5f) + (float)c;
    float z[N][DM];
    ss_head_output_vectors(&vf[0][DH], N, DH, H * DH, &W[0][0], DM, H, 1, &z[0][0]);
    for (int j = 0; j < N; j++) {
        CHECK(z[j][0] == vf[j][DH] && z[j][1] == vf[j][DH + 1]);
        CHECK(z[j][2] == 0.0f && z[j][3] == 0.0f);
    }

    /* random W_O and v: against an explicit slice matrix M = W_O[:, h*d_h:(h+1)*d_h] times v (column by column) */
    for (int trial = 0; trial < 20; trial++) {
        int Hh = irand(1, 4), dh = irand(1, 5), dm = irand(1, 7), n = irand(1, 6), h = irand(0, Hh - 1);
        float *Wr = malloc((size_t)dm * Hh * dh * sizeof *Wr), *v = malloc((size_t)n * dh * sizeof *v);
        float *zz = malloc((size_t)n * dm * sizeof *zz);
        double *M = malloc((size_t)dm * dh * sizeof *M);
        for (int e = 0; e < dm * Hh * dh; e++) Wr[e] = (float)(urand() - 0.5);
        for (int e = 0; e < n * dh; e++) v[e] = (float)(urand() * 4.0 - 2.0);
        for (int r = 0; r < dm; r++)
            for (int c = 0; c < dh; c++) M[r * dh + c] = Wr[(long)r * Hh * dh + h * dh + c];
        ss_head_output_vectors(v, n, dh, dh, Wr, dm, Hh, h, zz);
        for (int j = 0; j < n; j++) {
            double want[8] = {0};
            for (int c = 0; c < dh; c++)
                for (int r = 0; r < dm; r++) want[r] += M[r * dh + c] * v[j * dh + c];
            for (int r = 0; r < dm; r++) CHECK_NEAR(zz[j * dm + r], want[r], 1e-5);
        }
        free(Wr);
        free(v);
        free(zz);
        free(M);
    }
}

int main(void)
{
    test_detector();
    test_influence();
    test_head_output();
    TEST_END();
}
