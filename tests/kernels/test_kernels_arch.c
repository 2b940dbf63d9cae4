/* test_kernels_arch.c: the kernels the decoders added (rope, RMSNorm, GELU-tanh, SiLU/SwiGLU, Conv1D,
 * multi-head attention with GQA/ALiBi) against hand-computed values and defining properties, and
 * each fast (BLAS) path against its plain reference. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "attention.h"
#include "conv1d.h"
#include "matmul.h"
#include "norm.h"
#include "rope.h"
#include "test_util.h" /* CHECK, CHECK_NEAR, TEST_END */

/* Deterministic uniform numbers in [-1, 1) (xorshift64*). */
static uint64_t g_rng = 0x243f6a8885a308d3ull;
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
    float *p = malloc((n ? n : 1) * sizeof *p);
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

static double dot(const float *a, const float *b, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* -------------------------------------------------------------------------------------------- RoPE */

/* r = d_h = 4, θ = 100: inv_freq = (1, 100^(−1/2)) = (1, 0.1). Position 1 turns pair 0 by 1 rad and
 * pair 1 by 0.1 rad. x = (1, 2, 3, 4).
 *   half pairs (0,2), (1,3):     (1c1 − 3s1, 2c.1 − 4s.1, 3c1 + 1s1, 4c.1 + 2s.1)
 *   adjacent pairs (0,1), (2,3): (1c1 − 2s1, 2c1 + 1s1, 3c.1 − 4s.1, 4c.1 + 3s.1)
 * cos/sin values from the double-precision libm. Position 0 is the identity. */
static void test_rope_hand(void)
{
    const double c1 = 0.5403023058681398, s1 = 0.8414709848078965, c01 = 0.9950041652780258, s01 = 0.09983341664682815;
    float cs[2 * 2], sn[2 * 2]; /* [T=2][r/2=2] */
    ss_rope_tables(cs, sn, 2, 4, 100.0);
    CHECK(cs[0] == 1.0f && cs[1] == 1.0f && sn[0] == 0.0f && sn[1] == 0.0f);
    CHECK_NEAR(cs[2], c1, 1e-7);
    CHECK_NEAR(sn[2], s1, 1e-7);
    CHECK_NEAR(cs[3], c01, 1e-7);
    CHECK_NEAR(sn[3], s01, 1e-7);

    float x[2][4] = {{1, 2, 3, 4}, {1, 2, 3, 4}}; /* [n=1][T=2][d_h=4] */
    ss_rope_apply_ref(&x[0][0], 1, 2, 4, 4, SS_ROPE_HALF, cs, sn);
    const double want_half[4] = {1 * c1 - 3 * s1, 2 * c01 - 4 * s01, 3 * c1 + 1 * s1, 4 * c01 + 2 * s01};
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(x[0][i], i + 1, 0);
        CHECK_NEAR(x[1][i], want_half[i], 1e-6);
    }
    float y[2][4] = {{1, 2, 3, 4}, {1, 2, 3, 4}};
    ss_rope_apply_ref(&y[0][0], 1, 2, 4, 4, SS_ROPE_ADJACENT, cs, sn);
    const double want_adj[4] = {1 * c1 - 2 * s1, 2 * c1 + 1 * s1, 3 * c01 - 4 * s01, 4 * c01 + 3 * s01};
    for (int i = 0; i < 4; i++) CHECK_NEAR(y[1][i], want_adj[i], 1e-6);

    /* partial rotary: d_h = 6, r = 4, the last 2 columns pass through untouched */
    float z[2][6] = {{1, 2, 3, 4, 5, 6}, {1, 2, 3, 4, 5, 6}};
    ss_rope_apply_ref(&z[0][0], 1, 2, 6, 4, SS_ROPE_HALF, cs, sn);
    for (int i = 0; i < 4; i++) CHECK_NEAR(z[1][i], want_half[i], 1e-6);
    CHECK(z[1][4] == 5.0f && z[1][5] == 6.0f);
    CHECK_STREQ(ss_rope_pairing_name(SS_ROPE_HALF), "half");
    CHECK_STREQ(ss_rope_pairing_name(SS_ROPE_ADJACENT), "adjacent");
}

