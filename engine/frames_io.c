/* frames_io.c: the frame classifier on a results file (frames.h; layout of /frames in schemas/frames.md).
 *
 * Read phase (file opened read-only, serial, default file access): /models, /prompts, /encodings, /tasks, and per
 * model the first analysis (by name) of type top_keys, sink_rate and reference_tokens. Every (model, encoding,
 * prompt set) is classified in memory. Write phase (read-write): /frames is deleted and written again; nothing
 * else in the file is touched. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h" /* SS_TOK_* */
#include "frames.h"
#include "h5attr.h"
#include "results.h" /* SS_RESULTS_FORMAT, SS_TASK_* */

#define NAME_MAX_ 256

/* ------------------------------------------------------------------ small HDF5 helpers */

/* A dataset [d0] or [d0][d1] with `doc` and `units` attributes. */
static herr_t put_dset(hid_t g, const char *name, hid_t ftype, hid_t mtype, int rank, hsize_t d0, hsize_t d1,
                       const void *data, const char *units, const char *doc)
{
    hsize_t dims[2] = {d0, d1};
    hid_t sp = H5Screate_simple(rank, dims, NULL);
    hid_t d = H5Dcreate2(g, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = d < 0 ? -1 : H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    if (d >= 0) {
        if (e >= 0) e = ss_h5_put_str(d, "units", units);
        if (e >= 0) e = ss_h5_put_str(d, "doc", doc);
        H5Dclose(d);
    }
    H5Sclose(sp);
    return e;
}

/* The name of child i of a group (in name order). */
static int child_name(hid_t g, hsize_t i, char *out, size_t cap)
{
    ssize_t n = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, out, cap, H5P_DEFAULT);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ------------------------------------------------------------------ the read phase */

typedef struct {
    char name[NAME_MAX_];
    int causal, L, H, n_rows;
    int32_t special[4];
    int n_special;
    char pos_encoding[32];                               /* /models/<m> positional_encoding */
    char top[NAME_MAX_], sink[NAME_MAX_], ref[NAME_MAX_]; /* analysis group names; "" when absent */
    int32_t *top_pos, *top_class;                        /* [rows][L][H] */
    float *sink_rate;                                    /* [rows][n_eps][T] or NULL */
    int sink_n_eps, sink_T, sink_ei;
    double sink_eps;                                     /* NaN when no sink_rate */
    float *ref_count;                                    /* [rows][L] or NULL */
} model_data;

typedef struct {
    int n_models, n_prompts, n_enc, n_tasks, T_max;
    model_data *models;                                  /* [n_models], by /models index */
    char (*prompt_names)[NAME_MAX_];                     /* [n_prompts], by index */
    char (*enc_names)[NAME_MAX_];                        /* [n_enc], by index */
    char (*enc_types)[NAME_MAX_];                        /* [n_enc] /encodings/<e> type */
    int32_t *t_model, *t_prompts, *t_enc, *t_row, *t_ntok, *tokens; /* [n_tasks], tokens [n_tasks][T_max] */
    int8_t *t_status;                                    /* [n_tasks] */
} file_data;

static void file_data_free(file_data *f)
{
    for (int m = 0; f->models && m < f->n_models; m++) {
        free(f->models[m].top_pos);
        free(f->models[m].top_class);
        free(f->models[m].sink_rate);
        free(f->models[m].ref_count);
    }
    free(f->models);
    free(f->prompt_names);
    free(f->enc_names);
    free(f->enc_types);
    free(f->t_model);
    free(f->t_prompts);
    free(f->t_enc);
    free(f->t_row);
    free(f->t_ntok);
    free(f->tokens);
    free(f->t_status);
    memset(f, 0, sizeof *f);
}

/* Names of the children of `group`, placed by their `index` attribute into names[n]. */
static ss_status read_index_names(hid_t file, const char *group, char (*names)[NAME_MAX_], int n, const char *path)
{
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0) return ss_fail(SS_ERR_FORMAT, "%s: no %s group; the file is damaged", path, group);
    for (int i = 0; i < n; i++) {
        char nm[NAME_MAX_];
        if (child_name(g, (hsize_t)i, nm, sizeof nm) != 0) continue;
        hid_t c = H5Gopen2(g, nm, H5P_DEFAULT);
        long long idx = c >= 0 ? ss_h5_get_int(c, "index", -1) : -1;
        if (c >= 0) H5Gclose(c);
        if (idx >= 0 && idx < n) snprintf(names[idx], NAME_MAX_, "%s", nm);
    }
    H5Gclose(g);
    return SS_OK;
}

