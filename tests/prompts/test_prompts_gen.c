/* test_prompts_gen.c: the random and repeated token generators on their own (determinism, specials,
 * uniformity) and the validation of generator specs. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prompts.h"
#include "test_util.h"

/* BERT-like: ids below 1000 are special ([PAD], [unusedN], [UNK], [CLS], [SEP], [MASK], ...). */
static int special_below_1000(const void *ctx, int32_t id)
{
    (void)ctx;
    return id < 1000;
}

/* A small fake vocabulary with a set of special ids given by a 0/1 table. */
typedef struct {
    const unsigned char *is_special;
    int n;
} table_ctx;

static int special_from_table(const void *ctx, int32_t id)
{
    const table_ctx *t = ctx;
    if (id < 0 || id >= t->n) return 1; /* out of range counts as special, so tests catch it */
    return t->is_special[id];
}

static int all_special(const void *ctx, int32_t id)
{
    (void)ctx;
    (void)id;
    return 1;
}

static int only_12345_allowed(const void *ctx, int32_t id)
{
    (void)ctx;
    return id != 12345;
}

static void test_pinned(void)
{
    /* Expected ids come from an independent Python implementation (tests/prompts/ref_gen.py) of the scheme
     * (splitmix64 on the seed, stream tag 1/2 and index folded in with odd multipliers, splitmix64
     * filling xoshiro256**, unbiased rejection below n, specials rejected). Any change here changes
     * every random/repeated prompt of every saved sweep, so it must be deliberate. */
    static const int32_t r1234_0[8] = {18137, 3081, 3807, 28265, 4636, 28101, 23925, 4185};
    static const int32_t r1234_7[8] = {30062, 26167, 30168, 2010, 2585, 27905, 2848, 22943};
    static const int32_t rmax_3[8] = {16559, 29957, 3505, 16681, 26094, 7500, 10232, 7138};
    static const int32_t rep1234[4] = {5896, 26060, 26224, 13557};
    int32_t out[8];
    ss_gen_random_tokens(1234, 0, 8, 30522, special_below_1000, NULL, out);
    for (int k = 0; k < 8; k++) CHECK_MSG(out[k] == r1234_0[k], "seed 1234 index 0 pos %d: %d", k, out[k]);
    ss_gen_random_tokens(1234, 7, 8, 30522, special_below_1000, NULL, out);
    for (int k = 0; k < 8; k++) CHECK_MSG(out[k] == r1234_7[k], "seed 1234 index 7 pos %d: %d", k, out[k]);
    ss_gen_random_tokens(UINT64_MAX, 3, 8, 30522, special_below_1000, NULL, out);
    for (int k = 0; k < 8; k++) CHECK_MSG(out[k] == rmax_3[k], "seed max index 3 pos %d: %d", k, out[k]);
    for (int i = 0; i < 4; i++) {
        int32_t id = ss_gen_repeated_token(1234, i, 30522, special_below_1000, NULL);
        CHECK_MSG(id == rep1234[i], "repeated seed 1234 index %d: %d", i, id);
    }
}