/* The tables are the fp32 computation (rope.h): exact to fp32 rounding for small positions, and at
 * position t off the exact angle by at most the fp32 rounding of t · inv_freq (≈ t · 2^−24 rad, plus
 * the rounding of inv_freq itself, ≈ t · 2^−24 again). Hugging Face's own tables at large positions
 * are compared in tests/arch (rope_hf.json). */
static void test_rope_tables(void)
{
    enum { T = 8192, R = 64 };
    float *cs = malloc((size_t)T * R / 2 * sizeof *cs), *sn = malloc((size_t)T * R / 2 * sizeof *sn);
    if (!cs || !sn) exit(1);
    ss_rope_tables(cs, sn, T, R, 10000.0);
    double worst_small = 0.0, worst_ratio = 0.0;
    for (int t = 0; t < T; t += 7)
        for (int i = 0; i < R / 2; i++) {
            double phi = t * pow(10000.0, -2.0 * i / R);
            double e = fmax(fabs(cs[(size_t)t * R / 2 + i] - cos(phi)), fabs(sn[(size_t)t * R / 2 + i] - sin(phi)));
            if (t < 16 && e > worst_small) worst_small = e;
            double bound = 2.0 * t * pow(2.0, -24) + 1e-6;
            if (e / bound > worst_ratio) worst_ratio = e / bound;
        }
    printf("rope tables: t < 16 max error %.3g; max error / (2·t·2^-24 + 1e-6) %.3g\n", worst_small, worst_ratio);
    CHECK(worst_small < 1e-6);
    CHECK(worst_ratio <= 1.0);
    free(cs);
    free(sn);
}

/* Defining properties of a rotary encoding, for both pairings:
 *   rotation: |R_t x| = |x|;
 *   relativity: <R_m a, R_n b> depends on m − n only;
 *   the two pairings are one rotation in permuted coordinates: with P the permutation that takes
 *   half-split column i to 2i and i + r/2 to 2i + 1, adjacent(P x) = P half(x). */
static void test_rope_properties(void)
{
    enum { T = 40, DH = 16 };
    for (int r = 2; r <= DH; r += 6) { /* r = 2, 8, 14: partial and (almost) full */
        float *cs = malloc((size_t)T * r / 2 * sizeof *cs), *sn = malloc((size_t)T * r / 2 * sizeof *sn);
        if (!cs || !sn) exit(1);
        ss_rope_tables(cs, sn, T, r, 500.0);
        for (int p = 0; p < 2; p++) {
            ss_rope_pairing pairing = p ? SS_ROPE_ADJACENT : SS_ROPE_HALF;
            float *a = rand_buf(DH, 1.0f), *b = rand_buf(DH, 1.0f);
            float *A = malloc((size_t)T * DH * sizeof *A), *B = malloc((size_t)T * DH * sizeof *B); /* [T][DH] */
            if (!A || !B) exit(1);
            for (int t = 0; t < T; t++) {
                memcpy(A + (size_t)t * DH, a, DH * sizeof *a);
                memcpy(B + (size_t)t * DH, b, DH * sizeof *b);
            }
            ss_rope_apply_ref(A, 1, T, DH, r, pairing, cs, sn);
            ss_rope_apply_ref(B, 1, T, DH, r, pairing, cs, sn);
            double worst_norm = 0.0, worst_rel = 0.0;
            for (int t = 0; t < T; t++) {
                double e = fabs(sqrt(dot(A + (size_t)t * DH, A + (size_t)t * DH, DH)) - sqrt(dot(a, a, DH)));
                if (e > worst_norm) worst_norm = e;
            }
            for (int m = 0; m + 3 < T; m++)
                for (int n = 0; n + 3 < T; n++) {
                    double s0 = dot(A + (size_t)m * DH, B + (size_t)n * DH, DH);
                    double s3 = dot(A + (size_t)(m + 3) * DH, B + (size_t)(n + 3) * DH, DH);
                    if (fabs(s0 - s3) > worst_rel) worst_rel = fabs(s0 - s3);
                }
            printf("rope r=%-2d %-8s: max |norm change| %.3g, max |<R_m a,R_n b> - <R_m+3 a,R_n+3 b>| %.3g\n", r,
                   ss_rope_pairing_name(pairing), worst_norm, worst_rel);
            CHECK(worst_norm < 1e-5);
            CHECK(worst_rel < 1e-4);
            free(a);
            free(b);
            free(A);
            free(B);
        }
        /* permutation equivalence */
        float *x = rand_buf((size_t)T * DH, 1.0f), *px = malloc((size_t)T * DH * sizeof *px); /* [T][DH] */
        if (!px) exit(1);
        int perm[DH]; /* half-split column -> adjacent column */
        for (int c = 0; c < DH; c++) perm[c] = c >= r ? c : c < r / 2 ? 2 * c : 2 * (c - r / 2) + 1;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < DH; c++) px[(size_t)t * DH + perm[c]] = x[(size_t)t * DH + c];
        ss_rope_apply_ref(x, 1, T, DH, r, SS_ROPE_HALF, cs, sn);
        ss_rope_apply_ref(px, 1, T, DH, r, SS_ROPE_ADJACENT, cs, sn);
        int same = 1;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < DH; c++)
                if (px[(size_t)t * DH + perm[c]] != x[(size_t)t * DH + c]) same = 0;
        CHECK_MSG(same, "r=%d: adjacent(P x) != P half(x)", r);
        free(x);
        free(px);
        free(cs);
        free(sn);
    }
}

