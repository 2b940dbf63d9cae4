/* report_data.c: reads results files into report cells (report_data.h). */
#include "report_data.h"

#include <hdf5.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5attr.h"
#include "model/tokenizer.h"
#include "results.h" /* SS_RESULTS_FORMAT */

/* The /models/<m> attribute train (a `sinkscope train` checkpoint): step, seed, encoding and losses. */
static void parse_train(hid_t mg, ss_report_cell *c)
{
    char txt[1100] = "";
    c->train_step = -1;
    c->train_seed = -1;
    c->train_enc[0] = 0;
    c->train_loss = c->heldout_loss = NAN;
    if (ss_h5_get_str(mg, "train", txt, sizeof txt) != 0 || !txt[0]) return;
    json_error_t jerr;
    json_t *j = json_loads(txt, 0, &jerr);
    if (!json_is_object(j)) {
        json_decref(j);
        return;
    }
    json_t *v;
    if (json_is_integer(v = json_object_get(j, "step"))) c->train_step = (long)json_integer_value(v);
    if (json_is_integer(v = json_object_get(j, "seed"))) c->train_seed = (long)json_integer_value(v);
    if (json_is_string(v = json_object_get(j, "encoding")))
        snprintf(c->train_enc, sizeof c->train_enc, "%.31s", json_string_value(v));
    if (json_is_number(v = json_object_get(j, "train_loss"))) c->train_loss = json_number_value(v);
    if (json_is_number(v = json_object_get(j, "heldout_loss"))) c->heldout_loss = json_number_value(v);
    json_decref(j);
}

enum { MAX_NAMES = 256 };

typedef struct {
    char (*names)[64];
    int n;
} name_list;

static herr_t collect(hid_t g, const char *name, const H5L_info_t *info, void *op)
{
    (void)g;
    (void)info;
    name_list *l = op;
    if (l->n < MAX_NAMES) snprintf(l->names[l->n++], 64, "%s", name);
    return 0;
}

/* The members of group `path` (in creation-independent name order), by their "index" attribute when they have
 * one: names[index] (the sweep's order). Returns the count, 0 when the group is missing. */
static int members_by_index(hid_t file, const char *path, char (*names)[64])
{
    char(*tmp)[64] = calloc(MAX_NAMES, 64);
    name_list l = {tmp, 0};
    int n = 0;
    if (!tmp) return 0;
    if (H5Lexists(file, path, H5P_DEFAULT) > 0) {
        hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
        if (g >= 0) {
            H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, &l);
            for (int i = 0; i < l.n; i++) {
                hid_t m = H5Oopen(g, tmp[i], H5P_DEFAULT);
                long long idx = m >= 0 ? ss_h5_get_int(m, "index", i) : i;
                if (m >= 0) H5Oclose(m);
                if (idx >= 0 && idx < MAX_NAMES) {
                    snprintf(names[idx], 64, "%s", tmp[i]);
                    if (idx + 1 > n) n = (int)idx + 1;
                }
            }
            H5Gclose(g);
        }
    }
    free(tmp);
    return n;
}

/* The analysis group of /results/<model> whose "type" attribute is `type` (its name into out), or 0. */
static int find_analysis(hid_t file, const char *model, const char *type, char *out)
{
    char path[160], names[MAX_NAMES][64];
    snprintf(path, sizeof path, "/results/%s", model);
    memset(names, 0, sizeof names);
    name_list l = {names, 0};
    if (H5Lexists(file, "/results", H5P_DEFAULT) <= 0 || H5Lexists(file, path, H5P_DEFAULT) <= 0) return 0;
    hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
    if (g < 0) return 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, &l);
    int found = 0;
    for (int i = 0; i < l.n && !found; i++) {
        hid_t a = H5Gopen2(g, names[i], H5P_DEFAULT);
        char t[64];
        if (a >= 0 && ss_h5_get_str(a, "type", t, sizeof t) == 0 && !strcmp(t, type)) {
            snprintf(out, 64, "%.63s", names[i]);
            found = 1;
        }
        if (a >= 0) H5Gclose(a);
    }
    H5Gclose(g);
    return found;
}

