/* test_geometry.c: hidden-state geometry, the q/k decomposition (b12) and the attention–geometry
 * correlations (b10, C10) on constructed inputs whose answers are known exactly.
 *
 * Hand values (derivations beside each check):
 * - Pearson: (1,2,3,4) vs (1,3,2,4): deviations (-1.5,-.5,.5,1.5) and (-1.5,.5,-.5,1.5), Σxy = 4, Σx² = Σy² = 5 -> 0.8.
 * - Anisotropy: orthonormal rows -> every cosine 0 -> 0; identical rows -> 1; two rows at 60° -> 0.5.
 * - Effective rank: singular values all 1 (identity n x n) -> p_k = 1/n -> exp(ln n) = n; rank 1 -> p = (1, 0..) -> 1;
 *   the centred identity I - 11ᵀ/n is a projector of rank n-1 -> n-1; singular values (2, 1, 1) -> p = (1/2, 1/4, 1/4),
 *   entropy 1.5 ln 2 -> 2^1.5.
 * - q/k (d_h = 2, n = 4): k = (0.5,0), (0,2), (1,√3), (0,-2) (norms 0.5, 2, 2, 2; angles to e1 0°, 90°, 60°, 270°),
 *   q_t = (t+1, 0). Causal, s = 0: Q = {1,2,3}, cos(q_t, k_0) = 1; K(1) = {1}: 0; K(2) = {1,2}: (0 + 1/2)/2 = 1/4;
 *   K(3) = {1,2,3}: 1/6 -> cos_other = (0 + 1/4 + 1/6)/3 = 5/36; ‖k_0‖ ratio = 0.5/2 = 1/4; mean ‖q_t‖ = (2+3+4)/3 = 3.
 *   Bidirectional, s = 0: every K(t) = {1,2,3} -> 1/6. Causal, s = 2: Q = {3}, cos(q_3, k_2) = 1/2, K(3) = {0,1,3}
 *   -> (1 + 0 + 0)/3; ‖k_2‖ ratio = 2/((0.5+2+2)/3) = 4/3.
 * - PCA: A = c·H·Q + 1·bᵀ with Q [d][n] orthonormal rows. Centring removes 1·bᵀ, so A_c = c·H_c·Q and
 *   A_c A_cᵀ = c² H_c H_cᵀ: the same left singular vectors, singular values times c, the same order. The PC scores
 *   (σ_k u_k) are then proportional, |r_k| = 1, mean 1. A general invertible map does not preserve PCs: with
 *   H = [3w1, 2w2, w3] (w orthonormal, zero-mean Walsh vectors) and A = H·diag(1, 2, 6) (padded), A's columns have
 *   norms 3, 4, 6, so A's PC order is w3, w2, w1 against H's w1, w2, w3: |r| = (0, 1, 0), mean 1/3. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geometry.h"
#include "test_util.h"

static uint64_t g_rng = 0x2545F4914F6CDD1Dull;

static double uniform01(void)
{
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double normal01(void)
{
    return sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01());
}

static void fill_normal(float *x, int count)
{
    for (int e = 0; e < count; e++) x[e] = (float)normal01();
}

/* Pearson by the one-pass textbook formula in long double (a second, independent computation). */
static double naive_pearson(const double *x, const double *y, int n)
{
    long double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        sx += x[i];
        sy += y[i];
        sxx += (long double)x[i] * x[i];
        syy += (long double)y[i] * y[i];
        sxy += (long double)x[i] * y[i];
    }
    long double num = n * sxy - sx * sy, den = sqrtl((n * sxx - sx * sx) * (n * syy - sy * sy));
    return (double)(num / den);
}

static double naive_cos(const float *a, const float *b, int d)
{
    long double ab = 0, aa = 0, bb = 0;
    for (int c = 0; c < d; c++) {
        ab += (long double)a[c] * b[c];
        aa += (long double)a[c] * a[c];
        bb += (long double)b[c] * b[c];
    }
    return (double)(ab / sqrtl(aa * bb));
}

/* Householder reflection I - 2wwᵀ/‖w‖² of size m (orthogonal, symmetric), w random. O: [m][m] doubles. */
static void householder(double *O, int m)
{
    double w[64], ww = 0;
    for (int i = 0; i < m; i++) {
        w[i] = normal01();
        ww += w[i] * w[i];
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++) O[i * m + j] = (i == j) - 2.0 * w[i] * w[j] / ww;
}

