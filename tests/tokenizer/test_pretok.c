/* test_pretok.c: the byte-level BPE pre-tokenizer splitters alone (pretok.c), on hand-written cases whose
 * expected pieces follow from the regex semantics (leftmost-first alternation, greedy quantifiers with
 * backtracking, find-all with the gaps kept): the GPT-2 regex, the Llama-3 regex, Digits (each digit / runs) and
 * their sequence as SmolLM uses it; plus the character classes behind them. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/pretok.h" /* defines: ss_pretok, ss_pretok_split, ... */
#include "model/utf8.h"   /* defines: ss_uc_bpe_class, ss_utf8_decode, ss_utf8_encode */
#include "test_util.h"

#define MAX_PIECES 64

typedef struct {
    const uint32_t *cps;
    char got[MAX_PIECES][256];
    int n;
} collector;

static int collect(void *ctx, size_t start, size_t end)
{
    collector *c = ctx;
    if (c->n >= MAX_PIECES) return 1;
    size_t len = 0;
    for (size_t i = start; i < end && len + 4 < sizeof c->got[0]; i++) len += ss_utf8_encode(c->cps[i], c->got[c->n] + len);
    c->got[c->n][len] = '\0';
    c->n++;
    return 0;
}

/* Splits text with the given steps and compares the pieces with the NULL-terminated list that follows. */
static void expect(int line, const ss_pretok *p, const char *text, ...)
{
    size_t len = strlen(text), n = 0;
    uint32_t *cps = malloc((len + 1) * sizeof *cps);
    uint8_t *cls = malloc(len + 1);
    for (size_t i = 0; i < len;) {
        size_t k;
        cps[n++] = ss_utf8_decode((const unsigned char *)text + i, len - i, &k);
        i += k;
    }
    ss_pretok_classify(cps, n, cls);
    collector c = {cps, {{0}}, 0};
    int rc = ss_pretok_split(p, cps, cls, n, collect, &c);
    va_list ap;
    va_start(ap, text);
    int k = 0, ok = rc == 0;
    for (const char *want; (want = va_arg(ap, const char *)) != NULL; k++)
        if (k >= c.n || strcmp(c.got[k], want) != 0) ok = 0;
    va_end(ap);
    if (k != c.n) ok = 0;
    if (!ok) {
        fprintf(stderr, "line %d: split of \"%s\" gave %d piece(s):", line, text, c.n);
        for (int i = 0; i < c.n; i++) fprintf(stderr, " [%s]", c.got[i]);
        fputc('\n', stderr);
        g_test_failures++;
    }
    free(cps);
    free(cls);
}
#define EXPECT(p, ...) expect(__LINE__, p, __VA_ARGS__, (const char *)NULL)

static void test_classes(void)
{
    CHECK(ss_uc_bpe_class('a') == SS_UCB_L && ss_uc_bpe_class('Z') == SS_UCB_L);
    CHECK(ss_uc_bpe_class('7') == (SS_UCB_N | SS_UCB_NUMERIC));
    CHECK(ss_uc_bpe_class(' ') == SS_UCB_SPACE && ss_uc_bpe_class('\t') == SS_UCB_SPACE);
    CHECK(ss_uc_bpe_class('\n') == SS_UCB_SPACE && ss_uc_bpe_class('\r') == SS_UCB_SPACE);
    CHECK(ss_uc_bpe_class('!') == 0 && ss_uc_bpe_class('\'') == 0 && ss_uc_bpe_class(0x04) == 0);
    CHECK(ss_uc_bpe_class(0xE9) == SS_UCB_L);                      /* é */
    CHECK(ss_uc_bpe_class(0x4E2D) == SS_UCB_L);                    /* 中 (Lo) */
    CHECK(ss_uc_bpe_class(0x17F) == SS_UCB_L);                     /* ſ */
    CHECK(ss_uc_bpe_class(0x301) == 0);                            /* combining acute (Mn) */
    CHECK(ss_uc_bpe_class(0xBD) == (SS_UCB_N | SS_UCB_NUMERIC));   /* ½ (No) */
    CHECK(ss_uc_bpe_class(0x216B) == (SS_UCB_N | SS_UCB_NUMERIC)); /* Ⅻ (Nl) */
    CHECK(ss_uc_bpe_class(0x661) == (SS_UCB_N | SS_UCB_NUMERIC));  /* Arabic-Indic one */
    CHECK(ss_uc_bpe_class(0x11F50) == SS_UCB_NUMERIC);             /* Kawi digit: numeric for Digits only */
    CHECK(ss_uc_bpe_class(0x1E4F9) == SS_UCB_NUMERIC);             /* Nag Mundari digit nine */
    CHECK(ss_uc_bpe_class(0xA0) == SS_UCB_SPACE && ss_uc_bpe_class(0x3000) == SS_UCB_SPACE);
    CHECK(ss_uc_bpe_class(0x85) == SS_UCB_SPACE && ss_uc_bpe_class(0x2028) == SS_UCB_SPACE);
    CHECK(ss_uc_bpe_class(0x200B) == 0 && ss_uc_bpe_class(0x1F600) == 0); /* ZW space (Cf), emoji (So) */
    CHECK(ss_uc_bpe_class(0x10FFFF) == 0);
}

