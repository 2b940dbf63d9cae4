/* cmd_run.c: `[mpiexec -n N] sinkscope run SWEEP.yaml -o OUT.h5`.
 * Rank 0 reads and validates the sweep and speaks for the run; every rank builds the same plan,
 * the results file is opened collectively, tasks are handed out by the scheduler, and the exit
 * code is agreed by all ranks. */
#define _GNU_SOURCE
#include <sched.h> /* before cblas.h, which uses cpu_set_t */

#include <cblas.h>
#include <hdf5.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"
#include "device.h"
#include "frames.h"
#include "gpu_bind.h"
#include "plan.h"
#include "results.h"
#include "runlock.h"
#include "runner.h"
#include "scheduler.h"
#include "sweep.h"

/* The signal that asked this process to stop (0: none); read by the scheduler (ss_sched_options.stop). */
static volatile sig_atomic_t g_stop_signal = 0;

static void on_stop_signal(int sig)
{
    if (!g_stop_signal) g_stop_signal = sig;
}

/* SIGTERM (Slurm's time limit, scancel, pre-emption) and SIGINT ask for a graceful stop. A second
 * SIGINT (Ctrl-C twice) kills at once (SA_RESETHAND); repeated SIGTERMs, which Slurm sends at the
 * time limit after the early --signal warning, do not: SIGKILL comes after KillWait anyway. */
static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, NULL);
}

typedef struct {
    const char *sweep_file, *output;
    int force, threads;
    ss_sched_options sched;
    ss_backend_choice backend;
    int backend_given;
} run_args;

static void run_help(void)
{
    printf("usage: [mpiexec -n N] sinkscope run SWEEP.yaml [-o OUT.h5] [options]\n"
           "\n"
           "Runs every task of the sweep's grid and writes all results into one HDF5 file, in parallel\n"
           "from every rank (layout: schemas/results.md). Rank 0 hands tasks out one at a time to the\n"
           "rank that asks, and computes too. Works as a single process without mpiexec.\n"
           "\n"
           "Re-running the same command on an existing file resumes it: tasks already done are kept,\n"
           "missing and failed ones are computed. A file that holds a different sweep is refused.\n"
           "\n"
           "options:\n"
           "  -o, --output OUT.h5      results file (default: the sweep's `output:`)\n"
           "  --force                  replace a results file of another sweep (renamed to\n"
           "                           OUT.h5.replaced-<time>, not deleted)\n"
           "  --threads N              BLAS threads per rank (default: the sweep's run.threads, else\n"
           "                           OPENBLAS_NUM_THREADS, else SLURM_CPUS_PER_TASK, else cores / ranks\n"
           "                           on the node)\n"
           "  --backend auto|cpu|cuda  compute backend (default: the sweep's run.backend, else auto)\n"
           "  --schedule dynamic|static  task distribution (static = round-robin, for comparison)\n"
           "  --progress auto|live|lines|none   progress display on rank 0 (auto: live on a terminal)\n"
           "  --progress-interval S    seconds between plain progress lines (default 10)\n"
           "\n"
           "SIGTERM or SIGINT stops a run gracefully: no new tasks start, every rank finishes its current task\n"
           "and the file is closed; re-running the same command continues. Only one run may write a results\n"
           "file at a time (lock: OUT.h5.lock, held by rank 0).\n"
           "\n"
           "exit codes: 0 all tasks done; 1 finished with failed tasks (listed at the end); 2 bad input,\n"
           "usage, a results file of another sweep or one another run is writing; 3 internal error;\n"
           "4 stopped by a signal with tasks left (re-run to continue).\n");
}

