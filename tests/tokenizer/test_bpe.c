/* test_bpe.c: byte-level BPE on a hand-written small vocabulary, through tokenizer.json (written to a temporary
 * directory) and through in-memory arrays (ss_tokenizer_from_bpe): merge order by rank and position, stale queue
 * entries, duplicate merges, bytes without a symbol, unk_token and fuse_unk, ignore_merges, added tokens
 * (lstrip / rstrip / normalized), ill-formed UTF-8, the accessors; and clear errors for malformed tokenizer.json
 * files and arrays. Every expected id list is worked out by hand from the rules in bpe.c's header comment. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/tokenizer.h" /* defines: ss_tokenizer_load, ss_tokenizer_from_bpe, ... */
#include "test_util.h"

/* GPT-2 byte symbols used below: U+0120 (space), U+010A (\n), and the Latin-1 letters that stand for the bytes
 * of "é" (C3 A9) and of U+FFFD (EF BF BD). */
#define SP "\xC4\xA0"
#define NL "\xC4\x8A"
#define B_C3 "\xC3\x83"
#define B_A9 "\xC2\xA9"
#define B_EF "\xC3\xAF"
#define B_BF "\xC2\xBF"
#define B_BD "\xC2\xBD"

/* id order */
static const char *const k_tokens[] = {
    "<|endoftext|>", "a", "b", "c", "d", SP, "!", "ab", "bc", "abc", SP "a", "aa", "aaa", "cd", SP "ab", NL,
    "1", "2", "12", B_C3, B_A9, B_C3 B_A9, B_EF, B_BF, B_BD, "<unk>",
};
#define N_TOKENS ((int)(sizeof k_tokens / sizeof k_tokens[0]))
/* rank order */
static const char *const k_merges[] = {"a b", "b c", "ab c", SP " a", "a a", SP "a b", "c d", "1 2", B_C3 " " B_A9};
#define N_MERGES ((int)(sizeof k_merges / sizeof k_merges[0]))

enum { ENDOFTEXT = 0, A = 1, B, C, D, G, BANG, AB, BC, ABC, GA, AA, AAA, CD, GAB, GNL, ONE, TWO, TWELVE, XC3, XA9,
       E_ACUTE, XEF, XBF, XBD, UNK };

static char g_dir[64];

static void write_str(const char *name, const char *s)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(s, f);
    fclose(f);
}

/* A tokenizer.json over the vocabulary above. NULL arguments take defaults: added = <|endoftext|> only,
 * normalizer null, pre = ByteLevel (GPT-2 regex), no model options, merges = k_merges. */
static char *make_json(const char *added, const char *normalizer, const char *pre, const char *opts,
                       const char *merges)
{
    static char buf[8192];
    char vocab[2048] = "", mbuf[1024] = "";
    size_t v = 0, m = 0;
    for (int i = 0; i < N_TOKENS; i++)
        v += (size_t)snprintf(vocab + v, sizeof vocab - v, "%s\"%s\": %d", i ? ", " : "", k_tokens[i], i);
    for (int i = 0; i < N_MERGES; i++)
        m += (size_t)snprintf(mbuf + m, sizeof mbuf - m, "%s\"%s\"", i ? ", " : "", k_merges[i]);
    snprintf(buf, sizeof buf,
             "{\"version\": \"1.0\", \"added_tokens\": [%s], \"normalizer\": %s, \"pre_tokenizer\": %s, "
             "\"model\": {\"type\": \"BPE\"%s%s, \"vocab\": {%s}, \"merges\": [%s]}}",
             added ? added
                   : "{\"id\": 0, \"content\": \"<|endoftext|>\", \"special\": true, \"normalized\": false}",
             normalizer ? normalizer : "null",
             pre ? pre : "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}",
             opts && *opts ? ", " : "", opts ? opts : "", vocab, merges ? merges : mbuf);
    return buf;
}

static ss_tokenizer *load_json(const char *json)
{
    ss_tokenizer *t = NULL;
    write_str("tokenizer.json", json);
    if (ss_tokenizer_load(g_dir, &t) != SS_OK) {
        fprintf(stderr, "load failed: %s\n", ss_errmsg());
        g_test_failures++;
        return NULL;
    }
    return t;
}

static ss_tokenizer *load_arrays(const char *pre_type)
{
    int32_t types[N_TOKENS];
    for (int i = 0; i < N_TOKENS; i++) types[i] = 1;
    types[ENDOFTEXT] = 3;
    types[UNK] = 2;
    ss_tokenizer *t = NULL;
    if (ss_tokenizer_from_bpe(k_tokens, N_TOKENS, k_merges, N_MERGES, types, pre_type, &t) != SS_OK) {
        fprintf(stderr, "ss_tokenizer_from_bpe failed: %s\n", ss_errmsg());
        g_test_failures++;
        return NULL;
    }
    return t;
}