static void test_determinism(void)
{
    enum { N = 200 };
    int32_t a[N], b[N], c[N], d[N];
    ss_gen_random_tokens(42, 5, N, 30522, special_below_1000, NULL, a);
    ss_gen_random_tokens(42, 5, N, 30522, special_below_1000, NULL, b);
    CHECK(memcmp(a, b, sizeof a) == 0);

    /* a different index or seed gives a different sequence (few coincidences at most) */
    ss_gen_random_tokens(42, 6, N, 30522, special_below_1000, NULL, c);
    ss_gen_random_tokens(43, 5, N, 30522, special_below_1000, NULL, d);
    int same_c = 0, same_d = 0;
    for (int k = 0; k < N; k++) {
        same_c += a[k] == c[k];
        same_d += a[k] == d[k];
    }
    CHECK_MSG(same_c < 5, "index 5 and 6 agree at %d of %d positions", same_c, N);
    CHECK_MSG(same_d < 5, "seed 42 and 43 agree at %d of %d positions", same_d, N);

    /* a shorter request is a prefix of a longer one */
    int32_t e[17];
    ss_gen_random_tokens(42, 5, 17, 30522, special_below_1000, NULL, e);
    CHECK(memcmp(a, e, sizeof e) == 0);

    /* the sequence is not constant and stays in range */
    int distinct = 0;
    for (int k = 1; k < N; k++) distinct += a[k] != a[0];
    CHECK(distinct > N / 2);

    /* repeated: deterministic, varies with the index and the seed, not the random stream's first id */
    int32_t r0 = ss_gen_repeated_token(42, 0, 30522, special_below_1000, NULL);
    CHECK(r0 == ss_gen_repeated_token(42, 0, 30522, special_below_1000, NULL));
    int32_t reps[20];
    int n_distinct = 0;
    for (int i = 0; i < 20; i++) {
        reps[i] = ss_gen_repeated_token(42, i, 30522, special_below_1000, NULL);
        CHECK(reps[i] >= 1000 && reps[i] < 30522);
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= reps[j] == reps[i];
        n_distinct += !seen;
    }
    CHECK_MSG(n_distinct >= 15, "only %d distinct repeated ids over 20 indices", n_distinct);
    int seed_diff = 0;
    for (int i = 0; i < 20; i++) seed_diff += ss_gen_repeated_token(7, i, 30522, special_below_1000, NULL) != reps[i];
    CHECK(seed_diff >= 15);
    int32_t first_random[1];
    int stream_diff = 0;
    for (int i = 0; i < 20; i++) {
        ss_gen_random_tokens(42, i, 1, 30522, special_below_1000, NULL, first_random);
        stream_diff += first_random[0] != reps[i];
    }
    CHECK(stream_diff >= 15);
}

static void test_specials_never_drawn(void)
{
    /* specials scattered through a BERT-sized vocabulary: every 7th id below 5000, the last 100 ids */
    enum { V = 30522, N = 200000 };
    static unsigned char sp[V];
    for (int id = 0; id < V; id++) sp[id] = (id < 5000 && id % 7 == 0) || id >= V - 100;
    table_ctx t = {sp, V};
    int32_t *buf = malloc(N * sizeof *buf);
    if (!buf) {
        CHECK(buf != NULL);
        return;
    }
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        ss_gen_random_tokens(9, i, N, V, special_from_table, &t, buf);
        for (int k = 0; k < N; k++) bad += buf[k] < 0 || buf[k] >= V || sp[buf[k]];
    }
    CHECK_MSG(bad == 0, "%d special or out-of-range ids drawn", bad);
    for (int i = 0; i < 2000; i++) {
        int32_t id = ss_gen_repeated_token(9, i, V, special_from_table, &t);
        bad += id < 0 || id >= V || sp[id];
    }
    CHECK_MSG(bad == 0, "%d special or out-of-range repeated ids drawn", bad);
    free(buf);
}

static void test_uniformity(void)
{
    /* chi-square over a fake vocabulary of 50 ids with 5 specials: 45 allowed ids, 2000 draws
     * expected per id. With 44 degrees of freedom the statistic has mean 44 and sd ~9.4; 90 is
     * beyond the 99.99% quantile (~85.4), so a biased generator fails and a fair one passes. */
    enum { V = 50, PER = 2000 };
    static const unsigned char sp[V] = {[0] = 1, [1] = 1, [2] = 1, [17] = 1, [49] = 1};
    table_ctx t = {sp, V};
    int allowed = 0;
    for (int id = 0; id < V; id++) allowed += !sp[id];
    int n = allowed * PER;
    int32_t *buf = malloc((size_t)n * sizeof *buf);
    if (!buf) {
        CHECK(buf != NULL);
        return;
    }
    ss_gen_random_tokens(2024, 0, n, V, special_from_table, &t, buf);
    long counts[V] = {0};
    for (int k = 0; k < n; k++)
        if (buf[k] >= 0 && buf[k] < V) counts[buf[k]]++;
    double chi2 = 0;
    for (int id = 0; id < V; id++) {
        if (sp[id]) {
            CHECK_MSG(counts[id] == 0, "special id %d drawn %ld times", id, counts[id]);
            continue;
        }
        double diff = (double)counts[id] - PER;
        chi2 += diff * diff / PER;
    }
    CHECK_MSG(chi2 < 90.0, "chi-square %.1f over %d allowed ids", chi2, allowed);
    printf("uniformity: chi-square %.1f with %d degrees of freedom\n", chi2, allowed - 1);

    /* the same over repeated-token draws (one per index) */
    long rc[V] = {0};
    for (int i = 0; i < n; i++) {
        int32_t id = ss_gen_repeated_token(2024, i, V, special_from_table, &t);
        if (id >= 0 && id < V) rc[id]++;
    }
    double chi2r = 0;
    for (int id = 0; id < V; id++) {
        if (sp[id]) {
            CHECK(rc[id] == 0);
            continue;
        }
        double diff = (double)rc[id] - PER;
        chi2r += diff * diff / PER;
    }
    CHECK_MSG(chi2r < 90.0, "repeated chi-square %.1f", chi2r);
    free(buf);
}

