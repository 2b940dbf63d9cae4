/* test_wordpiece.c: the WordPiece tokenizer on a small vocabulary the test writes itself, loaded both from
 * vocab.txt (+ tokenizer_config.json) and from tokenizer.json; plus malformed files. Every expected id
 * below is the line number (from 0) of the expected piece in VOCAB, worked out by hand. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "model/tokenizer.h"
#include "test_util.h"

/* The vocabulary, one token per line; the comment is the id. */
static const char *VOCAB[] = {
    "[PAD]",     /* 0 */
    "[unused0]", /* 1 */
    "[unused1]", /* 2 */
    "[UNK]",     /* 3 */
    "[CLS]",     /* 4 */
    "[SEP]",     /* 5 */
    "[MASK]",    /* 6 */
    "un",        /* 7 */
    "##aff",     /* 8 */
    "##able",    /* 9 */
    "hello",     /* 10 */
    "world",     /* 11 */
    ",",         /* 12 */
    "!",         /* 13 */
    "cafe",      /* 14 */
    "\xE4\xB8\xAD", /* 15 中 */
    "\xE6\x96\x87", /* 16 文 */
    "a",         /* 17 */
    "##b",       /* 18 */
    "ab",        /* 19 */
    ".",         /* 20 */
    "##c",       /* 21 */
    "x",         /* 22 */
    "##x",       /* 23 */
    "i",         /* 24 */
    "##\xCC\x87", /* 25 ##(U+0307 combining dot above) */
    "\xC3\xA9",  /* 26 é */
    "[unusedx]", /* 27: not an [unusedN] token */
    "caf",       /* 28 */
    "##\xC3\xA9", /* 29 ##é */
    "##e",       /* 30 */
    "##s",       /* 31 */
    "\xE1\x84\x92", /* 32 ᄒ U+1112 */
    "##\xE1\x85\xA1", /* 33 ##ᅡ U+1161 */
    "##\xE1\x86\xAB", /* 34 ##ᆫ U+11AB */
    "[",         /* 35 */
    "]",         /* 36 */
    "mask",      /* 37 */
    "$",         /* 38 */
    "5",         /* 39 */
    "##0",       /* 40 */
};
#define N_VOCAB ((int)(sizeof VOCAB / sizeof VOCAB[0]))

static char g_dirs[16][64];
static int g_ndirs;

/* A fresh temporary directory (removed with its files at the end). */
static const char *make_dir(void)
{
    char *d = g_dirs[g_ndirs++];
    snprintf(d, 64, "/tmp/ss_tok_test_XXXXXX");
    if (!mkdtemp(d)) {
        fprintf(stderr, "mkdtemp failed\n");
        exit(1);
    }
    return d;
}

static void write_file(const char *dir, const char *name, const char *content, size_t len)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(content, 1, len, f) != len) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void write_str(const char *dir, const char *name, const char *content)
{
    write_file(dir, name, content, strlen(content));
}

static void remove_dirs(void)
{
    static const char *names[] = {"vocab.txt", "tokenizer.json", "tokenizer_config.json"};
    for (int i = 0; i < g_ndirs; i++) {
        char path[1200];
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            snprintf(path, sizeof path, "%s/%s", g_dirs[i], names[k]);
            unlink(path);
        }
        rmdir(g_dirs[i]);
    }
}

static void write_vocab_txt(const char *dir)
{
    char buf[4096];
    size_t n = 0;
    for (int i = 0; i < N_VOCAB; i++) n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\n", VOCAB[i]);
    write_file(dir, "vocab.txt", buf, n);
}

/* tokenizer.json with the same vocabulary and the given normalizer / extra added tokens. */
static void write_tokenizer_json(const char *dir, const char *normalizer, const char *extra_added)
{
    static char buf[16384];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null,\n \"added_tokens\": [");
    const int special[] = {0, 3, 4, 5, 6};
    for (int k = 0; k < 5; k++)
        n += (size_t)snprintf(buf + n, sizeof buf - n,
                              "%s{\"id\": %d, \"content\": \"%s\", \"single_word\": false, \"lstrip\": false, "
                              "\"rstrip\": false, \"normalized\": false, \"special\": true}",
                              k ? ", " : "", special[k], VOCAB[special[k]]);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s],\n \"normalizer\": %s,\n", extra_added ? extra_added : "",
                          normalizer);
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},\n \"post_processor\": null,\n"
                          " \"decoder\": {\"type\": \"WordPiece\", \"prefix\": \"##\", \"cleanup\": true},\n"
                          " \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", "
                          "\"continuing_subword_prefix\": \"##\", \"max_input_chars_per_word\": 100, \"vocab\": {");
    for (int i = 0; i < N_VOCAB; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\"%s\": %d", i ? ", " : "", VOCAB[i], i);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "}}}\n");
    write_file(dir, "tokenizer.json", buf, n);
}