static hsize_t n_children(hid_t file, const char *group)
{
    H5G_info_t info;
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0) return 0;
    hsize_t n = H5Gget_info(g, &info) >= 0 ? info.nlinks : 0;
    H5Gclose(g);
    return n;
}

/* The first analysis group (by name) of /results/<model> with attribute type == `type`. */
static void find_analysis(hid_t mg, const char *type, char *out)
{
    H5G_info_t info;
    out[0] = '\0';
    if (H5Gget_info(mg, &info) < 0) return;
    for (hsize_t i = 0; i < info.nlinks; i++) {
        char nm[NAME_MAX_], t[64];
        if (child_name(mg, i, nm, sizeof nm) != 0) continue;
        hid_t g = H5Gopen2(mg, nm, H5P_DEFAULT);
        if (g < 0) continue;
        int ok = ss_h5_get_str(g, "type", t, sizeof t) == 0 && !strcmp(t, type);
        H5Gclose(g);
        if (ok) {
            snprintf(out, NAME_MAX_, "%s", nm);
            return;
        }
    }
}

static ss_status read_model(hid_t file, model_data *md, const char *path)
{
    char gp[3 * NAME_MAX_ + 32];
    hsize_t d[4];
    snprintf(gp, sizeof gp, "/results/%s", md->name);
    hid_t mg = H5Gopen2(file, gp, H5P_DEFAULT);
    if (mg < 0) return SS_OK; /* no results at all: no frames */
    find_analysis(mg, "top_keys", md->top);
    find_analysis(mg, "sink_rate", md->sink);
    find_analysis(mg, "reference_tokens", md->ref);
    ss_status st = SS_OK;
    if (md->top[0]) {
        hid_t g = H5Gopen2(mg, md->top, H5P_DEFAULT);
        const char *kp = md->causal ? "top_key_alpha" : "top_key", *kc = md->causal ? "top_class_alpha" : "top_class";
        md->top_pos = ss_h5_read_all(g, kp, H5T_NATIVE_INT32, sizeof(int32_t), 3, d);
        if (md->top_pos && ((int)d[0] != md->n_rows || (int)d[1] != md->L || (int)d[2] != md->H))
            st = ss_fail(SS_ERR_FORMAT, "%s: %s/%s/%s has shape [%d][%d][%d], expected [%d][%d][%d]", path, gp,
                         md->top, kp, (int)d[0], (int)d[1], (int)d[2], md->n_rows, md->L, md->H);
        md->top_class = ss_h5_read_all(g, kc, H5T_NATIVE_INT32, sizeof(int32_t), 3, d);
        if (st == SS_OK && (!md->top_pos || !md->top_class))
            st = ss_fail(SS_ERR_FORMAT,
                         "%s: %s/%s lacks %s or %s (a file from a sinkscope without token classes? run the sweep "
                         "again)", path, gp, md->top, kp, kc);
        H5Gclose(g);
    }
    md->sink_eps = NAN;
    if (st == SS_OK && md->sink[0]) {
        hid_t g = H5Gopen2(mg, md->sink, H5P_DEFAULT);
        double eps[64];
        int n_eps = ss_h5_get_doubles(g, "epsilon", eps, 64);
        md->sink_rate = ss_h5_read_all(g, "sink_rate", H5T_NATIVE_FLOAT, sizeof(float), 3, d);
        if (md->sink_rate && n_eps > 0 && (int)d[0] == md->n_rows && (int)d[1] == n_eps && d[2] > 0) {
            md->sink_n_eps = n_eps;
            md->sink_T = (int)d[2];
            md->sink_ei = 0;
            for (int i = 0; i < n_eps; i++)
                if (fabs(eps[i] - 0.3) < 1e-9) {
                    md->sink_ei = i;
                    break;
                }
            md->sink_eps = eps[md->sink_ei];
        } else {
            free(md->sink_rate);
            md->sink_rate = NULL;
            md->sink[0] = '\0';
        }
        H5Gclose(g);
    }
    if (st == SS_OK && md->ref[0]) {
        hid_t g = H5Gopen2(mg, md->ref, H5P_DEFAULT);
        /* the causal-corrected |R| for decoders; the raw form for encoders (equal there), ref_count if absent */
        if (!md->causal) md->ref_count = ss_h5_read_all(g, "ref_count_raw", H5T_NATIVE_FLOAT, sizeof(float), 2, d);
        if (!md->ref_count) md->ref_count = ss_h5_read_all(g, "ref_count", H5T_NATIVE_FLOAT, sizeof(float), 2, d);
        if (md->ref_count && ((int)d[0] != md->n_rows || (int)d[1] != md->L)) {
            free(md->ref_count);
            md->ref_count = NULL;
        }
        if (!md->ref_count) md->ref[0] = '\0';
        H5Gclose(g);
    }
    H5Gclose(mg);
    return st;
}

