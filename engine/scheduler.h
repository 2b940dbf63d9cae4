/* scheduler.h: the coordinator and the workers.
 *
 * Rank 0 coordinates: workers ask it for a task and get one at a time (dynamic self-scheduling), so
 * a slow task never holds up the others. Tasks of the model a rank already holds go to that rank
 * first, so each rank loads a model as rarely as possible. Rank 0 also computes: its coordinator
 * runs in a second thread that polls MPI (with short sleeps, so it does not steal a core). When MPI
 * gives no MPI_THREAD_MULTIPLE, rank 0 only coordinates. With one rank no thread is started. */
#ifndef SS_SCHEDULER_H
#define SS_SCHEDULER_H

#include <mpi.h>
#include <signal.h>
#include <stdint.h>

#include "status.h"

#define SS_MSG_LEN 256

typedef struct {
    int8_t status;      /* 1 done, 2 failed, 3 skipped (as in results.h) */
    float seconds;
    int n_tokens;
    char msg[SS_MSG_LEN]; /* failed or skipped: why */
} ss_task_result;

/* Runs one task. A non-OK return is a hard failure of the rank: the scheduler aborts the whole job
 * (MPI_Abort) so that no rank hangs. Task-level failures are reported in res->status instead. */
typedef ss_status (*ss_task_fn)(void *ctx, int task, ss_task_result *res);

typedef enum { SS_SCHED_DYNAMIC = 0, SS_SCHED_STATIC } ss_sched_policy;
typedef enum { SS_PROGRESS_AUTO = 0, SS_PROGRESS_LIVE, SS_PROGRESS_LINES, SS_PROGRESS_NONE } ss_progress_mode;

typedef struct {
    ss_sched_policy policy;     /* STATIC: task i of the to-do list goes to rank i % size (for comparison) */
    ss_progress_mode progress;
    double progress_interval;   /* seconds between plain progress lines (default 10) */
    const int *task_group;      /* [n_tasks] affinity key of each task (its model index), or NULL */
    int n_groups;
    int n_done_before;          /* tasks already done in the file (resume), for the progress total */
    /* Graceful stop: when *stop becomes non-zero (a signal handler stores the signal number) on any
     * rank, the coordinator hands out no more tasks; every rank finishes the task it is running and
     * ss_sched_run returns normally on all ranks. NULL: never stop early. */
    const volatile sig_atomic_t *stop;
} ss_sched_options;

typedef struct {
    int n_tasks;            /* tasks run in this invocation */
    int n_done, n_failed, n_skipped;
    double wall_seconds;
    double coord_seconds;   /* time the coordinator spent choosing tasks and exchanging messages */
    long n_messages;        /* request/reply pairs handled by the coordinator */
    int rank0_computes;
    int *failed;            /* rank 0: ids of failed tasks [n_failed] */
    char (*failed_msg)[SS_MSG_LEN];
    int *skipped;           /* rank 0: ids of skipped tasks [n_skipped] */
    char (*skipped_msg)[SS_MSG_LEN];
    int *tasks_per_rank;    /* rank 0: [size] */
    int group_switches;     /* times a rank had to switch to another model */
    int stop_signal;        /* rank 0: the signal that stopped the run early (0: not stopped) */
    int stop_rank;          /* rank 0: the rank that received it first */
    int n_left;             /* rank 0: tasks of this invocation never started because of the stop */
} ss_sched_stats;

/* Collective over comm. todo[t] != 0 marks task t to run. Stats are complete on rank 0. */
ss_status ss_sched_run(MPI_Comm comm, int n_tasks, const int8_t *todo, const ss_sched_options *opt, ss_task_fn fn,
                       void *ctx, ss_sched_stats *stats);
void ss_sched_stats_free(ss_sched_stats *s);

#endif
