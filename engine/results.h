/* results.h: the sweep's one results file, written in parallel through MPI-IO.
 *
 * Every group, dataset and attribute is created collectively up front from the plan; after that
 * each rank writes the rows of the tasks it computed with independent raw-data writes, which touch
 * no HDF5 metadata, so killing a run at any moment cannot corrupt finished results. A task's
 * status is written after its data: status 1 means its rows are complete. Layout: schemas/results.md. */
#ifndef SS_RESULTS_H
#define SS_RESULTS_H

#include <mpi.h>
#include <stdint.h>

#include "analysis.h"
#include "plan.h"
#include "status.h"

enum { SS_TASK_PENDING = 0, SS_TASK_DONE = 1, SS_TASK_FAILED = 2, SS_TASK_SKIPPED = 3 };
/* done and skipped are final (resume keeps them); pending and failed are run again. */
#define SS_RESULTS_FORMAT "sinkscope-results"
#define SS_RESULTS_FORMAT_VERSION 1
#define SS_ERROR_LEN 256 /* fixed length of /tasks/error strings */

typedef struct ss_results ss_results;

typedef struct {
    int force;          /* replace a file that holds another sweep (the old file is renamed, not deleted) */
} ss_results_options;

/* Collective. Creates the file for this plan, or reopens it for resume after checking its
 * fingerprint. status_out: [n_tasks] status of every task as found in the file (all pending for
 * a new file); caller frees. */
ss_status ss_results_open(const char *path, const ss_plan *plan, MPI_Comm comm, const ss_results_options *opt,
                          ss_results **out, int8_t **status_out);

/* The datasets analysis a writes for tasks of model m (their per-task shapes). */
const ss_dataset_decl *ss_results_decls(const ss_results *r, int model, int analysis, int *n);
ss_model_dims ss_results_dims(const ss_results *r, int model);

typedef struct {
    int task;              /* task id */
    int8_t status;         /* SS_TASK_DONE, SS_TASK_FAILED or SS_TASK_SKIPPED */
    int rank;
    float seconds;
    int n_tokens;          /* 0 when unknown (failed before tokenizing) */
    const int32_t *tokens; /* [n_tokens] or NULL */
    const char *error;     /* failed tasks: the message; skipped tasks: the reason */
    void *const *const *bufs; /* done tasks: bufs[a][d], one buffer per analysis a and dataset d */
} ss_task_record;

/* Independent (any rank, any time between open and close): data first, then the status. */
ss_status ss_results_write_task(ss_results *r, const ss_task_record *rec);

/* Collective. */
ss_status ss_results_close(ss_results *r);

/* Serial helpers, for any process (rank 0 before a run, tests, report). */
typedef struct {
    int exists, is_results;
    int regular;           /* 1: a regular file (not a directory, FIFO, device) */
    int is_hdf5, openable; /* an HDF5 file; and one that HDF5 could open (not locked or damaged) */
    char fingerprint[65];
    char sweep_name[128];
    int n_tasks;
} ss_results_probe_info;
ss_status ss_results_probe(const char *path, ss_results_probe_info *info);

#endif