static ss_status read_file(const char *path, file_data *f)
{
    ss_status st = SS_OK;
    hid_t file = -1, g = -1;
    hsize_t d[2];
    char fmt[64];
    memset(f, 0, sizeof *f);
    ss_results_probe_info info;
    ss_results_probe(path, &info);
    if (!info.exists) return ss_fail(SS_ERR_INPUT, "%s does not exist", path);
    if (!info.is_results)
        return ss_fail(SS_ERR_FORMAT, "%s is not a sinkscope results file (no root attribute format = %s)", path,
                       SS_RESULTS_FORMAT);
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0 || ss_h5_get_str(file, "format", fmt, sizeof fmt) != 0 || strcmp(fmt, SS_RESULTS_FORMAT) != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: cannot open it as a sinkscope results file", path);
        goto done;
    }
    f->n_models = (int)n_children(file, "/models");
    f->n_prompts = (int)n_children(file, "/prompts");
    f->n_enc = (int)n_children(file, "/encodings");
    f->models = calloc((size_t)f->n_models + 1, sizeof *f->models);
    f->prompt_names = calloc((size_t)f->n_prompts + 1, sizeof *f->prompt_names);
    f->enc_names = calloc((size_t)f->n_enc + 1, sizeof *f->enc_names);
    if (!f->models || !f->prompt_names || !f->enc_names) {
        st = ss_fail(SS_ERR_NOMEM, "frames: out of memory");
        goto done;
    }
    SS_TRY(read_index_names(file, "/prompts", f->prompt_names, f->n_prompts, path));
    SS_TRY(read_index_names(file, "/encodings", f->enc_names, f->n_enc, path));
    f->enc_types = calloc((size_t)f->n_enc + 1, sizeof *f->enc_types);
    if (!f->enc_types) {
        st = ss_fail(SS_ERR_NOMEM, "frames: out of memory");
        goto done;
    }
    for (int e = 0; e < f->n_enc; e++) {
        char gp[NAME_MAX_ + 16];
        snprintf(gp, sizeof gp, "/encodings/%s", f->enc_names[e]);
        hid_t ge = H5Gopen2(file, gp, H5P_DEFAULT);
        if (ge >= 0 && ss_h5_get_str(ge, "type", f->enc_types[e], NAME_MAX_) != 0) f->enc_types[e][0] = 0;
        if (ge >= 0) H5Gclose(ge);
    }
    {
        char (*mnames)[NAME_MAX_] = calloc((size_t)f->n_models + 1, NAME_MAX_);
        if (!mnames) {
            st = ss_fail(SS_ERR_NOMEM, "frames: out of memory");
            goto done;
        }
        st = read_index_names(file, "/models", mnames, f->n_models, path);
        for (int m = 0; st == SS_OK && m < f->n_models; m++) snprintf(f->models[m].name, NAME_MAX_, "%s", mnames[m]);
        free(mnames);
        if (st != SS_OK) goto done;
    }
    for (int m = 0; m < f->n_models; m++) {
        model_data *md = &f->models[m];
        char gp[NAME_MAX_ + 16];
        snprintf(gp, sizeof gp, "/models/%s", md->name);
        g = H5Gopen2(file, gp, H5P_DEFAULT);
        if (g < 0) {
            st = ss_fail(SS_ERR_FORMAT, "%s: %s is missing", path, gp);
            goto done;
        }
        md->causal = (int)ss_h5_get_int(g, "causal", 0);
        md->L = (int)ss_h5_get_int(g, "n_layers", 0);
        md->H = (int)ss_h5_get_int(g, "n_heads", 0);
        md->n_rows = (int)ss_h5_get_int(g, "n_tasks", 0);
        if (ss_h5_get_str(g, "positional_encoding", md->pos_encoding, sizeof md->pos_encoding) != 0)
            md->pos_encoding[0] = 0;
        static const char *const sp[] = {"bos_token_id", "cls_token_id", "sep_token_id", "eos_token_id"};
        for (int i = 0; i < 4; i++) {
            long long id = ss_h5_get_int(g, sp[i], -1);
            if (id >= 0) md->special[md->n_special++] = (int32_t)id;
        }
        H5Gclose(g), g = -1;
        SS_TRY(read_model(file, md, path));
    }
    g = H5Gopen2(file, "/tasks", H5P_DEFAULT);
    if (g < 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: /tasks is missing", path);
        goto done;
    }
    f->t_model = ss_h5_read_all(g, "model", H5T_NATIVE_INT32, 4, 1, d);
    f->n_tasks = f->t_model ? (int)d[0] : 0;
    f->t_prompts = ss_h5_read_all(g, "prompts", H5T_NATIVE_INT32, 4, 1, d);
    f->t_enc = ss_h5_read_all(g, "encoding", H5T_NATIVE_INT32, 4, 1, d);
    f->t_row = ss_h5_read_all(g, "row", H5T_NATIVE_INT32, 4, 1, d);
    f->t_ntok = ss_h5_read_all(g, "n_tokens", H5T_NATIVE_INT32, 4, 1, d);
    f->t_status = ss_h5_read_all(g, "status", H5T_NATIVE_INT8, 1, 1, d);
    f->tokens = ss_h5_read_all(g, "tokens", H5T_NATIVE_INT32, 4, 2, d);
    f->T_max = f->tokens ? (int)d[1] : 0;
    if (!f->t_model || !f->t_prompts || !f->t_enc || !f->t_row || !f->t_ntok || !f->t_status || !f->tokens ||
        (int)d[0] != f->n_tasks) {
        st = ss_fail(SS_ERR_FORMAT, "%s: /tasks is incomplete; the file is damaged", path);
        goto done;
    }
