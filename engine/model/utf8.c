/* utf8.c: UTF-8 decoding/encoding and Unicode look-ups over the generated tables in utf8_tables.h. */
#include "utf8.h"

#include "utf8_tables.h" /* defines: ss_uc_prop_runs, ss_uc_ccc_runs, ss_uc_decomp, ss_uc_lower_runs, ... */

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Hangul syllable composition constants (Unicode 3.12). */
#define HANGUL_S0 0xAC00u
#define HANGUL_L0 0x1100u
#define HANGUL_V0 0x1161u
#define HANGUL_T0 0x11A7u
#define HANGUL_VT 588u /* V count 21 * T count 28 */
#define HANGUL_T 28u
#define HANGUL_SN 11172u

uint32_t ss_utf8_decode(const unsigned char *s, size_t n, size_t *len)
{
    unsigned b0 = s[0];
    if (b0 < 0x80) {
        *len = 1;
        return b0;
    }
    uint32_t cp;
    size_t need;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the next continuation byte */
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        cp = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        cp = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;      /* no overlong forms */
        else if (b0 == 0xED) hi = 0x9F; /* no surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        cp = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;      /* no overlong forms */
        else if (b0 == 0xF4) hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        *len = 1;
        return SS_UC_REPLACEMENT;
    }
    size_t i = 1;
    for (; i <= need && i < n; i++) {
        unsigned b = s[i];
        if (b < lo || b > hi) break;
        cp = (cp << 6) | (b & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    if (i <= need) { /* the maximal ill-formed subpart s[0..i) becomes one U+FFFD */
        *len = i;
        return SS_UC_REPLACEMENT;
    }
    *len = need + 1;
    return cp;
}

size_t ss_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF) return 0;
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

unsigned ss_uc_props(uint32_t cp)
{
    if (cp < 0x80) { /* fast path, same answers as the table */
        if (cp >= 9 && cp <= 13) return SS_UC_OTHER | SS_UC_WS;
        if (cp < 0x20 || cp == 0x7F) return SS_UC_OTHER;
        if (cp == 0x20) return SS_UC_WS;
        if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
            return SS_UC_PUNCT;
        return 0;
    }
    size_t lo = 0, hi = N_ELEMS(ss_uc_prop_runs);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < ss_uc_prop_runs[mid].lo) hi = mid;
        else if (cp > ss_uc_prop_runs[mid].hi) lo = mid + 1;
        else return ss_uc_prop_runs[mid].flags;
    }
    return 0;
}

unsigned ss_uc_bpe_class(uint32_t cp)
{
    if (cp < 0x80) { /* fast path, same answers as the table */
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return SS_UCB_L;
        if (cp >= '0' && cp <= '9') return SS_UCB_N | SS_UCB_NUMERIC;
        if (cp == ' ' || (cp >= 9 && cp <= 13)) return SS_UCB_SPACE;
        return 0;
    }
    size_t lo = 0, hi = N_ELEMS(ss_uc_bpe_runs);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < ss_uc_bpe_runs[mid].lo) hi = mid;
        else if (cp > ss_uc_bpe_runs[mid].hi) lo = mid + 1;
        else return ss_uc_bpe_runs[mid].flags;
    }
    return 0;
}

unsigned ss_uc_ccc(uint32_t cp)
{
    if (cp < 0x300) return 0;
    size_t lo = 0, hi = N_ELEMS(ss_uc_ccc_runs);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < ss_uc_ccc_runs[mid].lo) hi = mid;
        else if (cp > ss_uc_ccc_runs[mid].hi) lo = mid + 1;
        else return ss_uc_ccc_runs[mid].ccc;
    }
    return 0;
}

/* Index of cp in ss_uc_decomp, or -1. */
static long decomp_index(uint32_t cp)
{
    if (cp < 0xC0) return -1;
    size_t lo = 0, hi = N_ELEMS(ss_uc_decomp);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < ss_uc_decomp[mid].cp) hi = mid;
        else if (cp > ss_uc_decomp[mid].cp) lo = mid + 1;
        else return (long)mid;
    }
    return -1;
}

/* Appends the full decomposition of cp to out[*n..], never past SS_UC_MAX_DECOMP (the data never need more). */
static void decompose_into(uint32_t cp, uint32_t *out, size_t *n, int depth)
{
    long i = depth < 8 ? decomp_index(cp) : -1;
    if (i < 0) {
        if (*n < SS_UC_MAX_DECOMP) out[(*n)++] = cp;
        return;
    }
    decompose_into(ss_uc_decomp[i].d0, out, n, depth + 1);
    if (ss_uc_decomp[i].d1) decompose_into(ss_uc_decomp[i].d1, out, n, depth + 1);
}

size_t ss_uc_decompose(uint32_t cp, uint32_t out[SS_UC_MAX_DECOMP])
{
    if (cp >= HANGUL_S0 && cp < HANGUL_S0 + HANGUL_SN) {
        uint32_t s = cp - HANGUL_S0;
        out[0] = HANGUL_L0 + s / HANGUL_VT;
        out[1] = HANGUL_V0 + (s % HANGUL_VT) / HANGUL_T;
        if (s % HANGUL_T == 0) return 2;
        out[2] = HANGUL_T0 + s % HANGUL_T;
        return 3;
    }
    size_t n = 0;
    decompose_into(cp, out, &n, 0);
    return n;
}

size_t ss_uc_lower(uint32_t cp, uint32_t out[SS_UC_MAX_LOWER])
{
    if (cp < 0x80) {
        out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
        return 1;
    }
    for (size_t k = 0; k < N_ELEMS(ss_uc_lower_multi); k++) {
        if (ss_uc_lower_multi[k].cp != cp) continue;
        size_t m = 0;
        while (m < SS_UC_MAX_LOWER && ss_uc_lower_multi[k].lower[m]) {
            out[m] = ss_uc_lower_multi[k].lower[m];
            m++;
        }
        return m;
    }
    size_t lo = 0, hi = N_ELEMS(ss_uc_lower_runs);
    out[0] = cp;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < ss_uc_lower_runs[mid].lo) hi = mid;
        else if (cp > ss_uc_lower_runs[mid].hi) lo = mid + 1;
        else {
            if ((cp - ss_uc_lower_runs[mid].lo) % ss_uc_lower_runs[mid].stride == 0)
                out[0] = (uint32_t)((int64_t)cp + ss_uc_lower_runs[mid].delta);
            break;
        }
    }
    return 1;
}

void ss_uc_reorder(uint32_t *cps, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (cps[i] < 0x300 || ss_uc_ccc(cps[i]) == 0) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && ss_uc_ccc(cps[j]) != 0) j++;
        for (size_t a = i + 1; a < j; a++) { /* stable insertion sort of the run cps[i..j) */
            uint32_t c = cps[a];
            unsigned cc = ss_uc_ccc(c);
            size_t b = a;
            while (b > i && ss_uc_ccc(cps[b - 1]) > cc) {
                cps[b] = cps[b - 1];
                b--;
            }
            cps[b] = c;
        }
        i = j;
    }
}

const char *ss_uc_version(void) { return SS_UC_UNIDATA_VERSION; }
