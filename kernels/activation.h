/* activation.h: element-wise activations, in place on x[n].
 *
 * ss_gelu_erf_ref: the exact GELU, x · ½ · (1 + erf(x/√2)) (Hugging Face hidden_act "gelu").
 * Computed in fp32 (erff, within 1 ulp of erf) as PyTorch does. There is no fast path: the reference is
 * what the forward pass runs. */
#ifndef SS_KERNELS_ACTIVATION_H
#define SS_KERNELS_ACTIVATION_H

#include <stddef.h>

void ss_gelu_erf_ref(float *x, size_t n);

#endif
