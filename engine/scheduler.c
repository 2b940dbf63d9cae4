/* scheduler.c: dynamic task distribution from rank 0, with model affinity, and the progress line. */
#include "scheduler.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

enum { TAG_REQUEST = 11, TAG_TASK = 12 };

/* A worker's request: the result of its previous task (task = -1 on the first request). */
typedef struct {
    int task;
    int stop;          /* the signal this rank received (0: none): no more tasks for anyone */
    ss_task_result res;
} request_msg;

typedef struct {
    pthread_mutex_t mu;
    int size;
    const ss_sched_options *opt;
    /* queues: per group (dynamic) or per rank (static), each a FIFO of task ids in grid order */
    int n_queues;
    int **queue;     /* [n_queues][len] */
    int *qlen, *qhead;
    int *current;    /* [size] group of the last task given to each rank, -1 none */
    int *ranks_on;   /* [n_queues] ranks whose current group is this queue */
    int in_flight;
    int handed;      /* tasks handed out so far */
    int stopping;    /* a stop was requested: choose() hands out nothing more */
    ss_progress progress;
    ss_sched_stats *stats;
} coordinator;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int queue_left(const coordinator *c, int q) { return c->qlen[q] - c->qhead[q]; }

/* Picks the next task for `rank`, or -1 when none is left (or the run is stopping). Caller holds the mutex. */
static int choose(coordinator *c, int rank)
{
    if (c->stopping) return -1;
    if (c->opt->policy == SS_SCHED_STATIC) {
        int q = rank;
        return queue_left(c, q) > 0 ? c->queue[q][c->qhead[q]++] : -1;
    }
    int cur = c->current[rank];
    if (cur >= 0 && queue_left(c, cur) > 0) return c->queue[cur][c->qhead[cur]++];
    /* Switch: the group with the most work left per rank already on it. */
    int best = -1;
    double best_score = 0;
    for (int q = 0; q < c->n_queues; q++) {
        int left = queue_left(c, q);
        if (left == 0) continue;
        double score = (double)left / (double)(1 + c->ranks_on[q]);
        if (best < 0 || score > best_score) {
            best = q;
            best_score = score;
        }
    }
    if (best < 0) return -1;
    if (cur >= 0) {
        c->ranks_on[cur]--;
        c->stats->group_switches++;
    }
    c->current[rank] = best;
    c->ranks_on[best]++;
    return c->queue[best][c->qhead[best]++];
}

/* Records a finished task and returns the next one for that rank. */
static int handle(coordinator *c, int rank, const request_msg *req)
{
    pthread_mutex_lock(&c->mu);
    ss_sched_stats *s = c->stats;
    int sig = req->stop, from = rank;
    if (!sig && c->opt->stop && *c->opt->stop) sig = *c->opt->stop, from = 0; /* rank 0's own flag */
    if (sig && !c->stopping) {
        c->stopping = 1;
        s->stop_signal = sig;
        s->stop_rank = from;
        if (c->handed < s->n_tasks)
            fprintf(stderr, "\n[sinkscope] rank %d received signal %d (%s): no more tasks are handed out; every rank "
                            "finishes its current task, then the results file is closed\n",
                    from, sig, strsignal(sig));
    }
    if (req->task >= 0) {
        c->in_flight--;
        if (req->res.status == 2) {
            s->failed[s->n_failed] = req->task;
            memcpy(s->failed_msg[s->n_failed], req->res.msg, SS_MSG_LEN);
            s->failed_msg[s->n_failed][SS_MSG_LEN - 1] = '\0';
            s->n_failed++;
        } else if (req->res.status == 3) {
            s->skipped[s->n_skipped] = req->task;
            memcpy(s->skipped_msg[s->n_skipped], req->res.msg, SS_MSG_LEN);
            s->skipped_msg[s->n_skipped][SS_MSG_LEN - 1] = '\0';
            s->n_skipped++;
        } else {
            s->n_done++;
        }
        s->tasks_per_rank[rank]++;
        ss_progress_update(&c->progress, s->n_done + s->n_failed + s->n_skipped, s->n_failed, 0);
    }
    int next = choose(c, rank);
    if (next >= 0) c->in_flight++, c->handed++;
    s->n_messages++;
    pthread_mutex_unlock(&c->mu);
    return next;
}

typedef struct {
    coordinator *c;
    MPI_Comm comm;
    int remote_workers;
    ss_status st;
} coord_thread_arg;

