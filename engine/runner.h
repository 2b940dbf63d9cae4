/* runner.h: runs one task on this rank: prompt -> tokens -> forward pass -> analyses -> results file.
 * Holds the rank's loaded model between tasks (one model at a time; the scheduler keeps tasks of a
 * model together). */
#ifndef SS_RUNNER_H
#define SS_RUNNER_H

#include "plan.h"
#include "backend.h"
#include "results.h"
#include "scheduler.h"

typedef struct ss_runner ss_runner;

ss_status ss_runner_new(const ss_plan *plan, ss_results *res, int rank, ss_runner **out);
/* An ss_task_fn: task-level failures (a prompt too long, a model that does not load) are recorded
 * in the results file as failed; only internal errors (memory, HDF5 writes) are returned. */
ss_status ss_runner_task(void *runner, int task, ss_task_result *res);
int ss_runner_models_loaded(const ss_runner *r); /* how many times this rank loaded a model */
/* The backend this rank's forward passes run on, and its device (backend.h; default: the CPU). A model that
 * cannot be placed on it (device memory) runs on the CPU, said once on stderr. */
void ss_runner_set_backend(ss_runner *r, const ss_backend *be, int device);
void ss_runner_free(ss_runner *r);

#endif
