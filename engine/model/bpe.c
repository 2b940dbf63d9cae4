/* bpe.c: byte-level BPE (the GPT-2 family: SmolLM, Llama 3, GPT-2, ...), matching the Hugging Face tokenizers
 * library (0.19) exactly.
 *
 * Pipeline for one text (tokenizers' TokenizerImpl::encode with a BPE model and no normalizer):
 *   1. the text (UTF-8; an ill-formed sequence becomes U+FFFD) is split on the added tokens found verbatim in
 *      it, leftmost-longest: first the non-normalized ones, then the normalized ones in the pieces between
 *      (with no normalizer both look at the raw text); each match yields its id; lstrip / rstrip take the
 *      whitespace on that side along with the token;
 *   2. the pre-tokenizer (pretok.c: Digits, the GPT-2 regex, the Llama-3 regex) splits every other piece;
 *   3. each pre-token becomes its UTF-8 bytes, and each byte the vocabulary symbol of its character in GPT-2's
 *      byte-to-unicode table; a byte whose symbol is not in the vocabulary is dropped (tokenizers' BPE drops an
 *      unknown character when the model has no unk_token; with one, it becomes unk_token, fused with unknown
 *      neighbours under fuse_unk);
 *   4. with ignore_merges, a pre-token whose whole byte-level string is in the vocabulary is that token;
 *   5. otherwise the merges apply by rank: tokenizers' Word::merge_all keeps a priority queue of the adjacent
 *      pairs that have a merge, pops the lowest rank (the leftmost on ties), skips entries made stale by earlier
 *      merges, merges the pair into its token and queues the two new pairs around it. The same is done here.
 * Sources: tokenizer.json (model.type "BPE" with a ByteLevel pre-tokenizer) or in-memory arrays as GGUF files
 * hold them (tokenizer.ggml.tokens / merges / token_type / pre). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pretok.h"         /* defines: ss_pretok, ss_pretok_split, ss_pretok_classify, ... */
#include "tokenizer.h"      /* defines: ss_bpe_byte_symbol */
#include "tokenizer_impl.h" /* defines: ss_bpe_*, json_t */
#include "utf8.h"           /* defines: ss_utf8_decode, ss_utf8_encode, ss_uc_props, SS_UC_WS */

#define BPE_MAX_IDS (1 << 24) /* sanity bound on token ids and merge counts */
#define MKEY_EMPTY UINT64_MAX /* an empty slot of the merge map (ids are below 2^31, so no pair has this key) */

/* token -> id (open addressing, linear probing) */
typedef struct {
    const char *key; /* NULL: empty; points into the tokenizer's pool */
    uint32_t len, hash;
    int32_t id;
} vslot;

/* (left id, right id) -> (rank, merged id) */
typedef struct {
    uint64_t key;
    uint32_t rank;
    int32_t new_id;
} mslot;

/* An added token: matched verbatim in the text before pre-tokenization. */
typedef struct {
    char *content;
    uint32_t *cps; /* content as code points */
    size_t n_cps;
    int32_t id;
    int normalized, lstrip, rstrip;
} bpe_added;

struct ss_bpe {
    int32_t n_ids;
    const char **id_tok; /* [n_ids] the vocabulary token or added content of each id; NULL for unused ids */
    uint8_t *special;    /* [n_ids] */
    char *pool;          /* the vocabulary strings, NUL-terminated, back to back */
    size_t pool_len, pool_cap;
    vslot *vslots;
    size_t vmask;
    mslot *mslots;
    size_t mmask;
    int32_t byte_id[256]; /* id of each byte's symbol, -1 when the vocabulary lacks it */
    char byte_sym[256][2];
    uint8_t byte_sym_len[256];
    bpe_added *added;
    int n_added;
    uint64_t first_raw, first_norm; /* bloom filters of the added tokens' first code points (cp & 63) */
    ss_pretok pre;
    int ignore_merges, fuse_unk;
    int32_t unk_id; /* -1: none */
};

/* ------------------------------------------------------------------ maps */

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static size_t pow2_at_least(size_t n)
{
    size_t cap = 16;
    while (cap < n) cap *= 2;
    return cap;
}

static int vocab_init(ss_bpe *t, size_t n)
{
    size_t cap = pow2_at_least(2 * n + 16);
    t->vslots = calloc(cap, sizeof *t->vslots);
    if (!t->vslots) return -1;
    t->vmask = cap - 1;
    return 0;
}

/* Inserts key -> id, replacing the id of an equal key (the key must stay alive). */
static void vocab_put(ss_bpe *t, const char *key, size_t len, int32_t id)
{
    uint32_t h = fnv1a(key, len);
    size_t i = h & t->vmask;
    while (t->vslots[i].key) {
        vslot *e = &t->vslots[i];
        if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
            e->id = id;
            return;
        }
        i = (i + 1) & t->vmask;
    }
    t->vslots[i] = (vslot){key, (uint32_t)len, h, id};
}

static int32_t vocab_get(const ss_bpe *t, const char *s, size_t len)
{
    if (!t->vslots) return -1;
    uint32_t h = fnv1a(s, len);
    size_t i = h & t->vmask;
    while (t->vslots[i].key) {
        const vslot *e = &t->vslots[i];
        if (e->hash == h && e->len == len && memcmp(e->key, s, len) == 0) return e->id;
        i = (i + 1) & t->vmask;
    }
    return -1;
}

