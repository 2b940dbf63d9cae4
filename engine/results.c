/* results.c: creates, reopens and writes the parallel HDF5 results file (layout: schemas/results.md). */
#include "results.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5attr.h"
#include "model/model.h"

typedef struct {
    hid_t dset[SS_MAX_DATASETS];
    ss_dataset_decl decl[SS_MAX_DATASETS];
    int n;
} an_sets; /* the datasets of one (model, analysis) */

struct ss_results {
    const ss_plan *plan;
    hid_t file, dxpl_ind;
    hid_t d_status, d_rank, d_seconds, d_ntok, d_error, d_tokens;
    an_sets *an; /* [n_models][n_analyses] */
    ss_model_dims *dims; /* [n_models] */
    int max_tokens;
};

#define HCHECK(expr, what)                                                                           \
    do {                                                                                              \
        if ((expr) < 0) {                                                                             \
            st = ss_fail(SS_ERR_HDF5, "%s: HDF5 failed to %s", path, what);                         \
            goto done;                                                                                \
        }                                                                                             \
    } while (0)

/* ------------------------------------------------------------------ small HDF5 helpers */





/* Creates a dataset [dims] of type t with a fill value, storage allocated at creation. */
static hid_t make_dset(hid_t loc, const char *name, hid_t t, int rank, const hsize_t *dims, const void *fill)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC);
    if (fill) H5Pset_fill_value(dcpl, t, fill);
    hid_t d = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(sp);
    return d;
}

/* Writes v[0..n) into a 1-D dataset from rank 0 only (collective call, others select nothing). */
static herr_t write_1d_root(hid_t d, hid_t memtype, const void *v, hsize_t n, int rank)
{
    hid_t fs = H5Dget_space(d);
    hid_t ms = H5Screate_simple(1, &n, NULL);
    hid_t x = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE);
    if (rank != 0) {
        H5Sselect_none(fs);
        H5Sselect_none(ms);
    }
    herr_t e = H5Dwrite(d, memtype, ms, fs, x, v);
    H5Pclose(x);
    H5Sclose(ms);
    H5Sclose(fs);
    return e;
}

static hid_t string_type(size_t n)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, n);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    return t;
}

/* ------------------------------------------------------------------ creation */

