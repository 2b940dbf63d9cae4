/* backward.h (internal to engine/model): the pieces the per-architecture backward passes share
 * (backward_<arch>.c), behind ss_model_grad_norms (model.h).
 *
 * A backward pass binds the weights it needs by name from the model's tensors (as its forward pass does),
 * takes the forward activations from the capture, recomputes the rest per layer, and hands every parameter
 * gradient to ss_bwd_emit, which sums its squares into the group totals and passes it on to the caller's
 * visitor. Everything is fp32 on the host (cblas), sums of squares in double; train_ops.h supplies the
 * per-op backward passes (linear, attention per head, GELU, cross-entropy), this file what train_ops lacks in
 * float (RMSNorm, the gated MLPs) and the LM head.
 *
 * Dimensions: T tokens, d = d_model, V vocabulary. */
#ifndef SS_BACKWARD_H
#define SS_BACKWARD_H

#include <stddef.h>
#include <stdint.h>

#include "../capture.h"
#include "../status.h"
#include "hfconfig.h"
#include "model.h"
#include "safetensors.h"

/* Where the gradients go. */
typedef struct {
    ss_grad_norms *out; /* totals (the per-layer arrays may be NULL) */
    ss_grad_visit visit;
    void *ctx;
} ss_bwd_sink;

/* One per-architecture backward pass: cap is the model's forward pass on its tokens (native encoding). */
typedef ss_status (*ss_bwd_fn)(const ss_hfconfig *cfg, const ss_safetensors *sf, const ss_capture *cap,
                               ss_bwd_sink *sink);
ss_status ss_bwd_llama(const ss_hfconfig *cfg, const ss_safetensors *sf, const ss_capture *cap, ss_bwd_sink *sink);
ss_status ss_bwd_gemma3(const ss_hfconfig *cfg, const ss_safetensors *sf, const ss_capture *cap, ss_bwd_sink *sink);
/* gpt2, gpt_neox and bloom (backward_ln.c) */
ss_status ss_bwd_ln(const ss_hfconfig *cfg, const ss_safetensors *sf, const ss_capture *cap, ss_bwd_sink *sink);

/* Elements offset..offset+n of tensor name's gradient: adds Σ grad² to its group (and layer) and calls the
 * visitor. */
void ss_bwd_emit(ss_bwd_sink *s, const char *name, int layer, ss_param_group g, const float *grad, size_t offset,
                 size_t n);
/* ss_bwd_emit of a whole tensor named prefix + name ("model." + "layers.0.mlp.up_proj.weight"). */
void ss_bwd_emit_named(ss_bwd_sink *s, const char *prefix, const char *name, int layer, ss_param_group g,
                       const float *grad, size_t n);

/* RMSNorm with gain g [d] (Llama's; Gemma's passes its (1 + w)), per row of x [N][d]:
 * r = 1/√(mean(x²) + eps) (summed in double), y = x·r·g; rstd [N] keeps r. y may alias x. */
void ss_bwd_rmsnorm_fwd(float *y, float *rstd, const float *x, const float *g, int N, int d, float eps);
/* Its backward (train_ops.h's ss_tr_rmsnorm_bwd_d in float): with ĝ = dy·g,
 *   dg[c] += Σ_n dy[n][c]·x[n][c]·r[n],   dx = r·ĝ − x·r³·mean(ĝ·x)   (dx OVERWRITTEN; dg NULL: skipped).
 * dy, x [N][d], rstd [N], dx [N][d] (may alias dy). */
void ss_bwd_rmsnorm_bwd(float *dx, float *dg, const float *dy, const float *x, const float *rstd, const float *g,
                        int N, int d);

/* Gated MLP a = act(gate) ⊙ up (SwiGLU: act = SiLU; GeGLU: act = GELU-tanh), n elements: given da and the
 * forward's gate and up (before the activation), writes dgate and dup (overwritten). */