static uint64_t pair_key(int32_t a, int32_t b) { return (uint64_t)(uint32_t)a << 32 | (uint32_t)b; }

static size_t pair_hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

static int merges_init(ss_bpe *t, size_t n)
{
    size_t cap = pow2_at_least(2 * n + 16);
    t->mslots = malloc(cap * sizeof *t->mslots);
    if (!t->mslots) return -1;
    for (size_t i = 0; i < cap; i++) t->mslots[i].key = MKEY_EMPTY;
    t->mmask = cap - 1;
    return 0;
}

/* A pair merged twice keeps its last rank, as tokenizers' merge map (built by collecting into a hash map). */
static void merge_put(ss_bpe *t, int32_t a, int32_t b, uint32_t rank, int32_t new_id)
{
    uint64_t k = pair_key(a, b);
    size_t i = pair_hash(k) & t->mmask;
    while (t->mslots[i].key != MKEY_EMPTY && t->mslots[i].key != k) i = (i + 1) & t->mmask;
    t->mslots[i] = (mslot){k, rank, new_id};
}

static const mslot *merge_get(const ss_bpe *t, int32_t a, int32_t b)
{
    uint64_t k = pair_key(a, b);
    size_t i = pair_hash(k) & t->mmask;
    while (t->mslots[i].key != MKEY_EMPTY) {
        if (t->mslots[i].key == k) return &t->mslots[i];
        i = (i + 1) & t->mmask;
    }
    return NULL;
}

/* ------------------------------------------------------------------ growable buffers */

typedef struct {
    int32_t *v;
    size_t n, cap;
} idvec;

static int idvec_push(idvec *b, int32_t id)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        int32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v) return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = id;
    return 0;
}

/* Makes *p hold at least n elements of size sz (contents kept). */
static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < n) c *= 2;
    void *v = realloc(*p, c * sz);
    if (!v) return -1;
    *p = v;
    *cap = c;
    return 0;
}

/* ------------------------------------------------------------------ encoding */

/* An entry of the merge queue. */
typedef struct {
    uint32_t rank, pos;
    int32_t new_id;
} bpe_merge;

typedef struct {
    const ss_bpe *t;
    const uint32_t *seg; /* the code points of the piece being pre-tokenized */
    unsigned char *bytes;
    size_t bytes_cap;
    char *mapped; /* byte-level string of a pre-token (ignore_merges) */
    size_t mapped_cap;
    int32_t *sym, *prev, *next;
    size_t sym_cap, prev_cap, next_cap;
    bpe_merge *heap;
    size_t heap_n, heap_cap;
    idvec out;
} bpe_ctx;

static ss_status oom(void) { return ss_fail(SS_ERR_NOMEM, "tokenizer: out of memory while encoding"); }

static int merge_less(const bpe_merge *a, const bpe_merge *b)
{
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static int heap_push(bpe_ctx *c, uint32_t rank, uint32_t pos, int32_t new_id)
{
    if (grow((void **)&c->heap, &c->heap_cap, c->heap_n + 1, sizeof *c->heap)) return -1;
    size_t i = c->heap_n++;
    bpe_merge m = {rank, pos, new_id};
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!merge_less(&m, &c->heap[p])) break;
        c->heap[i] = c->heap[p];
        i = p;
    }
    c->heap[i] = m;
    return 0;
}

static bpe_merge heap_pop(bpe_ctx *c)
{
    bpe_merge top = c->heap[0], last = c->heap[--c->heap_n];
    size_t i = 0, n = c->heap_n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const bpe_merge *best = &last;
        if (l < n && merge_less(&c->heap[l], best)) {
            m = l;
            best = &c->heap[l];
        }
        if (r < n && merge_less(&c->heap[r], best)) m = r;
        if (m == i) break;
        c->heap[i] = c->heap[m];
        i = m;
    }
    if (n) c->heap[i] = last;
    return top;
}

/* Queues the pair (pos, next[pos]) when it has a merge. */
static int queue_pair(bpe_ctx *c, int32_t pos)
{
    int32_t nx = c->next[pos];
    if (nx < 0) return 0;
    const mslot *m = merge_get(c->t, c->sym[pos], c->sym[nx]);
    return m ? heap_push(c, m->rank, (uint32_t)pos, m->new_id) : 0;
}

/* Merges the symbols sym[0..m) by rank and appends the result to the output. */
static ss_status merge_all(bpe_ctx *c, size_t m)
{
    const ss_bpe *t = c->t;
    for (size_t i = 0; i < m; i++) {
        c->prev[i] = (int32_t)i - 1;
        c->next[i] = i + 1 < m ? (int32_t)i + 1 : -1;
    }
    c->heap_n = 0;
    for (size_t i = 0; i + 1 < m; i++)
        if (queue_pair(c, (int32_t)i)) return oom();
    while (c->heap_n) {
        bpe_merge top = heap_pop(c);
        int32_t pos = (int32_t)top.pos;
        if (c->sym[pos] < 0) continue; /* merged into its left neighbour */
        int32_t nx = c->next[pos];
        if (nx < 0) continue;
        const mslot *cur = merge_get(t, c->sym[pos], c->sym[nx]);
        if (!cur || cur->new_id != top.new_id) continue; /* stale: a neighbour changed since it was queued */
        c->sym[pos] = top.new_id;
        c->sym[nx] = -1;
        c->next[pos] = c->next[nx];
        if (c->next[pos] >= 0) c->prev[c->next[pos]] = pos;
        if (c->prev[pos] >= 0 && queue_pair(c, c->prev[pos])) return oom();
        if (queue_pair(c, pos)) return oom();
    }
    for (int32_t i = 0; i >= 0; i = c->next[i])
        if (idvec_push(&c->out, c->sym[i])) return oom();
    return SS_OK;
}

