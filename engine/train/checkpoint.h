/* checkpoint.h: the trainer's checkpoints (issue 8). A checkpoint is a directory OUT/step_%06d/ holding
 *   config.json, model.safetensors, tokenizer.json   the model, written by ss_tr_export (export.h), which
 *                                                    ss_model_load reads like any Hugging Face model;
 *   trainer_state.safetensors                        what a resumed run needs to continue bit for bit, written
 *                                                    last (so its presence marks a complete checkpoint):
 *     "params", "adam_m", "adam_v"   F32 [n_params]   the parameter arena (model.h order) and AdamW's moments;
 *     "step", "data_rng", "windows"  F32 [4]          64-bit counters as four 16-bit limbs, least significant
 *                                                     first (each exact in F32): updates done, the data
 *                                                     sampler's splitmix64 state, windows drawn so far.
 * The arena is stored as is (not re-read from model.safetensors), so a resume does not depend on the export's
 * layout. */
#ifndef SS_TRAIN_CHECKPOINT_H
#define SS_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "model.h"

typedef struct {
    uint64_t step;     /* optimizer updates done */
    uint64_t data_rng; /* splitmix64 state of the window sampler */
    uint64_t windows;  /* training windows drawn */
} ss_tr_counters;

/* "OUT/step_%06d", malloc'd. */
char *ss_tr_ckpt_dir(const char *out_dir, uint64_t step);
/* Writes the checkpoint of step c->step under out_dir: the export (metadata_json into config.json), then the
 * trainer state. */
ss_status ss_tr_ckpt_write(const char *out_dir, const ss_tr_layout *L, const float *params, const float *m,
                           const float *v, const ss_tr_counters *c, const char *metadata_json);
/* Reads a checkpoint's trainer state into params, m, v [L->n_params] and c. SS_ERR_FORMAT when it does not
 * match the layout. */
ss_status ss_tr_ckpt_read(const char *ckpt_dir, const ss_tr_layout *L, float *params, float *m, float *v,
                          ss_tr_counters *c);
/* The highest step of a complete checkpoint (one with trainer_state.safetensors) under out_dir: 1 and *step,
 * or 0 when there is none. */
int ss_tr_ckpt_latest(const char *out_dir, uint64_t *step);

#endif
