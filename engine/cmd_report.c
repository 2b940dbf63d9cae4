/* cmd_report.c: `sinkscope report`: publication tables and figures from one or more results files.
 *
 * Tables (tex, md, csv): the cross-model main table (one row per model × encoding, on each model's primary prompt
 * set), Sink_1 by prompt set (Gu et al.'s Table 1 layout), and one per-layer table per model × encoding. Figures
 * (png, svg): the layer × head Sink_1 heatmap per model, a head-mean attention map with its tokens, the per-layer
 * anchor share per model, and the frame labels across models. DIR/index.md lists them with their provenance.
 * Values are means over prompts with t-based 95% intervals (report_stats.h). Nothing is recomputed from models. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "geometry.h" /* ss_pearson */
#include "report_data.h"
#include "report_figures.h"
#include "report_stats.h"
#include "report_tables.h"

typedef struct {
    const char *files[64];
    int n_files;
    const char *dir, *select, *prompts;
    double tau;
    int tex, md, csv;
} report_args;

static void usage(FILE *f)
{
    fprintf(f, "usage: sinkscope report OUT.h5 [MORE.h5 ...] -o DIR [--format tex,md,csv] [--select KEY=VALUE,...]\n"
               "                        [--prompts NAME] [--tau X]\n"
               "Writes publication tables (LaTeX, Markdown, CSV) and figures (PNG, SVG) from sinkscope results files\n"
               "into DIR, and DIR/index.md listing them with their provenance. Nothing is re-run.\n"
               "  -o DIR           the report directory (created; existing files of the same names are replaced)\n"
               "  --format LIST    table formats, any of tex,md,csv (default: all three)\n"
               "  --select K=V,..  only the cells with model=, encoding=, prompts= as given\n"
               "  --prompts NAME   the prompt set of the main and per-layer tables (default: each model's first\n"
               "                   natural or file prompt set, else its first)\n"
               "  --tau X          the attention-graph threshold of the Gini and Fiedler columns (default 0.1;\n"
               "                   the nearest threshold of the file's grid is used and named)\n"
               "Values are means over prompts with t-based 95%% confidence intervals.\n"
               "Exit codes: 0 written; 2 bad arguments or a file that is not a sinkscope results file.\n");
}

static int parse(int argc, char **argv, report_args *a)
{
    memset(a, 0, sizeof *a);
    a->tau = 0.1;
    a->tex = a->md = a->csv = 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        }
        if ((!strcmp(s, "-o") || !strcmp(s, "--format") || !strcmp(s, "--select") || !strcmp(s, "--prompts") ||
             !strcmp(s, "--tau")) &&
            i + 1 >= argc) {
            fprintf(stderr, "sinkscope report: %s needs a value\n", s);
            return -1;
        }
        if (!strcmp(s, "-o")) a->dir = argv[++i];
        else if (!strcmp(s, "--select")) a->select = argv[++i];
        else if (!strcmp(s, "--prompts")) a->prompts = argv[++i];
        else if (!strcmp(s, "--tau")) {
            char *end;
            a->tau = strtod(argv[++i], &end);
            if (*end || !(a->tau > 0 && a->tau < 1)) {
                fprintf(stderr, "sinkscope report: --tau %s: a number in (0, 1)\n", argv[i]);
                return -1;
            }
        } else if (!strcmp(s, "--format")) {
            a->tex = a->md = a->csv = 0;
            char buf[64];
            snprintf(buf, sizeof buf, "%s", argv[++i]);
            for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
                if (!strcmp(t, "tex")) a->tex = 1;
                else if (!strcmp(t, "md")) a->md = 1;
                else if (!strcmp(t, "csv")) a->csv = 1;
                else {
                    fprintf(stderr, "sinkscope report: --format: unknown format '%s' (tex, md, csv)\n", t);
                    return -1;
                }
            }
        } else if (s[0] == '-') {
            fprintf(stderr, "sinkscope report: unknown option %s (see --help)\n", s);
            return -1;
        } else if (a->n_files < 64) {
            a->files[a->n_files++] = s;
        }
    }
    if (a->n_files == 0 || !a->dir) {
        fprintf(stderr, "sinkscope report: give at least one results file and -o DIR (see --help)\n");
        return -1;
    }
    return 0;
}