/* BPE on one pre-token, the code points p[0..n). */
static ss_status encode_word(bpe_ctx *c, const uint32_t *p, size_t n)
{
    const ss_bpe *t = c->t;
    if (grow((void **)&c->bytes, &c->bytes_cap, 4 * n, 1)) return oom();
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = ss_utf8_encode(p[i], (char *)c->bytes + nb);
        if (k == 0) k = ss_utf8_encode(SS_UC_REPLACEMENT, (char *)c->bytes + nb); /* cannot happen: decoded input */
        nb += k;
    }
    if (t->ignore_merges && nb > 1) {
        if (grow((void **)&c->mapped, &c->mapped_cap, 2 * nb, 1)) return oom();
        size_t len = 0;
        for (size_t i = 0; i < nb; i++) {
            memcpy(c->mapped + len, t->byte_sym[c->bytes[i]], t->byte_sym_len[c->bytes[i]]);
            len += t->byte_sym_len[c->bytes[i]];
        }
        int32_t id = vocab_get(t, c->mapped, len);
        if (id >= 0) return idvec_push(&c->out, id) ? oom() : SS_OK;
    }
    if (grow((void **)&c->sym, &c->sym_cap, nb, sizeof *c->sym) ||
        grow((void **)&c->prev, &c->prev_cap, nb, sizeof *c->prev) ||
        grow((void **)&c->next, &c->next_cap, nb, sizeof *c->next))
        return oom();
    size_t m = 0;
    int last_unk = 0;
    for (size_t i = 0; i < nb; i++) {
        int32_t id = t->byte_id[c->bytes[i]];
        if (id >= 0) {
            c->sym[m++] = id;
            last_unk = 0;
        } else if (t->unk_id >= 0 && !(t->fuse_unk && last_unk)) {
            c->sym[m++] = t->unk_id;
            last_unk = 1;
        }
    }
    if (m == 0) return SS_OK;
    if (m == 1) return idvec_push(&c->out, c->sym[0]) ? oom() : SS_OK;
    return merge_all(c, m);
}

static int emit_word(void *ctx, size_t start, size_t end)
{
    bpe_ctx *c = ctx;
    return (int)encode_word(c, c->seg + start, end - start);
}

/* Pre-tokenizes s[0..n) and encodes every pre-token. */
static ss_status encode_segment(bpe_ctx *c, const uint32_t *s, const uint8_t *cls, size_t n)
{
    c->seg = s;
    return (ss_status)ss_pretok_split(&c->t->pre, s, cls, n, emit_word, c);
}

/* Longest added token of one kind matching s[pos..n); its index or -1. */
static int match_added(const ss_bpe *t, int normalized, const uint32_t *s, size_t n, size_t pos)
{
    uint64_t bloom = normalized ? t->first_norm : t->first_raw;
    if (!(bloom >> (s[pos] & 63) & 1)) return -1;
    int best = -1;
    for (int k = 0; k < t->n_added; k++) {
        const bpe_added *a = &t->added[k];
        if (a->normalized != normalized || a->n_cps == 0 || a->n_cps > n - pos) continue;
        if (best >= 0 && a->n_cps <= t->added[best].n_cps) continue;
        if (memcmp(a->cps, s + pos, a->n_cps * sizeof *s) == 0) best = k;
    }
    return best;
}

static int is_ws(uint32_t c) { return (ss_uc_props(c) & SS_UC_WS) != 0; }

/* Splits s[0..n) on the added tokens of one kind; the normalized kind is looked for in what the
 * non-normalized split leaves, and what that leaves is pre-tokenized. */
static ss_status split_added(bpe_ctx *c, int normalized, const uint32_t *s, const uint8_t *cls, size_t n)
{
    const ss_bpe *t = c->t;
    ss_status st;
    size_t seg = 0, pos = 0;
    uint64_t bloom = normalized ? t->first_norm : t->first_raw;
    while (bloom && pos < n) {
        int k = match_added(t, normalized, s, n, pos);
        if (k < 0) {
            pos++;
            continue;
        }
        const bpe_added *a = &t->added[k];
        size_t end = pos;
        if (a->lstrip)
            while (end > seg && is_ws(s[end - 1])) end--;
        st = normalized ? encode_segment(c, s + seg, cls + seg, end - seg)
                        : split_added(c, 1, s + seg, cls + seg, end - seg);
        if (st != SS_OK) return st;
        if (idvec_push(&c->out, a->id)) return oom();
        pos += a->n_cps;
        if (a->rstrip)
            while (pos < n && is_ws(s[pos])) pos++;
        seg = pos;
    }
    return normalized ? encode_segment(c, s + seg, cls + seg, n - seg) : split_added(c, 1, s + seg, cls + seg, n - seg);
}

