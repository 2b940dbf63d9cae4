/* cmd_slurm.c: `sinkscope slurm SWEEP.yaml [options] [--submit [--chain N]]`.
 * Validates the sweep, writes a ready sbatch script next to it (absolute paths to this binary, the
 * sweep and the results file; srun --mpi=pmix; SIGTERM ahead of the time limit) and optionally
 * submits it, or a chain of N jobs that continue one another (--dependency=afterany). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sweep.h"

#define MAX_EXTRA 32

typedef struct {
    const char *sweep_file, *output, *script, *partition, *account, *job_name, *time, *binary;
    int nodes, tasks_per_node, cpus_per_task, gpus_per_node, overcommit, submit, chain, signal_lead;
    const char *extra[MAX_EXTRA]; /* --sbatch lines, "#SBATCH " stripped */
    int n_extra;
} slurm_args;

static void slurm_help(void)
{
    printf("usage: sinkscope slurm SWEEP.yaml [options] [--submit [--chain N]]\n"
           "\n"
           "Validates the sweep (errors as `sinkscope validate` prints them; exit 2, nothing written), then\n"
           "writes a ready sbatch script next to it (SWEEP.sbatch) that runs\n"
           "  srun --mpi=pmix /abs/sinkscope run /abs/SWEEP.yaml -o /abs/OUT.h5\n"
           "with one BLAS thread pool of --cpus-per-task threads per rank, and asks Slurm for a SIGTERM\n"
           "--signal-lead seconds before the time limit: the ranks then finish their current task, close the\n"
           "file and exit 4; submitting the script again continues the sweep. Job log: SWEEP-<jobid>.out.\n"
           "\n"
           "options:\n"
           "  -o, --output OUT.h5          results file (default: the sweep's `output:`)\n"
           "  -N, --nodes N                nodes (default 1)\n"
           "  -n, --ntasks-per-node N      MPI ranks per node (default 1)\n"
           "  -c, --cpus-per-task N        CPUs per rank, = BLAS threads per rank (default: Slurm's, 1)\n"
           "  -G, --gpus-per-node N        GPUs per node; each rank takes the one of its node-local rank\n"
           "  -t, --time T                 time limit: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS\n"
           "  -p, --partition P            partition\n"
           "  -A, --account A              account to charge\n"
           "  -J, --job-name NAME          job name (default sinkscope-<sweep name>)\n"
           "  --sbatch 'OPTION'            an extra #SBATCH line, e.g. --sbatch '--qos=long' (repeatable)\n"
           "  --overcommit                 allow more ranks than CPUs (srun/sbatch --overcommit)\n"
           "  --signal-lead S              seconds of warning before the time limit (default 120)\n"
           "  --script PATH                where to write the script (default: SWEEP.sbatch beside the sweep)\n"
           "  --sinkscope PATH             the binary the job runs (default: this one)\n"
           "  --submit                     submit the script (sbatch --parsable) and print the job id; the\n"
           "                               options are first checked with sbatch --test-only\n"
           "  --chain N                    submit N jobs, each starting when the previous one ends\n"
           "                               (--dependency=afterany): a sweep longer than the time limit\n"
           "                               continues job after job; prints one job id a line (implies --submit)\n"
           "\n"
           "exit codes: 0 ok; 2 bad sweep, bad option, or sbatch refused the job (nothing submitted);\n"
           "3 a submission of the chain failed after others were accepted (their ids are printed).\n"
           "Templates for hand-edited job scripts and the cost model: slurm/README.md.\n");
}

