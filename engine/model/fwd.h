/* fwd.h (internal to engine/model): where a forward pass's buffers live on the backend it runs on.
 *
 * The forward passes (bert.c, gpt2.c, llama.c, bloom.c, neox.c, gemma3.c) call the operations of a backend
 * (backend.h) on buffers in that backend's memory. ss_fwd maps the host buffers they know to those:
 *   - regions: blocks of host memory that do not change while the model is loaded (the weights: each safetensors
 *     file, or the GGUF arena; an architecture's own derived weights), uploaded once and then addressed by
 *     offset: ss_fwd_ptr(f, host) is the backend's copy of the host address;
 *   - the capture: the forward pass writes the backend's mirror of the capture's float buffers (ss_fwd_cap);
 *     ss_fwd_end downloads them into the host capture the analyses read; with summaries set (a device backend),
 *     the attention maps stay on the device and only their summaries (capture.h col_mean, alpha) come back;
 *   - staging: small per-pass host tables (token ids, RoPE tables, sinusoidal rows, ALiBi slopes) copied into a
 *     per-pass area (ss_fwd_stage);
 *   - scratch: allocated on the backend by the architecture (decoder.h's ss_scratch takes an ss_fwd).
 * On a host backend (the CPU) every mapping is the identity and nothing is copied, so the CPU forward pass
 * touches exactly the buffers it did before the table existed.
 *
 * Use: ss_fwd_begin(f, cap) after ss_capture_alloc; stage, map and run the operations; ss_fwd_end(f, cap).
 * model.c owns one ss_fwd per model (ss_model_set_backend) and registers the weight regions. */
#ifndef SS_FWD_H
#define SS_FWD_H

#include <stddef.h>

#include "../backend.h"
#include "../capture.h"
#include "../status.h"

typedef struct {
    const void *host;
    void *dev;
    size_t bytes;
} ss_fwd_region;

typedef struct {
    const ss_backend *be;
    int host;                /* ss_backend_is_host(be): every mapping is the identity */
    ss_fwd_region *regions;  /* [n_regions] weight blocks (and, during a pass, the capture as the last one) */
    int n_regions, cap_regions;
    size_t region_bytes;     /* bytes uploaded as regions (the weights held by the backend) */
    void *cap_dev;           /* the capture mirror: the float part of the capture arena [cap_dev_bytes] */
    size_t cap_dev_bytes;
    struct ss_fwd_stage_block *stage; /* the per-pass staging area on the backend: a list of blocks (fwd.c) */
    const ss_capture *cap;   /* the capture of the pass in progress */
    int summaries;           /* 1: on a device, keep the attention maps there and bring back their summaries */
} ss_fwd;

/* A context on backend be (NULL: the CPU), with no regions. */
void ss_fwd_init(ss_fwd *f, const ss_backend *be);
/* Releases every backend buffer of f; f is then a CPU context again. */
void ss_fwd_free(ss_fwd *f);
/* Registers host [bytes] as a region (uploaded now; nothing on a host backend). Registering the same host block
 * again is free (same size) or re-uploads it (another size). */
ss_status ss_fwd_region_add(ss_fwd *f, const void *host, size_t bytes);
/* The backend's address of host, which lies in a region or the capture; NULL when it lies in neither (a bug:
 * the mirror backend of tests/gpu/test_fwd_mirror.c catches it). Identity on a host backend. */
const float *ss_fwd_ptr(const ss_fwd *f, const float *host);
/* The same for a buffer the forward pass writes (the capture). */
float *ss_fwd_cap(const ss_fwd *f, float *host);

/* Starts a pass over cap (ss_capture_alloc'd): sizes the mirror and empties the staging area. */
ss_status ss_fwd_begin(ss_fwd *f, const ss_capture *cap);
/* A copy on the backend of host [bytes] for this pass (the host pointer itself on a host backend). *out is
 * backend memory aligned to 64 bytes, valid until the next ss_fwd_begin. */
ss_status ss_fwd_stage(ss_fwd *f, const void *host, size_t bytes, const void **out);
/* Waits for the pass, downloads the mirror into cap's float buffers (attention, hidden states, q/k/v, attention
 * outputs) and ends the pass; cap->col_mean and cap->alpha become NULL. A summary pass (f->summaries on a device
 * backend) computes the attention summaries on the device and downloads everything except the attention maps:
 * cap->attn becomes NULL. */
ss_status ss_fwd_end(ss_fwd *f, ss_capture *cap);

#endif