/* -------------------------------------------------------------------------------- norms, activations */

static void test_rmsnorm(void)
{
    /* x = (3, 4): mean square 12.5 */
    float x[4] = {3, 4, 0, 0}, y[4];
    const float g[2] = {1, 2};
    ss_rmsnorm_ref(y, x, g, 1, 2, 0.0f);
    CHECK_NEAR(y[0], 3 / sqrt(12.5), 1e-6);
    CHECK_NEAR(y[1], 2 * 4 / sqrt(12.5), 1e-6);
    /* eps: 12.5 + 3.5 = 16; a zero row stays zero (no mean subtraction, no bias) */
    ss_rmsnorm_ref(y, x, g, 2, 2, 3.5f);
    CHECK_NEAR(y[0], 0.75, 1e-7);
    CHECK_NEAR(y[1], 2.0, 1e-7);
    CHECK(y[2] == 0.0f && y[3] == 0.0f);
    /* in place */
    ss_rmsnorm_ref(x, x, g, 1, 2, 3.5f);
    CHECK_NEAR(x[0], 0.75, 1e-7);
}

static void test_activations(void)
{
    /* ½x(1 + tanh(√(2/π)(x + 0.044715x³))) in double precision */
    float g[5] = {1.0f, -1.0f, 2.0f, -3.0f, 0.5f};
    const double want_g[5] = {0.8411919906082768, -0.15880800939172324, 1.954597694087775, -0.0036373920817729943,
                              0.34571400982514394};
    ss_gelu_tanh_ref(g, 5);
    for (int i = 0; i < 5; i++) CHECK_NEAR(g[i], want_g[i], 1e-6);
    /* x / (1 + e^−x) */
    float s[4] = {1.0f, -2.0f, 0.0f, 5.0f};
    const double want_s[4] = {0.7310585786300049, -0.2384058440442351, 0.0, 4.966535745378576};
    ss_silu_ref(s, 4);
    for (int i = 0; i < 4; i++) CHECK_NEAR(s[i], want_s[i], 1e-6);
    /* far tails: no NaN, SiLU(−100) ≈ 0, SiLU(100) = 100 */
    float t[2] = {-100.0f, 100.0f};
    ss_silu_ref(t, 2);
    CHECK(fabs(t[0]) < 1e-30 && t[1] == 100.0f);
    /* SwiGLU: silu(gate) · up */
    float gate[3] = {1.0f, -2.0f, 0.0f};
    const float up[3] = {2.0f, -1.0f, 7.0f};
    ss_swiglu_ref(gate, up, 3);
    CHECK_NEAR(gate[0], 2 * 0.7310585786300049, 1e-6);
    CHECK_NEAR(gate[1], 0.2384058440442351, 1e-6);
    CHECK(gate[2] == 0.0f);
}

/* ------------------------------------------------------------------------------------------- Conv1D */