/* Encodes text and compares with the ids that follow (terminated by -1). */
static void expect(int line, const ss_tokenizer *t, const char *text, ...)
{
    int32_t want[64];
    int nw = 0;
    va_list ap;
    va_start(ap, text);
    for (int id; (id = va_arg(ap, int)) >= 0 && nw < 64;) want[nw++] = id;
    va_end(ap);
    int32_t *ids = NULL;
    int n = -1;
    if (!t) return;
    if (ss_tokenizer_encode(t, text, &ids, &n) != SS_OK) {
        fprintf(stderr, "line %d: encode failed: %s\n", line, ss_errmsg());
        g_test_failures++;
        return;
    }
    int same = n == nw && ids != NULL;
    for (int i = 0; same && i < n; i++) same = ids[i] == want[i];
    if (!same) {
        fprintf(stderr, "line %d: \"%s\" gave", line, text);
        for (int i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, ", want");
        for (int i = 0; i < nw; i++) fprintf(stderr, " %d", want[i]);
        fputc('\n', stderr);
        g_test_failures++;
    }
    free(ids);
}
#define EXPECT(t, ...) expect(__LINE__, t, __VA_ARGS__, -1)

/* What both ways of building the GPT-2-regex tokenizer must give. */
static void common_cases(const ss_tokenizer *t)
{
    EXPECT(t, "");
    EXPECT(t, "abc", ABC);          /* a b -> ab (rank 0), then ab c -> abc (rank 2) */
    EXPECT(t, "bcd", BC, D);        /* b c (rank 1) before c d (rank 6); bc d has no merge */
    EXPECT(t, "aaa", AA, A);        /* two a a pairs of equal rank: the leftmost merges first */
    EXPECT(t, "aaaa", AA, AA);      /* the queued pair at 1 is stale after the first merge */
    EXPECT(t, " ab", G, AB);        /* a b (rank 0) before Ġ a (rank 3), so Ġab is never reached */
    EXPECT(t, " aa", GA, A);        /* Ġ a (rank 3) before a a (rank 4) */
    EXPECT(t, "cd!", CD, BANG);     /* two pre-tokens */
    EXPECT(t, "a\x04" "b", A, B);   /* byte 04 has no symbol in this vocabulary: dropped */
    EXPECT(t, "!\x04!", BANG, BANG); /* one pre-token; the dropped byte leaves two ! */
    EXPECT(t, "x");                 /* no symbol for x either */
    EXPECT(t, "12", TWELVE);        /* the GPT-2 regex keeps digits together */
    EXPECT(t, "\xC3\xA9", E_ACUTE); /* é: two byte symbols, merged */
    EXPECT(t, "\xC3", XEF, XBF, XBD); /* a truncated sequence is U+FFFD (EF BF BD) */
    EXPECT(t, "a\xFF" "b", A, XEF, XBF, XBD, B);
    EXPECT(t, "<|endoftext|>a", ENDOFTEXT, A);
    EXPECT(t, "ab<|endoftext|><|endoftext|> ab", AB, ENDOFTEXT, ENDOFTEXT, G, AB);
    EXPECT(t, "<|endoftext|", D);  /* not the token; of its bytes only d has a symbol here */
    EXPECT(t, "a\n\n", A, GNL, GNL);
    CHECK_STREQ(ss_tokenizer_kind(t), "bpe");
    CHECK(ss_tokenizer_vocab_size(t) == N_TOKENS);
    CHECK(ss_tokenizer_id(t, "ab") == AB && ss_tokenizer_id(t, "<|endoftext|>") == ENDOFTEXT);
    CHECK(ss_tokenizer_id(t, "zz") == -1);
    CHECK_STREQ(ss_tokenizer_token(t, GAB), SP "ab");
    CHECK(ss_tokenizer_token(t, N_TOKENS) == NULL && ss_tokenizer_token(t, -1) == NULL);
    CHECK(ss_tokenizer_is_special(t, ENDOFTEXT) == 1 && ss_tokenizer_is_special(t, AB) == 0);
    CHECK(ss_tokenizer_is_special(t, -1) == 0 && ss_tokenizer_is_special(t, N_TOKENS) == 0);
}

