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

/* The LM head and its loss: logits = hf [T][d] · Wᵀ (W [V][d]), targets ids[t+1] (t < T−1), mean
 * cross-entropy into *loss; dhf [T][d] (overwritten) = ∂L/∂hf; dW [V][d] += ∂L/∂W. Works through blocks of
 * token rows, so only a few rows of logits exist at a time. SS_ERR_NOMEM. */
ss_status ss_bwd_lm_head(const float *hf, const float *W, const int32_t *ids, int T, int V, int d, float *dhf,
                         float *dW, double *loss);

/* Head h's columns of x [T][ld] (offset h·d_h) to / from [T][d_h]; scatter ADDS. */
void ss_bwd_head_get(float *dst, const float *x, int T, int ld, int h, int d_h);
void ss_bwd_head_add(float *x, const float *src, int T, int ld, int h, int d_h);

#endif