static double erank_from(const double *s, int r)
{
    double t = 0, e = 0;
    for (int k = 0; k < r; k++) t += s[k];
    for (int k = 0; k < r; k++)
        if (s[k] > 0) e -= s[k] / t * log(s[k] / t);
    return exp(e);
}

static void test_pearson_and_norms(void)
{
    const double a[4] = {1, 2, 3, 4}, b[4] = {1, 3, 2, 4}, twice[4] = {2, 4, 6, 8}, rev[4] = {4, 3, 2, 1};
    const double flat[4] = {5, 5, 5, 5};
    CHECK_NEAR(ss_pearson(a, b, 4), 0.8, 1e-15);
    CHECK_NEAR(ss_pearson(a, twice, 4), 1.0, 1e-15);
    CHECK_NEAR(ss_pearson(a, rev, 4), -1.0, 1e-15);
    CHECK(isnan(ss_pearson(a, flat, 4)));
    CHECK(isnan(ss_pearson(a, b, 1)));
    const float af[4] = {1, 2, 3, 4}, bf[4] = {1, 3, 2, 4};
    CHECK_NEAR(ss_pearson_f(af, bf, 4), 0.8, 1e-15);
    /* randomized cross-check, with an offset that stresses a one-pass formula */
    for (int trial = 0; trial < 20; trial++) {
        int n = 2 + trial * 7;
        double x[200], y[200];
        float xf[200], yf[200];
        for (int i = 0; i < n; i++) {
            xf[i] = (float)(10.0 + normal01());
            yf[i] = (float)(0.5 * xf[i] + normal01());
            x[i] = xf[i];
            y[i] = yf[i];
        }
        double want = naive_pearson(x, y, n);
        CHECK_NEAR(ss_pearson(x, y, n), want, 1e-9);
        CHECK_NEAR(ss_pearson_f(xf, yf, n), want, 1e-9);
    }

    /* norms and cosines */
    const float h[4][2] = {{1, 0}, {1, 1}, {0, 2}, {-3, 0}};
    double nrm[4], cs[4];
    ss_row_norms(&h[0][0], 4, 2, nrm);
    CHECK_NEAR(nrm[1], sqrt(2.0), 1e-15);
    CHECK_NEAR(nrm[3], 3.0, 0);
    ss_cos_to_anchor(&h[0][0], 4, 2, 0, cs);
    CHECK_NEAR(cs[0], 1.0, 1e-15); /* the anchor itself */
    CHECK_NEAR(cs[1], 1.0 / sqrt(2.0), 1e-15);
    CHECK_NEAR(cs[2], 0.0, 0);
    CHECK_NEAR(cs[3], -1.0, 1e-15);
    ss_cos_to_anchor(&h[0][0], 4, 2, 2, cs);
    CHECK_NEAR(cs[2], 1.0, 1e-15);
    CHECK_NEAR(cs[1], 1.0 / sqrt(2.0), 1e-15);
    const float z[2] = {0, 0};
    CHECK(ss_cosine(h[0], z, 2) == 0.0); /* zero vector: cos = 0 by convention */
    /* norm ratio: norms 1, √2, 2, 3 -> s = 0: 1 / ((√2+2+3)/3); s = 3: 3 / ((1+√2+2)/3) */
    CHECK_NEAR(ss_norm_ratio(&h[0][0], 4, 2, 0), 3.0 / (sqrt(2.0) + 5.0), 1e-15);
    CHECK_NEAR(ss_norm_ratio(&h[0][0], 4, 2, 3), 9.0 / (3.0 + sqrt(2.0)), 1e-15);
    CHECK(isnan(ss_norm_ratio(&h[0][0], 1, 2, 0)));
    /* randomized: norms and cosines against long-double loops */
    enum { RN = 9, RD = 33 };
    float r[RN * RD];
    fill_normal(r, RN * RD);
    double rn[RN], rc[RN];
    ss_row_norms(r, RN, RD, rn);
    ss_cos_to_anchor(r, RN, RD, 4, rc);
    for (int i = 0; i < RN; i++) {
        long double s = 0;
        for (int c = 0; c < RD; c++) s += (long double)r[i * RD + c] * r[i * RD + c];
        CHECK_NEAR(rn[i], (double)sqrtl(s), 1e-12);
        CHECK_NEAR(rc[i], naive_cos(r + i * RD, r + 4 * RD, RD), 1e-12);
    }
}