static void test_conv1d(void)
{
    /* x = (1, 2), W [in=2][out=3] = ((3, 5, 7), (4, 6, 8)), b = (1, 0, −1):
     * y = (1·3 + 2·4 + 1, 1·5 + 2·6, 1·7 + 2·8 − 1) = (12, 17, 22) */
    const float x[2] = {1, 2}, W[6] = {3, 5, 7, 4, 6, 8}, b[3] = {1, 0, -1};
    const float want[3] = {12, 17, 22};
    float y[3];
    ss_conv1d_ref(y, x, W, b, 1, 2, 3);
    for (int i = 0; i < 3; i++) CHECK_NEAR(y[i], want[i], 0);
    ss_conv1d_blas(y, x, W, b, 1, 2, 3);
    for (int i = 0; i < 3; i++) CHECK_NEAR(y[i], want[i], 1e-6);
    ss_conv1d_blas(y, x, W, NULL, 1, 2, 3);
    CHECK_NEAR(y[0], 11, 1e-6);

    /* random shapes: BLAS vs reference, and Conv1D(W) == Linear(Wᵀ) */
    static const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 32, 96}, {31, 64, 32}, {5, 128, 384}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int T = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        float *xx = rand_buf((size_t)T * in, 1.0f), *WW = rand_buf((size_t)in * out, 1.0f),
              *bb = rand_buf((size_t)out, 1.0f);
        float *Wt = malloc((size_t)in * out * sizeof *Wt); /* [out][in] */
        float *yr = malloc((size_t)T * out * sizeof *yr), *yb = malloc((size_t)T * out * sizeof *yb),
              *yl = malloc((size_t)T * out * sizeof *yl);
        if (!Wt || !yr || !yb || !yl) exit(1);
        for (int i = 0; i < in; i++)
            for (int o = 0; o < out; o++) Wt[(size_t)o * in + i] = WW[(size_t)i * out + o];
        ss_conv1d_ref(yr, xx, WW, bb, T, in, out);
        ss_conv1d_blas(yb, xx, WW, bb, T, in, out);
        ss_matmul_ref(yl, xx, Wt, bb, T, in, out);
        double d1 = max_abs_diff(yr, yb, (size_t)T * out), d2 = max_abs_diff(yr, yl, (size_t)T * out);
        printf("conv1d T=%-2d in=%-3d out=%-3d: max |ref-blas| %.3g, |conv1d - linear(Wt)| %.3g\n", T, in, out, d1, d2);
        CHECK(d1 <= 1e-4 && d2 <= 1e-6);
        free(xx);
        free(WW);
        free(bb);
        free(Wt);
        free(yr);
        free(yb);
        free(yl);
    }
}

/* --------------------------------------------------------------------------------------- attention */

/* Slopes by hand from the schedule (attention.h):
 *   H = 8: n = 8, b = 2^(−1): 2^−1 .. 2^−8
 *   H = 6: n = 4, b = 2^(−2): 2^−2, 2^−4, 2^−6, 2^−8; then b' = 2^(−1): 2^−1, 2^−3
 *   H = 12: n = 8, b = 2^(−1): 2^−1 .. 2^−8; then b' = 2^(−1/2): 2^−0.5, 2^−1.5, 2^−2.5, 2^−3.5
 *   H = 1: n = 1, b = 2^(−8): 2^−8 */
static void test_alibi_slopes(void)
{
    float s[12];
    ss_alibi_slopes(s, 8);
    for (int h = 0; h < 8; h++) CHECK_NEAR(s[h], pow(2.0, -(h + 1)), 0);
    ss_alibi_slopes(s, 6);
    const double want6[6] = {0.25, 0.0625, 0.015625, 0.00390625, 0.5, 0.125};
    for (int h = 0; h < 6; h++) CHECK_NEAR(s[h], want6[h], 0);
    ss_alibi_slopes(s, 12);
    for (int h = 0; h < 8; h++) CHECK_NEAR(s[h], pow(2.0, -(h + 1)), 0);
    for (int e = 0; e < 4; e++) CHECK_NEAR(s[8 + e], pow(2.0, -0.5 - e), 1e-7);
    ss_alibi_slopes(s, 1);
    CHECK_NEAR(s[0], 1.0 / 256, 0);
}

/* With q = 0 the scores are the ALiBi bias alone: P[h][i][j] = e^(m(j−i)) / Σ_{j'≤i} e^(m(j'−i)) under
 * the causal mask, and the output row i is Σ_j P[h][i][j] v[j]. */
