/* config.c: the training config YAML (config.h), read with libyaml's document loader; every node carries its
 * mark, so each error names its line and column, reported through sweep.h's ss_diags. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "../fsutil.h" /* ss_path_join */

typedef struct {
    yaml_document_t *doc;
    ss_diags *diags;
    int errors;
} pctx;

static ss_loc node_loc(const yaml_node_t *n)
{
    return (ss_loc){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
}

static void perr(pctx *c, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void perr(pctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ss_diags_add(c->diags, n ? node_loc(n) : (ss_loc){0, 0}, "%s", msg);
    c->errors++;
}

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int want_scalar(pctx *c, const yaml_node_t *v, const char *key)
{
    if (v->type == YAML_SCALAR_NODE) return 1;
    perr(c, v, "'%s' must be a single value, not a %s", key, v->type == YAML_MAPPING_NODE ? "mapping" : "list");
    return 0;
}

static int get_int(pctx *c, const yaml_node_t *v, const char *key, long long lo, long long hi, int *out)
{
    if (!want_scalar(c, v, key)) return 0;
    const char *s = scalar(v);
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (!*s || *end || errno) {
        perr(c, v, "'%s' must be an integer, got '%.60s'", key, s);
        return 0;
    }
    if (x < lo || x > hi) {
        perr(c, v, "'%s' = %lld is outside %lld..%lld", key, x, lo, hi);
        return 0;
    }
    *out = (int)x;
    return 1;
}

static int get_seed(pctx *c, const yaml_node_t *v, const char *key, uint64_t *out)
{
    if (!want_scalar(c, v, key)) return 0;
    const char *s = scalar(v);
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (!*s || *s == '-' || *end || errno) {
        perr(c, v, "'%s' must be an integer in 0..2^64-1, got '%.60s'", key, s);
        return 0;
    }
    *out = x;
    return 1;
}

static int get_real(pctx *c, const yaml_node_t *v, const char *key, double lo, double hi, double *out)
{
    if (!want_scalar(c, v, key)) return 0;
    const char *s = scalar(v);
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(x)) {
        perr(c, v, "'%s' must be a number, got '%.60s'", key, s);
        return 0;
    }
    if (x < lo || x > hi) {
        perr(c, v, "'%s' = %g is outside [%g, %g]", key, x, lo, hi);
        return 0;
    }
    *out = x;
    return 1;
}

static int get_bool(pctx *c, const yaml_node_t *v, const char *key, int *out)
{
    if (!want_scalar(c, v, key)) return 0;
    const char *s = scalar(v);
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return *out = 1, 1;
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return *out = 0, 1;
    perr(c, v, "'%s' must be true or false, got '%.60s'", key, s);
    return 0;
}

static int get_enum(pctx *c, const yaml_node_t *v, const char *key, const char *const *names, int n, int *out)
{
    if (!want_scalar(c, v, key)) return 0;
    const char *s = scalar(v);
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i])) return *out = i, 1;
    char list[160] = "";
    for (int i = 0; i < n; i++) {
        size_t k = strlen(list);
        snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", names[i]);
    }
    perr(c, v, "'%s' must be one of %s, got '%.60s'", key, list, s);
    return 0;
}

static char *get_path(pctx *c, const yaml_node_t *v, const char *key, const char *base_dir, char **raw)
{
    if (!want_scalar(c, v, key)) return NULL;
    const char *s = scalar(v);
    if (!*s) {
        perr(c, v, "'%s' must be a file path", key);
        return NULL;
    }
    *raw = strdup(s);
    char *path = s[0] == '/' || !base_dir ? strdup(s) : ss_path_join(base_dir, s);
    struct stat sb;
    if (path && stat(path, &sb) != 0) {
        perr(c, v, "'%s': cannot read %.300s: %s", key, path, strerror(errno));
    } else if (path && !S_ISREG(sb.st_mode)) {
        perr(c, v, "'%s': %.300s is not a file", key, path);
    }
    return path;
}

/* Calls back for each key of a mapping node; reports a non-mapping and unknown keys. */
typedef void (*field_fn)(pctx *c, const char *key, const yaml_node_t *v, void *ud);

