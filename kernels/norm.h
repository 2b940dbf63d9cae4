/* norm.h: LayerNorm over the last dimension (biased variance, as torch.nn.LayerNorm).
 *
 * y[t][i] = (x[t][i] - mean_t) / sqrt(var_t + eps) * gamma[i] + beta[i]
 * Shapes: x, y [T][d]; gamma, beta [d]. y may equal x (in place). There is no BLAS path: this
 * reference is what the forward pass runs. Mean and variance are accumulated in double. */
#ifndef SS_KERNELS_NORM_H
#define SS_KERNELS_NORM_H

void ss_layernorm_ref(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps);

#endif
