/* test_kernels.c: every fast kernel path against its reference, and references against hand-computed
 * values. Shapes include odd sizes (1, 3, 17, 33, ...) as well as MiniLM's (384, 1536, 12 × 32). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "attention.h"
#include "matmul.h"
#include "norm.h"
#include "test_util.h" /* CHECK, CHECK_NEAR, TEST_END */

/* Deterministic uniform numbers in [-1, 1) (xorshift64*). */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static float urand(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    uint64_t r = g_rng * 0x2545f4914f6cdd1dull;
    return (float)((double)(r >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *rand_buf(size_t n, float scale)
{
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = urand() * scale;
    return p;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

static double max_abs(const float *a, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i]) > m) m = fabs(a[i]);
    return m;
}

/* ------------------------------------------------------------------------------------------ matmul */

static void test_matmul_hand(void)
{
    const float x[2] = {1, 2};             /* [1][2] */
    const float W[6] = {3, 4, 5, 6, 7, 8}; /* [3][2] */
    const float b[3] = {1, 0, -1};         /* [3] */
    const float want[3] = {12, 17, 22};    /* 1·3+2·4+1, 1·5+2·6+0, 1·7+2·8-1 */
    const float want_nob[3] = {11, 17, 23};
    float y[3];
    ss_matmul_ref(y, x, W, b, 1, 2, 3);
    for (int i = 0; i < 3; i++) CHECK_NEAR(y[i], want[i], 0);
    ss_matmul_blas(y, x, W, b, 1, 2, 3);
    for (int i = 0; i < 3; i++) CHECK_NEAR(y[i], want[i], 1e-6);
    ss_matmul_ref(y, x, W, NULL, 1, 2, 3);
    for (int i = 0; i < 3; i++) CHECK_NEAR(y[i], want_nob[i], 0);
    ss_matmul_blas(y, x, W, NULL, 1, 2, 3);
    for (int i = 0; i < 3; i++) CHECK_NEAR(y[i], want_nob[i], 1e-6);
}

static void test_matmul_random(void)
{
    static const int shapes[][3] = {{1, 1, 1},      {3, 5, 7},       {17, 33, 65},   {2, 384, 1},
                                    {13, 384, 384}, {31, 384, 1536}, {7, 1536, 384}, {64, 129, 31}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int T = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            float *x = rand_buf((size_t)T * in, 1.0f), *W = rand_buf((size_t)out * in, 0.1f);
            float *b = with_bias ? rand_buf((size_t)out, 0.5f) : NULL;
            float *yr = rand_buf((size_t)T * out, 100.0f), *yb = rand_buf((size_t)T * out, 100.0f); /* garbage in */
            ss_matmul_ref(yr, x, W, b, T, in, out);
            ss_matmul_blas(yb, x, W, b, T, in, out);
            double diff = max_abs_diff(yr, yb, (size_t)T * out);
            /* fp32 accumulation over `in` terms of size <= 0.1: error grows like sqrt(in) ulps of the sum */
            double tol = 2e-6 * (1.0 + max_abs(yr, (size_t)T * out)) * sqrt((double)in);
            printf("matmul T=%-3d in=%-4d out=%-4d bias=%d  max|ref-blas| = %.3g (tol %.3g)\n", T, in, out, with_bias,
                   diff, tol);
            CHECK_MSG(diff <= tol, "matmul %dx%dx%d bias=%d diff %g", T, in, out, with_bias, diff);
            /* the dispatcher follows the path switch exactly */
            ss_kernels_set_path(SS_KERNEL_REF);
            ss_matmul(yb, x, W, b, T, in, out);
            CHECK(memcmp(yb, yr, (size_t)T * out * sizeof(float)) == 0);
            ss_kernels_set_path(SS_KERNEL_FAST);
            free(x);
            free(W);
            free(b);
            free(yr);
            free(yb);
        }
    }
}

/* ----------------------------------------------------------------------------------------- softmax */