/* Whether the cell passes the selection "key=value,..." (model, encoding, prompts). -1: a bad key. */
static int selected(const char *select, const ss_report_cell *c)
{
    if (!select || !*select) return 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", select);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) return -1;
        *eq = '\0';
        const char *v = eq + 1, *have = !strcmp(tok, "model")      ? c->model
                                     : !strcmp(tok, "encoding") ? c->encoding
                                     : !strcmp(tok, "prompts")  ? c->prompts
                                                                : NULL;
        if (!have) return -1;
        if (strcmp(have, v) != 0) return 0;
    }
    return 1;
}

static double nanmean(const double *x, int n)
{
    double s = 0.0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(x[i])) {
            s += x[i];
            k++;
        }
    return k ? s / k : NAN;
}

/* Token text for labels: the tokenizer's piece with its word markers made visible and control bytes dropped. */
static void token_text(const ss_tokenizer *tok, int32_t id, char *out, size_t cap)
{
    const char *t = tok ? ss_tokenizer_token(tok, id) : NULL;
    if (!t) {
        snprintf(out, cap, "#%d", (int)id);
        return;
    }
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)t; *p && o + 4 < cap; p++) {
        if (p[0] == 0xC4 && p[1] == 0xA0) { /* "Ġ": a leading space in byte-level BPE */
            out[o++] = '_';
            p++;
        } else if (p[0] == 0xC4 && p[1] == 0x8A) { /* "Ċ": newline */
            out[o++] = '\\';
            out[o++] = 'n';
            p++;
        } else if (p[0] == 0xE2 && p[1] == 0x96 && p[2] == 0x81) { /* "▁": SentencePiece's space */
            out[o++] = '_';
            p += 2;
        } else if (*p >= 0x20) {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
    if (!o) snprintf(out, cap, "#%d", (int)id);
}

static void free_cell(ss_report_cell *c)
{
    free(c->sink1);
    free(c->gini);
    free(c->fiedler);
    free(c->entropy);
    free(c->sink1_l);
    free(c->sink1_lh);
    free(c->entropy_l);
    free(c->gini_l);
    free(c->fiedler_l);
    free(c->anchor_id);
    free(c->anchor_class);
    free(c->anchor_share);
    free(c->anchor_text);
    free(c->map);
    free(c->map_tokens);
    for (int i = 0; i < c->n_families; i++) free(c->families[i].values);
}

void ss_report_data_free(ss_report_data *d)
{
    if (!d) return;
    for (int i = 0; i < d->n_cells; i++) free_cell(&d->cells[i]);
    free(d->cells);
    memset(d, 0, sizeof *d);
}

/* Everything one file contributes. */
typedef struct {
    hsize_t n_tasks, tmax;
    int32_t *model, *prompts, *encoding, *row, *n_tokens, *tokens; /* [n], tokens [n][tmax] */
    signed char *status;                                          /* [n] */
    char (*error)[256];                                           /* [n] */
} task_table;

static void free_tasks(task_table *t)
{
    free(t->model);
    free(t->prompts);
    free(t->encoding);
    free(t->row);
    free(t->n_tokens);
    free(t->tokens);
    free(t->status);
    free(t->error);
}

static ss_status read_tasks(hid_t f, const char *path, task_table *t)
{
    hsize_t d[2];
    memset(t, 0, sizeof *t);
    t->model = ss_h5_read_all(f, "/tasks/model", H5T_NATIVE_INT32, 4, 1, d);
    t->n_tasks = t->model ? d[0] : 0;
    t->prompts = ss_h5_read_all(f, "/tasks/prompts", H5T_NATIVE_INT32, 4, 1, d);
    t->encoding = ss_h5_read_all(f, "/tasks/encoding", H5T_NATIVE_INT32, 4, 1, d);
    t->row = ss_h5_read_all(f, "/tasks/row", H5T_NATIVE_INT32, 4, 1, d);
    t->n_tokens = ss_h5_read_all(f, "/tasks/n_tokens", H5T_NATIVE_INT32, 4, 1, d);
    t->status = ss_h5_read_all(f, "/tasks/status", H5T_NATIVE_SCHAR, 1, 1, d);
    t->tokens = ss_h5_read_all(f, "/tasks/tokens", H5T_NATIVE_INT32, 4, 2, d);
    t->tmax = t->tokens ? d[1] : 0;
    if (!t->model || !t->prompts || !t->encoding || !t->row || !t->n_tokens || !t->status || !t->tokens)
        return ss_fail(SS_ERR_FORMAT, "%s: the /tasks table is incomplete", path);
    t->error = calloc(t->n_tasks ? t->n_tasks : 1, 256);
    if (!t->error) return ss_fail(SS_ERR_NOMEM, "out of memory reading %s", path);
    hid_t ds = H5Dopen2(f, "/tasks/error", H5P_DEFAULT);
    if (ds >= 0) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, 256);
        if (H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, t->error) < 0) memset(t->error, 0, t->n_tasks * 256);
        H5Tclose(mt);
        H5Dclose(ds);
    }
    for (hsize_t i = 0; i < t->n_tasks; i++) t->error[i][255] = '\0';
    return SS_OK;
}

