/* fuzz_bpe.c: libFuzzer target for byte-level BPE encoding (bpe.c, pretok.c). A small vocabulary is built once
 * in the target through ss_tokenizer_from_bpe: the 256 GPT-2 byte symbols, merges of pairs of a few common
 * symbols and of their results, and one control token "<|x|>". The first input byte picks the pre-tokenizer
 * (gpt2, smollm, llama-bpe); the rest, NULs turned into U+0001, is the text. Checks:
 *   - encoding succeeds, every id names a token, the count is at most the text's byte count;
 *   - the pre-tokenizer's pieces are non-empty, in order and cover the text;
 *   - decoding the ids (byte symbols back to bytes, the control token as itself) gives back the text, with
 *     each ill-formed UTF-8 sequence replaced by U+FFFD (every byte has a symbol, so nothing is lost);
 *   - a second encoding gives the same ids.
 * Must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/pretok.h"    /* defines: ss_pretok_split, ss_pretok_classify */
#include "model/tokenizer.h" /* defines: ss_tokenizer_from_bpe, ... */
#include "model/utf8.h"      /* defines: ss_utf8_decode, ss_utf8_encode */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const k_pre[3] = {"gpt2", "smollm", "llama-bpe"};
static ss_tokenizer *g_tok[3];
static uint32_t g_sym_cp[256];   /* byte -> its symbol's code point */
static int16_t g_cp_byte[512];   /* symbol code point -> byte */

/* Appends the UTF-8 of cp to *s (a buffer of at least 8 bytes left). */
static char *put(char *s, uint32_t cp) { return s + ss_utf8_encode(cp, s); }

static ss_tokenizer *build(const char *pre)
{
    /* symbols of bytes: printable Latin-1 stand for themselves, the rest for U+0100 on, in byte order */
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        g_sym_cp[b] = printable ? (uint32_t)b : next++;
        g_cp_byte[g_sym_cp[b]] = (int16_t)b;
    }
    static const char common[] = " etaoinsrhld1\n'";
    enum { NC = sizeof common - 1, MAXT = 256 + NC * NC + NC * NC + 1, MAXM = NC * NC * 2 };
    static char tokbuf[MAXT][24], mergebuf[MAXM][48];
    const char *tokens[MAXT], *merges[MAXM];
    int32_t types[MAXT];
    int nt = 0, nm = 0;
    for (int b = 0; b < 256; b++) {
        *put(tokbuf[nt], g_sym_cp[b]) = '\0';
        types[nt] = 1;
        tokens[nt] = tokbuf[nt];
        nt++;
    }
    /* pairs of common symbols, then each pair followed by a common symbol again (left to right) */
    for (int i = 0; i < NC; i++)
        for (int j = 0; j < NC; j++) {
            const char *a = tokbuf[(unsigned char)common[i]], *b = tokbuf[(unsigned char)common[j]];
            snprintf(tokbuf[nt], sizeof tokbuf[nt], "%s%s", a, b);
            snprintf(mergebuf[nm], sizeof mergebuf[nm], "%s %s", a, b);
            types[nt] = 1;
            tokens[nt] = tokbuf[nt];
            merges[nm] = mergebuf[nm];
            nt++;
            nm++;
        }
    for (int i = 0; i < NC; i++)
        for (int j = 0; j < NC; j++) {
            int pair = 256 + i * NC + j;
            const char *c = tokbuf[(unsigned char)common[(i + j) % NC]];
            snprintf(tokbuf[nt], sizeof tokbuf[nt], "%s%s", tokbuf[pair], c);
            snprintf(mergebuf[nm], sizeof mergebuf[nm], "%s %s", tokbuf[pair], c);
            types[nt] = 1;
            tokens[nt] = tokbuf[nt];
            merges[nm] = mergebuf[nm];
            nt++;
            nm++;
        }
    snprintf(tokbuf[nt], sizeof tokbuf[nt], "<|x|>");
    types[nt] = 3;
    tokens[nt] = tokbuf[nt];
    nt++;
    ss_tokenizer *t = NULL;
    if (ss_tokenizer_from_bpe(tokens, nt, merges, nm, types, pre, &t) != SS_OK) {
        fprintf(stderr, "fuzz_bpe: %s\n", ss_errmsg());
        abort();
    }
    return t; /* kept for the whole run (LeakSanitizer ignores reachable globals) */
}

