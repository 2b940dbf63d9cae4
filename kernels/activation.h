/* activation.h: element-wise activations, in place on x[n]. The _ref versions compute in fp32 with
 * libm as PyTorch does; the _fast versions use fastmath.h's exp (and an erfc fit for the exact GELU)
 * and vectorise; ss_gelu_erf, ss_gelu_tanh, ss_silu and ss_swiglu dispatch on ss_kernels_get_path()
 * and are what the forward passes call. test_kernels_fast bounds the fast versions' error.
 *
 * ss_gelu_erf_ref:  the exact GELU, x · ½ · (1 + erf(x/√2))  (Hugging Face hidden_act "gelu"; BERT,
 *                   GPT-NeoX/Pythia). erff is within 1 ulp of erf.
 * ss_gelu_tanh_ref: the tanh approximation, ½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
 *                   (HF "gelu_new" = GPT-2's, "gelu_pytorch_tanh", "gelu_fast"; BLOOM's bloom_gelu_forward
 *                   is the same function with √(2/π) rounded to 0.79788456, a relative change < 1e-8).
 * ss_silu_ref:      SiLU / swish, x · σ(x) = x / (1 + e^(−x))  (HF "silu").
 * ss_swiglu_ref:    the SwiGLU gate of Llama's MLP, gate[i] = silu(gate[i]) · up[i] (up is read only). */
#ifndef SS_KERNELS_ACTIVATION_H
#define SS_KERNELS_ACTIVATION_H

#include <stddef.h>

void ss_gelu_erf_ref(float *x, size_t n);
void ss_gelu_tanh_ref(float *x, size_t n);
void ss_silu_ref(float *x, size_t n);
void ss_swiglu_ref(float *gate, const float *up, size_t n);

void ss_gelu_erf_fast(float *x, size_t n);
void ss_gelu_tanh_fast(float *x, size_t n);
void ss_silu_fast(float *x, size_t n);
void ss_swiglu_fast(float *gate, const float *up, size_t n);

void ss_gelu_erf(float *x, size_t n);
void ss_gelu_tanh(float *x, size_t n);
void ss_silu(float *x, size_t n);
void ss_swiglu(float *gate, const float *up, size_t n);

#endif