done:
    if (g >= 0) H5Gclose(g);
    if (file >= 0) H5Fclose(file);
    if (st != SS_OK) file_data_free(f);
    return st;
}

/* ------------------------------------------------------------------ classification of every group */

typedef struct {
    int model, prompts, enc;
    int n_tasks, n_done, n_failed, n_pending, n_skipped;
    int absolute_positions; /* the encoding in effect gives each position its own signal (see absolute_positions) */
    ss_frames_result res;
} group_rec;

/* 1 when the encoding in effect gives every position its own signal: the model's own learned (or any other
 * absolute) positions under `native`, or a `sinusoidal` / `shuffled` ablation. RoPE, ALiBi and `none` carry no
 * absolute position (Gu et al. Props. 1-4). An unknown type counts as absolute, so that no frame is dropped on a
 * guess. */
static int absolute_positions(const char *enc_type, const char *model_pe)
{
    const char *pe = strcmp(enc_type, "native") == 0 ? model_pe : enc_type;
    return !(strcmp(pe, "rope") == 0 || strcmp(pe, "alibi") == 0 || strcmp(pe, "none") == 0);
}

static ss_status classify_group(const file_data *f, const ss_frames_params *fp, group_rec *gr)
{
    ss_status st = SS_OK;
    const model_data *md = &f->models[gr->model];
    const int L = md->L, H = md->H, T = f->T_max;
    const size_t per = (size_t)L * H;
    int n = 0;
    for (int t = 0; t < f->n_tasks; t++) {
        if (f->t_model[t] != gr->model || f->t_prompts[t] != gr->prompts || f->t_enc[t] != gr->enc) continue;
        gr->n_tasks++;
        switch (f->t_status[t]) {
        case SS_TASK_DONE: gr->n_done++; break;
        case SS_TASK_FAILED: gr->n_failed++; break;
        case SS_TASK_SKIPPED: gr->n_skipped++; break;
        default: gr->n_pending++; break;
        }
    }
    gr->absolute_positions = absolute_positions(f->enc_types[gr->enc], md->pos_encoding);
    const size_t N = (size_t)(gr->n_done ? gr->n_done : 1);
    int32_t *pos = malloc(N * per * sizeof *pos);   /* [N][L][H] */
    int32_t *cls = malloc(N * per * sizeof *cls);   /* [N][L][H] */
    int32_t *tok = malloc(N * (size_t)(T ? T : 1) * sizeof *tok); /* [N][T] */
    int32_t *ntok = malloc(N * sizeof *ntok);       /* [N] */
    float *sink1 = md->sink_rate ? malloc(N * sizeof *sink1) : NULL;     /* [N] */
    float *R = md->ref_count ? malloc(N * (size_t)L * sizeof *R) : NULL; /* [N][L] */
    if (!pos || !cls || !tok || !ntok || (md->sink_rate && !sink1) || (md->ref_count && !R)) {
        st = ss_fail(SS_ERR_NOMEM, "frames: out of memory");
        goto done;
    }
    for (int t = 0; t < f->n_tasks; t++) {
        if (f->t_model[t] != gr->model || f->t_prompts[t] != gr->prompts || f->t_enc[t] != gr->enc ||
            f->t_status[t] != SS_TASK_DONE)
            continue;
        const int row = f->t_row[t];
        if (row < 0 || row >= md->n_rows) {
            st = ss_fail(SS_ERR_FORMAT, "task %d: row %d outside model %s's %d rows", t, row, md->name, md->n_rows);
            goto done;
        }
        memcpy(pos + (size_t)n * per, md->top_pos + (size_t)row * per, per * sizeof *pos);
        memcpy(cls + (size_t)n * per, md->top_class + (size_t)row * per, per * sizeof *cls);
        memcpy(tok + (size_t)n * T, f->tokens + (size_t)t * T, (size_t)T * sizeof *tok);
        ntok[n] = f->t_ntok[t] < T ? f->t_ntok[t] : T;
        if (sink1) sink1[n] = md->sink_rate[((size_t)row * md->sink_n_eps + md->sink_ei) * md->sink_T];
        if (R) memcpy(R + (size_t)n * L, md->ref_count + (size_t)row * L, (size_t)L * sizeof *R);
        n++;
    }
    ss_frames_input in = {.n_prompts = n, .L = L, .H = H, .causal = md->causal, .top_pos = pos, .top_class = cls,
                          .tokens = tok, .n_tokens = ntok, .tok_stride = T, .special_ids = md->special,
                          .n_special = md->n_special, .sink1 = sink1, .ref_count = R,
                          .absolute_positions = gr->absolute_positions};
    st = ss_frames_classify(&in, fp, &gr->res);
    if (st == SS_OK && gr->n_tasks > 0 && gr->n_skipped == gr->n_tasks)
        gr->res.none_reason = "the encoding does not apply to the model (every task skipped)";
done:
    free(pos);
    free(cls);
    free(tok);
    free(ntok);
    free(sink1);
    free(R);
    return st;
}

