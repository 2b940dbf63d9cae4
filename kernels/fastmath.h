/* fastmath.h: element-wise exp that the compiler can vectorise, for the fast paths of the softmax
 * and the activations (the references call libm's expf, erff and tanhf).
 *
 * ss_exp_fast(x) = 2^n · p(r), with n = round(x·log2 e) (to nearest, by the 1.5·2^23 trick) and r = x − n·ln 2 (ln 2 split in a high part
 * exact in fp32 and a low part, Cody–Waite), |r| <= ln2/2, and p the degree-6 Taylor polynomial of e^r
 * (truncation r^7/7! < 1.3e-7 relative). 2^n is built in the exponent bits. Measured against expf
 * over [−87, 88] by test_kernels_fast: max relative error below 4 ulp. Inputs below −87.3 give 0
 * (e^−87.3 is at the bottom of the fp32 normal range), above 88.7 give +inf; NaN gives NaN (so a broken
 * model's NaN scores reach the capture check instead of turning into probabilities).
 *
 * No branches and no libm calls, so loops over it vectorise; SS_VECTOR_CLONES additionally compiles a
 * function for AVX2 + FMA next to the baseline version and picks one at load time (GCC on x86-64 Linux;
 * elsewhere it is empty and the baseline ISA is used: clang, which builds only the fuzzers here, emits no
 * dispatcher for a multiversioned function its own file never calls, so the linker would not find it). */
#ifndef SS_KERNELS_FASTMATH_H
#define SS_KERNELS_FASTMATH_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) &&                     \
    !defined(__SANITIZE_ADDRESS__) && !defined(SS_NO_CLONES)
#define SS_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SS_VECTOR_CLONES
#endif

static inline float ss_exp_fast(float x)
{
    const float log2e = 1.44269504088896341f, ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;
    const float round_magic = 12582912.0f; /* 1.5·2^23: adding and subtracting it rounds to an integer */
    const float x0 = x;
    x = x == x ? x : 0.0f;         /* NaN: computed on 0 (no out-of-range conversion), returned as NaN below */
    x = x < -87.3f ? -87.3f : x; /* keeps n >= −126; the result is flushed to 0 below */
    x = x > 88.7f ? 88.7f : x;   /* n <= 128: 2^128 is the bit pattern of +inf */
    const float fn = (x * log2e + round_magic) - round_magic;
    const float r = (x - fn * ln2_hi) - fn * ln2_lo;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const uint32_t bits = (uint32_t)((int32_t)fn + 127) << 23; /* 2^n for −126 <= n <= 127, +inf for n = 128 */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    const float y = x0 < -87.3f ? 0.0f : p * scale;
    return x0 == x0 ? y : x0;
}

#endif
