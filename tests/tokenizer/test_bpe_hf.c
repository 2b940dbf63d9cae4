/* test_bpe_hf.c: parity of the byte-level BPE tokenizer with Hugging Face tokenizers, over the real SmolLM2
 * vocabulary and merges. tests/fixtures/make_bpe_fixtures.py wrote, from the SmolLM2 GGUF and tokenizers 0.19.1:
 *   smollm2_tokenizer.json   the SmolLM2 tokenizer as tokenizers saves it
 *   smollm2_bpe_cases.json   per pre-tokenizer variant (smollm, gpt2, llama-bpe): texts with HF's ids and HF's
 *                            pre-tokenizer split (code-point offsets)
 * Usage: test_bpe_hf VARIANT. The variant's tokenizer is built two ways, and both must give HF's ids for every
 * text: from a tokenizer.json (the fixture with the variant's pre_tokenizer and ignore_merges put in, written to
 * a temporary directory) and from in-memory arrays (ss_tokenizer_from_bpe with the vocabulary in id order, the
 * merges as "left right" strings, the added tokens as control tokens, pre_type = VARIANT), as a GGUF loader
 * builds it. The pre-tokenizer alone must give HF's split of every text. Prints the first mismatches, the
 * counts and the throughput. */
#include <jansson.h> /* defines: json_load_file, json_array_get, ... */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "model/pretok.h"    /* defines: ss_pretok, ss_pretok_split, ss_pretok_classify */
#include "model/tokenizer.h" /* defines: ss_tokenizer_load, ss_tokenizer_from_bpe, ... */
#include "model/utf8.h"      /* defines: ss_utf8_decode */
#include "test_util.h"

#define MAX_SHOWN 8

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Prints text with control and non-ASCII bytes escaped, at most 160 bytes. */
static void print_text(const char *s)
{
    fputc('"', stderr);
    for (int i = 0; s[i] && i < 160; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(stderr, "\\%c", c);
        else if (c < 0x20 || c >= 0x7F) fprintf(stderr, "\\x%02X", c);
        else fputc(c, stderr);
    }
    fprintf(stderr, "%s\"", strlen(s) > 160 ? "..." : "");
}

static void print_ids(const char *label, const ss_tokenizer *t, const int32_t *ids, int n)
{
    fprintf(stderr, "    %s (%d):", label, n);
    for (int i = 0; i < n && i < 40; i++) {
        const char *tok = ss_tokenizer_token(t, ids[i]);
        fprintf(stderr, " %d", ids[i]);
        if (tok) {
            fputc('(', stderr);
            print_text(tok);
            fputc(')', stderr);
        }
    }
    fprintf(stderr, "%s\n", n > 40 ? " ..." : "");
}

/* The variant's tokenizer through tokenizer.json: the fixture with pre_tokenizer / ignore_merges replaced. */
static ss_tokenizer *load_json_variant(json_t *tj, const json_t *variant, char *dir, size_t dir_cap)
{
    ss_tokenizer *t = NULL;
    char path[1200];
    snprintf(dir, dir_cap, "/tmp/ss_test_bpe_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return NULL;
    }
    json_object_set(tj, "pre_tokenizer", json_object_get(variant, "pre_tokenizer"));
    json_object_set(json_object_get(tj, "model"), "ignore_merges", json_object_get(variant, "ignore_merges"));
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (json_dump_file(tj, path, JSON_COMPACT) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return NULL;
    }
    if (ss_tokenizer_load(dir, &t) != SS_OK) fprintf(stderr, "tokenizer.json load failed: %s\n", ss_errmsg());
    unlink(path);
    rmdir(dir);
    return t;
}

