/* sweep.c: the sweep YAML, parsed and validated (sweep.h; the format is documented in experiments/README.md).
 *
 * Three stages, one per section below:
 *   1. diagnostics: ss_diags_*, "FILE:LINE:COL: message" lines;
 *   2. a small YAML node tree built from libyaml events, with 1-based marks on every node and scalars resolved
 *      to null / bool / int / float / string (YAML 1.2 core schema; quoted scalars are always strings);
 *   3. validation of the tree into an ss_sweep, reporting every error it can find rather than stopping at the first.
 * Library code: no exit(), every allocation freed through ss_sweep_free / the tree's node list. */
#include <stddef.h> /* size_t: sweep.h uses it without including it (reported; the header is shared) */

#include "sweep.h"

#include <errno.h>    /* errno, ENOENT */
#include <limits.h>   /* INT_MAX */
#include <math.h>     /* INFINITY, NAN, floor */
#include <stdarg.h>   /* va_list */
#include <stdio.h>    /* vsnprintf, fprintf, FILE */
#include <stdlib.h>   /* malloc, strtoull, strtod, qsort */
#include <string.h>
#include <strings.h> /* strcasecmp */   /* strlen, memcmp, strerror */
#include <sys/stat.h> /* stat, S_ISDIR */
#include <unistd.h>   /* getcwd */
#include <yaml.h>     /* yaml_parser_*, yaml_event_t */

#include "analysis.h" /* ss_analysis_find, ss_analysis_all, ss_param_decl */
#include "prompts.h"  /* ss_natural_count */

/* ====================================================================== 1. diagnostics */

static void diags_vadd(ss_diags *d, ss_loc loc, const char *fmt, va_list ap)
{
    if (!d) return;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    char *msg = malloc((size_t)n + 1);
    if (!msg) return;
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 16;
        ss_diag *items = realloc(d->items, (size_t)cap * sizeof *items);
        if (!items) {
            free(msg);
            return;
        }
        d->items = items;
        d->cap = cap;
    }
    d->items[d->n].loc = loc;
    d->items[d->n].msg = msg;
    d->n++;
}

void ss_diags_add(ss_diags *d, ss_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diags_vadd(d, loc, fmt, ap);
    va_end(ap);
}

/* FILE:LINE:COL: message, or FILE: message for a diagnostic that has no position (line 0). */
void ss_diags_print(const ss_diags *d, const char *file, void *stream)
{
    FILE *f = stream ? (FILE *)stream : stderr;
    if (!d) return;
    for (int i = 0; i < d->n; i++) {
        const ss_diag *g = &d->items[i];
        if (g->loc.line > 0)
            fprintf(f, "%s:%d:%d: %s\n", file ? file : "<sweep>", g->loc.line, g->loc.col, g->msg);
        else
            fprintf(f, "%s: %s\n", file ? file : "<sweep>", g->msg);
    }
}

void ss_diags_free(ss_diags *d)
{
    if (!d) return;
    for (int i = 0; i < d->n; i++) free(d->items[i].msg);
    free(d->items);
    d->items = NULL;
    d->n = d->cap = 0;
}

/* Sorts diags[from..n) by position, keeping discovery order for equal positions. */
typedef struct {
    ss_diag d;
    int order;
} diag_sort_item;

static int diag_cmp(const void *a, const void *b)
{
    const diag_sort_item *x = a, *y = b;
    if (x->d.loc.line != y->d.loc.line) return x->d.loc.line < y->d.loc.line ? -1 : 1;
    if (x->d.loc.col != y->d.loc.col) return x->d.loc.col < y->d.loc.col ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void diags_sort_from(ss_diags *d, int from)
{
    if (!d || d->n - from < 2) return;
    int n = d->n - from;
    diag_sort_item *tmp = malloc((size_t)n * sizeof *tmp);
    if (!tmp) return; /* unsorted is still correct */
    for (int i = 0; i < n; i++) {
        tmp[i].d = d->items[from + i];
        tmp[i].order = i;
    }
    qsort(tmp, (size_t)n, sizeof *tmp, diag_cmp);
    for (int i = 0; i < n; i++) d->items[from + i] = tmp[i].d;
    free(tmp);
}

const char *ss_bos_policy_name(ss_bos_policy p)
{
    switch (p) {
    case SS_BOS_MODEL_DEFAULT: return "model_default";
    case SS_BOS_ADD: return "bos";
    case SS_BOS_NONE: return "none";
    }
    return "unknown";
}

const ss_param_value *ss_analysis_param(const ss_analysis_spec *a, const char *name)
{
    if (!a || !name) return NULL;
    for (int i = 0; i < a->n_params; i++)
        if (a->params[i].name && strcmp(a->params[i].name, name) == 0) return &a->params[i];
    return NULL;
}

/* The validation context: where errors go, and whether memory ran out on the way. */
typedef struct {
    ss_diags *diags; /* may be NULL: errors are then only counted */
    int n_err;
    int nomem;
    const char *base_dir;
} vctx;

static void err(vctx *c, ss_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void err(vctx *c, ss_loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diags_vadd(c->diags, loc, fmt, ap);
    va_end(ap);
    c->n_err++;
}

static char *xstrndup(vctx *c, const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p) {
        c->nomem = 1;
        return NULL;
    }
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static char *xstrdup(vctx *c, const char *s) { return s ? xstrndup(c, s, strlen(s)) : NULL; }

static void *xcalloc(vctx *c, size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) c->nomem = 1;
    return p;
}

/* User text quoted in a message: control characters shown as '?', cut (at a UTF-8 boundary) after `max` bytes. */
#define SHOW_MAX 64
#define SHOW_BUF (SHOW_MAX + 4)
static const char *show_n(const char *s, size_t len, char *buf, size_t max)
{
    size_t n = len < max ? len : max;
    if (n < len)
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* don't split a UTF-8 sequence */
    for (size_t i = 0; i < n; i++) buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    if (n < len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static const char *show(const char *s, char buf[SHOW_BUF]) { return show_n(s, strlen(s), buf, SHOW_MAX); }

/* ====================================================================== 2. the YAML node tree */

typedef enum { YN_SCALAR = 0, YN_SEQ, YN_MAP } yn_kind;
typedef enum { YS_NULL = 0, YS_BOOL, YS_INT, YS_FLOAT, YS_STR } ys_type;

typedef struct yn {
    yn_kind kind;
    ss_loc loc;        /* start of the node (after its anchor/tag) */
    /* YN_SCALAR */
    char *str;         /* the scalar's text, NUL-terminated; may contain NULs from escapes (len is the truth) */
    size_t len;
    ys_type stype;     /* resolved type */
    /* YN_SEQ: items kids[0..n); YN_MAP: key kids[2i], value kids[2i+1] */
    struct yn **kids;
    int n, cap;
    char *anchor;      /* collections: registered when the collection ends, so it cannot contain itself */
    int bad;           /* already reported (bad tag, undefined alias): type errors about it are not repeated */
} yn;

typedef struct {
    yn **all;          /* every node ever made, each freed once (aliases share nodes) */
    int n_all, cap_all;
    struct anchor {
        char *name;
        yn *node;
    } *anchors;
    int n_anchors, cap_anchors;
    yn *root;
    int failed;        /* a syntax error: the tree is partial and not validated */
} ydoc;

static ss_loc mark_loc(yaml_mark_t m) { return (ss_loc){(int)m.line + 1, (int)m.column + 1}; }

static void ydoc_free(ydoc *d)
{
    for (int i = 0; i < d->n_all; i++) {
        free(d->all[i]->str);
        free(d->all[i]->kids);
        free(d->all[i]->anchor);
        free(d->all[i]);
    }
    free(d->all);
    for (int i = 0; i < d->n_anchors; i++) free(d->anchors[i].name);
    free(d->anchors);
    memset(d, 0, sizeof *d);
}

static yn *ydoc_new(vctx *c, ydoc *d, yn_kind kind, ss_loc loc)
{
    if (d->n_all == d->cap_all) {
        int cap = d->cap_all ? 2 * d->cap_all : 64;
        yn **all = realloc(d->all, (size_t)cap * sizeof *all);
        if (!all) {
            c->nomem = 1;
            return NULL;
        }
        d->all = all;
        d->cap_all = cap;
    }
    yn *n = calloc(1, sizeof *n);
    if (!n) {
        c->nomem = 1;
        return NULL;
    }
    n->kind = kind;
    n->loc = loc;
    d->all[d->n_all++] = n;
    return n;
}

static int yn_append(vctx *c, yn *parent, yn *kid)
{
    if (parent->n == parent->cap) {
        int cap = parent->cap ? 2 * parent->cap : 8;
        yn **kids = realloc(parent->kids, (size_t)cap * sizeof *kids);
        if (!kids) {
            c->nomem = 1;
            return 0;
        }
        parent->kids = kids;
        parent->cap = cap;
    }
    parent->kids[parent->n++] = kid;
    return 1;
}

static int ydoc_anchor(vctx *c, ydoc *d, const char *name, yn *node)
{
    if (d->n_anchors == d->cap_anchors) {
        int cap = d->cap_anchors ? 2 * d->cap_anchors : 8;
        struct anchor *a = realloc(d->anchors, (size_t)cap * sizeof *a);
        if (!a) {
            c->nomem = 1;
            return 0;
        }
        d->anchors = a;
        d->cap_anchors = cap;
    }
    char *copy = xstrdup(c, name);
    if (!copy) return 0;
    d->anchors[d->n_anchors].name = copy;
    d->anchors[d->n_anchors].node = node;
    d->n_anchors++;
    return 1;
}

static yn *ydoc_lookup(const ydoc *d, const char *name)
{
    for (int i = d->n_anchors - 1; i >= 0; i--) /* the latest definition of a name wins */
        if (strcmp(d->anchors[i].name, name) == 0) return d->anchors[i].node;
    return NULL;
}

/* --- scalar resolution (YAML 1.2 core schema) */

static int is_digits(const char *s, const char *digits)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!strchr(digits, *s)) return 0;
    return 1;
}

static int plain_is_null(const char *s)
{
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int plain_bool(const char *s, int *v)
{
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return *v = 1, 1;
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return *v = 0, 1;
    return 0;
}

static int plain_is_int(const char *s)
{
    if (s[0] == '0' && s[1] == 'x') return is_digits(s + 2, "0123456789abcdefABCDEF");
    if (s[0] == '0' && s[1] == 'o') return is_digits(s + 2, "01234567");
    if (*s == '-' || *s == '+') s++;
    return is_digits(s, "0123456789");
}

static int plain_is_float(const char *s)
{
    if (*s == '-' || *s == '+') s++;
    if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF")) return 1;
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) return 1;
    /* [0-9]* ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )?  with at least one mantissa digit */
    int mant = 0;
    while (*s >= '0' && *s <= '9') s++, mant++;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') s++, mant++;
    }
    if (!mant) return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (!(*s >= '0' && *s <= '9')) return 0;
        while (*s >= '0' && *s <= '9') s++;
    }
    return *s == '\0';
}

