/* trainer.h: the training run of `sinkscope train` (issue 8): data windows, the optimizer loop, the loss log,
 * the held-out loss, checkpoints and resuming.
 *
 * Data: the training file is read whole as bytes. Each update draws batch_size windows: start =
 * ss_splitmix64(&data_rng) mod (len − need + 1), need = n_ctx + 1 bytes (ids = bytes[0..n_ctx), targets =
 * bytes[1..n_ctx]), or with bos: need = n_ctx bytes, ids = [256, bytes[0..n_ctx−1)], targets = bytes[0..n_ctx).
 * data_rng starts at seed ^ 0x5851f42d4c957f2d (the initialisation uses the seed itself).
 * Held-out: eval_windows windows of heldout_path at starts i·(len − need)/(eval_windows − 1) (evenly spaced,
 * fixed), the mean loss over them, at every checkpoint.
 *
 * Steps: update s = 0 .. steps−1 uses lr = ss_tr_lr_at(s) and AdamW's t = s + 1; "step k" is the state after k
 * updates. Checkpoints at k = 0, 1, 2, 4, 8, ... and k = steps (checkpoint.h).
 * OUT/loss.csv: "step,lr,train_loss,grad_norm,heldout_loss,tokens_per_s", one row per update k = 1..steps (the
 * loss and gradient norm of the batch of update k, its lr, the held-out loss of step k when k is a checkpoint,
 * else empty), and a row k = 0 with the held-out loss of the initial weights only.
 * OUT/train_config.json: the canonical config (ss_tr_config_json); a run resumes from the latest checkpoint of
 * OUT when that file matches (loss.csv is cut back to the checkpoint's step), and refuses when it differs.
 * Deterministic: for a given config (threads included) the weights are bitwise the same, resumed or not. */
#ifndef SS_TRAIN_TRAINER_H
#define SS_TRAIN_TRAINER_H

#include "config.h"

typedef struct {
    const char *out_dir;
    int resume;       /* 1: --resume was given (an error when there is nothing to resume) */
    int progress;     /* 1: a progress line on stderr */
    uint64_t stop_at; /* > 0: stop after this many updates, as if interrupted (tests); 0: run to the end */
} ss_tr_run_opts;

/* Runs (or resumes) the training. SS_ERR_INPUT for user errors (unreadable or too short data, a run directory
 * of another config, --resume without checkpoints). */
ss_status ss_tr_train(const ss_tr_config *cfg, const ss_tr_run_opts *o);

#endif