static void test_encode(void)
{
    ss_tokenizer *tj = load_json(make_json(NULL, NULL, NULL, NULL, NULL));
    ss_tokenizer *ta = load_arrays("gpt2");
    if (tj) common_cases(tj);
    if (ta) common_cases(ta);
    CHECK(ta && ss_tokenizer_is_special(ta, UNK) == 1); /* type 2 (unknown) */
    CHECK(tj && ss_tokenizer_is_special(tj, UNK) == 0); /* not an added token there */
    ss_tokenizer_free(tj);
    ss_tokenizer_free(ta);

    /* SmolLM's pre-tokenizer: every digit alone */
    ss_tokenizer *ts = load_arrays("smollm");
    EXPECT(ts, "12", ONE, TWO);
    EXPECT(ts, "a12 ab", A, ONE, TWO, G, AB);
    ss_tokenizer_free(ts);
    ts = load_json(make_json(NULL, NULL,
                             "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": "
                             "true}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, "
                             "\"use_regex\": true}]}",
                             NULL, NULL));
    EXPECT(ts, "12", ONE, TWO);
    ss_tokenizer_free(ts);
    /* Digits runs, then ByteLevel without its regex: "a 12" is "a ", "12" */
    ts = load_json(make_json(NULL, NULL,
                             "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": "
                             "false}, {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}]}",
                             NULL, NULL));
    EXPECT(ts, "a 12", A, G, TWELVE);
    EXPECT(ts, "ab ab", AB, G, AB); /* one pre-token; the queued Ġ a pair is stale once a b merged */
    ss_tokenizer_free(ts);

    /* llama-bpe: ignore_merges, so a pre-token that is a vocabulary token is taken whole */
    ss_tokenizer *tl = load_arrays("llama-bpe");
    EXPECT(tl, " ab", GAB);
    EXPECT(tl, " aab", GA, AB);      /* not in the vocabulary: merges as usual */
    EXPECT(tl, "123", TWELVE);       /* \p{N}{1,3}: "123" is one pre-token; 3 has no symbol here */
    ss_tokenizer_free(tl);
    tl = load_json(make_json(NULL, NULL, NULL, "\"ignore_merges\": true", NULL));
    EXPECT(tl, " ab", GAB);
    ss_tokenizer_free(tl);

    /* a pair listed twice keeps its last rank: a b at rank 9 comes after b c (rank 1) */
    char merges[1024];
    size_t m = 0;
    for (int i = 0; i < N_MERGES; i++) m += (size_t)snprintf(merges + m, sizeof merges - m, "\"%s\", ", k_merges[i]);
    snprintf(merges + m, sizeof merges - m, "\"a b\"");
    ss_tokenizer *td = load_json(make_json(NULL, NULL, NULL, NULL, merges));
    EXPECT(td, "abc", A, BC);
    ss_tokenizer_free(td);
    /* the pair form of merges (tokenizers 0.20 on) */
    td = load_json(make_json(NULL, NULL, NULL, NULL, "[\"a\", \"b\"], [\"ab\", \"c\"]"));
    EXPECT(td, "abc", ABC);
    EXPECT(td, "bc", B, C);
    ss_tokenizer_free(td);

    /* unk_token: a byte without a symbol becomes <unk>; fuse_unk joins neighbouring ones */
    ss_tokenizer *tu = load_json(make_json(NULL, NULL, NULL, "\"unk_token\": \"<unk>\"", NULL));
    EXPECT(tu, "xxab", UNK, UNK, AB);
    ss_tokenizer_free(tu);
    tu = load_json(make_json(NULL, NULL, NULL, "\"unk_token\": \"<unk>\", \"fuse_unk\": true", NULL));
    EXPECT(tu, "xxab", UNK, AB);
    EXPECT(tu, "xaxb", UNK, A, UNK, B);
    ss_tokenizer_free(tu);
}

