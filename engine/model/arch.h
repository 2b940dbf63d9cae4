/* arch.h (internal to engine/model): one architecture's weights and forward pass behind ss_model.
 *
 * model.c picks the entry whose name equals config.json's model_type; adding llama or gemma means
 * one more ss_arch (in its own .c) and one more line in model.c's table. */
#ifndef SS_ARCH_H
#define SS_ARCH_H

#include <stdint.h>

#include "../capture.h"
#include "../status.h"
#include "hfconfig.h"
#include "safetensors.h"

typedef struct {
    const char *name; /* config.json model_type */
    /* Binds the weights (views into sf, which outlives the state) and allocates nothing per token. */
    ss_status (*load)(const ss_hfconfig *cfg, const ss_safetensors *sf, void **state);
    /* ss_model_forward's contract (model.h); the model's scratch lives in state. */
    ss_status (*forward)(void *state, const int32_t *ids, int n, ss_capture *cap);
    void (*free)(void *state);
} ss_arch;

extern const ss_arch ss_arch_bert;

#endif
