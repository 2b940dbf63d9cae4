/* unigram.c: Viterbi segmentation over piece scores with byte fallback (see unigram.h). */
#include "unigram.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *text;    /* the piece as matched against normalised text (NUL-terminated) */
    uint32_t len;
    float score;
    int32_t type;
} piece;

struct ss_unigram {
    piece *p;          /* [n] */
    int n;
    int32_t unk_id;
    float min_score;
    uint32_t max_len;  /* longest normal piece, bytes */
    int32_t byte_id[256]; /* <0xXX> pieces, -1 when absent */
    int32_t *table;    /* open-addressing hash of normal pieces: [cap] ids, -1 empty */
    uint32_t cap;
    int32_t *added;    /* control pieces, longest first: [n_added] */
    int n_added;
    unsigned char added_first[256]; /* 1 for bytes that start some control piece */
};

static uint64_t hash_bytes(const char *s, uint32_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (uint32_t i = 0; i < len; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

static int32_t lookup(const ss_unigram *u, const char *s, uint32_t len)
{
    uint32_t mask = u->cap - 1, i = (uint32_t)hash_bytes(s, len) & mask;
    for (;; i = (i + 1) & mask) {
        int32_t id = u->table[i];
        if (id < 0) return -1;
        if (u->p[id].len == len && memcmp(u->p[id].text, s, len) == 0) return id;
    }
}

static int cmp_added(const void *a, const void *b, void *ctx)
{
    const ss_unigram *u = ctx;
    const piece *x = &u->p[*(const int32_t *)a], *y = &u->p[*(const int32_t *)b];
    if (x->len != y->len) return x->len > y->len ? -1 : 1;
    return *(const int32_t *)a - *(const int32_t *)b;
}

/* qsort_r is a GNU extension: sort the few added tokens with insertion sort instead. */
static void sort_added(ss_unigram *u)
{
    for (int i = 1; i < u->n_added; i++) {
        int32_t v = u->added[i];
        int j = i - 1;
        while (j >= 0 && cmp_added(&u->added[j], &v, u) > 0) {
            u->added[j + 1] = u->added[j];
            j--;
        }
        u->added[j + 1] = v;
    }
}

/* transformers' GGUF conversion: <0x09> is a literal tab; an all-space piece becomes as many '▁'. */
static char *convert_piece(const char *s, uint64_t len, uint32_t *out_len)
{
    if (len == 6 && memcmp(s, "<0x09>", 6) == 0) {
        *out_len = 1;
        return strdup("\t");
    }
    int all_space = len > 0;
    for (uint64_t i = 0; i < len && all_space; i++) all_space = s[i] == ' ';
    if (all_space) {
        char *r = malloc(3 * len + 1);
        if (!r) return NULL;
        for (uint64_t i = 0; i < len; i++) memcpy(r + 3 * i, "\xe2\x96\x81", 3);
        r[3 * len] = '\0';
        *out_len = (uint32_t)(3 * len);
        return r;
    }
    char *r = malloc(len + 1);
    if (!r) return NULL;
    memcpy(r, s, len);
    r[len] = '\0';
    *out_len = (uint32_t)len;
    return r;
}

ss_status ss_unigram_new(const char *const *pieces, const uint64_t *len, const float *scores, const int32_t *types,
                         int n, int32_t unk_id, ss_unigram **out)
{
    ss_status st = SS_OK;
    *out = NULL;
    if (n <= 0 || unk_id < 0 || unk_id >= n) return ss_fail(SS_ERR_FORMAT, "unigram: %d pieces, unknown id %d", n, unk_id);
    ss_unigram *u = calloc(1, sizeof *u);
    if (!u) return ss_fail(SS_ERR_NOMEM, "unigram: out of memory");
    u->n = n;
    u->unk_id = unk_id;
    u->min_score = FLT_MAX;
    for (int b = 0; b < 256; b++) u->byte_id[b] = -1;
    u->p = calloc((size_t)n, sizeof *u->p);
    u->cap = 1;
    while (u->cap < 2u * (uint32_t)n) u->cap <<= 1;
    u->table = malloc((size_t)u->cap * sizeof *u->table);
    u->added = malloc((size_t)n * sizeof *u->added);
    if (!u->p || !u->table || !u->added) {
        st = ss_fail(SS_ERR_NOMEM, "unigram: out of memory for %d pieces", n);
        goto done;
    }
    memset(u->table, 0xff, (size_t)u->cap * sizeof *u->table);
    for (int i = 0; i < n; i++) {
        piece *p = &u->p[i];
        p->type = types ? types[i] : SS_TOK_NORMAL;
        p->score = scores ? scores[i] : 0.0f;
        p->text = convert_piece(pieces[i], len[i], &p->len);
        if (!p->text) {
            st = ss_fail(SS_ERR_NOMEM, "unigram: out of memory");
            goto done;
        }
        unsigned hi, lo;
        if (p->type == SS_TOK_BYTE && len[i] == 6 && sscanf(pieces[i], "<0x%1X%1X>", &hi, &lo) == 2) {
            u->byte_id[hi * 16 + lo] = i;
            continue;
        }
        if (p->type == SS_TOK_CONTROL) {
            if (p->len > 0) u->added[u->n_added++] = i;
            continue;
        }
        /* user-defined pieces (Gemma's whitespace runs) take part in the segmentation like normal ones */
        if ((p->type != SS_TOK_NORMAL && p->type != SS_TOK_USER_DEFINED) || p->len == 0) continue;
        if (p->score < u->min_score) u->min_score = p->score;
        if (p->len > u->max_len) u->max_len = p->len;
        if (lookup(u, p->text, p->len) >= 0) continue; /* the first of duplicate pieces wins */
        uint32_t mask = u->cap - 1, h = (uint32_t)hash_bytes(p->text, p->len) & mask;
        while (u->table[h] >= 0) h = (h + 1) & mask;
        u->table[h] = i;
    }
    if (u->min_score == FLT_MAX) u->min_score = 0;
    sort_added(u);
    for (int a = 0; a < u->n_added; a++) u->added_first[(unsigned char)u->p[u->added[a]].text[0]] = 1;
    *out = u;
    u = NULL;
done:
    ss_unigram_free(u);
    return st;
}

void ss_unigram_free(ss_unigram *u)
{
    if (!u) return;
    if (u->p)
        for (int i = 0; i < u->n; i++) free(u->p[i].text);
    free(u->p);
    free(u->table);
    free(u->added);
    free(u);
}

int ss_unigram_vocab_size(const ss_unigram *u) { return u->n; }

int ss_unigram_is_special(const ss_unigram *u, int32_t id)
{
    return id >= 0 && id < u->n && u->p[id].type != SS_TOK_NORMAL;
}

const char *ss_unigram_piece(const ss_unigram *u, int32_t id) { return id >= 0 && id < u->n ? u->p[id].text : NULL; }

int32_t ss_unigram_id(const ss_unigram *u, const char *s)
{
    for (int i = 0; i < u->n; i++)
        if (strcmp(u->p[i].text, s) == 0) return i;
    return -1;
}

/* ------------------------------------------------------------------ encoding */

typedef struct {
    int32_t *v;
    int n, cap;
} idvec;

static int push(idvec *o, int32_t id)
{
    if (o->n == o->cap) {
        int cap = o->cap ? 2 * o->cap : 64;
        int32_t *nv = realloc(o->v, (size_t)cap * sizeof *nv);
        if (!nv) return -1;
        o->v = nv;
        o->cap = cap;
    }
    o->v[o->n++] = id;
    return 0;
}

static int utf8_len(unsigned char c)
{
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1; /* a stray byte: its own character */
}

/* Viterbi over s[0..len) (already normalised). Appends ids to o. */
static ss_status viterbi(const ss_unigram *u, const char *s, size_t len, idvec *o)
{
    ss_status st = SS_OK;
    double *best = malloc((len + 1) * sizeof *best); /* [len+1] best score of a segmentation of s[0..i) */
    int32_t *from = malloc((len + 1) * sizeof *from); /* [len+1] start of the last piece */
    int32_t *tok = malloc((len + 1) * sizeof *tok);   /* [len+1] its id, -1 = unknown character */
    int32_t *path = malloc((len + 1) * sizeof *path);
    if (!best || !from || !tok || !path) {
        st = ss_fail(SS_ERR_NOMEM, "unigram: out of memory for %zu bytes of text", len);
        goto done;
    }
    const double unk_score = (double)u->min_score - 10.0; /* sentencepiece's unknown penalty */
    best[0] = 0;
    for (size_t i = 1; i <= len; i++) best[i] = -DBL_MAX;
    for (size_t i = 0; i < len; i++) {
        if (best[i] == -DBL_MAX) continue; /* not a character boundary */
        int clen = utf8_len((unsigned char)s[i]);
        if (i + (size_t)clen > len) clen = (int)(len - i);
        int has_single = 0;
        for (size_t j = i + 1; j <= len && j - i <= u->max_len; j++) {
            int32_t id = lookup(u, s + i, (uint32_t)(j - i));
            if (id < 0) continue;
            if (j - i == (size_t)clen) has_single = 1;
            double sc = best[i] + u->p[id].score;
            if (sc > best[j]) {
                best[j] = sc;
                from[j] = (int32_t)i;
                tok[j] = id;
            }
        }
        if (!has_single) { /* the character alone is unknown */
            size_t j = i + (size_t)clen;
            double sc = best[i] + unk_score;
            if (sc > best[j]) {
                best[j] = sc;
                from[j] = (int32_t)i;
                tok[j] = -1;
            }
        }
    }
    int np = 0;
    for (size_t j = len; j > 0; j = (size_t)from[j]) path[np++] = (int32_t)j;
    for (int k = np - 1; k >= 0; k--) {
        size_t j = (size_t)path[k], i = (size_t)from[j];
        if (tok[j] >= 0) {
            if (push(o, tok[j])) goto nomem;
            continue;
        }
        for (size_t b = i; b < j; b++) { /* byte fallback, or the unknown token */
            int32_t id = u->byte_id[(unsigned char)s[b]];
            if (id < 0) {
                if (push(o, u->unk_id)) goto nomem;
                break;
            }
            if (push(o, id)) goto nomem;
        }
    }
    goto done;
nomem:
    st = ss_fail(SS_ERR_NOMEM, "unigram: out of memory");
done:
    free(best);
    free(from);
    free(tok);
    free(path);
    return st;
}

/* Replaces ' ' by '▁' in s[0..len) into buf (3 bytes per space). */
static size_t normalise(const char *s, size_t len, char *buf)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ' ') {
            memcpy(buf + o, "\xe2\x96\x81", 3);
            o += 3;
        } else {
            buf[o++] = s[i];
        }
    }
    return o;
}

