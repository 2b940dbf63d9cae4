/* test_scheduler.c: the coordinator/worker scheduler under 1, 2 and 3 ranks with uneven task costs.
 * Checks that every task runs exactly once, that the to-do mask is honoured, that tasks of one
 * group stay on one rank where possible, and that a few long tasks do not stall the others. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler.h"
#include "test_util.h"

enum { N_TASKS = 60, N_GROUPS = 3 };

typedef struct {
    int rank;
    int runs[N_TASKS]; /* times this rank ran each task */
    int cost_ms[N_TASKS];
} ctx_t;

static ss_status fake_task(void *p, int task, ss_task_result *res)
{
    ctx_t *c = p;
    c->runs[task]++;
    struct timespec ts = {0, (long)c->cost_ms[task] * 1000000L};
    nanosleep(&ts, NULL);
    res->status = task % 17 == 5 ? 2 : 1; /* a few task-level failures */
    if (res->status == 2) snprintf(res->msg, sizeof res->msg, "task %d failed on purpose", task);
    res->seconds = (float)c->cost_ms[task] / 1000.0f;
    return SS_OK;
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    ctx_t c;
    memset(&c, 0, sizeof c);
    c.rank = rank;
    int8_t todo[N_TASKS];
    int group[N_TASKS];
    int total_cost = 0, max_cost = 0, n_todo = 0, expect_failed = 0;
    for (int t = 0; t < N_TASKS; t++) {
        group[t] = t / (N_TASKS / N_GROUPS); /* 20 tasks per group, grid order */
        c.cost_ms[t] = t % 10 == 0 ? 120 : 4; /* every 10th task is 30x as expensive */
        todo[t] = t % 7 != 3;                 /* some tasks are "already done" */
        if (todo[t]) {
            total_cost += c.cost_ms[t];
            if (c.cost_ms[t] > max_cost) max_cost = c.cost_ms[t];
            n_todo++;
            expect_failed += t % 17 == 5;
        }
    }

    ss_sched_options opt = {.policy = SS_SCHED_DYNAMIC, .progress = SS_PROGRESS_NONE, .task_group = group,
                            .n_groups = N_GROUPS};
    ss_sched_stats stats;
    double t0 = MPI_Wtime();
    ss_status st = ss_sched_run(MPI_COMM_WORLD, N_TASKS, todo, &opt, fake_task, &c, &stats);
    double wall = MPI_Wtime() - t0;
    CHECK(st == SS_OK);

    int runs[N_TASKS];
    MPI_Reduce(c.runs, runs, N_TASKS, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        for (int t = 0; t < N_TASKS; t++)
            CHECK_MSG(runs[t] == (todo[t] ? 1 : 0), "task %d ran %d times (todo=%d)", t, runs[t], todo[t]);
        CHECK(stats.n_tasks == n_todo);
        CHECK(stats.n_done + stats.n_failed == n_todo);
        CHECK(stats.n_failed == expect_failed);
        for (int i = 0; i < stats.n_failed; i++) CHECK(strstr(stats.failed_msg[i], "failed on purpose") != NULL);
        int sum = 0;
        for (int r = 0; r < size; r++) sum += stats.tasks_per_rank[r];
        CHECK(sum == n_todo);
        /* Affinity: with G groups and W workers, a rank switches group only when its group runs dry. */
        CHECK_MSG(stats.group_switches <= N_GROUPS + 2 * size, "%d group switches", stats.group_switches);
        int workers = stats.rank0_computes ? size : size - 1;
        /* Dynamic balance: the makespan stays near total/W + one long task (generous slack for a loaded CI box). */
        double bound = (double)total_cost / workers / 1000.0 + max_cost / 1000.0 + 0.5;
        CHECK_MSG(wall < bound, "wall %.3f s exceeds bound %.3f s (total %d ms on %d workers)", wall, bound,
                  total_cost, workers);
        printf("ranks=%d workers=%d tasks=%d wall=%.3fs ideal=%.3fs switches=%d coord=%.1fus/task msgs=%ld\n", size,
               workers, n_todo, wall, (double)total_cost / workers / 1000.0, stats.group_switches,
               1e6 * stats.coord_seconds / (stats.n_messages > 0 ? stats.n_messages : 1), stats.n_messages);
    }
    ss_sched_stats_free(&stats);

    /* Static policy: also runs everything exactly once. */
    memset(c.runs, 0, sizeof c.runs);
    opt.policy = SS_SCHED_STATIC;
    st = ss_sched_run(MPI_COMM_WORLD, N_TASKS, todo, &opt, fake_task, &c, &stats);
    CHECK(st == SS_OK);
    MPI_Reduce(c.runs, runs, N_TASKS, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (int t = 0; t < N_TASKS; t++) CHECK_MSG(runs[t] == (todo[t] ? 1 : 0), "static: task %d ran %d times", t, runs[t]);
    ss_sched_stats_free(&stats);

    int fails = g_test_failures, all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Finalize();
    return all ? 1 : 0;
}