static void each_field(pctx *c, const yaml_node_t *map, const char *where, const char *const *keys, int nkeys,
                       field_fn fn, void *ud)
{
    if (map->type != YAML_MAPPING_NODE) {
        perr(c, map, "'%s' must be a mapping of settings", where);
        return;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(c->doc, p->key), *v = yaml_document_get_node(c->doc, p->value);
        if (!k || !v) continue;
        if (k->type != YAML_SCALAR_NODE) {
            perr(c, k, "keys in '%s' must be plain names", where);
            continue;
        }
        int known = 0;
        for (int i = 0; i < nkeys; i++) known |= !strcmp(scalar(k), keys[i]);
        if (!known) {
            char list[400] = "";
            for (int i = 0; i < nkeys; i++) {
                size_t n = strlen(list);
                snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", keys[i]);
            }
            perr(c, k, "unknown field '%.60s' in '%s' (known: %s)", scalar(k), where, list);
            continue;
        }
        fn(c, scalar(k), v, ud);
    }
}

typedef struct {
    ss_tr_config *cfg;
    const char *base_dir;
    int seen_n_layers, seen_d_model, seen_n_heads, seen_n_ctx, seen_d_ff, seen_train, seen_steps, seen_batch,
        seen_lr, seen_lr_min;
    char *train_raw, *heldout_raw;
    const yaml_node_t *heads_node, *dff_node, *batch_node, *lr_min_node, *warmup_node;
} fields;

static const char *const pe_names[] = {"learned", "sinusoidal", "rope", "alibi", "none"}; /* ss_tr_posenc order */

static void model_field(pctx *c, const char *k, const yaml_node_t *v, void *ud)
{
    fields *f = ud;
    ss_tr_arch *a = &f->cfg->arch;
    if (!strcmp(k, "n_layers")) f->seen_n_layers = get_int(c, v, k, 1, 12, &a->n_layers);
    else if (!strcmp(k, "d_model")) f->seen_d_model = get_int(c, v, k, 8, 1024, &a->d_model);
    else if (!strcmp(k, "n_heads")) f->seen_n_heads = get_int(c, v, k, 1, 64, &a->n_heads), f->heads_node = v;
    else if (!strcmp(k, "d_ff")) f->seen_d_ff = get_int(c, v, k, 1, 16384, &a->d_ff), f->dff_node = v;
    else if (!strcmp(k, "n_ctx")) f->seen_n_ctx = get_int(c, v, k, 2, 4096, &a->n_ctx);
    else if (!strcmp(k, "posenc")) {
        int pe;
        if (get_enum(c, v, k, pe_names, 5, &pe)) a->pe = (ss_tr_posenc)pe;
    } else if (!strcmp(k, "norm")) {
        static const char *const norms[] = {"pre", "post"};
        get_enum(c, v, k, norms, 2, &a->post_ln);
    } else if (!strcmp(k, "bos")) {
        int bos;
        if (get_bool(c, v, k, &bos)) a->bos_id = bos ? 256 : -1;
    } else if (!strcmp(k, "ln_eps")) {
        double e;
        if (get_real(c, v, k, 1e-12, 1e-1, &e)) a->ln_eps = (float)e;
    }
}

static void data_field(pctx *c, const char *k, const yaml_node_t *v, void *ud)
{
    fields *f = ud;
    ss_tr_config *g = f->cfg;
    if (!strcmp(k, "train")) {
        free(g->train_path);
        free(f->train_raw);
        g->train_path = get_path(c, v, k, f->base_dir, &f->train_raw);
        f->seen_train = g->train_path != NULL;
    } else if (!strcmp(k, "heldout")) {
        free(g->heldout_path);
        free(f->heldout_raw);
        g->heldout_path = get_path(c, v, k, f->base_dir, &f->heldout_raw);
    } else if (!strcmp(k, "eval_windows"))
        get_int(c, v, k, 1, 100000, &g->eval_windows);
}

static void train_field(pctx *c, const char *k, const yaml_node_t *v, void *ud)
{
    fields *f = ud;
    ss_tr_config *g = f->cfg;
    ss_tr_optim_cfg *o = &g->opt;
    if (!strcmp(k, "steps")) f->seen_steps = get_int(c, v, k, 1, 100000000, &o->steps);
    else if (!strcmp(k, "batch_size")) f->seen_batch = get_int(c, v, k, 1, 4096, &g->batch_size), f->batch_node = v;
    else if (!strcmp(k, "lr")) f->seen_lr = get_real(c, v, k, 0.0, 10.0, &o->lr);
    else if (!strcmp(k, "lr_min")) f->seen_lr_min = get_real(c, v, k, 0.0, 10.0, &o->lr_min), f->lr_min_node = v;
    else if (!strcmp(k, "warmup")) get_int(c, v, k, 0, 100000000, &o->warmup), f->warmup_node = v;
    else if (!strcmp(k, "weight_decay")) get_real(c, v, k, 0.0, 10.0, &o->weight_decay);
    else if (!strcmp(k, "beta1")) get_real(c, v, k, 0.0, 0.999999, &o->beta1);
    else if (!strcmp(k, "beta2")) get_real(c, v, k, 0.0, 0.999999, &o->beta2);
    else if (!strcmp(k, "eps")) get_real(c, v, k, 1e-30, 1.0, &o->eps);
    else if (!strcmp(k, "clip")) get_real(c, v, k, 0.0, 1e9, &o->clip);
    else if (!strcmp(k, "seed")) get_seed(c, v, k, &g->seed);
    else if (!strcmp(k, "threads")) get_int(c, v, k, 1, 256, &g->threads);
}