/* Per-prompt and per-layer values of one cell from the model's analyses. rows [n_done] are its done rows,
 * task_of [n_done] their task indices. */
static ss_status fill_analyses(hid_t f, ss_report_cell *c, const task_table *tt, const int *rows, const int *task_of,
                               double tau_req, const ss_tokenizer *tok)
{
    const int L = c->L, H = c->H, n = c->n_done;
    char an[64], path[256];
    hsize_t d[4];
    c->sink1 = malloc((size_t)(n ? n : 1) * sizeof(double));
    c->gini = malloc((size_t)(n ? n : 1) * sizeof(double));
    c->fiedler = malloc((size_t)(n ? n : 1) * sizeof(double));
    c->entropy = malloc((size_t)(n ? n : 1) * sizeof(double));
    c->sink1_l = malloc((size_t)L * sizeof(double));
    c->sink1_lh = malloc((size_t)L * H * sizeof(double));
    c->entropy_l = malloc((size_t)L * sizeof(double));
    c->gini_l = malloc((size_t)L * sizeof(double));
    c->fiedler_l = malloc((size_t)L * sizeof(double));
    if (!c->sink1 || !c->gini || !c->fiedler || !c->entropy || !c->sink1_l || !c->sink1_lh || !c->entropy_l ||
        !c->gini_l || !c->fiedler_l)
        return ss_fail(SS_ERR_NOMEM, "out of memory reading %s", c->file);
    for (int i = 0; i < n; i++) c->sink1[i] = c->gini[i] = c->fiedler[i] = c->entropy[i] = NAN;
    for (int l = 0; l < L; l++) c->sink1_l[l] = c->entropy_l[l] = c->gini_l[l] = c->fiedler_l[l] = NAN;
    for (int e = 0; e < L * H; e++) c->sink1_lh[e] = NAN;
    c->sink_eps = c->tau = NAN;

    if (find_analysis(f, c->model, "sink_rate", an)) {
        double eps[64];
        snprintf(path, sizeof path, "/results/%s/%s", c->model, an);
        hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
        int n_eps = g >= 0 ? ss_h5_get_doubles(g, "epsilon", eps, 64) : -1;
        if (g >= 0) H5Gclose(g);
        int e03 = 0;
        for (int e = 0; e < n_eps; e++)
            if (fabs(eps[e] - 0.3) < 1e-9) e03 = e;
        c->sink_eps = n_eps > 0 ? eps[e03] : NAN;
        snprintf(path, sizeof path, "/results/%s/%s/sink_rate", c->model, an);
        float *sr = ss_h5_read_all(f, path, H5T_NATIVE_FLOAT, 4, 3, d); /* [rows][n_eps][Tmax] */
        if (sr)
            for (int i = 0; i < n; i++) c->sink1[i] = sr[((size_t)rows[i] * d[1] + (size_t)e03) * d[2]];
        free(sr);
        snprintf(path, sizeof path, "/results/%s/%s/alpha", c->model, an);
        float *al = ss_h5_read_all(f, path, H5T_NATIVE_FLOAT, 4, 4, d); /* [rows][L][H][k_store] */
        if (al && n > 0 && (int)d[1] == L && (int)d[2] == H && !isnan(c->sink_eps)) {
            for (int l = 0; l < L; l++) {
                double layer = 0.0;
                for (int h = 0; h < H; h++) {
                    int above = 0;
                    for (int i = 0; i < n; i++)
                        above += al[(((size_t)rows[i] * L + l) * H + h) * d[3]] > (float)c->sink_eps;
                    c->sink1_lh[l * H + h] = 100.0 * above / n;
                    layer += c->sink1_lh[l * H + h];
                }
                c->sink1_l[l] = layer / H; /* the mean over prompts of the % of heads above eps */
            }
        }
        free(al);
    }
    if (find_analysis(f, c->model, "attention_graph", an)) {
        double taus[64];
        snprintf(path, sizeof path, "/results/%s/%s", c->model, an);
        hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
        int n_tau = g >= 0 ? ss_h5_get_doubles(g, "thresholds", taus, 64) : -1;
        if (g >= 0) H5Gclose(g);
        int k = 0;
        for (int t = 1; t < n_tau; t++)
            if (fabs(taus[t] - tau_req) < fabs(taus[k] - tau_req)) k = t;
        c->tau = n_tau > 0 ? taus[k] : NAN;
        snprintf(path, sizeof path, "/results/%s/%s/gini", c->model, an);
        float *gi = n_tau > 0 ? ss_h5_read_all(f, path, H5T_NATIVE_FLOAT, 4, 4, d) : NULL; /* [rows][L][H][tau] */
        double *tmp = malloc((size_t)(L * H + 1) * sizeof *tmp);
        if (gi && tmp) {
            for (int i = 0; i < n; i++) {
                for (int e = 0; e < L * H; e++) tmp[e] = gi[((size_t)rows[i] * L * H + e) * d[3] + k];
                c->gini[i] = nanmean(tmp, L * H);
            }
            for (int l = 0; l < L; l++) {
                double s = 0.0;
                int m = 0;
                for (int i = 0; i < n; i++)
                    for (int h = 0; h < H; h++) {
                        const float v = gi[(((size_t)rows[i] * L + l) * H + h) * d[3] + k];
                        if (!isnan(v)) {
                            s += v;
                            m++;
                        }
                    }
                c->gini_l[l] = m ? s / m : NAN;
            }
        }
        free(gi);
        snprintf(path, sizeof path, "/results/%s/%s/fiedler", c->model, an);
        float *fi = n_tau > 0 ? ss_h5_read_all(f, path, H5T_NATIVE_FLOAT, 4, 3, d) : NULL; /* [rows][L][tau] */
        if (fi && tmp) {
            for (int i = 0; i < n; i++) {
                for (int l = 0; l < L; l++) tmp[l] = fi[((size_t)rows[i] * L + l) * d[2] + k];
                c->fiedler[i] = nanmean(tmp, L);
            }
            for (int l = 0; l < L; l++) {
                double s = 0.0;
                int m = 0;
                for (int i = 0; i < n; i++) {
                    const float v = fi[((size_t)rows[i] * L + l) * d[2] + k];
                    if (!isnan(v)) {
                        s += v;
                        m++;
                    }
                }
                c->fiedler_l[l] = m ? s / m : NAN;
            }
        }
        free(fi);
        free(tmp);
    }
    if (find_analysis(f, c->model, "attention_geometry", an)) {
        snprintf(path, sizeof path, "/results/%s/%s/entropy", c->model, an);
        float *en = ss_h5_read_all(f, path, H5T_NATIVE_FLOAT, 4, 3, d); /* [rows][L][H] */
        if (en) {
            for (int i = 0; i < n; i++) {
                double s = 0.0;
                int m = 0;
                for (int e = 0; e < L * H; e++) {
                    const float v = en[(size_t)rows[i] * L * H + e];
                    if (!isnan(v)) {
                        s += v;
                        m++;
                    }
                }
                c->entropy[i] = m ? s / m : NAN;
            }
            for (int l = 0; l < L; l++) {
                double s = 0.0;
                int m = 0;
                for (int i = 0; i < n; i++)
                    for (int h = 0; h < H; h++) {
                        const float v = en[((size_t)rows[i] * L + l) * H + h];
                        if (!isnan(v)) {
                            s += v;
                            m++;
                        }
                    }
                c->entropy_l[l] = m ? s / m : NAN;
            }
        }
        free(en);
    }
    if (n > 0 && find_analysis(f, c->model, "attention_map", an)) {
        snprintf(path, sizeof path, "/results/%s/%s/attention", c->model, an);
        float *am = ss_h5_read_all(f, path, H5T_NATIVE_FLOAT, 4, 3, d); /* [rows][Tm][Tm] */
        snprintf(path, sizeof path, "/results/%s/%s/layer", c->model, an);
        hsize_t d2[2];
        int32_t *ly = ss_h5_read_all(f, path, H5T_NATIVE_INT32, 4, 2, d2);
        const int task = task_of[0], T = tt->n_tokens[task], Tm = (int)d[1];
        if (am && ly && T > 0 && T <= Tm) {
            c->map_T = T;
            c->map_layer = ly[rows[0]];
            c->map = malloc((size_t)T * T * sizeof *c->map);
            c->map_tokens = calloc((size_t)T, sizeof *c->map_tokens);
            if (c->map && c->map_tokens) {
                for (int i = 0; i < T; i++)
                    for (int j = 0; j < T; j++)
                        c->map[(size_t)i * T + j] = am[((size_t)rows[0] * Tm + i) * Tm + j];
                for (int t = 0; t < T; t++)
                    token_text(tok, tt->tokens[(size_t)task * tt->tmax + t], c->map_tokens[t], sizeof c->map_tokens[t]);
            }
        }
        free(am);
        free(ly);
    }
    return SS_OK;
}