static void test_mha_alibi_hand(void)
{
    enum { T = 5, H = 2, DH = 3 };
    const float slopes[H] = {0.5f, 0.125f};
    float q[H * T * DH] = {0}, k[H * T * DH], v[H * T * DH], P[H * T * T], out[T * H * DH];
    for (int i = 0; i < H * T * DH; i++) {
        k[i] = urand();
        v[i] = (float)(i % 7) - 3.0f;
    }
    for (int path = 0; path < 2; path++) {
        ss_mha_desc a = {T, H, H, DH, 0.7f, 1, slopes, 0};
        if (path == 0)
            ss_mha_ref(&a, P, out, H * DH, q, k, v);
        else
            ss_mha_blas(&a, P, out, H * DH, q, k, v);
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++) {
                double z = 0.0;
                for (int j = 0; j <= i; j++) z += exp(slopes[h] * (j - i));
                for (int j = 0; j < T; j++) {
                    double want = j <= i ? exp(slopes[h] * (j - i)) / z : 0.0;
                    CHECK_NEAR(P[((size_t)h * T + i) * T + j], want, 1e-6);
                    if (j > i) CHECK(P[((size_t)h * T + i) * T + j] == 0.0f);
                }
                for (int c = 0; c < DH; c++) {
                    double want = 0.0;
                    for (int j = 0; j <= i; j++) want += exp(slopes[h] * (j - i)) / z * v[((size_t)h * T + j) * DH + c];
                    CHECK_NEAR(out[(size_t)i * H * DH + h * DH + c], want, 1e-5);
                }
            }
    }
}

/* Plain multi-head attention (H_kv = H, no ALiBi, scale 1/√d_h) equals ss_attention_ref on the
 * interleaved layout; GQA equals MHA on keys/values repeated per group (HF's repeat_kv). */
static void test_mha_equivalences(void)
{
    enum { T = 11, H = 6, HKV = 2, DH = 8, G = H / HKV };
    const int ld = H * DH;
    float *q = rand_buf((size_t)H * T * DH, 1.5f), *k = rand_buf((size_t)HKV * T * DH, 1.5f),
          *v = rand_buf((size_t)HKV * T * DH, 1.0f);
    float *krep = malloc((size_t)H * T * DH * sizeof *krep), *vrep = malloc((size_t)H * T * DH * sizeof *vrep);
    float *P1 = malloc((size_t)H * T * T * sizeof *P1), *P2 = malloc((size_t)H * T * T * sizeof *P2);
    float *o1 = malloc((size_t)T * ld * sizeof *o1), *o2 = malloc((size_t)T * ld * sizeof *o2);
    float *qi = malloc((size_t)T * ld * sizeof *qi), *ki = malloc((size_t)T * ld * sizeof *ki),
          *vi = malloc((size_t)T * ld * sizeof *vi); /* [T][H·d_h] interleaved */
    if (!krep || !vrep || !P1 || !P2 || !o1 || !o2 || !qi || !ki || !vi) exit(1);
    for (int h = 0; h < H; h++) {
        memcpy(krep + (size_t)h * T * DH, k + (size_t)(h / G) * T * DH, (size_t)T * DH * sizeof *k);
        memcpy(vrep + (size_t)h * T * DH, v + (size_t)(h / G) * T * DH, (size_t)T * DH * sizeof *v);
    }
    for (int causal = 0; causal < 2; causal++) {
        ss_mha_desc gqa = {T, H, HKV, DH, (float)(1.0 / sqrt(DH)), causal, NULL, 0};
        ss_mha_desc mha = {T, H, H, DH, (float)(1.0 / sqrt(DH)), causal, NULL, 0};
        ss_mha_ref(&gqa, P1, o1, ld, q, k, v);
        ss_mha_ref(&mha, P2, o2, ld, q, krep, vrep);
        CHECK(max_abs_diff(P1, P2, (size_t)H * T * T) == 0.0 && max_abs_diff(o1, o2, (size_t)T * ld) == 0.0);
        /* interleaved layout through the older kernel */
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++)
                for (int c = 0; c < DH; c++) {
                    qi[(size_t)t * ld + h * DH + c] = q[((size_t)h * T + t) * DH + c];
                    ki[(size_t)t * ld + h * DH + c] = krep[((size_t)h * T + t) * DH + c];
                    vi[(size_t)t * ld + h * DH + c] = vrep[((size_t)h * T + t) * DH + c];
                }
        ss_attention_ref(P2, o2, qi, ki, vi, T, H, DH, ld, causal);
        double dP = max_abs_diff(P1, P2, (size_t)H * T * T), dO = max_abs_diff(o1, o2, (size_t)T * ld);
        printf("mha GQA %d/%d causal=%d vs ss_attention_ref on repeated KV: P %.3g, out %.3g\n", H, HKV, causal, dP,
               dO);
        CHECK(dP <= 1e-6 && dO <= 1e-6);
    }
    free(q);
    free(k);
    free(v);
    free(krep);
    free(vrep);
    free(P1);
    free(P2);
    free(o1);
    free(o2);
    free(qi);
    free(ki);
    free(vi);
}