static void test_softmax(void)
{
    /* softmax(log 1, log 2, log 3) = (1, 2, 3) / 6; softmax(88, 89, 90) = (1, e, e²) / (1 + e + e²)
     * needs the max subtracted: expf(90) overflows fp32 */
    float s[2][3] = {{0.0f, (float)log(2.0), (float)log(3.0)}, {88.0f, 89.0f, 90.0f}};
    ss_softmax_rows_ref(&s[0][0], 2, 3, 0);
    const double e = exp(1.0), z = 1 + e + e * e;
    for (int j = 0; j < 3; j++) CHECK_NEAR(s[0][j], (j + 1) / 6.0, 1e-6);
    CHECK_NEAR(s[1][0], 1 / z, 1e-6);
    CHECK_NEAR(s[1][1], e / z, 1e-6);
    CHECK_NEAR(s[1][2], e * e / z, 1e-6);

    /* causal, square: row i keeps keys 0..i; masked entries are exactly 0 */
    float c[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) c[i][j] = 5.0f; /* equal scores: uniform over the kept keys */
    ss_softmax_rows_ref(&c[0][0], 4, 4, 1);
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            if (j > i)
                CHECK(c[i][j] == 0.0f);
            else
                CHECK_NEAR(c[i][j], 1.0 / (i + 1), 1e-7);
        }
    }
    CHECK(c[0][0] == 1.0f);

    /* causal, rectangular (2 queries at the end of 4 keys): row 0 keeps 3 keys, row 1 keeps 4 */
    float rct[2][4] = {{0, 0, 0, 9}, {0, 0, 0, 0}};
    ss_softmax_rows_ref(&rct[0][0], 2, 4, 1);
    CHECK(rct[0][3] == 0.0f);
    CHECK_NEAR(rct[0][0], 1.0 / 3, 1e-7);
    CHECK_NEAR(rct[1][3], 0.25, 1e-7);

    /* random rows sum to 1 */
    const int R = 37, C = 53;
    float *S = rand_buf((size_t)R * C, 30.0f);
    ss_softmax_rows_ref(S, R, C, 0);
    double worst = 0.0;
    for (int r = 0; r < R; r++) {
        double sum = 0.0;
        for (int j = 0; j < C; j++) {
            CHECK(S[(size_t)r * C + j] >= 0.0f);
            sum += S[(size_t)r * C + j];
        }
        if (fabs(sum - 1.0) > worst) worst = fabs(sum - 1.0);
    }
    printf("softmax %dx%d: max |row sum - 1| = %.3g\n", R, C, worst);
    CHECK(worst < 1e-5);
    free(S);
}

/* --------------------------------------------------------------------------------------- attention */

/* T = 2, one head of d_h = 4 (scale 1/2), worked by hand:
 *   q0 = (2,0,0,0), q1 = 0;  k0 = (1,0,0,0), k1 = 0
 *   scores row 0: (2·1/2, 0) = (1, 0) -> P0 = (e/(e+1), 1/(e+1));  row 1: (0, 0) -> P1 = (1/2, 1/2)
 *   v0 = (1,2,3,4), v1 = (-1,0,1,0):  out1 = (0, 1, 2, 2), out0 = P00·v0 + P01·v1
 * Causal: row 0 sees key 0 only -> P0 = (1, 0), out0 = v0. */