/* The per-layer means of every analysis other than the ones the main tables read (report_data.h). */
static void fill_families(hid_t f, ss_report_cell *c, const int *rows)
{
    char path[256], names[MAX_NAMES][64], dnames[MAX_NAMES][64];
    snprintf(path, sizeof path, "/results/%s", c->model);
    if (c->n_done == 0 || H5Lexists(f, "/results", H5P_DEFAULT) <= 0 || H5Lexists(f, path, H5P_DEFAULT) <= 0) return;
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    if (g < 0) return;
    name_list l = {names, 0};
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, &l);
    for (int a = 0; a < l.n && c->n_families < SS_REPORT_MAX_FAMILIES; a++) {
        hid_t ag = H5Gopen2(g, names[a], H5P_DEFAULT);
        char type[64] = "";
        if (ag < 0) continue;
        ss_h5_get_str(ag, "type", type, sizeof type);
        if (!strcmp(type, "sink_rate") || !strcmp(type, "top_keys") || !strcmp(type, "attention_map")) {
            H5Gclose(ag);
            continue;
        }
        ss_report_family *fam = &c->families[c->n_families];
        memset(fam, 0, sizeof *fam);
        snprintf(fam->name, sizeof fam->name, "%.63s", names[a]);
        snprintf(fam->type, sizeof fam->type, "%.31s", type);
        name_list dl = {dnames, 0};
        H5Literate(ag, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, &dl);
        for (int k = 0; k < dl.n && fam->n_cols < SS_REPORT_MAX_FAMILY_COLS; k++) {
            hid_t d = H5Dopen2(ag, dnames[k], H5P_DEFAULT);
            if (d < 0) continue;
            hid_t sp = H5Dget_space(d);
            hsize_t dims[8];
            const int rank = H5Sget_simple_extent_ndims(sp);
            if (rank >= 2 && rank <= 3) H5Sget_simple_extent_dims(sp, dims, NULL);
            H5Sclose(sp);
            const int per_layer = rank >= 2 && rank <= 3 && ((int)dims[1] == c->L || (int)dims[1] == c->L + 1) &&
                                  (rank == 2 || (int)dims[2] == c->H) && (fam->n_rows == 0 || fam->n_rows == (int)dims[1]);
            if (!per_layer) {
                H5Dclose(d);
                continue;
            }
            const size_t per_row = (size_t)dims[1] * (rank == 3 ? dims[2] : 1);
            double *all = malloc((size_t)dims[0] * per_row * sizeof *all); /* [rows][n][H?] */
            char units[24] = "";
            ss_h5_get_str(d, "units", units, sizeof units);
            /* identities (positions, channels, classes) have no mean */
            const int identity = !strcmp(units, "position") || !strcmp(units, "channel") || !strcmp(units, "class");
            if (all && !identity && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0) {
                const int n_rows = (int)dims[1], inner = rank == 3 ? (int)dims[2] : 1;
                if (!fam->values) {
                    fam->n_rows = n_rows;
                    fam->values = malloc((size_t)n_rows * SS_REPORT_MAX_FAMILY_COLS * sizeof *fam->values);
                }
                if (fam->values) {
                    const int col = fam->n_cols++;
                    snprintf(fam->cols[col], sizeof fam->cols[col], "%.47s", dnames[k]);
                    snprintf(fam->units[col], sizeof fam->units[col], "%.23s", units);
                    for (int r = 0; r < n_rows; r++) {
                        double sum = 0.0;
                        int m = 0;
                        for (int i = 0; i < c->n_done; i++)
                            for (int h = 0; h < inner; h++) {
                                const double v = all[(size_t)rows[i] * per_row + (size_t)r * inner + h];
                                if (!isnan(v)) {
                                    sum += v;
                                    m++;
                                }
                            }
                        fam->values[(size_t)r * SS_REPORT_MAX_FAMILY_COLS + col] = m ? sum / m : NAN;
                    }
                }
            }
            free(all);
            H5Dclose(d);
        }
        H5Gclose(ag);
        if (fam->n_cols > 0) c->n_families++;
        else free(fam->values);
    }
    H5Gclose(g);
}