static void root_field(pctx *c, const char *k, const yaml_node_t *v, void *ud)
{
    static const char *const model_keys[] = {"n_layers", "d_model", "n_heads", "d_ff",  "n_ctx",
                                             "posenc",   "norm",    "bos",     "ln_eps"};
    static const char *const data_keys[] = {"train", "heldout", "eval_windows"};
    static const char *const train_keys[] = {"steps", "batch_size", "lr",   "lr_min", "warmup", "weight_decay",
                                             "beta1", "beta2",      "eps", "clip",   "seed",   "threads"};
    if (!strcmp(k, "model")) each_field(c, v, "model", model_keys, 9, model_field, ud);
    else if (!strcmp(k, "data")) each_field(c, v, "data", data_keys, 3, data_field, ud);
    else each_field(c, v, "train", train_keys, 12, train_field, ud);
}

static void defaults(ss_tr_config *g)
{
    memset(g, 0, sizeof *g);
    g->arch = (ss_tr_arch){.n_layers = 0, .pe = SS_TR_PE_LEARNED, .ln_eps = 1e-5f, .bos_id = -1};
    g->opt = (ss_tr_optim_cfg){.beta1 = 0.9, .beta2 = 0.95, .eps = 1e-8, .weight_decay = 0.1, .clip = 1.0};
    g->eval_windows = 32;
    g->seed = 1;
    g->threads = 1;
}

static char *dir_of(const char *file)
{
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (!slash) return strdup(".");
    return strndup(file, (size_t)(slash - file) + (slash == file));
}

ss_status ss_tr_config_parse(const char *text, size_t len, const char *file, ss_tr_config *out, ss_diags *diags)
{
    ss_tr_config *g = out;
    defaults(g);
    yaml_parser_t parser;
    yaml_document_t doc;
    pctx c = {.doc = &doc, .diags = diags};
    fields f = {.cfg = g};
    char *base = dir_of(file);
    f.base_dir = base;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        ss_diags_add(diags, (ss_loc){(int)parser.problem_mark.line + 1, (int)parser.problem_mark.column + 1},
                     "YAML syntax error: %s", parser.problem ? parser.problem : "unreadable");
        yaml_parser_delete(&parser);
        free(base);
        return ss_fail(SS_ERR_INPUT, "%s: not valid YAML", file);
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        ss_diags_add(diags, (ss_loc){1, 1}, "the config is empty (expected the sections model, data, train)");
        c.errors++;
    } else {
        static const char *const sections[] = {"model", "data", "train"};
        each_field(&c, root, "the config", sections, 3, root_field, &f);
        ss_tr_arch *a = &g->arch;
        const yaml_node_t *at = root;
        /* required settings: reported at the top of the file when their section is missing */
        if (!f.seen_n_layers) perr(&c, at, "missing field 'model.n_layers'");
        if (!f.seen_d_model) perr(&c, at, "missing field 'model.d_model'");
        if (!f.seen_n_heads) perr(&c, at, "missing field 'model.n_heads'");
        if (!f.seen_n_ctx) perr(&c, at, "missing field 'model.n_ctx'");
        if (!f.seen_train) perr(&c, at, "missing field 'data.train'");
        if (!f.seen_steps) perr(&c, at, "missing field 'train.steps'");
        if (!f.seen_batch) perr(&c, at, "missing field 'train.batch_size'");
        if (!f.seen_lr) perr(&c, at, "missing field 'train.lr'");
        if (f.seen_d_model && f.seen_n_heads && a->d_model % a->n_heads != 0)
            perr(&c, f.heads_node, "'n_heads' = %d does not divide d_model = %d", a->n_heads, a->d_model);
        else if (f.seen_d_model && f.seen_n_heads && a->pe == SS_TR_PE_ROPE && (a->d_model / a->n_heads) % 2)
            perr(&c, f.heads_node, "rope needs an even head width; d_model/n_heads = %d", a->d_model / a->n_heads);
        if (!f.seen_d_ff) a->d_ff = 4 * a->d_model;
        /* what the checkpoint export can write (export.h): BLOOM's MLP is 4·d wide */
        if (a->pe == SS_TR_PE_ALIBI && f.seen_d_ff && a->d_ff != 4 * a->d_model)
            perr(&c, f.dff_node, "'d_ff' must be 4·d_model = %d with posenc alibi (BLOOM's MLP), got %d",
                 4 * a->d_model, a->d_ff);
        a->n_vocab = a->bos_id >= 0 ? 257 : 256;
        /* the passes index [B·T][max(d_ff, vocab)] buffers with int */
        double rows = (double)g->batch_size * a->n_ctx, width = a->d_ff > 257 ? a->d_ff : 257;
        if (f.seen_batch && f.seen_n_ctx && rows * width > 2147483647.0)
            perr(&c, f.batch_node, "'batch_size' = %d: %d windows of %d tokens need buffers of %.3g floats, too large",
                 g->batch_size, g->batch_size, a->n_ctx, rows * width);
        if (!f.seen_lr_min) g->opt.lr_min = g->opt.lr / 10.0;
        else if (f.seen_lr && g->opt.lr_min > g->opt.lr)
            perr(&c, f.lr_min_node, "'lr_min' = %g is above lr = %g", g->opt.lr_min, g->opt.lr);
        if (f.warmup_node && f.seen_steps && g->opt.warmup > g->opt.steps)
            perr(&c, f.warmup_node, "'warmup' = %d is longer than steps = %d", g->opt.warmup, g->opt.steps);
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    free(base);
    g->train_raw = f.train_raw;
    g->heldout_raw = f.heldout_raw;
    if (c.errors) {
        ss_tr_config_free(g);
        return ss_fail(SS_ERR_INPUT, "%s: %d error%s in the training config", file, c.errors, c.errors > 1 ? "s" : "");
    }
    return SS_OK;
}