ss_status ss_bpe_encode(const ss_bpe *t, const char *text, int32_t **ids, int *n)
{
    ss_status st = SS_OK;
    bpe_ctx c;
    uint32_t *cps = NULL;
    uint8_t *cls = NULL;
    memset(&c, 0, sizeof c);
    c.t = t;
    if (!t || !text || !ids || !n) return ss_fail(SS_ERR_INPUT, "ss_bpe_encode: NULL argument");
    *ids = NULL;
    *n = 0;
    size_t len = strlen(text), n_cps = 0;
    cps = malloc((len + 1) * sizeof *cps);
    cls = malloc(len + 1);
    if (!cps || !cls) {
        st = oom();
        goto done;
    }
    for (size_t i = 0; i < len;) {
        size_t k;
        cps[n_cps++] = ss_utf8_decode((const unsigned char *)text + i, len - i, &k);
        i += k;
    }
    ss_pretok_classify(cps, n_cps, cls);
    SS_TRY(split_added(&c, 0, cps, cls, n_cps));
    if (c.out.n > (size_t)INT32_MAX) {
        st = ss_fail(SS_ERR_RANGE, "tokenizer: text gives %zu tokens, more than an int can count", c.out.n);
        goto done;
    }
    if (!c.out.v && !(c.out.v = malloc(sizeof *c.out.v))) { /* never hand back NULL for an empty result */
        st = oom();
        goto done;
    }
    *ids = c.out.v;
    *n = (int)c.out.n;
    c.out.v = NULL;
done:
    free(cps);
    free(cls);
    free(c.bytes);
    free(c.mapped);
    free(c.sym);
    free(c.prev);
    free(c.next);
    free(c.heap);
    free(c.out.v);
    return st;
}

/* ------------------------------------------------------------------ accessors */

int ss_bpe_vocab_size(const ss_bpe *t) { return t ? t->n_ids : 0; }

int ss_bpe_is_special(const ss_bpe *t, int32_t id) { return t && id >= 0 && id < t->n_ids ? t->special[id] : 0; }

const char *ss_bpe_token(const ss_bpe *t, int32_t id) { return t && id >= 0 && id < t->n_ids ? t->id_tok[id] : NULL; }

int32_t ss_bpe_id(const ss_bpe *t, const char *token)
{
    if (!t || !token) return -1;
    for (int k = 0; k < t->n_added; k++)
        if (strcmp(t->added[k].content, token) == 0) return t->added[k].id;
    return vocab_get(t, token, strlen(token));
}

void ss_bpe_free(ss_bpe *t)
{
    if (!t) return;
    for (int k = 0; k < t->n_added; k++) {
        free(t->added[k].content);
        free(t->added[k].cps);
    }
    free(t->added);
    free(t->id_tok);
    free(t->special);
    free(t->pool);
    free(t->vslots);
    free(t->mslots);
    free(t);
}

/* ------------------------------------------------------------------ loading: common parts */

/* Copies s[0..len) into the pool (sized beforehand); returns the copy. */
static const char *pool_add(ss_bpe *t, const char *s, size_t len)
{
    char *d = t->pool + t->pool_len;
    memcpy(d, s, len);
    d[len] = '\0';
    t->pool_len += len + 1;
    return d;
}

static ss_status add_added(ss_bpe *t, const char *src, const char *content, int32_t id, int normalized, int lstrip,
                           int rstrip)
{
    bpe_added *v = realloc(t->added, (size_t)(t->n_added + 1) * sizeof *v);
    if (!v) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", src);
    t->added = v;
    bpe_added *a = &t->added[t->n_added++]; /* counted now so that free releases what was allocated */
    memset(a, 0, sizeof *a);
    a->id = id;
    a->normalized = normalized;
    a->lstrip = lstrip;
    a->rstrip = rstrip;
    size_t len = strlen(content);
    a->content = malloc(len + 1);
    a->cps = malloc((len + 1) * sizeof *a->cps);
    if (!a->content || !a->cps) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", src);
    memcpy(a->content, content, len + 1);
    for (size_t i = 0; i < len;) {
        size_t k;
        a->cps[a->n_cps++] = ss_utf8_decode((const unsigned char *)content + i, len - i, &k);
        i += k;
    }
    if (a->n_cps) {
        if (normalized) t->first_norm |= 1ull << (a->cps[0] & 63);
        else t->first_raw |= 1ull << (a->cps[0] & 63);
    }
    return SS_OK;
}

/* Adds the merge of rank `rank`: left + right -> their concatenation, all three in the vocabulary.
 * what names the merge in messages ("path: model.merges[3]"). */
static ss_status add_merge(ss_bpe *t, const char *what, uint32_t rank, const char *a, size_t na, const char *b,
                           size_t nb, char **buf, size_t *buf_cap)
{
    int32_t ia = vocab_get(t, a, na), ib = vocab_get(t, b, nb);
    if (ia < 0 || ib < 0)
        return ss_fail(SS_ERR_FORMAT, "%s: \"%.*s\" is not in the vocabulary", what, ia < 0 ? (int)na : (int)nb,
                       ia < 0 ? a : b);
    if (grow((void **)buf, buf_cap, na + nb + 1, 1)) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", what);
    memcpy(*buf, a, na);
    memcpy(*buf + na, b, nb);
    int32_t merged = vocab_get(t, *buf, na + nb);
    if (merged < 0)
        return ss_fail(SS_ERR_FORMAT, "%s: the merged token \"%.*s\" is not in the vocabulary", what, (int)(na + nb),
                       *buf);
    merge_put(t, ia, ib, rank, merged);
    return SS_OK;
}