/* BLAS path vs reference over shapes with GQA, ALiBi, causal or not, padded output rows. */
static void test_mha_random(void)
{
    static const int shapes[][4] = {{1, 1, 1, 1},   {5, 4, 2, 8},   {17, 6, 6, 4},
                                    {31, 4, 1, 16}, {64, 9, 3, 64}, {33, 12, 4, 32}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int T = shapes[s][0], H = shapes[s][1], Hkv = shapes[s][2], dh = shapes[s][3];
        float *slopes = malloc((size_t)H * sizeof *slopes);
        if (!slopes) exit(1);
        ss_alibi_slopes(slopes, H);
        for (int variant = 0; variant < 4; variant++) {
            int causal = variant & 1, alibi = variant >> 1, ld = H * dh + (alibi ? 5 : 0);
            float *q = rand_buf((size_t)H * T * dh, 2.0f), *k = rand_buf((size_t)Hkv * T * dh, 2.0f),
                  *v = rand_buf((size_t)Hkv * T * dh, 1.0f);
            size_t nP = (size_t)H * T * T, nO = (size_t)T * ld;
            float *Pr = rand_buf(nP, 9.0f), *Pb = rand_buf(nP, 9.0f);
            float *orf = calloc(nO, sizeof(float)), *ob = calloc(nO, sizeof(float));
            if (!orf || !ob) exit(1);
            ss_mha_desc a = {T, H, Hkv, dh, (float)(1.0 / sqrt(dh)), causal, alibi ? slopes : NULL, 0};
            ss_mha_ref(&a, Pr, orf, ld, q, k, v);
            ss_mha_blas(&a, Pb, ob, ld, q, k, v);
            double dP = max_abs_diff(Pr, Pb, nP), dO = max_abs_diff(orf, ob, nO);
            printf("mha T=%-2d H=%-2d H_kv=%d d_h=%-2d causal=%d alibi=%d: max |ref-blas| P %.3g, out %.3g\n", T, H,
                   Hkv, dh, causal, alibi, dP, dO);
            CHECK(dP <= 1e-5 && dO <= 1e-5);
            int ok = 1;
            for (int h = 0; h < H; h++)
                for (int i = 0; i < T; i++) {
                    double sum = 0.0;
                    for (int j = 0; j < T; j++) {
                        float p = Pb[((size_t)h * T + i) * T + j];
                        sum += p;
                        if (causal && j > i && p != 0.0f) ok = 0;
                    }
                    if (fabs(sum - 1.0) > 1e-5) ok = 0;
                }
            for (int t = 0; t < T; t++)
                for (int c = H * dh; c < ld; c++)
                    if (ob[(size_t)t * ld + c] != 0.0f) ok = 0; /* padding untouched */
            CHECK(ok);
            free(q);
            free(k);
            free(v);
            free(Pr);
            free(Pb);
            free(orf);
            free(ob);
        }
        free(slopes);
    }
}

/* Sliding window (Gemma-3's local layers): query i sees keys i−W+1 .. i only. Checked against the
 * definition (the plain causal softmax over those keys alone, written out here), on both paths, with
 * GQA; window >= T equals no window; window 1 puts all the mass on the diagonal. */
