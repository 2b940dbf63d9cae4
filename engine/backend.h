/* backend.h: the compute backends and the choice between them.
 *
 * A backend is a table of operations on HOST buffers (the shapes of the CPU references in kernels/). The CPU
 * table is always built and complete. The CUDA table exists in every build but is selectable only where the
 * binary was built with CUDA and a device is present at run time; its operations copy their inputs to the
 * device, run the kernels of kernels/cuda/ops.h and copy the results back. An operation a backend lacks (a NULL
 * entry) runs on the CPU instead, and the first such call of each operation logs one line to stderr.
 *
 * Selection (run.backend in the sweep, --backend on the command line):
 *   auto  CUDA when built and a device exists, else the CPU (never an error)
 *   cpu   the CPU
 *   cuda  CUDA; SS_ERR_UNSUPPORTED (with the reason: not built, no device) when it is not available
 *
 * In this version the model forward passes and the analyses still call the CPU kernels directly; the table
 * is what the GPU tests and benchmark drive (kernels/cuda/README.md says what routing through it needs). */
#ifndef SS_BACKEND_H
#define SS_BACKEND_H

#include <stddef.h>

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
    SS_OP_GEGLU,
    SS_OP_ROPE,
    SS_OP_MHA,
    SS_OP_COLUMN_IMPORTANCE,
    SS_OP_ROW_ENTROPY,
    SS_OP_COUNT
} ss_op;

/* The operations; every pointer is host memory; shapes as the CPU references (named in each comment). */
typedef struct {
    /* ss_matmul: y [T][out] = x [T][in] · W [out][in]ᵀ + b [out] (b may be NULL) */
    ss_status (*matmul)(float *y, const float *x, const float *W, const float *b, int T, int in, int out);
    /* ss_rmsnorm_ref, ss_layernorm_ref: y, x [T][d]; gamma, beta [d] */
    ss_status (*rmsnorm)(float *y, const float *x, const float *gamma, int T, int d, float eps);
    ss_status (*layernorm)(float *y, const float *x, const float *gamma, const float *beta, int T, int d, float eps);
    /* ss_gelu_erf_ref, ss_gelu_tanh_ref: x [n] in place */
    ss_status (*gelu_erf)(float *x, size_t n);
    ss_status (*gelu_tanh)(float *x, size_t n);
    /* ss_swiglu_ref; GeGLU = gelu_tanh(gate)·up: gate [n] in place, up [n] */
    ss_status (*swiglu)(float *gate, const float *up, size_t n);
    ss_status (*geglu)(float *gate, const float *up, size_t n);
    /* ss_rope_apply_ref: x [n][T][d_h] in place; cos_t, sin_t [T][rot_dims/2] from ss_rope_tables */
    ss_status (*rope)(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                      const float *sin_t);
    /* ss_mha: P [H][T][T], out [T][ld_out], q [H][T][d_h], k, v [H_kv][T][d_h]; a->alibi host [H] or NULL */
    ss_status (*mha)(const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q, const float *k,
                     const float *v);
    /* ss_column_importance_window of each matrix: A [n_mats][T][T], alpha [n_mats][T] */
    ss_status (*column_importance)(const float *A, int n_mats, int T, int causal, int window, float *alpha);
    /* ss_row_entropy_nats: A [n_rows][n_cols], H [n_rows] */
    ss_status (*row_entropy)(const float *A, int n_rows, int n_cols, float *H);
} ss_backend_ops;

typedef struct ss_backend ss_backend;

/* The backend for a choice. *out is a process-wide object (never freed). why (may be NULL): one line saying
 * what was chosen and why ("CUDA device found (NVIDIA H200)", "no CUDA device (...): running on the CPU"). */
ss_status ss_backend_select(ss_backend_choice choice, const ss_backend **out, char *why, int why_cap);
const ss_backend *ss_backend_cpu(void);
const char *ss_backend_name(const ss_backend *b); /* "cpu", "cuda" */
const char *ss_op_name(ss_op op);
/* Whether b runs op itself (1) or falls back to the CPU (0). */
int ss_backend_has(const ss_backend *b, ss_op op);
/* How many operations have fallen back to the CPU on b so far (each logged once). */
int ss_backend_fallbacks(const ss_backend *b);

/* A backend made from a caller's table (tests: a table with gaps exercises the fallback). name is kept. */
ss_status ss_backend_custom(const char *name, const ss_backend_ops *ops, ss_backend **out);
void ss_backend_custom_free(ss_backend *b);

/* The dispatchers: b's operation, or the CPU's when b lacks it (logged once per backend and operation). */
ss_status ss_be_matmul(const ss_backend *b, float *y, const float *x, const float *W, const float *bias, int T, int in,
                       int out);
ss_status ss_be_rmsnorm(const ss_backend *b, float *y, const float *x, const float *gamma, int T, int d, float eps);
ss_status ss_be_layernorm(const ss_backend *b, float *y, const float *x, const float *gamma, const float *beta, int T,
                          int d, float eps);
ss_status ss_be_gelu_erf(const ss_backend *b, float *x, size_t n);
ss_status ss_be_gelu_tanh(const ss_backend *b, float *x, size_t n);
ss_status ss_be_swiglu(const ss_backend *b, float *gate, const float *up, size_t n);
ss_status ss_be_geglu(const ss_backend *b, float *gate, const float *up, size_t n);
ss_status ss_be_rope(const ss_backend *b, float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing,
                     const float *cos_t, const float *sin_t);
ss_status ss_be_mha(const ss_backend *b, const ss_mha_desc *a, float *P, float *out, int ld_out, const float *q,
                    const float *k, const float *v);
ss_status ss_be_column_importance(const ss_backend *b, const float *A, int n_mats, int T, int causal, int window,
                                  float *alpha);
ss_status ss_be_row_entropy(const ss_backend *b, const float *A, int n_rows, int n_cols, float *H);

#endif
