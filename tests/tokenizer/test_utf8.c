/* test_utf8.c: UTF-8 decoding/encoding and the Unicode look-ups behind BERT normalisation.
 * Expected values are from the Unicode Standard (UnicodeData.txt, Table 3-7 of chapter 3), written by hand. */
#include <stdint.h>

#include "model/utf8.h"
#include "test_util.h"

/* Decodes all of s (length n) into out; returns the count. */
static size_t decode_all(const char *s, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        size_t len;
        out[k++] = ss_utf8_decode((const unsigned char *)s + i, n - i, &len);
        CHECK(len >= 1 && len <= 4);
        i += len;
    }
    return k;
}

static void test_decode(void)
{
    uint32_t cp[16];
    size_t n;
    n = decode_all("a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80", 10, cp); /* a é 中 😀 */
    CHECK(n == 4);
    CHECK(cp[0] == 'a' && cp[1] == 0xE9 && cp[2] == 0x4E2D && cp[3] == 0x1F600);

    n = decode_all("\xC0\xAF", 2, cp); /* overlong '/': two ill-formed bytes */
    CHECK(n == 2 && cp[0] == SS_UC_REPLACEMENT && cp[1] == SS_UC_REPLACEMENT);
    n = decode_all("\xED\xA0\x80", 3, cp); /* surrogate U+D800: ED is a maximal subpart, then A0, 80 */
    CHECK(n == 3 && cp[0] == SS_UC_REPLACEMENT && cp[2] == SS_UC_REPLACEMENT);
    n = decode_all("\xE4\xB8" "a", 3, cp); /* truncated 3-byte sequence: one U+FFFD, then 'a' */
    CHECK(n == 2 && cp[0] == SS_UC_REPLACEMENT && cp[1] == 'a');
    n = decode_all("\xF4\x90\x80\x80", 4, cp); /* > U+10FFFF */
    CHECK(n == 4 && cp[0] == SS_UC_REPLACEMENT);
    n = decode_all("\xF0\x9F\x98", 3, cp); /* truncated at the end of input */
    CHECK(n == 1 && cp[0] == SS_UC_REPLACEMENT);
    n = decode_all("\xFF\x80", 2, cp);
    CHECK(n == 2 && cp[0] == SS_UC_REPLACEMENT && cp[1] == SS_UC_REPLACEMENT);
    n = decode_all("\xF4\x8F\xBF\xBF", 4, cp);
    CHECK(n == 1 && cp[0] == 0x10FFFF);

    char buf[4];
    CHECK(ss_utf8_encode(0x24, buf) == 1 && buf[0] == '$');
    CHECK(ss_utf8_encode(0xE9, buf) == 2 && memcmp(buf, "\xC3\xA9", 2) == 0);
    CHECK(ss_utf8_encode(0x20AC, buf) == 3 && memcmp(buf, "\xE2\x82\xAC", 3) == 0);
    CHECK(ss_utf8_encode(0x1F600, buf) == 4 && memcmp(buf, "\xF0\x9F\x98\x80", 4) == 0);
    CHECK(ss_utf8_encode(0xD800, buf) == 0);
    CHECK(ss_utf8_encode(0x110000, buf) == 0);
}

static void test_props(void)
{
    CHECK(ss_uc_props('a') == 0);
    CHECK(ss_uc_props(' ') == SS_UC_WS);
    CHECK(ss_uc_props('\t') & SS_UC_WS);
    CHECK(ss_uc_props(0x0B) & SS_UC_OTHER); /* vertical tab: Cc (dropped by clean_text) */
    CHECK(ss_uc_props('$') & SS_UC_PUNCT);  /* ASCII symbol counts as punctuation for BERT */
    CHECK(ss_uc_props('`') & SS_UC_PUNCT);
    CHECK(ss_uc_props('~') & SS_UC_PUNCT);
    CHECK(!(ss_uc_props('0') & SS_UC_PUNCT));
    CHECK(ss_uc_props(0xA0) == SS_UC_WS);     /* NO-BREAK SPACE, Zs */
    CHECK(ss_uc_props(0x3000) == SS_UC_WS);   /* IDEOGRAPHIC SPACE */
    CHECK(ss_uc_props(0x2028) == SS_UC_WS);   /* LINE SEPARATOR, Zl */
    CHECK(ss_uc_props(0x85) & SS_UC_OTHER);   /* NEL: Cc */
    CHECK(ss_uc_props(0x200B) == SS_UC_OTHER); /* ZERO WIDTH SPACE: Cf, not White_Space */
    CHECK(ss_uc_props(0xAD) == SS_UC_OTHER);  /* SOFT HYPHEN: Cf */
    CHECK(ss_uc_props(0xFEFF) == SS_UC_OTHER);
    CHECK(ss_uc_props(0xE000) == SS_UC_OTHER); /* private use, Co */
    CHECK(ss_uc_props(0x301) == SS_UC_MN);    /* COMBINING ACUTE ACCENT */
    CHECK(ss_uc_props(0xE9) == 0);            /* é itself is a letter */
    CHECK(ss_uc_props(0x4E2D) == SS_UC_CJK);  /* 中 */
    CHECK(ss_uc_props(0xF900) == SS_UC_CJK);  /* CJK compatibility ideograph */
    CHECK(ss_uc_props(0x20000) == SS_UC_CJK);
    CHECK(ss_uc_props(0xAC00) == 0);          /* Hangul is not padded */
    CHECK(ss_uc_props(0x3002) == SS_UC_PUNCT); /* IDEOGRAPHIC FULL STOP, Po */
    CHECK(ss_uc_props(0xBF) == SS_UC_PUNCT);  /* ¿ */
    CHECK(ss_uc_props(0x2014) == SS_UC_PUNCT); /* EM DASH, Pd */
    CHECK(ss_uc_props(0x201C) == SS_UC_PUNCT); /* LEFT DOUBLE QUOTATION MARK, Pi */
    CHECK(ss_uc_props(0xA7) == SS_UC_PUNCT);  /* § is Po */
    CHECK(ss_uc_props(0x20AC) == 0);          /* € is Sc: not punctuation, not split */
    CHECK(ss_uc_props(0x1F600) == 0);         /* emoji: So */
    /* HF's tables predate Unicode 9: U+2E43 (Po since 9.0) is not punctuation there */
    CHECK(ss_uc_props(0x2E42) == SS_UC_PUNCT);
    CHECK(ss_uc_props(0x2E43) == 0);
}

