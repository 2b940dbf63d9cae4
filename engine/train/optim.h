/* optim.h: the trainer's optimizer over the flat parameter arena (issue 8): AdamW with decoupled weight decay,
 * the warm-up + cosine learning-rate schedule, and global-norm gradient clipping.
 *
 * AdamW (Loshchilov and Hutter 2019, as torch.optim.AdamW), at update t = 1, 2, ... with gradient g:
 *   p ← p·(1 − lr·wd)                       (only the tensors with decay = 1)
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   p ← p − lr·(m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
 * Schedule over `steps` updates, update s = 0 .. steps−1:
 *   s < warmup:  lr = lr_max·(s + 1)/warmup
 *   otherwise:   lr = lr_min + ½·(lr_max − lr_min)·(1 + cos(π·(s − warmup)/max(1, steps − warmup)))
 * Clipping: n = ‖g‖₂ over the whole arena, summed in double in arena order (no thread-dependent reduction);
 * when n > clip > 0, g ← g·(clip/n). */
#ifndef SS_TRAIN_OPTIM_H
#define SS_TRAIN_OPTIM_H

#include <stddef.h>

#include "model.h" /* ss_tr_layout */

typedef struct {
    double lr, lr_min;      /* peak and floor */
    int warmup, steps;
    double beta1, beta2, eps, weight_decay;
    double clip;            /* <= 0: no clipping */
} ss_tr_optim_cfg;

double ss_tr_lr_at(const ss_tr_optim_cfg *c, int s);

/* Returns ‖g‖₂ before clipping and scales g [n] in place when it exceeds clip. */
double ss_tr_clip_grads(float *g, size_t n, double clip);

/* One AdamW update t (1-based) at learning rate lr of params [n_params] with grads, moments m, v [n_params];
 * weight decay on the tensors of L with decay = 1. */
void ss_tr_adamw_step(const ss_tr_layout *L, const ss_tr_optim_cfg *c, float *params, const float *grads, float *m,
                      float *v, long t, double lr);

#endif