static void *coordinator_main(void *argp)
{
    coord_thread_arg *a = argp;
    coordinator *c = a->c;
    int active = a->remote_workers;
    request_msg req;
    MPI_Request mr;
    MPI_Irecv(&req, sizeof req, MPI_BYTE, MPI_ANY_SOURCE, TAG_REQUEST, a->comm, &mr);
    long idle = 0;
    while (active > 0) {
        int flag = 0;
        MPI_Status ms;
        MPI_Test(&mr, &flag, &ms);
        if (!flag) {
            /* Back off from 20 us to 1 ms while idle: quick replies without burning a core. */
            struct timespec ts = {0, idle < 50 ? 20000L : 1000000L};
            nanosleep(&ts, NULL);
            idle++;
            if ((idle & 255) == 0) {
                pthread_mutex_lock(&c->mu);
                ss_progress_update(&c->progress, c->stats->n_done + c->stats->n_failed + c->stats->n_skipped, c->stats->n_failed, 0);
                pthread_mutex_unlock(&c->mu);
            }
            continue;
        }
        idle = 0;
        double t0 = now_s();
        int next = handle(c, ms.MPI_SOURCE, &req);
        MPI_Send(&next, 1, MPI_INT, ms.MPI_SOURCE, TAG_TASK, a->comm);
        if (next < 0) active--;
        if (active > 0) MPI_Irecv(&req, sizeof req, MPI_BYTE, MPI_ANY_SOURCE, TAG_REQUEST, a->comm, &mr);
        pthread_mutex_lock(&c->mu);
        c->stats->coord_seconds += now_s() - t0; /* choosing + the reply */
        pthread_mutex_unlock(&c->mu);
    }
    return NULL;
}

static void hard_failure(MPI_Comm comm, int rank, int task, ss_status st)
{
    fprintf(stderr, "sinkscope: rank %d: fatal error in task %d (%s): %s\n", rank, task, ss_status_name(st),
            ss_errmsg());
    fflush(stderr);
    MPI_Abort(comm, 3);
}

static int run_one(MPI_Comm comm, int rank, int task, ss_task_fn fn, void *ctx, request_msg *req)
{
    memset(req, 0, sizeof *req);
    req->task = task;
    ss_status st = fn(ctx, task, &req->res);
    if (st != SS_OK) hard_failure(comm, rank, task, st);
    return 0;
}

/* The signal this process received (0: none), to pass on to the coordinator. */
static int stop_of(const ss_sched_options *opt) { return opt->stop ? (int)*opt->stop : 0; }

static ss_status coordinator_init(coordinator *c, int size, int n_tasks, const int8_t *todo,
                                  const ss_sched_options *opt, ss_sched_stats *stats, int rank0_computes)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    c->size = size;
    c->opt = opt;
    c->stats = stats;
    c->n_queues = opt->policy == SS_SCHED_STATIC ? size : (opt->task_group && opt->n_groups > 0 ? opt->n_groups : 1);
    c->queue = calloc((size_t)c->n_queues, sizeof *c->queue);
    c->qlen = calloc((size_t)c->n_queues, sizeof *c->qlen);
    c->qhead = calloc((size_t)c->n_queues, sizeof *c->qhead);
    c->current = malloc((size_t)size * sizeof *c->current);
    c->ranks_on = calloc((size_t)c->n_queues, sizeof *c->ranks_on);
    if (!c->queue || !c->qlen || !c->qhead || !c->current || !c->ranks_on) return ss_fail(SS_ERR_NOMEM, "out of memory");
    for (int r = 0; r < size; r++) c->current[r] = -1;
    int first_worker = rank0_computes ? 0 : 1, n_workers = size - first_worker, k = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int q = 0; q < c->n_queues; q++) c->qlen[q] = 0;
        k = 0;
        for (int t = 0; t < n_tasks; t++) {
            if (!todo[t]) continue;
            int q = opt->policy == SS_SCHED_STATIC ? first_worker + (k % n_workers) : (opt->task_group ? opt->task_group[t] : 0);
            if (pass == 1) c->queue[q][c->qlen[q]] = t;
            c->qlen[q]++;
            k++;
        }
        if (pass == 0)
            for (int q = 0; q < c->n_queues; q++) {
                c->queue[q] = malloc((size_t)(c->qlen[q] > 0 ? c->qlen[q] : 1) * sizeof(int));
                if (!c->queue[q]) return ss_fail(SS_ERR_NOMEM, "out of memory");
            }
    }
    stats->n_tasks = k;
    stats->failed = malloc((size_t)(k > 0 ? k : 1) * sizeof *stats->failed);
    stats->failed_msg = malloc((size_t)(k > 0 ? k : 1) * sizeof *stats->failed_msg);
    stats->skipped = malloc((size_t)(k > 0 ? k : 1) * sizeof *stats->skipped);
    stats->skipped_msg = malloc((size_t)(k > 0 ? k : 1) * sizeof *stats->skipped_msg);
    stats->tasks_per_rank = calloc((size_t)size, sizeof *stats->tasks_per_rank);
    if (!stats->failed || !stats->failed_msg || !stats->skipped || !stats->skipped_msg || !stats->tasks_per_rank) return ss_fail(SS_ERR_NOMEM, "out of memory");
    ss_progress_init(&c->progress, opt->progress, opt->progress_interval, k, opt->n_done_before);
    return SS_OK;
}

