/* decoder.h (internal to engine/model): building blocks shared by the forward passes (bert.c, gpt2.c,
 * llama.c, bloom.c, neox.c): weight binding, reusable scratch, gathering heads out of projections,
 * and the attention sublayer that fills the capture.
 *
 * Dimensions: T tokens, d = d_model, H query heads, H_kv key/value heads, d_h columns per head. */
#ifndef SS_DECODER_H
#define SS_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "../capture.h"
#include "../status.h"
#include "fwd.h"
#include "glue.h" /* ss_embed, ss_add_inplace, ss_gather_heads */
#include "rope.h"
#include "safetensors.h"

/* ------------------------------------------------------------------------------------------ weights */

/* Binds "<prefix><name>" as an F32 tensor of shape [d0] (n_dims 1) or [d0][d1] (n_dims 2). A missing
 * tensor, another dtype or shape: SS_ERR_FORMAT naming the file and the tensor. */
ss_status ss_bind(const ss_safetensors *sf, const char *prefix, const char *name, int n_dims, int64_t d0, int64_t d1,
                  const float **out);
/* The first of prefixes[0..n) (e.g. "", "transformer.") under which tensor probe exists; prefixes[0]
 * when none does (binding then fails naming the tensor without a prefix). */
const char *ss_find_prefix(const ss_safetensors *sf, const char *probe, const char *const *prefixes, int n);

/* ------------------------------------------------------------------------------------------ scratch */

/* Per-token buffers, owned by an architecture's state, grown to the longest prompt seen and reused
 * (nothing is allocated per token or per layer). xn, proj, ctx, ff and tmp are in the memory of the backend
 * they were grown on (fwd.h); the RoPE tables are host memory, staged onto the backend once per pass
 * (rope_cos_b, rope_sin_b: valid during the pass). */
typedef struct {
    const ss_backend *be;       /* the backend of xn..tmp (NULL before the first grow) */
    int cap_T;                  /* rows allocated */
    int d, n_proj, n_ctx, n_ff; /* row widths, fixed by ss_scratch_init */
    int rope_dims;              /* 0: no RoPE tables */
    double rope_theta;
    float *xn;                  /* [cap_T][d] normalised input of a sublayer */
    float *proj;                /* cap_T·n_proj floats: one fused [T][n_proj] q|k|v projection, or the
                                   separate ones back to back ([T][H·d_h] then [T][H_kv·d_h] twice) */
    float *ctx;                 /* [cap_T][n_ctx] attention context, heads side by side (n_ctx = H·d_h) */
    float *ff;                  /* [cap_T][n_ff] FFN activations (SwiGLU: gate [cap_T][d_ff] then up) */
    float *tmp;                 /* [cap_T][d] */
    float *rope_cos, *rope_sin; /* [cap_T][rope_dims/2] RoPE tables for positions 0..cap_T-1 (host) */
    const float *rope_cos_b, *rope_sin_b; /* the same on the backend, for the pass in progress */
} ss_scratch;

void ss_scratch_init(ss_scratch *s, int d, int n_proj, int n_ctx, int n_ff, int rope_dims, double rope_theta);
/* Makes room for T tokens on f's backend (never shrinks; reallocates everything when the backend changed) and
 * stages the RoPE tables for the pass; SS_ERR_NOMEM leaves the old buffers valid. Call after ss_fwd_begin. */
ss_status ss_scratch_grow(ss_scratch *s, ss_fwd *f, int T);
/* Switches the RoPE tables to rope_dims (even; 0: none) and rope_theta, recomputing them for the rows
 * already allocated (encoding.c, for the `rope` ablation and back); nothing happens when both are
 * unchanged. SS_ERR_NOMEM leaves s as it was. */
ss_status ss_scratch_set_rope(ss_scratch *s, int rope_dims, double rope_theta);
void ss_scratch_free(ss_scratch *s);

/* ---------------------------------------------------------------------------------------- pieces */


/* GELU flavours by Hugging Face name. */
typedef enum { SS_ACT_GELU_ERF, SS_ACT_GELU_TANH } ss_act;
/* "gelu" -> erf; "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "bloom_gelu" -> tanh; others: -1. */
int ss_act_from_name(const char *name);
/* x [n] (backend memory) = act(x). */
ss_status ss_act_apply(const ss_backend *be, ss_act a, float *x, size_t n);

/* ---------------------------------------------------------------------------------- attention */

typedef struct {
    int rope_dims;                /* 0: no RoPE (q = q_pre, k = k_pre) */
    ss_rope_pairing rope_pairing; /* which columns pair up (rope.h) */
    float scale;                  /* multiplies q·k */
    const float *alibi;           /* [H] ALiBi slopes (host; ss_layer_attention stages them), or NULL */
} ss_attn_cfg;

/* Layer l's attention on f's backend, once q_pre, k_pre and v of layer l are filled (in f's mirror of cap):
 * q and k of layer l become the RoPE-rotated copies (plain copies without RoPE), the probabilities go to
 * attn[l] and the context to s->ctx [T][H·d_h]. Causal iff cap->causal; window: the layer's sliding window
 * (0: none); cos_t, sin_t: backend RoPE tables to use instead of s's (NULL: s's). s must hold cap->n_tokens
 * rows. */
ss_status ss_layer_attention(ss_fwd *f, ss_capture *cap, int l, const ss_attn_cfg *a, const ss_scratch *s,
                             int window, const float *cos_t, const float *sin_t);

/* The attention sublayer of a per-head fused q|k|v projection (BLOOM, GPT-NeoX: rows [H][3][d_h]) on f's backend:
 * s->proj [T][3d] = in · W_qkvᵀ + b_qkv; q_pre, k_pre and v of layer l gathered from it; ss_layer_attention (no
 * window, s's RoPE tables); out = s->ctx · W_oᵀ + b_o. in, out [T][d] are backend memory; the weights are host
 * pointers inside f's regions (W_qkv [3d][d], b_qkv [3d], W_o [d][d], b_o [d]). */
ss_status ss_fused_attention(ss_fwd *f, ss_capture *cap, int l, const ss_attn_cfg *a, ss_scratch *s, const float *in,
                             const float *w_qkv, const float *b_qkv, const float *w_o, const float *b_o, float *out);

#endif