#define BERT_NORM_LOWER                                                                                  \
    "{\"type\": \"BertNormalizer\", \"clean_text\": true, \"handle_chinese_chars\": true, "             \
    "\"strip_accents\": null, \"lowercase\": true}"
#define BERT_NORM_CASED                                                                                  \
    "{\"type\": \"BertNormalizer\", \"clean_text\": true, \"handle_chinese_chars\": true, "             \
    "\"strip_accents\": null, \"lowercase\": false}"

/* Encodes text and compares with want[0..nw). */
static void expect_ids(const ss_tokenizer *t, const char *text, const int32_t *want, int nw, int line)
{
    int32_t *ids = NULL;
    int n = -1;
    ss_status st = ss_tokenizer_encode(t, text, &ids, &n);
    if (st != SS_OK) {
        fprintf(stderr, "line %d: encode failed: %s\n", line, ss_errmsg());
        g_test_failures++;
        return;
    }
    int same = n == nw && ids != NULL;
    for (int i = 0; same && i < n; i++) same = ids[i] == want[i];
    if (!same) {
        fprintf(stderr, "line %d: text \"%s\": got [", line, text);
        for (int i = 0; i < n; i++) fprintf(stderr, "%s%d", i ? " " : "", ids[i]);
        fprintf(stderr, "], want [");
        for (int i = 0; i < nw; i++) fprintf(stderr, "%s%d", i ? " " : "", want[i]);
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
#define EXPECT_NONE(t, text) expect_ids(t, text, NULL, 0, __LINE__)

/* Cases for an uncased (lower-casing, accent-stripping) tokenizer. */
static void uncased_cases(const ss_tokenizer *t)
{
    EXPECT(t, "unaffable", 7, 8, 9);
    EXPECT(t, "Hello, World!", 10, 12, 11, 13);
    EXPECT(t, "  hello\t\n  world \r\n", 10, 11);
    EXPECT(t, "Caf\xC3\xA9", 14);                /* Café -> cafe */
    EXPECT(t, "CAF\xC3\x89S", 14, 31);           /* CAFÉS -> cafes -> cafe ##s */
    EXPECT(t, "cafe\xCC\x81", 14);               /* e + combining acute -> cafe */
    EXPECT(t, "\xE4\xB8\xAD\xE6\x96\x87", 15, 16); /* 中文: each ideograph is a word */
    EXPECT(t, "a\xE4\xB8\xAD" "ab", 17, 15, 19); /* a中ab */
    EXPECT(t, "a\x01" "b", 19);                  /* control char dropped: "ab" */
    EXPECT(t, "a\xE2\x80\x8B" "b", 19);          /* zero width space (Cf) dropped */
    EXPECT(t, "a\xC2\xA0" "b", 17, 3);           /* no-break space splits; "b" alone is unknown */
    EXPECT(t, "a\x0B" "b", 19);                  /* vertical tab is Cc: dropped, not a space */
    EXPECT(t, "a\xEF\xBF\xBD" "b", 19);          /* U+FFFD dropped */
    EXPECT(t, "a\xFF" "b", 19);                  /* invalid byte -> U+FFFD -> dropped */
    EXPECT(t, "abc", 19, 21);                    /* longest first: ab ##c */
    EXPECT(t, "abd", 3);                         /* no segmentation: the whole word is [UNK] */
    EXPECT(t, "abd ab", 3, 19);
    EXPECT(t, "ab.ab", 19, 20, 19);              /* punctuation splits */
    EXPECT(t, "$50", 38, 39, 40);                /* ASCII symbols are punctuation for BERT */
    EXPECT(t, "[MASK]", 6);                      /* added token matched in the raw text */
    EXPECT(t, "a[MASK]ab", 17, 6, 19);
    EXPECT(t, "[CLS] hello [SEP]", 4, 10, 5);
    EXPECT(t, "[mask]", 35, 37, 36);             /* not the added token: [ mask ] */
    EXPECT(t, "[unused0]", 35, 3, 36);           /* vocabulary entries are not matched as added tokens */
    EXPECT(t, "\xC4\xB0", 24);                   /* İ: NFD gives I + U+0307, the mark goes, then lower-case: i */
    EXPECT(t, "\xED\x95\x9C", 32, 33, 34);       /* 한 -> ᄒ ##ᅡ ##ᆫ (NFD) */
    EXPECT(t, "\xC3\xA9", 3);                   /* é -> e: "e" alone is not a word here -> [UNK] */
    EXPECT_NONE(t, "");
    EXPECT_NONE(t, "   \t\n ");
    EXPECT_NONE(t, "\x01\x02\xE2\x80\x8B");

    /* max_input_chars_per_word = 100: 100 x's are x + 99 ##x; 101 are [UNK] */
    char xs[128];
    memset(xs, 'x', sizeof xs);
    xs[100] = '\0';
    int32_t want[100];
    want[0] = 22;
    for (int i = 1; i < 100; i++) want[i] = 23;
    expect_ids(t, xs, want, 100, __LINE__);
    xs[100] = 'x';
    xs[101] = '\0';
    EXPECT(t, xs, 3);
    xs[100] = '.'; /* 100 x's then punctuation: still segmented */
    int32_t want2[101];
    memcpy(want2, want, sizeof want);
    want2[100] = 20;
    expect_ids(t, xs, want2, 101, __LINE__);
}

static void accessor_cases(const ss_tokenizer *t)
{
    CHECK(ss_tokenizer_vocab_size(t) == N_VOCAB);
    CHECK_STREQ(ss_tokenizer_kind(t), "wordpiece");
    CHECK_STREQ(ss_tokenizer_token(t, 10), "hello");
    CHECK_STREQ(ss_tokenizer_token(t, 6), "[MASK]");
    CHECK(ss_tokenizer_token(t, -1) == NULL);
    CHECK(ss_tokenizer_token(t, N_VOCAB) == NULL);
    CHECK(ss_tokenizer_id(t, "world") == 11);
    CHECK(ss_tokenizer_id(t, "##aff") == 8);
    CHECK(ss_tokenizer_id(t, "[SEP]") == 5);
    CHECK(ss_tokenizer_id(t, "nope") == -1);
    const int special[] = {0, 1, 2, 3, 4, 5, 6};
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
        CHECK_MSG(ss_tokenizer_is_special(t, special[i]) == 1, "id %d", special[i]);
    const int plain[] = {7, 10, 12, 27, 35};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        CHECK_MSG(ss_tokenizer_is_special(t, plain[i]) == 0, "id %d", plain[i]);
    CHECK(ss_tokenizer_is_special(t, -1) == 0);
    CHECK(ss_tokenizer_is_special(t, N_VOCAB) == 0);
}

static void test_vocab_txt(void)
{
    const char *dir = make_dir();
    write_vocab_txt(dir);
    ss_tokenizer *t = NULL;
    CHECK_MSG(ss_tokenizer_load(dir, &t) == SS_OK, "%s", ss_errmsg());
    if (!t) return;
    uncased_cases(t);
    accessor_cases(t);
    ss_tokenizer_free(t);

    /* cased: do_lower_case false -> no lower-casing and (strip_accents null) no accent stripping */
    write_str(dir, "tokenizer_config.json",
              "{\"do_lower_case\": false, \"strip_accents\": null, \"unk_token\": {\"content\": \"[UNK]\"}}");
    CHECK_MSG(ss_tokenizer_load(dir, &t) == SS_OK, "%s", ss_errmsg());
    if (!t) return;
    EXPECT(t, "caf\xC3\xA9", 28, 29);    /* café -> caf ##é */
    EXPECT(t, "\xC3\xA9", 26);           /* é kept */
    EXPECT(t, "Hello hello", 3, 10);     /* Hello is unknown when cased */
    ss_tokenizer_free(t);

    /* lower-case but keep accents */
    write_str(dir, "tokenizer_config.json", "{\"do_lower_case\": true, \"strip_accents\": false}");
    CHECK_MSG(ss_tokenizer_load(dir, &t) == SS_OK, "%s", ss_errmsg());
    if (!t) return;
    EXPECT(t, "CAF\xC3\x89", 28, 29); /* CAFÉ -> café */
    EXPECT(t, "\xC4\xB0", 24, 25);     /* İ lower-cases to i + U+0307, which is kept: i ##(U+0307) */
    ss_tokenizer_free(t);
}

static void test_tokenizer_json(void)
{
    const char *dir = make_dir();
    write_tokenizer_json(dir, BERT_NORM_LOWER, NULL);
    ss_tokenizer *t = NULL;
    CHECK_MSG(ss_tokenizer_load(dir, &t) == SS_OK, "%s", ss_errmsg());
    if (!t) return;
    uncased_cases(t);
    accessor_cases(t);
    ss_tokenizer_free(t);

    write_tokenizer_json(dir, BERT_NORM_CASED, NULL);
    CHECK_MSG(ss_tokenizer_load(dir, &t) == SS_OK, "%s", ss_errmsg());
    if (!t) return;
    EXPECT(t, "caf\xC3\xA9", 28, 29);
    EXPECT(t, "Hello hello", 3, 10);
    ss_tokenizer_free(t);

    /* added tokens: a normalised one is matched after lower-casing; lstrip/rstrip eat neighbouring spaces */
    write_tokenizer_json(dir, BERT_NORM_LOWER,
                         ", {\"id\": 41, \"content\": \"Hello World\", \"normalized\": true, \"special\": false}"
                         ", {\"id\": 42, \"content\": \"<x>\", \"normalized\": false, \"lstrip\": true, "
                         "\"rstrip\": true, \"special\": false}");
    CHECK_MSG(ss_tokenizer_load(dir, &t) == SS_OK, "%s", ss_errmsg());
    if (!t) return;
    EXPECT(t, "say HELLO WORLD!", 3, 41, 13); /* "say" is unknown */
    EXPECT(t, "a <x> ab", 17, 42, 19);
    EXPECT(t, "a<x>ab", 17, 42, 19);
    CHECK(ss_tokenizer_vocab_size(t) == 43);
    CHECK_STREQ(ss_tokenizer_token(t, 42), "<x>");
    CHECK(ss_tokenizer_id(t, "Hello World") == 41);
    CHECK(ss_tokenizer_is_special(t, 41) == 1);
    ss_tokenizer_free(t);

    /* no normalizer at all: text is used as is */
    write_tokenizer_json(dir, "null", NULL);
    CHECK_MSG(ss_tokenizer_load(dir, &t) == SS_OK, "%s", ss_errmsg());
    if (!t) return;
    EXPECT(t, "Hello hello", 3, 10);
    EXPECT(t, "a\x01" "b", 3); /* the control character stays inside the word */
    ss_tokenizer_free(t);
}

/* Loads dir, expects failure with status want and a message containing each of the needles. */
static void expect_load_error(const char *dir, ss_status want, const char *needle1, const char *needle2, int line)
{
    ss_tokenizer *t = NULL;
    ss_clear_error();
    ss_status st = ss_tokenizer_load(dir, &t);
    const char *msg = ss_errmsg();
    if (st != want || t != NULL || !strstr(msg, needle1) || (needle2 && !strstr(msg, needle2))) {
        fprintf(stderr, "line %d: load gave %s (%s), want %s with \"%s\"%s%s\n", line, ss_status_name(st), msg,
                ss_status_name(want), needle1, needle2 ? " and " : "", needle2 ? needle2 : "");
        g_test_failures++;
    }
    ss_tokenizer_free(t);
}
#define EXPECT_LOAD_ERROR(dir, st, n1, n2) expect_load_error(dir, st, n1, n2, __LINE__)

static void test_malformed(void)
{
    const char *dir = make_dir();
    EXPECT_LOAD_ERROR(dir, SS_ERR_IO, "no tokenizer.json or vocab.txt", NULL);

    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0,}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "line 1");
    write_str(dir, "tokenizer.json", "[1, 2]");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "not a JSON object");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "\"BPE\"");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": "
                                     "{\"[UNK]\": 0, \"a\": \"one\"}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "model.vocab[\"a\"]");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": "
                                     "{\"[UNK]\": 0, \"a\": -3}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "model.vocab[\"a\"]");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": "
                                     "{\"[UNK]\": 0, \"a\": 0}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "used twice");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": "
                                     "{\"[UNK]\": 0, \"a\": 1, \"a\": 2}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "duplicate");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"<unk>\", \"vocab\": "
                                     "{\"[UNK]\": 0, \"a\": 1}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "\"<unk>\" is not in model.vocab");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "unk_token");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": "
                                     "{\"[UNK]\": 0, \"a\": 999999999}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "model.vocab[\"a\"]");
    write_str(dir, "tokenizer.json", "{\"normalizer\": {\"type\": \"Lowercase\"}, \"model\": {\"type\": "
                                     "\"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {\"[UNK]\": 0}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "\"Lowercase\" is not supported");
    write_str(dir, "tokenizer.json", "{\"normalizer\": {\"type\": \"BertNormalizer\", \"lowercase\": \"yes\"}, "
                                     "\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": "
                                     "{\"[UNK]\": 0}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "normalizer.lowercase");
    write_str(dir, "tokenizer.json", "{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": "
                                     "\"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {\"[UNK]\": 0}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "\"ByteLevel\"");
    write_str(dir, "tokenizer.json", "{\"added_tokens\": [{\"id\": \"x\", \"content\": \"[UNK]\"}], \"model\": "
                                     "{\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": {\"[UNK]\": 0}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "added_tokens[0].id");
    write_str(dir, "tokenizer.json", "{\"added_tokens\": [{\"id\": 0, \"content\": \"[UNK]\", \"single_word\": "
                                     "true}], \"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", "
                                     "\"vocab\": {\"[UNK]\": 0}}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "single_word");
    write_str(dir, "tokenizer.json", "{\"model\": {\"type\": \"WordPiece\", \"unk_token\": \"[UNK]\", \"vocab\": "
                                     "[\"[UNK]\"]}}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "model.vocab");
    write_str(dir, "tokenizer.json", "");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer.json", "line");
    char path[1200];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    unlink(path);

    write_str(dir, "vocab.txt", "");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "vocab.txt", "no tokens");
    write_str(dir, "vocab.txt", "[PAD]\n[UNK]\nbad\xFF\n");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "vocab.txt", "line 3");
    write_str(dir, "vocab.txt", "[PAD]\nhello\n");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "vocab.txt", "\"[UNK]\"");
    write_file(dir, "vocab.txt", "[UNK]\nhe\0llo\n", 13);
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "vocab.txt", "line 2");
    write_str(dir, "vocab.txt", "[UNK]\r\nhello\r\n");
    write_str(dir, "tokenizer_config.json", "{\"do_lower_case\": true,");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer_config.json", "line");
    write_str(dir, "tokenizer_config.json", "{\"do_lower_case\": 1}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer_config.json", "do_lower_case");
    write_str(dir, "tokenizer_config.json", "{\"unk_token\": 7}");
    EXPECT_LOAD_ERROR(dir, SS_ERR_FORMAT, "tokenizer_config.json", "unk_token");

    /* CRLF line ends are line ends: "hello" has id 1; missing special tokens are appended */
    write_str(dir, "tokenizer_config.json", "{}");
    ss_tokenizer *t = NULL;
    CHECK_MSG(ss_tokenizer_load(dir, &t) == SS_OK, "%s", ss_errmsg());
    if (t) {
        EXPECT(t, "Hello", 1);
        CHECK_STREQ(ss_tokenizer_token(t, 1), "hello");
        /* appended in transformers' order unk, sep, pad, cls, mask: [SEP] 2, [PAD] 3, [CLS] 4, [MASK] 5 */
        CHECK(ss_tokenizer_id(t, "[MASK]") == 5);
        CHECK(ss_tokenizer_vocab_size(t) == 6);
        CHECK(ss_tokenizer_is_special(t, 5) == 1 && ss_tokenizer_is_special(t, 1) == 0);
        EXPECT(t, "hello[MASK]", 1, 5);
        ss_tokenizer_free(t);
    }

    /* NULL arguments are errors, not crashes */
    CHECK(ss_tokenizer_load(NULL, &t) == SS_ERR_INPUT);
    int32_t *ids;
    int n;
    CHECK(ss_tokenizer_encode(NULL, "x", &ids, &n) == SS_ERR_INPUT);
    ss_tokenizer_free(NULL);
}

int main(void)
{
    test_vocab_txt();
    test_tokenizer_json();
    test_malformed();
    remove_dirs();
    TEST_END();
}