static void test_gpt2(void)
{
    ss_pretok p = {1, {SS_PRETOK_GPT2}};
    EXPECT(&p, "");
    EXPECT(&p, "Hello world", "Hello", " world");
    EXPECT(&p, "Hello, world!", "Hello", ",", " world", "!");
    /* contractions (case-sensitive): "'S" is punctuation then a word */
    EXPECT(&p, "I'm here", "I", "'m", " here");
    EXPECT(&p, "'s'S", "'s", "'", "S");
    EXPECT(&p, "we'll they've you're he'd it't", "we", "'ll", " they", "'ve", " you", "'re", " he", "'d", " it", "'t");
    EXPECT(&p, "'sup", "'s", "up");
    EXPECT(&p, "...'s", "...'", "s");
    EXPECT(&p, " 's", " '", "s");
    EXPECT(&p, "'\xC5\xBF", "'", "\xC5\xBF"); /* ſ is no contraction here */
    /* a run of spaces gives its last space to the next word: \s+(?!\S) backtracks by one */
    EXPECT(&p, "a  b", "a", " ", " b");
    EXPECT(&p, "a     b", "a", "    ", " b");
    EXPECT(&p, "a   ", "a", "   ");
    EXPECT(&p, "   ", "   ");
    EXPECT(&p, " ", " ");
    EXPECT(&p, "x  !", "x", " ", " !");
    EXPECT(&p, "x  12", "x", " ", " 12");
    /* a tab cannot prefix a word: a single \t before a word is matched by \s+ alone */
    EXPECT(&p, "a\t\tb", "a", "\t", "\t", "b");
    EXPECT(&p, "a\tb", "a", "\t", "b");
    EXPECT(&p, "a \n b", "a", " \n", " b");
    EXPECT(&p, "\n\n", "\n\n");
    EXPECT(&p, "line\n", "line", "\n");
    /* letters, numbers and the rest are separate runs, each with an optional leading space */
    EXPECT(&p, " 123abc", " 123", "abc");
    EXPECT(&p, "ab12cd", "ab", "12", "cd");
    EXPECT(&p, "x = f(y);", "x", " =", " f", "(", "y", ");");
    EXPECT(&p, "\xC2\xBD" "2", "\xC2\xBD" "2");                /* ½ and 2 are both \p{N} */
    EXPECT(&p, "e\xCC\x81t\xC3\xA9", "e", "\xCC\x81", "t\xC3\xA9"); /* a combining mark is not a letter */
    EXPECT(&p, "\xF0\x91\xBD\x90!", "\xF0\x91\xBD\x90!");      /* a Kawi digit is not \p{N} for the regex */
    EXPECT(&p, "\xE4\xB8\xAD\xE6\x96\x87 \xE6\x96\x87", "\xE4\xB8\xAD\xE6\x96\x87", " \xE6\x96\x87");
    EXPECT(&p, "a\xC2\xA0\x62", "a", "\xC2\xA0", "b");         /* NBSP is \s but not the optional ' ' */
}