/* A merge written "left right": exactly one space, with something on either side. */
static ss_status add_merge_string(ss_bpe *t, const char *what, uint32_t rank, const char *m, char **buf,
                                  size_t *buf_cap)
{
    const char *sp = strchr(m, ' ');
    if (!sp || sp == m || !sp[1] || strchr(sp + 1, ' '))
        return ss_fail(SS_ERR_FORMAT, "%s: \"%s\" is not two tokens separated by one space", what, m);
    return add_merge(t, what, rank, m, (size_t)(sp - m), sp + 1, strlen(sp + 1), buf, buf_cap);
}

/* The GPT-2 byte-to-unicode table: printable Latin-1 bytes stand for themselves, the other 68 bytes for U+0100
 * onwards in byte order. */
size_t ss_bpe_byte_symbol(unsigned char b, char out[3])
{
    /* printable Latin-1 bytes (! to ~, ¡ to ¬, ® to ÿ) stand for themselves; the others for U+0100 onwards */
#define PRINTABLE(c) (((c) >= '!' && (c) <= '~') || ((c) >= 0xA1 && (c) <= 0xAC) || (c) >= 0xAE)
    uint32_t cp = (uint32_t)b;
    if (!PRINTABLE(b)) {
        cp = 256;
        for (int c = 0; c < b; c++)
            if (!PRINTABLE(c)) cp++;
    }
#undef PRINTABLE
    char u[4] = {0};
    size_t k = ss_utf8_encode(cp, u); /* 1 or 2 bytes: cp < U+0144 */
    memcpy(out, u, k);
    out[k] = '\0';
    return k;
}

/* Looks up each byte's symbol in the vocabulary. */
static void byte_table(ss_bpe *t)
{
    for (int b = 0; b < 256; b++) {
        char u[3];
        size_t k = ss_bpe_byte_symbol((unsigned char)b, u);
        memcpy(t->byte_sym[b], u, 2);
        t->byte_sym_len[b] = (uint8_t)k;
        t->byte_id[b] = vocab_get(t, u, k);
    }
}

static ss_status set_pre_type(ss_bpe *t, const char *pre_type)
{
    if (!pre_type)
        return ss_fail(SS_ERR_FORMAT, "byte-level BPE: no pre-tokenizer type (tokenizer.ggml.pre); known: gpt2, "
                                      "llama-bpe, smollm");
    memset(&t->pre, 0, sizeof t->pre);
    if (strcmp(pre_type, "gpt2") == 0) {
        t->pre.step[t->pre.n++] = SS_PRETOK_GPT2;
    } else if (strcmp(pre_type, "smollm") == 0) {
        t->pre.step[t->pre.n++] = SS_PRETOK_DIGITS;
        t->pre.step[t->pre.n++] = SS_PRETOK_GPT2;
    } else if (strcmp(pre_type, "llama-bpe") == 0) {
        t->pre.step[t->pre.n++] = SS_PRETOK_LLAMA3;
        t->ignore_merges = 1; /* as the Llama-3 tokenizer.json (and llama.cpp for this type) */
    } else {
        return ss_fail(SS_ERR_FORMAT, "byte-level BPE: pre-tokenizer type (tokenizer.ggml.pre) \"%s\" is not "
                                      "supported; known: gpt2, llama-bpe, smollm", pre_type);
    }
    return SS_OK;
}

/* ------------------------------------------------------------------ loading in-memory arrays (GGUF) */

ss_status ss_bpe_from_arrays(const char *const *tokens, int n_tokens, const char *const *merges, int n_merges,
                             const int32_t *token_types, const char *pre_type, ss_bpe **out)
{
    ss_status st = SS_OK;
    ss_bpe *t = NULL;
    char *buf = NULL;
    size_t buf_cap = 0;
    *out = NULL;
    if (n_tokens <= 0 || n_tokens > BPE_MAX_IDS || !tokens)
        return ss_fail(SS_ERR_FORMAT, "byte-level BPE: %d tokens (tokenizer.ggml.tokens); need 1 to %d", n_tokens,
                       BPE_MAX_IDS);
    if (n_merges < 0 || n_merges > BPE_MAX_IDS || (n_merges > 0 && !merges))
        return ss_fail(SS_ERR_FORMAT, "byte-level BPE: %d merges (tokenizer.ggml.merges); need 0 to %d", n_merges,
                       BPE_MAX_IDS);
    t = calloc(1, sizeof *t);
    if (!t) return ss_fail(SS_ERR_NOMEM, "byte-level BPE: out of memory");
    t->unk_id = -1;
    SS_TRY(set_pre_type(t, pre_type));
    size_t total = 0;
    for (int i = 0; i < n_tokens; i++) {
        if (!tokens[i]) {
            st = ss_fail(SS_ERR_FORMAT, "byte-level BPE: tokenizer.ggml.tokens[%d] is NULL", i);
            goto done;
        }
        total += strlen(tokens[i]) + 1;
    }
    t->n_ids = n_tokens;
    t->pool = malloc(total);
    t->pool_cap = total;
    t->id_tok = calloc((size_t)n_tokens, sizeof *t->id_tok);
    t->special = calloc((size_t)n_tokens, 1);
    if (!t->pool || !t->id_tok || !t->special || vocab_init(t, (size_t)n_tokens) || merges_init(t, (size_t)n_merges)) {
        st = ss_fail(SS_ERR_NOMEM, "byte-level BPE: out of memory for %d tokens", n_tokens);
        goto done;
    }
    /* a token listed twice maps to its last id (llama.cpp builds its token -> id map the same way) */
    for (int i = 0; i < n_tokens; i++) {
        size_t len = strlen(tokens[i]);
        t->id_tok[i] = pool_add(t, tokens[i], len);
        vocab_put(t, t->id_tok[i], len, i);
    }
    if (token_types) {
        for (int i = 0; i < n_tokens; i++) {
            int32_t ty = token_types[i];
            if (ty < 0 || ty > 6) {
                st = ss_fail(SS_ERR_FORMAT, "byte-level BPE: tokenizer.ggml.token_type[%d] is %d, not 0-6", i, ty);
                goto done;
            }
            t->special[i] = ty >= 2 && ty <= 5;
            if ((ty == 3 || ty == 4) && tokens[i][0])
                SS_TRY(add_added(t, "byte-level BPE", tokens[i], i, 0, 0, 0));
        }
    }
    for (int r = 0; r < n_merges; r++) {
        char what[64];
        snprintf(what, sizeof what, "byte-level BPE: tokenizer.ggml.merges[%d]", r);
        if (!merges[r]) {
            st = ss_fail(SS_ERR_FORMAT, "%s is NULL", what);
            goto done;
        }
        SS_TRY(add_merge_string(t, what, (uint32_t)r, merges[r], &buf, &buf_cap));
    }
    byte_table(t);
    *out = t;
    t = NULL;
done:
    free(buf);
    ss_bpe_free(t);
    return st;
}