static void fill_frames(hid_t f, ss_report_cell *c, const ss_tokenizer *tok)
{
    char path[256];
    hsize_t d[2];
    snprintf(path, sizeof path, "/frames/%s/%s/%s", c->model, c->encoding, c->prompts);
    if (H5Lexists(f, "/frames", H5P_DEFAULT) <= 0) return;
    snprintf(path, sizeof path, "/frames/%s", c->model);
    if (H5Lexists(f, path, H5P_DEFAULT) <= 0) return;
    snprintf(path, sizeof path, "/frames/%s/%s", c->model, c->encoding);
    if (H5Lexists(f, path, H5P_DEFAULT) <= 0) return;
    snprintf(path, sizeof path, "/frames/%s/%s/%s", c->model, c->encoding, c->prompts);
    if (H5Lexists(f, path, H5P_DEFAULT) <= 0) return;
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    if (g < 0) return;
    ss_h5_get_str(g, "label", c->frame_label, sizeof c->frame_label);
    double conf = NAN;
    if (H5Aexists(g, "confidence") > 0) {
        hid_t a = H5Aopen(g, "confidence", H5P_DEFAULT);
        if (a >= 0) {
            if (H5Aread(a, H5T_NATIVE_DOUBLE, &conf) < 0) conf = NAN;
            H5Aclose(a);
        }
    }
    c->frame_confidence = conf;
    c->anchor_id = ss_h5_read_all(g, "anchor_id", H5T_NATIVE_INT, sizeof(int), 1, d);
    c->anchor_class = ss_h5_read_all(g, "anchor_class", H5T_NATIVE_INT, sizeof(int), 1, d);
    c->anchor_share = ss_h5_read_all(g, "anchor_share", H5T_NATIVE_DOUBLE, sizeof(double), 1, d);
    H5Gclose(g);
    if (!c->anchor_id || !c->anchor_share || (int)d[0] != c->L) return;
    c->anchor_text = calloc((size_t)c->L, sizeof *c->anchor_text);
    if (!c->anchor_text) return;
    for (int l = 0; l < c->L; l++)
        if (c->anchor_id[l] >= 0) token_text(tok, c->anchor_id[l], c->anchor_text[l], sizeof c->anchor_text[l]);
        else snprintf(c->anchor_text[l], sizeof c->anchor_text[l], "--");
    c->has_frames = 1;
}