static ys_type resolve_plain(const char *s, size_t len)
{
    int b;
    if (strlen(s) != len) return YS_STR; /* embedded NUL: only a quoted scalar can have one, but be safe */
    if (plain_is_null(s)) return YS_NULL;
    if (plain_bool(s, &b)) return YS_BOOL;
    if (plain_is_int(s)) return YS_INT;
    if (plain_is_float(s)) return YS_FLOAT;
    return YS_STR;
}

/* Integer value of an int-typed scalar. *ovf is set when it does not fit in long long. */
static long long scalar_int(const char *s, int *ovf)
{
    int neg = 0, base = 10;
    *ovf = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = s[1] == 'x' ? 16 : 8;
        s += 2;
    } else if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    errno = 0;
    unsigned long long u = strtoull(s, NULL, base);
    if (errno == ERANGE || u > (unsigned long long)LLONG_MAX + (unsigned long long)neg) {
        *ovf = 1;
        return neg ? LLONG_MIN : LLONG_MAX;
    }
    if (neg) return u == (unsigned long long)LLONG_MAX + 1ULL ? LLONG_MIN : -(long long)u;
    return (long long)u;
}

/* Numeric value of an int- or float-typed scalar. */
static double scalar_num(const char *s, ys_type t)
{
    if (t == YS_INT) {
        int ovf;
        long long v = scalar_int(s, &ovf);
        if (ovf) return v < 0 ? -INFINITY : INFINITY;
        return (double)v;
    }
    int neg = *s == '-';
    const char *p = (*s == '-' || *s == '+') ? s + 1 : s;
    if (p[0] == '.' && (p[1] == 'i' || p[1] == 'I')) return neg ? -INFINITY : INFINITY;
    if (p[0] == '.' && (p[1] == 'n' || p[1] == 'N')) return NAN;
    return strtod(s, NULL);
}

/* An explicit tag on a scalar: the standard ones are checked against the text, others are refused. */
static ys_type resolve_tagged(vctx *c, const char *tag, const char *s, size_t len, ss_loc loc)
{
    static const char P[] = "tag:yaml.org,2002:";
    char b1[SHOW_BUF], b2[SHOW_BUF];
    if (!strcmp(tag, "!")) return YS_STR; /* the non-specific tag: a string */
    if (strncmp(tag, P, sizeof P - 1) != 0) {
        err(c, loc, "unsupported YAML tag '%s'", show(tag, b1));
        return YS_STR;
    }
    const char *t = tag + sizeof P - 1;
    ys_type plain = resolve_plain(s, len);
    if (!strcmp(t, "str")) return YS_STR;
    if (!strcmp(t, "null") && plain == YS_NULL) return YS_NULL;
    if (!strcmp(t, "bool") && plain == YS_BOOL) return YS_BOOL;
    if (!strcmp(t, "int") && plain == YS_INT) return YS_INT;
    if (!strcmp(t, "float") && (plain == YS_FLOAT || plain == YS_INT)) return YS_FLOAT;
    if (!strcmp(t, "null") || !strcmp(t, "bool") || !strcmp(t, "int") || !strcmp(t, "float"))
        err(c, loc, "'%s' is not a valid !!%s value", show_n(s, len, b2, SHOW_MAX), t);
    else
        err(c, loc, "unsupported YAML tag '!!%s'", show(t, b1));
    return YS_STR;
}

/* Byte offset -> 1-based line/column (for reader errors, which only carry an offset). */
static ss_loc offset_loc(const char *text, size_t len, size_t off)
{
    ss_loc l = {1, 1};
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            l.line++;
            l.col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            l.col++;
        }
    }
    return l;
}

static void syntax_error(vctx *c, const yaml_parser_t *p, const char *text, size_t len)
{
    char b1[SHOW_BUF];
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        c->nomem = 1;
        break;
    case YAML_READER_ERROR:
        if (p->problem_value != -1)
            err(c, offset_loc(text, len, p->problem_offset), "YAML syntax error: %s (byte 0x%02X)",
                p->problem ? p->problem : "unreadable input", (unsigned)p->problem_value & 0xFFu);
        else
            err(c, offset_loc(text, len, p->problem_offset), "YAML syntax error: %s",
                p->problem ? p->problem : "unreadable input");
        break;
    default:
        if (p->context)
            err(c, mark_loc(p->problem_mark), "YAML syntax error: %s (%s at line %d, column %d)",
                p->problem ? show(p->problem, b1) : "invalid YAML", p->context, (int)p->context_mark.line + 1,
                (int)p->context_mark.column + 1);
        else
            err(c, mark_loc(p->problem_mark), "YAML syntax error: %s",
                p->problem ? show(p->problem, b1) : "invalid YAML");
        break;
    }
}

