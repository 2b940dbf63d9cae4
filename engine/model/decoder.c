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

/* The backend buffers of the scratch, released on the backend that holds them. */
static void release_backend(ss_scratch *s)
{
    if (!s->be) return;
    float **bufs[] = {&s->xn, &s->proj, &s->ctx, &s->ff, &s->tmp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        ss_be_release(s->be, *bufs[i]);
        *bufs[i] = NULL;
    }
    s->be = NULL;
}

ss_status ss_scratch_grow(ss_scratch *s, ss_fwd *f, int T)
{
    ss_status st = SS_OK;
    const size_t half = (size_t)s->rope_dims / 2;
    if (T > s->cap_T || s->be != f->be) {
        const int rows = T > s->cap_T ? T : s->cap_T;
        const size_t t = (size_t)rows;
        release_backend(s);
        s->cap_T = 0;
        float **bufs[] = {&s->xn, &s->proj, &s->ctx, &s->ff, &s->tmp};
        const size_t widths[] = {(size_t)s->d, (size_t)s->n_proj, (size_t)s->n_ctx, (size_t)s->n_ff, (size_t)s->d};
        s->be = f->be;
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
            SS_TRY(ss_be_alloc(f->be, (void **)bufs[i], t * widths[i] * sizeof(float)));
        if (half > 0) {
            SS_TRY(grow(&s->rope_cos, t * half, rows));
            SS_TRY(grow(&s->rope_sin, t * half, rows));
            ss_rope_tables(s->rope_cos, s->rope_sin, rows, s->rope_dims, s->rope_theta);
        }
        s->cap_T = rows;
    }
    const size_t nt = (size_t)T * half * sizeof(float);
    const void *c = NULL, *sn = NULL;
    SS_TRY(ss_fwd_stage(f, half ? s->rope_cos : NULL, nt, &c));
    SS_TRY(ss_fwd_stage(f, half ? s->rope_sin : NULL, nt, &sn));
    s->rope_cos_b = c;
    s->rope_sin_b = sn;
done:
    if (st != SS_OK) {
        release_backend(s);
        s->cap_T = 0;
    }
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
    release_backend(s);
    free(s->rope_cos);
    free(s->rope_sin);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------------------------- pieces */

int ss_act_from_name(const char *name)
{
    if (strcmp(name, "gelu") == 0) return SS_ACT_GELU_ERF;
    if (strcmp(name, "gelu_new") == 0 || strcmp(name, "gelu_pytorch_tanh") == 0 || strcmp(name, "gelu_fast") == 0 ||
        strcmp(name, "bloom_gelu") == 0)
        return SS_ACT_GELU_TANH;
    return -1;
}

ss_status ss_act_apply(const ss_backend *be, ss_act a, float *x, size_t n)
{
    return a == SS_ACT_GELU_ERF ? ss_be_gelu_erf(be, x, n) : ss_be_gelu_tanh(be, x, n);
}

/* ---------------------------------------------------------------------------------- attention */

ss_status ss_layer_attention(ss_fwd *f, ss_capture *cap, int l, const ss_attn_cfg *a, const ss_scratch *s,
                             int window, const float *cos_t, const float *sin_t)
{
    ss_status st = SS_OK;
    const ss_backend *be = f->be;
    const int T = cap->n_tokens, H = cap->n_heads, Hkv = cap->n_kv_heads, d_h = cap->d_head;
    const size_t qn = (size_t)H * T * d_h, kn = (size_t)Hkv * T * d_h;
    const float *q_pre = ss_fwd_cap(f, cap->q_pre + l * qn), *k_pre = ss_fwd_cap(f, cap->k_pre + l * kn); /* [H|H_kv][T][d_h] */
    float *q = ss_fwd_cap(f, cap->q + l * qn), *k = ss_fwd_cap(f, cap->k + l * kn); /* [H|H_kv][T][d_h] */
    const float *v = ss_fwd_cap(f, cap->v + l * kn);                                 /* [H_kv][T][d_h] */
    const void *alibi = NULL;                                                       /* [H] */
    SS_TRY(ss_be_copy(be, q, q_pre, qn * sizeof(float)));
    SS_TRY(ss_be_copy(be, k, k_pre, kn * sizeof(float)));
    if (a->rope_dims > 0) {
        if (!cos_t) cos_t = s->rope_cos_b, sin_t = s->rope_sin_b;
        SS_TRY(ss_be_rope(be, q, H, T, d_h, a->rope_dims, a->rope_pairing, cos_t, sin_t));
        SS_TRY(ss_be_rope(be, k, Hkv, T, d_h, a->rope_dims, a->rope_pairing, cos_t, sin_t));
    }
    SS_TRY(ss_fwd_stage(f, a->alibi, (size_t)H * sizeof(float), &alibi));
    ss_mha_desc desc = {T, H, Hkv, d_h, a->scale, cap->causal, alibi, window};
    SS_TRY(ss_be_mha(be, &desc, ss_fwd_cap(f, cap->attn + (size_t)l * H * T * T), s->ctx, H * d_h, q, k, v));
done:
    return st;
}

ss_status ss_fused_attention(ss_fwd *f, ss_capture *cap, int l, const ss_attn_cfg *a, ss_scratch *s, const float *in,
                             const float *w_qkv, const float *b_qkv, const float *w_o, const float *b_o, float *out)
{
    ss_status st = SS_OK;
    const ss_backend *be = f->be;
    const int T = cap->n_tokens, H = cap->n_heads, d_h = cap->d_head, d = cap->d_model;
    const size_t hn = (size_t)H * T * d_h; /* one layer of q/k/v in the capture */
    SS_TRY(ss_be_matmul(be, s->proj, in, ss_fwd_ptr(f, w_qkv), ss_fwd_ptr(f, b_qkv), T, d, 3 * d, 0));
    SS_TRY(ss_be_gather_heads(be, ss_fwd_cap(f, cap->q_pre + l * hn), s->proj, T, H, d_h, 3 * d, 0, 3 * d_h));
    SS_TRY(ss_be_gather_heads(be, ss_fwd_cap(f, cap->k_pre + l * hn), s->proj, T, H, d_h, 3 * d, d_h, 3 * d_h));
    SS_TRY(ss_be_gather_heads(be, ss_fwd_cap(f, cap->v + l * hn), s->proj, T, H, d_h, 3 * d, 2 * d_h, 3 * d_h));
    SS_TRY(ss_layer_attention(f, cap, l, a, s, 0, NULL, NULL));
    SS_TRY(ss_be_matmul(be, out, s->ctx, ss_fwd_ptr(f, w_o), ss_fwd_ptr(f, b_o), T, d, d, 0));
done:
    return st;
}
