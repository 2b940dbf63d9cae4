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

/* 0 for a checkpoint of `sinkscope train` that has a later step of the same run (file, encoding, seed) in d: the
 * per-model tables and figures show each run's last checkpoint only; the emergence table shows every step. */
static int shown_per_model(const ss_report_data *d, int k)
{
    const ss_report_cell *c = &d->cells[k];
    if (c->train_step < 0) return 1;
    for (int i = 0; i < d->n_cells; i++) {
        const ss_report_cell *o = &d->cells[i];
        if (o->train_step > c->train_step && o->train_seed == c->train_seed && !strcmp(o->train_enc, c->train_enc) &&
            !strcmp(o->file, c->file) && !strcmp(o->encoding, c->encoding))
            return 0;
    }
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
        if (first_of_group(d, k) && shown_per_model(d, k)) {
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
        if (first_of_group(d, k) && shown_per_model(d, k) && n < 1024) groups[n++] = k;
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

/* ------------------------------------------------------------------------------------------ emergence */

enum { EM_MAX_ENC = 16, EM_MAX_STEPS = 64, EM_MAX_SETS = 8 };
#define EM_ONSET 10.0 /* Sink_1^eps (%) from which a run counts as having a sink, when it stays there */

/* The checkpoints of `sinkscope train` in d: their encodings (order of appearance), steps (sorted), prompt sets,
 * and the primary prompt set (--prompts, else the first natural or file one, else the first). */
typedef struct {
    char enc[EM_MAX_ENC][32];
    int n_enc;
    long steps[EM_MAX_STEPS];
    int n_steps;
    char sets[EM_MAX_SETS][64];
    int n_sets, primary;
} em_grid;

static int em_collect(const report_args *a, const ss_report_data *d, em_grid *g)
{
    memset(g, 0, sizeof *g);
    g->primary = -1;
    for (int k = 0; k < d->n_cells; k++) {
        const ss_report_cell *c = &d->cells[k];
        if (c->train_step < 0) continue;
        int i = 0;
        while (i < g->n_enc && strcmp(g->enc[i], c->train_enc)) i++;
        if (i == g->n_enc && g->n_enc < EM_MAX_ENC) snprintf(g->enc[g->n_enc++], 32, "%s", c->train_enc);
        i = 0;
        while (i < g->n_steps && g->steps[i] != c->train_step) i++;
        if (i == g->n_steps && g->n_steps < EM_MAX_STEPS) g->steps[g->n_steps++] = c->train_step;
        i = 0;
        while (i < g->n_sets && strcmp(g->sets[i], c->prompts)) i++;
        if (i == g->n_sets && g->n_sets < EM_MAX_SETS) {
            snprintf(g->sets[g->n_sets], 64, "%s", c->prompts);
            if (g->primary < 0 && !a->prompts && (!strcmp(c->prompts_kind, "natural") || !strcmp(c->prompts_kind, "file")))
                g->primary = g->n_sets;
            if (a->prompts && !strcmp(a->prompts, c->prompts)) g->primary = g->n_sets;
            g->n_sets++;
        }
    }
    /* encodings in the order absolute (learned, sinusoidal), relative (rope, alibi), none; others after */
    static const char *const order[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
    int rank[EM_MAX_ENC];
    for (int i = 0; i < g->n_enc; i++) {
        rank[i] = 5;
        for (int k = 0; k < 5; k++)
            if (!strcmp(g->enc[i], order[k])) rank[i] = k;
    }
    for (int i = 1; i < g->n_enc; i++)
        for (int j = i; j > 0 && rank[j - 1] > rank[j]; j--) {
            char t[32];
            memcpy(t, g->enc[j], 32), memcpy(g->enc[j], g->enc[j - 1], 32), memcpy(g->enc[j - 1], t, 32);
            const int r = rank[j];
            rank[j] = rank[j - 1], rank[j - 1] = r;
        }
    for (int i = 1; i < g->n_steps; i++) /* insertion sort: a few dozen steps */
        for (int j = i; j > 0 && g->steps[j - 1] > g->steps[j]; j--) {
            long t = g->steps[j];
            g->steps[j] = g->steps[j - 1];
            g->steps[j - 1] = t;
        }
    if (g->primary < 0) g->primary = 0;
    return g->n_enc > 0;
}

/* The prompts' Sink_1 of every seed's checkpoint (enc, step, set), pooled into x (n of them); returns the number
 * of seeds found and sums their held-out losses and mean anchor shares (over layers) into loss/share. */
static int em_pool(const ss_report_data *d, const char *enc, long step, const char *set, double *x, int *n, double *loss,
                   int *n_loss, double *share, int *n_share, char labels[][24], int *n_labels)
{
    int seeds = 0;
    *n = 0;
    for (int k = 0; k < d->n_cells; k++) {
        const ss_report_cell *c = &d->cells[k];
        if (c->train_step != step || strcmp(c->train_enc, enc) || strcmp(c->prompts, set)) continue;
        seeds++;
        for (int i = 0; i < c->n_done; i++) x[(*n)++] = c->sink1[i];
        if (loss && !isnan(c->heldout_loss)) *loss += c->heldout_loss, (*n_loss)++;
        if (share && c->has_frames) {
            double m = 0.0;
            for (int l = 0; l < c->L; l++) m += c->anchor_share[l];
            *share += m / c->L;
            (*n_share)++;
        }
        if (labels && c->has_frames && *n_labels < 16) snprintf(labels[(*n_labels)++], 24, "%s", c->frame_label);
    }
    return seeds;
}

/* "centralized" when every seed agrees, else "centralized 1/2, none 1/2" (labels of n seeds). */
static void em_labels(char *out, size_t cap, char labels[][24], int n)
{
    out[0] = 0;
    if (n == 0) {
        snprintf(out, cap, "--");
        return;
    }
    int done[16] = {0};
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        if (done[i]) continue;
        int cnt = 0;
        for (int j = i; j < n; j++)
            if (!strcmp(labels[i], labels[j])) done[j] = 1, cnt++;
        if (cnt == n) {
            snprintf(out, cap, "%s", labels[i]);
            return;
        }
        if (o < cap) o += (size_t)snprintf(out + o, cap - o, "%s%s %d/%d", o ? ", " : "", labels[i], cnt, n);
    }
}

static ss_status emergence(const report_args *a, const ss_report_data *d, listing *ls)
{
    ss_status st = SS_OK;
    em_grid g;
    if (!em_collect(a, d, &g)) return SS_OK; /* no trained checkpoints */
    size_t cap = 1;
    for (int k = 0; k < d->n_cells; k++) cap += (size_t)d->cells[k].n_done;
    double *x = malloc(cap * sizeof *x), *curve = NULL, *xs = NULL, *loss_curve = NULL;
    ss_table t, o;
    memset(&t, 0, sizeof t);
    memset(&o, 0, sizeof o);
    int rows = 0;
    if (!x) return ss_fail(SS_ERR_NOMEM, "out of memory for the emergence table");
    for (int e = 0; e < g.n_enc; e++)
        for (int s = 0; s < g.n_steps; s++) {
            int n;
            if (em_pool(d, g.enc[e], g.steps[s], g.sets[g.primary], x, &n, NULL, NULL, NULL, NULL, NULL, NULL)) rows++;
        }
    const int n_cols = 5 + g.n_sets + 2;
    SS_TRY(ss_table_init(&t, "emergence", "Emergence of attention sinks during training", n_cols, rows));
    column(&t, 0, "Encoding", NULL, "", 0, 1);
    column(&t, 1, "Step", NULL, "", 0, 0);
    column(&t, 2, "Held-out loss", NULL, "nats/byte", 3, 0);
    column(&t, 3, "Seeds", NULL, "", 0, 0);
    for (int q = 0; q < g.n_sets; q++) {
        char h[96], ht[128];
        snprintf(h, sizeof h, "Sink_1^0.3 %.40s", g.sets[q]);
        snprintf(ht, sizeof ht, "$\\mathrm{Sink}_1^{0.3}$ %.40s", g.sets[q]);
        column(&t, 4 + q, h, ht, "%", 1, 0);
    }
    column(&t, 4 + g.n_sets, "Frame", NULL, "", 0, 1);
    column(&t, 5 + g.n_sets, "Anchor share", NULL, "", 2, 0);
    column(&t, 6 + g.n_sets, "Prompts", NULL, "", 0, 0);
    /* curves: Sink_1 (primary set) and held-out loss by step, one series per encoding */
    curve = malloc((size_t)g.n_enc * g.n_steps * sizeof *curve);
    loss_curve = malloc((size_t)g.n_enc * g.n_steps * sizeof *loss_curve);
    xs = malloc((size_t)g.n_steps * sizeof *xs);
    if (!curve || !loss_curve || !xs) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory for the emergence curves");
        goto done;
    }
    int r = 0;
    for (int e = 0; e < g.n_enc; e++)
        for (int s = 0; s < g.n_steps; s++) {
            int n, n_loss = 0, n_share = 0, n_lab = 0;
            double loss = 0.0, share = 0.0;
            char labels[16][24], lab[160];
            const int seeds = em_pool(d, g.enc[e], g.steps[s], g.sets[g.primary], x, &n, &loss, &n_loss, &share,
                                      &n_share, labels, &n_lab);
            curve[(size_t)e * g.n_steps + s] = seeds ? ss_summarise(x, n).mean : NAN;
            loss_curve[(size_t)e * g.n_steps + s] = n_loss ? loss / n_loss : NAN;
            if (!seeds) continue;
            char buf[32];
            ss_cell_text(ss_table_cell(&t, r, 0), g.enc[e][0] ? g.enc[e] : "?");
            snprintf(buf, sizeof buf, "%ld", g.steps[s]);
            ss_cell_text(ss_table_cell(&t, r, 1), buf);
            ss_cell_num(ss_table_cell(&t, r, 2), n_loss ? loss / n_loss : NAN, NAN);
            ss_cell_num(ss_table_cell(&t, r, 3), seeds, NAN);
            const int n_primary = n;
            for (int q = 0; q < g.n_sets; q++) {
                int nq;
                if (em_pool(d, g.enc[e], g.steps[s], g.sets[q], x, &nq, NULL, NULL, NULL, NULL, NULL, NULL))
                    num_cell(&t, r, 4 + q, x, nq);
                else
                    ss_cell_num(ss_table_cell(&t, r, 4 + q), NAN, NAN);
            }
            em_labels(lab, sizeof lab, labels, n_lab);
            ss_cell_text(ss_table_cell(&t, r, 4 + g.n_sets), lab);
            ss_cell_num(ss_table_cell(&t, r, 5 + g.n_sets), n_share ? share / n_share : NAN, NAN);
            ss_cell_num(ss_table_cell(&t, r, 6 + g.n_sets), n_primary, NAN);
            r++;
        }
    snprintf(t.caption, sizeof t.caption,
             "Checkpoints of sinkscope train, one row per positional encoding and training step (log-spaced), pooled "
             "over the seeds. Sink_1 at eps = 0.3 (percent of layers x heads whose first key has alpha_1 > 0.3) per "
             "prompt set, mean over the prompts of every seed with t-based 95%% confidence intervals. Frame: the "
             "reference-frame label on the %s prompts (with the count of seeds when they disagree); anchor share: "
             "the dominant anchor's share of (head, prompt) pairs, mean over layers and seeds. Held-out loss in nats "
             "per byte at that step.",
             g.sets[g.primary]);
    SS_TRY(emit(a, &t, ls));

    /* onset: the first step from which Sink_1 (primary set) stays >= EM_ONSET */
    SS_TRY(ss_table_init(&o, "sink_onset", "When attention sinks appear in training", 5, g.n_enc));
    column(&o, 0, "Encoding", NULL, "", 0, 1);
    column(&o, 1, "Onset step", NULL, "", 0, 0);
    column(&o, 2, "Final step", NULL, "", 0, 0);
    column(&o, 3, "Final Sink_1^0.3", "Final $\\mathrm{Sink}_1^{0.3}$", "%", 1, 0);
    column(&o, 4, "Final frame", NULL, "", 0, 1);
    for (int e = 0; e < g.n_enc; e++) {
        int onset = -1, last = -1;
        for (int s = 0; s < g.n_steps; s++) {
            const double v = curve[(size_t)e * g.n_steps + s];
            if (isnan(v)) continue;
            last = s;
            if (v >= EM_ONSET && onset < 0) onset = s;
            if (v < EM_ONSET) onset = -1;
        }
        char buf[64];
        ss_cell_text(ss_table_cell(&o, e, 0), g.enc[e][0] ? g.enc[e] : "?");
        snprintf(buf, sizeof buf, "%s", "never");
        if (onset >= 0) snprintf(buf, sizeof buf, "%ld", g.steps[onset]);
        ss_cell_text(ss_table_cell(&o, e, 1), buf);
        snprintf(buf, sizeof buf, "%ld", last >= 0 ? g.steps[last] : -1L);
        ss_cell_text(ss_table_cell(&o, e, 2), buf);
        int n = 0, n_lab = 0;
        char labels[16][24], lab[160];
        if (last >= 0 && em_pool(d, g.enc[e], g.steps[last], g.sets[g.primary], x, &n, NULL, NULL, NULL, NULL, labels,
                                 &n_lab))
            num_cell(&o, e, 3, x, n);
        else
            ss_cell_num(ss_table_cell(&o, e, 3), NAN, NAN);
        em_labels(lab, sizeof lab, labels, n_lab);
        ss_cell_text(ss_table_cell(&o, e, 4), lab);
    }
    snprintf(o.caption, sizeof o.caption,
             "Onset: the first checkpoint from which the seed-pooled Sink_1^0.3 on the %s prompts is at least %.0f%% "
             "at every later checkpoint (never: not by the last one). Final: the last checkpoint.",
             g.sets[g.primary], EM_ONSET);
    SS_TRY(emit(a, &o, ls));

    /* figures: x = step + 1 on a log axis (step 0 is the initialisation) */
    for (int s = 0; s < g.n_steps; s++) xs[s] = (double)g.steps[s] + 1.0;
    {
        const char *names[EM_MAX_ENC];
        for (int e = 0; e < g.n_enc; e++) names[e] = g.enc[e];
        char title[200];
        snprintf(title, sizeof title, "Sink_1^0.3 during training (%s prompts, mean over seeds)", g.sets[g.primary]);
        ss_lines l1 = {title, "training step + 1", "Sink_1^0.3 [%]", g.n_enc, g.n_steps, xs, curve, names, 0.0, 100.0,
                       1};
        SS_TRY(ss_figure_lines(a->dir, "emergence_sink1", &l1));
        fig_listed(ls, "emergence_sink1", title);
        int any_loss = 0;
        for (int i = 0; i < g.n_enc * g.n_steps; i++) any_loss |= !isnan(loss_curve[i]);
        ss_lines l2 = {"Held-out loss during training (mean over seeds)", "training step + 1", "nats per byte",
                       g.n_enc, g.n_steps, xs, loss_curve, names, 0.0, 0.0, 1};
        if (any_loss) {
            SS_TRY(ss_figure_lines(a->dir, "emergence_loss", &l2));
            fig_listed(ls, "emergence_loss", "Held-out loss during training (mean over seeds)");
        }
    }
done:
    ss_table_free(&t);
    ss_table_free(&o);
    free(x);
    free(curve);
    free(loss_curve);
    free(xs);
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
        if (!first_of_group(d, k) || !shown_per_model(d, k)) continue;
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
        int first_model = shown_per_model(d, k);
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
    int n_ckpt = 0;
    for (int k = 0; k < d->n_cells; k++) n_ckpt += d->cells[k].train_step >= 0;
    if (n_ckpt == 0)
        fprintf(f, "\nNo training checkpoints in these files, so there is no emergence table or curve.\n");
    else
        fprintf(f, "\n%d of the %d cells are checkpoints of `sinkscope train` (the `train` attribute of their model): "
                   "the emergence and onset tables cover every step; the per-model tables and figures show each run's "
                   "last checkpoint.\n",
                n_ckpt, d->n_cells);
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
    if (st == SS_OK) st = emergence(&a, &d, ls);
    for (int k = 0; k < d.n_cells && st == SS_OK; k++)
        if (first_of_group(&d, k) && shown_per_model(&d, k)) {
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
