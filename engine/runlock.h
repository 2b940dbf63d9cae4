/* runlock.h: one writer per results file. Rank 0 of a run holds an exclusive flock(2) on OUT.h5.lock
 * for the run's whole duration and records who holds it (host, pid, Slurm job, start time) in the
 * file. A second run on the same results file is refused with the holder's description. The kernel
 * drops the lock when its process dies, however it dies, so a stale lock file never blocks: the file
 * itself stays behind (removing it would race with a run that is just taking it). */
#ifndef SS_RUNLOCK_H
#define SS_RUNLOCK_H

#include "status.h"

typedef struct {
    int fd;          /* -1 when not held */
    char path[4096]; /* OUT.h5.lock */
} ss_runlock;

/* Takes the lock of results file `output` without waiting. SS_ERR_INPUT when another process holds
 * it (the message names the holder), SS_ERR_IO when the lock file cannot be created. */
ss_status ss_runlock_acquire(const char *output, ss_runlock *lk);
/* Releases the lock (no-op when not held). */
void ss_runlock_release(ss_runlock *lk);

#endif