static void coordinator_free(coordinator *c)
{
    if (c->queue)
        for (int q = 0; q < c->n_queues; q++) free(c->queue[q]);
    free(c->queue);
    free(c->qlen);
    free(c->qhead);
    free(c->current);
    free(c->ranks_on);
    pthread_mutex_destroy(&c->mu);
}

ss_status ss_sched_run(MPI_Comm world, int n_tasks, const int8_t *todo, const ss_sched_options *opt, ss_task_fn fn,
                       void *ctx, ss_sched_stats *stats)
{
    /* A private communicator: messages of this run can never match those of an earlier or later one
     * (a rank that finished early may already be asking the next run for work). */
    MPI_Comm comm;
    MPI_Comm_dup(world, &comm);
    int rank, size, thread_level = MPI_THREAD_SINGLE;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    MPI_Query_thread(&thread_level);
    memset(stats, 0, sizeof *stats);
    const int rank0_computes = size == 1 || thread_level == MPI_THREAD_MULTIPLE;
    stats->rank0_computes = rank0_computes;
    double t_start = now_s();
    ss_status st = SS_OK;
    request_msg req;

    if (rank == 0) {
        coordinator c;
        st = coordinator_init(&c, size, n_tasks, todo, opt, stats, rank0_computes);
        if (st != SS_OK) {
            fprintf(stderr, "sinkscope: %s\n", ss_errmsg());
            MPI_Abort(comm, 3);
        }
        pthread_t th;
        coord_thread_arg arg = {&c, comm, size - 1, SS_OK};
        int threaded = size > 1 && rank0_computes;
        if (threaded && pthread_create(&th, NULL, coordinator_main, &arg) != 0) {
            fprintf(stderr, "sinkscope: cannot start the coordinator thread\n");
            MPI_Abort(comm, 3);
        }
        if (rank0_computes) {
            memset(&req, 0, sizeof req);
            req.task = -1;
            for (;;) {
                double t0 = now_s();
                int next = handle(&c, 0, &req);
                pthread_mutex_lock(&c.mu);
                stats->coord_seconds += now_s() - t0;
                pthread_mutex_unlock(&c.mu);
                if (next < 0) break;
                run_one(comm, 0, next, fn, ctx, &req);
            }
        }
        if (threaded) pthread_join(th, NULL);
        else if (size > 1) coordinator_main(&arg); /* coordinator only */
        stats->wall_seconds = now_s() - t_start;
        stats->n_left = c.stopping ? stats->n_tasks - c.handed : 0;
        if (stats->n_left == 0) stats->stop_signal = 0; /* a signal after the last task changed nothing */
        ss_progress_finish(&c.progress, stats->n_done + stats->n_failed + stats->n_skipped, stats->n_failed);
        coordinator_free(&c);
    } else {
        memset(&req, 0, sizeof req);
        req.task = -1;
        for (;;) {
            int next;
            req.stop = stop_of(opt);
            MPI_Send(&req, sizeof req, MPI_BYTE, 0, TAG_REQUEST, comm);
            MPI_Recv(&next, 1, MPI_INT, 0, TAG_TASK, comm, MPI_STATUS_IGNORE);
            if (next < 0) break;
            run_one(comm, rank, next, fn, ctx, &req);
        }
        stats->wall_seconds = now_s() - t_start;
    }
    MPI_Comm_free(&comm);
    return st;
}

void ss_sched_stats_free(ss_sched_stats *s)
{
    free(s->failed);
    free(s->failed_msg);
    free(s->skipped);
    free(s->skipped_msg);
    free(s->tasks_per_rank);
    memset(s, 0, sizeof *s);
}
