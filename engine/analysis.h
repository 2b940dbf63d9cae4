/* analysis.h: the analysis registry. An analysis type declares its parameters and the datasets it
 * writes per task, then computes them from one forward-pass capture. New analyses plug in by adding
 * an entry to the registry in analysis.c; nothing else changes. */
#ifndef SS_ANALYSIS_H
#define SS_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "status.h"
#include "sweep.h"

typedef struct {
    const char *name;
    ss_param_type type;
    double min, max;           /* inclusive range for INT/FLOAT/each list element */
    int min_exclusive, max_exclusive;
    const char *default_value; /* YAML text of the default, e.g. "[0.3]", "4" */
    const char *doc;
} ss_param_decl;

typedef enum { SS_DT_F32 = 0, SS_DT_I32 } ss_dtype;

#define SS_MAX_RANK 4
/* One dataset written per task: the results file holds it with a leading task-row dimension. */
typedef struct {
    char name[48];
    ss_dtype dtype;
    int rank;                  /* per-task rank (not counting the row dimension) */
    int64_t dims[SS_MAX_RANK];
    char units[32];
    char doc[256];
} ss_dataset_decl;

/* The model-side sizes an analysis needs to size its datasets before anything runs. */
typedef struct {
    int n_layers, n_heads, max_tokens, causal;
} ss_model_dims;

typedef struct {
    const char *type;          /* the name used in the YAML `type:` field */
    const char *doc;
    const ss_param_decl *params;
    int n_params;
    /* Fills up to SS_MAX_DATASETS declarations. */
    ss_status (*declare)(const ss_analysis_spec *spec, const ss_model_dims *dims, ss_dataset_decl *out, int *n_out);
    /* Computes one task. bufs[i] points to a buffer of decl i's per-task size and dtype, pre-filled
     * with NaN (f32) or -1 (i32); entries beyond the capture's token count must be left so.
     * dims are the same as given to declare (dims->max_tokens is the padded length). */
    ss_status (*compute)(const ss_analysis_spec *spec, const ss_model_dims *dims, const ss_capture *cap, void **bufs);
    /* 1: compute also works from the attention summaries alone (capture.h: attn NULL, col_mean and alpha set), so
     * a task whose analyses all say so keeps its attention maps on the device (model.h
     * ss_model_set_attn_summaries). The results are the same either way. */
    int attn_summary_ok;
} ss_analysis_type;

#define SS_MAX_DATASETS 16

const ss_analysis_type *ss_analysis_find(const char *type);
/* For "did you mean": the registry as a NULL-terminated list. */
const ss_analysis_type *const *ss_analysis_all(void);

size_t ss_dataset_elems(const ss_dataset_decl *d);
/* Fills one declaration: rank dims (unused trailing dims ignored). */
void ss_decl(ss_dataset_decl *d, const char *name, ss_dtype t, const char *units, const char *doc, int rank, int64_t d0,
             int64_t d1, int64_t d2);
/* The numeric value of a declared INT or FLOAT parameter (filled with its default by the parser). */
double ss_param_num(const ss_analysis_spec *spec, const char *name);
/* Checks a capture before any analysis reads it: its sizes against dims, and every attention row a
 * probability vector (finite, >= 0, summing to 1 within SS_ROW_SUM_TOLERANCE). NaN attention would
 * otherwise read as "no sink" (NaN > eps is false) and a top key at 0. SS_ERR_RANGE / SS_ERR_FORMAT with
 * the layer, head and row. */
#define SS_ROW_SUM_TOLERANCE 1e-4
ss_status ss_capture_validate(const ss_capture *cap, const ss_model_dims *dims);
/* Abar [T][T] = the mean over heads of layer l's attention (the authors' Ā). */
void ss_capture_head_mean(const ss_capture *cap, int l, float *Abar);
size_t ss_dataset_dtype_size(ss_dtype t);

#endif