ss_status ss_tr_config_load(const char *file, ss_tr_config *out, ss_diags *diags)
{
    FILE *fp = fopen(file, "rb");
    if (!fp) return ss_fail(SS_ERR_INPUT, "cannot read the training config %s: %s", file, strerror(errno));
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(fp);
                return ss_fail(SS_ERR_NOMEM, "out of memory reading %s", file);
            }
            text = t;
        }
        size_t k = fread(text + len, 1, cap - len, fp);
        len += k;
        if (k == 0) break;
    }
    fclose(fp);
    ss_status st = ss_tr_config_parse(text, len, file, out, diags);
    free(text);
    return st;
}

char *ss_tr_config_json(const ss_tr_config *g)
{
    const ss_tr_arch *a = &g->arch;
    const ss_tr_optim_cfg *o = &g->opt;
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)g->seed);
    json_t *j = json_pack("{s:{s:i,s:i,s:i,s:i,s:i,s:s,s:s,s:b,s:f},s:{s:s,s:s?,s:i},"
                          "s:{s:i,s:i,s:f,s:f,s:i,s:f,s:f,s:f,s:f,s:f,s:s,s:i}}",
                          "model", "n_layers", a->n_layers, "d_model", a->d_model, "n_heads", a->n_heads, "d_ff",
                          a->d_ff, "n_ctx", a->n_ctx, "posenc", ss_tr_posenc_name(a->pe), "norm",
                          a->post_ln ? "post" : "pre", "bos", a->bos_id >= 0, "ln_eps", (double)a->ln_eps, "data",
                          "train", g->train_raw ? g->train_raw : "", "heldout", g->heldout_raw, "eval_windows",
                          g->eval_windows, "train", "steps", o->steps, "batch_size", g->batch_size, "lr", o->lr,
                          "lr_min", o->lr_min, "warmup", o->warmup, "weight_decay", o->weight_decay, "beta1",
                          o->beta1, "beta2", o->beta2, "eps", o->eps, "clip", o->clip, "seed", seed, "threads",
                          g->threads);
    if (!j) return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    json_decref(j);
    return s;
}

void ss_tr_config_free(ss_tr_config *g)
{
    free(g->train_path);
    free(g->heldout_path);
    free(g->train_raw);
    free(g->heldout_raw);
    g->train_path = g->heldout_path = g->train_raw = g->heldout_raw = NULL;
}