static void test_anisotropy_and_erank(void)
{
    double v;
    /* orthonormal rows: the identity, and the rows of a reflection */
    float I5[25] = {0}, R[25], same[5 * 3];
    for (int i = 0; i < 5; i++) I5[i * 5 + i] = 1;
    double O[25];
    householder(O, 5);
    for (int e = 0; e < 25; e++) R[e] = (float)O[e];
    CHECK(ss_anisotropy(I5, 5, 5, &v) == 0);
    CHECK_NEAR(v, 0.0, 1e-15);
    CHECK(ss_anisotropy(R, 5, 5, &v) == 0);
    CHECK_NEAR(v, 0.0, 1e-6); /* fp32 rounding of the rows */
    for (int i = 0; i < 5; i++) {
        same[i * 3 + 0] = 1.5f;
        same[i * 3 + 1] = -2;
        same[i * 3 + 2] = 0.25f;
    }
    CHECK(ss_anisotropy(same, 5, 3, &v) == 0);
    CHECK_NEAR(v, 1.0, 1e-12);
    const float sixty[2][2] = {{2, 0}, {0.5f, 0.8660254037844386f}};
    CHECK(ss_anisotropy(&sixty[0][0], 2, 2, &v) == 0);
    CHECK_NEAR(v, 0.5, 1e-7);
    CHECK(ss_anisotropy(&sixty[0][0], 1, 2, &v) == 0 && isnan(v));
    /* randomized: against the pair loop, with a shared offset so the mean cosine is far from 0 */
    enum { RN = 12, RD = 20 };
    float h[RN * RD];
    for (int trial = 0; trial < 5; trial++) {
        fill_normal(h, RN * RD);
        for (int e = 0; e < RN * RD; e++) h[e] += (float)(0.5 * trial) * (e % RD == 0);
        double sum = 0;
        for (int i = 0; i < RN; i++)
            for (int j = i + 1; j < RN; j++) sum += naive_cos(h + i * RD, h + j * RD, RD);
        CHECK(ss_anisotropy(h, RN, RD, &v) == 0);
        CHECK_NEAR(v, sum / (RN * (RN - 1) / 2), 1e-12);
    }

    /* effective rank */
    enum { N = 6 };
    float Id[N * N] = {0};
    for (int i = 0; i < N; i++) Id[i * N + i] = 1;
    CHECK(ss_effective_rank(Id, N, N, 0, &v) == 0);
    CHECK_NEAR(v, (double)N, 1e-12);
    CHECK(ss_effective_rank(Id, N, N, 1, &v) == 0); /* centred: projector of rank N-1 */
    CHECK_NEAR(v, (double)(N - 1), 1e-9);
    float r1[N * 7]; /* u vᵀ */
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 7; c++) r1[i * 7 + c] = (float)((i + 1) * (c - 3.5));
    CHECK(ss_effective_rank(r1, N, 7, 0, &v) == 0);
    CHECK_NEAR(v, 1.0, 1e-9);
    const float d211[3][3] = {{2, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    CHECK(ss_effective_rank(&d211[0][0], 3, 3, 0, &v) == 0);
    CHECK_NEAR(v, pow(2.0, 1.5), 1e-12);
    /* wide and tall: the 4 x 4 identity padded with zero columns / rows -> 4 */
    float wide[4 * 7] = {0}, tall[7 * 4] = {0};
    for (int i = 0; i < 4; i++) wide[i * 7 + i] = tall[i * 4 + i] = 1;
    CHECK(ss_effective_rank(wide, 4, 7, 0, &v) == 0);
    CHECK_NEAR(v, 4.0, 1e-12);
    CHECK(ss_effective_rank(tall, 7, 4, 0, &v) == 0);
    CHECK_NEAR(v, 4.0, 1e-12);
    float zero[6] = {0};
    CHECK(ss_effective_rank(zero, 2, 3, 0, &v) == 0 && isnan(v));
    /* known singular values: h = diag(s)·Q (rows of a reflection, orthonormal) has singular values s exactly;
     * invariant under row permutation and scaling */
    const double s[5] = {5, 3, 2, 0.5, 0.1};
    float hs[25], hp[25];
    for (int i = 0; i < 5; i++)
        for (int c = 0; c < 5; c++) hs[i * 5 + c] = (float)(s[i] * O[i * 5 + c]);
    CHECK(ss_effective_rank(hs, 5, 5, 0, &v) == 0);
    CHECK_NEAR(v, erank_from(s, 5), 1e-5);
    for (int i = 0; i < 5; i++)
        for (int c = 0; c < 5; c++) hp[i * 5 + c] = 3.0f * hs[((i + 2) % 5) * 5 + c];
    double vp;
    CHECK(ss_effective_rank(hp, 5, 5, 0, &vp) == 0);
    CHECK_NEAR(vp, v, 1e-6); /* 3·h rounds to fp32 */
}

static void test_qk(void)
{
    const float k[4][2] = {{0.5f, 0}, {0, 2}, {1, 1.7320508075688772f}, {0, -2}};
    const float q[4][2] = {{1, 0}, {2, 0}, {3, 0}, {4, 0}};
    const float v[4][2] = {{0, 0.1f}, {1, 0}, {2, 0}, {3, 0}};
    ss_qk_decomp o;
    ss_qk_decompose(&q[0][0], &k[0][0], &v[0][0], 4, 2, 0, 1, &o);
    CHECK(o.n_queries == 3);
    CHECK_NEAR(o.k_norm_ratio, 0.25, 1e-7);
    CHECK_NEAR(o.v_norm_ratio, 0.1 / 2.0, 1e-8); /* norms 0.1f, 1, 2, 3 */
    CHECK_NEAR(o.cos_sink, 1.0, 1e-15);
    CHECK_NEAR(o.cos_other, 5.0 / 36.0, 1e-7);
    CHECK_NEAR(o.q_norm_mean, 3.0, 1e-15);
    ss_qk_decompose(&q[0][0], &k[0][0], &v[0][0], 4, 2, 0, 0, &o);
    CHECK(o.n_queries == 3);
    CHECK_NEAR(o.cos_sink, 1.0, 1e-15);
    CHECK_NEAR(o.cos_other, 1.0 / 6.0, 1e-7);
    ss_qk_decompose(&q[0][0], &k[0][0], &v[0][0], 4, 2, 2, 1, &o);
    CHECK(o.n_queries == 1);
    CHECK_NEAR(o.k_norm_ratio, 4.0 / 3.0, 1e-7);
    CHECK_NEAR(o.cos_sink, 0.5, 1e-7);
    CHECK_NEAR(o.cos_other, 1.0 / 3.0, 1e-7);
    CHECK_NEAR(o.q_norm_mean, 4.0, 1e-15);
    ss_qk_decompose(&q[0][0], &k[0][0], &v[0][0], 4, 2, 2, 0, &o); /* Q = {0,1,3}: mean ‖q‖ = 7/3 */
    CHECK(o.n_queries == 3);
    CHECK_NEAR(o.cos_sink, 0.5, 1e-7);
    CHECK_NEAR(o.cos_other, 1.0 / 3.0, 1e-7);
    CHECK_NEAR(o.q_norm_mean, 7.0 / 3.0, 1e-15);
    ss_qk_decompose(&q[0][0], &k[0][0], &v[0][0], 4, 2, 3, 1, &o); /* the last key: no query after it */
    CHECK(o.n_queries == 0 && isnan(o.cos_sink) && isnan(o.cos_other) && isnan(o.q_norm_mean));

    /* invariances on random vectors: a common rotation of q and k leaves every cosine; scaling k_s by 10 leaves
     * the cosines and multiplies the key ratio by 10; and a naive recomputation of the means */
    enum { N = 10, DH = 8 };
    float qr[N * DH], kr[N * DH], vr[N * DH], qo[N * DH], ko[N * DH];
    fill_normal(qr, N * DH);
    fill_normal(kr, N * DH);
    fill_normal(vr, N * DH);
    double O[DH * DH];
    householder(O, DH);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < DH; c++) {
            double sq = 0, sk = 0;
            for (int m = 0; m < DH; m++) sq += O[c * DH + m] * qr[i * DH + m], sk += O[c * DH + m] * kr[i * DH + m];
            qo[i * DH + c] = (float)sq;
            ko[i * DH + c] = (float)sk;
        }
    for (int causal = 0; causal <= 1; causal++) {
        ss_qk_decomp a, b;
        ss_qk_decompose(qr, kr, vr, N, DH, 0, causal, &a);
        ss_qk_decompose(qo, ko, vr, N, DH, 0, causal, &b);
        CHECK_NEAR(a.cos_sink, b.cos_sink, 1e-6);
        CHECK_NEAR(a.cos_other, b.cos_other, 1e-6);
        CHECK_NEAR(a.q_norm_mean, b.q_norm_mean, 1e-5);
        double sink = 0, other = 0;
        for (int t = 1; t < N; t++) {
            sink += naive_cos(qr + t * DH, kr, DH);
            double acc = 0;
            int last = causal ? t : N - 1;
            for (int j = 1; j <= last; j++) acc += naive_cos(qr + t * DH, kr + j * DH, DH);
            other += acc / last;
        }
        CHECK_NEAR(a.cos_sink, sink / (N - 1), 1e-12);
        CHECK_NEAR(a.cos_other, other / (N - 1), 1e-12);
        float ks[N * DH];
        memcpy(ks, kr, sizeof ks);
        for (int c = 0; c < DH; c++) ks[c] *= 10.0f;
        ss_qk_decompose(qr, ks, vr, N, DH, 0, causal, &b);
        CHECK_NEAR(b.cos_sink, a.cos_sink, 1e-7); /* 10·k_s rounds to fp32 */
        CHECK_NEAR(b.cos_other, a.cos_other, 1e-12);
        CHECK_NEAR(b.k_norm_ratio, 10.0 * a.k_norm_ratio, 1e-6);
    }
}

