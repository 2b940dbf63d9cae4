/* fuzz_unigram.c: libFuzzer target for the Unigram tokenizer (unigram.c, Gemma's): a small vocabulary
 * with scores, whitespace-run pieces, byte pieces for a few bytes and one control token is built once;
 * the input (NULs turned into 0x01) is encoded. Every id must name a piece, a second encoding must give
 * the same ids, and nothing may crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/unigram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ss_unigram *g_u;

static void setup(void)
{
    if (g_u) return;
    static const char *const pieces[] = {"<pad>", "<eos>", "<bos>", "<unk>", "<start>", "<0x41>", "<0xC3>", "<0xA9>",
                                         "<0x09>", "  ", "\xe2\x96\x81", "\xe2\x96\x81" "the", "the", "e", "t", "h",
                                         "\xe2\x96\x81" "a", "a", "ab", "b", "\xc3\xa9" "", "\xe2\x96\x81\xe2\x96\x81" "x"};
    static const int32_t types[] = {3, 3, 3, 2, 3, 6, 6, 6, 1, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    enum { N = sizeof pieces / sizeof pieces[0] };
    uint64_t len[N];
    float scores[N];
    for (int i = 0; i < N; i++) {
        len[i] = strlen(pieces[i]);
        scores[i] = -(float)(i % 7) - 0.5f;
    }
    if (ss_unigram_new(pieces, len, scores, types, N, 3, &g_u) != SS_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    char *text = malloc(size + 1);
    if (!text) return 0;
    for (size_t i = 0; i < size; i++) text[i] = data[i] ? (char)data[i] : 1;
    text[size] = '\0';
    int32_t *a = NULL, *b = NULL;
    int na = 0, nb = 0;
    if (ss_unigram_encode(g_u, text, &a, &na) == SS_OK && ss_unigram_encode(g_u, text, &b, &nb) == SS_OK) {
        if (na != nb || (na > 0 && memcmp(a, b, (size_t)na * sizeof *a) != 0)) __builtin_trap();
        for (int i = 0; i < na; i++)
            if (a[i] < 0 || a[i] >= ss_unigram_vocab_size(g_u)) __builtin_trap();
        if ((size_t)na > 4 * size + 1) __builtin_trap();
    }
    free(a);
    free(b);
    free(text);
    return 0;
}