static int parse_args(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->sched.progress_interval = 10.0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE                                                                                                  \
    do {                                                                                                            \
        if (!v) {                                                                                                   \
            fprintf(stderr, "sinkscope run: %s needs a value\n", s);                                                \
            return -1;                                                                                              \
        }                                                                                                           \
        i++;                                                                                                        \
    } while (0)
        if (strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) {
            NEED_VALUE;
            a->output = v;
        } else if (strcmp(s, "--force") == 0) {
            a->force = 1;
        } else if (strcmp(s, "--threads") == 0) {
            NEED_VALUE;
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 1 || t > 1024) {
                fprintf(stderr, "sinkscope run: --threads must be an integer in 1..1024, got '%s'\n", v);
                return -1;
            }
            a->threads = (int)t;
        } else if (strcmp(s, "--backend") == 0) {
            NEED_VALUE;
            a->backend_given = 1;
            if (strcmp(v, "auto") == 0) a->backend = SS_BACKEND_AUTO;
            else if (strcmp(v, "cpu") == 0) a->backend = SS_BACKEND_CPU;
            else if (strcmp(v, "cuda") == 0) a->backend = SS_BACKEND_CUDA;
            else {
                fprintf(stderr, "sinkscope run: --backend must be auto, cpu or cuda, got '%s'\n", v);
                return -1;
            }
        } else if (strcmp(s, "--schedule") == 0) {
            NEED_VALUE;
            if (strcmp(v, "dynamic") == 0) a->sched.policy = SS_SCHED_DYNAMIC;
            else if (strcmp(v, "static") == 0) a->sched.policy = SS_SCHED_STATIC;
            else {
                fprintf(stderr, "sinkscope run: --schedule must be dynamic or static, got '%s'\n", v);
                return -1;
            }
        } else if (strcmp(s, "--progress") == 0) {
            NEED_VALUE;
            if (strcmp(v, "auto") == 0) a->sched.progress = SS_PROGRESS_AUTO;
            else if (strcmp(v, "live") == 0) a->sched.progress = SS_PROGRESS_LIVE;
            else if (strcmp(v, "lines") == 0) a->sched.progress = SS_PROGRESS_LINES;
            else if (strcmp(v, "none") == 0) a->sched.progress = SS_PROGRESS_NONE;
            else {
                fprintf(stderr, "sinkscope run: --progress must be auto, live, lines or none, got '%s'\n", v);
                return -1;
            }
        } else if (strcmp(s, "--progress-interval") == 0) {
            NEED_VALUE;
            char *end;
            double t = strtod(v, &end);
            if (*end || !(t > 0)) {
                fprintf(stderr, "sinkscope run: --progress-interval must be a positive number, got '%s'\n", v);
                return -1;
            }
            a->sched.progress_interval = t;
        } else if (s[0] == '-') {
            fprintf(stderr, "sinkscope run: unknown option '%s' (see sinkscope run --help)\n", s);
            return -1;
        } else if (!a->sweep_file) {
            a->sweep_file = s;
        } else {
            fprintf(stderr, "sinkscope run: unexpected argument '%s'\n", s);
            return -1;
        }
#undef NEED_VALUE
    }
    if (!a->sweep_file) {
        fprintf(stderr, "usage: sinkscope run SWEEP.yaml [-o OUT.h5] [options]  (see --help)\n");
        return -1;
    }
    return 0;
}

/* BLAS threads for this rank, and where the number came from. */
static int choose_threads(const run_args *a, const ss_sweep *s, int local_ranks, const char **why)
{
    if (a->threads > 0) return *why = "--threads", a->threads;
    if (s->threads > 0) return *why = "run.threads in the sweep", s->threads;
    const char *e = getenv("OPENBLAS_NUM_THREADS");
    if (e && atoi(e) > 0) return *why = "OPENBLAS_NUM_THREADS", atoi(e);
    e = getenv("SLURM_CPUS_PER_TASK");
    if (e && atoi(e) > 0) return *why = "SLURM_CPUS_PER_TASK", atoi(e);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    int mine = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)online;
    int t = (int)(online / (local_ranks > 0 ? local_ranks : 1));
    if (t > mine) t = mine;
    *why = "cores on the node / ranks on the node";
    return t < 1 ? 1 : t;
}

/* Collective: rank 0 logs which rank took which GPU (one line when no rank sees one). The forward
 * passes of a rank with a device run on it (backend.h); the others compute on the CPU. */