static void test_magnitude(void)
{
    const float pre[2][2] = {{0, 0}, {1, 1}}, post[2][2] = {{3, 4}, {1, 2}};
    double M[2];
    ss_transformation_magnitude(&pre[0][0], &post[0][0], 2, 2, 0, M);
    CHECK(M[0] == 5.0 && M[1] == 1.0);
    ss_transformation_magnitude(&pre[0][0], &post[0][0], 2, 2, 1, M); /* all |h| <= 1e3: no change */
    CHECK(M[0] == 5.0 && M[1] == 1.0);
    /* authors_compat: max |h| = 2000 -> scale 1/2. Row 0: (-2000,0) -> (2000,0): scaled diff 2000, clipped to 1000.
     * Row 1: (0,0) -> (300,400): 500 plain, 250 scaled */
    const float pre2[2][2] = {{-2000, 0}, {0, 0}}, post2[2][2] = {{2000, 0}, {300, 400}};
    ss_transformation_magnitude(&pre2[0][0], &post2[0][0], 2, 2, 0, M);
    CHECK(M[0] == 4000.0 && M[1] == 500.0);
    ss_transformation_magnitude(&pre2[0][0], &post2[0][0], 2, 2, 1, M);
    CHECK(M[0] == 1000.0 && M[1] == 250.0);
    /* randomized against a naive loop; entropy = 2M + 1 -> r = 1, = -M -> -1 */
    enum { N = 11, D = 17 };
    float a[N * D], b[N * D], ent[N];
    fill_normal(a, N * D);
    fill_normal(b, N * D);
    double Mr[N];
    ss_transformation_magnitude(a, b, N, D, 0, Mr);
    for (int i = 0; i < N; i++) {
        long double s = 0;
        for (int c = 0; c < D; c++) {
            long double df = (long double)b[i * D + c] - (long double)a[i * D + c];
            s += df * df;
        }
        CHECK_NEAR(Mr[i], (double)sqrtl(s), 1e-12);
        ent[i] = (float)(2.0 * Mr[i] + 1.0);
    }
    CHECK_NEAR(ss_entropy_magnitude_r(ent, Mr, N), 1.0, 1e-6);
    for (int i = 0; i < N; i++) ent[i] = (float)-Mr[i];
    CHECK_NEAR(ss_entropy_magnitude_r(ent, Mr, N), -1.0, 1e-6);
    double ed[N];
    for (int i = 0; i < N; i++) ed[i] = ent[i] = (float)normal01();
    CHECK_NEAR(ss_entropy_magnitude_r(ent, Mr, N), naive_pearson(ed, Mr, N), 1e-9);
}

