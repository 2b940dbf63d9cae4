/* attention.cu: attention with probabilities on the GPU (ops.h ss_cu_mha, ss_cu_mha_version). The numbered
 * kernel versions live in the workbench, kernels/dev/attn_v<N>.cuh; this file builds every one of them, so the
 * tests check each against ss_mha_ref, and ss_cu_mha runs SS_CU_MHA_DEFAULT. A new version: add
 * kernels/dev/attn_v3.cuh, include it here, raise SS_CU_MHA_VERSIONS, validate and sweep it with
 * kernels/dev/attn_bench, and promote it by changing SS_CU_MHA_DEFAULT. */
#include <math.h>
#include <stdio.h>

#include "common.cuh"
#include "ops.h"

#include "attn_v1.cuh"
#include "attn_v2.cuh"

extern "C" int ss_cu_mha_version(int version, ss_cu_mha_shape shape, const ss_mha_desc *d, float *P, float *out,
                                 int ld_out, const float *q, const float *k, const float *v)
{
    if (d->T < 0 || d->H <= 0 || d->H_kv <= 0 || d->H % d->H_kv || d->d_h <= 0 || ld_out < d->H * d->d_h)
        return ss_cu_fail_arg("ss_cu_mha: bad shape T=%d H=%d H_kv=%d d_h=%d ld_out=%d", d->T, d->H, d->H_kv, d->d_h,
                              ld_out);
    if (d->T == 0) return 0;
    SsMhaArgs a = {q, k, v, P, out, d->alibi, d->T, d->H, d->H_kv, d->d_h, ld_out, d->causal, d->window, d->scale};
    switch (version) {
    case 1: return attn_v1_launch(a, &shape);
    case 2: return attn_v2_launch(a, &shape);
    default: return ss_cu_fail_arg("ss_cu_mha: no attention kernel version %d (1..%d)", version, SS_CU_MHA_VERSIONS);
    }
}

extern "C" int ss_cu_mha(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k,
                         const float *v)
{
    ss_cu_mha_shape shape = {0, 0, 0};
    return ss_cu_mha_version(SS_CU_MHA_DEFAULT, shape, a, P, out, ld_out, q, k, v);
}