static void test_attention_hand(void)
{
    const float q[8] = {2, 0, 0, 0, 0, 0, 0, 0}, k[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    const float v[8] = {1, 2, 3, 4, -1, 0, 1, 0};
    const double e = exp(1.0), p00 = e / (e + 1), p01 = 1 / (e + 1);
    const double want_P[4] = {p00, p01, 0.5, 0.5};
    double want_out[8];
    for (int c = 0; c < 4; c++) {
        want_out[c] = p00 * v[c] + p01 * v[4 + c];
        want_out[4 + c] = 0.5 * v[c] + 0.5 * v[4 + c];
    }
    for (int path = 0; path < 2; path++) {
        float P[4], out[8];
        if (path == 0)
            ss_attention_ref(P, out, q, k, v, 2, 1, 4, 4, 0);
        else
            ss_attention_blas(P, out, q, k, v, 2, 1, 4, 4, 0);
        for (int i = 0; i < 4; i++) CHECK_NEAR(P[i], want_P[i], 1e-6);
        for (int i = 0; i < 8; i++) CHECK_NEAR(out[i], want_out[i], 1e-6);
        CHECK_NEAR(out[4], 0.0, 1e-6);
        CHECK_NEAR(out[7], 2.0, 1e-6);

        if (path == 0)
            ss_attention_ref(P, out, q, k, v, 2, 1, 4, 4, 1);
        else
            ss_attention_blas(P, out, q, k, v, 2, 1, 4, 4, 1);
        CHECK(P[0] == 1.0f && P[1] == 0.0f);
        CHECK_NEAR(P[2], 0.5, 1e-7);
        for (int c = 0; c < 4; c++) CHECK_NEAR(out[c], v[c], 1e-6);
    }
}

static void test_attention_random(void)
{
    static const int shapes[][3] = {{1, 1, 1}, {2, 1, 4}, {7, 3, 5}, {33, 12, 32}, {17, 2, 64}, {128, 12, 32}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int T = shapes[s][0], H = shapes[s][1], dh = shapes[s][2];
        for (int pad = 0; pad < 2; pad++)
            for (int causal = 0; causal < 2; causal++) {
                int ld = H * dh + (pad ? 3 : 0); /* a padded row stride must work too */
                size_t nqkv = (size_t)T * ld, nP = (size_t)H * T * T;
                float *q = rand_buf(nqkv, 2.0f), *k = rand_buf(nqkv, 2.0f), *v = rand_buf(nqkv, 1.0f);
                float *Pr = rand_buf(nP, 9.0f), *Pb = rand_buf(nP, 9.0f);
                float *or_ = calloc(nqkv, sizeof(float)), *ob = calloc(nqkv, sizeof(float));
                if (!or_ || !ob) exit(1);
                ss_attention_ref(Pr, or_, q, k, v, T, H, dh, ld, causal);
                ss_attention_blas(Pb, ob, q, k, v, T, H, dh, ld, causal);
                double dP = max_abs_diff(Pr, Pb, nP), dO = max_abs_diff(or_, ob, nqkv);
                printf("attention T=%-3d H=%-2d d_h=%-2d ld=%-3d causal=%d  max|ref-blas| P %.3g, out %.3g\n", T, H, dh,
                       ld, causal, dP, dO);
                CHECK_MSG(dP <= 1e-5 && dO <= 1e-5, "T=%d H=%d d_h=%d causal=%d: P %g out %g", T, H, dh, causal, dP,
                          dO);
                /* rows sum to 1, masked entries exactly 0, padding columns untouched */
                double worst = 0.0;
                int mask_ok = 1;
                for (int h = 0; h < H; h++)
                    for (int i = 0; i < T; i++) {
                        double sum = 0.0;
                        for (int j = 0; j < T; j++) {
                            float p = Pb[((size_t)h * T + i) * T + j];
                            sum += p;
                            if (causal && j > i && p != 0.0f) mask_ok = 0;
                        }
                        if (fabs(sum - 1.0) > worst) worst = fabs(sum - 1.0);
                    }
                CHECK(worst < 1e-5);
                CHECK(mask_ok);
                for (int t = 0; pad && t < T; t++)
                    for (int c = H * dh; c < ld; c++) CHECK(ob[(size_t)t * ld + c] == 0.0f);
                free(q);
                free(k);
                free(v);
                free(Pr);
                free(Pb);
                free(or_);
                free(ob);
            }
    }
}

/* ------------------------------------------------------------------------------- layernorm, GELU */

static void test_layernorm(void)
{
    /* x = (1,2,3,4): mean 2.5, biased variance 1.25 */
    float x[8] = {1, 2, 3, 4, 10, 10, 10, 10}, y[8];
    const float g[4] = {1, 1, 1, 1}, b0[4] = {0, 0, 0, 0};
    const float g2[4] = {2, 1, 0, -1}, b2[4] = {0.5f, 0, 0, 1};
    ss_layernorm_ref(y, x, g, b0, 1, 4, 0.0f);
    const double s = 1.0 / sqrt(1.25);
    CHECK_NEAR(y[0], -1.5 * s, 1e-6);
    CHECK_NEAR(y[1], -0.5 * s, 1e-6);
    CHECK_NEAR(y[2], 0.5 * s, 1e-6);
    CHECK_NEAR(y[3], 1.5 * s, 1e-6);
    /* gamma/beta applied per column; the constant row gives beta exactly (x - mean = 0; eps avoids 0/0) */
    ss_layernorm_ref(y, x, g2, b2, 2, 4, 1e-12f);
    CHECK_NEAR(y[0], 2 * -1.5 * s + 0.5, 1e-6);
    CHECK_NEAR(y[2], 0.0, 1e-6);
    CHECK_NEAR(y[3], -1.5 * s + 1, 1e-6);
    CHECK_NEAR(y[4], 0.5, 0);
    CHECK_NEAR(y[7], 1.0, 0);
    /* eps matters: var 1.25 + eps 0.75 = 2 */
    ss_layernorm_ref(y, x, g, b0, 1, 4, 0.75f);
    CHECK_NEAR(y[3], 1.5 / sqrt(2.0), 1e-6);
    /* in place */
    ss_layernorm_ref(x, x, g, b0, 1, 4, 0.0f);
    CHECK_NEAR(x[0], -1.5 * s, 1e-6);
}

static void test_gelu(void)
{
    /* x·Φ(x) with Φ the standard normal CDF: Φ(1) = 0.8413447460685429, Φ(2) = 0.9772498680518208,
     * Φ(-3) = 0.0013498980316301 */
    float x[6] = {0.0f, 1.0f, -1.0f, 2.0f, -3.0f, 10.0f};
    const double want[6] = {
        0.0, 0.8413447460685429, -(1 - 0.8413447460685429), 2 * 0.9772498680518208, -3 * 0.0013498980316301, 10.0};
    ss_gelu_erf_ref(x, 6);
    for (int i = 0; i < 6; i++) CHECK_NEAR(x[i], want[i], 1e-6);
}

int main(void)
{
    test_matmul_hand();
    test_matmul_random();
    test_softmax();
    test_attention_hand();
    test_attention_random();
    test_layernorm();
    test_gelu();
    TEST_END();
}
