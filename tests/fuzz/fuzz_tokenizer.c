/* fuzz_tokenizer.c: libFuzzer target for WordPiece encoding. The input bytes (any encoding, NULs turned into
 * U+0001 so that the whole input is used) are encoded with the MiniLM tokenizer, loaded once from
 * $SS_FUZZ_MODEL_DIR; without it, a small vocabulary written to a temporary directory stands in.
 * Checks: encoding succeeds, every id names a token, the count is bounded by the input size, and a
 * second encoding gives the same ids. Must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ss_tokenizer *g_tok;

/* A stand-in vocabulary (vocab.txt in a temporary directory, removed again once loaded). */
static ss_tokenizer *load_fallback(void)
{
    static const char vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n[unused0]\na\nb\nab\n##a\n##b\n##ab\n.\n,\n"
                                "\xE4\xB8\xAD\n##\xC3\xA9\n\xC3\xA9\nhello\nworld\n##s\n";
    char dir[] = "/tmp/ss_fuzz_tok_XXXXXX", path[64];
    ss_tokenizer *t = NULL;
    if (!mkdtemp(dir)) return NULL;
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(vocab, 1, sizeof vocab - 1, f);
        fclose(f);
        if (ss_tokenizer_load(dir, &t) != SS_OK) t = NULL;
    }
    unlink(path);
    rmdir(dir);
    return t;
}

static ss_tokenizer *tokenizer(void)
{
    if (g_tok) return g_tok;
    const char *dir = getenv("SS_FUZZ_MODEL_DIR");
    if (dir && *dir && ss_tokenizer_load(dir, &g_tok) != SS_OK) {
        fprintf(stderr, "fuzz_tokenizer: %s; using a small built-in vocabulary\n", ss_errmsg());
        g_tok = NULL;
    }
    if (!g_tok) g_tok = load_fallback();
    if (!g_tok) {
        fprintf(stderr, "fuzz_tokenizer: no tokenizer could be loaded\n");
        abort();
    }
    return g_tok; /* kept for the whole run (LeakSanitizer ignores reachable globals) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ss_tokenizer *t = tokenizer();
    char *text = malloc(size + 1);
    if (!text) return 0;
    for (size_t i = 0; i < size; i++) text[i] = data[i] ? (char)data[i] : '\x01';
    text[size] = '\0';

    int32_t *ids = NULL, *again = NULL;
    int n = -1, m = -1;
    if (ss_tokenizer_encode(t, text, &ids, &n) != SS_OK) abort(); /* any text can be encoded */
    if (n < 0 || (size_t)n > 4 * size + 4 || !ids) abort();
    for (int i = 0; i < n; i++)
        if (!ss_tokenizer_token(t, ids[i])) abort();
    if (ss_tokenizer_encode(t, text, &again, &m) != SS_OK || m != n) abort();
    if (n && memcmp(ids, again, (size_t)n * sizeof *ids) != 0) abort();
    free(ids);
    free(again);
    free(text);
    return 0;
}
