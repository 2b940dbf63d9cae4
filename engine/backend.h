/* backend.h: the compute backends of the forward pass and the choice between them.
 *
 * A backend is a table of operations on buffers in ITS memory: host memory for the CPU, device memory for
 * CUDA. The forward passes (the architectures in engine/model/) call only this table, through the ss_be_* dispatchers, on buffers
 * that engine/model/fwd.h places in the backend's memory (weights uploaded once, activations and the capture
 * kept there, the capture downloaded at the end). So one forward pass, written once, runs on either backend.
 *
 *   cpu   always built and complete; its operations are the CPU kernels of kernels/ (the same calls the
 *         forward passes made before there was a table, so the CPU path is bit for bit what it was).
 *   cuda  built when nvcc was found, selectable when a device exists at run time: kernels/cuda/ops.h, the
 *         dense layers through cuBLAS (loaded at run time).
 *
 * An operation a backend lacks (a NULL entry; for CUDA, matmul when cuBLAS cannot be loaded) runs on the CPU:
 * its inputs are downloaded, the CPU computes, the output is uploaded, and the first such call of each
 * operation logs one line to stderr. Slow, but the task completes.
 *
 * Selection (run.backend in the sweep, --backend on the command line):
 *   auto  CUDA when built and a device exists, else the CPU (never an error)
 *   cpu   the CPU
 *   cuda  CUDA; SS_ERR_UNSUPPORTED (with the reason: not built, no device) when it is not available */
#ifndef SS_BACKEND_H
#define SS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "attention.h" /* ss_mha_desc */
#include "rope.h"      /* ss_rope_pairing */
#include "status.h"
#include "sweep.h" /* ss_backend_choice */

typedef enum {
    SS_OP_MATMUL,
    SS_OP_RMSNORM,
    SS_OP_LAYERNORM,
    SS_OP_GELU_ERF,
    SS_OP_GELU_TANH,
    SS_OP_SWIGLU,
    SS_OP_ROPE,
    SS_OP_MHA,
    SS_OP_EMBED,
    SS_OP_ADD,
    SS_OP_MUL,
    SS_OP_ADD_ROWS,
    SS_OP_SCALE,
    SS_OP_GATHER_HEADS,
    SS_OP_ATTN_SUMMARY,
    SS_OP_COUNT
} ss_op;

/* The table. Memory functions move bytes; every float/int pointer of an operation is the backend's memory.
 * Shapes as the CPU kernels named in each comment (row-major, index order as written). */
typedef struct {
    /* memory: alloc (uninitialised), release (NULL is fine), upload host -> backend, download backend -> host,
     * copy backend -> backend; sync waits for every enqueued operation and reports an error raised meanwhile */
    ss_status (*alloc)(void **p, size_t bytes);
    void (*release)(void *p);
    ss_status (*upload)(void *dst, const void *src, size_t bytes);
    ss_status (*download)(void *dst, const void *src, size_t bytes);
    ss_status (*copy)(void *dst, const void *src, size_t bytes);
    ss_status (*sync)(void);
    /* ss_matmul / ss_conv1d: y [T][out] = x [T][in] · W + b; W [out][in] (nn.Linear) or, w_in_out = 1,
     * [in][out] (Conv1D); b [out] or NULL */
    ss_status (*matmul)(float *y, const float *x, const float *W, const float *b, int T, int in, int out,
                        int w_in_out);
    /* ss_rmsnorm_ref, ss_layernorm_ref: y, x [T][d] (y may be x); gamma, beta [d] */
    ss_status (*rmsnorm)(float *y, const float *x, const float *gamma, int T, int d, float eps);
    ss_status (*layernorm)(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps);
    /* ss_gelu_erf, ss_gelu_tanh: x [n] in place; ss_swiglu: gate [n] = silu(gate)·up */
    ss_status (*gelu_erf)(float *x, size_t n);
    ss_status (*gelu_tanh)(float *x, size_t n);
    ss_status (*swiglu)(float *gate, const float *up, size_t n);
    /* ss_rope_apply_ref: x [n][T][d_h] in place; cos_t, sin_t [T][rot_dims/2] */
    ss_status (*rope)(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                      const float *sin_t);
    /* ss_mha: P [H][T][T], out [T][ld_out], q [H][T][d_h], k, v [H_kv][T][d_h]; a->alibi [H] or NULL */
    ss_status (*mha)(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k,
                     const float *v);
    /* decoder.h's glue: ss_embed x [T][d] = table [V][d] rows ids [T]; y += x [n]; y *= x [n];
     * y [T][d] += row [d]; x [n] *= s; ss_gather_heads dst [n][T][d_h] from src [T][ld] */
    ss_status (*embed)(float *x, const float *table, const int32_t *ids, int T, int d);
    ss_status (*add)(float *y, const float *x, size_t n);
    ss_status (*mul)(float *y, const float *x, size_t n);
    ss_status (*add_rows)(float *y, const float *row, int T, int d);
    ss_status (*scale)(float *x, float s, size_t n);
    ss_status (*gather_heads)(float *dst, const float *src, int T, int n, int d_h, int ld, int offset, int stride);
    /* the attention summaries of n_mats matrices A [n_mats][T][T]: col_mean [n_mats][T] (ss_column_mean) and
     * alpha [n_mats][T] (ss_column_importance_window with causal, window) */
    ss_status (*attn_summary)(const float *A, int n_mats, int T, int causal, int window, float *col_mean,
                              float *alpha);
} ss_backend_ops;

