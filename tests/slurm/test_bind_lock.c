/* test_bind_lock.c: rank-to-GPU binding (gpu_bind.h) and the results file's writer lock (runlock.h).
 * usage: test_bind_lock WORKDIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu_bind.h"
#include "runlock.h"
#include "test_util.h"

static void test_binding(void)
{
    /* no device: CPU */
    CHECK(ss_gpu_pick(0, 0) == -1);
    CHECK(ss_gpu_pick(3, 0) == -1);
    /* --gpus-per-task=1: every task sees one device and takes it */
    for (int r = 0; r < 8; r++) CHECK(ss_gpu_pick(r, 1) == 0);
    /* --gpus-per-node=4 with 4 or 8 ranks per node: local rank mod 4 */
    CHECK(ss_gpu_pick(0, 4) == 0);
    CHECK(ss_gpu_pick(3, 4) == 3);
    CHECK(ss_gpu_pick(5, 4) == 1);
    CHECK(ss_gpu_pick(-1, 4) == -1);
    char e[64];
    ss_gpu_visible_entry("2,3", 1, e, sizeof e);
    CHECK(strcmp(e, "3") == 0);
    ss_gpu_visible_entry("2,3", 0, e, sizeof e);
    CHECK(strcmp(e, "2") == 0);
    ss_gpu_visible_entry("GPU-1a2b,GPU-3c4d", 1, e, sizeof e);
    CHECK(strcmp(e, "GPU-3c4d") == 0);
    ss_gpu_visible_entry(NULL, 2, e, sizeof e); /* unset: the index is the physical id */
    CHECK(strcmp(e, "2") == 0);
    ss_gpu_visible_entry("5", 3, e, sizeof e); /* fewer entries than the index */
    CHECK(strcmp(e, "3") == 0);
    ss_gpu_visible_entry("GPU-0123456789abcdef", 0, e, 8); /* truncated to the buffer */
    CHECK(strcmp(e, "GPU-012") == 0);
}

static void test_lock(const char *dir)
{
    char out[4096], lockpath[4200];
    snprintf(out, sizeof out, "%s/r.h5", dir);
    snprintf(lockpath, sizeof lockpath, "%s.lock", out);
    unlink(lockpath);
    setenv("SLURM_JOB_ID", "4242", 1);
    ss_runlock a = {.fd = -1}, b = {.fd = -1};
    CHECK(ss_runlock_acquire(out, &a) == SS_OK);
    CHECK(a.fd >= 0);
    /* the record names the holder */
    FILE *f = fopen(lockpath, "r");
    char rec[512] = "";
    CHECK(f && fgets(rec, sizeof rec, f));
    if (f) fclose(f);
    char pid[32];
    snprintf(pid, sizeof pid, "pid=%ld ", (long)getpid());
    CHECK_MSG(strstr(rec, pid) && strstr(rec, "slurm_job=4242") && strstr(rec, "host="), "record '%s'", rec);
    /* a second writer (another open file description, as another process has) is refused, naming the holder */
    CHECK(ss_runlock_acquire(out, &b) == SS_ERR_INPUT);
    CHECK_MSG(strstr(ss_errmsg(), "slurm_job=4242") && strstr(ss_errmsg(), "being written by another"), "msg '%s'",
              ss_errmsg());
    CHECK(b.fd == -1);
    ss_runlock_release(&a);
    CHECK(a.fd == -1);
    CHECK(ss_runlock_acquire(out, &b) == SS_OK);
    ss_runlock_release(&b);
    ss_runlock_release(&b); /* twice: no-op */

    /* a holder that dies without releasing leaves a stale file that does not block */
    pid_t child = fork();
    if (child == 0) {
        ss_runlock c = {.fd = -1};
        _exit(ss_runlock_acquire(out, &c) == SS_OK ? 0 : 1); /* exits holding it */
    }
    int ws = 0;
    waitpid(child, &ws, 0);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    struct stat sb;
    CHECK(stat(lockpath, &sb) == 0 && sb.st_size > 0); /* the dead holder's record is still there */
    CHECK_MSG(ss_runlock_acquire(out, &a) == SS_OK, "stale lock blocks: %s", ss_errmsg());
    ss_runlock_release(&a);

    /* a missing directory is a usage error that names the directory */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no/such/dir/r.h5", dir);
    CHECK(ss_runlock_acquire(missing, &a) == SS_ERR_INPUT);
    CHECK(strstr(ss_errmsg(), "no/such/dir") != NULL);
    CHECK(ss_runlock_acquire("", &a) == SS_ERR_INPUT);
    /* an output that is a directory is left for the results file's own check: no lock file beside it */
    CHECK(ss_runlock_acquire(dir, &a) == SS_OK && a.fd == -1);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_bind_lock WORKDIR\n");
        return 2;
    }
    mkdir(argv[1], 0755);
    test_binding();
    test_lock(argv[1]);
    TEST_END();
}