static int parse_count(const char *opt, const char *v, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        fprintf(stderr, "sinkscope slurm: %s must be an integer in %d..%d, got '%s'\n", opt, lo, hi, v);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* Slurm's time formats, in seconds; 0 for UNLIMITED/INFINITE; -1 when malformed. */
static long parse_time(const char *t)
{
    if (strcmp(t, "UNLIMITED") == 0 || strcmp(t, "INFINITE") == 0 || strcmp(t, "unlimited") == 0) return 0;
    long v[4] = {0, 0, 0, 0}, days = 0;
    int n = 0;
    const char *p = t;
    const char *dash = strchr(t, '-');
    if (dash) {
        char *end;
        days = strtol(t, &end, 10);
        if (end != dash || end == t || days < 0) return -1;
        p = dash + 1;
    }
    for (;;) {
        char *end;
        if (*p < '0' || *p > '9' || n == 3) return -1;
        v[n++] = strtol(p, &end, 10);
        if (*end == '\0') break;
        if (*end != ':') return -1;
        p = end + 1;
    }
    long s;
    if (dash) s = days * 86400 + v[0] * 3600 + (n > 1 ? v[1] * 60 : 0) + (n > 2 ? v[2] : 0);
    else if (n == 1) s = v[0] * 60;             /* minutes */
    else if (n == 2) s = v[0] * 60 + v[1];      /* minutes:seconds */
    else s = v[0] * 3600 + v[1] * 60 + v[2];   /* hours:minutes:seconds */
    return s > 0 ? s : -1;
}

static int parse_args(int argc, char **argv, slurm_args *a)
{
    memset(a, 0, sizeof *a);
    a->nodes = 1;
    a->tasks_per_node = 1;
    a->signal_lead = 120;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define IS(short_, long_) ((short_[0] && strcmp(s, short_) == 0) || strcmp(s, long_) == 0)
#define NEED_VALUE                                                                                                  \
    do {                                                                                                            \
        if (!v) {                                                                                                   \
            fprintf(stderr, "sinkscope slurm: %s needs a value\n", s);                                              \
            return -1;                                                                                              \
        }                                                                                                           \
        i++;                                                                                                        \
    } while (0)
        if (IS("-o", "--output")) {
            NEED_VALUE;
            a->output = v;
        } else if (IS("-N", "--nodes")) {
            NEED_VALUE;
            if (parse_count(s, v, 1, 100000, &a->nodes)) return -1;
        } else if (IS("-n", "--ntasks-per-node")) {
            NEED_VALUE;
            if (parse_count(s, v, 1, 4096, &a->tasks_per_node)) return -1;
        } else if (IS("-c", "--cpus-per-task")) {
            NEED_VALUE;
            if (parse_count(s, v, 1, 4096, &a->cpus_per_task)) return -1;
        } else if (IS("-G", "--gpus-per-node")) {
            NEED_VALUE;
            if (parse_count(s, v, 0, 1024, &a->gpus_per_node)) return -1;
        } else if (IS("-t", "--time")) {
            NEED_VALUE;
            if (parse_time(v) < 0) {
                fprintf(stderr, "sinkscope slurm: --time '%s' is not a Slurm time (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM, "
                                "D-HH:MM:SS or UNLIMITED)\n", v);
                return -1;
            }
            a->time = v;
        } else if (IS("-p", "--partition")) {
            NEED_VALUE;
            a->partition = v;
        } else if (IS("-A", "--account")) {
            NEED_VALUE;
            a->account = v;
        } else if (IS("-J", "--job-name")) {
            NEED_VALUE;
            a->job_name = v;
        } else if (IS("", "--sbatch")) {
            NEED_VALUE;
            const char *line = v;
            if (strncmp(line, "#SBATCH", 7) == 0) line += 7;
            while (*line == ' ' || *line == '\t') line++;
            if (line[0] != '-' || strpbrk(line, "\n\r")) {
                fprintf(stderr, "sinkscope slurm: --sbatch '%s' is not an sbatch option: give one option a time, "
                                "starting with '-', e.g. --sbatch '--qos=long'\n", v);
                return -1;
            }
            if (a->n_extra == MAX_EXTRA) {
                fprintf(stderr, "sinkscope slurm: at most %d --sbatch lines\n", MAX_EXTRA);
                return -1;
            }
            a->extra[a->n_extra++] = line;
        } else if (IS("", "--overcommit")) {
            a->overcommit = 1;
        } else if (IS("", "--signal-lead")) {
            NEED_VALUE;
            if (parse_count(s, v, 0, 65535, &a->signal_lead)) return -1;
        } else if (IS("", "--script")) {
            NEED_VALUE;
            a->script = v;
        } else if (IS("", "--sinkscope")) {
            NEED_VALUE;
            a->binary = v;
        } else if (IS("", "--submit")) {
            a->submit = 1;
        } else if (IS("", "--chain")) {
            NEED_VALUE;
            if (parse_count(s, v, 1, 1000, &a->chain)) return -1;
            a->submit = 1;
        } else if (s[0] == '-') {
            fprintf(stderr, "sinkscope slurm: unknown option '%s' (see sinkscope slurm --help)\n", s);
            return -1;
        } else if (!a->sweep_file) {
            a->sweep_file = s;
        } else {
            fprintf(stderr, "sinkscope slurm: unexpected argument '%s'\n", s);
            return -1;
        }
#undef NEED_VALUE
#undef IS
    }
    if (!a->sweep_file) {
        fprintf(stderr, "usage: sinkscope slurm SWEEP.yaml [options] [--submit [--chain N]]  (see --help)\n");
        return -1;
    }
    if (a->chain == 0) a->chain = 1;
    return 0;
}

