/* test_dequant.c: the ggml dequantizers (kernels/dequant.c) against
 *   1. fixtures from the gguf Python package (tests/fixtures/gguf/dequant_<TYPE>.json, written by
 *      make_gguf_fixtures.py): every output must be BIT-identical to gguf.quants.dequantize — the
 *      conversions are exact and each product is one fp32 rounding in the same order, so no ulp
 *      tolerance is needed (NaNs compared by bit pattern too);
 *   2. blocks packed here from the layout description, with expected values computed in double
 *      (exact for these small integers and power-of-two scales);
 *   3. every one of the 65536 fp16 bit patterns against ldexp of its fields;
 *   4. n not a multiple of the block size: -1 and nothing written. */
#include <jansson.h> /* fixtures */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dequant.h"   /* ss_dequant_*, ss_fp16_to_f32 */
#include "test_util.h" /* CHECK, CHECK_MSG, SKIP, TEST_END */

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static int hexval(char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; }

/* Decodes a hex string into a malloc'd buffer; *n = bytes. */
static uint8_t *unhex(const char *s, size_t *n)
{
    size_t len = strlen(s);
    if (len % 2) return NULL;
    uint8_t *b = malloc(len / 2 + 1);
    if (!b) return NULL;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(b);
            return NULL;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *n = len / 2;
    return b;
}

typedef int (*dq_fn)(const void *, float *, size_t);

static const struct {
    const char *name;
    dq_fn fn;
    int block;
    int bytes;
} k_types[] = {
    {"F32", ss_dequant_f32, SS_QK_F32, SS_QB_F32},      {"F16", ss_dequant_f16, SS_QK_F16, SS_QB_F16},
    {"BF16", ss_dequant_bf16, SS_QK_BF16, SS_QB_BF16},  {"Q8_0", ss_dequant_q8_0, SS_QK_Q8_0, SS_QB_Q8_0},
    {"Q4_0", ss_dequant_q4_0, SS_QK_Q4_0, SS_QB_Q4_0},  {"Q4_1", ss_dequant_q4_1, SS_QK_Q4_1, SS_QB_Q4_1},
    {"Q5_0", ss_dequant_q5_0, SS_QK_Q5_0, SS_QB_Q5_0},  {"Q4_K", ss_dequant_q4_k, SS_QK_Q4_K, SS_QB_Q4_K},
    {"Q6_K", ss_dequant_q6_k, SS_QK_Q6_K, SS_QB_Q6_K},
};

/* 1. gguf-package fixtures, bit for bit. */
static void check_fixture(const char *src, int k)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/gguf/dequant_%s.json", src, k_types[k].name);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    CHECK_MSG(root != NULL, "%s: %s", path, jerr.text);
    if (!root) return;
    size_t n_raw = 0, n_exp = 0;
    uint8_t *raw = unhex(json_string_value(json_object_get(root, "raw")), &n_raw);
    uint8_t *exp = unhex(json_string_value(json_object_get(root, "expected")), &n_exp);
    size_t n = (size_t)json_integer_value(json_object_get(root, "n"));
    CHECK(raw && exp);
    CHECK(json_integer_value(json_object_get(root, "block_size")) == k_types[k].block);
    CHECK(json_integer_value(json_object_get(root, "type_size")) == k_types[k].bytes);
    CHECK_MSG(n_exp == 4 * n && n_raw == n / (size_t)k_types[k].block * (size_t)k_types[k].bytes, "%s sizes",
              k_types[k].name);
    if (raw && exp && n_exp == 4 * n && n_raw == n / (size_t)k_types[k].block * (size_t)k_types[k].bytes) {
        float *y = malloc(n * sizeof *y); /* [n] */
        /* An unaligned source copy: the kernels must not assume alignment. */
        uint8_t *odd = malloc(n_raw + 1);
        memcpy(odd + 1, raw, n_raw);
        CHECK(k_types[k].fn(odd + 1, y, n) == 0);
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t want = (uint32_t)exp[4 * i] | (uint32_t)exp[4 * i + 1] << 8 | (uint32_t)exp[4 * i + 2] << 16 |
                            (uint32_t)exp[4 * i + 3] << 24;
            if (f32_bits(y[i]) != want && bad++ < 5)
                fprintf(stderr, "%s[%zu]: got %08x (%.9g), gguf %08x\n", k_types[k].name, i, f32_bits(y[i]),
                        (double)y[i], want);
        }
        CHECK_MSG(bad == 0, "%s: %d of %zu values differ from gguf.quants.dequantize", k_types[k].name, bad, n);
        printf("%-5s %4zu weights from the gguf package: bit-identical%s\n", k_types[k].name, n, bad ? " NO" : "");
        free(odd);
        free(y);
    }
    free(raw);
    free(exp);
    json_decref(root);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void check_values(const char *what, const float *y, const double *want, int n)
{
    int bad = 0;
    for (int i = 0; i < n; i++)
        if ((double)y[i] != want[i] && bad++ < 5)
            fprintf(stderr, "%s[%d]: got %.9g, want %.9g\n", what, i, (double)y[i], want[i]);
    CHECK_MSG(bad == 0, "%s: %d of %d values wrong", what, bad, n);
}