/* Builds the tree of the first document. Returns 0 on a syntax error or out of memory (d->failed). */
static int ydoc_load(vctx *c, ydoc *d, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    yn **stack = NULL; /* open collections, innermost last */
    int depth = 0, cap = 0, docs = 0, done = 0, ok = 1;
    char b1[SHOW_BUF];

    if (!yaml_parser_initialize(&p)) {
        c->nomem = 1;
        d->failed = 1;
        return 0;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done) {
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(c, &p, text, len);
            ok = 0;
            break;
        }
        yn *node = NULL;
        const char *anchor = NULL;
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                err(c, mark_loc(ev.start_mark), "a sweep file holds one YAML document; remove this '---' and what follows");
                done = 1;
            }
            break;
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_SCALAR_EVENT: {
            node = ydoc_new(c, d, YN_SCALAR, mark_loc(ev.start_mark));
            if (!node) break;
            node->len = ev.data.scalar.length;
            node->str = xstrndup(c, (const char *)ev.data.scalar.value, node->len);
            if (!node->str) {
                node = NULL;
                break;
            }
            if (ev.data.scalar.tag) {
                int before = c->n_err;
                node->stype = resolve_tagged(c, (const char *)ev.data.scalar.tag, node->str, node->len, node->loc);
                node->bad = c->n_err != before;
            } else if (ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
                node->stype = resolve_plain(node->str, node->len);
            else
                node->stype = YS_STR;
            anchor = (const char *)ev.data.scalar.anchor;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            int seq = ev.type == YAML_SEQUENCE_START_EVENT;
            const char *tag = (const char *)(seq ? ev.data.sequence_start.tag : ev.data.mapping_start.tag);
            node = ydoc_new(c, d, seq ? YN_SEQ : YN_MAP, mark_loc(ev.start_mark));
            if (!node) break;
            if (tag && strcmp(tag, seq ? "tag:yaml.org,2002:seq" : "tag:yaml.org,2002:map") != 0 && strcmp(tag, "!"))
                err(c, node->loc, "unsupported YAML tag '%s'", show(tag, b1));
            const char *a = (const char *)(seq ? ev.data.sequence_start.anchor : ev.data.mapping_start.anchor);
            if (a && !(node->anchor = xstrdup(c, a))) {
                node = NULL;
                break;
            }
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) {
                yn *closed = stack[--depth];
                if (closed->anchor) ydoc_anchor(c, d, closed->anchor, closed);
            }
            break;
        case YAML_ALIAS_EVENT:
            node = ydoc_lookup(d, (const char *)ev.data.alias.anchor);
            if (!node) {
                err(c, mark_loc(ev.start_mark), "undefined alias '*%s'", show((const char *)ev.data.alias.anchor, b1));
                node = ydoc_new(c, d, YN_SCALAR, mark_loc(ev.start_mark)); /* stands in as null */
                if (node && !(node->str = xstrdup(c, ""))) node = NULL;
                if (node) node->bad = 1;
            }
            break;
        default:
            break;
        }
        if (node) { /* attach the new node to its parent (or make it the root), open it if a collection */
            if (depth == 0) {
                if (!d->root) d->root = node;
            } else {
                yn_append(c, stack[depth - 1], node);
            }
            if (anchor) ydoc_anchor(c, d, anchor, node);
            if ((ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)) {
                if (depth == cap) {
                    int ncap = cap ? 2 * cap : 16;
                    yn **s = realloc(stack, (size_t)ncap * sizeof *s);
                    if (!s) {
                        c->nomem = 1;
                    } else {
                        stack = s;
                        cap = ncap;
                    }
                }
                if (depth < cap) stack[depth++] = node;
            }
        }
        yaml_event_delete(&ev);
        if (c->nomem) {
            ok = 0;
            break;
        }
    }
    yaml_parser_delete(&p);
    free(stack);
    if (!ok) d->failed = 1;
    return ok;
}

/* ====================================================================== 3. validation */

/* "did you mean": the Levenshtein distance, computed on at most 64 bytes. */
static int levenshtein(const char *a, size_t la, const char *b, size_t lb)
{
    int row[65];
    if (la > 64 || lb > 64) return INT_MAX;
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The nearest candidate when it is close enough: distance <= 2 or <= a third of the length of what was
 * written, and less than that length (so that a one-letter key does not "suggest" any two-letter one). */
static const char *suggest(const char *s, size_t len, const char *const *cands, int n)
{
    const char *best = NULL;
    int bd = INT_MAX;
    for (int i = 0; i < n; i++) {
        int dist = levenshtein(s, len, cands[i], strlen(cands[i]));
        if (dist < bd) {
            bd = dist;
            best = cands[i];
        }
    }
    if (!best || bd == INT_MAX || (size_t)bd >= len) return NULL;
    return (bd <= 2 || (size_t)bd * 3 <= len) ? best : NULL;
}

static void join_list(const char *const *items, int n, char *buf, size_t size)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at < size; i++) {
        int w = snprintf(buf + at, size - at, "%s%s", i ? ", " : "", items[i]);
        if (w < 0) break;
        at += (size_t)w;
    }
}

/* "unknown WHAT 'x'; did you mean 'y'?" or "...; valid VALUES are: a, b, c" */
static void unknown(vctx *c, ss_loc loc, const char *what, const char *in, const char *s, size_t len,
                    const char *const *cands, int n, const char *valid_what)
{
    char b1[SHOW_BUF], list[512];
    const char *sug = suggest(s, len, cands, n);
    show_n(s, len, b1, SHOW_MAX);
    if (sug) {
        err(c, loc, "unknown %s '%s'%s%s; did you mean '%s'?", what, b1, in ? " in " : "", in ? in : "", sug);
    } else {
        join_list(cands, n, list, sizeof list);
        err(c, loc, "unknown %s '%s'%s%s; valid %s are: %s", what, b1, in ? " in " : "", in ? in : "", valid_what,
            list);
    }
}

/* How a node is described after "got": "a string 'x'", "an integer 5", "a list", ... */
static const char *describe(const yn *n, char *buf, size_t size)
{
    char b1[SHOW_BUF];
    if (n->kind == YN_SEQ) return "a list";
    if (n->kind == YN_MAP) return "a mapping";
    switch (n->stype) {
    case YS_NULL: return "null";
    case YS_BOOL: snprintf(buf, size, "a boolean %s", show_n(n->str, n->len, b1, SHOW_MAX)); break;
    case YS_INT: snprintf(buf, size, "an integer %s", show_n(n->str, n->len, b1, SHOW_MAX)); break;
    case YS_FLOAT: snprintf(buf, size, "a float %s", show_n(n->str, n->len, b1, SHOW_MAX)); break;
    case YS_STR: snprintf(buf, size, "a string '%s'", show_n(n->str, n->len, b1, SHOW_MAX)); break;
    }
    return buf;
}

#define DESC_BUF 96
static void type_error(vctx *c, const yn *v, const char *label, const char *expected)
{
    char d[DESC_BUF];
    if (v->bad) return; /* its own error is already reported (and counted) */
    err(c, v->loc, "%s must be %s, got %s", label, expected, describe(v, d, sizeof d));
}

static int is_scalar(const yn *v, ys_type t) { return v->kind == YN_SCALAR && v->stype == t; }

static int key_is(const yn *k, const char *s) { return k->len == strlen(s) && memcmp(k->str, s, k->len) == 0; }

/* Looks up `keys` in a mapping: vals[i]/keyn[i] get the value/key node of keys[i] (NULL when absent).
 * Reports non-string keys, duplicate keys and, when check_unknown, unknown keys with a suggestion. */
static void map_fields(vctx *c, const yn *map, const char *where, const char *const *keys, int nkeys,
                       int check_unknown, const yn **vals, const yn **keyn)
{
    for (int i = 0; i < nkeys; i++) vals[i] = keyn[i] = NULL;
    for (int p = 0; p + 1 < map->n; p += 2) {
        const yn *k = map->kids[p], *v = map->kids[p + 1];
        if (k->kind != YN_SCALAR) {
            err(c, k->loc, "a key in %s is %s; keys must be plain strings", where, k->kind == YN_SEQ ? "a list" : "a mapping");
            continue;
        }
        int i = 0;
        while (i < nkeys && !key_is(k, keys[i])) i++;
        if (i < nkeys) {
            if (vals[i])
                err(c, k->loc, "duplicate key '%s' in %s (first at line %d)", keys[i], where, keyn[i]->loc.line);
            else {
                vals[i] = v;
                keyn[i] = k;
            }
        } else if (check_unknown) {
            unknown(c, k->loc, "key", where, k->str, k->len, keys, nkeys, "keys");
        }
    }
}

static void missing(vctx *c, const yn *map, const char *key, const char *where)
{
    err(c, map->loc, "missing required key '%s' in %s", key, where);
}

/* A string value: any non-null, non-boolean scalar (numbers keep their text). Returns NULL after reporting. */
static const char *want_string(vctx *c, const yn *v, const char *key)
{
    char label[80];
    snprintf(label, sizeof label, "'%s'", key);
    if (v->bad) return NULL;
    if (v->kind != YN_SCALAR || v->stype == YS_NULL || v->stype == YS_BOOL) {
        type_error(c, v, label, "a string");
        return NULL;
    }
    if (strlen(v->str) != v->len) {
        err(c, v->loc, "'%s' must not contain NUL characters", key);
        return NULL;
    }
    if (v->len == 0) {
        err(c, v->loc, "'%s' must not be empty", key);
        return NULL;
    }
    return v->str;
}

