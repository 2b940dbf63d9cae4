/* arch.h (internal to engine/model): one architecture's weights and forward pass behind ss_model.
 *
 * model.c picks the entry whose name equals the config's info.arch (hfconfig.c reads config.json, and
 * gguf_model.c turns a GGUF file's metadata into the same ss_hfconfig and its weights into fp32 tensors
 * under Hugging Face's names); adding an architecture means one more ss_arch (in its own .c), one more
 * line in model.c's table and one more reader in hfconfig.c (and a tensor map in gguf_model.c for GGUF).
 * The building blocks the forward passes share (scratch, head gathering, the attention sublayer with its
 * capture) are in decoder.h. */
#ifndef SS_ARCH_H
#define SS_ARCH_H

#include <stdint.h>

#include "../capture.h"
#include "../status.h"
#include "../sweep.h" /* ss_encoding_spec */
#include "fwd.h"
#include "hfconfig.h"
#include "safetensors.h"

typedef struct {
    const char *name; /* ss_model_info.arch: config.json's model_type, except "gemma3" for gemma3_text */
    /* Binds the weights (views into sf, which outlives the state) and allocates nothing per token. */
    ss_status (*load)(const ss_hfconfig *cfg, const ss_safetensors *sf, void **state);
    /* ss_model_forward's contract (model.h), computed on f's backend (fwd.h: the weights are f's regions, the
     * capture is filled through f's mirror); the model's scratch lives in state. */
    ss_status (*forward)(void *state, ss_fwd *f, const int32_t *ids, int n, ss_capture *cap);
    /* ss_model_set_encoding's contract (model.h): makes enc the positional encoding of the following
     * forward passes, or returns SS_ERR_UNSUPPORTED with the reason when it does not apply to this
     * architecture. NULL: only native is available. The bos field of enc is the runner's business. */
    ss_status (*set_encoding)(void *state, const ss_encoding_spec *enc);
    void (*free)(void *state);
} ss_arch;

extern const ss_arch ss_arch_bert;     /* bert.c */
extern const ss_arch ss_arch_gpt2;     /* gpt2.c */
extern const ss_arch ss_arch_llama;    /* llama.c */
extern const ss_arch ss_arch_bloom;    /* bloom.c */
extern const ss_arch ss_arch_gpt_neox; /* neox.c */
extern const ss_arch ss_arch_gemma3;   /* gemma3.c */

/* model.c: allocates every buffer of cap for T tokens (capture.h shapes), copies ids into
 * cap->tokens and sets the dimensions. On failure cap is left zeroed (SS_ERR_NOMEM). */
ss_status ss_capture_alloc(ss_capture *cap, const int32_t *ids, int T, int L, int H, int H_kv, int d, int d_h,
                           int causal);
/* model.c: 1 <= n <= max_positions and every id in [0, n_vocab), else SS_ERR_RANGE. */
ss_status ss_arch_check_ids(const int32_t *ids, int n, int n_vocab, int max_positions);

#endif