static void test_alignment(void)
{
    enum { N = 7, D = 5 };
    float h[N * D], A[N * N], B[N * N];
    fill_normal(h, N * D);
    double cs[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) cs[i][j] = naive_cos(h + i * D, h + j * D, D);
    double r, r2;
    /* causal: A_ij = 0.3 + 0.2 cos_ij for j < i, junk on and above the diagonal */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) A[i * N + j] = j < i ? (float)(0.3 + 0.2 * cs[i][j]) : (float)(5.0 * uniform01());
    CHECK(ss_geometric_alignment(A, h, N, D, 1, &r) == 0);
    CHECK_NEAR(r, 1.0, 1e-6);
    memcpy(B, A, sizeof B);
    for (int i = 0; i < N; i++) /* new junk at j >= i: the result must not move at all */
        for (int j = i; j < N; j++) B[i * N + j] = (float)(-3.0 * uniform01());
    CHECK(ss_geometric_alignment(B, h, N, D, 1, &r2) == 0);
    CHECK(r2 == r);
    /* C10: a decoder's matrix (zeros above the diagonal) under the off-diagonal rule mixes in the masked zeros */
    for (int i = 0; i < N; i++)
        for (int j = i; j < N; j++) B[i * N + j] = 0.0f;
    CHECK(ss_geometric_alignment(B, h, N, D, 0, &r2) == 0);
    CHECK(r2 < 0.99);
    /* bidirectional: every off-diagonal pair on the line, diagonal junk */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) A[i * N + j] = i != j ? (float)(0.3 + 0.2 * cs[i][j]) : (float)(9.0 * uniform01());
    CHECK(ss_geometric_alignment(A, h, N, D, 0, &r) == 0);
    CHECK_NEAR(r, 1.0, 1e-6);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) A[i * N + j] = i != j ? (float)(1.0 - 0.4 * cs[i][j]) : 0.0f;
    CHECK(ss_geometric_alignment(A, h, N, D, 0, &r) == 0);
    CHECK_NEAR(r, -1.0, 1e-6);
    /* randomized against the naive pair lists */
    for (int causal = 0; causal <= 1; causal++) {
        for (int e = 0; e < N * N; e++) A[e] = (float)uniform01();
        double x[N * N], y[N * N];
        int p = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                if (causal ? j < i : j != i) x[p] = A[i * N + j], y[p] = cs[i][j], p++;
        CHECK(ss_geometric_alignment(A, h, N, D, causal, &r) == 0);
        CHECK_NEAR(r, naive_pearson(x, y, p), 1e-9);
    }
    /* too few pairs: n = 2 causal has one */
    CHECK(ss_geometric_alignment(A, h, 2, D, 1, &r) == 0 && isnan(r));
}