void ss_bwd_swiglu_bwd(float *dgate, float *dup, const float *da, const float *gate, const float *up, size_t n);
void ss_bwd_geglu_bwd(float *dgate, float *dup, const float *da, const float *gate, const float *up, size_t n);

/* A linear layer's weight (and bias) gradient, emitted: dW = dyᵀ·x [out][in], db = Σ_n dy [out]; ws holds
 * out·in floats. name_w, name_b: full tensor names (name_b NULL: no bias). */
void ss_bwd_linear_params(ss_bwd_sink *s, const char *name_w, const char *name_b, int layer, ss_param_group g,
                          const float *dy, const float *x, int N, int in, int out, float *ws);
/* dx [N][in] = beta·dx + dy [N][out] · W [out][in]. */
void ss_bwd_linear_dx(float *dx, float beta, const float *dy, const float *W, int N, int in, int out);

/* ------------------------------------------------------------------------------ LM head (backward_head.c)
 * The loss and the two gradients that involve the vocabulary: the LM head W [V][d] (logits = hf · Wᵀ, targets
 * ids[t+1] for t < M = T − 1, mean cross-entropy) and the token embedding E [V][d] (rows ids[t] of the input).
 * Two ways to the sums of squares:
 *   direct: ∂L/∂W = dZᵀ·hf is built ([V][d]) and emitted (with the visitor); the embedding's rows are added to it
 *           (tied, W = E) or to a second [V][d] buffer (untied);
 *   gram:   without a visitor and when dZ fits (M·V <= SS_BWD_GRAM_MAX floats), nothing [V][d] is built:
 *           ‖dZᵀ·H‖² = Σ_{t,t'} (dZ·dZᵀ)[t][t'] · (H·Hᵀ)[t][t'] (H = hf's first M rows), and the embedding's
 *           rows S_r = Σ_{t: ids[t] = r} g_t enter as ‖A + S‖² = ‖A‖² + Σ_r (2·A_r·S_r + ‖S_r‖²) with
 *           A_r = Σ_t dZ[t][r]·H_t (tied; untied: ‖S‖² alone). One T×V×d product fewer and no [V][d] buffer. */
#define SS_BWD_GRAM_MAX ((size_t)1 << 26)
typedef struct {
    int T, V, d, M, tied, gram;
    const float *hf; /* [T][d] */
    float *dZ;       /* gram, tied: [M][V] ∂L/∂logits, kept for the embedding */
    float *dE;       /* direct: [V][d] the token embedding's gradient (tied: with the head's part) */
    double norm_a;   /* gram, tied: ‖dZᵀ·H‖² */
} ss_bwd_head;

/* The forward and backward of the head: s->out->loss, dhf [T][d] (overwritten) = ∂L/∂hf; an untied head's
 * gradient is emitted under head_name (group lm_head). W: the head (tied: the embedding). SS_ERR_NOMEM. */
ss_status ss_bwd_head_run(ss_bwd_head *h, ss_bwd_sink *s, const float *hf, const float *W, int tied,
                          const char *head_name, const int32_t *ids, int T, int V, int d, float *dhf);
/* The token embedding's gradient, emitted under name (group embedding): g [T][d] = ∂L/∂(row ids[t] as the
 * model read it, scale included), plus the tied head's part. */
ss_status ss_bwd_head_embedding(ss_bwd_head *h, ss_bwd_sink *s, const char *name, const int32_t *ids,
                                const float *g);
void ss_bwd_head_free(ss_bwd_head *h);

/* Adds a squared norm to group g (and layer) without a visitor (the gram path). */
void ss_bwd_add_norm(ss_bwd_sink *s, int layer, ss_param_group g, double ss);

/* Head h's columns of x [T][ld] (offset h·d_h) to / from [T][d_h]; scatter ADDS. */
void ss_bwd_head_get(float *dst, const float *x, int T, int ld, int h, int d_h);
void ss_bwd_head_add(float *x, const float *src, int T, int ld, int h, int d_h);

#endif
