/* test_massive.c: massive activations (b11) on planted values.
 *
 * - The exact median: |{-4, 1, -3, 2}| sorted = 1 2 3 4 -> (2 + 3)/2 = 2.5 (even count); |{5, -1, 3}| -> 3.
 * - A 5000 planted in a 16 x 64 matrix of N(0,1)-like values: the only entry over both thresholds (the
 *   largest |N(0,1)| of 1024 draws is ~4, and 1000 x median ~ 670 > 100), with ratio 5000 / median, the median
 *   recomputed here by an insertion sort. Nothing is found in the same matrix without the plant.
 * - The AND: 150 among ones (median 1) passes the absolute threshold only (150 > 100, 150 < 1000); 50 among
 *   0.01s (median 0.01) passes the relative one only (50 > 10, 50 < 100): neither is reported, and each is once
 *   its blocking threshold is lowered. Exactly 100 is not > 100 (strict).
 * - The cap: five massive entries, cap 2 -> count 5, the first two in row-major order stored, every carrier
 *   token flagged. Median 0 -> ratio +inf. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "massive.h"
#include "test_util.h"

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static double uniform01(void)
{
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

static double normal01(void)
{
    return sqrt(-2.0 * log(uniform01())) * cos(6.283185307179586 * uniform01());
}

/* The median of |x| by insertion sort (independent of the qsort in the kernel). */
static double naive_median_abs(const float *x, int count)
{
    double *s = malloc((size_t)count * sizeof *s);
    for (int i = 0; i < count; i++) {
        double v = fabs((double)x[i]);
        int j = i;
        while (j > 0 && s[j - 1] > v) {
            s[j] = s[j - 1];
            j--;
        }
        s[j] = v;
    }
    double m = count % 2 ? s[count / 2] : 0.5 * (s[count / 2 - 1] + s[count / 2]);
    free(s);
    return m;
}

enum { N = 16, D = 64 };