static void test_decompose_lower(void)
{
    uint32_t d[SS_UC_MAX_DECOMP], l[SS_UC_MAX_LOWER];
    size_t n = ss_uc_decompose(0xE9, d); /* é = e + U+0301 */
    CHECK(n == 2 && d[0] == 'e' && d[1] == 0x301);
    n = ss_uc_decompose(0x1D5, d); /* Ǖ = Ü + macron = U + U+0308 + U+0304 */
    CHECK(n == 3 && d[0] == 'U' && d[1] == 0x308 && d[2] == 0x304);
    n = ss_uc_decompose(0x1F82, d); /* ᾂ = α + U+0313 + U+0300 + U+0345 */
    CHECK(n == 4 && d[0] == 0x3B1 && d[1] == 0x313 && d[2] == 0x300 && d[3] == 0x345);
    n = ss_uc_decompose(0xD55C, d); /* 한 = ᄒ ᅡ ᆫ (algorithmic) */
    CHECK(n == 3 && d[0] == 0x1112 && d[1] == 0x1161 && d[2] == 0x11AB);
    n = ss_uc_decompose(0xAC00, d); /* 가 = ᄀ ᅡ (no final) */
    CHECK(n == 2 && d[0] == 0x1100 && d[1] == 0x1161);
    n = ss_uc_decompose(0xF900, d); /* 豈 compatibility ideograph: canonical singleton to U+8C48 */
    CHECK(n == 1 && d[0] == 0x8C48);
    n = ss_uc_decompose(0x212B, d); /* ANGSTROM SIGN -> Å -> A + ring */
    CHECK(n == 2 && d[0] == 'A' && d[1] == 0x30A);
    n = ss_uc_decompose(0xFB01, d); /* ﬁ ligature: compatibility only, NFD keeps it */
    CHECK(n == 1 && d[0] == 0xFB01);
    n = ss_uc_decompose('a', d);
    CHECK(n == 1 && d[0] == 'a');

    CHECK(ss_uc_lower('A', l) == 1 && l[0] == 'a');
    CHECK(ss_uc_lower('a', l) == 1 && l[0] == 'a');
    CHECK(ss_uc_lower(0xC9, l) == 1 && l[0] == 0xE9);   /* É */
    CHECK(ss_uc_lower(0x3A3, l) == 1 && l[0] == 0x3C3); /* Σ -> σ, no final-sigma context */
    CHECK(ss_uc_lower(0x130, l) == 2 && l[0] == 'i' && l[1] == 0x307); /* İ -> i + combining dot */
    CHECK(ss_uc_lower(0x410, l) == 1 && l[0] == 0x430); /* Cyrillic А */
    CHECK(ss_uc_lower(0x100, l) == 1 && l[0] == 0x101); /* Ā */
    CHECK(ss_uc_lower(0x101, l) == 1 && l[0] == 0x101);
    CHECK(ss_uc_lower(0x1E9E, l) == 1 && l[0] == 0xDF); /* ẞ -> ß */
    CHECK(ss_uc_lower(0x2160, l) == 1 && l[0] == 0x2170); /* Roman numeral one */
    CHECK(ss_uc_lower(0x10400, l) == 1 && l[0] == 0x10428); /* Deseret */
    CHECK(ss_uc_lower(0x4E2D, l) == 1 && l[0] == 0x4E2D);

    /* canonical ordering: below (220) moves before above (230); starters stop a run */
    uint32_t s[] = {'a', 0x301, 0x316, 'b', 0x302, 0x323, 0x301};
    ss_uc_reorder(s, 7);
    CHECK(s[0] == 'a' && s[1] == 0x316 && s[2] == 0x301 && s[3] == 'b');
    CHECK(s[4] == 0x323 && s[5] == 0x302 && s[6] == 0x301); /* stable among equal classes */
    CHECK(ss_uc_ccc(0x301) == 230 && ss_uc_ccc(0x316) == 220 && ss_uc_ccc('a') == 0);
    CHECK(strlen(ss_uc_version()) >= 5);
}

int main(void)
{
    test_decode();
    test_props();
    test_decompose_lower();
    TEST_END();
}