/* A name: [A-Za-z0-9_.-]+, not "." or "..". */
static const char *want_name(vctx *c, const yn *v, const char *key)
{
    char b1[SHOW_BUF];
    const char *s = want_string(c, v, key);
    if (!s) return NULL;
    for (const char *p = s; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                 *p == '.' || *p == '-';
        if (!ok) {
            err(c, v->loc, "invalid %s '%s': use only letters, digits, '_', '.' and '-'", key, show(s, b1));
            return NULL;
        }
    }
    if (!strcmp(s, ".") || !strcmp(s, "..")) {
        err(c, v->loc, "invalid %s '%s': '.' and '..' are reserved", key, s);
        return NULL;
    }
    return s;
}

/* An integer in [lo, hi]. Returns 1 and sets *out, or reports and returns 0. */
static int want_int(vctx *c, const yn *v, const char *key, long long lo, long long hi, long long *out)
{
    char label[80], b1[SHOW_BUF];
    snprintf(label, sizeof label, "'%s'", key);
    if (!is_scalar(v, YS_INT)) {
        type_error(c, v, label, "an integer");
        return 0;
    }
    int ovf;
    long long x = scalar_int(v->str, &ovf);
    if (ovf || x < lo || x > hi) {
        err(c, v->loc, "'%s' must be in [%lld, %lld], got %s", key, lo, hi, show(v->str, b1));
        return 0;
    }
    *out = x;
    return 1;
}

static int want_int_i(vctx *c, const yn *v, const char *key, int lo, int hi, int *out)
{
    long long x;
    if (!want_int(c, v, key, lo, hi, &x)) return 0;
    *out = (int)x;
    return 1;
}

/* A seed: an integer in [0, 2^64). */
static int want_seed(vctx *c, const yn *v, const char *key, uint64_t *out)
{
    char label[80], b1[SHOW_BUF];
    snprintf(label, sizeof label, "'%s'", key);
    if (!is_scalar(v, YS_INT)) {
        type_error(c, v, label, "an integer");
        return 0;
    }
    const char *s = v->str;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = s[1] == 'x' ? 16 : 8;
        s += 2;
    } else if (*s == '+') {
        s++;
    }
    if (*s == '-') {
        /* "-0" is zero; any other negative number is out of range */
        if (!is_digits(s + 1, "0")) {
            err(c, v->loc, "'%s' must be an integer >= 0, got %s", key, show(v->str, b1));
            return 0;
        }
        *out = 0;
        return 1;
    }
    errno = 0;
    unsigned long long u = strtoull(s, NULL, base);
    if (errno == ERANGE) {
        err(c, v->loc, "'%s' must be at most 18446744073709551615, got %s", key, show(v->str, b1));
        return 0;
    }
    *out = (uint64_t)u;
    return 1;
}

static int want_bool(vctx *c, const yn *v, const char *key, int *out)
{
    char label[80];
    snprintf(label, sizeof label, "'%s'", key);
    if (!is_scalar(v, YS_BOOL)) {
        type_error(c, v, label, "a boolean (true or false)");
        return 0;
    }
    int b = 0;
    plain_bool(v->str, &b);
    *out = b;
    return 1;
}

/* One of a fixed set of strings. Returns the index, or -1 after reporting. */
static int want_enum(vctx *c, const yn *v, const char *key, const char *what, const char *const *vals, int n)
{
    const char *s = want_string(c, v, key);
    if (!s) return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(s, vals[i])) return i;
    unknown(c, v->loc, what, NULL, v->str, v->len, vals, n, "values");
    return -1;
}

/* A list, or for a grid axis also {values: [...]}. Returns the sequence node, or NULL after reporting. */
static const yn *want_list(vctx *c, const yn *v, const char *key, const char *where, int allow_values,
                           const char *empty_hint)
{
    char label[80];
    snprintf(label, sizeof label, "'%s'", key);
    if (allow_values && v->kind == YN_MAP) {
        static const char *const K[] = {"values"};
        const yn *vals[1], *keyn[1];
        int has_values = 0;
        for (int p = 0; p + 1 < v->n; p += 2)
            if (v->kids[p]->kind == YN_SCALAR && key_is(v->kids[p], "values")) has_values = 1;
        if (!has_values) {
            type_error(c, v, label, "a list (or a mapping with 'values')");
            return NULL;
        }
        char w[96];
        snprintf(w, sizeof w, "%s.%s", where, key);
        map_fields(c, v, w, K, 1, 1, vals, keyn);
        v = vals[0];
        snprintf(label, sizeof label, "'values'");
    }
    if (v->kind != YN_SEQ) {
        type_error(c, v, label, "a list");
        return NULL;
    }
    if (v->n == 0) {
        err(c, v->loc, "'%s' must not be empty (%s)", key, empty_hint);
        return NULL;
    }
    return v;
}

/* A path: kept as written, and resolved against the sweep file's directory unless absolute. */
static char *resolve_path(vctx *c, const char *path)
{
    if (path[0] == '/' || !c->base_dir) return xstrdup(c, path);
    size_t lb = strlen(c->base_dir), lp = strlen(path);
    char *r = malloc(lb + lp + 2);
    if (!r) {
        c->nomem = 1;
        return NULL;
    }
    memcpy(r, c->base_dir, lb);
    size_t at = lb;
    if (at == 0 || r[at - 1] != '/') r[at++] = '/';
    memcpy(r + at, path, lp + 1);
    return r;
}