/* ------------------------------------------------------------------ loading tokenizer.json */

/* Reads an optional boolean member; 0 when absent or null (*val = dflt), -1 when it is not a boolean. */
static int get_bool(const json_t *obj, const char *key, int dflt, int *val)
{
    const json_t *v = json_object_get(obj, key);
    *val = dflt;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return -1;
    *val = json_is_true(v);
    return 0;
}

/* One pre-tokenizer of tokenizer.json (where: its place, e.g. "pre_tokenizer.pretokenizers[1]"). */
static ss_status pre_step(ss_bpe *t, const char *path, const char *where, const json_t *node, int *byte_level)
{
    if (!json_is_object(node)) return ss_fail(SS_ERR_FORMAT, "%s: %s is not an object", path, where);
    const char *type = json_string_value(json_object_get(node, "type"));
    if (!type) return ss_fail(SS_ERR_FORMAT, "%s: %s has no \"type\" string", path, where);
    if (*byte_level)
        return ss_fail(SS_ERR_FORMAT, "%s: %s (\"%s\") comes after the ByteLevel pre-tokenizer, which must be last",
                       path, where, type);
    if (t->pre.n >= SS_PRETOK_MAX_STEPS)
        return ss_fail(SS_ERR_FORMAT, "%s: %s: more than %d pre-tokenizer steps", path, where, SS_PRETOK_MAX_STEPS);
    if (strcmp(type, "ByteLevel") == 0) {
        int prefix, regex;
        if (get_bool(node, "add_prefix_space", 1, &prefix) || get_bool(node, "use_regex", 1, &regex))
            return ss_fail(SS_ERR_FORMAT, "%s: %s.add_prefix_space / use_regex is not a boolean", path, where);
        if (prefix)
            return ss_fail(SS_ERR_FORMAT, "%s: %s.add_prefix_space is true (or missing); only false is supported", path,
                           where);
        if (regex) t->pre.step[t->pre.n++] = SS_PRETOK_GPT2;
        *byte_level = 1;
    } else if (strcmp(type, "Digits") == 0) {
        int each;
        if (get_bool(node, "individual_digits", 0, &each))
            return ss_fail(SS_ERR_FORMAT, "%s: %s.individual_digits is not a boolean", path, where);
        t->pre.step[t->pre.n++] = each ? SS_PRETOK_DIGITS : SS_PRETOK_DIGIT_RUNS;
    } else if (strcmp(type, "Split") == 0) {
        const json_t *pat = json_object_get(node, "pattern");
        const char *re = json_is_object(pat) ? json_string_value(json_object_get(pat, "Regex")) : NULL;
        const char *behavior = json_string_value(json_object_get(node, "behavior"));
        int invert;
        if (!re)
            return ss_fail(SS_ERR_FORMAT, "%s: %s.pattern is not {\"Regex\": string} (a String pattern is not supported)",
                           path, where);
        if (strcmp(re, ss_pretok_gpt2_regex) == 0) t->pre.step[t->pre.n++] = SS_PRETOK_GPT2;
        else if (strcmp(re, ss_pretok_llama3_regex) == 0) t->pre.step[t->pre.n++] = SS_PRETOK_LLAMA3;
        else
            return ss_fail(SS_ERR_FORMAT, "%s: %s.pattern.Regex is not a supported regex (the GPT-2 or the Llama-3 "
                                          "pre-tokenizer regex): \"%.200s\"", path, where, re);
        if (!behavior || strcmp(behavior, "Isolated") != 0)
            return ss_fail(SS_ERR_FORMAT, "%s: %s.behavior is \"%s\"; only \"Isolated\" is supported", path, where,
                           behavior ? behavior : "(missing)");
        if (get_bool(node, "invert", 0, &invert) || invert)
            return ss_fail(SS_ERR_FORMAT, "%s: %s.invert must be false", path, where);
    } else {
        return ss_fail(SS_ERR_FORMAT, "%s: %s type \"%s\" is not supported for BPE (ByteLevel, Digits, Split)", path,
                       where, type);
    }
    return SS_OK;
}