static void test_pca(void)
{
    enum { N = 8, D = 5 };
    float h[N * D], A[N * N], P[N * N], hp[N * D];
    double rk[3], mean;
    /* similarity map plus translation: A = 2.5·H·Q + 1·bᵀ, Q = the first D rows of an N x N reflection */
    fill_normal(h, N * D);
    double O[N * N], b[N];
    householder(O, N);
    for (int j = 0; j < N; j++) b[j] = normal01();
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int c = 0; c < D; c++) s += (double)h[i * D + c] * O[c * N + j];
            A[i * N + j] = (float)(2.5 * s + b[j]);
        }
    CHECK(ss_pca_correlation(A, h, N, D, rk, &mean) == 0);
    for (int k = 0; k < 3; k++) CHECK_NEAR(rk[k], 1.0, 1e-5);
    CHECK_NEAR(mean, 1.0, 1e-5);
    /* a random A: each |r| in [0, 1]; invariant under a common permutation of the tokens and scaling of h */
    for (int e = 0; e < N * N; e++) A[e] = (float)uniform01();
    CHECK(ss_pca_correlation(A, h, N, D, rk, &mean) == 0);
    for (int k = 0; k < 3; k++) CHECK(rk[k] >= 0 && rk[k] <= 1);
    CHECK_NEAR(mean, (rk[0] + rk[1] + rk[2]) / 3, 1e-15);
    const int perm[N] = {3, 0, 7, 5, 1, 6, 2, 4};
    for (int i = 0; i < N; i++) {
        memcpy(P + i * N, A + perm[i] * N, N * sizeof(float));
        for (int c = 0; c < D; c++) hp[i * D + c] = 7.0f * h[perm[i] * D + c];
    }
    double rp[3], meanp;
    CHECK(ss_pca_correlation(P, hp, N, D, rp, &meanp) == 0);
    for (int k = 0; k < 3; k++) CHECK_NEAR(rp[k], rk[k], 1e-5);

    /* a non-similarity map reorders the components: |r| = (0, 1, 0) */
    const float w1[N] = {1, 1, 1, 1, -1, -1, -1, -1}, w2[N] = {1, 1, -1, -1, 1, 1, -1, -1},
                w3[N] = {1, -1, 1, -1, 1, -1, 1, -1};
    float H3[N * 3], A3[N * N] = {0};
    for (int i = 0; i < N; i++) {
        H3[i * 3 + 0] = 3 * w1[i];
        H3[i * 3 + 1] = 2 * w2[i];
        H3[i * 3 + 2] = 1 * w3[i];
        A3[i * N + 0] = 1 * H3[i * 3 + 0];
        A3[i * N + 1] = 2 * H3[i * 3 + 1];
        A3[i * N + 2] = 6 * H3[i * 3 + 2];
    }
    CHECK(ss_pca_correlation(A3, H3, N, 3, rk, &mean) == 0);
    CHECK_NEAR(rk[0], 0.0, 1e-9);
    CHECK_NEAR(rk[1], 1.0, 1e-9);
    CHECK_NEAR(rk[2], 0.0, 1e-9);
    CHECK_NEAR(mean, 1.0 / 3.0, 1e-9);
    /* a similarity (A = H·2, padded) keeps the order: all 1 */
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 3; c++) A3[i * N + c] = 2 * H3[i * 3 + c];
    CHECK(ss_pca_correlation(A3, H3, N, 3, rk, &mean) == 0);
    CHECK_NEAR(mean, 1.0, 1e-9);

    /* degenerate: tied singular values (w1, w2 both of norm 2√2) -> components 0 and 1 undetermined */
    for (int i = 0; i < N; i++) H3[i * 3 + 0] = 2 * w1[i];
    CHECK(ss_pca_correlation(A3, H3, N, 3, rk, &mean) == 0);
    CHECK(isnan(rk[0]) && isnan(rk[1]) && !isnan(rk[2]) && isnan(mean));
    /* uniform attention: every row equal, nothing left after centring */
    for (int e = 0; e < N * N; e++) A[e] = 1.0f / N;
    CHECK(ss_pca_correlation(A, h, N, D, rk, &mean) == 0);
    CHECK(isnan(rk[0]) && isnan(rk[1]) && isnan(rk[2]) && isnan(mean));
    /* fewer than 3 columns in h: component 2 does not exist */
    for (int e = 0; e < N * N; e++) A[e] = (float)uniform01();
    CHECK(ss_pca_correlation(A, h, N, 2, rk, &mean) == 0);
    CHECK(isnan(rk[2]) && isnan(mean));
    /* n < 4 */
    CHECK(ss_pca_correlation(A, h, 3, D, rk, &mean) == 0);
    CHECK(isnan(mean) && isnan(rk[0]));
}