static void report_gpu_binding(MPI_Comm comm, int local_rank, int gpu, int n_dev)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    typedef struct {
        int local_rank, gpu, n_dev;
        char host[64], entry[64], name[96];
    } binding;
    binding me;
    memset(&me, 0, sizeof me);
    me.local_rank = local_rank;
    me.gpu = gpu;
    me.n_dev = n_dev;
    gethostname(me.host, sizeof me.host - 1);
    if (gpu >= 0) {
        ss_gpu_visible_entry(getenv("CUDA_VISIBLE_DEVICES"), gpu, me.entry, sizeof me.entry);
        ss_cuda_device_name(gpu, me.name, sizeof me.name);
    }
    binding *all = rank == 0 ? calloc((size_t)size, sizeof *all) : NULL; /* [size] */
    if (rank == 0 && !all) MPI_Abort(comm, 3);
    MPI_Gather(&me, sizeof me, MPI_BYTE, all, sizeof me, MPI_BYTE, 0, comm);
    if (rank == 0) {
        int with_gpu = 0;
        for (int r = 0; r < size; r++) with_gpu += all[r].gpu >= 0;
        if (with_gpu == 0) {
            fprintf(stderr, "[sinkscope] GPU binding: no rank sees a CUDA device; all ranks compute on the CPU\n");
        } else {
            fprintf(stderr, "[sinkscope] GPU binding (node-local rank mod visible devices; %d of %d rank(s) have a "
                            "device and run their forward passes on it):\n", with_gpu, size);
            for (int r = 0; r < size && r < 32; r++) {
                const binding *b = &all[r];
                if (b->gpu >= 0)
                    fprintf(stderr, "  rank %d (%s, local rank %d): visible device %d of %d (CUDA_VISIBLE_DEVICES "
                                    "entry %s) %s\n", r, b->host, b->local_rank, b->gpu, b->n_dev, b->entry, b->name);
                else
                    fprintf(stderr, "  rank %d (%s, local rank %d): no device visible, CPU\n", r, b->host,
                            b->local_rank);
            }
            if (size > 32) fprintf(stderr, "  ... %d more rank(s)\n", size - 32);
        }
    }
    free(all);
}

/* All ranks: 1 if any rank has bad != 0. */
static int any(MPI_Comm comm, int bad)
{
    int r = 0;
    MPI_Allreduce(&bad, &r, 1, MPI_INT, MPI_MAX, comm);
    return r;
}