int main(void)
{
    ss_massive_result res;
    ss_massive_hit hits[8];
    unsigned char flag[N];
    double med;

    /* exact medians, even and odd counts */
    const float even[4] = {-4, 1, -3, 2}, odd[3] = {5, -1, 3};
    CHECK(ss_median_abs(even, 4, &med) == 0);
    CHECK(med == 2.5);
    CHECK(ss_median_abs(odd, 3, &med) == 0);
    CHECK(med == 3.0);
    CHECK(ss_massive_activations(even, 2, 2, 100, 1000, hits, 8, flag, &res) == 0);
    CHECK(res.median_abs == 2.5);
    CHECK(res.max_abs == 4.0f && res.max_token == 0 && res.max_channel == 0); /* |-4| at (0, 0) */

    /* N(0,1)-like matrix: nothing massive */
    static float h[N * D];
    for (int e = 0; e < N * D; e++) h[e] = (float)normal01();
    CHECK(ss_massive_activations(h, N, D, SS_MASSIVE_ABS_THRESHOLD, SS_MASSIVE_REL_THRESHOLD, hits, 8, flag, &res) ==
          0);
    CHECK(res.n_massive == 0 && res.n_stored == 0 && res.n_tokens == 0);
    for (int i = 0; i < N; i++) CHECK(flag[i] == 0);
    CHECK_NEAR(res.median_abs, naive_median_abs(h, N * D), 0.0);
    CHECK(res.median_abs > 0.5 && res.median_abs < 0.85); /* median |N(0,1)| = 0.674 */
    float mx = 0;
    int mi = 0, mc = 0;
    for (int e = 0; e < N * D; e++)
        if (fabsf(h[e]) > mx) mx = fabsf(h[e]), mi = e / D, mc = e % D;
    CHECK(res.max_abs == mx && res.max_token == mi && res.max_channel == mc);

    /* plant 5000 at (3, 17) */
    h[3 * D + 17] = 5000.0f;
    CHECK(ss_massive_activations(h, N, D, SS_MASSIVE_ABS_THRESHOLD, SS_MASSIVE_REL_THRESHOLD, hits, 8, flag, &res) ==
          0);
    double m = naive_median_abs(h, N * D);
    CHECK(res.median_abs == m);
    CHECK(res.n_massive == 1 && res.n_stored == 1 && res.n_tokens == 1);
    CHECK(hits[0].token == 3 && hits[0].channel == 17 && hits[0].value == 5000.0f);
    CHECK_NEAR(hits[0].ratio, 5000.0 / m, 1e-12 * (5000.0 / m));
    for (int i = 0; i < N; i++) CHECK(flag[i] == (i == 3));
    CHECK(res.max_abs == 5000.0f && res.max_token == 3 && res.max_channel == 17);
    /* a negative one keeps its sign; the ratio uses |value| */
    h[9 * D + 2] = -7000.0f;
    CHECK(ss_massive_activations(h, N, D, SS_MASSIVE_ABS_THRESHOLD, SS_MASSIVE_REL_THRESHOLD, hits, 8, flag, &res) ==
          0);
    m = naive_median_abs(h, N * D);
    CHECK(res.n_massive == 2 && res.n_tokens == 2);
    CHECK(hits[1].token == 9 && hits[1].channel == 2 && hits[1].value == -7000.0f);
    CHECK_NEAR(hits[1].ratio, 7000.0 / m, 1e-12 * (7000.0 / m));
    CHECK(res.max_abs == 7000.0f && res.max_token == 9 && res.max_channel == 2);

    /* the AND: absolute threshold passed, relative one not (median 1, 150 < 1000) */
    static float g[N * D];
    for (int e = 0; e < N * D; e++) g[e] = 1.0f;
    g[5 * D + 5] = 150.0f;
    CHECK(ss_massive_activations(g, N, D, 100, 1000, hits, 8, flag, &res) == 0);
    CHECK(res.median_abs == 1.0 && res.n_massive == 0 && flag[5] == 0);
    CHECK(ss_massive_activations(g, N, D, 100, 100, hits, 8, flag, &res) == 0); /* relative lowered: 150 > 100 */
    CHECK(res.n_massive == 1 && hits[0].token == 5 && hits[0].channel == 5 && hits[0].ratio == 150.0 && flag[5] == 1);
    /* relative passed, absolute not (median 0.01: 50 > 10 but 50 < 100) */
    for (int e = 0; e < N * D; e++) g[e] = 0.01f;
    g[7 * D + 1] = 50.0f;
    CHECK(ss_massive_activations(g, N, D, 100, 1000, hits, 8, flag, &res) == 0);
    CHECK(res.median_abs == (double)0.01f && res.n_massive == 0 && flag[7] == 0);
    CHECK(ss_massive_activations(g, N, D, 10, 1000, hits, 8, flag, &res) == 0); /* absolute lowered: 50 > 10 */
    CHECK(res.n_massive == 1 && hits[0].token == 7 && hits[0].channel == 1 && flag[7] == 1);
    /* strict: exactly 100 with median 0.01 is not > 100 */
    g[7 * D + 1] = 100.0f;
    CHECK(ss_massive_activations(g, N, D, 100, 1000, hits, 8, flag, &res) == 0);
    CHECK(res.n_massive == 0);

    /* the cap: five massive entries in tokens 1, 1, 4, 6, 9; cap 2 */
    for (int e = 0; e < N * D; e++) g[e] = 0.5f;
    const int pt[5] = {1, 1, 4, 6, 9}, pc[5] = {40, 3, 0, 63, 10};
    for (int p = 0; p < 5; p++) g[pt[p] * D + pc[p]] = 1000.0f * (float)(p + 1);
    CHECK(ss_massive_activations(g, N, D, 100, 1000, hits, 2, flag, &res) == 0);
    CHECK(res.n_massive == 5 && res.n_stored == 2 && res.n_tokens == 4);
    CHECK(hits[0].token == 1 && hits[0].channel == 3 && hits[0].value == 2000.0f); /* row-major order */
    CHECK(hits[1].token == 1 && hits[1].channel == 40 && hits[1].value == 1000.0f);
    for (int i = 0; i < N; i++) CHECK(flag[i] == (i == 1 || i == 4 || i == 6 || i == 9));
    CHECK(res.max_abs == 5000.0f && res.max_token == 9 && res.max_channel == 10);
    CHECK(ss_massive_activations(g, N, D, 100, 1000, NULL, 0, NULL, &res) == 0); /* no storage at all */
    CHECK(res.n_massive == 5 && res.n_stored == 0 && res.n_tokens == 4);

    /* median 0: the relative test is |h| > 0, the ratio +inf */
    for (int e = 0; e < N * D; e++) g[e] = 0.0f;
    g[2 * D + 2] = -200.0f;
    CHECK(ss_massive_activations(g, N, D, 100, 1000, hits, 8, flag, &res) == 0);
    CHECK(res.median_abs == 0.0 && res.n_massive == 1 && isinf(hits[0].ratio) && hits[0].value == -200.0f);

    TEST_END();
}
