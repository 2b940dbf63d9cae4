/* test_unigram_gemma.c: the Gemma-3 tokenizer (Unigram with byte fallback, built from the GGUF's
 * vocabulary) against the ids of the Hugging Face tokenizer that transformers builds from the same
 * GGUF (tests/fixtures/real/gemma3_tokenizer.json, made by make_decoder_fixtures.py).
 * Exit 77 when the GGUF (downloaded by .ci/setup) is absent. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/gguf.h"
#include "model/unigram.h"
#include "test_util.h"

int main(void)
{
    char path[4096], fix[4096];
    snprintf(path, sizeof path, "%s/gemma3/gemma-3-270m-q4_k_m.gguf", test_env("SS_MODEL_CACHE", "/nonexistent"));
    snprintf(fix, sizeof fix, "%s/tests/fixtures/real/gemma3_tokenizer.json", test_env("SS_SOURCE_DIR", "."));
    ss_gguf *g = NULL;
    if (ss_gguf_open(path, &g) != SS_OK) SKIP("the Gemma-3 GGUF is not available (%s); run bash .ci/setup", ss_errmsg());
    json_error_t jerr;
    json_t *root = json_load_file(fix, 0, &jerr);
    if (!root) SKIP("fixture %s: %s", fix, jerr.text);

    const ss_gguf_str *tok = NULL;
    const ss_gguf_kv *scores_kv = NULL, *types_kv = NULL;
    uint64_t n = 0, ns = 0, nt = 0;
    int64_t unk = -1;
    CHECK(ss_gguf_get_str_array(g, "tokenizer.ggml.tokens", &tok, &n));
    CHECK(ss_gguf_get_float_array(g, "tokenizer.ggml.scores", &scores_kv, &ns) && ns == n);
    CHECK(ss_gguf_get_int_array(g, "tokenizer.ggml.token_type", &types_kv, &nt) && nt == n);
    CHECK(ss_gguf_get_int(g, "tokenizer.ggml.unknown_token_id", &unk));
    const char **pieces = malloc(n * sizeof *pieces);
    uint64_t *len = malloc(n * sizeof *len);
    float *scores = malloc(n * sizeof *scores);
    int32_t *types = malloc(n * sizeof *types);
    for (uint64_t i = 0; i < n; i++) {
        double sc = 0;
        int64_t ty = 1;
        pieces[i] = tok[i].ptr;
        len[i] = tok[i].len;
        ss_gguf_arr_float(scores_kv, i, &sc);
        ss_gguf_arr_int(types_kv, i, &ty);
        scores[i] = (float)sc;
        types[i] = (int32_t)ty;
    }
    ss_unigram *u = NULL;
    CHECK(ss_unigram_new(pieces, len, scores, types, (int)n, (int32_t)unk, &u) == SS_OK);
    if (!u) TEST_END();

    json_t *cases = json_object_get(root, "cases");
    size_t nc = json_array_size(cases), matched = 0, shown = 0, n_tok = 0;
    clock_t t0 = clock();
    for (size_t c = 0; c < nc; c++) {
        json_t *cs = json_array_get(cases, c), *want = json_object_get(cs, "ids");
        const char *text = json_string_value(json_object_get(cs, "text"));
        int32_t *ids = NULL;
        int k = 0;
        if (ss_unigram_encode(u, text, &ids, &k) != SS_OK) {
            CHECK_MSG(0, "case %zu: %s", c, ss_errmsg());
            continue;
        }
        n_tok += (size_t)k;
        int same = (size_t)k == json_array_size(want);
        for (int i = 0; same && i < k; i++) same = ids[i] == json_integer_value(json_array_get(want, (size_t)i));
        if (same) matched++;
        else if (shown++ < 8) {
            fprintf(stderr, "case %zu: %s\n  got :", c, text);
            for (int i = 0; i < k && i < 24; i++) fprintf(stderr, " %d", ids[i]);
            fprintf(stderr, "\n  want:");
            for (size_t i = 0; i < json_array_size(want) && i < 24; i++)
                fprintf(stderr, " %lld", (long long)json_integer_value(json_array_get(want, i)));
            fprintf(stderr, "\n");
        }
        free(ids);
    }
    double dt = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("gemma3 unigram: %zu of %zu cases match Hugging Face; %.0f tokens/s\n", matched, nc, n_tok / (dt > 0 ? dt : 1e-9));
    CHECK(nc >= 300);
    CHECK(matched == nc);
    ss_unigram_free(u);
    free(pieces);
    free(len);
    free(scores);
    free(types);
    json_decref(root);
    ss_gguf_close(g);
    TEST_END();
}
