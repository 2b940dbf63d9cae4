/* optim.c: AdamW, the learning-rate schedule and gradient clipping (optim.h). */
#include "optim.h"

#include <math.h>

double ss_tr_lr_at(const ss_tr_optim_cfg *c, int s)
{
    if (s < c->warmup) return c->lr * (s + 1) / c->warmup;
    int span = c->steps - c->warmup > 1 ? c->steps - c->warmup : 1;
    double prog = (double)(s - c->warmup) / span;
    if (prog > 1.0) prog = 1.0;
    return c->lr_min + 0.5 * (c->lr - c->lr_min) * (1.0 + cos(3.141592653589793 * prog));
}

double ss_tr_clip_grads(float *g, size_t n, double clip)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    double norm = sqrt(s);
    if (clip > 0.0 && norm > clip) {
        float f = (float)(clip / norm);
        for (size_t i = 0; i < n; i++) g[i] *= f;
    }
    return norm;
}

void ss_tr_adamw_step(const ss_tr_layout *L, const ss_tr_optim_cfg *c, float *params, const float *grads, float *m,
                      float *v, long t, double lr)
{
    const float b1 = (float)c->beta1, b2 = (float)c->beta2, eps = (float)c->eps;
    const float bc1 = (float)(1.0 - pow(c->beta1, (double)t)), bc2 = (float)(1.0 - pow(c->beta2, (double)t));
    const float step = (float)lr / bc1, rbc2 = 1.0f / sqrtf(bc2);
    for (int k = 0; k < L->n_tensors; k++) {
        const ss_tr_tensor *tn = &L->tensors[k];
        float *p = params + tn->off, *mk = m + tn->off, *vk = v + tn->off; /* [n] */
        const float *g = grads + tn->off;
        float keep = tn->decay ? (float)(1.0 - lr * c->weight_decay) : 1.0f;
        for (size_t i = 0; i < tn->n; i++) {
            p[i] *= keep;
            mk[i] = b1 * mk[i] + (1.0f - b1) * g[i];
            vk[i] = b2 * vk[i] + (1.0f - b2) * g[i] * g[i];
            p[i] -= step * mk[i] / (sqrtf(vk[i]) * rbc2 + eps);
        }
    }
}
