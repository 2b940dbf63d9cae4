/* runlock.c: the results file's writer lock (see runlock.h). */
#define _GNU_SOURCE
#include "runlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The holder's record, one line: "host=H pid=P slurm_job=J started=T". */
static void describe_self(char *out, size_t cap)
{
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    const char *job = getenv("SLURM_JOB_ID");
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(out, cap, "host=%s pid=%ld slurm_job=%s started=%s\n", host, (long)getpid(), job && *job ? job : "none",
             stamp);
}

ss_status ss_runlock_acquire(const char *output, ss_runlock *lk)
{
    ss_status st = SS_OK;
    lk->fd = -1;
    if (!output[0]) return ss_fail(SS_ERR_INPUT, "the output path is empty");
    if (snprintf(lk->path, sizeof lk->path, "%s.lock", output) >= (int)sizeof lk->path)
        return ss_fail(SS_ERR_INPUT, "the output path is too long");
    struct stat sb;
    if (stat(output, &sb) == 0 && !S_ISREG(sb.st_mode)) return SS_OK; /* not a results file: refused when opened */
    int fd = open(lk->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", output);
        char *slash = strrchr(dir, '/');
        if (slash == dir) dir[1] = '\0';
        else if (slash) *slash = '\0';
        else snprintf(dir, sizeof dir, ".");
        if (e == ENOENT || e == EACCES || e == EROFS || e == ENOTDIR)
            st = ss_fail(SS_ERR_INPUT, "cannot create %.1000s: directory %.1000s: %s", output, dir, strerror(e));
        else
            st = ss_fail(SS_ERR_IO, "cannot create the lock file %s: %s", lk->path, strerror(e));
        goto done;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            char holder[512] = "";
            ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = '\0';
            holder[strcspn(holder, "\n")] = '\0';
            st = ss_fail(SS_ERR_INPUT,
                         "%s is being written by another sinkscope run (%s, lock %s); only one run may write a results "
                         "file at a time: wait for it to finish or stop it (scancel, kill -TERM), then run again",
                         output, holder[0] ? holder : "holder unknown", lk->path);
        } else {
            st = ss_fail(SS_ERR_IO, "cannot lock %s: %s (flock on this file system may need the 'flock' mount option)",
                         lk->path, strerror(e));
        }
        goto done;
    }
    char me[512];
    describe_self(me, sizeof me);
    size_t len = strlen(me);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, me, len, 0) != (ssize_t)len) {
        st = ss_fail(SS_ERR_IO, "cannot write the lock file %s: %s", lk->path, strerror(errno));
        goto done;
    }
    lk->fd = fd;
    fd = -1;
done:
    if (fd >= 0) close(fd); /* also releases a lock taken above */
    return st;
}

void ss_runlock_release(ss_runlock *lk)
{
    if (lk->fd < 0) return;
    /* Leave an empty file: the record describes a holder only while the lock is held. */
    if (ftruncate(lk->fd, 0) != 0) { /* nothing to do: the lock goes with the descriptor anyway */
    }
    flock(lk->fd, LOCK_UN);
    close(lk->fd);
    lk->fd = -1;
}