/* The BLAS fast paths against the plain versions on random inputs: the cosine matrix + per-head
 * correlation against ss_geometric_alignment, and ss_qk_decompose_blas against ss_qk_decompose, both
 * masks, several sinks and sizes (1e-12 relative: both accumulate in double, only the order differs). */
static void test_fast_paths(void)
{
    const int ns[] = {2, 3, 7, 33}, d = 19;
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        const int n = ns[a];
        float *A = malloc((size_t)n * n * sizeof *A), *h = malloc((size_t)n * d * sizeof *h);
        float *q = malloc((size_t)n * d * sizeof *q), *k = malloc((size_t)n * d * sizeof *k);
        float *v = malloc((size_t)n * d * sizeof *v);
        double *C = malloc((size_t)n * n * sizeof *C);
        if (!A || !h || !q || !k || !v || !C) abort();
        for (int i = 0; i < n * n; i++) A[i] = (float)uniform01();
        fill_normal(h, n * d);
        fill_normal(q, n * d);
        fill_normal(k, n * d);
        fill_normal(v, n * d);
        for (int c = 0; c < d; c++) h[c] = 0.0f; /* a zero row: cos 0 by convention on both paths */
        CHECK(ss_cosine_matrix(h, n, d, C) == 0);
        for (int causal = 0; causal <= 1; causal++) {
            double r_ref;
            CHECK(ss_geometric_alignment(A, h, n, d, causal, &r_ref) == 0);
            const double r_fast = ss_alignment_from_cos(A, C, n, causal, 0);
            CHECK_MSG((isnan(r_ref) && isnan(r_fast)) || fabs(r_ref - r_fast) <= 1e-12,
                      "alignment n=%d causal=%d: %.17g vs %.17g", n, causal, r_ref, r_fast);
            for (int sink = 0; sink < n && sink < 3; sink++) {
                ss_qk_decomp x, y;
                ss_qk_decompose(q, k, v, n, d, sink, causal, &x);
                CHECK(ss_qk_decompose_blas(q, k, v, n, d, sink, causal, 0, &y) == 0);
                const double px[] = {x.k_norm_ratio, x.v_norm_ratio, x.cos_sink, x.cos_other, x.q_norm_mean};
                const double py[] = {y.k_norm_ratio, y.v_norm_ratio, y.cos_sink, y.cos_other, y.q_norm_mean};
                CHECK(x.n_queries == y.n_queries);
                for (int m = 0; m < 5; m++)
                    CHECK_MSG((isnan(px[m]) && isnan(py[m])) || fabs(px[m] - py[m]) <= 1e-12 * fmax(1.0, fabs(px[m])),
                              "qk n=%d causal=%d sink=%d field %d: %.17g vs %.17g", n, causal, sink, m, px[m], py[m]);
            }
        }
        free(A);
        free(h);
        free(q);
        free(k);
        free(v);
        free(C);
    }
}

