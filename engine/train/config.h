/* config.h: the training config YAML of `sinkscope train` (issue 8), parsed and validated.
 *
 *   model:                    # the decoder (engine/train/model.h)
 *     n_layers: 2             # 1..12
 *     d_model: 128            # 8..1024, a multiple of n_heads
 *     n_heads: 4
 *     d_ff: 512               # default 4·d_model
 *     n_ctx: 128              # 2..4096: the training window
 *     posenc: learned         # learned | sinusoidal | rope | alibi | none
 *     norm: pre               # pre | post
 *     bos: false              # true: vocabulary 257, every window starts with <|endoftext|> = 256
 *     ln_eps: 1.0e-5
 *   data:
 *     train: ../.cache/corpus/train.txt      # bytes; relative paths against the config file's directory
 *     heldout: ../.cache/corpus/heldout.txt  # optional: the held-out loss at each checkpoint
 *     eval_windows: 32                       # held-out windows, evenly spaced over the file
 *   train:
 *     steps: 2000             # optimizer updates
 *     batch_size: 16          # windows per update
 *     lr: 1.0e-3              # peak; lr_min: the cosine's floor (default lr/10); warmup: updates (default 0)
 *     weight_decay: 0.1       # AdamW, not on norms, biases, embeddings
 *     beta1: 0.9
 *     beta2: 0.95
 *     eps: 1.0e-8
 *     clip: 1.0               # global gradient norm; 0: off
 *     seed: 1                 # initialisation and data order
 *     threads: 1              # BLAS threads; a run is bitwise reproducible for a given value
 *
 * Every error is reported as FILE:LINE:COL: message through sweep.h's ss_diags. */
#ifndef SS_TRAIN_CONFIG_H
#define SS_TRAIN_CONFIG_H

#include <stdint.h>

#include "../sweep.h" /* ss_diags */
#include "export.h"   /* ss_tr_posenc_name */
#include "model.h"    /* ss_tr_arch */
#include "optim.h"    /* ss_tr_optim_cfg */

typedef struct {
    ss_tr_arch arch;
    ss_tr_optim_cfg opt;
    char *train_path, *heldout_path; /* resolved; heldout_path NULL when absent */
    char *train_raw, *heldout_raw;   /* as written (the canonical JSON keeps these, so a run started from
                                        another directory still matches) */
    int eval_windows;
    int batch_size;
    uint64_t seed;
    int threads;
} ss_tr_config;

/* Parses text (from file, for messages). SS_ERR_INPUT with every problem in diags; SS_OK fills out. */
ss_status ss_tr_config_parse(const char *text, size_t len, const char *file, ss_tr_config *out, ss_diags *diags);
/* Reads and parses file (a missing file: SS_ERR_INPUT with the message). */
ss_status ss_tr_config_load(const char *file, ss_tr_config *out, ss_diags *diags);
/* A canonical one-line JSON of every setting (for the run directory and the resume check); malloc'd. */
char *ss_tr_config_json(const ss_tr_config *c);
void ss_tr_config_free(ss_tr_config *c);

#endif