/* ------------------------------------------------------------------ the write phase */

static const char *class_name(int c)
{
    static const char *const n[SS_TOK_N_CLASSES] = {"content", "first", "start", "end", "punct"};
    return c >= 0 && c < SS_TOK_N_CLASSES ? n[c] : "-";
}

#define LABEL_CODES "0 none, 1 centralized, 2 bidirectional, 3 distributed, 4 mixed"
#define CLASS_CODES "0 content, 1 first position, 2 start special (BOS/[CLS]), 3 end special (EOS/[SEP]), 4 punctuation"

static herr_t write_params(hid_t g, const ss_frames_params *fp)
{
    herr_t e = 0;
    e |= ss_h5_put_double(g, "theta_c", fp->theta_c);
    e |= ss_h5_put_double(g, "phi", fp->phi);
    e |= ss_h5_put_double(g, "theta_b", fp->theta_b);
    e |= ss_h5_put_double(g, "theta_d", fp->theta_d);
    e |= ss_h5_put_int(g, "skip_layers", fp->skip_layers);
    e |= ss_h5_put_int(g, "bootstrap", fp->bootstrap);
    e |= ss_h5_put_int(g, "seed", (long long)fp->seed);
    return e;
}

static herr_t write_group(hid_t file, const file_data *f, const ss_frames_params *fp, const group_rec *gr)
{
    const model_data *md = &f->models[gr->model];
    const ss_frames_result *r = &gr->res;
    const hsize_t L = (hsize_t)md->L;
    char gp[3 * NAME_MAX_ + 16];
    snprintf(gp, sizeof gp, "/frames/%s/%s/%s", md->name, f->enc_names[gr->enc], f->prompt_names[gr->prompts]);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t g = H5Gcreate2(file, gp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Pclose(lcpl);
    if (g < 0) return -1;
    herr_t e = 0;
    e |= ss_h5_put_str(g, "label", ss_frame_name(r->label));
    e |= ss_h5_put_int(g, "label_code", r->label);
    e |= ss_h5_put_str(g, "none_reason", r->none_reason ? r->none_reason : "");
    e |= ss_h5_put_double(g, "confidence", r->confidence);
    e |= ss_h5_put_str(g, "method", SS_FRAMES_METHOD);
    e |= ss_h5_put_int(g, "n_prompts", r->n_used);
    e |= ss_h5_put_int(g, "n_repeated", r->n_repeated);
    e |= ss_h5_put_int(g, "n_repeated_kept", r->n_repeated_kept);
    e |= ss_h5_put_int(g, "absolute_positions", gr->absolute_positions);
    e |= ss_h5_put_int(g, "n_tasks", gr->n_tasks);
    e |= ss_h5_put_int(g, "n_missing", gr->n_tasks - gr->n_done);
    e |= ss_h5_put_int(g, "n_failed", gr->n_failed);
    e |= ss_h5_put_int(g, "n_pending", gr->n_pending);
    e |= ss_h5_put_int(g, "n_skipped", gr->n_skipped);
    e |= ss_h5_put_int(g, "causal", md->causal);
    e |= ss_h5_put_str(g, "top_keys_convention", md->causal ? "alpha (top_key_alpha, top_class_alpha)"
                                                           : "raw (top_key, top_class)");
    e |= ss_h5_put_str(g, "top_keys_analysis", md->top);
    e |= ss_h5_put_str(g, "sink_rate_analysis", md->sink);
    e |= ss_h5_put_double(g, "sink_eps", md->sink_eps);
    e |= ss_h5_put_double(g, "sink1", r->sink1);
    e |= ss_h5_put_str(g, "reference_tokens_analysis", md->ref);
    e |= ss_h5_put_str(g, "R_rule", r->r_rule ? "used" : "skipped: no reference_tokens analysis (ref_count)");
    e |= write_params(g, fp);
    e |= ss_h5_put_int(g, "skip_layers_effective", r->skip_effective);
    e |= ss_h5_put_int(g, "first_third", r->first_third);
    e |= ss_h5_put_double(g, "central_fraction", r->central_fraction);
    e |= ss_h5_put_str(g, "central_class", class_name(r->central_class));
    e |= ss_h5_put_double(g, "margin_centralized", r->margin_centralized);
    e |= ss_h5_put_double(g, "bidir_start", r->bidir_start);
    e |= ss_h5_put_double(g, "bidir_end", r->bidir_end);
    e |= ss_h5_put_double(g, "margin_bidirectional", r->margin_bidirectional);
    e |= ss_h5_put_double(g, "distributed_fraction", r->distributed_fraction);
    e |= ss_h5_put_double(g, "constant_heads", r->constant_heads_all);
    e |= ss_h5_put_double(g, "mean_R", r->mean_R_all);
    e |= ss_h5_put_double(g, "margin_distributed_layers", r->margin_distributed_layers);
    e |= ss_h5_put_double(g, "margin_distributed_heads", r->margin_distributed_heads);
    e |= ss_h5_put_double(g, "margin_distributed_R", r->margin_distributed_R);
    e |= ss_h5_put_double(g, "margin_distributed", r->margin_distributed);

    const hid_t I32 = H5T_STD_I32LE, F64 = H5T_IEEE_F64LE, NI = H5T_NATIVE_INT32, ND = H5T_NATIVE_DOUBLE;
    hid_t d;
    e |= put_dset(g, "labels", I32, NI, 1, L, 0, r->labels, "code", "[layer] the per-layer label (schemas/frames.md)");
    if ((d = H5Dopen2(g, "labels", H5P_DEFAULT)) >= 0) {
        e |= ss_h5_put_str(d, "codes", LABEL_CODES);
        H5Dclose(d);
    }
    e |= put_dset(g, "shares", F64, ND, 2, L, SS_TOK_N_CLASSES, r->shares, "fraction",
                  "[layer][class] share of (head, prompt) pairs whose top key has the class: " CLASS_CODES);
    e |= put_dset(g, "anchor_id", I32, NI, 1, L, 0, r->anchor_id, "token id",
                  "[layer] the dominant anchor: the most frequent top-key token id (-1: no pairs)");
    e |= put_dset(g, "anchor_class", I32, NI, 1, L, 0, r->anchor_class, "class",
                  "[layer] the most frequent class of the anchor's pairs: " CLASS_CODES);
    e |= put_dset(g, "anchor_share", F64, ND, 1, L, 0, r->anchor_share, "fraction",
                  "[layer] the anchor's share of (head, prompt) pairs");
    e |= put_dset(g, "anchor2_id", I32, NI, 1, L, 0, r->anchor2_id, "token id", "[layer] the runner-up token id");
    e |= put_dset(g, "anchor2_share", F64, ND, 1, L, 0, r->anchor2_share, "fraction", "[layer] its share");
    e |= put_dset(g, "m_l", F64, ND, 1, L, 0, r->m_l, "fraction", "[layer] max over token ids of share_l(id)");
    e |= put_dset(g, "entropy", F64, ND, 1, L, 0, r->entropy, "nats",
                  "[layer] entropy of the top-key token-id distribution over (head, prompt) pairs");
    e |= put_dset(g, "mean_R", F64, ND, 1, L, 0, r->mean_R, "tokens", "[layer] mean |R| over prompts (NaN: no |R|)");
    e |= put_dset(g, "constant_heads", F64, ND, 1, L, 0, r->constant_heads, "fraction",
                  "[layer] fraction of heads whose top-key token id is the same on every prompt");
    e |= put_dset(g, "margins", F64, ND, 2, L, 3, r->margins, "fraction",
                  "[layer][rule] per-layer margin to each rule's threshold: 0 centralized, 1 bidirectional, "
                  "2 distributed (schemas/frames.md)");
    e |= put_dset(g, "n_pairs", I32, NI, 1, L, 0, r->n_pairs, "pairs", "[layer] (head, prompt) pairs with a top key");
    int32_t *counted = malloc(L * sizeof *counted); /* [L] */
    if (counted) {
        for (hsize_t l = 0; l < L; l++) counted[l] = r->counted[l];
        e |= put_dset(g, "counted", I32, NI, 1, L, 0, counted, "flag",
                      "[layer] 1: the layer enters the centralized fraction (not skipped, has pairs)");
        free(counted);
    } else {
        e = -1;
    }
    H5Gclose(g);
    return e;
}

static void print_group(FILE *out, const file_data *f, const group_rec *gr)
{
    const model_data *md = &f->models[gr->model];
    const ss_frames_result *r = &gr->res;
    fprintf(out, "%s / %s / %s: %s", md->name, f->enc_names[gr->enc], f->prompt_names[gr->prompts],
            ss_frame_name(r->label));
    if (!isnan(r->confidence)) fprintf(out, " (confidence %.2f)", r->confidence);
    fprintf(out, "  [%d prompts, %d missing, %d repeated-token left out, %d kept; %s top keys; |R| rule %s", r->n_used,
            gr->n_tasks - gr->n_done, r->n_repeated, r->n_repeated_kept, md->causal ? "alpha" : "raw",
            r->r_rule ? "used" : "skipped");
    if (!isnan(r->sink1)) fprintf(out, "; Sink_1^%g %.1f%%", md->sink_eps, r->sink1);
    fprintf(out, "]\n");
    if (r->label == SS_FRAME_NONE) {
        fprintf(out, "  none: %s\n\n", r->none_reason);
        return;
    }
    fprintf(out, "  centralized   %.3f of layers (class %s)      margin %+.3f\n", r->central_fraction,
            class_name(r->central_class), r->margin_centralized);
    fprintf(out, "  bidirectional start %.3f, end %.3f%s   margin %+.3f\n", r->bidir_start, r->bidir_end,
            md->causal ? " (causal: n/a)" : "", r->margin_bidirectional);
    fprintf(out, "  distributed   %.3f of layers, constant heads %.3f, mean |R| %.2f   margin %+.3f\n",
            r->distributed_fraction, r->constant_heads_all, r->mean_R_all, r->margin_distributed);
    fprintf(out, "  layer  label          first start   end punct  cont  anchor(class)   share    m_l  H/nats  |R|\n");
    for (int l = 0; l < r->L; l++) {
        const double *s = r->shares + (size_t)l * SS_TOK_N_CLASSES;
        char anc[48];
        snprintf(anc, sizeof anc, "%d(%s)", r->anchor_id[l], class_name(r->anchor_class[l]));
        fprintf(out, "  %5d%s %-13s %5.2f %5.2f %5.2f %5.2f %5.2f  %-15s %5.2f  %5.2f  %6.3f %5.2f\n", l,
                r->counted[l] ? " " : "*", ss_frame_name(r->labels[l]), s[SS_TOK_FIRST], s[SS_TOK_START],
                s[SS_TOK_END], s[SS_TOK_PUNCT], s[SS_TOK_CONTENT], anc, r->anchor_share[l], r->m_l[l],
                r->entropy[l], r->mean_R[l]);
    }
    if (r->skip_effective > 0) fprintf(out, "  (* not in the centralized fraction)\n");
    fprintf(out, "\n");
}

/* ------------------------------------------------------------------ entry points */

ss_status ss_frames_read_params(const char *results_path, ss_frames_params *out)
{
    ss_status st = SS_OK;
    char *text = NULL;
    ss_frames_params_default(out);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    ss_results_probe_info info;
    ss_results_probe(results_path, &info);
    if (!info.exists) return ss_fail(SS_ERR_INPUT, "%s does not exist", results_path);
    if (!info.is_results)
        return ss_fail(SS_ERR_FORMAT, "%s is not a sinkscope results file (no root attribute format = %s)",
                       results_path, SS_RESULTS_FORMAT);
    hid_t file = H5Fopen(results_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = file >= 0 && H5Lexists(file, "/sweep/yaml", H5P_DEFAULT) > 0 ? H5Dopen2(file, "/sweep/yaml", H5P_DEFAULT)
                                                                           : -1;
    if (d >= 0) {
        hid_t ft = H5Dget_type(d);
        size_t sz = H5Tget_class(ft) == H5T_STRING && !H5Tis_variable_str(ft) ? H5Tget_size(ft) : 0;
        text = sz ? calloc(1, sz + 1) : NULL;
        if (text) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, sz);
            if (H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, text) < 0) text[0] = '\0';
            H5Tclose(mt);
        }
        H5Tclose(ft);
        H5Dclose(d);
    }
    if (file >= 0) H5Fclose(file);
    if (text) {
        ss_diags dg = {0};
        int present = 0;
        st = ss_sweep_parse_frames(text, strlen(text), "/sweep/yaml", out, &present, &dg);
        if (st == SS_ERR_INPUT && dg.n > 0)
            st = ss_fail(SS_ERR_INPUT, "%s: the embedded sweep's 'frames' is invalid: /sweep/yaml:%d:%d: %s",
                         results_path, dg.items[0].loc.line, dg.items[0].loc.col, dg.items[0].msg);
        ss_diags_free(&dg);
    }
    free(text);
    return st;
}