typedef struct ss_backend ss_backend;

/* The backend for a choice. *out is a process-wide object (never freed). why (may be NULL): one line saying
 * what was chosen and why ("CUDA device found (NVIDIA H200)", "no CUDA device (...): running on the CPU"). */
ss_status ss_backend_select(ss_backend_choice choice, const ss_backend **out, char *why, int why_cap);
const ss_backend *ss_backend_cpu(void);
const char *ss_backend_name(const ss_backend *b); /* "cpu", "cuda", or a custom table's name */
/* Binds the calling thread to device dev of b (CUDA: cudaSetDevice; nothing elsewhere). A thread that runs b's
 * operations calls it first; calling it again is cheap. */
ss_status ss_backend_bind(const ss_backend *b, int dev);
/* 1 when the backend's memory is host memory that the CPU may read directly (the cpu table): fwd.h then uses
 * the host buffers themselves, without copies. */
int ss_backend_is_host(const ss_backend *b);
const char *ss_op_name(ss_op op);
/* Whether b runs op itself (1) or falls back to the CPU (0). */
int ss_backend_has(const ss_backend *b, ss_op op);
/* How many calls have fallen back to the CPU on b so far (the first of each operation logged). */
int ss_backend_fallbacks(const ss_backend *b);
/* The CPU table's operations (for a custom table that wraps them). */
const ss_backend_ops *ss_backend_cpu_ops(void);

/* A backend made from a caller's table (tests: a table with gaps exercises the fallback; a table whose memory
 * functions keep separate buffers checks that a forward pass only hands its operations backend memory).
 * The memory functions must all be set; is_host as ss_backend_is_host. name is kept. */
ss_status ss_backend_custom(const char *name, const ss_backend_ops *ops, int is_host, ss_backend **out);
void ss_backend_custom_free(ss_backend *b);

/* Memory (always present in a table). */
ss_status ss_be_alloc(const ss_backend *b, void **p, size_t bytes);
void ss_be_release(const ss_backend *b, void *p);
ss_status ss_be_upload(const ss_backend *b, void *dst, const void *src, size_t bytes);
ss_status ss_be_download(const ss_backend *b, void *dst, const void *src, size_t bytes);
ss_status ss_be_copy(const ss_backend *b, void *dst, const void *src, size_t bytes);
ss_status ss_be_sync(const ss_backend *b);

/* The dispatchers: b's operation, or the CPU fallback above when b lacks it. */
ss_status ss_be_matmul(const ss_backend *b, float *y, const float *x, const float *W, const float *bias, int T, int in,
                       int out, int w_in_out);
ss_status ss_be_rmsnorm(const ss_backend *b, float *y, const float *x, const float *gamma, int T, int d, float eps);
ss_status ss_be_layernorm(const ss_backend *b, float *y, const float *x, const float *gamma, const float *beta, int T,
                          int d, float eps);
ss_status ss_be_gelu_erf(const ss_backend *b, float *x, size_t n);
ss_status ss_be_gelu_tanh(const ss_backend *b, float *x, size_t n);
ss_status ss_be_swiglu(const ss_backend *b, float *gate, const float *up, size_t n);
ss_status ss_be_rope(const ss_backend *b, float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing,
                     const float *cos_t, const float *sin_t);
ss_status ss_be_mha(const ss_backend *b, const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q,
                    const float *k, const float *v);
ss_status ss_be_embed(const ss_backend *b, float *x, const float *table, const int32_t *ids, int T, int d, int V);
ss_status ss_be_add(const ss_backend *b, float *y, const float *x, size_t n);
ss_status ss_be_mul(const ss_backend *b, float *y, const float *x, size_t n);
ss_status ss_be_add_rows(const ss_backend *b, float *y, const float *row, int T, int d);
ss_status ss_be_scale(const ss_backend *b, float *x, float s, size_t n);
ss_status ss_be_gather_heads(const ss_backend *b, float *dst, const float *src, int T, int n, int d_h, int ld,
                             int offset, int stride);
ss_status ss_be_attn_summary(const ss_backend *b, const float *A, int n_mats, int T, int causal, int window,
                             float *col_mean, float *alpha);

#endif