static void test_degenerate(void)
{
    int32_t out[4] = {7, 7, 7, 7};
    ss_gen_random_tokens(1, 0, 4, 10, all_special, NULL, out);
    for (int k = 0; k < 4; k++) CHECK(out[k] == -1);
    CHECK(ss_gen_repeated_token(1, 0, 10, all_special, NULL) == -1);
    ss_gen_random_tokens(1, 0, 4, 0, special_below_1000, NULL, out);
    CHECK(out[0] == -1);
    /* one allowed id in a large vocabulary: found through the fallback scan, always */
    ss_gen_random_tokens(1, 0, 4, 30522, only_12345_allowed, NULL, out);
    for (int k = 0; k < 4; k++) CHECK(out[k] == 12345);
    CHECK(ss_gen_repeated_token(3, 1, 30522, only_12345_allowed, NULL) == 12345);
    /* no filter at all: ids in range */
    ss_gen_random_tokens(1, 0, 4, 3, NULL, NULL, out);
    for (int k = 0; k < 4; k++) CHECK(out[k] >= 0 && out[k] < 3);
}

static ss_prompt_spec gen_spec(ss_prompt_kind kind, int count, int length, int token_id)
{
    ss_prompt_spec s;
    memset(&s, 0, sizeof s);
    s.name = "gen";
    s.kind = kind;
    s.count = count;
    s.length = length;
    s.seed = 5;
    s.token_id = token_id;
    return s;
}

static void test_specs(void)
{
    ss_prompt_set *ps = NULL;
    ss_prompt_spec s = gen_spec(SS_PROMPTS_RANDOM, 5, 64, -1);
    CHECK(ss_prompts_open(&s, &ps) == SS_OK);
    CHECK(ss_prompts_count(ps) == 5);
    CHECK(ss_prompts_text(ps, 0) == NULL);
    ss_prompts_free(ps);
    ps = NULL;

    s = gen_spec(SS_PROMPTS_REPEATED, 3, 16, 2023);
    CHECK(ss_prompts_open(&s, &ps) == SS_OK);
    CHECK(ss_prompts_count(ps) == 3);
    ss_prompts_free(ps);
    ps = NULL;

    struct {
        ss_prompt_spec s;
        const char *needle;
    } bad[] = {
        {gen_spec(SS_PROMPTS_RANDOM, 0, 64, -1), "count"},
        {gen_spec(SS_PROMPTS_RANDOM, 4, 0, -1), "length"},
        {gen_spec(SS_PROMPTS_REPEATED, 4, -3, -1), "length"},
        {gen_spec(SS_PROMPTS_REPEATED, 4, 8, -2), "token_id"},
        {gen_spec(SS_PROMPTS_RANDOM, -1, 8, -1), "count"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ss_clear_error();
        ss_status st = ss_prompts_open(&bad[k].s, &ps);
        CHECK_MSG(st == SS_ERR_INPUT, "case %zu: %s", k, ss_status_name(st));
        CHECK(ps == NULL);
        CHECK_MSG(strstr(ss_errmsg(), bad[k].needle) && strstr(ss_errmsg(), "'gen'"), "case %zu: '%s'", k,
                  ss_errmsg());
        ss_prompts_free(ps);
        ps = NULL;
    }
    CHECK(ss_prompts_count(NULL) == 0);
    CHECK(ss_prompts_text(NULL, 0) == NULL);
    ss_prompts_free(NULL);
}

int main(void)
{
    test_pinned();
    test_determinism();
    test_specials_never_drawn();
    test_uniformity();
    test_degenerate();
    test_specs();
    TEST_END();
}