ss_status ss_unigram_encode(const ss_unigram *u, const char *text, int32_t **ids, int *n)
{
    ss_status st = SS_OK;
    idvec o = {0};
    size_t len = strlen(text);
    char *buf = malloc(3 * len + 1); /* normalised segment */
    *ids = NULL;
    *n = 0;
    if (!buf || push(&o, 0)) {
        st = ss_fail(SS_ERR_NOMEM, "unigram: out of memory");
        goto done;
    }
    o.n = 0;
    size_t seg = 0; /* start of the text not yet encoded */
    for (size_t i = 0; i <= len;) {
        int32_t hit = -1;
        if (i < len && u->added_first[(unsigned char)text[i]])
            for (int a = 0; a < u->n_added; a++) {
                const piece *p = &u->p[u->added[a]];
                if (p->len <= len - i && memcmp(text + i, p->text, p->len) == 0) {
                    hit = u->added[a];
                    break;
                }
            }
        if (hit < 0 && i < len) {
            i++;
            continue;
        }
        if (i > seg) SS_TRY(viterbi(u, buf, normalise(text + seg, i - seg, buf), &o));
        if (hit < 0) break;
        if (push(&o, hit)) {
            st = ss_fail(SS_ERR_NOMEM, "unigram: out of memory");
            goto done;
        }
        i += u->p[hit].len;
        seg = i;
    }
    *ids = o.v;
    *n = o.n;
    o.v = NULL;
done:
    free(o.v);
    free(buf);
    return st;
}