static int mkdir_p(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", dir);
    for (char *c = p + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
            *c = '/';
        }
    return mkdir(p, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ cells */

/* The cell of (file, model, encoding) on the primary prompt set, or -1. */
static int primary_cell(const ss_report_data *d, int k, const char *prompts)
{
    const ss_report_cell *c = &d->cells[k];
    int first = -1, natural = -1;
    for (int i = 0; i < d->n_cells; i++) {
        const ss_report_cell *o = &d->cells[i];
        if (strcmp(o->file, c->file) || strcmp(o->model, c->model) || strcmp(o->encoding, c->encoding)) continue;
        if (prompts && !strcmp(o->prompts, prompts)) return i;
        if (first < 0) first = i;
        if (natural < 0 && (!strcmp(o->prompts_kind, "natural") || !strcmp(o->prompts_kind, "file"))) natural = i;
    }
    if (prompts) return -1;
    return natural >= 0 ? natural : first;
}

/* Whether cell k is the first of its (file, model, encoding). */
static int first_of_group(const ss_report_data *d, int k)
{
    for (int i = 0; i < k; i++)
        if (!strcmp(d->cells[i].file, d->cells[k].file) && !strcmp(d->cells[i].model, d->cells[k].model) &&
            !strcmp(d->cells[i].encoding, d->cells[k].encoding))
            return 0;
    return 1;
}

static void num_cell(ss_table *t, int r, int col, const double *x, int n)
{
    ss_summary s = ss_summarise(x, n);
    ss_cell_num(ss_table_cell(t, r, col), s.mean, s.half);
}

static void anchor_cell(ss_table *t, int r, int col, const ss_report_cell *c, int l)
{
    char buf[96];
    if (!c->has_frames || l < 0 || l >= c->L || !c->anchor_text) {
        ss_cell_text(ss_table_cell(t, r, col), "--");
        return;
    }
    snprintf(buf, sizeof buf, "%.40s (%.2f)", c->anchor_text[l], c->anchor_share[l]);
    ss_cell_text(ss_table_cell(t, r, col), buf);
}

static void column(ss_table *t, int k, const char *header, const char *header_tex, const char *unit, int digits,
                   int left)
{
    ss_column *c = &t->cols[k];
    snprintf(c->header, sizeof c->header, "%.63s", header);
    snprintf(c->header_tex, sizeof c->header_tex, "%.95s", header_tex ? header_tex : "");
    snprintf(c->unit, sizeof c->unit, "%.23s", unit);
    c->digits = digits;
    c->align_left = left;
}

typedef struct {
    char names[256][64];
    char titles[256][160];
    int n;
    char fig_names[256][64];
    char fig_titles[256][160];
    int n_figs;
} listing;

static ss_status emit(const report_args *a, ss_table *t, listing *ls)
{
    ss_status st = SS_OK;
    if (a->tex) SS_TRY(ss_table_write_tex(t, a->dir));
    if (a->md) SS_TRY(ss_table_write_md(t, a->dir));
    if (a->csv) SS_TRY(ss_table_write_csv(t, a->dir));
    if (ls->n < 256) {
        snprintf(ls->names[ls->n], 64, "%.63s", t->name);
        snprintf(ls->titles[ls->n++], 160, "%.159s", t->title);
    }
done:
    return st;
}

static void fig_listed(listing *ls, const char *name, const char *title)
{
    if (ls->n_figs >= 256) return;
    snprintf(ls->fig_names[ls->n_figs], 64, "%.63s", name);
    snprintf(ls->fig_titles[ls->n_figs++], 160, "%.159s", title);
}

/* A file-system-safe stem from model and encoding names. */
static void stem(char *out, size_t cap, const char *prefix, const char *a, const char *b)
{
    snprintf(out, cap, "%.20s_%.60s%s%.60s", prefix, a, b ? "_" : "", b ? b : "");
    for (char *p = out; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            *p = '_';
}

/* ------------------------------------------------------------------------------------------ tables */

static ss_status main_table(const report_args *a, const ss_report_data *d, listing *ls)
{
    ss_status st = SS_OK;
    int rows[1024], n = 0;
    for (int k = 0; k < d->n_cells && n < 1024; k++)
        if (first_of_group(d, k)) {
            const int p = primary_cell(d, k, a->prompts);
            if (p >= 0) rows[n++] = p;
        }
    ss_table t;
    SS_TRY(ss_table_init(&t, "main", "Attention sinks and reference frames across models", 14, n));
    column(&t, 0, "Model", NULL, "", 0, 1);
    column(&t, 1, "Architecture", NULL, "", 0, 1);
    column(&t, 2, "Positional encoding", NULL, "", 0, 1);
    column(&t, 3, "BOS", NULL, "", 0, 1);
    column(&t, 4, "Frame", NULL, "", 0, 1);
    column(&t, 5, "Confidence", NULL, "", 2, 0);
    column(&t, 6, "Anchor early", NULL, "", 0, 1);
    column(&t, 7, "Anchor middle", NULL, "", 0, 1);
    column(&t, 8, "Anchor late", NULL, "", 0, 1);
    column(&t, 9, "Sink_1^0.3", "$\\mathrm{Sink}_1^{0.3}$", "%", 1, 0);
    column(&t, 10, "Gini", NULL, "", 3, 0);
    column(&t, 11, "Fiedler", NULL, "", 3, 0);
    column(&t, 12, "Entropy", NULL, "nats", 2, 0);
    column(&t, 13, "Prompts", NULL, "", 0, 0);
    int marked = 0;
    double tau = NAN, eps = NAN;
    for (int r = 0; r < n; r++) {
        const ss_report_cell *c = &d->cells[rows[r]];
        char buf[160];
        snprintf(buf, sizeof buf, "%s / %s", c->model, c->encoding);
        ss_cell_text(ss_table_cell(&t, r, 0), buf);
        ss_cell_text(ss_table_cell(&t, r, 1), c->arch);
        ss_cell_text(ss_table_cell(&t, r, 2), c->encoding_type[0] && strcmp(c->encoding_type, "native") ? c->encoding_type
                                                                                                         : c->posenc);
        ss_cell_text(ss_table_cell(&t, r, 3), c->bos);
        ss_cell_text(ss_table_cell(&t, r, 4), c->has_frames ? c->frame_label : "--");
        ss_cell_num(ss_table_cell(&t, r, 5), c->has_frames ? c->frame_confidence : NAN, NAN);
        const int L = c->L;
        anchor_cell(&t, r, 6, c, (int)lround((L - 1) / 6.0));
        anchor_cell(&t, r, 7, c, (L - 1) / 2);
        anchor_cell(&t, r, 8, c, (int)lround((L - 1) * 5.0 / 6.0));
        num_cell(&t, r, 9, c->sink1, c->n_done);
        num_cell(&t, r, 10, c->gini, c->n_done);
        num_cell(&t, r, 11, c->fiedler, c->n_done);
        num_cell(&t, r, 12, c->entropy, c->n_done);
        ss_cell_num(ss_table_cell(&t, r, 13), c->n_done, NAN);
        if (c->n_failed + c->n_pending > 0) {
            ss_table_cell(&t, r, 13)->marked = 1;
            marked = 1;
        }
        if (isnan(tau)) tau = c->tau;
        if (isnan(eps)) eps = c->sink_eps;
    }
    snprintf(t.caption, sizeof t.caption,
             "One row per model and encoding, on each model's %s prompt set. Frame: the reference-frame label "
             "(sinkscope's classifier, schemas/frames.md) with its bootstrap confidence; anchors: the dominant "
             "top-key token of layers 1/6, 1/2 and 5/6 of the depth with its share of (head, prompt) pairs. "
             "Sink_1 at eps = %.2g (Gu et al.), in-degree Gini and Fiedler value at tau = %.3g, mean row entropy: "
             "means over prompts with t-based 95%% confidence intervals.%s",
             a->prompts ? a->prompts : "primary (natural)", eps, tau,
             marked ? " (dagger) some tasks of this row failed or are missing; the means use the done ones." : "");
    st = emit(a, &t, ls);
    ss_table_free(&t);
done:
    return st;
}

static ss_status prompts_table(const report_args *a, const ss_report_data *d, listing *ls)
{
    ss_status st = SS_OK;
    char sets[16][64];
    int n_sets = 0, groups[1024], n = 0;
    for (int k = 0; k < d->n_cells; k++) {
        int seen = 0;
        for (int s = 0; s < n_sets; s++) seen |= !strcmp(sets[s], d->cells[k].prompts);
        if (!seen && n_sets < 16) snprintf(sets[n_sets++], 64, "%s", d->cells[k].prompts);
        if (first_of_group(d, k) && n < 1024) groups[n++] = k;
    }
    ss_table t;
    SS_TRY(ss_table_init(&t, "sink_by_prompts", "Sink_1 by kind of input", 1 + n_sets, n));
    column(&t, 0, "Model / encoding", NULL, "", 0, 1);
    for (int s = 0; s < n_sets; s++) column(&t, 1 + s, sets[s], NULL, "%", 1, 0);
    for (int r = 0; r < n; r++) {
        const ss_report_cell *g = &d->cells[groups[r]];
        char buf[160];
        snprintf(buf, sizeof buf, "%s / %s", g->model, g->encoding);
        ss_cell_text(ss_table_cell(&t, r, 0), buf);
        for (int k = 0; k < d->n_cells; k++) {
            const ss_report_cell *c = &d->cells[k];
            if (strcmp(c->file, g->file) || strcmp(c->model, g->model) || strcmp(c->encoding, g->encoding)) continue;
            for (int s = 0; s < n_sets; s++)
                if (!strcmp(sets[s], c->prompts)) {
                    num_cell(&t, r, 1 + s, c->sink1, c->n_done);
                    if (c->n_failed + c->n_pending > 0) ss_table_cell(&t, r, 1 + s)->marked = 1;
                }
        }
    }
    snprintf(t.caption, sizeof t.caption,
             "Sink_1 (percent of layers x heads whose first key has alpha_1 > 0.3; Gu et al. 2025) per prompt set, "
             "mean over prompts with t-based 95%% confidence intervals. Compare Gu et al.'s Table 1 (natural, "
             "random-token and repeated-token inputs). (dagger) some tasks failed or are missing.");
    st = emit(a, &t, ls);
    ss_table_free(&t);
done:
    return st;
}

static ss_status layer_table(const report_args *a, const ss_report_cell *c, listing *ls)
{
    ss_status st = SS_OK;
    char name[160], title[256];
    stem(name, sizeof name, "layers", c->model, c->encoding);
    snprintf(title, sizeof title, "%s, %s encoding, %s prompts: by layer", c->model, c->encoding, c->prompts);
    ss_table t;
    SS_TRY(ss_table_init(&t, name, title, 7, c->L));
    column(&t, 0, "Layer", NULL, "", 0, 0);
    column(&t, 1, "Sink_1", "$\\mathrm{Sink}_1$", "%", 1, 0);
    column(&t, 2, "Anchor", NULL, "", 0, 1);
    column(&t, 3, "Share", NULL, "", 2, 0);
    column(&t, 4, "Entropy", NULL, "nats", 2, 0);
    column(&t, 5, "Gini", NULL, "", 3, 0);
    column(&t, 6, "Fiedler", NULL, "", 3, 0);
    for (int l = 0; l < c->L; l++) {
        ss_cell_num(ss_table_cell(&t, l, 0), l, NAN);
        ss_cell_num(ss_table_cell(&t, l, 1), c->sink1_l[l], NAN);
        ss_cell_text(ss_table_cell(&t, l, 2), c->has_frames ? c->anchor_text[l] : "--");
        ss_cell_num(ss_table_cell(&t, l, 3), c->has_frames ? c->anchor_share[l] : NAN, NAN);
        ss_cell_num(ss_table_cell(&t, l, 4), c->entropy_l[l], NAN);
        ss_cell_num(ss_table_cell(&t, l, 5), c->gini_l[l], NAN);
        ss_cell_num(ss_table_cell(&t, l, 6), c->fiedler_l[l], NAN);
    }
    snprintf(t.caption, sizeof t.caption,
             "Per layer (0-based), means over %d prompts: Sink_1 = percent of the layer's heads with alpha_1 > %.2g; "
             "the dominant top-key token and its share of (head, prompt) pairs (/frames); mean row entropy; in-degree "
             "Gini and head-mean Fiedler value at tau = %.3g (Fiedler only where tau is effective).%s",
             c->n_done, c->sink_eps, c->tau, c->n_failed + c->n_pending ? " Some tasks failed or are missing." : "");
    st = emit(a, &t, ls);
    ss_table_free(&t);
done:
    return st;
}

/* Spearman's ρ of x [n] and y [n]: Pearson r of their ranks (ties get their mean rank). */
static double spearman(const double *x, const double *y, int n)
{
    double *rk = malloc((size_t)2 * n * sizeof *rk); /* [2][n] */
    if (!rk) return NAN;
    for (int s = 0; s < 2; s++) {
        const double *v = s ? y : x;
        for (int i = 0; i < n; i++) {
            int less = 0, same = 0;
            for (int j = 0; j < n; j++) {
                less += v[j] < v[i];
                same += v[j] == v[i];
            }
            rk[(size_t)s * n + i] = less + 0.5 * (same - 1); /* 0-based mean rank */
        }
    }
    const double r = ss_pearson(rk, rk + n, n);
    free(rk);
    return r;
}

/* The fisher family's correlations of F_l (its `layer` column) with the layer index, as the paper reports them:
 * Pearson and Spearman over all layers, and Pearson over each 3-layer sliding window (l-1, l, l+1), appended to
 * buf. Nothing when the column is missing or not finite. */
static void fisher_correlations(const ss_report_family *fam, char *buf, size_t cap)
{
    int col = -1;
    for (int k = 0; k < fam->n_cols; k++)
        if (!strcmp(fam->cols[k], "layer")) col = k;
    const int L = fam->n_rows;
    if (col < 0 || L < 3) return;
    double *F = malloc((size_t)L * sizeof *F), *idx = malloc((size_t)L * sizeof *idx); /* [L] each */
    int ok = F && idx;
    for (int l = 0; ok && l < L; l++) {
        F[l] = fam->values[(size_t)l * SS_REPORT_MAX_FAMILY_COLS + col];
        idx[l] = l;
        ok = isfinite(F[l]);
    }
    if (ok) {
        size_t used = strlen(buf);
        int w = snprintf(buf + used, cap - used,
                         " F_l (column layer) against the layer index: Pearson r = %.3f, Spearman rho = %.3f; Pearson "
                         "r over the 3-layer windows centred on layers 1..%d:",
                         ss_pearson(idx, F, L), spearman(idx, F, L), L - 2);
        for (int l = 1; w > 0 && l + 1 < L; l++) {
            used = strlen(buf);
            if (used + 8 >= cap) break;
            w = snprintf(buf + used, cap - used, " %.2f", ss_pearson(idx + l - 1, F + l - 1, 3));
        }
        used = strlen(buf);
        if (used + 2 < cap) snprintf(buf + used, cap - used, ".");
    }
    free(F);
    free(idx);
}

/* One table per other analysis family of the cell: its per-layer means (report_data.h). */
static ss_status family_tables(const report_args *a, const ss_report_cell *c, listing *ls)
{
    ss_status st = SS_OK;
    for (int fi = 0; fi < c->n_families && st == SS_OK; fi++) {
        const ss_report_family *fam = &c->families[fi];
        char name[160], title[512], prefix[40];
        snprintf(prefix, sizeof prefix, "%.39s", fam->name);
        stem(name, sizeof name, prefix, c->model, c->encoding);
        snprintf(title, sizeof title, "%.40s, %.40s encoding, %.40s prompts: %.40s (%.31s) by layer", c->model,
                 c->encoding, c->prompts, fam->name, fam->type);
        ss_table t;
        SS_TRY(ss_table_init(&t, name, title, 1 + fam->n_cols, fam->n_rows));
        column(&t, 0, fam->n_rows == c->L + 1 ? "State" : "Layer", NULL, "", 0, 0);
        for (int k = 0; k < fam->n_cols; k++) column(&t, 1 + k, fam->cols[k], NULL, fam->units[k], 3, 0);
        for (int r = 0; r < fam->n_rows; r++) {
            ss_cell_num(ss_table_cell(&t, r, 0), r, NAN);
            for (int k = 0; k < fam->n_cols; k++)
                ss_cell_num(ss_table_cell(&t, r, 1 + k), fam->values[(size_t)r * SS_REPORT_MAX_FAMILY_COLS + k], NAN);
        }
        snprintf(t.caption, sizeof t.caption,
                 "Analysis '%s' (type %s; definitions in schemas/analyses.md): each dataset's mean over the %d done "
                 "prompts%s, per %s.",
                 fam->name, fam->type, c->n_done, " (and over heads for per-head datasets)",
                 fam->n_rows == c->L + 1 ? "hidden state (0 = embeddings, L = last)" : "layer");
        if (!strcmp(fam->type, "fisher")) fisher_correlations(fam, t.caption, sizeof t.caption);
        st = emit(a, &t, ls);
        ss_table_free(&t);
    }
done:
    return st;
}

/* ------------------------------------------------------------------------------------------ figures */

static ss_status figures(const report_args *a, const ss_report_data *d, listing *ls)
{
    ss_status st = SS_OK;
    char name[160], title[256];
    /* layer x head Sink_1, per model (its first encoding, primary prompt set) */
    for (int k = 0; k < d->n_cells; k++) {
        if (!first_of_group(d, k)) continue;
        const int p = primary_cell(d, k, a->prompts);
        if (p != k && p >= 0 && first_of_group(d, p)) continue;
        const ss_report_cell *c = &d->cells[p < 0 ? k : p];
        int any = 0;
        for (int e = 0; e < c->L * c->H; e++) any |= !isnan(c->sink1_lh[e]);
        if (!any) continue;
        stem(name, sizeof name, "sink_heatmap", c->model, c->encoding);
        snprintf(title, sizeof title, "%s (%s, %s): %% of prompts with alpha_1 > %.2g", c->model, c->encoding,
                 c->prompts, c->sink_eps);
        ss_heatmap h = {title, "head", "layer", "Sink_1 [%]", c->L, c->H, c->sink1_lh, 0.0, 100.0, NULL, NULL};
        SS_TRY(ss_figure_heatmap(a->dir, name, &h));
        fig_listed(ls, name, title);
    }
    /* one attention map with its tokens: the first cell that has one */
    for (int k = 0; k < d->n_cells; k++) {
        const ss_report_cell *c = &d->cells[k];
        if (!c->map) continue;
        double *v = malloc((size_t)c->map_T * c->map_T * sizeof *v);
        const char **lab = malloc((size_t)c->map_T * sizeof *lab);
        if (!v || !lab) {
            free(v);
            free(lab);
            st = ss_fail(SS_ERR_NOMEM, "out of memory drawing the attention map");
            goto done;
        }
        for (int e = 0; e < c->map_T * c->map_T; e++) v[e] = c->map[e];
        for (int t = 0; t < c->map_T; t++) lab[t] = c->map_tokens[t];
        stem(name, sizeof name, "attention_map", c->model, c->encoding);
        snprintf(title, sizeof title, "%s (%s): head-mean attention, layer %d, first %s prompt", c->model, c->encoding,
                 c->map_layer, c->prompts);
        ss_heatmap h = {title, "key", "query", "attention", c->map_T, c->map_T, v, 0.0, 1.0, lab, lab};
        st = ss_figure_heatmap(a->dir, name, &h);
        free(v);
        free(lab);
        if (st != SS_OK) goto done;
        fig_listed(ls, name, title);
        break;
    }
    /* anchor share by layer, one figure per model: a curve per encoding (primary prompt set) */
    for (int k = 0; k < d->n_cells; k++) {
        const ss_report_cell *c0 = &d->cells[k];
        int first_model = 1;
        for (int i = 0; i < k; i++) first_model &= strcmp(d->cells[i].model, c0->model) || strcmp(d->cells[i].file, c0->file);
        if (!first_model) continue;
        int idx[64], ns = 0;
        for (int i = 0; i < d->n_cells && ns < 64; i++) {
            const ss_report_cell *c = &d->cells[i];
            if (strcmp(c->model, c0->model) || strcmp(c->file, c0->file) || !first_of_group(d, i)) continue;
            const int p = primary_cell(d, i, a->prompts);
            if (p >= 0 && d->cells[p].has_frames) idx[ns++] = p;
        }
        if (!ns) continue;
        const int L = c0->L;
        double *x = malloc((size_t)L * sizeof *x), *y = malloc((size_t)ns * L * sizeof *y);
        const char **names = malloc((size_t)ns * sizeof *names);
        if (!x || !y || !names) {
            free(x);
            free(y);
            free(names);
            st = ss_fail(SS_ERR_NOMEM, "out of memory drawing the anchor shares");
            goto done;
        }
        for (int l = 0; l < L; l++) x[l] = l;
        for (int s = 0; s < ns; s++) {
            names[s] = d->cells[idx[s]].encoding;
            for (int l = 0; l < L; l++) y[(size_t)s * L + l] = d->cells[idx[s]].anchor_share[l];
        }
        stem(name, sizeof name, "anchor_share", c0->model, NULL);
        snprintf(title, sizeof title, "%s: share of the dominant anchor by layer", c0->model);
        ss_lines lines = {title, "layer", "share of (head, prompt) pairs", ns, L, x, y, names, 0.0, 1.0, 0};
        st = ss_figure_lines(a->dir, name, &lines);
        free(x);
        free(y);
        free(names);
        if (st != SS_OK) goto done;
        fig_listed(ls, name, title);
    }
    /* frame labels across models: per model, how many (encoding, prompt set) cells carry each label */
    {
        static const char *const labels[] = {"centralized", "distributed", "bidirectional", "mixed", "none"};
        char models[64][64];
        int nm = 0;
        for (int k = 0; k < d->n_cells; k++) {
            int seen = 0;
            for (int m = 0; m < nm; m++) seen |= !strcmp(models[m], d->cells[k].model);
            if (!seen && nm < 64) snprintf(models[nm++], 64, "%s", d->cells[k].model);
        }
        double *v = calloc((size_t)nm * 5 + 1, sizeof *v);
        const char *gn[64];
        int any = 0;
        if (!v) {
            st = ss_fail(SS_ERR_NOMEM, "out of memory drawing the frame summary");
            goto done;
        }
        for (int m = 0; m < nm; m++) gn[m] = models[m];
        for (int k = 0; k < d->n_cells; k++) {
            const ss_report_cell *c = &d->cells[k];
            if (!c->has_frames) continue;
            for (int m = 0; m < nm; m++)
                if (!strcmp(models[m], c->model))
                    for (int b = 0; b < 5; b++)
                        if (!strcmp(labels[b], c->frame_label)) {
                            v[m * 5 + b] += 1.0;
                            any = 1;
                        }
        }
        if (any && nm > 0) {
            ss_bars bars = {"Reference-frame labels across models", "model", "(encoding, prompt set) cells", nm, 5, 1,
                            v, gn, labels};
            st = ss_figure_bars(a->dir, "frames_summary", &bars);
            if (st == SS_OK) fig_listed(ls, "frames_summary", "Reference-frame labels across models");
        }
        free(v);
        if (st != SS_OK) goto done;
    }
done:
    return st;
}

/* ------------------------------------------------------------------------------------------ index */

static ss_status write_index(const report_args *a, const ss_report_data *d, const listing *ls)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/index.md", a->dir);
    FILE *f = fopen(path, "w");
    if (!f) return ss_fail(SS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "# sinkscope report\n\nMade by `sinkscope report` from %d results file(s); nothing was re-run.\n\n",
            a->n_files);
    fprintf(f, "## Provenance\n\n| results file | sweep | sinkscope | model | sha256 | stored weights |\n|---|---|---|---|---|---|\n");
    for (int k = 0; k < d->n_cells; k++) {
        int seen = 0;
        for (int i = 0; i < k; i++) seen |= !strcmp(d->cells[i].file, d->cells[k].file) && !strcmp(d->cells[i].model, d->cells[k].model);
        if (seen) continue;
        const ss_report_cell *c = &d->cells[k];
        fprintf(f, "| `%s` | %s | %s | %s (%s) | `%.16s…` | %s |\n", c->file, c->sweep_name, c->version, c->model,
                c->arch, c->sha256, c->weight_types);
    }
    fprintf(f, "\n## Tables\n\nEach table is in LaTeX (`.tex`, compiles on its own; `report.tex` includes them all), "
               "Markdown (`.md`) and CSV with units in the header (`.csv`), as requested with --format. Values are "
               "means over prompts with t-based 95%% confidence intervals (mean ± t₀.₉₇₅,ₙ₋₁·s/√n).\n\n");
    for (int i = 0; i < ls->n; i++) {
        fprintf(f, "- **%s**:", ls->titles[i]);
        if (a->md) fprintf(f, " [md](%s.md)", ls->names[i]);
        if (a->tex) fprintf(f, " [tex](%s.tex)", ls->names[i]);
        if (a->csv) fprintf(f, " [csv](%s.csv)", ls->names[i]);
        fprintf(f, "\n");
    }
    fprintf(f, "\nNo training checkpoints in these files, so there is no emergence table or curve.\n");
    fprintf(f, "\n## Figures\n\nPNG and SVG; colour-blind-safe palettes (viridis, Okabe–Ito).\n\n");
    for (int i = 0; i < ls->n_figs; i++)
        fprintf(f, "- **%s**: [png](%s.png) [svg](%s.svg)\n\n  ![%s](%s.png)\n", ls->fig_titles[i], ls->fig_names[i],
                ls->fig_names[i], ls->fig_titles[i], ls->fig_names[i]);
    fprintf(f, "\n## Tasks\n\n| model | encoding | prompts | done | failed | skipped | missing | first problem |\n"
               "|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < d->n_cells; k++) {
        const ss_report_cell *c = &d->cells[k];
        fprintf(f, "| %s | %s | %s | %d | %d | %d | %d | %s |\n", c->model, c->encoding, c->prompts, c->n_done,
                c->n_failed, c->n_skipped, c->n_pending, c->first_error[0] ? c->first_error : "");
    }
    if (fclose(f) != 0) return ss_fail(SS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return SS_OK;
}

int ss_cmd_report(int argc, char **argv)
{
    report_args a;
    int rc = parse(argc, argv, &a);
    if (rc != 0) return rc > 0 ? SS_EXIT_OK : SS_EXIT_USAGE;
    ss_report_data d;
    ss_status st = ss_report_read(a.files, a.n_files, a.tau, a.select, &d);
    if (st != SS_OK) {
        fprintf(stderr, "sinkscope report: %s\n", ss_errmsg());
        return st == SS_ERR_NOMEM ? SS_EXIT_INTERNAL : SS_EXIT_USAGE;
    }
    listing *ls = calloc(1, sizeof *ls);
    int code = SS_EXIT_OK;
    if (!ls || d.n_cells == 0) {
        fprintf(stderr, "sinkscope report: %s\n", ls ? "nothing to report (check --select)" : "out of memory");
        code = ls ? SS_EXIT_USAGE : SS_EXIT_INTERNAL;
        goto done;
    }
    if (mkdir_p(a.dir) != 0) {
        fprintf(stderr, "sinkscope report: cannot create %s: %s\n", a.dir, strerror(errno));
        code = SS_EXIT_USAGE;
        goto done;
    }
    st = main_table(&a, &d, ls);
    if (st == SS_OK) st = prompts_table(&a, &d, ls);
    for (int k = 0; k < d.n_cells && st == SS_OK; k++)
        if (first_of_group(&d, k)) {
            const int p = primary_cell(&d, k, a.prompts);
            if (p >= 0) st = layer_table(&a, &d.cells[p], ls);
            if (p >= 0 && st == SS_OK) st = family_tables(&a, &d.cells[p], ls);
        }
    if (st == SS_OK && a.tex) {
        const char *names[256];
        for (int i = 0; i < ls->n; i++) names[i] = ls->names[i];
        st = ss_tables_write_master(a.dir, "sinkscope report", names, ls->n);
    }
    if (st == SS_OK) st = figures(&a, &d, ls);
    if (st == SS_OK) st = write_index(&a, &d, ls);
    if (st != SS_OK) {
        fprintf(stderr, "sinkscope report: %s\n", ss_errmsg());
        code = st == SS_ERR_IO ? SS_EXIT_USAGE : SS_EXIT_INTERNAL;
        goto done;
    }
    printf("report: %s/index.md (%d tables, %d figures, %d cells from %d file(s))\n", a.dir, ls->n, ls->n_figs,
           d.n_cells, d.n_files);
done:
    free(ls);
    ss_report_data_free(&d);
    return code;
}