/* Existence checks: what: "model directory" / "prompt file". */
static void check_exists(vctx *c, const yn *v, const char *resolved, int want_dir)
{
    struct stat st;
    char b1[512];
    const char *shown = show_n(resolved, strlen(resolved), b1, 500);
    if (stat(resolved, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            err(c, v->loc, "%s '%s' does not exist", want_dir ? "model directory" : "prompt file", shown);
        else
            err(c, v->loc, "%s '%s' cannot be accessed: %s", want_dir ? "model directory" : "prompt file", shown,
                strerror(errno));
        return;
    }
    if (want_dir && !S_ISDIR(st.st_mode)) {
        /* a model is a Hugging Face directory or a single .gguf file */
        size_t n = strlen(resolved);
        int gguf = n > 5 && strcasecmp(resolved + n - 5, ".gguf") == 0 && S_ISREG(st.st_mode);
        if (!gguf) err(c, v->loc, "model path '%s' is neither a directory nor a .gguf file", shown);
    }
    if (!want_dir && S_ISDIR(st.st_mode)) err(c, v->loc, "prompt file '%s' is a directory", shown);
}

/* Names must be unique within a list: the first occurrence's line is named in the error. */
typedef struct {
    const char *name;
    int line;
} seen_name;

static void check_unique(vctx *c, seen_name *seen, int *n_seen, const char *name, const yn *v, const char *what,
                         const char *first_word)
{
    char b1[SHOW_BUF];
    for (int i = 0; i < *n_seen; i++)
        if (!strcmp(seen[i].name, name)) {
            err(c, v->loc, "duplicate %s '%s' (first %s at line %d)", what, show(name, b1), first_word, seen[i].line);
            return;
        }
    seen[*n_seen].name = name;
    seen[*n_seen].line = v->loc.line;
    (*n_seen)++;
}

/* ---------------------------------------------------------------- run */

static void parse_run(vctx *c, const yn *v, ss_sweep *s)
{
    static const char *const K[] = {"backend", "threads"};
    static const char *const BACKENDS[] = {"auto", "cpu", "cuda"};
    const yn *vals[2], *keyn[2];
    if (v->kind != YN_MAP) {
        type_error(c, v, "'run'", "a mapping");
        return;
    }
    map_fields(c, v, "run", K, 2, 1, vals, keyn);
    if (vals[0]) {
        int b = want_enum(c, vals[0], "backend", "backend", BACKENDS, 3);
        if (b >= 0) s->backend = (ss_backend_choice)b;
    }
    if (vals[1]) {
        const yn *t = vals[1];
        char d[DESC_BUF], b1[SHOW_BUF];
        int ovf = 0;
        long long x = is_scalar(t, YS_INT) ? scalar_int(t->str, &ovf) : 0;
        if (is_scalar(t, YS_STR) && !strcmp(t->str, "auto"))
            s->threads = 0;
        else if (is_scalar(t, YS_INT) && !ovf && x >= 1 && x <= 1024)
            s->threads = (int)x;
        else if (is_scalar(t, YS_INT))
            err(c, t->loc, "'threads' must be 'auto' or an integer in [1, 1024], got %s", show(t->str, b1));
        else
            err(c, t->loc, "'threads' must be 'auto' or an integer in [1, 1024], got %s", describe(t, d, sizeof d));
    }
}

/* ---------------------------------------------------------------- grid.model */

enum { M_NAME, M_PATH, M_BOS, M_MAX_TOKENS, M_TRUNCATE, M_N };
static const char *const MODEL_KEYS[M_N] = {"name", "path", "bos", "max_tokens", "truncate"};
static const char *const BOS_NAMES[] = {"model_default", "bos", "none"};

static void parse_models(vctx *c, const yn *seq, ss_sweep *s)
{
    seen_name *seen = xcalloc(c, (size_t)seq->n, sizeof *seen);
    s->models = xcalloc(c, (size_t)seq->n, sizeof *s->models);
    int n_seen = 0;
    if (!seen || !s->models) goto done;
    s->n_models = seq->n;
    for (int i = 0; i < seq->n; i++) {
        const yn *item = seq->kids[i], *vals[M_N], *keyn[M_N];
        ss_model_spec *m = &s->models[i];
        char where[64];
        snprintf(where, sizeof where, "grid.model[%d]", i);
        m->loc = item->loc;
        if (item->kind != YN_MAP) {
            type_error(c, item, where, "a mapping with 'name' and 'path'");
            continue;
        }
        map_fields(c, item, where, MODEL_KEYS, M_N, 1, vals, keyn);
        if (!vals[M_NAME]) missing(c, item, "name", where);
        if (!vals[M_PATH]) missing(c, item, "path", where);
        if (vals[M_NAME]) {
            const char *name = want_name(c, vals[M_NAME], "name");
            if (name) {
                m->name = xstrdup(c, name);
                check_unique(c, seen, &n_seen, name, vals[M_NAME], "model name", "defined");
            }
        }
        if (vals[M_PATH]) {
            const char *path = want_string(c, vals[M_PATH], "path");
            if (path) {
                m->path = xstrdup(c, path);
                m->resolved_path = resolve_path(c, path);
                if (m->resolved_path) check_exists(c, vals[M_PATH], m->resolved_path, 1);
            }
        }
        if (vals[M_BOS]) {
            int b = want_enum(c, vals[M_BOS], "bos", "bos policy", BOS_NAMES, 3);
            if (b >= 0) m->bos = (ss_bos_policy)b;
        }
        if (vals[M_MAX_TOKENS]) want_int_i(c, vals[M_MAX_TOKENS], "max_tokens", 0, 1000000, &m->max_tokens);
        if (vals[M_TRUNCATE]) want_bool(c, vals[M_TRUNCATE], "truncate", &m->truncate);
    }
done:
    free(seen);
}

/* ---------------------------------------------------------------- grid.prompts */

enum { P_NAME, P_GENERATOR, P_FILE, P_FIELD, P_COUNT, P_LENGTH, P_SEED, P_TOKEN_ID, P_N };
static const char *const PROMPT_KEYS[P_N] = {"name", "generator", "file", "field", "count", "length", "seed", "token_id"};
static const char *const GENERATORS[] = {"natural", "random", "repeated"};

/* The file's extension, lower-cased into buf ("" when none). */
static const char *file_ext(const char *path, char *buf, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    buf[0] = '\0';
    if (!dot || dot == base) return buf;
    size_t i = 0;
    for (; dot[i] && i + 1 < size; i++) buf[i] = (dot[i] >= 'A' && dot[i] <= 'Z') ? (char)(dot[i] - 'A' + 'a') : dot[i];
    buf[i] = '\0';
    return buf;
}

static void parse_prompts(vctx *c, const yn *seq, ss_sweep *s)
{
    seen_name *seen = xcalloc(c, (size_t)seq->n, sizeof *seen);
    s->prompts = xcalloc(c, (size_t)seq->n, sizeof *s->prompts);
    int n_seen = 0;
    char b1[SHOW_BUF];
    if (!seen || !s->prompts) goto done;
    s->n_prompts = seq->n;
    for (int i = 0; i < seq->n; i++) {
        const yn *item = seq->kids[i], *vals[P_N], *keyn[P_N];
        ss_prompt_spec *p = &s->prompts[i];
        char where[64];
        snprintf(where, sizeof where, "grid.prompts[%d]", i);
        p->loc = item->loc;
        p->seed = s->seed;
        p->token_id = -1;
        if (item->kind != YN_MAP) {
            type_error(c, item, where, "a mapping with 'name' and 'generator' or 'file'");
            continue;
        }
        map_fields(c, item, where, PROMPT_KEYS, P_N, 1, vals, keyn);
        if (!vals[P_NAME]) missing(c, item, "name", where);
        if (vals[P_NAME]) {
            const char *name = want_name(c, vals[P_NAME], "name");
            if (name) {
                p->name = xstrdup(c, name);
                check_unique(c, seen, &n_seen, name, vals[P_NAME], "prompt set name", "defined");
            }
        }

        /* The kind: exactly one of generator / file. */
        int kind = -1;  /* ss_prompt_kind once known */
        int is_txt = 0; /* a .txt file: one prompt per line, no field */
        const char *applies_to = NULL;
        if (vals[P_GENERATOR] && vals[P_FILE]) {
            const yn *later = keyn[P_FILE]->loc.line > keyn[P_GENERATOR]->loc.line ? keyn[P_FILE] : keyn[P_GENERATOR];
            err(c, later->loc, "both 'generator' and 'file' in %s; give exactly one", where);
            continue;
        }
        if (!vals[P_GENERATOR] && !vals[P_FILE]) {
            err(c, item->loc, "missing 'generator' or 'file' in %s; give exactly one", where);
            continue;
        }
        if (vals[P_GENERATOR]) {
            int g = want_enum(c, vals[P_GENERATOR], "generator", "generator", GENERATORS, 3);
            if (g < 0) continue;
            kind = g == 0 ? SS_PROMPTS_NATURAL : g == 1 ? SS_PROMPTS_RANDOM : SS_PROMPTS_REPEATED;
            applies_to = g == 0 ? "the natural generator" : g == 1 ? "the random generator" : "the repeated generator";
        } else {
            const char *path = want_string(c, vals[P_FILE], "file");
            if (!path) continue;
            kind = SS_PROMPTS_FILE;
            applies_to = "a prompt file";
            p->path = xstrdup(c, path);
            p->resolved_path = resolve_path(c, path);
            char ext[16];
            file_ext(path, ext, sizeof ext);
            if (!strcmp(ext, ".txt")) {
                is_txt = 1;
                applies_to = "a .txt prompt file (one prompt per line)";
            } else if (strcmp(ext, ".jsonl") != 0 && strcmp(ext, ".csv") != 0) {
                if (!ext[0])
                    err(c, vals[P_FILE]->loc, "prompt file '%s' has no extension; use .txt, .jsonl or .csv", show(path, b1));
                else
                    err(c, vals[P_FILE]->loc, "unsupported prompt file extension '%s'; use .txt, .jsonl or .csv",
                        show(ext, b1));
            }
            if (p->resolved_path) check_exists(c, vals[P_FILE], p->resolved_path, 0);
        }
        p->kind = (ss_prompt_kind)kind;

        /* Which keys apply to which kind. */
        int generated = kind == SS_PROMPTS_RANDOM || kind == SS_PROMPTS_REPEATED;
        int allowed[P_N] = {0};
        allowed[P_COUNT] = 1;
        allowed[P_FIELD] = kind == SS_PROMPTS_FILE && !is_txt;
        /* natural: optional length = fixed-length passages of consecutive sentences (Gu et al.'s T),
         * whose starting sentences are a seeded draw */
        allowed[P_LENGTH] = allowed[P_SEED] = generated || kind == SS_PROMPTS_NATURAL;
        allowed[P_TOKEN_ID] = kind == SS_PROMPTS_REPEATED;
        for (int k = P_FIELD; k < P_N; k++)
            if (vals[k] && !allowed[k]) err(c, keyn[k]->loc, "'%s' does not apply to %s", PROMPT_KEYS[k], applies_to);

        if (generated && !vals[P_COUNT]) missing(c, item, "count", where);
        if (generated && !vals[P_LENGTH]) missing(c, item, "length", where);
        if (vals[P_COUNT] && want_int_i(c, vals[P_COUNT], "count", generated ? 1 : 0, 1000000, &p->count) &&
            kind == SS_PROMPTS_NATURAL && p->count > ss_natural_count())
            err(c, vals[P_COUNT]->loc, "'count' is %d but the natural set holds %d sentences (0 takes them all)",
                p->count, ss_natural_count());
        if (vals[P_LENGTH] && allowed[P_LENGTH]) want_int_i(c, vals[P_LENGTH], "length", 2, 1000000, &p->length);
        if (vals[P_SEED] && allowed[P_SEED]) want_seed(c, vals[P_SEED], "seed", &p->seed);
        if (kind == SS_PROMPTS_NATURAL && vals[P_SEED] && !vals[P_LENGTH])
            err(c, keyn[P_SEED]->loc, "'seed' applies to the natural generator only with 'length' (passages); "
                                      "without it the prompts are the first 'count' sentences in order");
        if (vals[P_TOKEN_ID] && allowed[P_TOKEN_ID])
            want_int_i(c, vals[P_TOKEN_ID], "token_id", 0, INT_MAX, &p->token_id);
        if (allowed[P_FIELD]) {
            if (vals[P_FIELD]) {
                const char *f = want_string(c, vals[P_FIELD], "field");
                if (f) p->field = xstrdup(c, f);
            } else {
                p->field = xstrdup(c, "text");
            }
        }
    }
done:
    free(seen);
}

/* ---------------------------------------------------------------- grid.encoding */

/* In ss_encoding_type order. */
static const char *const ENCODINGS[] = {"native", "none", "rope", "alibi", "sinusoidal", "shuffled"};
#define N_ENCODINGS 6

const char *ss_encoding_type_name(ss_encoding_type t)
{
    return (unsigned)t < N_ENCODINGS ? ENCODINGS[t] : "unknown";
}

enum { E_NAME, E_TYPE, E_THETA, E_FRACTION, E_SEED, E_BOS, E_N };
static const char *const ENCODING_KEYS[E_N] = {"name", "type", "theta", "fraction", "seed", "bos"};

/* A float in [lo, hi] (lo exclusive when lo_open). */
static int want_real(vctx *c, const yn *v, const char *key, double lo, int lo_open, double hi, double *out)
{
    char label[80], b1[SHOW_BUF];
    snprintf(label, sizeof label, "'%s'", key);
    if (!(v->kind == YN_SCALAR && (v->stype == YS_INT || v->stype == YS_FLOAT))) {
        type_error(c, v, label, "a number");
        return 0;
    }
    double x = scalar_num(v->str, v->stype);
    if (!(lo_open ? x > lo : x >= lo) || !(x <= hi)) {
        err(c, v->loc, "'%s' must be in %c%g, %g], got %s", key, lo_open ? '(' : '[', lo, hi, show(v->str, b1));
        return 0;
    }
    *out = x;
    return 1;
}

/* Each item: a type name ("none"), or a mapping {name, type, theta, fraction, seed, bos: on|off}. */
static void parse_encodings(vctx *c, const yn *seq, ss_sweep *s)
{
    seen_name *seen = xcalloc(c, (size_t)seq->n, sizeof *seen);
    s->encodings = xcalloc(c, (size_t)seq->n, sizeof *s->encodings);
    int n_seen = 0;
    if (!seen || !s->encodings) goto done;
    s->n_encodings = seq->n;
    for (int i = 0; i < seq->n; i++) {
        const yn *item = seq->kids[i];
        ss_encoding_spec *e = &s->encodings[i];
        char where[64];
        snprintf(where, sizeof where, "grid.encoding[%d]", i);
        e->loc = item->loc;
        e->theta = 10000.0;
        e->fraction = 1.0;
        e->seed = s->seed;
        e->bos = -1;
        const yn *name_node = item;
        if (item->kind != YN_MAP) {
            int t = want_enum(c, item, "encoding", "encoding", ENCODINGS, N_ENCODINGS);
            if (t < 0) continue;
            e->type = (ss_encoding_type)t;
            e->name = xstrdup(c, item->str);
        } else {
            const yn *vals[E_N], *keyn[E_N];
            map_fields(c, item, where, ENCODING_KEYS, E_N, 1, vals, keyn);
            if (!vals[E_TYPE]) {
                missing(c, item, "type", where);
                continue;
            }
            int t = want_enum(c, vals[E_TYPE], "type", "encoding", ENCODINGS, N_ENCODINGS);
            if (t < 0) continue;
            e->type = (ss_encoding_type)t;
            if (vals[E_NAME]) {
                const char *nm = want_name(c, vals[E_NAME], "name");
                if (!nm) continue;
                e->name = xstrdup(c, nm);
                name_node = vals[E_NAME];
            } else {
                e->name = xstrdup(c, vals[E_TYPE]->str);
                name_node = vals[E_TYPE];
            }
            const char *type_s = ENCODINGS[t];
            if (vals[E_THETA] && t != SS_ENC_ROPE) err(c, keyn[E_THETA]->loc, "'theta' applies only to type rope, not %s", type_s);
            if (vals[E_FRACTION] && t != SS_ENC_ROPE)
                err(c, keyn[E_FRACTION]->loc, "'fraction' applies only to type rope, not %s", type_s);
            if (vals[E_SEED] && t != SS_ENC_SHUFFLED)
                err(c, keyn[E_SEED]->loc, "'seed' applies only to type shuffled, not %s", type_s);
            if (vals[E_THETA] && t == SS_ENC_ROPE) want_real(c, vals[E_THETA], "theta", 0, 1, 1e12, &e->theta);
            if (vals[E_FRACTION] && t == SS_ENC_ROPE) want_real(c, vals[E_FRACTION], "fraction", 0, 1, 1, &e->fraction);
            if (vals[E_SEED] && t == SS_ENC_SHUFFLED) want_seed(c, vals[E_SEED], "seed", &e->seed);
            if (vals[E_BOS]) {
                static const char *const ONOFF[] = {"off", "on"};
                const yn *b = vals[E_BOS];
                if (b->kind == YN_SCALAR && b->stype == YS_BOOL) {
                    int on = 0;
                    plain_bool(b->str, &on);
                    e->bos = on;
                } else {
                    int k = want_enum(c, b, "bos", "bos setting", ONOFF, 2);
                    if (k >= 0) e->bos = k;
                }
            }
        }
        if (e->name) check_unique(c, seen, &n_seen, e->name, name_node, "encoding", "listed");
    }
done:
    free(seen);
}

/* ---------------------------------------------------------------- analyses */

static void fmt_num(double x, char *buf, size_t size)
{
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(buf, size, "%.0f", x);
    else
        snprintf(buf, size, "%g", x);
}

static int param_in_range(const ss_param_decl *d, double x)
{
    int lo = d->min_exclusive ? x > d->min : x >= d->min;
    int hi = d->max_exclusive ? x < d->max : x <= d->max;
    return lo && hi;
}

static void param_range_error(vctx *c, const yn *v, const ss_param_decl *d, const char *label)
{
    char lo[32], hi[32], b1[SHOW_BUF];
    fmt_num(d->min, lo, sizeof lo);
    fmt_num(d->max, hi, sizeof hi);
    err(c, v->loc, "%s must be in %c%s, %s%c, got %s", label, d->min_exclusive ? '(' : '[', lo, hi,
        d->max_exclusive ? ')' : ']', show_n(v->str, v->len, b1, SHOW_MAX));
}

static int is_number(const yn *v) { return v->kind == YN_SCALAR && (v->stype == YS_INT || v->stype == YS_FLOAT); }

/* One analysis parameter against its declaration. */
static int parse_param(vctx *c, const ss_param_decl *d, const yn *v, ss_param_value *out)
{
    char label[96];
    snprintf(label, sizeof label, "'%s'", d->name);
    out->name = d->name;
    out->type = d->type;
    switch (d->type) {
    case SS_PARAM_INT: {
        int ovf;
        if (!is_scalar(v, YS_INT)) return type_error(c, v, label, "an integer"), 0;
        long long x = scalar_int(v->str, &ovf);
        if (ovf || !param_in_range(d, (double)x)) return param_range_error(c, v, d, label), 0;
        out->num = (double)x;
        return 1;
    }
    case SS_PARAM_FLOAT:
        if (!is_number(v)) return type_error(c, v, label, "a number"), 0;
        out->num = scalar_num(v->str, v->stype);
        if (!param_in_range(d, out->num)) return param_range_error(c, v, d, label), 0;
        return 1;
    case SS_PARAM_FLOAT_LIST: {
        int n = v->kind == YN_SEQ ? v->n : 1, ok = 1;
        if (v->kind != YN_SEQ && !is_number(v)) return type_error(c, v, label, "a list of numbers"), 0;
        if (n == 0) return err(c, v->loc, "%s must not be empty", label), 0;
        out->list = xcalloc(c, (size_t)n, sizeof *out->list);
        if (!out->list) return 0;
        out->n_list = n;
        for (int i = 0; i < n; i++) {
            const yn *e = v->kind == YN_SEQ ? v->kids[i] : v;
            char el[112];
            if (v->kind == YN_SEQ)
                snprintf(el, sizeof el, "'%s[%d]'", d->name, i);
            else
                snprintf(el, sizeof el, "'%s'", d->name);
            if (!is_number(e)) {
                type_error(c, e, el, "a number");
                ok = 0;
                continue;
            }
            out->list[i] = scalar_num(e->str, e->stype);
            if (!param_in_range(d, out->list[i])) {
                param_range_error(c, e, d, el);
                ok = 0;
            }
        }
        return ok;
    }
    case SS_PARAM_STRING: {
        const char *s = want_string(c, v, d->name);
        if (!s) return 0;
        out->str = xstrdup(c, s);
        return out->str != NULL;
    }
    }
    return 0;
}

/* A declared default, parsed as YAML text the same way as user input. */
static void param_default(vctx *c, const ss_analysis_type *t, const ss_param_decl *d, ss_loc loc, ss_param_value *out)
{
    vctx quiet = {NULL, 0, 0, c->base_dir};
    ydoc doc = {0};
    const char *text = d->default_value ? d->default_value : "";
    int ok = ydoc_load(&quiet, &doc, text, strlen(text)) && doc.root && quiet.n_err == 0;
    if (ok) ok = parse_param(&quiet, d, doc.root, out) && quiet.n_err == 0;
    if (quiet.nomem) c->nomem = 1;
    if (!ok && !quiet.nomem)
        err(c, loc, "internal error: analysis type '%s' declares an invalid default '%s' for '%s'", t->type, text,
            d->name);
    ydoc_free(&doc);
}

static void parse_analyses(vctx *c, const yn *seq, ss_sweep *s)
{
    seen_name *seen = xcalloc(c, (size_t)seq->n, sizeof *seen);
    s->analyses = xcalloc(c, (size_t)seq->n, sizeof *s->analyses);
    const ss_analysis_type *const *all = ss_analysis_all();
    const char *type_names[64];
    int n_types = 0, n_seen = 0;
    while (all && all[n_types] && n_types < 64) {
        type_names[n_types] = all[n_types]->type;
        n_types++;
    }
    if (!seen || !s->analyses) goto done;
    s->n_analyses = seq->n;
    for (int i = 0; i < seq->n; i++) {
        const yn *item = seq->kids[i];
        ss_analysis_spec *a = &s->analyses[i];
        char where[64];
        snprintf(where, sizeof where, "analyses[%d]", i);
        a->loc = item->loc;
        if (item->kind != YN_MAP) {
            type_error(c, item, where, "a mapping with 'name' and 'type'");
            continue;
        }
        /* The type decides which other keys are valid: find it first. */
        const yn *type_v = NULL;
        for (int p = 0; p + 1 < item->n && !type_v; p += 2)
            if (item->kids[p]->kind == YN_SCALAR && key_is(item->kids[p], "type")) type_v = item->kids[p + 1];
        const ss_analysis_type *t = NULL;
        if (type_v) {
            const char *tn = want_string(c, type_v, "type");
            if (tn && !(t = ss_analysis_find(tn)))
                unknown(c, type_v->loc, "analysis type", NULL, type_v->str, type_v->len, type_names, n_types, "types");
        }
        int nk = 2 + (t ? t->n_params : 0);
        const char **keys = xcalloc(c, (size_t)nk, sizeof *keys);
        const yn **vals = xcalloc(c, (size_t)nk, sizeof *vals), **keyn = xcalloc(c, (size_t)nk, sizeof *keyn);
        if (keys && vals && keyn) {
            keys[0] = "name";
            keys[1] = "type";
            for (int k = 0; t && k < t->n_params; k++) keys[2 + k] = t->params[k].name;
            /* Unknown keys are reported only when the type is known (otherwise every parameter would be). */
            map_fields(c, item, where, keys, nk, t != NULL, vals, keyn);
            if (!vals[0]) missing(c, item, "name", where);
            if (!vals[1]) missing(c, item, "type", where);
            if (vals[0]) {
                const char *name = want_name(c, vals[0], "name");
                if (name) {
                    a->name = xstrdup(c, name);
                    check_unique(c, seen, &n_seen, name, vals[0], "analysis name", "defined");
                }
            }
            if (t) {
                a->type = xstrdup(c, t->type);
                a->params = xcalloc(c, (size_t)(t->n_params ? t->n_params : 1), sizeof *a->params);
                if (a->params) {
                    a->n_params = t->n_params;
                    for (int k = 0; k < t->n_params; k++) {
                        if (vals[2 + k])
                            parse_param(c, &t->params[k], vals[2 + k], &a->params[k]);
                        else
                            param_default(c, t, &t->params[k], item->loc, &a->params[k]);
                    }
                }
            }
        }
        free(keys);
        free(vals);
        free(keyn);
    }
done:
    free(seen);
}

/* ---------------------------------------------------------------- frames (the frame classifier's thresholds) */

enum { F_THETA_C, F_PHI, F_THETA_B, F_THETA_D, F_SKIP, F_BOOT, F_SEED, F_N };
static const char *const FRAMES_KEYS[F_N] = {"theta_c", "phi", "theta_b", "theta_d", "skip_layers", "bootstrap",
                                             "seed"};
/* [lo, hi] per key: science.md (d)'s tuning ranges, widened (theta_c [0.8, 0.95], phi [0.8, 1], theta_b [0.4, 0.6],
 * theta_d [0.3, 0.6] there). The seed's range is [0, 2^64). */
static const double FRAMES_RANGE[F_N][2] = {{0.5, 1.0}, {0.5, 1.0}, {0.25, 0.9}, {0.1, 0.9},
                                            {0, 1000},  {0, 100000}, {0, 18446744073709551615.0}};

void ss_frames_params_default(ss_frames_params *p)
{
    *p = (ss_frames_params){.theta_c = 0.9, .phi = 0.9, .theta_b = 0.5, .theta_d = 0.5, .skip_layers = 2,
                            .bootstrap = 200, .seed = 0};
}

int ss_frames_param_range(const char *key, double *lo, double *hi)
{
    for (int i = 0; i < F_N; i++)
        if (key && !strcmp(key, FRAMES_KEYS[i])) {
            *lo = FRAMES_RANGE[i][0];
            *hi = FRAMES_RANGE[i][1];
            return 0;
        }
    return -1;
}

static void parse_frames(vctx *c, const yn *v, ss_frames_params *f)
{
    const yn *vals[F_N], *keyn[F_N];
    if (v->kind != YN_MAP) {
        type_error(c, v, "'frames'", "a mapping");
        return;
    }
    map_fields(c, v, "frames", FRAMES_KEYS, F_N, 1, vals, keyn);
    double *reals[] = {&f->theta_c, &f->phi, &f->theta_b, &f->theta_d};
    for (int k = F_THETA_C; k <= F_THETA_D; k++)
        if (vals[k]) want_real(c, vals[k], FRAMES_KEYS[k], FRAMES_RANGE[k][0], 0, FRAMES_RANGE[k][1], reals[k]);
    if (vals[F_SKIP])
        want_int_i(c, vals[F_SKIP], "skip_layers", (int)FRAMES_RANGE[F_SKIP][0], (int)FRAMES_RANGE[F_SKIP][1],
                   &f->skip_layers);
    if (vals[F_BOOT])
        want_int_i(c, vals[F_BOOT], "bootstrap", (int)FRAMES_RANGE[F_BOOT][0], (int)FRAMES_RANGE[F_BOOT][1],
                   &f->bootstrap);
    if (vals[F_SEED]) want_seed(c, vals[F_SEED], "seed", &f->seed);
}

/* ---------------------------------------------------------------- the whole sweep */

enum { T_NAME, T_SEED, T_OUTPUT, T_RUN, T_GRID, T_ANALYSES, T_FRAMES, T_N };
static const char *const TOP_KEYS[T_N] = {"name", "seed", "output", "run", "grid", "analyses", "frames"};
enum { G_MODEL, G_PROMPTS, G_ENCODING, G_N };
static const char *const GRID_KEYS[G_N] = {"model", "prompts", "encoding"};

static void parse_root(vctx *c, const yn *root, ss_sweep *s)
{
    const yn *vals[T_N], *keyn[T_N];
    char d[DESC_BUF];
    if (!root) {
        err(c, (ss_loc){1, 1}, "the sweep is empty; it needs at least 'name', 'grid' and 'analyses'");
        return;
    }
    if (root->kind != YN_MAP) {
        err(c, root->loc, "the sweep must be a mapping with 'name', 'grid' and 'analyses', got %s",
            describe(root, d, sizeof d));
        return;
    }
    map_fields(c, root, "the sweep", TOP_KEYS, T_N, 1, vals, keyn);
    if (!vals[T_NAME]) missing(c, root, "name", "the sweep");
    if (!vals[T_GRID]) missing(c, root, "grid", "the sweep");
    if (!vals[T_ANALYSES]) missing(c, root, "analyses", "the sweep");

    if (vals[T_NAME]) {
        const char *name = want_name(c, vals[T_NAME], "name");
        if (name) s->name = xstrdup(c, name);
    }
    if (vals[T_SEED]) want_seed(c, vals[T_SEED], "seed", &s->seed); /* before the prompts: their default */
    if (vals[T_OUTPUT]) {
        const char *o = want_string(c, vals[T_OUTPUT], "output");
        if (o) s->output = resolve_path(c, o);
    }
    if (vals[T_RUN]) parse_run(c, vals[T_RUN], s);
    if (vals[T_FRAMES]) parse_frames(c, vals[T_FRAMES], &s->frames);
    if (vals[T_GRID]) {
        const yn *g = vals[T_GRID], *gv[G_N], *gk[G_N];
        if (g->kind != YN_MAP) {
            type_error(c, g, "'grid'", "a mapping with 'model', 'prompts' and 'encoding'");
        } else {
            map_fields(c, g, "grid", GRID_KEYS, G_N, 1, gv, gk);
            for (int k = 0; k < G_N; k++)
                if (!gv[k]) missing(c, g, GRID_KEYS[k], "grid");
            const char *hint = "a grid axis needs at least one value";
            const yn *seq;
            if (gv[G_MODEL] && (seq = want_list(c, gv[G_MODEL], "model", "grid", 1, hint))) parse_models(c, seq, s);
            if (gv[G_PROMPTS] && (seq = want_list(c, gv[G_PROMPTS], "prompts", "grid", 1, hint)))
                parse_prompts(c, seq, s);
            if (gv[G_ENCODING] && (seq = want_list(c, gv[G_ENCODING], "encoding", "grid", 1, hint)))
                parse_encodings(c, seq, s);
        }
    }
    if (vals[T_ANALYSES]) {
        const yn *seq = want_list(c, vals[T_ANALYSES], "analyses", "the sweep", 0, "give at least one analysis");
        if (seq) parse_analyses(c, seq, s);
    }
}

/* The absolute directory of the sweep file (the current directory when the file has none). */
static char *dir_of(vctx *c, const char *file)
{
    char cwd[4096];
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (file && file[0] == '/') return xstrndup(c, file, slash == file ? 1 : (size_t)(slash - file));
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, ".");
    if (!slash) return xstrdup(c, cwd);
    size_t lc = strlen(cwd), ld = (size_t)(slash - file);
    char *r = malloc(lc + ld + 2);
    if (!r) {
        c->nomem = 1;
        return NULL;
    }
    memcpy(r, cwd, lc);
    if (lc == 0 || r[lc - 1] != '/') r[lc++] = '/';
    memcpy(r + lc, file, ld);
    r[lc + ld] = '\0';
    return r;
}

