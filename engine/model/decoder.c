/* decoder.c: building blocks shared by the forward passes (decoder.h). */
#include "decoder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h" /* ss_gelu_erf, ss_gelu_tanh */
#include "attention.h"  /* ss_mha */

/* ------------------------------------------------------------------------------------------ weights */

ss_status ss_bind(const ss_safetensors *sf, const char *prefix, const char *name, int n_dims, int64_t d0, int64_t d1,
                  const float **out)
{
    char full[512];
    int64_t dims[2] = {d0, d1};
    snprintf(full, sizeof full, "%s%s", prefix, name);
    return ss_st_get_f32(sf, full, n_dims, dims, out);
}

const char *ss_find_prefix(const ss_safetensors *sf, const char *probe, const char *const *prefixes, int n)
{
    char full[512];
    for (int i = 0; i < n; i++) {
        snprintf(full, sizeof full, "%s%s", prefixes[i], probe);
        if (ss_st_find(sf, full)) return prefixes[i];
    }
    return prefixes[0];
}

/* ------------------------------------------------------------------------------------------ scratch */

void ss_scratch_init(ss_scratch *s, int d, int n_proj, int n_ctx, int n_ff, int rope_dims, double rope_theta)
{
    memset(s, 0, sizeof *s);
    s->d = d;
    s->n_proj = n_proj;
    s->n_ctx = n_ctx;
    s->n_ff = n_ff;
    s->rope_dims = rope_dims;
    s->rope_theta = rope_theta;
}

static ss_status grow(float **p, size_t n, int T)
{
    float *q = realloc(*p, (n ? n : 1) * sizeof(float));
    if (!q) return ss_fail(SS_ERR_NOMEM, "out of memory for the scratch of %d tokens", T);
    *p = q;
    return SS_OK;
}

ss_status ss_scratch_grow(ss_scratch *s, int T)
{
    ss_status st = SS_OK;
    if (T <= s->cap_T) return SS_OK;
    const size_t t = (size_t)T, half = (size_t)s->rope_dims / 2;
    SS_TRY(grow(&s->xn, t * s->d, T));
    SS_TRY(grow(&s->proj, t * s->n_proj, T));
    SS_TRY(grow(&s->ctx, t * s->n_ctx, T));
    SS_TRY(grow(&s->ff, t * s->n_ff, T));
    SS_TRY(grow(&s->tmp, t * s->d, T));
    if (half > 0) {
        SS_TRY(grow(&s->rope_cos, t * half, T));
        SS_TRY(grow(&s->rope_sin, t * half, T));
        ss_rope_tables(s->rope_cos, s->rope_sin, T, s->rope_dims, s->rope_theta);
    }
    s->cap_T = T;
done:
    return st;
}

ss_status ss_scratch_set_rope(ss_scratch *s, int rope_dims, double rope_theta)
{
    if (rope_dims == s->rope_dims && rope_theta == s->rope_theta) return SS_OK;
    const size_t n = (size_t)s->cap_T * (size_t)(rope_dims / 2);
    float *c = NULL, *sn = NULL; /* [cap_T][rope_dims/2] each */
    if (n > 0) {
        c = malloc(n * sizeof *c);
        sn = malloc(n * sizeof *sn);
        if (!c || !sn) {
            free(c);
            free(sn);
            return ss_fail(SS_ERR_NOMEM, "out of memory for the RoPE tables of %d tokens", s->cap_T);
        }
        ss_rope_tables(c, sn, s->cap_T, rope_dims, rope_theta);
    }
    free(s->rope_cos);
    free(s->rope_sin);
    s->rope_cos = c;
    s->rope_sin = sn;
    s->rope_dims = rope_dims;
    s->rope_theta = rope_theta;
    return SS_OK;
}

void ss_scratch_free(ss_scratch *s)
{
    if (!s) return;
    free(s->xn);
    free(s->proj);
    free(s->ctx);
    free(s->ff);
    free(s->tmp);
    free(s->rope_cos);
    free(s->rope_sin);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------------------------- pieces */

void ss_embed(float *x, const float *table, const int32_t *ids, int T, int d)
{
    for (int t = 0; t < T; t++) memcpy(x + (size_t)t * d, table + (size_t)ids[t] * d, (size_t)d * sizeof(float));
}

void ss_add_inplace(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void ss_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride)
{
    for (int h = 0; h < n; h++)
        for (int t = 0; t < T; t++)
            memcpy(dst + ((size_t)h * T + t) * d_h, src + (size_t)t * ld + offset + (size_t)h * stride,
                   (size_t)d_h * sizeof(float));
}

int ss_act_from_name(const char *name)
{
    if (strcmp(name, "gelu") == 0) return SS_ACT_GELU_ERF;
    if (strcmp(name, "gelu_new") == 0 || strcmp(name, "gelu_pytorch_tanh") == 0 || strcmp(name, "gelu_fast") == 0 ||
        strcmp(name, "bloom_gelu") == 0)
        return SS_ACT_GELU_TANH;
    return -1;
}

void ss_act_apply(ss_act a, float *x, size_t n)
{
    if (a == SS_ACT_GELU_ERF)
        ss_gelu_erf(x, n);
    else
        ss_gelu_tanh(x, n);
}

/* ---------------------------------------------------------------------------------- attention */

void ss_layer_attention(ss_capture *cap, int l, const ss_attn_cfg *a, const ss_scratch *s)
{
    const int T = cap->n_tokens, H = cap->n_heads, Hkv = cap->n_kv_heads, d_h = cap->d_head;
    const size_t qn = (size_t)H * T * d_h, kn = (size_t)Hkv * T * d_h;
    const float *q_pre = cap->q_pre + l * qn, *k_pre = cap->k_pre + l * kn; /* [H|H_kv][T][d_h] */
    float *q = cap->q + l * qn, *k = cap->k + l * kn;                       /* [H|H_kv][T][d_h] */
    const float *v = cap->v + l * kn;                                       /* [H_kv][T][d_h] */
    memcpy(q, q_pre, qn * sizeof(float));
    memcpy(k, k_pre, kn * sizeof(float));
    if (a->rope_dims > 0) {
        ss_rope_apply_ref(q, H, T, d_h, a->rope_dims, a->rope_pairing, s->rope_cos, s->rope_sin);
        ss_rope_apply_ref(k, Hkv, T, d_h, a->rope_dims, a->rope_pairing, s->rope_cos, s->rope_sin);
    }
    ss_mha_desc desc = {T, H, Hkv, d_h, a->scale, cap->causal, a->alibi, 0};
    ss_mha(&desc, cap->attn + (size_t)l * H * T * T, s->ctx, H * d_h, q, k, v);
}
