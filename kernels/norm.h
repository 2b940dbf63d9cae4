/* norm.h: normalisations over the last dimension. There is no BLAS path: these references are what
 * the forward passes run. Shapes: x, y [T][d]; gamma, beta [d]. y may equal x (in place). Sums are
 * accumulated in double.
 *
 * ss_layernorm_ref: LayerNorm (biased variance, as torch.nn.LayerNorm)
 *   y[t][i] = (x[t][i] - mean_t) / sqrt(var_t + eps) * gamma[i] + beta[i]
 * ss_rmsnorm_ref: RMSNorm (Llama's LlamaRMSNorm / T5LayerNorm: no mean subtraction, no bias)
 *   y[t][i] = x[t][i] / sqrt(mean_i(x[t][i]^2) + eps) * gamma[i] */
#ifndef SS_KERNELS_NORM_H
#define SS_KERNELS_NORM_H

void ss_layernorm_ref(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps);
void ss_rmsnorm_ref(float *y, const float *x, const float *gamma, int T, int d, float eps);

#endif