/* The variant's tokenizer through ss_tokenizer_from_bpe, from the fixture's vocabulary and merges. */
static ss_tokenizer *load_arrays_variant(const json_t *tj, const char *pre_type)
{
    const json_t *model = json_object_get(tj, "model"), *vocab = json_object_get(model, "vocab");
    const json_t *merges = json_object_get(model, "merges"), *added = json_object_get(tj, "added_tokens");
    int n = 0, nm = (int)json_array_size(merges);
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)vocab, key, val)
    {
        if (json_integer_value(val) + 1 > n) n = (int)json_integer_value(val) + 1;
    }
    const char **tokens = calloc((size_t)n, sizeof *tokens);
    const char **ms = calloc((size_t)nm + 1, sizeof *ms);
    int32_t *types = calloc((size_t)n, sizeof *types);
    json_object_foreach((json_t *)vocab, key, val) tokens[json_integer_value(val)] = key;
    for (int i = 0; i < n; i++) types[i] = 1;
    for (size_t i = 0; i < json_array_size(added); i++) {
        json_int_t id = json_integer_value(json_object_get(json_array_get(added, i), "id"));
        if (id >= 0 && id < n) types[id] = 3;
    }
    for (int i = 0; i < nm; i++) ms[i] = json_string_value(json_array_get(merges, (size_t)i));
    ss_tokenizer *t = NULL;
    if (ss_tokenizer_from_bpe(tokens, n, ms, nm, types, pre_type, &t) != SS_OK)
        fprintf(stderr, "ss_tokenizer_from_bpe failed: %s\n", ss_errmsg());
    free(tokens);
    free(ms);
    free(types);
    return t;
}

typedef struct {
    size_t *v;
    size_t n, cap;
} offs;

static int collect(void *ctx, size_t start, size_t end)
{
    offs *o = ctx;
    if (o->n + 2 > o->cap) {
        o->cap = o->cap ? 2 * o->cap : 256;
        o->v = realloc(o->v, o->cap * sizeof *o->v);
    }
    o->v[o->n++] = start;
    o->v[o->n++] = end;
    return 0;
}

/* Checks the pre-tokenizer's split of every text against HF's; returns the number of texts that match. */
static size_t check_pieces(const json_t *cases, const ss_pretok *pre)
{
    size_t matched = 0, shown = 0;
    offs o = {0};
    for (size_t i = 0; i < json_array_size(cases); i++) {
        const json_t *c = json_array_get(cases, i);
        const char *text = json_string_value(json_object_get(c, "text"));
        const json_t *pieces = json_object_get(c, "pieces");
        size_t len = strlen(text), n = 0;
        uint32_t *cps = malloc((len + 1) * sizeof *cps);
        uint8_t *cls = malloc(len + 1);
        for (size_t b = 0; b < len;) {
            size_t k;
            cps[n++] = ss_utf8_decode((const unsigned char *)text + b, len - b, &k);
            b += k;
        }
        ss_pretok_classify(cps, n, cls);
        o.n = 0;
        ss_pretok_split(pre, cps, cls, n, collect, &o);
        int same = o.n == 2 * json_array_size(pieces);
        for (size_t k = 0; same && k < json_array_size(pieces); k++) {
            const json_t *p = json_array_get(pieces, k);
            same = (json_int_t)o.v[2 * k] == json_integer_value(json_array_get(p, 0)) &&
                   (json_int_t)o.v[2 * k + 1] == json_integer_value(json_array_get(p, 1));
        }
        if (same) {
            matched++;
        } else if (shown++ < MAX_SHOWN) {
            fprintf(stderr, "PIECES MISMATCH case %zu: ", i);
            print_text(text);
            fprintf(stderr, "\n    hf  :");
            for (size_t k = 0; k < json_array_size(pieces) && k < 30; k++)
                fprintf(stderr, " [%lld,%lld)", (long long)json_integer_value(json_array_get(json_array_get(pieces, k), 0)),
                        (long long)json_integer_value(json_array_get(json_array_get(pieces, k), 1)));
            fprintf(stderr, "\n    ours:");
            for (size_t k = 0; k + 1 < o.n && k < 60; k += 2) fprintf(stderr, " [%zu,%zu)", o.v[k], o.v[k + 1]);
            fputc('\n', stderr);
        }
        free(cps);
        free(cls);
    }
    free(o.v);
    return matched;
}

