/* dequant.c: reference dequantization of the ggml formats to fp32 (layouts in dequant.h).
 * These loops are the reference: no intrinsics, bytes read one at a time, each product its own
 * statement (so no compiler may fuse a multiply-add and change the rounding). */
#include "dequant.h"

#include <string.h> /* memcpy */

/* Little-endian reads from a byte pointer (no alignment assumed). */
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float ss_fp16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f; /* biased by 15 */
    uint32_t mant = h & 0x3ff;       /* 10 bits */
    if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | mant << 13); /* inf, NaN (payload kept) */
    if (exp == 0) {
        if (mant == 0) return bits_to_f32(sign); /* ±0 */
        /* Subnormal: mant · 2^-24. Normalise: shift until the implicit bit (bit 10) is set. */
        int e = -14; /* the exponent of the leading bit position 10 */
        while (!(mant & 0x400)) {
            mant <<= 1;
            e--;
        }
        mant &= 0x3ff;
        return bits_to_f32(sign | (uint32_t)(e + 127) << 23 | mant << 13);
    }
    return bits_to_f32(sign | (exp - 15 + 127) << 23 | mant << 13);
}

float ss_bf16_to_f32(uint16_t b) { return bits_to_f32((uint32_t)b << 16); }

int ss_dequant_f32(const void *src, float *dst, size_t n)
{
    memcpy(dst, src, n * sizeof *dst); /* the file is little-endian, like every host we build for */
    return 0;
}

int ss_dequant_f16(const void *src, float *dst, size_t n)
{
    const uint8_t *p = src; /* [n][2] */
    for (size_t i = 0; i < n; i++) dst[i] = ss_fp16_to_f32(rd16(p + 2 * i));
    return 0;
}

int ss_dequant_bf16(const void *src, float *dst, size_t n)
{
    const uint8_t *p = src; /* [n][2] */
    for (size_t i = 0; i < n; i++) dst[i] = ss_bf16_to_f32(rd16(p + 2 * i));
    return 0;
}

int ss_dequant_q8_0(const void *src, float *dst, size_t n)
{
    if (n % SS_QK_Q8_0) return -1;
    const uint8_t *b = src; /* [n/32][34] */
    for (size_t ib = 0; ib < n / SS_QK_Q8_0; ib++, b += SS_QB_Q8_0) {
        float d = ss_fp16_to_f32(rd16(b));
        const uint8_t *q = b + 2; /* int8 [32] */
        float *y = dst + ib * SS_QK_Q8_0;
        for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)q[j] * d;
    }
    return 0;
}

int ss_dequant_q4_0(const void *src, float *dst, size_t n)
{
    if (n % SS_QK_Q4_0) return -1;
    const uint8_t *b = src; /* [n/32][18] */
    for (size_t ib = 0; ib < n / SS_QK_Q4_0; ib++, b += SS_QB_Q4_0) {
        float d = ss_fp16_to_f32(rd16(b));
        const uint8_t *qs = b + 2; /* [16] */
        float *y = dst + ib * SS_QK_Q4_0;
        for (int j = 0; j < 16; j++) {
            int lo = (qs[j] & 0x0f) - 8, hi = (qs[j] >> 4) - 8;
            y[j] = (float)lo * d;
            y[j + 16] = (float)hi * d;
        }
    }
    return 0;
}

int ss_dequant_q4_1(const void *src, float *dst, size_t n)
{
    if (n % SS_QK_Q4_1) return -1;
    const uint8_t *b = src; /* [n/32][20] */
    for (size_t ib = 0; ib < n / SS_QK_Q4_1; ib++, b += SS_QB_Q4_1) {
        float d = ss_fp16_to_f32(rd16(b));
        float m = ss_fp16_to_f32(rd16(b + 2));
        const uint8_t *qs = b + 4; /* [16] */
        float *y = dst + ib * SS_QK_Q4_1;
        for (int j = 0; j < 16; j++) {
            float lo = (float)(qs[j] & 0x0f) * d;
            float hi = (float)(qs[j] >> 4) * d;
            y[j] = lo + m;
            y[j + 16] = hi + m;
        }
    }
    return 0;
}

