/* model.h: the trainer's decoder (issue 8): parameter layout in one contiguous arena, initialisation, and the
 * forward and backward passes over a batch of B windows of T tokens, in float (training) and in double (the
 * reference the whole-model finite-difference test checks, tests/train/test_train_model.c).
 *
 * Architecture (the exporter, engine/train/export.h, relies on it exactly):
 *   x = wte[ids]  (+ wpe[t] learned | + the fixed ss_sinusoidal_table row t);  alibi: x = LayerNorm_emb(x)
 *   pre-LN block:  x += attn(LN1(x))·Woᵀ + bo;   x += gelu_tanh(LN2(x)·W_fcᵀ + b_fc)·W_projᵀ + b_proj
 *   post-LN block: x = LN1(x + attn(x));         x = LN2(x + mlp(x))
 *   pre-LN: final LayerNorm (post-LN: none);  logits = x·wteᵀ (tied), cross-entropy against the targets.
 * attn: separate q, k, v linears with biases; head h is columns [h·d_h, (h+1)·d_h); scale 1/√d_h; causal;
 * rope: half pairing (i, i + d_h/2) over all d_h columns, θ = 10000; alibi: ss_alibi_slopes(H).
 * All weights are nn.Linear [out][in]. Rows are n = b·T + t (window b, position t).
 *
 * Arena order (ss_tr_layout.tensors lists it with names and shapes): wte, [wpe], [emb_ln_g, emb_ln_b], then per
 * layer ln1_g, ln1_b, wq, bq, wk, bk, wv, bv, wo, bo, ln2_g, ln2_b, w_fc, b_fc, w_proj, b_proj, then [lnf_g,
 * lnf_b]. The backward ACCUMULATES into the gradient arena (train_ops.h's convention): zero it per step. */
#ifndef SS_TRAIN_MODEL_H
#define SS_TRAIN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "../status.h"
#include "export.h" /* ss_tr_posenc, ss_tr_export_model */

typedef struct {
    int n_layers, d_model, n_heads, d_ff, n_ctx, n_vocab;
    ss_tr_posenc pe;
    int post_ln; /* 1: post-LN blocks, no final LayerNorm */
    float ln_eps;
    int bos_id; /* -1 or 256 (then n_vocab = 257) */
} ss_tr_arch;

typedef struct {
    char name[48];   /* "wte", "h.0.wq", ... */
    size_t off, n;   /* in floats, within the arena */
    int n_dims;      /* 1 or 2 */
    int64_t shape[2];
    int decay;       /* 1: AdamW weight decay applies (the linear weights; not norms, biases, embeddings) */
} ss_tr_tensor;

typedef struct {
    size_t ln1_g, ln1_b, wq, bq, wk, bk, wv, bv, wo, bo, ln2_g, ln2_b, w_fc, b_fc, w_proj, b_proj;
} ss_tr_layer_off;

typedef struct {
    ss_tr_arch a;
    int d_h;
    size_t n_params;        /* floats in the arena */
    ss_tr_tensor *tensors;  /* [n_tensors] in arena order */
    int n_tensors;
    size_t wte, wpe, emb_g, emb_b, lnf_g, lnf_b; /* offsets; SIZE_MAX when absent */
    ss_tr_layer_off *layers; /* [n_layers] */
    float *sin_table;        /* [n_ctx][d] sinusoidal only (ss_sinusoidal_table), else NULL */
    float *slopes;           /* [H] alibi only (ss_alibi_slopes), else NULL */
    double *rope_cos, *rope_sin; /* [n_ctx][d_h/2] rope only, else NULL */
} ss_tr_layout;

/* Checks the architecture (SS_ERR_INPUT with the reason: d_model % n_heads, even d_h for rope, ...) and builds
 * the layout and its fixed tables. */
ss_status ss_tr_layout_init(ss_tr_layout *L, const ss_tr_arch *a);
void ss_tr_layout_free(ss_tr_layout *L);

/* GPT-2's initialisation from seed: linear weights and embeddings N(0, 0.02²), the output projections (wo,
 * w_proj) N(0, (0.02/√(2·n_layers))²), biases 0, norm gains 1. Normals by Box–Muller on ss_splitmix64. */
void ss_tr_init_params(const ss_tr_layout *L, float *params, uint64_t seed);

/* The export view of a float arena: pointers into params (and L's sinusoidal table); layers [n_layers] is
 * filled by the call. */
void ss_tr_export_view(const ss_tr_layout *L, const float *params, ss_tr_export_layer *layers,
                       ss_tr_export_model *m);

/* Activations saved by the forward for the backward, for batches of up to B windows of T <= n_ctx tokens. */
typedef struct ss_tr_work_f ss_tr_work_f;
typedef struct ss_tr_work_d ss_tr_work_d;
ss_status ss_tr_work_new_f(const ss_tr_layout *L, int B, int T, ss_tr_work_f **out);
ss_status ss_tr_work_new_d(const ss_tr_layout *L, int B, int T, ss_tr_work_d **out);
void ss_tr_work_free_f(ss_tr_work_f *w);
void ss_tr_work_free_d(ss_tr_work_d *w);

/* Forward of ids [B][T] (0 <= id < n_vocab, checked by the caller): returns the mean cross-entropy over the
 * rows with a target >= 0 (targets [B][T]); keeps what the backward needs. */
double ss_tr_forward_f(const ss_tr_layout *L, const float *params, ss_tr_work_f *w, const int32_t *ids,
                       const int32_t *targets, int B, int T);
double ss_tr_forward_d(const ss_tr_layout *L, const double *params, ss_tr_work_d *w, const int32_t *ids,
                       const int32_t *targets, int B, int T);
/* Backward of the last forward on w (same params, ids, targets): grads [n_params] += dLoss/dparams. */
void ss_tr_backward_f(const ss_tr_layout *L, const float *params, float *grads, ss_tr_work_f *w, const int32_t *ids,
                      const int32_t *targets, int B, int T);
void ss_tr_backward_d(const ss_tr_layout *L, const double *params, double *grads, ss_tr_work_d *w,
                      const int32_t *ids, const int32_t *targets, int B, int T);
/* The logits [B·T][n_vocab] of the last forward, and its final hidden state [B·T][d] (after the final LayerNorm
 * for pre-LN; the last block's output for post-LN). */
const float *ss_tr_logits_f(const ss_tr_work_f *w);
const double *ss_tr_logits_d(const ss_tr_work_d *w);
const float *ss_tr_hidden_f(const ss_tr_work_f *w);

#endif