/* Encodes every text and compares with HF's ids; returns the number that match. */
static size_t check_ids(const char *label, const ss_tokenizer *t, const json_t *cases, size_t *n_tokens)
{
    size_t matched = 0, shown = 0;
    *n_tokens = 0;
    for (size_t i = 0; i < json_array_size(cases); i++) {
        const json_t *c = json_array_get(cases, i);
        const char *text = json_string_value(json_object_get(c, "text"));
        const json_t *jids = json_object_get(c, "ids");
        size_t nw = json_array_size(jids);
        int32_t *ids = NULL;
        int n = 0;
        if (ss_tokenizer_encode(t, text, &ids, &n) != SS_OK) {
            CHECK_MSG(0, "%s: case %zu: encode failed: %s", label, i, ss_errmsg());
            continue;
        }
        int same = (size_t)n == nw;
        for (int j = 0; same && j < n; j++) same = ids[j] == json_integer_value(json_array_get(jids, (size_t)j));
        if (same) {
            matched++;
        } else if (shown++ < MAX_SHOWN) {
            int32_t *want = malloc((nw + 1) * sizeof *want);
            for (size_t j = 0; j < nw; j++) want[j] = (int32_t)json_integer_value(json_array_get(jids, j));
            fprintf(stderr, "MISMATCH (%s) case %zu: ", label, i);
            print_text(text);
            fputc('\n', stderr);
            print_ids("hf  ", t, want, (int)nw);
            print_ids("ours", t, ids, n);
            free(want);
        }
        *n_tokens += nw;
        free(ids);
    }
    return matched;
}

static void throughput(const char *variant, const ss_tokenizer *t, const json_t *cases)
{
    double t0 = now_s(), el = 0;
    size_t reps = 0, toks = 0, bytes = 0;
    while (el < 0.3 && reps < 1000) {
        for (size_t i = 0; i < json_array_size(cases); i++) {
            const char *text = json_string_value(json_object_get(json_array_get(cases, i), "text"));
            int32_t *ids = NULL;
            int n = 0;
            if (ss_tokenizer_encode(t, text, &ids, &n) == SS_OK) toks += (size_t)n;
            bytes += strlen(text);
            free(ids);
        }
        reps++;
        el = now_s() - t0;
    }
    printf("bpe %s throughput: %.0f tokens/s, %.1f MB/s of text (%zu passes over %zu texts)\n", variant,
           (double)toks / el, (double)bytes / el / 1e6, reps, json_array_size(cases));
}

