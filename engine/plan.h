/* plan.h: the expanded task grid of a sweep.
 *
 * Grid order: model (slowest), prompts, encoding, then prompt index (fastest). Task ids are the
 * positions in that order and are stable for a given sweep; they index /tasks in the results file.
 * Every task runs every analysis of the sweep on one forward pass. */
#ifndef SS_PLAN_H
#define SS_PLAN_H

#include "model/model.h"

enum { SS_WEIGHT_TYPES_LEN = 160 };
#include "prompts.h"
#include "status.h"
#include "sweep.h"

typedef struct {
    int model;        /* index into sweep->models */
    int prompts;      /* index into sweep->prompts */
    int encoding;     /* index into sweep->encodings */
    int prompt_index; /* index within the prompt set */
    int row;          /* row of this task in its model's /results datasets */
} ss_task;

typedef struct {
    const ss_sweep *sweep;
    ss_model_info *model_info;  /* [n_models] from config.json */
    int *model_max_tokens;      /* [n_models] the sweep's max_tokens, or the model's limit when 0 */
    int *model_rows;            /* [n_models] number of tasks per model */
    char (*model_hash)[65];     /* [n_models] sha256 hex; "" until ss_plan_hash_models */
    char (*model_weights)[SS_WEIGHT_TYPES_LEN]; /* [n_models] stored tensor types, "Q4_K 121, Q6_K 13, F32 55"
                                                 * (the source quantisation, C7); "" until ss_plan_check_models */
    ss_prompt_set **prompt_sets; /* [n_prompts] */
    char (*prompts_hash)[65];   /* [n_prompts] sha256 of the prompt texts and generator settings */
    ss_task *tasks;             /* [n_tasks] in grid order */
    int n_tasks;
    int max_tokens_all;         /* max over models of model_max_tokens */
    char fingerprint[65];       /* set by ss_plan_fingerprint */
} ss_plan;

/* Probes every model's config and opens every prompt set; expands the grid. */
ss_status ss_plan_build(const ss_sweep *s, ss_plan **out);
/* Hashes every model's files (slow for big weights: do it on one rank and broadcast). */
ss_status ss_plan_hash_models(ss_plan *p);
/* Loads every model of the sweep once (weights, tokenizer, their agreement) and frees it, so that a
 * bad model fails the run before any results file is touched. SS_ERR_INPUT with "FILE:LINE:COL:
 * model 'NAME': <why>" (the model's entry in the sweep) on the first that does not load. */
ss_status ss_plan_check_models(ss_plan *p);
/* sha256 over everything that decides the results: model hashes, BOS policies, max_tokens,
 * prompt contents and generator settings, encodings, analyses and their parameters. Comments,
 * the sweep name, output path, threads and backend do not enter it. */
ss_status ss_plan_fingerprint(ss_plan *p);
/* Bytes the results file allocates up front: per-task records, token ids padded to the longest
 * max_tokens, and every analysis dataset (padded to its model's max_tokens). */
double ss_plan_file_bytes(const ss_plan *p);
/* Prints the launch table (#id : model=.. prompts=.. encoding=.. prompt=..) and counts. */
void ss_plan_print(const ss_plan *p, void *stream /* FILE* */, int max_rows);
void ss_plan_free(ss_plan *p);

#endif