static ss_status create_layout(const char *path, const ss_plan *p, MPI_Comm comm)
{
    ss_status st = SS_OK;
    const ss_sweep *s = p->sweep;
    int rank;
    MPI_Comm_rank(comm, &rank);
    hid_t fapl = -1, file = -1, g = -1, g2 = -1, g3 = -1, d = -1, t = -1;
    int32_t *col = NULL;

    char created[32] = "";
    if (rank == 0) {
        time_t now = time(NULL);
        strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    }
    MPI_Bcast(created, sizeof created, MPI_CHAR, 0, comm);

    fapl = H5Pcreate(H5P_FILE_ACCESS);
    HCHECK(H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL), "set the MPI-IO driver");
    file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (file < 0) {
        st = ss_fail(SS_ERR_IO, "%s: cannot create the results file", path);
        goto done;
    }
    HCHECK(ss_h5_put_str(file, "format", SS_RESULTS_FORMAT), "write attributes");
    HCHECK(ss_h5_put_int(file, "format_version", SS_RESULTS_FORMAT_VERSION), "write attributes");
    HCHECK(ss_h5_put_str(file, "sinkscope_version", SINKSCOPE_VERSION), "write attributes");
    HCHECK(ss_h5_put_str(file, "fingerprint", p->fingerprint), "write attributes");
    HCHECK(ss_h5_put_str(file, "sweep_name", s->name), "write attributes");
    HCHECK(ss_h5_put_str(file, "sweep_file", s->file), "write attributes");
    HCHECK(ss_h5_put_str(file, "created_utc", created), "write attributes");
    HCHECK(ss_h5_put_int(file, "n_tasks", p->n_tasks), "write attributes");
    HCHECK(ss_h5_put_str(file, "grid_order", "model > prompts > encoding > prompt_index (last fastest)"),
            "write attributes");
    HCHECK(ss_h5_put_str(file, "task_status_codes", "0 pending, 1 done, 2 failed, 3 skipped (does not apply)"), "write attributes");

    /* /sweep/yaml: the sweep text as given */
    g = H5Gcreate2(file, "sweep", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    HCHECK(g, "create /sweep");
    {
        size_t n = strlen(s->text) + 1;
        t = string_type(n);
        hid_t sp = H5Screate(H5S_SCALAR);
        d = H5Dcreate2(g, "yaml", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(sp);
        HCHECK(d, "create /sweep/yaml");
        hid_t x = H5Pcreate(H5P_DATASET_XFER);
        H5Pset_dxpl_mpio(x, H5FD_MPIO_COLLECTIVE);
        herr_t e = H5Dwrite(d, t, H5S_ALL, H5S_ALL, x, s->text);
        H5Pclose(x);
        HCHECK(e, "write /sweep/yaml");
        H5Dclose(d), d = -1;
        H5Tclose(t), t = -1;
    }
    H5Gclose(g), g = -1;

    /* /models/<name> */
    g = H5Gcreate2(file, "models", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    HCHECK(g, "create /models");
    for (int m = 0; m < s->n_models; m++) {
        const ss_model_info *mi = &p->model_info[m];
        g2 = H5Gcreate2(g, s->models[m].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        HCHECK(g2, "create a model group");
        int32_t pre[2], post[2];
        int npre = 0, npost = 0;
        ss_model_frame(mi, s->models[m].bos, pre, &npre, post, &npost);
        double pre_d[2] = {npre > 0 ? pre[0] : 0, npre > 1 ? pre[1] : 0};
        double post_d[2] = {npost > 0 ? post[0] : 0, npost > 1 ? post[1] : 0};
        ss_bos_policy eff = s->models[m].bos == SS_BOS_MODEL_DEFAULT ? mi->default_bos : s->models[m].bos;
        HCHECK(ss_h5_put_int(g2, "index", m), "write model attributes");
        HCHECK(ss_h5_put_str(g2, "path", s->models[m].resolved_path), "write model attributes");
        HCHECK(ss_h5_put_str(g2, "sha256", p->model_hash[m]), "write model attributes");
        HCHECK(ss_h5_put_str(g2, "weight_types", p->model_weights[m]), "write model attributes");
        if (mi->train[0]) HCHECK(ss_h5_put_str(g2, "train", mi->train), "write model attributes");
        HCHECK(ss_h5_put_str(g2, "architecture", mi->arch), "write model attributes");
        HCHECK(ss_h5_put_str(g2, "positional_encoding", mi->pos_encoding), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "causal", mi->causal), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "n_layers", mi->n_layers), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "n_heads", mi->n_heads), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "d_model", mi->d_model), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "n_vocab", mi->n_vocab), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "max_tokens", p->model_max_tokens[m]), "write model attributes");
        HCHECK(ss_h5_put_str(g2, "bos_policy", ss_bos_policy_name(s->models[m].bos)), "write model attributes");
        HCHECK(ss_h5_put_str(g2, "bos_policy_effective", ss_bos_policy_name(eff)), "write model attributes");
        HCHECK(ss_h5_put_doubles(g2, "frame_prefix_ids", pre_d, npre), "write model attributes");
        HCHECK(ss_h5_put_doubles(g2, "frame_suffix_ids", post_d, npost), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "bos_token_id", mi->bos_id), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "cls_token_id", mi->cls_id), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "sep_token_id", mi->sep_id), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "eos_token_id", mi->eos_id), "write model attributes");
        HCHECK(ss_h5_put_int(g2, "n_tasks", p->model_rows[m]), "write model attributes");
        H5Gclose(g2), g2 = -1;
    }
    H5Gclose(g), g = -1;

    /* /prompts/<name> */
    g = H5Gcreate2(file, "prompts", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    HCHECK(g, "create /prompts");
    static const char *kinds[] = {"file", "natural", "random", "repeated"};
    for (int q = 0; q < s->n_prompts; q++) {
        const ss_prompt_spec *ps = &s->prompts[q];
        g2 = H5Gcreate2(g, ps->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        HCHECK(g2, "create a prompt-set group");
        HCHECK(ss_h5_put_int(g2, "index", q), "write prompt attributes");
        HCHECK(ss_h5_put_str(g2, "kind", kinds[ps->kind]), "write prompt attributes");
        HCHECK(ss_h5_put_str(g2, "path", ps->resolved_path ? ps->resolved_path : ""), "write prompt attributes");
        HCHECK(ss_h5_put_str(g2, "field", ps->field ? ps->field : ""), "write prompt attributes");
        HCHECK(ss_h5_put_int(g2, "count", ss_prompts_count(p->prompt_sets[q])), "write prompt attributes");
        HCHECK(ss_h5_put_int(g2, "length", ps->length), "write prompt attributes");
        HCHECK(ss_h5_put_int(g2, "seed", (long long)ps->seed), "write prompt attributes");
        HCHECK(ss_h5_put_int(g2, "token_id", ps->token_id), "write prompt attributes");
        HCHECK(ss_h5_put_str(g2, "sha256", p->prompts_hash[q]), "write prompt attributes");
        H5Gclose(g2), g2 = -1;
    }
    H5Gclose(g), g = -1;

    /* /encodings/<name> */
    g = H5Gcreate2(file, "encodings", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    HCHECK(g, "create /encodings");
    for (int e = 0; e < s->n_encodings; e++) {
        const ss_encoding_spec *es = &s->encodings[e];
        g2 = H5Gcreate2(g, es->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        HCHECK(g2, "create an encoding group");
        HCHECK(ss_h5_put_int(g2, "index", e), "write encoding attributes");
        HCHECK(ss_h5_put_str(g2, "type", ss_encoding_type_name(es->type)), "write encoding attributes");
        HCHECK(ss_h5_put_doubles(g2, "theta", &es->theta, es->type == SS_ENC_ROPE), "write encoding attributes");
        HCHECK(ss_h5_put_doubles(g2, "fraction", &es->fraction, es->type == SS_ENC_ROPE), "write encoding attributes");
        HCHECK(ss_h5_put_int(g2, "seed", es->type == SS_ENC_SHUFFLED ? (long long)es->seed : -1), "write encoding attributes");
        HCHECK(ss_h5_put_str(g2, "bos", es->bos < 0 ? "model" : es->bos ? "on" : "off"), "write encoding attributes");
        H5Gclose(g2), g2 = -1;
    }
    H5Gclose(g), g = -1;

    /* /tasks */
    g = H5Gcreate2(file, "tasks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    HCHECK(g, "create /tasks");
    {
        const hsize_t n = (hsize_t)(p->n_tasks > 0 ? p->n_tasks : 1);
        col = malloc(n * sizeof *col);
        if (!col) {
            st = ss_fail(SS_ERR_NOMEM, "out of memory");
            goto done;
        }
        static const char *names[] = {"model", "prompts", "encoding", "prompt_index", "row"};
        for (int c = 0; c < 5; c++) {
            for (int k = 0; k < p->n_tasks; k++) {
                const ss_task *tk = &p->tasks[k];
                const int v[5] = {tk->model, tk->prompts, tk->encoding, tk->prompt_index, tk->row};
                col[k] = v[c];
            }
            d = make_dset(g, names[c], H5T_STD_I32LE, 1, &n, NULL);
            HCHECK(d, "create a /tasks dataset");
            HCHECK(write_1d_root(d, H5T_NATIVE_INT32, col, n, rank), "write a /tasks dataset");
            H5Dclose(d), d = -1;
        }
        int8_t f8 = SS_TASK_PENDING;
        int32_t fm1 = -1, f0 = 0;
        float fnan = NAN;
        d = make_dset(g, "status", H5T_STD_I8LE, 1, &n, &f8);
        HCHECK(d, "create /tasks/status");
        HCHECK(ss_h5_put_str(d, "codes", "0 pending, 1 done, 2 failed, 3 skipped (the encoding does not apply to the model); written after the task's data"), "write attributes");
        H5Dclose(d), d = -1;
        d = make_dset(g, "rank", H5T_STD_I32LE, 1, &n, &fm1);
        HCHECK(d, "create /tasks/rank");
        H5Dclose(d), d = -1;
        d = make_dset(g, "n_tokens", H5T_STD_I32LE, 1, &n, &f0);
        HCHECK(d, "create /tasks/n_tokens");
        H5Dclose(d), d = -1;
        d = make_dset(g, "seconds", H5T_IEEE_F32LE, 1, &n, &fnan);
        HCHECK(d, "create /tasks/seconds");
        HCHECK(ss_h5_put_str(d, "units", "s"), "write attributes");
        H5Dclose(d), d = -1;
        t = string_type(SS_ERROR_LEN);
        d = make_dset(g, "error", t, 1, &n, NULL);
        HCHECK(d, "create /tasks/error");
        H5Dclose(d), d = -1;
        H5Tclose(t), t = -1;
        hsize_t td[2] = {n, (hsize_t)(p->max_tokens_all > 0 ? p->max_tokens_all : 1)};
        d = make_dset(g, "tokens", H5T_STD_I32LE, 2, td, &fm1);
        HCHECK(d, "create /tasks/tokens");
        HCHECK(ss_h5_put_str(d, "doc", "token ids of each task's prompt, framed by the BOS policy; -1 padded"), "write attributes");
        H5Dclose(d), d = -1;
    }
    H5Gclose(g), g = -1;

    /* /results/<model>/<analysis>/<dataset> */
    g = H5Gcreate2(file, "results", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    HCHECK(g, "create /results");
    for (int m = 0; m < s->n_models; m++) {
        g2 = H5Gcreate2(g, s->models[m].name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        HCHECK(g2, "create a /results model group");
        ss_model_dims dims = {p->model_info[m].n_layers, p->model_info[m].n_heads, p->model_max_tokens[m],
                              p->model_info[m].causal};
        for (int a = 0; a < s->n_analyses; a++) {
            const ss_analysis_spec *as = &s->analyses[a];
            const ss_analysis_type *at = ss_analysis_find(as->type);
            ss_dataset_decl decl[SS_MAX_DATASETS];
            int nd = 0;
            if ((st = at->declare(as, &dims, decl, &nd)) != SS_OK) goto done;
            g3 = H5Gcreate2(g2, as->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            HCHECK(g3, "create an analysis group");
            HCHECK(ss_h5_put_str(g3, "type", as->type), "write attributes");
            HCHECK(ss_h5_put_str(g3, "doc", at->doc), "write attributes");
            for (int k = 0; k < as->n_params; k++) {
                const ss_param_value *v = &as->params[k];
                if (v->type == SS_PARAM_STRING)
                    HCHECK(ss_h5_put_str(g3, v->name, v->str ? v->str : ""), "write attributes");
                else if (v->type == SS_PARAM_FLOAT_LIST)
                    HCHECK(ss_h5_put_doubles(g3, v->name, v->list, v->n_list), "write attributes");
                else
                    HCHECK(ss_h5_put_doubles(g3, v->name, &v->num, 1), "write attributes");
            }
            for (int k = 0; k < nd; k++) {
                hsize_t hd[SS_MAX_RANK + 1];
                hd[0] = (hsize_t)(p->model_rows[m] > 0 ? p->model_rows[m] : 1);
                for (int r = 0; r < decl[k].rank; r++) hd[r + 1] = (hsize_t)decl[k].dims[r];
                float fnan = NAN;
                int32_t fm1 = -1;
                const int is_f = decl[k].dtype == SS_DT_F32;
                d = make_dset(g3, decl[k].name, is_f ? H5T_IEEE_F32LE : H5T_STD_I32LE, decl[k].rank + 1, hd,
                              is_f ? (const void *)&fnan : (const void *)&fm1);
                HCHECK(d, "create an analysis dataset");
                HCHECK(ss_h5_put_str(d, "units", decl[k].units), "write attributes");
                HCHECK(ss_h5_put_str(d, "doc", decl[k].doc), "write attributes");
                HCHECK(ss_h5_put_str(d, "row_index", "row of /tasks/row for tasks of this model"), "write attributes");
                H5Dclose(d), d = -1;
            }
            H5Gclose(g3), g3 = -1;
        }
        H5Gclose(g2), g2 = -1;
    }
    H5Gclose(g), g = -1;
    HCHECK(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush the new file");

done:
    free(col);
    if (d >= 0) H5Dclose(d);
    if (t >= 0) H5Tclose(t);
    if (g3 >= 0) H5Gclose(g3);
    if (g2 >= 0) H5Gclose(g2);
    if (g >= 0) H5Gclose(g);
    if (file >= 0 && H5Fclose(file) < 0 && st == SS_OK) st = ss_fail(SS_ERR_HDF5, "%s: closing failed", path);
    if (fapl >= 0) H5Pclose(fapl);
    return st;
}

/* ------------------------------------------------------------------ probe (serial) */

ss_status ss_results_probe(const char *path, ss_results_probe_info *info)
{
    memset(info, 0, sizeof *info);
    struct stat sb;
    if (stat(path, &sb) != 0) return SS_OK;
    info->exists = 1;
    info->regular = S_ISREG(sb.st_mode);
    if (!info->regular) return SS_OK; /* never let HDF5 open a FIFO or a device */
    if (H5Fis_hdf5(path) <= 0) return SS_OK;
    info->is_hdf5 = 1;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return SS_OK;
    info->openable = 1;
    char fmt[64];
    if (ss_h5_get_str(f, "format", fmt, sizeof fmt) == 0 && strcmp(fmt, SS_RESULTS_FORMAT) == 0) {
        info->is_results = 1;
        ss_h5_get_str(f, "fingerprint", info->fingerprint, sizeof info->fingerprint);
        ss_h5_get_str(f, "sweep_name", info->sweep_name, sizeof info->sweep_name);
        if (H5Aexists(f, "n_tasks") > 0) {
            hid_t a = H5Aopen(f, "n_tasks", H5P_DEFAULT);
            long long n = 0;
            if (a >= 0 && H5Aread(a, H5T_NATIVE_LLONG, &n) >= 0) info->n_tasks = (int)n;
            if (a >= 0) H5Aclose(a);
        }
    }
    H5Fclose(f);
    return SS_OK;
}

/* ------------------------------------------------------------------ open */

/* A name for the old file that does not exist yet: OUT.replaced-<UTC time>[-N]. */
static int aside_name(const char *path, char *out, size_t cap)
{
    char stamp[32];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", gmtime(&now));
    for (int i = 0; i < 1000; i++) {
        if (i == 0) snprintf(out, cap, "%s.replaced-%s", path, stamp);
        else snprintf(out, cap, "%s.replaced-%s-%d", path, stamp, i);
        if (access(out, F_OK) != 0) return 0;
    }
    return -1;
}

/* Rank 0's decision: code 0 = create new, 1 = resume, 2 = refuse with msg. */
static void decide_root(const char *path, const ss_plan *p, const ss_results_options *opt, int *code, char *msg,
                        size_t cap)
{
    ss_results_probe_info info;
    *code = 2;
    if (!path[0]) {
        snprintf(msg, cap, "the output path is empty");
        return;
    }
    ss_results_probe(path, &info);
    if (!info.exists) {
        /* The directory must exist and be writable: say so now, not as an HDF5 failure later. */
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash == dir) dir[1] = '\0';
        else if (slash) *slash = '\0';
        else snprintf(dir, sizeof dir, ".");
        if (access(dir, W_OK) != 0) {
            snprintf(msg, cap, "cannot create %.1000s: directory %.1000s: %s", path, dir, strerror(errno));
            return;
        }
        *code = 0;
        return;
    }
    if (!info.regular) {
        snprintf(msg, cap, "%.2000s exists and is not a regular file (a directory, FIFO or device); choose another -o path",
                 path);
        return;
    }
    if (info.is_hdf5 && !info.openable) {
        snprintf(msg, cap, "%.2000s exists but HDF5 cannot open it: another program may hold it open for writing "
                           "(a second sinkscope run?), or it is damaged. Nothing was changed.", path);
        return;
    }
    if (info.is_results && strcmp(info.fingerprint, p->fingerprint) == 0 && info.n_tasks == p->n_tasks) {
        if (access(path, W_OK) != 0) {
            snprintf(msg, cap, "%.2000s holds this sweep's results but is not writable: %s", path, strerror(errno));
            return;
        }
        *code = 1;
        return;
    }
    if (opt && opt->force) {
        char aside[4200];
        if (aside_name(path, aside, sizeof aside) != 0 || rename(path, aside) != 0) {
            snprintf(msg, cap, "%.1000s: cannot move the old file aside to %.1000s: %s", path, aside, strerror(errno));
            return;
        }
        fprintf(stderr, "sinkscope: --force: the old %s was kept as %s\n", path, aside);
        *code = 0;
        return;
    }
    if (!info.is_results)
        snprintf(msg, cap,
                 "%.2000s exists and is not a sinkscope results file; choose another -o path, or pass --force to "
                 "replace it (it will be renamed, not deleted)",
                 path);
    else
        snprintf(msg, cap,
                 "%.1000s holds the results of a different sweep ('%s', fingerprint %.12s, %d tasks); this sweep's "
                 "fingerprint is %.12s (%d tasks). Choose another -o path, or pass --force to replace it (the old "
                 "file is renamed, not deleted)",
                 path, info.sweep_name, info.fingerprint, info.n_tasks, p->fingerprint, p->n_tasks);
}

/* Rank 0 decides: 0 = create new, 1 = resume, 2 = error (message broadcast). */
static ss_status decide(const char *path, const ss_plan *p, const ss_results_options *opt, MPI_Comm comm, int *create)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    struct {
        int code;
        char msg[4096];
    } d = {0, ""};
    if (rank == 0) decide_root(path, p, opt, &d.code, d.msg, sizeof d.msg);
    MPI_Bcast(&d, sizeof d, MPI_BYTE, 0, comm);
    if (d.code == 2) return ss_fail(SS_ERR_INPUT, "%s", d.msg);
    *create = d.code == 0;
    return SS_OK;
}

ss_status ss_results_open(const char *path, const ss_plan *p, MPI_Comm comm, const ss_results_options *opt,
                          ss_results **out, int8_t **status_out)
{
    ss_status st = SS_OK;
    int rank;
    MPI_Comm_rank(comm, &rank);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const ss_sweep *s = p->sweep;
    ss_results *r = calloc(1, sizeof *r);
    int8_t *status = calloc((size_t)(p->n_tasks > 0 ? p->n_tasks : 1), 1);
    char *partial = NULL;
    hid_t fapl = -1;
    if (!r || !status) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory");
        goto done;
    }
    r->plan = p;
    r->file = r->dxpl_ind = r->d_status = r->d_rank = r->d_seconds = r->d_ntok = r->d_error = r->d_tokens = -1;
    r->max_tokens = p->max_tokens_all > 0 ? p->max_tokens_all : 1;

    int create = 0;
    if ((st = decide(path, p, opt, comm, &create)) != SS_OK) goto done;
    if (create) {
        /* Build the layout under a temporary name, then rename: a file at `path` is always complete. */
        size_t n = strlen(path) + 16;
        partial = malloc(n);
        if (!partial) {
            st = ss_fail(SS_ERR_NOMEM, "out of memory");
            goto done;
        }
        snprintf(partial, n, "%s.partial", path);
        st = create_layout(partial, p, comm);
        int ok = st == SS_OK, all_ok = 0;
        MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm);
        if (!all_ok) {
            if (st == SS_OK) st = ss_fail(SS_ERR_HDF5, "%s: another rank failed to create the file", path);
            if (rank == 0) unlink(partial); /* a half-made layout is of no use to anyone */
            goto done;
        }
        int rc = 0;
        if (rank == 0 && rename(partial, path) != 0) rc = errno;
        MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
        if (rc) {
            st = ss_fail(SS_ERR_IO, "cannot rename %s to %s: %s", partial, path, strerror(rc));
            goto done;
        }
    }

    fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    r->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    if (r->file < 0) {
        st = ss_fail(SS_ERR_IO, "%s: cannot open the results file for writing", path);
        goto done;
    }
    r->dxpl_ind = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(r->dxpl_ind, H5FD_MPIO_INDEPENDENT);
    r->d_status = H5Dopen2(r->file, "/tasks/status", H5P_DEFAULT);
    r->d_rank = H5Dopen2(r->file, "/tasks/rank", H5P_DEFAULT);
    r->d_seconds = H5Dopen2(r->file, "/tasks/seconds", H5P_DEFAULT);
    r->d_ntok = H5Dopen2(r->file, "/tasks/n_tokens", H5P_DEFAULT);
    r->d_error = H5Dopen2(r->file, "/tasks/error", H5P_DEFAULT);
    r->d_tokens = H5Dopen2(r->file, "/tasks/tokens", H5P_DEFAULT);
    if (r->d_status < 0 || r->d_rank < 0 || r->d_seconds < 0 || r->d_ntok < 0 || r->d_error < 0 || r->d_tokens < 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: /tasks is incomplete; the file is damaged", path);
        goto done;
    }
    {
        /* One snapshot of the statuses, read by rank 0 and broadcast, so every rank sees the same
         * to-do list (and no rank's reads race with another rank's first writes). */
        int ok = 1;
        if (rank == 0 && p->n_tasks > 0)
            ok = H5Dread(r->d_status, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, r->dxpl_ind, status) >= 0;
        MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
        if (!ok) {
            st = ss_fail(SS_ERR_HDF5, "%s: cannot read /tasks/status", path);
            goto done;
        }
        MPI_Bcast(status, p->n_tasks, MPI_INT8_T, 0, comm);
    }

    r->an = calloc((size_t)s->n_models * s->n_analyses, sizeof *r->an);
    r->dims = calloc((size_t)s->n_models, sizeof *r->dims);
    if (!r->an || !r->dims) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int m = 0; m < s->n_models; m++) {
        r->dims[m] = (ss_model_dims){p->model_info[m].n_layers, p->model_info[m].n_heads, p->model_max_tokens[m],
                                     p->model_info[m].causal};
        for (int a = 0; a < s->n_analyses; a++) {
            an_sets *as = &r->an[(size_t)m * s->n_analyses + a];
            const ss_analysis_type *at = ss_analysis_find(s->analyses[a].type);
            for (int k = 0; k < SS_MAX_DATASETS; k++) as->dset[k] = -1;
            if ((st = at->declare(&s->analyses[a], &r->dims[m], as->decl, &as->n)) != SS_OK) goto done;
            for (int k = 0; k < as->n; k++) {
                char name[512];
                snprintf(name, sizeof name, "/results/%s/%s/%s", s->models[m].name, s->analyses[a].name,
                         as->decl[k].name);
                as->dset[k] = H5Dopen2(r->file, name, H5P_DEFAULT);
                if (as->dset[k] < 0) {
                    st = ss_fail(SS_ERR_FORMAT, "%s: dataset %s is missing; the file is damaged", path, name);
                    goto done;
                }
            }
        }
    }

done:
    if (fapl >= 0) H5Pclose(fapl);
    free(partial);
    if (st != SS_OK) {
        if (r && r->file >= 0) ss_results_close(r);
        else free(r);
        free(status);
        r = NULL;
        status = NULL;
    }
    *out = r;
    *status_out = status;
    return st;
}

const ss_dataset_decl *ss_results_decls(const ss_results *r, int model, int analysis, int *n)
{
    const an_sets *as = &r->an[(size_t)model * r->plan->sweep->n_analyses + analysis];
    *n = as->n;
    return as->decl;
}

ss_model_dims ss_results_dims(const ss_results *r, int model) { return r->dims[model]; }

/* ------------------------------------------------------------------ writing */

/* Writes one row (row index `row`, `count` elements after it) of dataset d, independently. */
static herr_t write_row(const ss_results *r, hid_t d, hid_t memtype, hsize_t row, const void *buf, hsize_t count)
{
    hid_t fs = H5Dget_space(d);
    int nd = H5Sget_simple_extent_ndims(fs);
    hsize_t dims[SS_MAX_RANK + 2], start[SS_MAX_RANK + 2] = {0}, cnt[SS_MAX_RANK + 2];
    H5Sget_simple_extent_dims(fs, dims, NULL);
    start[0] = row;
    cnt[0] = 1;
    hsize_t total = 1;
    for (int i = 1; i < nd; i++) {
        cnt[i] = dims[i];
        total *= dims[i];
    }
    herr_t e = -1;
    if (total == count && row < dims[0]) {
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
        hid_t ms = H5Screate_simple(1, &count, NULL);
        e = H5Dwrite(d, memtype, ms, fs, r->dxpl_ind, buf);
        H5Sclose(ms);
    }
    H5Sclose(fs);
    return e;
}

ss_status ss_results_write_task(ss_results *r, const ss_task_record *rec)
{
    const ss_plan *p = r->plan;
    const ss_task *tk = &p->tasks[rec->task];
    const int na = p->sweep->n_analyses;
    if (rec->task < 0 || rec->task >= p->n_tasks) return ss_fail(SS_ERR_INTERNAL, "task %d out of range", rec->task);
    const hsize_t t = (hsize_t)rec->task;

    if (rec->status == SS_TASK_DONE) {
        for (int a = 0; a < na; a++) {
            const an_sets *as = &r->an[(size_t)tk->model * na + a];
            for (int k = 0; k < as->n; k++) {
                hid_t mt = as->decl[k].dtype == SS_DT_F32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT32;
                if (write_row(r, as->dset[k], mt, (hsize_t)tk->row, rec->bufs[a][k], ss_dataset_elems(&as->decl[k])) < 0)
                    return ss_fail(SS_ERR_HDF5, "cannot write %s of task %d", as->decl[k].name, rec->task);
            }
        }
    }
    int32_t *tok = malloc((size_t)r->max_tokens * sizeof *tok); /* [max_tokens] */
    if (!tok) return ss_fail(SS_ERR_NOMEM, "out of memory");
    for (int i = 0; i < r->max_tokens; i++) tok[i] = (rec->tokens && i < rec->n_tokens) ? rec->tokens[i] : -1;
    char err[SS_ERROR_LEN] = {0};
    if (rec->error) snprintf(err, sizeof err, "%s", rec->error);
    int32_t rk = rec->rank, nt = rec->n_tokens;
    hid_t st_t = string_type(SS_ERROR_LEN);
    herr_t e = 0;
    e |= write_row(r, r->d_tokens, H5T_NATIVE_INT32, t, tok, (hsize_t)r->max_tokens);
    e |= write_row(r, r->d_ntok, H5T_NATIVE_INT32, t, &nt, 1);
    e |= write_row(r, r->d_rank, H5T_NATIVE_INT32, t, &rk, 1);
    e |= write_row(r, r->d_seconds, H5T_NATIVE_FLOAT, t, &rec->seconds, 1);
    e |= write_row(r, r->d_error, st_t, t, err, 1);
    H5Tclose(st_t);
    free(tok);
    if (e < 0) return ss_fail(SS_ERR_HDF5, "cannot write the task record of task %d", rec->task);
    /* Last: the status, which marks the rows above as complete. */
    if (write_row(r, r->d_status, H5T_NATIVE_INT8, t, &rec->status, 1) < 0)
        return ss_fail(SS_ERR_HDF5, "cannot write the status of task %d", rec->task);
    return SS_OK;
}

ss_status ss_results_close(ss_results *r)
{
    if (!r) return SS_OK;
    ss_status st = SS_OK;
    if (r->an) {
        const ss_sweep *s = r->plan->sweep;
        for (int i = 0; i < s->n_models * s->n_analyses; i++)
            for (int k = 0; k < SS_MAX_DATASETS; k++)
                if (r->an[i].dset[k] > 0) H5Dclose(r->an[i].dset[k]);
    }
    hid_t ds[] = {r->d_status, r->d_rank, r->d_seconds, r->d_ntok, r->d_error, r->d_tokens};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++)
        if (ds[i] >= 0) H5Dclose(ds[i]);
    if (r->dxpl_ind >= 0) H5Pclose(r->dxpl_ind);
    if (r->file >= 0 && H5Fclose(r->file) < 0) st = ss_fail(SS_ERR_HDF5, "closing the results file failed");
    free(r->an);
    free(r->dims);
    free(r);
    return st;
}