int ss_frames_applicable(const ss_sweep *s)
{
    for (int a = 0; s && a < s->n_analyses; a++)
        if (s->analyses[a].type && !strcmp(s->analyses[a].type, "top_keys")) return 1;
    return 0;
}

ss_status ss_frames_update(const char *results_path, const ss_frames_params *params, FILE *table)
{
    ss_status st = SS_OK;
    file_data f = {0};
    group_rec *gr = NULL;
    int n_gr = 0;
    hid_t file = -1, g = -1;
    ss_frames_params fp;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (params) fp = *params;
    else SS_TRY(ss_frames_read_params(results_path, &fp));
    SS_TRY(read_file(results_path, &f));

    int any = 0;
    for (int m = 0; m < f.n_models; m++) any |= f.models[m].top_pos != NULL;
    if (!any) {
        st = ss_fail(SS_ERR_UNSUPPORTED,
                     "%s has no top_keys analysis: the frame classifier reads top keys (add an analysis with "
                     "'type: top_keys' to the sweep)", results_path);
        goto done;
    }
    gr = calloc((size_t)f.n_models * (f.n_prompts ? f.n_prompts : 1) * (f.n_enc ? f.n_enc : 1), sizeof *gr);
    if (!gr) {
        st = ss_fail(SS_ERR_NOMEM, "frames: out of memory");
        goto done;
    }
    for (int m = 0; m < f.n_models; m++) {
        if (!f.models[m].top_pos) continue;
        for (int e = 0; e < f.n_enc; e++)
            for (int q = 0; q < f.n_prompts; q++) {
                group_rec *x = &gr[n_gr++];
                x->model = m, x->prompts = q, x->enc = e;
                if ((st = classify_group(&f, &fp, x)) != SS_OK) {
                    st = ss_wrap(st, "%s / %s / %s", f.models[m].name, f.enc_names[e], f.prompt_names[q]);
                    goto done;
                }
            }
    }

    file = H5Fopen(results_path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) {
        st = ss_fail(SS_ERR_IO, "%s: cannot open the results file for writing (is it read-only, or open in a run?)",
                     results_path);
        goto done;
    }
    if (H5Lexists(file, "/frames", H5P_DEFAULT) > 0 && H5Ldelete(file, "/frames", H5P_DEFAULT) < 0) {
        st = ss_fail(SS_ERR_HDF5, "%s: cannot delete the old /frames", results_path);
        goto done;
    }
    g = H5Gcreate2(file, "/frames", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = g < 0 ? -1 : 0;
    if (g >= 0) {
        e |= ss_h5_put_str(g, "method", SS_FRAMES_METHOD);
        e |= ss_h5_put_str(g, "doc", "reference-frame labels: sinkscope's own operationalisation of science.md (d), "
                                    "not the paper's; method and layout in schemas/frames.md");
        e |= ss_h5_put_str(g, "label_codes", LABEL_CODES);
        e |= ss_h5_put_str(g, "layout", "/frames/<model>/<encoding>/<prompt set>");
        e |= write_params(g, &fp);
    }
    for (int i = 0; e >= 0 && i < n_gr; i++) e |= write_group(file, &f, &fp, &gr[i]);
    if (e < 0) {
        st = ss_fail(SS_ERR_HDF5, "%s: HDF5 failed to write /frames", results_path);
        goto done;
    }
    if (table)
        for (int i = 0; i < n_gr; i++) print_group(table, &f, &gr[i]);
done:
    if (g >= 0) H5Gclose(g);
    if (file >= 0 && H5Fclose(file) < 0 && st == SS_OK) st = ss_fail(SS_ERR_HDF5, "%s: closing failed", results_path);
    for (int i = 0; gr && i < n_gr; i++) ss_frames_result_free(&gr[i].res);
    free(gr);
    file_data_free(&f);
    return st;
}
