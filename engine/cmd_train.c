/* cmd_train.c: `sinkscope train CONFIG.yaml -o DIR`: trains a small byte-level decoder (engine/train/), writing
 * log-spaced checkpoints the engine loads like any model, the loss log, and resuming an interrupted run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h> /* openblas_set_num_threads */

#include "cli.h"
#include "train/config.h"
#include "train/trainer.h"

static void train_help(FILE *f)
{
    fprintf(f,
            "usage: sinkscope train CONFIG.yaml -o DIR [--resume] [--stop-after K] [--quiet]\n\n"
            "Trains a small decoder transformer on bytes (vocabulary 256, + <|endoftext|> with bos: true) as\n"
            "CONFIG.yaml describes (model, data, train; see engine/train/config.h). Writes into DIR:\n"
            "  step_%%06d/       checkpoints at steps 0, 1, 2, 4, 8, ... and the last: config.json,\n"
            "                   model.safetensors, tokenizer.json (load them like any model) and\n"
            "                   trainer_state.safetensors (what a resumed run needs)\n"
            "  loss.csv         step, lr, train loss, gradient norm, held-out loss (at checkpoints), tokens/s\n"
            "  train_config.json  the config, canonical\n"
            "Running again on the same DIR with the same config resumes from its last checkpoint (--resume\n"
            "insists on it); a DIR of another config is refused. For a given config (threads included) the\n"
            "weights are bitwise reproducible, resumed or not. --stop-after K stops after update K (as if\n"
            "interrupted). A progress line goes to stderr unless --quiet.\n"
            "Exit 0 ok, 2 bad config or arguments (FILE:LINE:COL: message), 3 internal or I/O error.\n");
}

int ss_cmd_train(int argc, char **argv)
{
    if (ss_wants_help(argc, argv)) {
        train_help(stdout);
        return SS_EXIT_OK;
    }
    const char *file = NULL;
    ss_tr_run_opts o = {.progress = 1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sinkscope train: %s needs a directory\n", argv[i]);
                return SS_EXIT_USAGE;
            }
            o.out_dir = argv[++i];
        } else if (!strcmp(argv[i], "--resume")) {
            o.resume = 1;
        } else if (!strcmp(argv[i], "--quiet")) {
            o.progress = 0;
        } else if (!strcmp(argv[i], "--stop-after")) {
            char *end = NULL;
            const char *v = i + 1 < argc ? argv[++i] : "";
            errno = 0;
            unsigned long long k = *v && *v != '-' ? strtoull(v, &end, 10) : 0;
            if (!*v || *v == '-' || *end || errno || k == 0) {
                fprintf(stderr, "sinkscope train: --stop-after needs an integer >= 1, got '%s'\n", v);
                return SS_EXIT_USAGE;
            }
            o.stop_at = k;
        } else if (argv[i][0] == '-' || file) {
            fprintf(stderr, "sinkscope train: unexpected argument '%s' (see sinkscope train --help)\n", argv[i]);
            return SS_EXIT_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (!file || !o.out_dir) {
        fprintf(stderr, "usage: sinkscope train CONFIG.yaml -o DIR [--resume] [--stop-after K] [--quiet]\n");
        return SS_EXIT_USAGE;
    }
    ss_tr_config cfg;
    ss_diags d = {0};
    ss_status st = ss_tr_config_load(file, &cfg, &d);
    if (st != SS_OK) {
        if (d.n) {
            ss_diags_print(&d, file, stderr);
            fprintf(stderr, "%s: %d error(s)\n", file, d.n);
        } else {
            fprintf(stderr, "sinkscope train: %s\n", ss_errmsg());
        }
        ss_diags_free(&d);
        return st == SS_ERR_INPUT ? SS_EXIT_USAGE : SS_EXIT_INTERNAL;
    }
    ss_diags_free(&d);
    openblas_set_num_threads(cfg.threads);
    st = ss_tr_train(&cfg, &o);
    ss_tr_config_free(&cfg);
    if (st != SS_OK) {
        fprintf(stderr, "sinkscope train: %s\n", ss_errmsg());
        return st == SS_ERR_INPUT ? SS_EXIT_USAGE : SS_EXIT_INTERNAL;
    }
    return SS_EXIT_OK;
}