static ss_status read_file(const char *path, double tau, const char *select, ss_report_data *out)
{
    ss_status st = SS_OK;
    task_table tt;
    memset(&tt, 0, sizeof tt);
    char(*models)[64] = calloc(MAX_NAMES, 64), (*encs)[64] = calloc(MAX_NAMES, 64), (*sets)[64] = calloc(MAX_NAMES, 64);
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
    char fmt[64] = "", sweep[128] = "", version[32] = "";
    if (!models || !encs || !sets) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    if (f < 0 || ss_h5_get_str(f, "format", fmt, sizeof fmt) != 0 || strcmp(fmt, SS_RESULTS_FORMAT) != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s is not a sinkscope results file (no root attribute format = %s)", path,
                     SS_RESULTS_FORMAT);
        goto done;
    }
    ss_h5_get_str(f, "sweep_name", sweep, sizeof sweep);
    ss_h5_get_str(f, "sinkscope_version", version, sizeof version);
    SS_TRY(read_tasks(f, path, &tt));
    const int n_m = members_by_index(f, "/models", models), n_e = members_by_index(f, "/encodings", encs);
    const int n_p = members_by_index(f, "/prompts", sets);
    out->n_files++;
    for (int m = 0; m < n_m; m++) {
        char gpath[128], mpath[512] = "";
        snprintf(gpath, sizeof gpath, "/models/%s", models[m]);
        hid_t mg = H5Gopen2(f, gpath, H5P_DEFAULT);
        if (mg < 0) continue;
        ss_report_cell proto;
        memset(&proto, 0, sizeof proto);
        snprintf(proto.file, sizeof proto.file, "%s", path);
        snprintf(proto.model, sizeof proto.model, "%s", models[m]);
        snprintf(proto.sweep_name, sizeof proto.sweep_name, "%s", sweep);
        snprintf(proto.version, sizeof proto.version, "%s", version);
        ss_h5_get_str(mg, "architecture", proto.arch, sizeof proto.arch);
        ss_h5_get_str(mg, "positional_encoding", proto.posenc, sizeof proto.posenc);
        ss_h5_get_str(mg, "bos_policy_effective", proto.bos, sizeof proto.bos);
        ss_h5_get_str(mg, "weight_types", proto.weight_types, sizeof proto.weight_types);
        ss_h5_get_str(mg, "sha256", proto.sha256, sizeof proto.sha256);
        ss_h5_get_str(mg, "path", mpath, sizeof mpath);
        parse_train(mg, &proto);
        proto.causal = (int)ss_h5_get_int(mg, "causal", 0);
        proto.L = (int)ss_h5_get_int(mg, "n_layers", 0);
        proto.H = (int)ss_h5_get_int(mg, "n_heads", 0);
        H5Gclose(mg);
        ss_tokenizer *tok = NULL;
        if (mpath[0] && ss_tokenizer_load(mpath, &tok) != SS_OK) tok = NULL; /* gone: token ids stand in */
        for (int e = 0; e < n_e; e++)
            for (int q = 0; q < n_p; q++) {
                ss_report_cell c = proto;
                snprintf(c.encoding, sizeof c.encoding, "%s", encs[e]);
                snprintf(c.prompts, sizeof c.prompts, "%s", sets[q]);
                int sel = selected(select, &c);
                if (sel < 0) {
                    ss_tokenizer_free(tok);
                    st = ss_fail(SS_ERR_INPUT, "--select '%s': keys are model, encoding and prompts (key=value,...)",
                                 select);
                    goto done;
                }
                if (!sel) continue;
                snprintf(gpath, sizeof gpath, "/encodings/%s", encs[e]);
                hid_t eg = H5Gopen2(f, gpath, H5P_DEFAULT);
                if (eg >= 0) {
                    ss_h5_get_str(eg, "type", c.encoding_type, sizeof c.encoding_type);
                    H5Gclose(eg);
                }
                snprintf(gpath, sizeof gpath, "/prompts/%s", sets[q]);
                hid_t pg = H5Gopen2(f, gpath, H5P_DEFAULT);
                if (pg >= 0) {
                    ss_h5_get_str(pg, "kind", c.prompts_kind, sizeof c.prompts_kind);
                    H5Gclose(pg);
                }
                int *rows = malloc((tt.n_tasks + 1) * sizeof *rows), *task_of = malloc((tt.n_tasks + 1) * sizeof *rows);
                if (!rows || !task_of) {
                    free(rows);
                    free(task_of);
                    ss_tokenizer_free(tok);
                    st = ss_fail(SS_ERR_NOMEM, "out of memory reading %s", path);
                    goto done;
                }
                for (hsize_t t = 0; t < tt.n_tasks; t++) {
                    if (tt.model[t] != m || tt.encoding[t] != e || tt.prompts[t] != q) continue;
                    c.n_tasks++;
                    const int s = tt.status[t];
                    if (s == 1) {
                        rows[c.n_done] = tt.row[t];
                        task_of[c.n_done++] = (int)t;
                    } else {
                        if (s == 2) c.n_failed++;
                        else if (s == 3) c.n_skipped++;
                        else c.n_pending++;
                        if (!c.first_error[0] && tt.error[t][0])
                            snprintf(c.first_error, sizeof c.first_error, "%s", tt.error[t]);
                    }
                }
                if (c.n_tasks == 0) {
                    free(rows);
                    free(task_of);
                    continue;
                }
                st = fill_analyses(f, &c, &tt, rows, task_of, tau, tok);
                if (st == SS_OK) fill_frames(f, &c, tok);
                if (st == SS_OK) fill_families(f, &c, rows);
                free(rows);
                free(task_of);
                ss_report_cell *grown = realloc(out->cells, (size_t)(out->n_cells + 1) * sizeof *grown);
                if (st != SS_OK || !grown) {
                    free_cell(&c);
                    ss_tokenizer_free(tok);
                    if (st == SS_OK) st = ss_fail(SS_ERR_NOMEM, "out of memory reading %s", path);
                    goto done;
                }
                out->cells = grown;
                out->cells[out->n_cells++] = c;
            }
        ss_tokenizer_free(tok);
    }
done:
    if (f >= 0) H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    free_tasks(&tt);
    free(models);
    free(encs);
    free(sets);
    return st;
}

ss_status ss_report_read(const char *const *files, int n, double tau, const char *select, ss_report_data *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n; i++) {
        ss_status st = read_file(files[i], tau, select, out);
        if (st != SS_OK) {
            ss_report_data_free(out);
            return st;
        }
    }
    return SS_OK;
}