/* Sliding windows (W = 3, n = 9, causal): alignment over the pairs i − W < j < i only, and the q/k sets of the
 * window (queries s < t < s + W; keys t − W < j <= t), against naive loops written here. */
static void test_windows(void)
{
    enum { N = 9, DD = 5, W = 3 };
    float A[N * N], h[N * DD], q[N * DD], k[N * DD], v[N * DD];
    double C[N * N], xs[N * N], ys[N * N];
    for (int i = 0; i < N * N; i++) A[i] = (float)uniform01();
    fill_normal(h, N * DD);
    fill_normal(q, N * DD);
    fill_normal(k, N * DD);
    fill_normal(v, N * DD);
    CHECK(ss_cosine_matrix(h, N, DD, C) == 0);
    int m = 0;
    for (int i = 0; i < N; i++)
        for (int j = i - W + 1 > 0 ? i - W + 1 : 0; j < i; j++) {
            xs[m] = A[i * N + j];
            ys[m++] = naive_cos(h + i * DD, h + j * DD, DD);
        }
    CHECK_NEAR(ss_alignment_from_cos(A, C, N, 1, W), naive_pearson(xs, ys, m), 1e-12);
    for (int s = 0; s < 3; s++) {
        ss_qk_decomp y;
        CHECK(ss_qk_decompose_blas(q, k, v, N, DD, s, 1, W, &y) == 0);
        double cs = 0, co = 0;
        int nq = 0;
        for (int t = s + 1; t < s + W && t < N; t++) {
            cs += naive_cos(q + t * DD, k + s * DD, DD);
            double acc = 0;
            int nk = 0;
            for (int j = t - W + 1 > 0 ? t - W + 1 : 0; j <= t; j++)
                if (j != s) {
                    acc += naive_cos(q + t * DD, k + j * DD, DD);
                    nk++;
                }
            co += acc / nk;
            nq++;
        }
        CHECK(y.n_queries == nq);
        CHECK_NEAR(y.cos_sink, cs / nq, 1e-12);
        CHECK_NEAR(y.cos_other, co / nq, 1e-12);
    }
}

int main(void)
{
    test_fast_paths();
    test_windows();
    test_pearson_and_norms();
    test_anisotropy_and_erank();
    test_qk();
    test_magnitude();
    test_alignment();
    test_pca();
    TEST_END();
}