static ss_status load_pre_tokenizer(ss_bpe *t, const char *path, const json_t *pre)
{
    ss_status st;
    int byte_level = 0;
    memset(&t->pre, 0, sizeof t->pre);
    if (!pre || json_is_null(pre))
        return ss_fail(SS_ERR_FORMAT, "%s: pre_tokenizer is null; model.type \"BPE\" is supported as byte-level BPE "
                                      "only (a pre_tokenizer ending with ByteLevel)", path);
    const char *type = json_is_object(pre) ? json_string_value(json_object_get(pre, "type")) : NULL;
    if (type && strcmp(type, "Sequence") == 0) {
        const json_t *arr = json_object_get(pre, "pretokenizers");
        if (!json_is_array(arr)) return ss_fail(SS_ERR_FORMAT, "%s: pre_tokenizer.pretokenizers is not an array", path);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            char where[64];
            snprintf(where, sizeof where, "pre_tokenizer.pretokenizers[%zu]", i);
            if ((st = pre_step(t, path, where, json_array_get(arr, i), &byte_level)) != SS_OK) return st;
        }
    } else if ((st = pre_step(t, path, "pre_tokenizer", pre, &byte_level)) != SS_OK) {
        return st;
    }
    if (!byte_level)
        return ss_fail(SS_ERR_FORMAT, "%s: pre_tokenizer has no ByteLevel step; model.type \"BPE\" is supported as "
                                      "byte-level BPE only", path);
    return SS_OK;
}

static ss_status load_model_options(ss_bpe *t, const char *path, const json_t *model, const char **unk)
{
    const json_t *v;
    *unk = NULL;
    v = json_object_get(model, "dropout");
    if (v && !json_is_null(v)) return ss_fail(SS_ERR_FORMAT, "%s: model.dropout is set; only null is supported", path);
    const char *affix[2] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int k = 0; k < 2; k++) {
        v = json_object_get(model, affix[k]);
        if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
            return ss_fail(SS_ERR_FORMAT, "%s: model.%s is set; only null is supported for byte-level BPE", path,
                           affix[k]);
    }
    int byte_fallback;
    if (get_bool(model, "fuse_unk", 0, &t->fuse_unk) || get_bool(model, "byte_fallback", 0, &byte_fallback) ||
        get_bool(model, "ignore_merges", 0, &t->ignore_merges))
        return ss_fail(SS_ERR_FORMAT, "%s: model.fuse_unk, byte_fallback and ignore_merges must be booleans", path);
    if (byte_fallback)
        return ss_fail(SS_ERR_FORMAT, "%s: model.byte_fallback is true; byte-level BPE needs no byte fallback and "
                                      "it is not supported", path);
    v = json_object_get(model, "unk_token");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) return ss_fail(SS_ERR_FORMAT, "%s: model.unk_token is not a string or null", path);
        *unk = json_string_value(v);
    }
    return SS_OK;
}

static ss_status load_added_tokens(ss_bpe *t, const char *path, const json_t *arr)
{
    ss_status st;
    if (!arr || json_is_null(arr)) return SS_OK;
    if (!json_is_array(arr)) return ss_fail(SS_ERR_FORMAT, "%s: added_tokens is not an array", path);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *a = json_array_get(arr, i);
        if (!json_is_object(a)) return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu] is not an object", path, i);
        const json_t *jid = json_object_get(a, "id");
        const char *content = json_string_value(json_object_get(a, "content"));
        if (!json_is_integer(jid) || json_integer_value(jid) < 0 || json_integer_value(jid) >= BPE_MAX_IDS)
            return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu].id is not an integer in [0, %d)", path, i, BPE_MAX_IDS);
        if (!content || !*content || json_string_length(json_object_get(a, "content")) != strlen(content))
            return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu].content is not a non-empty string without NUL", path,
                           i);
        int special, normalized, lstrip, rstrip, single_word;
        if (get_bool(a, "special", 0, &special) || get_bool(a, "lstrip", 0, &lstrip) ||
            get_bool(a, "rstrip", 0, &rstrip) || get_bool(a, "single_word", 0, &single_word) ||
            get_bool(a, "normalized", !special, &normalized))
            return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu] (\"%s\") has a flag that is not a boolean", path, i,
                           content);
        if (single_word)
            return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu] (\"%s\"): single_word tokens are not supported", path,
                           i, content);
        int32_t id = (int32_t)json_integer_value(jid);
        for (int k = 0; k < t->n_added; k++)
            if (t->added[k].id == id)
                return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu] (\"%s\") reuses id %d", path, i, content, id);
        if ((st = add_added(t, path, content, id, normalized, lstrip, rstrip)) != SS_OK) return st;
    }
    return SS_OK;
}

