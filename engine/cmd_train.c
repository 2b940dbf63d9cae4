/* cmd_train.c: `sinkscope train CONFIG.yaml -o DIR`: trains a small byte-level decoder (engine/train/), writing
 * log-spaced checkpoints the engine loads like any model, the loss log, and resuming an interrupted run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h> /* openblas_set_num_threads */
#include <mpi.h>
#include <sys/stat.h>

#include "cli.h"
#include "train/config.h"
#include "train/trainer.h"

static void train_help(FILE *f)
{
    fprintf(f,
            "usage: sinkscope train CONFIG.yaml -o DIR [--resume] [--stop-after K] [--quiet]\n"
            "       sinkscope train CONFIG.yaml --check    (validate the config and list its runs; nothing written)\n\n"
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
            "With a grid: section (lists of posenc, seed, norm), one run per combination goes to DIR/<name>/\n"
            "(e.g. rope_s2); under mpiexec the runs are spread over the ranks (run i on rank i mod size).\n"
            "Exit 0 ok, 2 bad config or arguments (FILE:LINE:COL: message), 3 internal or I/O error.\n");
}

/* A training grid: run i goes to rank i mod size (under mpiexec; one process runs them all otherwise), each into
 * DIR/<name>/ (config.h ss_tr_config_grid_point). Each run is bitwise the same whichever rank trains it. The exit
 * code is the worst over the runs and ranks. */
static int train_grid(const ss_tr_config *cfg, const ss_tr_run_opts *o)
{
    int provided, rank = 0, size = 1, code = SS_EXIT_OK, worst = SS_EXIT_OK;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const int n = ss_tr_config_grid_size(cfg);
    if (rank == 0)
        fprintf(stderr, "[sinkscope train] grid of %d run(s) on %d rank(s) into %s/<run>/\n", n, size, o->out_dir);
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "sinkscope train: cannot create %s: %s\n", o->out_dir, strerror(errno));
        code = SS_EXIT_USAGE;
    }
    for (int i = rank; i < n && code == SS_EXIT_OK; i += size) {
        ss_tr_config point;
        char name[96], dir[4096];
        ss_tr_config_grid_point(cfg, i, &point, name, sizeof name);
        snprintf(dir, sizeof dir, "%.3900s/%.90s", o->out_dir, name);
        ss_tr_run_opts ro = *o;
        ro.out_dir = dir;
        fprintf(stderr, "[sinkscope train] rank %d: run %d/%d %s\n", rank, i + 1, n, name);
        ss_status st = ss_tr_train(&point, &ro);
        if (st != SS_OK) {
            fprintf(stderr, "sinkscope train: %s: %s\n", name, ss_errmsg());
            code = st == SS_ERR_INPUT ? SS_EXIT_USAGE : SS_EXIT_INTERNAL;
        }
    }
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return worst;
}

int ss_cmd_train(int argc, char **argv)
{
    if (ss_wants_help(argc, argv)) {
        train_help(stdout);
        return SS_EXIT_OK;
    }
    const char *file = NULL;
    int check_only = 0;
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
        } else if (!strcmp(argv[i], "--check")) {
            check_only = 1;
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
    if (!file || (!o.out_dir && !check_only)) {
        fprintf(stderr, "usage: sinkscope train CONFIG.yaml -o DIR [--resume] [--stop-after K] [--quiet] | --check\n");
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
    if (check_only) { /* the config is valid: say what it would train */
        const int n = ss_tr_config_grid_size(&cfg);
        printf("%s: valid; %d run(s)", file, n);
        for (int i = 0; i < n && (cfg.n_grid_pe || cfg.n_grid_seed || cfg.n_grid_norm); i++) {
            ss_tr_config pt;
            char name[96];
            ss_tr_config_grid_point(&cfg, i, &pt, name, sizeof name);
            printf("%s%s", i ? ", " : ": ", name);
        }
        printf("\n");
        ss_tr_config_free(&cfg);
        return SS_EXIT_OK;
    }
    openblas_set_num_threads(cfg.threads);
    int code = SS_EXIT_OK;
    if (!cfg.n_grid_pe && !cfg.n_grid_seed && !cfg.n_grid_norm) {
        st = ss_tr_train(&cfg, &o);
        if (st != SS_OK) {
            fprintf(stderr, "sinkscope train: %s\n", ss_errmsg());
            code = st == SS_ERR_INPUT ? SS_EXIT_USAGE : SS_EXIT_INTERNAL;
        }
    } else {
        code = train_grid(&cfg, &o);
    }
    ss_tr_config_free(&cfg);
    return code;
}