typedef struct {
    size_t next, n;
    int bad;
} cover;

static int check_piece(void *ctx, size_t start, size_t end)
{
    cover *c = ctx;
    if (start != c->next || end <= start || end > c->n) c->bad = 1;
    c->next = end;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    int which = data[0] % 3;
    if (!g_tok[which]) g_tok[which] = build(k_pre[which]);
    ss_tokenizer *t = g_tok[which];
    data++;
    size--;
    char *text = malloc(size + 1);
    uint32_t *cps = malloc((size + 1) * sizeof *cps);
    uint8_t *cls = malloc(size + 1);
    char *want = malloc(3 * size + 1), *got = malloc(3 * size + 1);
    if (!text || !cps || !cls || !want || !got) abort();
    for (size_t i = 0; i < size; i++) text[i] = data[i] ? (char)data[i] : '\x01';
    text[size] = '\0';

    /* the text as the tokenizer sees it: decoded with U+FFFD for ill-formed sequences, re-encoded */
    size_t n = 0, wl = 0;
    for (size_t i = 0; i < size;) {
        size_t k;
        cps[n] = ss_utf8_decode((const unsigned char *)text + i, size - i, &k);
        wl += ss_utf8_encode(cps[n], want + wl);
        n++;
        i += k;
    }

    /* the pre-tokenizer's pieces cover the text */
    ss_pretok pre = {0};
    if (which == 0) pre.step[pre.n++] = SS_PRETOK_GPT2;
    if (which == 1) {
        pre.step[pre.n++] = SS_PRETOK_DIGITS;
        pre.step[pre.n++] = SS_PRETOK_GPT2;
    }
    if (which == 2) pre.step[pre.n++] = SS_PRETOK_LLAMA3;
    ss_pretok_classify(cps, n, cls);
    cover cv = {0, n, 0};
    ss_pretok_split(&pre, cps, cls, n, check_piece, &cv);
    if (cv.bad || cv.next != n) abort();

    int32_t *ids = NULL, *again = NULL;
    int m = -1, m2 = -1;
    if (ss_tokenizer_encode(t, text, &ids, &m) != SS_OK || !ids) abort(); /* any text can be encoded */
    if (m < 0 || (size_t)m > wl) abort();
    size_t gl = 0;
    for (int i = 0; i < m; i++) {
        const char *tok = ss_tokenizer_token(t, ids[i]);
        if (!tok) abort();
        if (ss_tokenizer_is_special(t, ids[i])) { /* the control token, written literally */
            if (gl + strlen(tok) > wl) abort();
            memcpy(got + gl, tok, strlen(tok));
            gl += strlen(tok);
            continue;
        }
        for (size_t k = 0, len = strlen(tok); k < len;) {
            size_t used;
            uint32_t cp = ss_utf8_decode((const unsigned char *)tok + k, len - k, &used);
            if (cp >= 512 || (g_cp_byte[cp] == 0 && cp != g_sym_cp[0]) || gl >= wl) abort(); /* not a byte symbol */
            got[gl++] = (char)g_cp_byte[cp];
            k += used;
        }
    }
    if (gl != wl || memcmp(got, want, wl) != 0) abort();
    if (ss_tokenizer_encode(t, text, &again, &m2) != SS_OK || m2 != m) abort();
    if (m && memcmp(ids, again, (size_t)m * sizeof *ids) != 0) abort();
    free(ids);
    free(again);
    free(text);
    free(cps);
    free(cls);
    free(want);
    free(got);
    return 0;
}
