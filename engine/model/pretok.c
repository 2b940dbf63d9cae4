/* pretok.c: byte-level BPE pre-tokenizers (see pretok.h). Each regex alternative is a small matcher that returns
 * the length of its match at a position, or 0; a regex tries its alternatives in order and takes the first that
 * matches, as a backtracking engine does. Where backtracking matters (an optional leading character, a greedy
 * run before a lookahead or before a required class), the matcher computes the result of that backtracking
 * directly; each such place says how. */
#include "pretok.h"

#include "utf8.h" /* defines: ss_uc_bpe_class, SS_UCB_* */

const char ss_pretok_gpt2_regex[] = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const char ss_pretok_llama3_regex[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                                      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

#define IS_L(i) (cls[i] & SS_UCB_L)
#define IS_N(i) (cls[i] & SS_UCB_N)
#define IS_S(i) (cls[i] & SS_UCB_SPACE)
/* [^\s\p{L}\p{N}] */
#define IS_OTHER(i) (!(cls[i] & (SS_UCB_L | SS_UCB_N | SS_UCB_SPACE)))
#define IS_CRLF(i) (s[i] == '\r' || s[i] == '\n')

void ss_pretok_classify(const uint32_t *s, size_t n, uint8_t *cls)
{
    for (size_t i = 0; i < n; i++) cls[i] = (uint8_t)ss_uc_bpe_class(s[i]);
}

/* End of the run of characters with class bits `mask` that starts at j. */
static size_t run_end(const uint8_t *cls, size_t n, size_t j, unsigned mask)
{
    while (j < n && (cls[j] & mask)) j++;
    return j;
}

static size_t other_end(const uint8_t *cls, size_t n, size_t j)
{
    while (j < n && IS_OTHER(j)) j++;
    return j;
}

/* \s+(?!\S) at i: the whitespace run [i, j) is matched whole when it ends the text; otherwise the greedy \s+
 * gives back its last character, which is whitespace and so satisfies (?!\S), as long as one remains. */
static size_t ws_not_before_nonspace(const uint8_t *cls, size_t n, size_t i)
{
    if (!IS_S(i)) return 0;
    size_t j = run_end(cls, n, i, SS_UCB_SPACE);
    if (j == n) return j - i;
    return j - i >= 2 ? j - 1 - i : 0;
}

size_t ss_pretok_gpt2_match(const uint32_t *s, const uint8_t *cls, size_t n, size_t i)
{
    if (i >= n) return 0;
    /* 's|'t|'re|'ve|'m|'ll|'d (case-sensitive) */
    if (s[i] == '\'' && i + 1 < n) {
        uint32_t d = s[i + 1];
        if (d == 's' || d == 't' || d == 'm' || d == 'd') return 2;
        if (i + 2 < n) {
            uint32_t e = s[i + 2];
            if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return 3;
        }
    }
    /* " ?X+" for X = \p{L}, \p{N}, [^\s\p{L}\p{N}]: the optional space is taken when X follows it; without it,
     * X+ would have to start at the space, which none of the three classes contains. */
    int sp = s[i] == ' ' && i + 1 < n;
    if (sp && IS_L(i + 1)) return run_end(cls, n, i + 1, SS_UCB_L) - i;
    if (IS_L(i)) return run_end(cls, n, i, SS_UCB_L) - i;
    if (sp && IS_N(i + 1)) return run_end(cls, n, i + 1, SS_UCB_N) - i;
    if (IS_N(i)) return run_end(cls, n, i, SS_UCB_N) - i;
    if (sp && IS_OTHER(i + 1)) return other_end(cls, n, i + 1) - i;
    if (IS_OTHER(i)) return other_end(cls, n, i) - i;
    /* \s+(?!\S) | \s+ */
    size_t k = ws_not_before_nonspace(cls, n, i);
    if (k) return k;
    return IS_S(i) ? run_end(cls, n, i, SS_UCB_SPACE) - i : 0;
}

/* Case-insensitive ASCII letter test for the (?i:...) contractions. Under Unicode simple case folding the only
 * other character that folds to one of s t r e v m l d is U+017F LATIN SMALL LETTER LONG S (to s), which the
 * engine in HF tokenizers matches too (probed: tests/fixtures/make_bpe_fixtures.py covers "'\u017f"). */
static int ci_is(uint32_t c, char lower)
{
    if (c == (uint32_t)lower || c == (uint32_t)(lower - 'a' + 'A')) return 1;
    return lower == 's' && c == 0x17F;
}

size_t ss_pretok_llama3_match(const uint32_t *s, const uint8_t *cls, size_t n, size_t i)
{
    if (i >= n) return 0;
    /* (?i:'s|'t|'re|'ve|'m|'ll|'d) */
    if (s[i] == '\'' && i + 1 < n) {
        uint32_t d = s[i + 1];
        if (ci_is(d, 's') || ci_is(d, 't') || ci_is(d, 'm') || ci_is(d, 'd')) return 2;
        if (i + 2 < n) {
            uint32_t e = s[i + 2];
            if ((ci_is(d, 'r') && ci_is(e, 'e')) || (ci_is(d, 'v') && ci_is(e, 'e')) || (ci_is(d, 'l') && ci_is(e, 'l')))
                return 3;
        }
    }
    /* [^\r\n\p{L}\p{N}]?\p{L}+: the optional character is taken when a letter follows it; a character that the
     * class accepts is not a letter, so without it \p{L}+ cannot start there either. */
    if (IS_L(i)) return run_end(cls, n, i, SS_UCB_L) - i;
    if (!IS_CRLF(i) && !IS_N(i) && i + 1 < n && IS_L(i + 1)) return run_end(cls, n, i + 1, SS_UCB_L) - i;
    /* \p{N}{1,3} */
    if (IS_N(i)) {
        size_t j = i + 1;
        while (j < n && j < i + 3 && IS_N(j)) j++;
        return j - i;
    }
    /*  ?[^\s\p{L}\p{N}]+[\r\n]* (the trailing [\r\n]* always succeeds, so nothing is given back) */
    size_t j = 0;
    if (s[i] == ' ' && i + 1 < n && IS_OTHER(i + 1)) j = other_end(cls, n, i + 1);
    else if (IS_OTHER(i)) j = other_end(cls, n, i);
    if (j) {
        while (j < n && IS_CRLF(j)) j++;
        return j - i;
    }
    /* \s*[\r\n]+: \s* takes the whole whitespace run and gives characters back until [\r\n]+ can match; that
     * happens first at the run's last \r or \n, and [\r\n]+ then ends right after it (whatever follows in the
     * run is neither \r nor \n). */
    if (IS_S(i)) {
        size_t end = run_end(cls, n, i, SS_UCB_SPACE);
        for (size_t k = end; k > i; k--)
            if (IS_CRLF(k - 1)) return k - i;
    }
    /* \s+(?!\S) | \s+ */
    size_t k = ws_not_before_nonspace(cls, n, i);
    if (k) return k;
    return IS_S(i) ? run_end(cls, n, i, SS_UCB_SPACE) - i : 0;
}

static int split_from(const ss_pretok *p, int k, const uint32_t *s, const uint8_t *cls, size_t a, size_t b,
                      ss_pretok_emit emit, void *ctx);

/* Regex step on the piece [a, b): matches are pieces, and so are the gaps between them (Isolated behaviour). */
static int split_regex(const ss_pretok *p, int k, const uint32_t *s, const uint8_t *cls, size_t a, size_t b,
                       ss_pretok_emit emit, void *ctx)
{
    int llama3 = p->step[k] == SS_PRETOK_LLAMA3, rc;
    size_t pos = a, gap = a, n = b - a;
    while (pos < b) {
        size_t m = llama3 ? ss_pretok_llama3_match(s + a, cls + a, n, pos - a)
                          : ss_pretok_gpt2_match(s + a, cls + a, n, pos - a);
        if (m == 0) { /* cannot happen: every character starts a match of both regexes */
            pos++;
            continue;
        }
        if (gap < pos && (rc = split_from(p, k + 1, s, cls, gap, pos, emit, ctx)) != 0) return rc;
        if ((rc = split_from(p, k + 1, s, cls, pos, pos + m, emit, ctx)) != 0) return rc;
        pos += m;
        gap = pos;
    }
    return gap < b ? split_from(p, k + 1, s, cls, gap, b, emit, ctx) : 0;
}

/* Digits step on the piece [a, b). */
static int split_digits(const ss_pretok *p, int k, const uint32_t *s, const uint8_t *cls, size_t a, size_t b,
                        ss_pretok_emit emit, void *ctx)
{
    int each = p->step[k] == SS_PRETOK_DIGITS, rc;
    size_t i = a;
    while (i < b) {
        size_t j = i + 1;
        unsigned num = cls[i] & SS_UCB_NUMERIC;
        if (!num || !each)
            while (j < b && (cls[j] & SS_UCB_NUMERIC) == num) j++;
        if ((rc = split_from(p, k + 1, s, cls, i, j, emit, ctx)) != 0) return rc;
        i = j;
    }
    return 0;
}

static int split_from(const ss_pretok *p, int k, const uint32_t *s, const uint8_t *cls, size_t a, size_t b,
                      ss_pretok_emit emit, void *ctx)
{
    if (a >= b) return 0;
    if (k >= p->n) return emit(ctx, a, b);
    switch (p->step[k]) {
    case SS_PRETOK_DIGITS:
    case SS_PRETOK_DIGIT_RUNS:
        return split_digits(p, k, s, cls, a, b, emit, ctx);
    case SS_PRETOK_GPT2:
    case SS_PRETOK_LLAMA3:
        return split_regex(p, k, s, cls, a, b, emit, ctx);
    }
    return emit(ctx, a, b);
}

int ss_pretok_split(const ss_pretok *p, const uint32_t *s, const uint8_t *cls, size_t n, ss_pretok_emit emit,
                    void *ctx)
{
    return split_from(p, 0, s, cls, 0, n, emit, ctx);
}
