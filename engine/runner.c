/* runner.c: one task, end to end, on the rank that was given it. */
#include "runner.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault.h"

struct ss_runner {
    const ss_plan *plan;
    ss_results *res;
    int rank;
    ss_model *model;      /* the loaded model, or NULL */
    int model_idx;        /* its index, -1 none */
    int model_failed;     /* 1: model_idx failed to load; model_err says why */
    char model_err[SS_MSG_LEN];
    int n_loads;
    int32_t *ids;         /* [max_tokens_all] */
    void **bufs;          /* [n_analyses * SS_MAX_DATASETS] per-task output buffers */
    size_t *buf_cap;      /* bytes allocated per buffer */
    void *const **by_analysis; /* [n_analyses] -> &bufs[a * SS_MAX_DATASETS], for ss_task_record */
    const ss_backend *be; /* where the forward passes run (NULL: the CPU) */
    int device;           /* be's device for this rank */
    int be_warned;        /* 1 once a model could not be placed on be (said once) */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

ss_status ss_runner_new(const ss_plan *plan, ss_results *res, int rank, ss_runner **out)
{
    ss_runner *r = calloc(1, sizeof *r);
    const size_t nb = (size_t)plan->sweep->n_analyses * SS_MAX_DATASETS;
    if (!r) return ss_fail(SS_ERR_NOMEM, "out of memory");
    r->plan = plan;
    r->res = res;
    r->rank = rank;
    r->model_idx = -1;
    r->ids = malloc((size_t)(plan->max_tokens_all > 0 ? plan->max_tokens_all : 1) * sizeof *r->ids);
    r->bufs = calloc(nb, sizeof *r->bufs);
    r->buf_cap = calloc(nb, sizeof *r->buf_cap);
    r->by_analysis = calloc((size_t)(plan->sweep->n_analyses > 0 ? plan->sweep->n_analyses : 1), sizeof *r->by_analysis);
    if (!r->ids || !r->bufs || !r->buf_cap || !r->by_analysis) {
        ss_runner_free(r);
        return ss_fail(SS_ERR_NOMEM, "out of memory");
    }
    for (int a = 0; a < plan->sweep->n_analyses; a++) r->by_analysis[a] = &r->bufs[(size_t)a * SS_MAX_DATASETS];
    *out = r;
    return SS_OK;
}

int ss_runner_models_loaded(const ss_runner *r) { return r->n_loads; }

void ss_runner_free(ss_runner *r)
{
    if (!r) return;
    ss_model_free(r->model);
    ss_capture_release_cache(); /* the arena kept between this rank's tasks */
    if (r->bufs)
        for (size_t i = 0; i < (size_t)r->plan->sweep->n_analyses * SS_MAX_DATASETS; i++) free(r->bufs[i]);
    free(r->bufs);
    free(r->buf_cap);
    free(r->by_analysis);
    free(r->ids);
    free(r);
}

/* Makes model m the loaded one. A load failure is remembered, so the rank does not retry it per task. */
static void ensure_model(ss_runner *r, int m)
{
    if (r->model_idx == m) return;
    ss_model_free(r->model);
    r->model = NULL;
    r->model_idx = m;
    r->model_failed = 0;
    const ss_model_spec *ms = &r->plan->sweep->models[m];
    ss_status st = ss_model_load(ms->resolved_path, &r->model);
    r->n_loads++;
    if (st != SS_OK) {
        r->model_failed = 1;
        snprintf(r->model_err, sizeof r->model_err, "model '%s' failed to load: %s", ms->name, ss_errmsg());
        r->model = NULL;
        return;
    }
    if (r->be && ss_model_set_backend(r->model, r->be) != SS_OK && !r->be_warned) {
        r->be_warned = 1;
        fprintf(stderr, "[sinkscope] rank %d: model '%s' stays on the CPU: %s\n", r->rank, ms->name, ss_errmsg());
    }
}

void ss_runner_set_backend(ss_runner *r, const ss_backend *be, int device)
{
    r->be = be;
    r->device = device;
}

/* Task-level error classes: recorded as a failed task, and the sweep goes on. Out of memory is one
 * too: a single oversized prompt must not abort every rank on every re-run. Others (HDF5 writes,
 * internal errors) are fatal for the rank. */
static int task_level(ss_status st)
{
    return st == SS_ERR_RANGE || st == SS_ERR_INPUT || st == SS_ERR_FORMAT || st == SS_ERR_IO || st == SS_ERR_NOMEM;
}


ss_status ss_runner_task(void *rp, int task, ss_task_result *out)
{
    ss_runner *r = rp;
    const ss_plan *p = r->plan;
    const ss_sweep *s = p->sweep;
    const ss_task *tk = &p->tasks[task];
    const ss_model_spec *ms = &s->models[tk->model];
    ss_capture cap;
    memset(&cap, 0, sizeof cap);
    ss_status st = SS_OK;
    double t0 = now_s();
    int n = 0;
    out->status = SS_TASK_FAILED;
    out->msg[0] = '\0';

    if (r->be && ss_backend_bind(r->be, r->device) != SS_OK) return SS_ERR_INTERNAL; /* this thread on the device */
    ss_fault_maybe(task); /* test hook: SINKSCOPE_FAULT */
    if (ss_fault_fail(task)) {
        snprintf(out->msg, sizeof out->msg, "injected failure (SINKSCOPE_FAULT)");
        goto record;
    }

    ensure_model(r, tk->model);
    if (r->model_failed) {
        snprintf(out->msg, sizeof out->msg, "%s", r->model_err);
        goto record;
    }
    const ss_encoding_spec *enc = &s->encodings[tk->encoding];
    st = ss_model_set_encoding(r->model, enc);
    if (st == SS_ERR_UNSUPPORTED) { /* the ablation does not apply to this model: skipped, with the reason */
        out->status = SS_TASK_SKIPPED;
        snprintf(out->msg, sizeof out->msg, "%s", ss_errmsg());
        st = SS_OK;
        goto record;
    }
    if (st != SS_OK) {
        snprintf(out->msg, sizeof out->msg, "%s", ss_errmsg());
        st = SS_OK;
        goto record;
    }
    /* The encoding's bos: on|off overrides the model's BOS policy. */
    const ss_bos_policy bos = enc->bos < 0 ? ms->bos : enc->bos ? SS_BOS_ADD : SS_BOS_NONE;
    st = ss_prompts_tokens(p->prompt_sets[tk->prompts], tk->prompt_index, r->model, bos, p->model_max_tokens[tk->model],
                           ms->truncate, r->ids, &n);
    if (st == SS_OK) {
        /* On a device, the attention maps stay there when every analysis reads only their summaries. */
        int summaries = 1;
        for (int a = 0; a < s->n_analyses; a++) summaries &= ss_analysis_find(s->analyses[a].type)->attn_summary_ok;
        ss_model_set_attn_summaries(r->model, summaries);
        st = ss_model_forward(r->model, r->ids, n, &cap);
    }
    ss_model_dims dims = ss_results_dims(r->res, tk->model);
    if (st == SS_OK) st = ss_capture_validate(&cap, &dims);
    if (st == SS_OK) {
        for (int a = 0; a < s->n_analyses && st == SS_OK; a++) {
            int nd = 0;
            const ss_dataset_decl *decl = ss_results_decls(r->res, tk->model, a, &nd);
            void **bufs = &r->bufs[(size_t)a * SS_MAX_DATASETS];
            size_t *caps = &r->buf_cap[(size_t)a * SS_MAX_DATASETS];
            for (int k = 0; k < nd; k++) {
                size_t ne = ss_dataset_elems(&decl[k]), bytes = ne * ss_dataset_dtype_size(decl[k].dtype);
                if (caps[k] < bytes) {
                    void *nb = realloc(bufs[k], bytes);
                    if (!nb) {
                        st = ss_fail(SS_ERR_NOMEM, "out of memory for the outputs of analysis '%s' (%zu bytes)",
                                     s->analyses[a].name, bytes);
                        break;
                    }
                    bufs[k] = nb;
                    caps[k] = bytes;
                }
                if (decl[k].dtype == SS_DT_F32)
                    for (size_t i = 0; i < ne; i++) ((float *)bufs[k])[i] = NAN;
                else
                    for (size_t i = 0; i < ne; i++) ((int32_t *)bufs[k])[i] = -1;
            }
            if (st != SS_OK) break;
            st = ss_analysis_find(s->analyses[a].type)->compute(&s->analyses[a], &dims, &cap, bufs);
            if (st != SS_OK) ss_wrap(st, "analysis '%s'", s->analyses[a].name);
        }
    }
    if (st == SS_OK) {
        out->status = SS_TASK_DONE;
    } else if (st == SS_ERR_UNSUPPORTED) {
        /* an analysis that does not apply to this model (fisher on an encoder, or on an architecture without a
         * backward pass): the task is skipped with the reason, as for an encoding that does not apply */
        out->status = SS_TASK_SKIPPED;
        snprintf(out->msg, sizeof out->msg, "%s", ss_errmsg());
        st = SS_OK;
    } else if (task_level(st)) {
        snprintf(out->msg, sizeof out->msg, "%s", ss_errmsg());
        st = SS_OK;
    } else {
        goto fatal;
    }

record:
    out->seconds = (float)(now_s() - t0);
    out->n_tokens = n;
    {
        ss_task_record rec = {task, out->status, r->rank, out->seconds, n, n > 0 ? r->ids : NULL,
                              out->status != SS_TASK_DONE ? out->msg : NULL, (void *const *const *)r->by_analysis};
        st = ss_results_write_task(r->res, &rec);
    }
fatal:
    ss_capture_free(&cap);
    return st;
}