ss_status ss_sweep_parse(const char *text, size_t len, const char *file, ss_sweep **out, ss_diags *diags)
{
    ss_status st = SS_OK;
    vctx c = {diags, 0, 0, NULL};
    ydoc doc = {0};
    int first_diag = diags ? diags->n : 0;
    ss_sweep *s = NULL;

    if (out) *out = NULL;
    if (!text) {
        text = "";
        len = 0;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory parsing the sweep");
        goto done;
    }
    ss_frames_params_default(&s->frames);
    s->file = xstrdup(&c, file ? file : "<sweep>");
    s->base_dir = dir_of(&c, file);
    s->text = xstrndup(&c, text, len);
    c.base_dir = s->base_dir;
    if (!c.nomem && ydoc_load(&c, &doc, text, len)) parse_root(&c, doc.root, s);
    diags_sort_from(diags, first_diag);

    if (c.nomem)
        st = ss_fail(SS_ERR_NOMEM, "out of memory parsing the sweep %s", file ? file : "");
    else if (c.n_err)
        st = ss_fail(SS_ERR_INPUT, "%s: %d error%s in the sweep", file ? file : "<sweep>", c.n_err,
                     c.n_err == 1 ? "" : "s");
done:
    ydoc_free(&doc);
    if (st != SS_OK || !out)
        ss_sweep_free(s);
    else
        *out = s;
    return st;
}