static void test_added(void)
{
    /* lstrip / rstrip take the whitespace next to the token; a normalized token is looked for in what the
     * other added tokens leave (with no normalizer, in the raw text) */
    ss_tokenizer *t = load_json(make_json(
        "{\"id\": 0, \"content\": \"<|endoftext|>\", \"special\": true, \"normalized\": false, \"lstrip\": true, "
        "\"rstrip\": true}, {\"id\": 26, \"content\": \"dd\", \"special\": false, \"normalized\": true}, "
        "{\"id\": 27, \"content\": \"ab!\", \"special\": false, \"normalized\": false}",
        NULL, NULL, NULL, NULL));
    EXPECT(t, "a <|endoftext|> b", A, ENDOFTEXT, B);
    EXPECT(t, "a  \n<|endoftext|>\t\tb", A, ENDOFTEXT, B);
    EXPECT(t, "cdd", C, 26);
    EXPECT(t, "ab!", 27);
    EXPECT(t, "ab!dd<|endoftext|>dd", 27, 26, ENDOFTEXT, 26);
    CHECK(ss_tokenizer_vocab_size(t) == 28);
    CHECK(ss_tokenizer_token(t, 26) && strcmp(ss_tokenizer_token(t, 26), "dd") == 0);
    CHECK(ss_tokenizer_is_special(t, 26) == 1 && ss_tokenizer_id(t, "ab!") == 27);
    ss_tokenizer_free(t);
    /* without the flags the spaces stay: "a " and " b" around the token */
    t = load_json(make_json(NULL, NULL, NULL, NULL, NULL));
    EXPECT(t, "a <|endoftext|> b", A, G, ENDOFTEXT, G, B);
    ss_tokenizer_free(t);
}

/* Loads the tokenizer.json text, expects failure with status want and a message containing each needle. */
static void expect_json_error(int line, const char *json, ss_status want, const char *n1, const char *n2)
{
    ss_tokenizer *t = NULL;
    write_str("tokenizer.json", json);
    ss_clear_error();
    ss_status st = ss_tokenizer_load(g_dir, &t);
    const char *msg = ss_errmsg();
    if (st != want || t != NULL || !strstr(msg, n1) || (n2 && !strstr(msg, n2))) {
        fprintf(stderr, "line %d: load gave %s (%s), want %s with \"%s\"%s%s\n", line, ss_status_name(st), msg,
                ss_status_name(want), n1, n2 ? " and " : "", n2 ? n2 : "");
        g_test_failures++;
    }
    ss_tokenizer_free(t);
}
#define EXPECT_JSON_ERROR(json, n1, n2) expect_json_error(__LINE__, json, SS_ERR_FORMAT, n1, n2)

static void test_malformed_json(void)
{
    const char *bl = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false}";
    EXPECT_JSON_ERROR(make_json(NULL, NULL, "null", NULL, NULL), "tokenizer.json", "pre_tokenizer is null");
    EXPECT_JSON_ERROR(make_json(NULL, NULL, "{\"type\": \"Whitespace\"}", NULL, NULL), "\"Whitespace\"",
                      "not supported");
    EXPECT_JSON_ERROR(make_json(NULL, NULL, "{\"type\": \"ByteLevel\", \"add_prefix_space\": true}", NULL, NULL),
                      "pre_tokenizer.add_prefix_space", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL, "{\"type\": \"ByteLevel\"}", NULL, NULL), "add_prefix_space", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL, "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\"}]}",
                                NULL, NULL),
                      "no ByteLevel", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL,
                                "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\", "
                                "\"add_prefix_space\": false}, {\"type\": \"Digits\"}]}",
                                NULL, NULL),
                      "pre_tokenizer.pretokenizers[1]", "must be last");
    EXPECT_JSON_ERROR(make_json(NULL, NULL,
                                "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
                                "{\"Regex\": \"\\\\s+\"}, \"behavior\": \"Isolated\", \"invert\": false}, "
                                "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": false}]}",
                                NULL, NULL),
                      "pre_tokenizer.pretokenizers[0].pattern.Regex", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL,
                                "{\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, \"behavior\": \"Isolated\"}",
                                NULL, NULL),
                      "pre_tokenizer.pattern", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, "{\"type\": \"NFC\"}", bl, NULL, NULL), "normalizer \"NFC\"", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, "\"byte_fallback\": true", NULL), "model.byte_fallback", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, "\"dropout\": 0.1", NULL), "model.dropout", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, "\"continuing_subword_prefix\": \"##\"", NULL),
                      "model.continuing_subword_prefix", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, "\"ignore_merges\": 1", NULL), "ignore_merges", NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, "\"unk_token\": \"<nope>\"", NULL), "model.unk_token \"<nope>\"",
                      NULL);
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, NULL, "\"a b\", \"a b c\""), "model.merges[1]", "one space");
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, NULL, "\"ab\""), "model.merges[0]", "one space");
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, NULL, "\"a z\""), "model.merges[0]", "\"z\" is not in the vocabulary");
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, NULL, "\"a d\""), "model.merges[0]", "merged token \"ad\"");
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, NULL, "[\"a\"]"), "model.merges[0]", "neither");
    EXPECT_JSON_ERROR(make_json(NULL, NULL, bl, NULL, "7"), "model.merges[0]", NULL);
    EXPECT_JSON_ERROR("{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false}, \"model\": "
                      "{\"type\": \"BPE\", \"vocab\": {\"a\": 0}}}",
                      "model.merges", NULL);
    EXPECT_JSON_ERROR("{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false}, \"model\": "
                      "{\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}",
                      "used twice", NULL);
    EXPECT_JSON_ERROR("{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false}, \"model\": "
                      "{\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}, \"merges\": []}}",
                      "model.vocab[\"a\"]", NULL);
    EXPECT_JSON_ERROR("{\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false}, \"model\": "
                      "{\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}",
                      "model.vocab is empty", NULL);
    EXPECT_JSON_ERROR(make_json("{\"id\": 0, \"content\": \"x\", \"single_word\": true}", NULL, bl, NULL, NULL),
                      "added_tokens[0]", "single_word");
    EXPECT_JSON_ERROR(make_json("{\"id\": -1, \"content\": \"x\"}", NULL, bl, NULL, NULL), "added_tokens[0].id",
                      NULL);
    EXPECT_JSON_ERROR("{\"model\": {\"type\": \"Unigram\"}}", "model.type is \"Unigram\"", NULL);
}