int main(int argc, char **argv)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (CTest sets it)");
    const char *want_variant = argc > 1 ? argv[1] : "smollm";
    char cases_path[1024], tj_path[1024], dir[64];
    snprintf(cases_path, sizeof cases_path, "%s/tests/fixtures/smollm2_bpe_cases.json", src);
    snprintf(tj_path, sizeof tj_path, "%s/tests/fixtures/smollm2_tokenizer.json", src);
    json_error_t jerr;
    json_t *doc = json_load_file(cases_path, 0, &jerr);
    json_t *tj = json_load_file(tj_path, 0, &jerr);
    if (!doc || !tj) {
        fprintf(stderr, "cannot read the fixtures %s / %s: line %d: %s\n", cases_path, tj_path, jerr.line, jerr.text);
        json_decref(doc);
        json_decref(tj);
        return 1;
    }
    const json_t *variant = NULL, *variants = json_object_get(doc, "variants");
    for (size_t i = 0; i < json_array_size(variants); i++) {
        const char *name = json_string_value(json_object_get(json_array_get(variants, i), "name"));
        if (name && strcmp(name, want_variant) == 0) variant = json_array_get(variants, i);
    }
    CHECK_MSG(variant != NULL, "variant \"%s\" is not in %s", want_variant, cases_path);
    if (!variant) {
        json_decref(doc);
        json_decref(tj);
        TEST_END();
    }
    const json_t *cases = json_object_get(variant, "cases");
    size_t n_cases = json_array_size(cases);
    CHECK_MSG(n_cases >= 100, "only %zu cases", n_cases);

    ss_tokenizer *tarr = load_arrays_variant(tj, json_string_value(json_object_get(variant, "pre_type")));
    ss_tokenizer *tjson = load_json_variant(tj, variant, dir, sizeof dir);
    CHECK(tarr != NULL && tjson != NULL);
    if (tarr && tjson) {
        CHECK_STREQ(ss_tokenizer_kind(tarr), "bpe");
        CHECK_STREQ(ss_tokenizer_kind(tjson), "bpe");
        CHECK(ss_tokenizer_vocab_size(tarr) == json_integer_value(json_object_get(doc, "vocab_size")));
        CHECK(ss_tokenizer_vocab_size(tjson) == json_integer_value(json_object_get(doc, "vocab_size")));
        CHECK(ss_tokenizer_is_special(tarr, 1) && ss_tokenizer_is_special(tjson, 1));
        CHECK(!ss_tokenizer_is_special(tarr, 100) && !ss_tokenizer_is_special(tjson, 100));
        CHECK(ss_tokenizer_id(tarr, "<|im_start|>") == 1 && ss_tokenizer_id(tjson, "<|im_start|>") == 1);

        size_t n_tokens = 0;
        size_t m_json = check_ids("tokenizer.json", tjson, cases, &n_tokens);
        size_t m_arr = check_ids("arrays", tarr, cases, &n_tokens);

        ss_pretok pre = {0};
        if (strcmp(want_variant, "smollm") == 0) {
            pre.step[pre.n++] = SS_PRETOK_DIGITS;
            pre.step[pre.n++] = SS_PRETOK_GPT2;
        } else if (strcmp(want_variant, "gpt2") == 0) {
            pre.step[pre.n++] = SS_PRETOK_GPT2;
        } else {
            pre.step[pre.n++] = SS_PRETOK_LLAMA3;
        }
        size_t m_pieces = check_pieces(cases, &pre);
        printf("bpe parity, pre-tokenizer %s: %zu of %zu texts match Hugging Face (tokenizers %s) from tokenizer.json, "
               "%zu of %zu from arrays (%zu tokens); pre-tokenizer split: %zu of %zu\n",
               want_variant, m_json, n_cases, json_string_value(json_object_get(doc, "tokenizers_version")), m_arr,
               n_cases, n_tokens, m_pieces, n_cases);
        CHECK_MSG(m_json == n_cases, "%zu case(s) differ (tokenizer.json)", n_cases - m_json);
        CHECK_MSG(m_arr == n_cases, "%zu case(s) differ (arrays)", n_cases - m_arr);
        CHECK_MSG(m_pieces == n_cases, "%zu pre-tokenizer split(s) differ", n_cases - m_pieces);
        throughput(want_variant, tarr, cases);

        /* A second, independent reference when present: transformers 4.53 (tokenizers 0.21) builds SmolLM2's
         * tokenizer from the GGUF metadata with the GPT-2 regex alone (its GGUF converter drops the Digits
         * step of the hub tokenizer.json), so its ids (tests/fixtures/real/smollm2_tokenizer.json, written by
         * make_decoder_fixtures.py) are the "gpt2" variant's. */
        char real_path[1024];
        snprintf(real_path, sizeof real_path, "%s/tests/fixtures/real/smollm2_tokenizer.json", src);
        json_t *real = strcmp(want_variant, "gpt2") == 0 ? json_load_file(real_path, 0, &jerr) : NULL;
        const json_t *rcases = json_object_get(real, "cases");
        if (json_is_array(rcases) && json_array_size(rcases) > 0) {
            size_t nr = json_array_size(rcases), toks = 0, mr = check_ids("transformers-from-GGUF", tarr, rcases, &toks);
            printf("bpe parity, pre-tokenizer gpt2: %zu of %zu texts of %s match (transformers %s)\n", mr, nr,
                   real_path, json_string_value(json_object_get(real, "transformers_version")));
            CHECK_MSG(mr == nr, "%zu case(s) of %s differ", nr - mr, real_path);
        }
        json_decref(real);
    }
    ss_tokenizer_free(tarr);
    ss_tokenizer_free(tjson);
    json_decref(doc);
    json_decref(tj);
    TEST_END();
}