ss_status ss_sweep_parse_frames(const char *text, size_t len, const char *file, ss_frames_params *out, int *present,
                                ss_diags *diags)
{
    ss_status st = SS_OK;
    vctx c = {diags, 0, 0, NULL};
    ydoc doc = {0};
    int first_diag = diags ? diags->n : 0;
    ss_frames_params_default(out);
    *present = 0;
    if (!text) {
        text = "";
        len = 0;
    }
    if (ydoc_load(&c, &doc, text, len) && doc.root && doc.root->kind == YN_MAP) {
        for (int p = 0; p + 1 < doc.root->n; p += 2) {
            const yn *k = doc.root->kids[p];
            if (k->kind == YN_SCALAR && key_is(k, "frames")) {
                *present = 1;
                parse_frames(&c, doc.root->kids[p + 1], out);
                break;
            }
        }
    }
    diags_sort_from(diags, first_diag);
    if (c.nomem)
        st = ss_fail(SS_ERR_NOMEM, "out of memory parsing the sweep %s", file ? file : "");
    else if (c.n_err)
        st = ss_fail(SS_ERR_INPUT, "%s: %d error%s in 'frames'", file ? file : "<sweep>", c.n_err,
                     c.n_err == 1 ? "" : "s");
    ydoc_free(&doc);
    if (st != SS_OK) ss_frames_params_default(out);
    return st;
}

