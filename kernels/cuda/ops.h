/* ops.h: the CUDA kernels, behind a C interface (extern "C" wrappers in ops.cu and attention.cu; ops_none.c
 * answers "built without CUDA" when nvcc was not found). Each operation has a CPU reference in kernels/ (the .c files)
 * with the same semantics, named below; tests/gpu/test_gpu_ops.c checks one against the other.
 *
 * Conventions:
 *   - Every pointer passed to an ss_cu_* operation is DEVICE memory (ss_cu_malloc), including a->alibi of
 *     ss_cu_mha. Host<->device copies are explicit (ss_cu_h2d, ss_cu_d2h).
 *   - Operations are enqueued on the legacy default stream and return without waiting; ss_cu_sync() waits
 *     and reports an error raised while one ran. ss_cu_d2h waits as well.
 *   - Every function returns 0 on success, otherwise a nonzero code (the cudaError_t, or -1 for a bad
 *     argument / no CUDA); ss_cu_errmsg() then says what failed (this thread's last message).
 *   - Shapes follow the CPU references exactly (same row-major layouts), so one buffer serves both. */
#ifndef SS_CUDA_OPS_H
#define SS_CUDA_OPS_H

#include <stddef.h>

#include "attention.h" /* ss_mha_desc */
#include "rope.h"      /* ss_rope_pairing */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- memory, synchronisation, errors */
int ss_cu_malloc(void **p, size_t bytes);
int ss_cu_free(void *p); /* NULL is fine */
int ss_cu_h2d(void *dst, const void *src, size_t bytes);
int ss_cu_d2h(void *dst, const void *src, size_t bytes);
int ss_cu_memset(void *p, int byte, size_t bytes);
int ss_cu_sync(void);
/* Makes device dev (of the visible ones) the calling host thread's device. */
int ss_cu_set_device(int dev);
const char *ss_cu_errmsg(void);
/* Milliseconds between two points on the default stream: ss_cu_timer_start(), enqueue work, ss_cu_timer_stop(&ms). */
int ss_cu_timer_start(void);
int ss_cu_timer_stop(float *ms);

/* ---- normalisations (norm.h: ss_rmsnorm_ref, ss_layernorm_ref). x, y [T][d] (y may equal x); gamma, beta [d].
 * Sums in double, as the references; one block per row. */
int ss_cu_rmsnorm(float *y, const float *x, const float *gamma, int T, int d, float eps);
int ss_cu_layernorm(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps);

/* ---- activations, in place on x [n] (activation.h: ss_gelu_erf_ref, ss_gelu_tanh_ref, ss_silu_ref,
 * ss_swiglu_ref). GeGLU: gate[i] = gelu_tanh(gate[i]) · up[i] (Gemma's MLP; reference: ss_gelu_tanh_ref then
 * the product). gate, up [n]. */
int ss_cu_gelu_erf(float *x, size_t n);
int ss_cu_gelu_tanh(float *x, size_t n);
int ss_cu_silu(float *x, size_t n);
int ss_cu_swiglu(float *gate, const float *up, size_t n);
int ss_cu_geglu(float *gate, const float *up, size_t n);

/* ---- RoPE (rope.h: ss_rope_apply_ref), in place on x [n][T][d_h], both pairings, partial rotary. The tables
 * cos_t, sin_t [T][rot_dims/2] come from ss_rope_tables on the host (copied up), so the angles are bit for bit
 * those of the CPU; the rotation uses non-contracted fp32 multiplies and adds, so the result is bit for bit too. */
int ss_cu_rope_apply(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                     const float *sin_t);

/* ---- attention with probabilities (attention.h: ss_mha_ref; same layouts and masks: causal, sliding window,
 * ALiBi, GQA). q [H][T][d_h], k, v [H_kv][T][d_h], P [H][T][T], out [T][ld_out]; a->alibi: device [H] or NULL.
 * Masked entries of P are exactly 0. ss_cu_mha runs the production version (SS_CU_MHA_DEFAULT) with its default
 * launch shape; ss_cu_mha_version runs a numbered version (kernels/dev/attn_vN.cuh) with a chosen shape, for the
 * workbench and the tests. A shape field of 0 takes the version's default. */