static void test_llama3(void)
{
    ss_pretok p = {1, {SS_PRETOK_LLAMA3}};
    EXPECT(&p, "");
    EXPECT(&p, "Hello world", "Hello", " world");
    /* case-insensitive contractions, ſ folding to s */
    EXPECT(&p, "I'M FINE", "I", "'M", " FINE");
    EXPECT(&p, "WE'LL THEY'RE YOU'VE", "WE", "'LL", " THEY", "'RE", " YOU", "'VE");
    EXPECT(&p, "'\xC5\xBFx", "'\xC5\xBF", "x");
    EXPECT(&p, "'Sup", "'S", "up");
    EXPECT(&p, "'xyz", "'xyz"); /* no contraction: the apostrophe prefixes the word */
    /* numbers in groups of at most three */
    EXPECT(&p, "1234567", "123", "456", "7");
    EXPECT(&p, "ab12345cd", "ab", "123", "45", "cd");
    EXPECT(&p, " 42", " ", "42");
    /* any one character except \r, \n, letters and numbers may prefix a word */
    EXPECT(&p, "!hello", "!hello");
    EXPECT(&p, "\thello", "\thello");
    EXPECT(&p, "\nhello", "\n", "hello");
    EXPECT(&p, "(hello)", "(hello", ")");
    EXPECT(&p, "--hello", "--", "hello"); /* "-" + "-hello" would need the run to stop early */
    /* punctuation takes the newlines after it */
    EXPECT(&p, "!!!\n\nx", "!!!\n\n", "x");
    EXPECT(&p, " ?\r\n", " ?\r\n");
    /* whitespace up to and including its last newline, then the space rules */
    EXPECT(&p, "  \n  x", "  \n", " ", " x");
    EXPECT(&p, "a \n", "a", " \n");
    EXPECT(&p, "a\n \nb", "a", "\n \n", "b");
    EXPECT(&p, "x \t", "x", " \t");
    EXPECT(&p, "a  b", "a", " ", " b");
    EXPECT(&p, "a\t\tb", "a", "\t", "\tb");
}

static void test_digits(void)
{
    ss_pretok each = {1, {SS_PRETOK_DIGITS}}, runs = {1, {SS_PRETOK_DIGIT_RUNS}};
    EXPECT(&each, "");
    EXPECT(&each, "ab123cd4", "ab", "1", "2", "3", "cd", "4");
    EXPECT(&runs, "ab123cd4", "ab", "123", "cd", "4");
    EXPECT(&each, "\xC2\xBD\xE2\x85\xAB", "\xC2\xBD", "\xE2\x85\xAB"); /* ½ Ⅻ */
    EXPECT(&each, "x\xF0\x91\xBD\x90y", "x", "\xF0\x91\xBD\x90", "y");  /* Kawi digit: numeric for Digits */
    EXPECT(&runs, "12 34", "12", " ", "34");

    /* SmolLM: every digit alone, then the GPT-2 regex inside each piece (the lookahead stops at its end) */
    ss_pretok smol = {2, {SS_PRETOK_DIGITS, SS_PRETOK_GPT2}};
    EXPECT(&smol, "abc 123", "abc", " ", "1", "2", "3");
    EXPECT(&smol, "x  12", "x", "  ", "1", "2");
    EXPECT(&smol, "\xC2\xBD" "2", "\xC2\xBD", "2");
    EXPECT(&smol, "\xF0\x91\xBD\x90!", "\xF0\x91\xBD\x90", "!");
    EXPECT(&smol, "I'm 2 cool", "I", "'m", " ", "2", " cool");

    ss_pretok none = {0, {SS_PRETOK_GPT2}};
    EXPECT(&none, "a b 1", "a b 1");
    EXPECT(&none, "");
}

/* an emit callback that stops the split: its value comes back */
static int stop_at_second(void *ctx, size_t start, size_t end)
{
    (void)start;
    (void)end;
    return ++*(int *)ctx == 2 ? 42 : 0;
}

static void test_stop(void)
{
    ss_pretok p = {2, {SS_PRETOK_DIGITS, SS_PRETOK_GPT2}};
    uint32_t s[] = {'a', ' ', 'b', '1', '2'};
    uint8_t cls[5];
    ss_pretok_classify(s, 5, cls);
    int calls = 0;
    CHECK(ss_pretok_split(&p, s, cls, 5, stop_at_second, &calls) == 42);
    CHECK(calls == 2);
}

int main(void)
{
    test_classes();
    test_gpt2();
    test_llama3();
    test_digits();
    test_stop();
    TEST_END();
}