static int run(const run_args *a, MPI_Comm comm)
{
    int rank, size, code = SS_EXIT_OK;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    ss_sweep *s = NULL;
    ss_plan *p = NULL;
    ss_results *res = NULL;
    ss_runner *runner = NULL;
    int8_t *status = NULL, *todo = NULL;
    int *groups = NULL;
    ss_sched_stats stats;
    memset(&stats, 0, sizeof stats);
    ss_diags d = {0};
    ss_runlock lock = {.fd = -1};

    /* 1. The sweep: rank 0 reads and validates it, then every rank parses the same text. */
    long len = 0;
    char *text = NULL;
    if (rank == 0) {
        if (ss_sweep_load(a->sweep_file, &s, &d) != SS_OK) {
            ss_diags_print(&d, a->sweep_file, stderr);
            fprintf(stderr, "%s: %d error(s); nothing was run\n", a->sweep_file, d.n);
            len = -1;
        } else {
            len = (long)strlen(s->text);
        }
    }
    MPI_Bcast(&len, 1, MPI_LONG, 0, comm);
    if (len < 0) {
        code = SS_EXIT_USAGE;
        goto done;
    }
    if (rank != 0) {
        text = malloc((size_t)len + 1);
        if (!text) MPI_Abort(comm, 3);
    }
    MPI_Bcast(rank == 0 ? s->text : text, (int)len + 1, MPI_CHAR, 0, comm);
    if (rank != 0) {
        ss_status st = ss_sweep_parse(text, (size_t)len, a->sweep_file, &s, &d);
        free(text);
        if (st != SS_OK) {
            fprintf(stderr, "sinkscope: rank %d cannot parse the sweep that rank 0 accepted (is %s readable "
                            "on every node?)\n", rank, a->sweep_file);
            ss_diags_print(&d, a->sweep_file, stderr);
        }
        if (any(comm, st != SS_OK)) goto usage;
    } else if (any(comm, 0)) {
        goto usage;
    }

    const char *output = a->output ? a->output : s->output;
    if (!output) {
        if (rank == 0)
            fprintf(stderr, "sinkscope run: no output file: pass -o OUT.h5 or set `output:` in %s\n", a->sweep_file);
        goto usage;
    }

    /* 2. The plan, identical on every rank; model hashes from rank 0. */
    ss_status st = ss_plan_build(s, &p);
    if (st != SS_OK && (rank == 0 || st != SS_ERR_INPUT))
        fprintf(stderr, "sinkscope%s: %s\n", rank == 0 ? "" : " (rank != 0)", ss_errmsg());
    if (any(comm, st != SS_OK)) goto usage;
    st = rank == 0 ? ss_plan_hash_models(p) : SS_OK;
    double t_check = MPI_Wtime();
    if (st == SS_OK && rank == 0) st = ss_plan_check_models(p); /* before the results file is touched */
    t_check = MPI_Wtime() - t_check;
    if (st != SS_OK) fprintf(stderr, "sinkscope: %s\n", ss_errmsg());
    if (any(comm, st != SS_OK)) goto usage;
    MPI_Bcast(p->model_hash, 65 * s->n_models, MPI_CHAR, 0, comm);
    MPI_Bcast(p->model_weights, SS_WEIGHT_TYPES_LEN * s->n_models, MPI_CHAR, 0, comm);
    ss_plan_fingerprint(p);
    {
        /* Every rank must have built the same plan (same prompt files, same configs), or the
         * collective file creation would not match up. */
        char fp0[65];
        int n0 = p->n_tasks;
        memcpy(fp0, p->fingerprint, sizeof fp0);
        MPI_Bcast(fp0, sizeof fp0, MPI_CHAR, 0, comm);
        MPI_Bcast(&n0, 1, MPI_INT, 0, comm);
        int differs = strcmp(fp0, p->fingerprint) != 0 || n0 != p->n_tasks;
        if (differs)
            fprintf(stderr, "sinkscope: rank %d sees a different sweep than rank 0 (%d tasks, fingerprint %.12s; rank 0: "
                            "%d tasks, %.12s): are the prompt files and model configs the same on every node?\n",
                    rank, p->n_tasks, p->fingerprint, n0, fp0);
        if (any(comm, differs)) goto usage;
    }

    /* 3. Resources: BLAS threads per rank, backend, GPU. */
    MPI_Comm node;
    MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    int local_ranks = 1, local_rank = 0;
    MPI_Comm_size(node, &local_ranks);
    MPI_Comm_rank(node, &local_rank);
    MPI_Comm_free(&node);
    const char *why_threads = "";
    int threads = choose_threads(a, s, local_ranks, &why_threads);
    openblas_set_num_threads(threads);
    ss_backend_choice backend = a->backend_given ? a->backend : s->backend;
    char why_dev[128] = "", why_be[320] = "";
    int n_dev = ss_cuda_device_count(why_dev, sizeof why_dev);
    int gpu = ss_gpu_pick(local_rank, n_dev); /* the visible device this rank takes, -1: CPU */
    /* The backend of this rank: the CPU without a device of its own (auto), an error for cuda. */
    const ss_backend *be = NULL;
    int be_ok = ss_backend_select(gpu >= 0 ? backend : backend == SS_BACKEND_CUDA ? SS_BACKEND_CUDA : SS_BACKEND_CPU,
                                  &be, why_be, sizeof why_be) == SS_OK;
    if (be_ok && gpu >= 0 && ss_backend_bind(be, gpu) != SS_OK) be_ok = 0;
    int all_ok = 0;
    MPI_Allreduce(&be_ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
    if (!all_ok) {
        if (!be_ok) fprintf(stderr, "sinkscope run: rank %d: %s\n", rank, ss_errmsg());
        goto usage;
    }
    if (rank == 0) {
        if (gpu >= 0 && backend != SS_BACKEND_CPU) {
            char name[96];
            ss_cuda_device_name(gpu, name, sizeof name);
            snprintf(why_be, sizeof why_be, "CUDA on %s", name);
        } else if (backend != SS_BACKEND_CPU) {
            snprintf(why_be, sizeof why_be, "no CUDA device (%s): running on the CPU", why_dev);
        }
        fprintf(stderr, "[sinkscope] %s %s: %d rank(s), %d BLAS thread(s) per rank (%s); backend %s: %s\n",
                s->name, SINKSCOPE_VERSION, size, threads, why_threads,
                backend == SS_BACKEND_CPU ? "cpu" : backend == SS_BACKEND_CUDA ? "cuda" : "auto", why_be);
        for (int m = 0; m < s->n_models; m++)
            fprintf(stderr, "[sinkscope] model %s: %s, weights %s\n", s->models[m].name, p->model_info[m].arch,
                    p->model_weights[m]);
        fprintf(stderr, "[sinkscope] checked %d model(s) (weights, tokenizer) in %.1f s\n", s->n_models, t_check);
    }
    if (backend == SS_BACKEND_CPU) gpu = -1; /* chosen: the device stays unused */
    report_gpu_binding(comm, local_rank, gpu, n_dev);

    /* 4. One writer per results file: rank 0 holds OUT.h5.lock until the run ends. */
    {
        int locked = 0;
        if (rank == 0) {
            st = ss_runlock_acquire(output, &lock);
            if (st != SS_OK) fprintf(stderr, "sinkscope run: %s\n", ss_errmsg());
            locked = st == SS_OK ? 1 : st == SS_ERR_INPUT ? -SS_EXIT_USAGE : -SS_EXIT_INTERNAL;
        }
        MPI_Bcast(&locked, 1, MPI_INT, 0, comm);
        if (locked < 0) {
            code = -locked;
            goto done;
        }
    }

    /* 5. The results file: create, or reopen and resume. */
    ss_results_options ro = {a->force};
    st = ss_results_open(output, p, comm, &ro, &res, &status);
    if (st != SS_OK) {
        if (rank == 0) fprintf(stderr, "sinkscope run: %s\n", ss_errmsg());
        code = st == SS_ERR_INPUT ? SS_EXIT_USAGE : SS_EXIT_INTERNAL;
        goto done;
    }
    todo = malloc((size_t)(p->n_tasks > 0 ? p->n_tasks : 1));
    groups = malloc((size_t)(p->n_tasks > 0 ? p->n_tasks : 1) * sizeof *groups);
    if (!todo || !groups) MPI_Abort(comm, 3);
    int n_done_before = 0, n_failed_before = 0;
    for (int t = 0; t < p->n_tasks; t++) {
        todo[t] = status[t] != SS_TASK_DONE && status[t] != SS_TASK_SKIPPED; /* both are final */
        n_done_before += status[t] == SS_TASK_DONE || status[t] == SS_TASK_SKIPPED;
        n_failed_before += status[t] == SS_TASK_FAILED;
        groups[t] = p->tasks[t].model;
    }
    if (rank == 0) {
        if (n_done_before > 0 || n_failed_before > 0)
            fprintf(stderr, "[sinkscope] resuming %s: %d of %d tasks already done; running %d (%d failed before)\n",
                    output, n_done_before, p->n_tasks, p->n_tasks - n_done_before, n_failed_before);
        else
            fprintf(stderr, "[sinkscope] writing %s: %d tasks, about %.1f MB\n", output, p->n_tasks,
                    ss_plan_file_bytes(p) / 1e6);
    }

    /* 6. Run. */
    if (ss_runner_new(p, res, rank, &runner) != SS_OK) MPI_Abort(comm, 3);
    ss_runner_set_backend(runner, be, gpu);
    ss_sched_options so = a->sched;
    so.task_group = groups;
    so.n_groups = s->n_models;
    so.n_done_before = n_done_before;
    so.stop = &g_stop_signal;
    ss_sched_run(comm, p->n_tasks, todo, &so, ss_runner_task, runner, &stats);
    int loads = ss_runner_models_loaded(runner), total_loads = 0;
    MPI_Reduce(&loads, &total_loads, 1, MPI_INT, MPI_SUM, 0, comm);
    ss_runner_free(runner);
    runner = NULL;

    st = ss_results_close(res);
    res = NULL;
    if (any(comm, st != SS_OK)) {
        if (rank == 0) fprintf(stderr, "sinkscope run: %s\n", ss_errmsg());
        code = SS_EXIT_INTERNAL;
        goto done;
    }

    /* 7. Summary (rank 0 speaks), and the agreed exit code. */
    if (rank == 0) {
        char line[1024];
        int o = snprintf(line, sizeof line, "[sinkscope] tasks: %d done now, %d failed now, %d skipped now, %d done "
                         "earlier; model loads: %d on %d rank(s)", stats.n_done, stats.n_failed, stats.n_skipped,
                         n_done_before, total_loads, size);
        if (size > 1 && o < (int)sizeof line - 16) {
            o += snprintf(line + o, sizeof line - (size_t)o, "; tasks per rank:");
            for (int r = 0; r < size && o < (int)sizeof line - 16; r++)
                o += snprintf(line + o, sizeof line - (size_t)o, " %d", stats.tasks_per_rank[r]);
        }
        fprintf(stderr, "%s\n", line);
        if (stats.n_messages > 0)
            fprintf(stderr, "[sinkscope] coordinator: %.1f us per task request (%ld requests, schedule %s); wall %.2f s\n",
                    1e6 * stats.coord_seconds / (double)stats.n_messages, stats.n_messages,
                    a->sched.policy == SS_SCHED_STATIC ? "static" : "dynamic", stats.wall_seconds);
        if (stats.n_skipped > 0) {
            /* one line per distinct reason: skips come in blocks (a whole encoding x model cell) */
            fprintf(stderr, "[sinkscope] %d task(s) skipped (recorded with status 3):\n", stats.n_skipped);
            for (int i = 0, shown = 0; i < stats.n_skipped && shown < 10; i++) {
                int seen = 0;
                for (int j = 0; j < i && !seen; j++) seen = strcmp(stats.skipped_msg[j], stats.skipped_msg[i]) == 0;
                if (seen) continue;
                int n_same = 0;
                for (int j = i; j < stats.n_skipped; j++) n_same += strcmp(stats.skipped_msg[j], stats.skipped_msg[i]) == 0;
                fprintf(stderr, "  %d x %s\n", n_same, stats.skipped_msg[i]);
                shown++;
            }
        }
        if (stats.n_failed > 0) {
            fprintf(stderr, "[sinkscope] %d task(s) failed:\n", stats.n_failed);
            for (int i = 0; i < stats.n_failed && i < 20; i++) {
                const ss_task *tk = &p->tasks[stats.failed[i]];
                fprintf(stderr, "  #%d model=%s prompts=%s prompt=%d: %s\n", stats.failed[i], s->models[tk->model].name,
                        s->prompts[tk->prompts].name, tk->prompt_index, stats.failed_msg[i]);
            }
            if (stats.n_failed > 20) fprintf(stderr, "  ... and %d more (see /tasks/error)\n", stats.n_failed - 20);
            fprintf(stderr, "[sinkscope] re-run the same command to retry the failed tasks\n");
            code = SS_EXIT_FAILED_TASKS;
        }
        if (stats.n_left > 0) {
            int left = p->n_tasks - n_done_before - stats.n_done - stats.n_skipped; /* failed ones run again */
            fprintf(stderr, "[sinkscope] stopped by signal %d (%s, on rank %d): %d task(s) never started, %d of %d "
                            "tasks left in %s; the file is consistent. Re-run the same command (or submit the "
                            "continuation job) to continue.\n",
                    stats.stop_signal, strsignal(stats.stop_signal), stats.stop_rank, stats.n_left, left, p->n_tasks,
                    output);
            code = SS_EXIT_STOPPED;
        }
        /* 8. The reference frames of every (model, encoding, prompt set), from the finished file. */
        if (code != SS_EXIT_STOPPED && ss_frames_applicable(s)) {
            double t_frames = MPI_Wtime();
            ss_status fst = ss_frames_update(output, &s->frames, NULL);
            if (fst == SS_OK)
                fprintf(stderr, "[sinkscope] reference frames written to /frames in %.2f s (sinkscope frames %s --print)\n",
                        MPI_Wtime() - t_frames, output);
            else
                fprintf(stderr, "[sinkscope] warning: the reference frames could not be written: %s\n", ss_errmsg());
        }
        printf("results: %s\n", output);
        fflush(stdout);
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, comm);
    goto done;

usage:
    code = SS_EXIT_USAGE;
done:
    if (runner) ss_runner_free(runner);
    if (res) ss_results_close(res);
    ss_sched_stats_free(&stats);
    free(status);
    free(todo);
    free(groups);
    ss_plan_free(p);
    ss_sweep_free(s);
    ss_diags_free(&d);
    ss_runlock_release(&lock); /* after the file is closed and /frames written */
    return code;
}

int ss_cmd_run(int argc, char **argv)
{
    if (ss_wants_help(argc, argv)) {
        run_help();
        return SS_EXIT_OK;
    }
    run_args a;
    if (parse_args(argc, argv, &a) != 0) return SS_EXIT_USAGE;

    int provided = MPI_THREAD_SINGLE;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided);
    install_stop_handlers(); /* after MPI_Init, so that no runtime handler replaces them */
    int code = run(&a, MPI_COMM_WORLD);
    H5close(); /* before MPI_Finalize */
    MPI_Finalize();
    return code;
}