static void expect_arrays_error(int line, const char *const *tokens, int n, const char *const *merges, int nm,
                                const int32_t *types, const char *pre, const char *needle)
{
    ss_tokenizer *t = NULL;
    ss_clear_error();
    ss_status st = ss_tokenizer_from_bpe(tokens, n, merges, nm, types, pre, &t);
    if (st != SS_ERR_FORMAT || t || !strstr(ss_errmsg(), needle)) {
        fprintf(stderr, "line %d: from_bpe gave %s (%s), want FORMAT with \"%s\"\n", line, ss_status_name(st),
                ss_errmsg(), needle);
        g_test_failures++;
    }
    ss_tokenizer_free(t);
}
#define EXPECT_ARRAYS_ERROR(...) expect_arrays_error(__LINE__, __VA_ARGS__)

static void test_malformed_arrays(void)
{
    const char *toks[] = {"a", "b", "ab"}, *bad_tok[] = {"a", "b", NULL};
    const char *merges[] = {"a b", "ab"}, *bad_merge[] = {"a b", NULL};
    int32_t types[] = {1, 9, 1};
    EXPECT_ARRAYS_ERROR(toks, 3, merges, 1, NULL, NULL, "tokenizer.ggml.pre");
    EXPECT_ARRAYS_ERROR(toks, 3, merges, 1, NULL, "qwen2", "\"qwen2\" is not supported");
    EXPECT_ARRAYS_ERROR(toks, 0, merges, 1, NULL, "gpt2", "tokenizer.ggml.tokens");
    EXPECT_ARRAYS_ERROR(toks, 3, merges, -1, NULL, "gpt2", "tokenizer.ggml.merges");
    EXPECT_ARRAYS_ERROR(toks, 3, merges, 2, NULL, "gpt2", "tokenizer.ggml.merges[1]");
    EXPECT_ARRAYS_ERROR(toks, 3, bad_merge, 2, NULL, "gpt2", "tokenizer.ggml.merges[1] is NULL");
    EXPECT_ARRAYS_ERROR(bad_tok, 3, merges, 1, NULL, "gpt2", "tokenizer.ggml.tokens[2] is NULL");
    EXPECT_ARRAYS_ERROR(toks, 3, merges, 1, types, "gpt2", "tokenizer.ggml.token_type[1]");
    EXPECT_ARRAYS_ERROR(toks, 2, merges, 1, NULL, "gpt2", "merged token \"ab\"");
    ss_tokenizer *t = (ss_tokenizer *)&t;
    CHECK(ss_tokenizer_from_bpe(toks, 3, merges, 1, NULL, "gpt2", NULL) == SS_ERR_INPUT);
    CHECK(ss_tokenizer_from_bpe(toks, 3, NULL, 0, NULL, "gpt2", &t) == SS_OK && t != NULL);
    EXPECT(t, "ab", 0, 1); /* no merges */
    ss_tokenizer_free(t);
    int32_t *ids;
    int n;
    CHECK(ss_tokenizer_encode(NULL, "x", &ids, &n) == SS_ERR_INPUT);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/ss_test_bpe_XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_encode();
    test_added();
    test_malformed_json();
    test_malformed_arrays();
    char path[128];
    snprintf(path, sizeof path, "%s/tokenizer.json", g_dir);
    unlink(path);
    rmdir(g_dir);
    TEST_END();
}