typedef struct {
    int block_q;  /* v2: query rows per block (default 32); v1: unused (one row per block) */
    int block_k;  /* v2: keys per shared-memory tile (default 64, 32 when d_h > 128) */
    int threads;  /* threads per block, a multiple of 32 (default 256) */
} ss_cu_mha_shape;
enum { SS_CU_MHA_VERSIONS = 2, SS_CU_MHA_DEFAULT = 2 };
int ss_cu_mha(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k, const float *v);
int ss_cu_mha_version(int version, ss_cu_mha_shape shape, const ss_mha_desc *a, float *P, float *out, int ld_out,
                      const float *q, const float *k, const float *v);

/* ---- reductions over attention matrices (sink.h, divergence.h)
 * ss_cu_column_importance: alpha [n_mats][T] of A [n_mats][T][T], each matrix as ss_column_importance_window
 *   (causal, window) does it (double sums).
 * ss_cu_sink_count: count[j] += #{m : alpha[m][j] > eps} over alpha [n_mats][T] (strict >, fp32 compare, as
 *   analysis_sink_rate.c); Sink_k^eps = 100 · count[k] / (L·H). count: device int [T].
 * ss_cu_argmax_rows: idx[r] = ss_argmax(v + r·ld, n_candidates) for r < n_rows (ties to the lowest index; the
 *   inputs must be NaN-free). v [n_rows][ld], idx: device int [n_rows].
 * ss_cu_row_entropy: H[r] = ss_row_entropy_nats of row r of A [n_rows][n_cols] (nats, same thresholds, double). */
int ss_cu_column_importance(const float *A, int n_mats, int T, int causal, int window, float *alpha);
int ss_cu_sink_count(const float *alpha, int n_mats, int T, float eps, int *count);
int ss_cu_argmax_rows(const float *v, int n_rows, int ld, int n_candidates, int *idx);
int ss_cu_row_entropy(const float *A, int n_rows, int n_cols, float *H);

/* ---- glue (glue.cu): the element-wise and layout steps of a forward pass, each the CPU form's arithmetic
 * (engine/model/decoder.c), bit for bit. ss_cu_copy: device to device, enqueued. ss_cu_embed: x [T][d] = rows
 * ids[t] (device int32 [T], already checked) of table [V][d]. ss_cu_add: y += x; ss_cu_mul: y *= x (both [n]);
 * ss_cu_add_rows: y [T][d] += row [d] on every row; ss_cu_scale: x [n] *= s. ss_cu_gather_heads: dst [n][T][d_h]
 * = src[t][offset + h·stride + c] (src [T][ld]), as ss_gather_heads. */
int ss_cu_copy(void *dst, const void *src, size_t bytes);
int ss_cu_embed(float *x, const float *table, const int *ids, int T, int d);
int ss_cu_add(float *y, const float *x, size_t n);
int ss_cu_mul(float *y, const float *x, size_t n);
int ss_cu_add_rows(float *y, const float *row, int T, int d);
int ss_cu_scale(float *x, float s, size_t n);
int ss_cu_gather_heads(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride);

/* ---- dense layers through cuBLAS (gemm.cu; loaded at run time, never linked). y [T][out] = x [T][in] · Wᵀ + b
 * with W [out][in] (nn.Linear, matmul.h: ss_matmul), or with w_in_out = 1 W [in][out] (Conv1D, conv1d.h); b [out]
 * or NULL. FP32 (no TF32): the products differ from OpenBLAS's by summation order only.
 * ss_cu_blas_available: 1 when cuBLAS could be loaded, else 0 and why. */
int ss_cu_blas_available(char *why, int why_cap);
int ss_cu_matmul(float *y, const float *x, const float *W, const float *b, int T, int in, int out, int w_in_out);

#ifdef __cplusplus
}
#endif

#endif