/* An absolute form of path p (relative ones against the working directory; the directory part is
 * resolved when it exists, so that "../x" reads well in the script). Returns 0, or -1 (errno). */
static int absolute(const char *p, char *out, size_t cap)
{
    char joined[PATH_MAX * 2];
    if (p[0] == '/') {
        snprintf(joined, sizeof joined, "%s", p);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return -1;
        snprintf(joined, sizeof joined, "%s/%s", cwd, p);
    }
    char *slash = strrchr(joined, '/');
    char dir[PATH_MAX];
    *slash = '\0';
    if (!realpath(joined[0] ? joined : "/", dir)) return -1;
    if ((size_t)snprintf(out, cap, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, slash + 1) >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Single-quoted for bash. */
static void put_quoted(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

/* The job log beside the script: SWEEP.sbatch -> SWEEP-%j.out (Slurm puts the job id for %j). */
static void log_pattern(const char *script, char *log, size_t cap)
{
    snprintf(log, cap, "%s", script);
    char *dot = strrchr(log, '.'), *slash = strrchr(log, '/');
    if (dot && (!slash || dot > slash)) *dot = '\0';
    size_t n = strlen(log);
    snprintf(log + n, cap - n, "-%%j.out");
}

static ss_status write_script(const slurm_args *a, const ss_sweep *s, const char *bin, const char *sweep,
                              const char *out, const char *path)
{
    ss_status st = SS_OK;
    char tmp[PATH_MAX + 16], log[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    log_pattern(path, log, sizeof log);
    long secs = a->time ? parse_time(a->time) : 0;
    int lead = a->signal_lead;
    if (secs > 0 && lead >= secs) lead = (int)(secs / 2); /* a short limit: warn half-way */

    FILE *f = fopen(tmp, "w");
    if (!f) return ss_fail(SS_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(f, "#!/bin/bash\n");
    fprintf(f, "# Written by `sinkscope slurm` %s at %s for the sweep '%s'.\n", SINKSCOPE_VERSION, stamp, s->name);
    fprintf(f, "# Submitting it again continues the sweep: finished tasks are kept (one job writes the file at a "
               "time).\n");
    fprintf(f, "#SBATCH --job-name=%s%s\n", a->job_name ? "" : "sinkscope-", a->job_name ? a->job_name : s->name);
    fprintf(f, "#SBATCH --nodes=%d\n", a->nodes);
    /* Slurm refuses --ntasks-per-node above a node's CPUs even with --overcommit (22.05: "Requested node
     * configuration is not available"), so an overcommitted job asks for the total and lets Slurm spread it. */
    if (a->overcommit) fprintf(f, "#SBATCH --ntasks=%ld\n", (long)a->nodes * a->tasks_per_node);
    else fprintf(f, "#SBATCH --ntasks-per-node=%d\n", a->tasks_per_node);
    if (a->cpus_per_task > 0) fprintf(f, "#SBATCH --cpus-per-task=%d\n", a->cpus_per_task);
    if (a->gpus_per_node > 0) fprintf(f, "#SBATCH --gpus-per-node=%d\n", a->gpus_per_node);
    if (a->time) fprintf(f, "#SBATCH --time=%s\n", a->time);
    if (a->partition) fprintf(f, "#SBATCH --partition=%s\n", a->partition);
    if (a->account) fprintf(f, "#SBATCH --account=%s\n", a->account);
    if (a->overcommit) fprintf(f, "#SBATCH --overcommit\n");
    /* No "B:": the SIGTERM goes to the ranks of the job step, which stop gracefully by themselves. */
    if (secs != 0 && lead > 0) fprintf(f, "#SBATCH --signal=TERM@%d\n", lead);
    fprintf(f, "#SBATCH --output=%s\n", log);
    for (int i = 0; i < a->n_extra; i++) fprintf(f, "#SBATCH %s\n", a->extra[i]);
    fprintf(f, "\nset -u\nSINKSCOPE=");
    put_quoted(f, bin);
    fprintf(f, "\nSWEEP=");
    put_quoted(f, sweep);
    fprintf(f, "\nOUT=");
    put_quoted(f, out);
    fprintf(f, "\n\n"
               "# BLAS threads per rank: the CPUs Slurm gives each task.\n"
               "[ -n \"${SLURM_CPUS_PER_TASK:-}\" ] && export OPENBLAS_NUM_THREADS=$SLURM_CPUS_PER_TASK\n"
               "echo \"[sbatch] job $SLURM_JOB_ID on $SLURM_JOB_NODELIST: ${SLURM_NTASKS:-?} rank(s), "
               "${SLURM_CPUS_PER_TASK:-default} CPU(s) per rank; $OUT\"\n"
               "\n"
               "# scancel, pre-emption and the --signal warning send SIGTERM to the ranks: they finish their current\n"
               "# task, close the file and exit 4. This shell outlives them, so their last words reach the log.\n"
               "trap 'echo \"[sbatch] SIGTERM: the ranks finish their current task and close the file\"' TERM\n"
               "srun --mpi=pmix%s", a->overcommit ? " --overcommit" : "");
    if (a->cpus_per_task > 0) fprintf(f, " --cpus-per-task=%d", a->cpus_per_task);
    fprintf(f, " \"$SINKSCOPE\" run \"$SWEEP\" -o \"$OUT\" --progress lines &\n"
               "srun_pid=$!\n"
               "while kill -0 \"$srun_pid\" 2>/dev/null; do wait \"$srun_pid\"; done\n"
               "wait \"$srun_pid\"; rc=$?\n"
               "case $rc in\n"
               "  0) echo \"[sbatch] sweep complete: $OUT\" ;;\n"
               "  1) echo \"[sbatch] finished with failed tasks (see above); submit again to retry them\" ;;\n"
               "  4) echo \"[sbatch] stopped with tasks left; submit this script again (or let the next job of the "
               "chain run) to continue\" ;;\n"
               "  *) echo \"[sbatch] sinkscope run exited with $rc\" ;;\n"
               "esac\n"
               "exit $rc\n");
    if (fclose(f) != 0) st = ss_fail(SS_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    if (st == SS_OK && (chmod(tmp, 0755) != 0 || rename(tmp, path) != 0))
        st = ss_fail(SS_ERR_IO, "cannot move %s to %s: %s", tmp, path, strerror(errno));
    if (st != SS_OK) unlink(tmp);
    return st;
}

/* Runs argv, its stdout into out (stderr too when err_too), NUL-terminated. Returns the exit code, 127
 * when it could not be started. */
static int run_capture(char *const argv[], char *out, size_t cap, int err_too)
{
    int fds[2];
    out[0] = '\0';
    if (pipe(fds) != 0) return 127;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return 127;
    }
    if (pid == 0) {
        dup2(fds[1], 1);
        if (err_too) dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t k;
    char sink[512];
    while ((k = read(fds[0], n + 1 < cap ? out + n : sink, n + 1 < cap ? cap - 1 - n : sizeof sink)) > 0)
        if (n + 1 < cap) n += (size_t)k;
    out[n] = '\0';
    close(fds[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

/* Checks the script with sbatch --test-only, then submits it `chain` times. */
static int submit(const slurm_args *a, const char *script)
{
    char buf[4096];
    char *test[] = {"sbatch", "--test-only", (char *)script, NULL};
    int rc = run_capture(test, buf, sizeof buf, 1);
    if (rc == 127) {
        fprintf(stderr, "sinkscope slurm: cannot run sbatch (is Slurm installed here?); the job script is %s: "
                        "submit it with `sbatch %s` where Slurm is. Nothing was submitted.\n", script, script);
        return SS_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "sinkscope slurm: sbatch refused the job (sbatch --test-only exited %d):\n%s%s"
                        "Nothing was submitted and the script was removed; fix the option and run again.\n",
                rc, buf, buf[0] && buf[strlen(buf) - 1] != '\n' ? "\n" : "");
        unlink(script);
        return SS_EXIT_USAGE;
    }
    char prev[64] = "";
    for (int k = 0; k < a->chain; k++) {
        char dep[96];
        snprintf(dep, sizeof dep, "--dependency=afterany:%s", prev);
        char *argv_first[] = {"sbatch", "--parsable", (char *)script, NULL};
        char *argv_next[] = {"sbatch", "--parsable", dep, (char *)script, NULL};
        rc = run_capture(k == 0 ? argv_first : argv_next, buf, sizeof buf, 0);
        buf[strcspn(buf, ";\n")] = '\0'; /* "jobid[;cluster]" */
        if (rc != 0 || !buf[0]) {
            fprintf(stderr, "sinkscope slurm: sbatch failed (exit %d) on job %d of %d%s\n", rc, k + 1, a->chain,
                    k > 0 ? "; the jobs printed above are queued" : "; nothing was submitted");
            return k > 0 ? SS_EXIT_INTERNAL : SS_EXIT_USAGE;
        }
        printf("%s\n", buf);
        fflush(stdout);
        snprintf(prev, sizeof prev, "%.63s", buf);
    }
    char log[PATH_MAX + 32];
    log_pattern(script, log, sizeof log);
    log[strlen(log) - strlen("%j.out")] = '\0';
    fprintf(stderr, "[sinkscope] job script %s: submitted %d job(s) (%d node(s) x %d rank(s))%s; log: %s<jobid>.out\n",
            script, a->chain, a->nodes, a->tasks_per_node,
            a->chain > 1 ? ", each after the previous one ends (afterany)" : "", log);
    return SS_EXIT_OK;
}

int ss_cmd_slurm(int argc, char **argv)
{
    if (ss_wants_help(argc, argv)) {
        slurm_help();
        return SS_EXIT_OK;
    }
    slurm_args a;
    if (parse_args(argc, argv, &a) != 0) return SS_EXIT_USAGE;
    int code = SS_EXIT_OK;
    ss_sweep *s = NULL;
    ss_diags d = {0};
    char bin[PATH_MAX], sweep[PATH_MAX], out[PATH_MAX], script[PATH_MAX];

    /* 1. The sweep, checked as `sinkscope validate` checks it. */
    if (ss_sweep_load(a.sweep_file, &s, &d) != SS_OK) {
        ss_diags_print(&d, a.sweep_file, stderr);
        fprintf(stderr, "%s: %d error(s); no job script was written, nothing was submitted\n", a.sweep_file, d.n);
        code = SS_EXIT_USAGE;
        goto done;
    }
    const char *output = a.output ? a.output : s->output;
    if (!output) {
        fprintf(stderr, "sinkscope slurm: no output file: pass -o OUT.h5 or set `output:` in %s\n", a.sweep_file);
        code = SS_EXIT_USAGE;
        goto done;
    }

    /* 2. Absolute paths: the job may start in another directory, on another node. */
    if (!realpath(a.binary ? a.binary : "/proc/self/exe", bin)) {
        fprintf(stderr, "sinkscope slurm: cannot find the sinkscope binary %s: %s\n", a.binary ? a.binary : "",
                strerror(errno));
        code = SS_EXIT_USAGE;
        goto done;
    }
    if (!realpath(a.sweep_file, sweep)) {
        fprintf(stderr, "sinkscope slurm: %s: %s\n", a.sweep_file, strerror(errno));
        code = SS_EXIT_USAGE;
        goto done;
    }
    if (absolute(output, out, sizeof out) != 0) {
        fprintf(stderr, "sinkscope slurm: the results file %s: its directory does not exist (%s)\n", output,
                strerror(errno));
        code = SS_EXIT_USAGE;
        goto done;
    }
    if (a.script) {
        if (absolute(a.script, script, sizeof script) != 0) {
            fprintf(stderr, "sinkscope slurm: --script %s: its directory does not exist (%s)\n", a.script,
                    strerror(errno));
            code = SS_EXIT_USAGE;
            goto done;
        }
    } else {
        snprintf(script, sizeof script, "%s", sweep);
        char *dot = strrchr(script, '.'), *slash = strrchr(script, '/');
        if (dot && dot > slash && (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0)) *dot = '\0';
        if (strlen(script) + 8 > sizeof script) {
            fprintf(stderr, "sinkscope slurm: the sweep path is too long\n");
            code = SS_EXIT_USAGE;
            goto done;
        }
        strcat(script, ".sbatch");
    }
    if (a.tasks_per_node > 1 && a.gpus_per_node > 0 && a.tasks_per_node % a.gpus_per_node != 0)
        fprintf(stderr, "sinkscope slurm: note: %d ranks per node on %d GPUs: some GPUs get more ranks than others\n",
                a.tasks_per_node, a.gpus_per_node);

    /* 3. The script, then (maybe) the submission. */
    if (write_script(&a, s, bin, sweep, out, script) != SS_OK) {
        fprintf(stderr, "sinkscope slurm: %s\n", ss_errmsg());
        code = SS_EXIT_USAGE;
        goto done;
    }
    if (a.submit) {
        code = submit(&a, script);
    } else {
        fprintf(stderr, "[sinkscope] job script for %d node(s) x %d rank(s), results %s; submit it with sbatch:\n",
                a.nodes, a.tasks_per_node, out);
        printf("%s\n", script);
    }

done:
    ss_sweep_free(s);
    ss_diags_free(&d);
    return code;
}