#define SWEEP_MAX_BYTES (16u << 20)

ss_status ss_sweep_load(const char *file, ss_sweep **out, ss_diags *diags)
{
    ss_status st = SS_OK;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = NULL;

    if (out) *out = NULL;
    f = fopen(file, "rb");
    if (!f) {
        ss_diags_add(diags, (ss_loc){0, 0}, "cannot open the sweep file: %s", strerror(errno));
        st = ss_fail(SS_ERR_IO, "cannot open %s: %s", file, strerror(errno));
        goto done;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 8192;
            if (cap > SWEEP_MAX_BYTES + 1) cap = SWEEP_MAX_BYTES + 1;
            char *nb = realloc(buf, cap);
            if (!nb) {
                st = ss_fail(SS_ERR_NOMEM, "out of memory reading %s", file);
                goto done;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
        if (len > SWEEP_MAX_BYTES) {
            ss_diags_add(diags, (ss_loc){0, 0}, "the sweep file is larger than %u bytes", SWEEP_MAX_BYTES);
            st = ss_fail(SS_ERR_INPUT, "%s is larger than %u bytes", file, SWEEP_MAX_BYTES);
            goto done;
        }
    }
    if (ferror(f)) {
        int e = errno;
        ss_diags_add(diags, (ss_loc){0, 0}, "cannot read the sweep file: %s", strerror(e));
        st = ss_fail(SS_ERR_IO, "cannot read %s: %s", file, strerror(e));
        goto done;
    }
    st = ss_sweep_parse(buf ? buf : "", len, file, out, diags);
done:
    if (f) fclose(f);
    free(buf);
    return st;
}

void ss_sweep_free(ss_sweep *s)
{
    if (!s) return;
    free(s->file);
    free(s->base_dir);
    free(s->text);
    free(s->name);
    free(s->output);
    for (int i = 0; s->models && i < s->n_models; i++) {
        free(s->models[i].name);
        free(s->models[i].path);
        free(s->models[i].resolved_path);
    }
    free(s->models);
    for (int i = 0; s->prompts && i < s->n_prompts; i++) {
        free(s->prompts[i].name);
        free(s->prompts[i].path);
        free(s->prompts[i].resolved_path);
        free(s->prompts[i].field);
    }
    free(s->prompts);
    for (int i = 0; s->encodings && i < s->n_encodings; i++) free(s->encodings[i].name);
    free(s->encodings);
    for (int i = 0; s->analyses && i < s->n_analyses; i++) {
        ss_analysis_spec *a = &s->analyses[i];
        free(a->name);
        free(a->type);
        for (int k = 0; a->params && k < a->n_params; k++) {
            free(a->params[k].list);
            free(a->params[k].str);
        }
        free(a->params);
    }
    free(s->analyses);
    free(s);
}