/* model.vocab: the pool, the map and id_tok / special (the added tokens are known by now). */
static ss_status load_vocab(ss_bpe *t, const char *path, const json_t *vocab)
{
    if (!json_is_object(vocab)) return ss_fail(SS_ERR_FORMAT, "%s: model.vocab is missing or not an object", path);
    size_t n = json_object_size(vocab), total = 0;
    if (n == 0) return ss_fail(SS_ERR_FORMAT, "%s: model.vocab is empty", path);
    size_t bound = 4 * (n + (size_t)t->n_added) + 1024;
    if (bound > BPE_MAX_IDS) bound = BPE_MAX_IDS;
    int64_t max_id = -1;
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)vocab, key, val)
    {
        json_int_t id = json_is_integer(val) ? json_integer_value(val) : -1;
        if (id < 0 || (size_t)id >= bound)
            return ss_fail(SS_ERR_FORMAT, "%s: model.vocab[\"%s\"] is not a token id (a non-negative integer below %zu)",
                           path, key, bound);
        if (id > max_id) max_id = id;
        total += strlen(key) + 1;
    }
    for (int k = 0; k < t->n_added; k++)
        if (t->added[k].id > max_id) max_id = t->added[k].id;
    if (max_id >= (int64_t)bound)
        return ss_fail(SS_ERR_FORMAT, "%s: token id %lld is far beyond the %zu entries of the vocabulary", path,
                       (long long)max_id, n + (size_t)t->n_added);
    t->n_ids = (int32_t)max_id + 1;
    t->pool = malloc(total);
    t->pool_cap = total;
    t->id_tok = calloc((size_t)t->n_ids, sizeof *t->id_tok);
    t->special = calloc((size_t)t->n_ids, 1);
    if (!t->pool || !t->id_tok || !t->special || vocab_init(t, n))
        return ss_fail(SS_ERR_NOMEM, "%s: out of memory for %zu tokens", path, n);
    json_object_foreach((json_t *)vocab, key, val)
    {
        int32_t id = (int32_t)json_integer_value(val);
        if (t->id_tok[id])
            return ss_fail(SS_ERR_FORMAT, "%s: model.vocab[\"%s\"]: id %d is used twice", path, key, id);
        size_t len = strlen(key);
        t->id_tok[id] = pool_add(t, key, len);
        vocab_put(t, t->id_tok[id], len, id);
    }
    for (int k = 0; k < t->n_added; k++) {
        t->id_tok[t->added[k].id] = t->added[k].content;
        t->special[t->added[k].id] = 1;
    }
    return SS_OK;
}

static ss_status load_merges(ss_bpe *t, const char *path, const json_t *arr)
{
    ss_status st = SS_OK;
    char *buf = NULL;
    size_t buf_cap = 0;
    if (!json_is_array(arr)) return ss_fail(SS_ERR_FORMAT, "%s: model.merges is missing or not an array", path);
    size_t n = json_array_size(arr);
    if (n > BPE_MAX_IDS) return ss_fail(SS_ERR_FORMAT, "%s: model.merges has %zu entries, more than %d", path, n, BPE_MAX_IDS);
    if (merges_init(t, n)) return ss_fail(SS_ERR_NOMEM, "%s: out of memory for %zu merges", path, n);
    for (size_t r = 0; r < n; r++) {
        char what[1100];
        snprintf(what, sizeof what, "%s: model.merges[%zu]", path, r);
        const json_t *m = json_array_get(arr, r);
        if (json_is_string(m)) { /* "left right" (tokenizers up to 0.19) */
            if (json_string_length(m) != strlen(json_string_value(m))) {
                st = ss_fail(SS_ERR_FORMAT, "%s contains a NUL", what);
                goto done;
            }
            SS_TRY(add_merge_string(t, what, (uint32_t)r, json_string_value(m), &buf, &buf_cap));
        } else if (json_is_array(m) && json_array_size(m) == 2 && json_is_string(json_array_get(m, 0)) &&
                   json_is_string(json_array_get(m, 1))) { /* ["left", "right"] (tokenizers 0.20 on) */
            const json_t *a = json_array_get(m, 0), *b = json_array_get(m, 1);
            SS_TRY(add_merge(t, what, (uint32_t)r, json_string_value(a), json_string_length(a), json_string_value(b),
                             json_string_length(b), &buf, &buf_cap));
        } else {
            st = ss_fail(SS_ERR_FORMAT, "%s is neither \"left right\" nor [\"left\", \"right\"]", what);
            goto done;
        }
    }
done:
    free(buf);
    return st;
}

ss_status ss_bpe_from_json(const char *path, const json_t *root, ss_bpe **out)
{
    ss_status st = SS_OK;
    *out = NULL;
    ss_bpe *t = calloc(1, sizeof *t);
    if (!t) return ss_fail(SS_ERR_NOMEM, "%s: out of memory loading the tokenizer", path);
    t->unk_id = -1;
    const json_t *model = json_object_get(root, "model");
    const char *unk = NULL;
    SS_TRY(load_pre_tokenizer(t, path, json_object_get(root, "pre_tokenizer")));
    const json_t *norm = json_object_get(root, "normalizer");
    if (norm && !json_is_null(norm)) {
        const char *type = json_string_value(json_object_get(norm, "type"));
        st = ss_fail(SS_ERR_FORMAT, "%s: normalizer \"%s\" is not supported for BPE (only null)", path,
                     type ? type : "?");
        goto done;
    }
    SS_TRY(load_model_options(t, path, model, &unk));
    SS_TRY(load_added_tokens(t, path, json_object_get(root, "added_tokens")));
    SS_TRY(load_vocab(t, path, json_object_get(model, "vocab")));
    SS_TRY(load_merges(t, path, json_object_get(model, "merges")));
    if (unk) {
        t->unk_id = vocab_get(t, unk, strlen(unk));
        if (t->unk_id < 0) {
            st = ss_fail(SS_ERR_FORMAT, "%s: model.unk_token \"%s\" is not in model.vocab", path, unk);
            goto done;
        }
    }
    byte_table(t);
    *out = t;
    t = NULL;
done:
    ss_bpe_free(t);
    return st;
}
