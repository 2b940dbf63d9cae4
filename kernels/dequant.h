/* dequant.h: ggml/GGUF weight formats -> fp32. Plain reference loops, one function per format.
 *
 * Every function reads n weights from src (packed blocks, any alignment: bytes are read one by one)
 * and writes dst[n]. n must be a multiple of the format's block size (SS_QK_* below); otherwise the
 * function writes nothing and returns -1. It returns 0 on success. src holds n / block · bytes.
 *
 * Block layouts (little-endian; "fp16" is IEEE binary16, "weight j" counts from 0 within the block):
 *   F32   4 bytes per weight.                 F16   binary16 per weight.    BF16  top half of a binary32.
 *   Q8_0  [34] = fp16 d | int8 q[32];                     w[j] = d · q[j]
 *   Q4_0  [18] = fp16 d | u8 qs[16];                      w[j] = d · (lo(qs[j]) − 8),  w[j+16] = d · (hi(qs[j]) − 8)
 *   Q4_1  [20] = fp16 d | fp16 m | u8 qs[16];             w[j] = d · lo(qs[j]) + m,    w[j+16] = d · hi(qs[j]) + m
 *   Q5_0  [22] = fp16 d | u8 qh[4] | u8 qs[16];           qh read as a u32 h: bit j is the 5th bit of weight j,
 *               bit j+16 that of weight j+16;             w[j] = d · ((lo(qs[j]) | bit_j(h) << 4) − 16), likewise j+16
 *   Q4_K  [144] for 256 weights = fp16 d | fp16 dmin | u8 scales[12] | u8 qs[128].
 *               8 sub-blocks of 32, each with a 6-bit scale sc[s] and a 6-bit min mn[s] packed in scales[]:
 *                 s < 4:  sc = scales[s] & 63,  mn = scales[s+4] & 63
 *                 s >= 4: sc = (scales[s+4] & 15) | (scales[s-4] >> 6) << 4,  mn = (scales[s+4] >> 4) | (scales[s] >> 6) << 4
 *               qs holds 4 chunks of 32 bytes; chunk c gives sub-block 2c (low nibbles) and 2c+1 (high nibbles):
 *                 w[64c + l]      = d·sc[2c]   · lo(qs[32c + l]) − dmin·mn[2c]
 *                 w[64c + 32 + l] = d·sc[2c+1] · hi(qs[32c + l]) − dmin·mn[2c+1]          (l < 32)
 *   Q6_K  [210] for 256 weights = u8 ql[128] | u8 qh[64] | int8 scales[16] | fp16 d (d comes LAST).
 *               Two halves of 128 weights; half h uses ql[64h ..], qh[32h ..], scales[8h ..]. For l < 32:
 *                 q0 = lo(ql[l])    | (qh[l] >> 0 & 3) << 4    -> weight l
 *                 q1 = lo(ql[l+32]) | (qh[l] >> 2 & 3) << 4    -> weight l + 32
 *                 q2 = hi(ql[l])    | (qh[l] >> 4 & 3) << 4    -> weight l + 64
 *                 q3 = hi(ql[l+32]) | (qh[l] >> 6 & 3) << 4    -> weight l + 96
 *               each weight w = d · scales[weight / 16] · (q − 32)  (weight counted within the 256-block).
 * (lo/hi = low/high nibble.) Products are formed in fp32 in the order written above, each as its own
 * statement, so the results are bit-identical to ggml's dequantize_row_* and to the gguf Python package
 * (tests/gguf/test_dequant.c checks this against fixtures written by tests/fixtures/make_gguf_fixtures.py). */
#ifndef SS_KERNELS_DEQUANT_H
#define SS_KERNELS_DEQUANT_H

#include <stddef.h>
#include <stdint.h>

/* Weights per block and bytes per block of each format. */
#define SS_QK_F32 1
#define SS_QB_F32 4
#define SS_QK_F16 1
#define SS_QB_F16 2
#define SS_QK_BF16 1
#define SS_QB_BF16 2
#define SS_QK_Q8_0 32
#define SS_QB_Q8_0 34
#define SS_QK_Q4_0 32
#define SS_QB_Q4_0 18
#define SS_QK_Q4_1 32
#define SS_QB_Q4_1 20
#define SS_QK_Q5_0 32
#define SS_QB_Q5_0 22
#define SS_QK_Q4_K 256
#define SS_QB_Q4_K 144
#define SS_QK_Q6_K 256
#define SS_QB_Q6_K 210

/* Exact conversions (every binary16 / bfloat16 value, NaN payloads included, is representable in fp32). */
float ss_fp16_to_f32(uint16_t h);
float ss_bf16_to_f32(uint16_t b);

int ss_dequant_f32(const void *src, float *dst, size_t n);
int ss_dequant_f16(const void *src, float *dst, size_t n);
int ss_dequant_bf16(const void *src, float *dst, size_t n);
int ss_dequant_q8_0(const void *src, float *dst, size_t n);
int ss_dequant_q4_0(const void *src, float *dst, size_t n);
int ss_dequant_q4_1(const void *src, float *dst, size_t n);
int ss_dequant_q5_0(const void *src, float *dst, size_t n);
int ss_dequant_q4_k(const void *src, float *dst, size_t n);
int ss_dequant_q6_k(const void *src, float *dst, size_t n);

#endif