/* 2. Hand-packed blocks. fp16 constants: 0x3800 = 0.5, 0x3400 = 0.25, 0xBC00 = -1, 0x3C00 = 1, 0x4000 = 2. */
static void check_hand_made(void)
{
    uint8_t b[2 * 210];
    float y[512];
    double want[512];

    /* Q4_0: d = 0.5, qs[j] = j | (15 - j) << 4 -> w[j] = 0.5 (j - 8), w[j+16] = 0.5 (7 - j). */
    put16(b, 0x3800);
    for (int j = 0; j < 16; j++) b[2 + j] = (uint8_t)(j | (15 - j) << 4);
    for (int j = 0; j < 16; j++) want[j] = 0.5 * (j - 8), want[j + 16] = 0.5 * (7 - j);
    CHECK(ss_dequant_q4_0(b, y, 32) == 0);
    check_values("Q4_0 hand", y, want, 32);

    /* Q4_1: d = 0.25, m = -1, qs[j] = j | j << 4 -> w[j] = w[j+16] = 0.25 j - 1. */
    put16(b, 0x3400);
    put16(b + 2, 0xBC00);
    for (int j = 0; j < 16; j++) b[4 + j] = (uint8_t)(j | j << 4);
    for (int j = 0; j < 16; j++) want[j] = want[j + 16] = 0.25 * j - 1;
    CHECK(ss_dequant_q4_1(b, y, 32) == 0);
    check_values("Q4_1 hand", y, want, 32);

    /* Q5_0: d = 1, high bits set for weights 0..15 and 31 (qh = 0x8000FFFF), qs[j] = j | j << 4:
     * w[j] = (j + 16) - 16 = j; w[j+16] = j - 16, except w[31] = 15 + 16 - 16 = 15. */
    put16(b, 0x3C00);
    b[2] = 0xFF, b[3] = 0xFF, b[4] = 0x00, b[5] = 0x80;
    for (int j = 0; j < 16; j++) b[6 + j] = (uint8_t)(j | j << 4);
    for (int j = 0; j < 16; j++) want[j] = j, want[j + 16] = j - 16;
    want[31] = 15;
    CHECK(ss_dequant_q5_0(b, y, 32) == 0);
    check_values("Q5_0 hand", y, want, 32);

    /* Q8_0: d = 2, q[j] = j - 16 (and -128 at j = 0). */
    put16(b, 0x4000);
    for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(int8_t)(j - 16);
    b[2] = (uint8_t)(int8_t)-128;
    for (int j = 0; j < 32; j++) want[j] = 2.0 * (j - 16);
    want[0] = -256;
    CHECK(ss_dequant_q8_0(b, y, 32) == 0);
    check_values("Q8_0 hand", y, want, 32);

    /* Q4_K, two super-blocks: d = 1, dmin = 0.5; 6-bit scales/mins packed here (inverse of the
     * layout), using the top bits: sc = {1, 63, 5, 17, 47, 2, 60, 33}, mn = {0, 9, 63, 1, 33, 48, 7, 62};
     * second block d = 0.25, dmin = 1, sc[s] = s + 1, mn[s] = 2 s. qs[32c + l] = (l & 15) | (15 - (l & 15)) << 4. */
    {
        const int sc_a[8] = {1, 63, 5, 17, 47, 2, 60, 33}, mn_a[8] = {0, 9, 63, 1, 33, 48, 7, 62};
        int sc_b[8], mn_b[8];
        for (int s = 0; s < 8; s++) sc_b[s] = s + 1, mn_b[s] = 2 * s;
        for (int blk = 0; blk < 2; blk++) {
            uint8_t *p = b + 144 * blk;
            const int *sc = blk ? sc_b : sc_a, *mn = blk ? mn_b : mn_a;
            double d = blk ? 0.25 : 1.0, dmin = blk ? 1.0 : 0.5;
            put16(p, blk ? 0x3400 : 0x3C00);
            put16(p + 2, blk ? 0x3C00 : 0x3800);
            uint8_t *S = p + 4;
            memset(S, 0, 12);
            for (int s = 0; s < 4; s++) {
                S[s] = (uint8_t)(sc[s] | (sc[s + 4] >> 4) << 6);     /* low 6: sc[s]; top 2: sc[s+4] bits 4-5 */
                S[s + 4] = (uint8_t)(mn[s] | (mn[s + 4] >> 4) << 6); /* low 6: mn[s]; top 2: mn[s+4] bits 4-5 */
                S[s + 8] = (uint8_t)((sc[s + 4] & 15) | (mn[s + 4] & 15) << 4);
            }
            for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l++) p[16 + 32 * c + l] = (uint8_t)((l & 15) | (15 - (l & 15)) << 4);
            for (int c = 0; c < 4; c++)
                for (int l = 0; l < 32; l++) {
                    want[256 * blk + 64 * c + l] = d * sc[2 * c] * (l & 15) - dmin * mn[2 * c];
                    want[256 * blk + 64 * c + 32 + l] = d * sc[2 * c + 1] * (15 - (l & 15)) - dmin * mn[2 * c + 1];
                }
        }
        CHECK(ss_dequant_q4_k(b, y, 512) == 0);
        check_values("Q4_K hand", y, want, 512);
    }

    /* Q6_K, two super-blocks: d = 0.5 / 2; scales[s] = s - 8 / 7 - s; weight i has q = (7 i + blk) mod 64,
     * packed here weight by weight from the layout: half h = i / 128, quarter = (i % 128) / 32, l = i % 32. */
    {
        memset(b, 0, sizeof b);
        for (int blk = 0; blk < 2; blk++) {
            uint8_t *p = b + 210 * blk;
            uint8_t *ql = p, *qh = p + 128;
            int8_t sc[16];
            for (int s = 0; s < 16; s++) sc[s] = (int8_t)(blk ? 7 - s : s - 8), p[192 + s] = (uint8_t)sc[s];
            put16(p + 208, blk ? 0x4000 : 0x3800);
            double d = blk ? 2.0 : 0.5;
            for (int i = 0; i < 256; i++) {
                int q = (7 * i + blk) % 64, h = i / 128, quarter = (i % 128) / 32, l = i % 32;
                int lo = q & 15, hi = q >> 4;
                int qli = 64 * h + l + (quarter & 1) * 32; /* quarters 1 and 3 use ql[l + 32] */
                if (quarter < 2) ql[qli] |= (uint8_t)lo;   /* quarters 0, 1: low nibble */
                else ql[qli] |= (uint8_t)(lo << 4);        /* quarters 2, 3: high nibble */
                qh[32 * h + l] |= (uint8_t)(hi << (2 * quarter));
                want[256 * blk + i] = d * sc[i / 16] * (q - 32);
            }
        }
        CHECK(ss_dequant_q6_k(b, y, 512) == 0);
        check_values("Q6_K hand", y, want, 512);
    }

    /* BF16: 0x3F80 = 1, 0xC049 = -3.140625, 0x0001 = 2^-133 (subnormal fp32). */
    {
        uint8_t h[6];
        put16(h, 0x3F80), put16(h + 2, 0xC049), put16(h + 4, 0x0001);
        CHECK(ss_dequant_bf16(h, y, 3) == 0);
        CHECK(y[0] == 1.0f && y[1] == -3.140625f && y[2] == ldexpf(1.0f, -133));
    }
    printf("hand-packed blocks (Q4_0 Q4_1 Q5_0 Q8_0 Q4_K Q6_K BF16): checked\n");
}