int ss_dequant_q5_0(const void *src, float *dst, size_t n)
{
    if (n % SS_QK_Q5_0) return -1;
    const uint8_t *b = src; /* [n/32][22] */
    for (size_t ib = 0; ib < n / SS_QK_Q5_0; ib++, b += SS_QB_Q5_0) {
        float d = ss_fp16_to_f32(rd16(b));
        uint32_t h = rd32(b + 2);  /* bit j: 5th bit of weight j */
        const uint8_t *qs = b + 6; /* [16] */
        float *y = dst + ib * SS_QK_Q5_0;
        for (int j = 0; j < 16; j++) {
            int lo = (int)((qs[j] & 0x0f) | ((h >> j) & 1u) << 4) - 16;
            int hi = (int)((qs[j] >> 4) | ((h >> (j + 16)) & 1u) << 4) - 16;
            y[j] = (float)lo * d;
            y[j + 16] = (float)hi * d;
        }
    }
    return 0;
}

/* The 6-bit scale and min of sub-block s (0..7) of a Q4_K super-block (packing in dequant.h). */
static void q4k_scale_min(const uint8_t *scales /* [12] */, int s, int *sc, int *mn)
{
    if (s < 4) {
        *sc = scales[s] & 63;
        *mn = scales[s + 4] & 63;
    } else {
        *sc = (scales[s + 4] & 0x0f) | (scales[s - 4] >> 6) << 4;
        *mn = (scales[s + 4] >> 4) | (scales[s] >> 6) << 4;
    }
}

int ss_dequant_q4_k(const void *src, float *dst, size_t n)
{
    if (n % SS_QK_Q4_K) return -1;
    const uint8_t *b = src; /* [n/256][144] */
    for (size_t ib = 0; ib < n / SS_QK_Q4_K; ib++, b += SS_QB_Q4_K) {
        float d = ss_fp16_to_f32(rd16(b));
        float dmin = ss_fp16_to_f32(rd16(b + 2));
        const uint8_t *scales = b + 4; /* [12] */
        const uint8_t *qs = b + 16;    /* [4][32] */
        float *y = dst + ib * SS_QK_Q4_K;
        for (int c = 0; c < 4; c++) { /* chunk c: sub-blocks 2c (low nibbles) and 2c+1 (high nibbles) */
            int sc0, mn0, sc1, mn1;
            q4k_scale_min(scales, 2 * c, &sc0, &mn0);
            q4k_scale_min(scales, 2 * c + 1, &sc1, &mn1);
            float d0 = d * (float)sc0, m0 = dmin * (float)mn0;
            float d1 = d * (float)sc1, m1 = dmin * (float)mn1;
            const uint8_t *q = qs + 32 * c;
            for (int l = 0; l < 32; l++) {
                float a = d0 * (float)(q[l] & 0x0f);
                float e = d1 * (float)(q[l] >> 4);
                y[64 * c + l] = a - m0;
                y[64 * c + 32 + l] = e - m1;
            }
        }
    }
    return 0;
}

int ss_dequant_q6_k(const void *src, float *dst, size_t n)
{
    if (n % SS_QK_Q6_K) return -1;
    const uint8_t *b = src; /* [n/256][210] */
    for (size_t ib = 0; ib < n / SS_QK_Q6_K; ib++, b += SS_QB_Q6_K) {
        const uint8_t *ql = b;          /* [128] low 4 bits */
        const uint8_t *qh = b + 128;    /* [64] high 2 bits, four weights per byte */
        const uint8_t *scales = b + 192; /* int8 [16], one per 16 weights */
        float d = ss_fp16_to_f32(rd16(b + 208));
        float ds[16]; /* d · scale, per 16 weights */
        for (int s = 0; s < 16; s++) ds[s] = d * (float)(int8_t)scales[s];
        float *y = dst + ib * SS_QK_Q6_K;
        for (int h = 0; h < 2; h++) {
            const uint8_t *L = ql + 64 * h, *H = qh + 32 * h;
            float *yh = y + 128 * h;
            const float *dsh = ds + 8 * h;
            for (int l = 0; l < 32; l++) {
                int q0 = (int)((L[l] & 0x0f) | ((H[l] >> 0) & 3) << 4) - 32;
                int q1 = (int)((L[l + 32] & 0x0f) | ((H[l] >> 2) & 3) << 4) - 32;
                int q2 = (int)((L[l] >> 4) | ((H[l] >> 4) & 3) << 4) - 32;
                int q3 = (int)((L[l + 32] >> 4) | ((H[l] >> 6) & 3) << 4) - 32;
                yh[l] = dsh[l / 16] * (float)q0;
                yh[l + 32] = dsh[2 + l / 16] * (float)q1;
                yh[l + 64] = dsh[4 + l / 16] * (float)q2;
                yh[l + 96] = dsh[6 + l / 16] * (float)q3;
            }
        }
    }
    return 0;
}