static void test_mha_window(void)
{
    enum { T = 13, H = 4, HKV = 2, DH = 8, G = H / HKV };
    const int ld = H * DH;
    float *q = rand_buf((size_t)H * T * DH, 2.0f), *k = rand_buf((size_t)HKV * T * DH, 2.0f),
          *v = rand_buf((size_t)HKV * T * DH, 1.0f);
    float *P = malloc((size_t)H * T * T * sizeof *P), *P0 = malloc((size_t)H * T * T * sizeof *P0);
    float *o = malloc((size_t)T * ld * sizeof *o), *o0 = malloc((size_t)T * ld * sizeof *o0);
    if (!P || !P0 || !o || !o0) exit(1);
    const float scale = (float)(1.0 / sqrt(DH));
    static const int windows[] = {1, 3, 8, 13, 40};
    for (size_t wi = 0; wi < sizeof windows / sizeof windows[0]; wi++) {
        const int W = windows[wi];
        for (int path = 0; path < 2; path++) {
            ss_mha_desc a = {T, H, HKV, DH, scale, 1, NULL, W};
            if (path == 0)
                ss_mha_ref(&a, P, o, ld, q, k, v);
            else
                ss_mha_blas(&a, P, o, ld, q, k, v);
            double worst_p = 0.0, worst_o = 0.0;
            int outside_zero = 1;
            for (int h = 0; h < H; h++)
                for (int i = 0; i < T; i++) {
                    const int lo = i - W + 1 > 0 ? i - W + 1 : 0;
                    const float *qi = q + ((size_t)h * T + i) * DH; /* [d_h] */
                    double s[T], mx = -INFINITY, z = 0.0;
                    for (int j = lo; j <= i; j++) {
                        double dot = 0.0;
                        for (int c = 0; c < DH; c++) dot += (double)qi[c] * k[((size_t)(h / G) * T + j) * DH + c];
                        s[j] = dot * scale;
                        if (s[j] > mx) mx = s[j];
                    }
                    for (int j = lo; j <= i; j++) z += exp(s[j] - mx);
                    for (int j = 0; j < T; j++) {
                        const float p = P[((size_t)h * T + i) * T + j];
                        if (j < lo || j > i) {
                            if (p != 0.0f) outside_zero = 0;
                        } else {
                            worst_p = fmax(worst_p, fabs(p - exp(s[j] - mx) / z));
                        }
                    }
                    for (int c = 0; c < DH; c++) {
                        double want = 0.0;
                        for (int j = lo; j <= i; j++)
                            want += exp(s[j] - mx) / z * v[((size_t)(h / G) * T + j) * DH + c];
                        worst_o = fmax(worst_o, fabs(o[(size_t)i * ld + h * DH + c] - want));
                    }
                    if (W == 1) CHECK(P[((size_t)h * T + i) * T + i] == 1.0f);
                }
            printf("mha window %-2d (%s): P outside the window exactly 0: %s; max |P - def| %.3g, out %.3g\n", W,
                   path ? "blas" : "ref", outside_zero ? "yes" : "NO", worst_p, worst_o);
            CHECK(outside_zero);
            CHECK(worst_p <= 1e-6 && worst_o <= 1e-5);
            if (W >= T) { /* the window covers every key: identical to no window */
                ss_mha_desc plain = {T, H, HKV, DH, scale, 1, NULL, 0};
                if (path == 0)
                    ss_mha_ref(&plain, P0, o0, ld, q, k, v);
                else
                    ss_mha_blas(&plain, P0, o0, ld, q, k, v);
                CHECK(max_abs_diff(P, P0, (size_t)H * T * T) == 0.0 && max_abs_diff(o, o0, (size_t)T * ld) == 0.0);
            }
        }
    }
    /* non-causal: the window does not apply (encoders never set it; defined as a no-op) */
    ss_mha_desc bi = {T, H, HKV, DH, scale, 0, NULL, 3}, bi0 = {T, H, HKV, DH, scale, 0, NULL, 0};
    ss_mha_ref(&bi, P, o, ld, q, k, v);
    ss_mha_ref(&bi0, P0, o0, ld, q, k, v);
    CHECK(max_abs_diff(P, P0, (size_t)H * T * T) == 0.0);
    free(q);
    free(k);
    free(v);
    free(P);
    free(P0);
    free(o);
    free(o0);
}

int main(void)
{
    test_rope_hand();
    test_rope_tables();
    test_rope_properties();
    test_rmsnorm();
    test_activations();
    test_conv1d();
    test_alibi_slopes();
    test_mha_alibi_hand();
    test_mha_equivalences();
    test_mha_random();
    test_mha_window();
    TEST_END();
}