/* 3. Every binary16 value: (-1)^s · 2^(e-15) · (1 + m/1024), subnormals 2^-14 · m/1024. */
static void check_fp16_exhaustive(void)
{
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        int s = (int)(h >> 15), e = (int)(h >> 10) & 31, m = (int)(h & 1023);
        float got = ss_fp16_to_f32((uint16_t)h);
        int ok;
        if (e == 31) {
            if (m == 0) ok = isinf(got) && (signbit(got) != 0) == s;
            else ok = isnan(got) && (signbit(got) != 0) == s && ((f32_bits(got) >> 13) & 1023u) == (uint32_t)m;
        } else {
            double v = e ? ldexp(1024.0 + m, e - 25) : ldexp((double)m, -24);
            if (s) v = -v;
            ok = (double)got == v && (signbit(got) != 0) == s; /* ±0 kept apart */
        }
        if (!ok && bad++ < 5) fprintf(stderr, "fp16 %04x -> %08x\n", h, f32_bits(got));
    }
    CHECK_MSG(bad == 0, "%d fp16 patterns converted wrongly", bad);
    printf("fp16 -> fp32: all 65536 patterns exact\n");
}

/* 4. Partial blocks are refused and leave dst untouched. */
static void check_partial_blocks(void)
{
    uint8_t zero[256] = {0};
    float y[64];
    for (int i = 0; i < 64; i++) y[i] = 42.0f;
    CHECK(ss_dequant_q8_0(zero, y, 31) == -1);
    CHECK(ss_dequant_q4_0(zero, y, 33) == -1);
    CHECK(ss_dequant_q4_1(zero, y, 16) == -1);
    CHECK(ss_dequant_q5_0(zero, y, 1) == -1);
    CHECK(ss_dequant_q4_k(zero, y, 32) == -1);
    CHECK(ss_dequant_q6_k(zero, y, 64) == -1);
    int untouched = 1;
    for (int i = 0; i < 64; i++) untouched &= y[i] == 42.0f;
    CHECK(untouched);
    CHECK(ss_dequant_q8_0(zero, y, 0) == 0); /* zero weights is a whole number of blocks */
}

int main(void)
{
    const char *src = test_env("SS_SOURCE_DIR", NULL);
    if (!src) SKIP("SS_SOURCE_DIR is not set (run through ctest)");
    for (size_t k = 0; k < sizeof k_types / sizeof k_types[0]; k++) check_fixture(src, (int)k);
    check_hand_made();
    check_fp16_exhaustive();
    check_partial_blocks();
    TEST_END();
}
