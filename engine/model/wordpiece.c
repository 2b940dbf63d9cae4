/* wordpiece.c: the BERT WordPiece tokenizer, matching the Hugging Face fast tokenizer.
 *
 * Pipeline for one text (tokenizers' TokenizerImpl::encode with a WordPiece model):
 *   1. the text is split on added tokens ([CLS], [MASK], ...) found verbatim in the raw text
 *      (leftmost-longest); each match yields its id;
 *   2. every other piece is normalised (BertNormalizer): clean_text drops NUL, U+FFFD and Cc/Cf/Co
 *      characters and turns whitespace into ' '; handle_chinese_chars pads CJK ideographs with spaces;
 *      strip_accents applies NFD and drops nonspacing marks; lowercase maps every code point through
 *      its full lower-case mapping (in this order: accents are stripped before lower-casing);
 *   3. added tokens flagged "normalized" are then looked for in the normalised text;
 *   4. the BERT pre-tokenizer splits on whitespace (dropped) and punctuation (kept, one per word);
 *   5. each word goes through greedy longest-match-first WordPiece with the "##" prefix on
 *      non-initial pieces; a word longer than max_input_chars_per_word code points, or one that cannot
 *      be segmented, becomes [UNK].
 * Sources: tokenizer.json (preferred) or vocab.txt + tokenizer_config.json, as the HF converter does. */
#include "tokenizer_impl.h" /* defines: ss_wordpiece_*, json_t */

#include <errno.h>
#include <jansson.h> /* defines: json_load_file, json_object_get, json_object_foreach, ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "utf8.h" /* defines: ss_utf8_decode/encode, ss_uc_props, ss_uc_decompose, ss_uc_lower, ... */

#define WP_MAX_IDS (1 << 24)     /* sanity bound on token ids */
#define WP_MAX_FILE (1u << 30)   /* vocab.txt larger than this is not a vocabulary */

/* One entry of the token -> id hash map (open addressing, linear probing). */
typedef struct {
    const char *key; /* NULL: empty slot; points into a string owned by the tokenizer */
    uint32_t len;
    uint32_t hash;
    int32_t id;
} wp_slot;

/* An added token (added_tokens in tokenizer.json, the special tokens for vocab.txt). */
typedef struct {
    char *content;   /* UTF-8, owned */
    uint32_t *cps;   /* [n_cps] what is matched: content, normalised when `normalized` is set */
    size_t n_cps;
    int32_t id;
    int normalized, lstrip, rstrip;
} wp_added;

struct ss_wordpiece {
    /* id -> token: [n_ids]; NULL for ids nobody uses. Strings are owned by `strings`. */
    int32_t n_ids;
    const char **id_tok;
    uint8_t *special; /* [n_ids] 1 for added tokens and [unusedN] */
    /* model vocabulary: token -> id */
    wp_slot *slots;
    size_t slot_mask; /* capacity - 1 (a power of two) */
    size_t max_token_bytes;
    /* owned strings */
    char **strings;
    size_t n_strings, cap_strings;
    /* added tokens */
    wp_added *added;
    int n_added;
    uint64_t added_first_raw, added_first_norm; /* bloom of first code points (cp & 63) */
    /* WordPiece model */
    int32_t unk_id;
    char prefix[32]; /* continuing_subword_prefix */
    size_t prefix_len;
    int max_chars; /* max_input_chars_per_word */
    /* normalizer (has_normalizer 0: none) and pre-tokenizer (bert_pre 0: none) */
    int has_normalizer, clean_text, chinese, strip_accents, lowercase;
    int bert_pre;
};

/* ------------------------------------------------------------------ small growable buffers */

typedef struct {
    uint32_t *v;
    size_t n, cap;
} cpvec;

typedef struct {
    int32_t *v;
    size_t n, cap;
} idvec;

static int cpvec_reserve(cpvec *b, size_t extra)
{
    if (b->n + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra) cap *= 2;
    uint32_t *v = realloc(b->v, cap * sizeof *v);
    if (!v) return -1;
    b->v = v;
    b->cap = cap;
    return 0;
}

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

/* ------------------------------------------------------------------ vocabulary map */

static uint32_t fnv1a(uint32_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}
#define FNV_SEED 2166136261u

/* Takes ownership of s (malloc'd); returns it or NULL (then s was freed). */
static char *keep_string(ss_wordpiece *t, char *s)
{
    if (!s) return NULL;
    if (t->n_strings == t->cap_strings) {
        size_t cap = t->cap_strings ? t->cap_strings * 2 : 1024;
        char **v = realloc(t->strings, cap * sizeof *v);
        if (!v) {
            free(s);
            return NULL;
        }
        t->strings = v;
        t->cap_strings = cap;
    }
    t->strings[t->n_strings++] = s;
    return s;
}

static char *dup_bytes(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static int map_init(ss_wordpiece *t, size_t n_entries)
{
    size_t cap = 16;
    while (cap < 2 * n_entries + 16) cap *= 2;
    t->slots = calloc(cap, sizeof *t->slots);
    if (!t->slots) return -1;
    t->slot_mask = cap - 1;
    return 0;
}

/* Inserts or replaces key -> id (key must stay alive). */
static void map_put(ss_wordpiece *t, const char *key, size_t len, int32_t id)
{
    uint32_t h = fnv1a(FNV_SEED, key, len);
    size_t i = h & t->slot_mask;
    while (t->slots[i].key) {
        if (t->slots[i].hash == h && t->slots[i].len == len && memcmp(t->slots[i].key, key, len) == 0) {
            t->slots[i].id = id;
            return;
        }
        i = (i + 1) & t->slot_mask;
    }
    t->slots[i] = (wp_slot){key, (uint32_t)len, h, id};
    if (len > t->max_token_bytes) t->max_token_bytes = len;
}

/* Looks up pre[0..np) followed by s[0..n); -1 when absent. */
static int32_t map_get2(const ss_wordpiece *t, const char *pre, size_t np, const char *s, size_t n)
{
    uint32_t h = fnv1a(fnv1a(FNV_SEED, pre, np), s, n);
    size_t i = h & t->slot_mask;
    while (t->slots[i].key) {
        const wp_slot *e = &t->slots[i];
        if (e->hash == h && e->len == np + n && memcmp(e->key, pre, np) == 0 && memcmp(e->key + np, s, n) == 0)
            return e->id;
        i = (i + 1) & t->slot_mask;
    }
    return -1;
}

/* ------------------------------------------------------------------ normalisation */

/* Normalises in[0..n) into *out (cleared first), using *tmp as scratch. Returns 0, or -1 on OOM. */
static int normalize(const ss_wordpiece *t, const uint32_t *in, size_t n, cpvec *out, cpvec *tmp)
{
    out->n = 0;
    if (!t->has_normalizer) {
        if (cpvec_reserve(out, n)) return -1;
        memcpy(out->v, in, n * sizeof *in);
        out->n = n;
        return 0;
    }
    /* clean_text + handle_chinese_chars: into out */
    if (cpvec_reserve(out, n)) return -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = in[i];
        unsigned p = ss_uc_props(c);
        if (t->clean_text) {
            int tab_nl = c == '\t' || c == '\n' || c == '\r'; /* Cc, but whitespace for BERT */
            if (c == 0 || c == SS_UC_REPLACEMENT || (!tab_nl && (p & SS_UC_OTHER))) continue; /* \v \f U+0085 too */
            if (p & SS_UC_WS) c = ' ';
        }
        if (t->chinese && (p & SS_UC_CJK)) {
            if (cpvec_reserve(out, 3 + (n - i))) return -1;
            out->v[out->n++] = ' ';
            out->v[out->n++] = c;
            out->v[out->n++] = ' ';
        } else {
            out->v[out->n++] = c;
        }
    }
    /* strip_accents: NFD (decompose, reorder), then drop Mn; out -> tmp -> out */
    if (t->strip_accents) {
        tmp->n = 0;
        for (size_t i = 0; i < out->n; i++) {
            if (cpvec_reserve(tmp, SS_UC_MAX_DECOMP)) return -1;
            tmp->n += ss_uc_decompose(out->v[i], tmp->v + tmp->n);
        }
        ss_uc_reorder(tmp->v, tmp->n);
        out->n = 0;
        if (cpvec_reserve(out, tmp->n)) return -1;
        for (size_t i = 0; i < tmp->n; i++)
            if (!(ss_uc_props(tmp->v[i]) & SS_UC_MN)) out->v[out->n++] = tmp->v[i];
    }
    /* lowercase: out -> tmp, then swap */
    if (t->lowercase) {
        tmp->n = 0;
        for (size_t i = 0; i < out->n; i++) {
            if (cpvec_reserve(tmp, SS_UC_MAX_LOWER)) return -1;
            tmp->n += ss_uc_lower(out->v[i], tmp->v + tmp->n);
        }
        cpvec s = *out;
        *out = *tmp;
        *tmp = s;
    }
    return 0;
}

/* ------------------------------------------------------------------ encoding */

typedef struct {
    cpvec raw, norm, tmp;
    char *word;      /* UTF-8 of the current word */
    size_t *offs;    /* [n_chars + 1] byte offset of each code point in word */
    size_t word_cap; /* code points word/offs have room for */
    idvec out;
} wp_ctx;

static ss_status oom(void) { return ss_fail(SS_ERR_NOMEM, "tokenizer: out of memory while encoding"); }

/* WordPiece on one pre-token w[0..n). */
static ss_status wordpiece_word(const ss_wordpiece *t, wp_ctx *c, const uint32_t *w, size_t n)
{
    if (n > (size_t)t->max_chars) return idvec_push(&c->out, t->unk_id) ? oom() : SS_OK;
    if (n > c->word_cap) {
        size_t cap = n < 64 ? 64 : n;
        char *word = realloc(c->word, cap * 4);
        if (!word) return oom();
        c->word = word;
        size_t *offs = realloc(c->offs, (cap + 1) * sizeof *offs);
        if (!offs) return oom();
        c->offs = offs;
        c->word_cap = cap;
    }
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        c->offs[i] = nb;
        size_t k = ss_utf8_encode(w[i], c->word + nb);
        if (k == 0) k = ss_utf8_encode(SS_UC_REPLACEMENT, c->word + nb); /* cannot happen: decoded input */
        nb += k;
    }
    c->offs[n] = nb;

    size_t mark = c->out.n, start = 0;
    while (start < n) {
        const char *pre = start ? t->prefix : "";
        size_t np = start ? t->prefix_len : 0;
        int32_t found = -1;
        size_t end = n;
        for (; end > start; end--) {
            size_t len = c->offs[end] - c->offs[start];
            if (len + np > t->max_token_bytes) continue;
            found = map_get2(t, pre, np, c->word + c->offs[start], len);
            if (found >= 0) break;
        }
        if (found < 0) { /* no segmentation: the whole word is [UNK] */
            c->out.n = mark;
            return idvec_push(&c->out, t->unk_id) ? oom() : SS_OK;
        }
        if (idvec_push(&c->out, found)) return oom();
        start = end;
    }
    return SS_OK;
}

/* Pre-tokenizes normalised text s[0..n) and runs WordPiece on each word. */
static ss_status pretokenize(const ss_wordpiece *t, wp_ctx *c, const uint32_t *s, size_t n)
{
    ss_status st = SS_OK;
    if (!t->bert_pre) return n ? wordpiece_word(t, c, s, n) : SS_OK;
    size_t i = 0;
    while (i < n) {
        unsigned p = ss_uc_props(s[i]);
        if (p & SS_UC_WS) {
            i++;
            continue;
        }
        size_t j = i + 1;
        if (!(p & SS_UC_PUNCT))
            while (j < n && !(ss_uc_props(s[j]) & (SS_UC_WS | SS_UC_PUNCT))) j++;
        if ((st = wordpiece_word(t, c, s + i, j - i)) != SS_OK) return st;
        i = j;
    }
    return st;
}

/* Longest added token (normalized ones or raw ones) matching s[pos..n); its index or -1. */
static int match_added(const ss_wordpiece *t, int normalized, const uint32_t *s, size_t n, size_t pos)
{
    uint64_t bloom = normalized ? t->added_first_norm : t->added_first_raw;
    if (!(bloom >> (s[pos] & 63) & 1)) return -1;
    int best = -1;
    for (int k = 0; k < t->n_added; k++) {
        const wp_added *a = &t->added[k];
        if (a->normalized != normalized || a->n_cps == 0 || a->n_cps > n - pos) continue;
        if (best >= 0 && a->n_cps <= t->added[best].n_cps) continue;
        if (memcmp(a->cps, s + pos, a->n_cps * sizeof *s) == 0) best = k;
    }
    return best;
}

static int is_ws(uint32_t c) { return (ss_uc_props(c) & SS_UC_WS) != 0; }

/* Splits s[0..n) on added tokens of one kind; the pieces in between go to `rest`. */
static ss_status split_added(const ss_wordpiece *t, wp_ctx *c, int normalized, const uint32_t *s, size_t n,
                             ss_status (*rest)(const ss_wordpiece *, wp_ctx *, const uint32_t *, size_t))
{
    ss_status st;
    size_t seg = 0, pos = 0;
    uint64_t bloom = normalized ? t->added_first_norm : t->added_first_raw;
    while (bloom && pos < n) {
        int k = match_added(t, normalized, s, n, pos);
        if (k < 0) {
            pos++;
            continue;
        }
        const wp_added *a = &t->added[k];
        size_t end = pos;
        if (a->lstrip)
            while (end > seg && is_ws(s[end - 1])) end--;
        if ((st = rest(t, c, s + seg, end - seg)) != SS_OK) return st;
        if (idvec_push(&c->out, a->id)) return oom();
        pos += a->n_cps;
        if (a->rstrip)
            while (pos < n && is_ws(s[pos])) pos++;
        seg = pos;
    }
    return rest(t, c, s + seg, n - seg);
}

/* A raw piece between non-normalized added tokens: normalise, then split on normalized ones. */
static ss_status encode_piece(const ss_wordpiece *t, wp_ctx *c, const uint32_t *s, size_t n)
{
    if (n == 0) return SS_OK;
    if (normalize(t, s, n, &c->norm, &c->tmp)) return oom();
    return split_added(t, c, 1, c->norm.v, c->norm.n, pretokenize);
}

ss_status ss_wordpiece_encode(const ss_wordpiece *t, const char *text, int32_t **ids, int *n)
{
    ss_status st = SS_OK;
    wp_ctx c;
    memset(&c, 0, sizeof c);
    if (!t || !text || !ids || !n) return ss_fail(SS_ERR_INPUT, "ss_wordpiece_encode: NULL argument");
    *ids = NULL;
    *n = 0;
    size_t len = strlen(text);
    if (cpvec_reserve(&c.raw, len + 1)) {
        st = oom();
        goto done;
    }
    for (size_t i = 0; i < len;) {
        size_t k;
        c.raw.v[c.raw.n++] = ss_utf8_decode((const unsigned char *)text + i, len - i, &k);
        i += k;
    }
    SS_TRY(split_added(t, &c, 0, c.raw.v, c.raw.n, encode_piece));
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
    free(c.raw.v);
    free(c.norm.v);
    free(c.tmp.v);
    free(c.word);
    free(c.offs);
    free(c.out.v);
    return st;
}

/* ------------------------------------------------------------------ accessors */

int ss_wordpiece_vocab_size(const ss_wordpiece *t) { return t ? t->n_ids : 0; }

int ss_wordpiece_is_special(const ss_wordpiece *t, int32_t id)
{
    return t && id >= 0 && id < t->n_ids ? t->special[id] : 0;
}

const char *ss_wordpiece_token(const ss_wordpiece *t, int32_t id)
{
    return t && id >= 0 && id < t->n_ids ? t->id_tok[id] : NULL;
}

int32_t ss_wordpiece_id(const ss_wordpiece *t, const char *token)
{
    if (!t || !token) return -1;
    for (int k = 0; k < t->n_added; k++)
        if (strcmp(t->added[k].content, token) == 0) return t->added[k].id;
    return map_get2(t, "", 0, token, strlen(token));
}

void ss_wordpiece_free(ss_wordpiece *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_strings; i++) free(t->strings[i]);
    free(t->strings);
    for (int k = 0; k < t->n_added; k++) {
        free(t->added[k].content);
        free(t->added[k].cps);
    }
    free(t->added);
    free(t->slots);
    free(t->id_tok);
    free(t->special);
    free(t);
}

/* ------------------------------------------------------------------ loading: common parts */

/* A vocabulary entry while loading. */
typedef struct {
    const char *tok; /* owned by the tokenizer's strings */
    size_t len;
    int32_t id;
} wp_entry;

static int is_unused_token(const char *s)
{
    if (strncmp(s, "[unused", 7) != 0) return 0;
    s += 7;
    if (*s < '0' || *s > '9') return 0;
    while (*s >= '0' && *s <= '9') s++;
    return s[0] == ']' && s[1] == '\0';
}

/* Decodes UTF-8 content into a malloc'd code-point array. */
static uint32_t *decode_all(const char *s, size_t len, size_t *n_out)
{
    uint32_t *v = malloc((len + 1) * sizeof *v);
    size_t n = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < len;) {
        size_t k;
        v[n++] = ss_utf8_decode((const unsigned char *)s + i, len - i, &k);
        i += k;
    }
    *n_out = n;
    return v;
}

/* Adds an added token (content copied). A normalized token is matched in its normalised form. */
static ss_status add_added(ss_wordpiece *t, const char *src, const char *content, int32_t id, int normalized,
                           int lstrip, int rstrip)
{
    wp_added *v = realloc(t->added, (size_t)(t->n_added + 1) * sizeof *v);
    if (!v) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", src);
    t->added = v;
    wp_added *a = &t->added[t->n_added];
    memset(a, 0, sizeof *a);
    a->id = id;
    a->normalized = normalized;
    a->lstrip = lstrip;
    a->rstrip = rstrip;
    size_t len = strlen(content);
    a->content = dup_bytes(content, len);
    a->cps = decode_all(content, len, &a->n_cps);
    t->n_added++; /* counted now so that free releases what was allocated */
    if (!a->content || !a->cps) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", src);
    if (normalized) {
        cpvec out = {0}, tmp = {0};
        int bad = normalize(t, a->cps, a->n_cps, &out, &tmp);
        free(tmp.v);
        if (bad) {
            free(out.v);
            return ss_fail(SS_ERR_NOMEM, "%s: out of memory", src);
        }
        free(a->cps);
        a->cps = out.v;
        a->n_cps = out.n;
    }
    if (a->n_cps) {
        if (normalized) t->added_first_norm |= 1ull << (a->cps[0] & 63);
        else t->added_first_raw |= 1ull << (a->cps[0] & 63);
    }
    return SS_OK;
}

/* Builds id_tok / special and the map from the vocabulary entries and the added tokens. */
static ss_status finish(ss_wordpiece *t, const char *src, const wp_entry *e, size_t n)
{
    int64_t max_id = -1;
    for (size_t i = 0; i < n; i++)
        if (e[i].id > max_id) max_id = e[i].id;
    for (int k = 0; k < t->n_added; k++)
        if (t->added[k].id > max_id) max_id = t->added[k].id;
    if (max_id < 0) return ss_fail(SS_ERR_FORMAT, "%s: the vocabulary is empty", src);
    if (max_id >= (int64_t)(4 * (n + (size_t)t->n_added) + 1024))
        return ss_fail(SS_ERR_FORMAT, "%s: token id %lld is far beyond the %zu entries of the vocabulary", src,
                       (long long)max_id, n + (size_t)t->n_added);
    t->n_ids = (int32_t)max_id + 1;
    t->id_tok = calloc((size_t)t->n_ids, sizeof *t->id_tok);
    t->special = calloc((size_t)t->n_ids, 1);
    if (!t->id_tok || !t->special || map_init(t, n)) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", src);
    for (size_t i = 0; i < n; i++) {
        map_put(t, e[i].tok, e[i].len, e[i].id);
        t->id_tok[e[i].id] = e[i].tok;
        if (is_unused_token(e[i].tok)) t->special[e[i].id] = 1;
    }
    for (int k = 0; k < t->n_added; k++) {
        t->id_tok[t->added[k].id] = t->added[k].content;
        t->special[t->added[k].id] = 1;
    }
    return SS_OK;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static ss_status json_open(const char *path, json_t **out)
{
    json_error_t err;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (*out) return SS_OK;
    if (json_error_code(&err) == json_error_cannot_open_file)
        return ss_fail(SS_ERR_IO, "%s: cannot read: %s", path, err.text);
    return ss_fail(SS_ERR_FORMAT, "%s: line %d, column %d: %s", path, err.line, err.column, err.text);
}

/* Reads an optional boolean member; 0 when absent or null with *val = dflt, -1 when it is not a boolean. */
static int get_bool(const json_t *obj, const char *key, int dflt, int *val)
{
    const json_t *v = json_object_get(obj, key);
    *val = dflt;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return -1;
    *val = json_is_true(v);
    return 0;
}

/* ------------------------------------------------------------------ loading tokenizer.json */

static ss_status load_normalizer(ss_wordpiece *t, const char *path, const json_t *norm)
{
    if (!norm || json_is_null(norm)) return SS_OK; /* no normaliser at all */
    if (!json_is_object(norm)) return ss_fail(SS_ERR_FORMAT, "%s: normalizer is not an object", path);
    const char *type = json_string_value(json_object_get(norm, "type"));
    if (!type) return ss_fail(SS_ERR_FORMAT, "%s: normalizer has no \"type\" string", path);
    if (strcmp(type, "BertNormalizer") != 0)
        return ss_fail(SS_ERR_FORMAT, "%s: normalizer type \"%s\" is not supported (only BertNormalizer)", path, type);
    t->has_normalizer = 1;
    int strip = -1;
    if (get_bool(norm, "clean_text", 1, &t->clean_text))
        return ss_fail(SS_ERR_FORMAT, "%s: normalizer.clean_text is not a boolean", path);
    if (get_bool(norm, "handle_chinese_chars", 1, &t->chinese))
        return ss_fail(SS_ERR_FORMAT, "%s: normalizer.handle_chinese_chars is not a boolean", path);
    if (get_bool(norm, "lowercase", 1, &t->lowercase))
        return ss_fail(SS_ERR_FORMAT, "%s: normalizer.lowercase is not a boolean", path);
    if (get_bool(norm, "strip_accents", -1, &strip))
        return ss_fail(SS_ERR_FORMAT, "%s: normalizer.strip_accents is not a boolean or null", path);
    t->strip_accents = strip < 0 ? t->lowercase : strip; /* null: follows lowercase */
    return SS_OK;
}

static ss_status load_pre_tokenizer(ss_wordpiece *t, const char *path, const json_t *pre)
{
    if (!pre || json_is_null(pre)) return SS_OK;
    if (!json_is_object(pre)) return ss_fail(SS_ERR_FORMAT, "%s: pre_tokenizer is not an object", path);
    const char *type = json_string_value(json_object_get(pre, "type"));
    if (!type) return ss_fail(SS_ERR_FORMAT, "%s: pre_tokenizer has no \"type\" string", path);
    if (strcmp(type, "BertPreTokenizer") != 0)
        return ss_fail(SS_ERR_FORMAT, "%s: pre_tokenizer type \"%s\" is not supported (only BertPreTokenizer)",
                       path, type);
    t->bert_pre = 1;
    return SS_OK;
}

static ss_status load_added_tokens(ss_wordpiece *t, const char *path, const json_t *arr)
{
    ss_status st;
    if (!arr || json_is_null(arr)) return SS_OK;
    if (!json_is_array(arr)) return ss_fail(SS_ERR_FORMAT, "%s: added_tokens is not an array", path);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *a = json_array_get(arr, i);
        if (!json_is_object(a)) return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu] is not an object", path, i);
        const json_t *jid = json_object_get(a, "id");
        const char *content = json_string_value(json_object_get(a, "content"));
        if (!json_is_integer(jid) || json_integer_value(jid) < 0 || json_integer_value(jid) >= WP_MAX_IDS)
            return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu].id is not an integer in [0, %d)", path, i, WP_MAX_IDS);
        if (!content || !*content || json_string_length(json_object_get(a, "content")) != strlen(content))
            return ss_fail(SS_ERR_FORMAT, "%s: added_tokens[%zu].content is not a non-empty string without NUL", path, i);
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

/* root: the parsed tokenizer.json; tokenizer.c has checked that it is an object with a "model" object. */
static ss_status load_tokenizer_json(ss_wordpiece *t, const char *path, const json_t *root)
{
    ss_status st = SS_OK;
    wp_entry *ents = NULL;
    uint8_t *seen = NULL;
    const json_t *model = json_object_get(root, "model");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!json_is_object(model) || !type || strcmp(type, "WordPiece") != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: model.type is \"%s\"; this tokenizer handles WordPiece only", path,
                     type ? type : "(none)");
        goto done;
    }
    const json_t *jprefix = json_object_get(model, "continuing_subword_prefix");
    const char *prefix = "##";
    if (jprefix && !json_is_null(jprefix)) {
        prefix = json_string_value(jprefix);
        if (!prefix || strlen(prefix) >= sizeof t->prefix) {
            st = ss_fail(SS_ERR_FORMAT, "%s: model.continuing_subword_prefix is not a string of < %zu bytes", path,
                         sizeof t->prefix);
            goto done;
        }
    }
    strcpy(t->prefix, prefix);
    t->prefix_len = strlen(prefix);
    const json_t *jmax = json_object_get(model, "max_input_chars_per_word");
    t->max_chars = 100;
    if (jmax && !json_is_null(jmax)) {
        if (!json_is_integer(jmax) || json_integer_value(jmax) < 0 || json_integer_value(jmax) > 1000000000) {
            st = ss_fail(SS_ERR_FORMAT, "%s: model.max_input_chars_per_word is not a non-negative integer", path);
            goto done;
        }
        t->max_chars = (int)json_integer_value(jmax);
    }
    const char *unk = json_string_value(json_object_get(model, "unk_token"));
    if (!unk) {
        st = ss_fail(SS_ERR_FORMAT, "%s: model.unk_token is missing or not a string", path);
        goto done;
    }
    SS_TRY(load_normalizer(t, path, json_object_get(root, "normalizer")));
    SS_TRY(load_pre_tokenizer(t, path, json_object_get(root, "pre_tokenizer")));
    SS_TRY(load_added_tokens(t, path, json_object_get(root, "added_tokens")));

    const json_t *vocab = json_object_get(model, "vocab");
    if (!json_is_object(vocab)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: model.vocab is missing or not an object", path);
        goto done;
    }
    size_t n = json_object_size(vocab), i = 0;
    ents = calloc(n ? n : 1, sizeof *ents);
    seen = calloc(4 * (n + (size_t)t->n_added) + 1024, 1);
    if (!ents || !seen) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)vocab, key, val)
    {
        json_int_t id = json_is_integer(val) ? json_integer_value(val) : -1;
        if (id < 0 || id >= (json_int_t)(4 * (n + (size_t)t->n_added) + 1024)) {
            st = ss_fail(SS_ERR_FORMAT, "%s: model.vocab[\"%s\"] is not a token id (a non-negative integer below %zu)",
                         path, key, 4 * (n + (size_t)t->n_added) + 1024);
            goto done;
        }
        if (seen[id]) {
            st = ss_fail(SS_ERR_FORMAT, "%s: model.vocab[\"%s\"]: id %lld is used twice", path, key, (long long)id);
            goto done;
        }
        seen[id] = 1;
        size_t len = strlen(key);
        char *s = keep_string(t, dup_bytes(key, len));
        if (!s) {
            st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        ents[i++] = (wp_entry){s, len, (int32_t)id};
    }
    SS_TRY(finish(t, path, ents, i));
    t->unk_id = map_get2(t, "", 0, unk, strlen(unk));
    if (t->unk_id < 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: model.unk_token \"%s\" is not in model.vocab", path, unk);
        goto done;
    }
done:
    free(ents);
    free(seen);
    return st;
}

/* ------------------------------------------------------------------ loading vocab.txt */

/* A special token from tokenizer_config.json: a string or an AddedToken object {"content": ...}. */
static ss_status config_token(const char *path, const json_t *cfg, const char *key, const char *dflt, const char **out)
{
    const json_t *v = cfg ? json_object_get(cfg, key) : NULL;
    *out = dflt;
    if (!v || json_is_null(v)) return SS_OK;
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!json_is_string(v) || !*json_string_value(v))
        return ss_fail(SS_ERR_FORMAT, "%s: %s is not a non-empty string or {\"content\": string}", path, key);
    *out = json_string_value(v);
    return SS_OK;
}

static ss_status read_file(const char *path, char **buf, size_t *len)
{
    ss_status st = SS_OK;
    FILE *f = fopen(path, "rb");
    *buf = NULL;
    if (!f) return ss_fail(SS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        st = ss_fail(SS_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
        goto done;
    }
    long sz = ftell(f);
    if (sz < 0 || (unsigned long)sz > WP_MAX_FILE) {
        st = ss_fail(SS_ERR_FORMAT, "%s: size %ld is not that of a vocabulary", path, sz);
        goto done;
    }
    rewind(f);
    *buf = malloc((size_t)sz + 1);
    if (!*buf) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fread(*buf, 1, (size_t)sz, f) != (size_t)sz) {
        st = ss_fail(SS_ERR_IO, "%s: read failed", path);
        goto done;
    }
    (*buf)[sz] = '\0';
    *len = (size_t)sz;
done:
    if (st != SS_OK) {
        free(*buf);
        *buf = NULL;
    }
    fclose(f);
    return st;
}

static ss_status load_vocab_txt(ss_wordpiece *t, const char *dir, const char *path)
{
    ss_status st = SS_OK;
    char *buf = NULL, *cfg_path = NULL;
    json_t *cfg = NULL;
    wp_entry *ents = NULL;
    size_t len = 0, n = 0, cap = 0;

    /* tokenizer_config.json (optional): what BertTokenizer would be built with */
    size_t cl = strlen(dir) + sizeof "/tokenizer_config.json";
    cfg_path = malloc(cl);
    if (!cfg_path) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    snprintf(cfg_path, cl, "%s/tokenizer_config.json", dir);
    t->has_normalizer = 1;
    t->bert_pre = 1;
    t->clean_text = 1;
    t->chinese = 1;
    t->lowercase = 1;
    t->max_chars = 100;
    strcpy(t->prefix, "##");
    t->prefix_len = 2;
    int strip = -1;
    if (file_exists(cfg_path)) {
        SS_TRY(json_open(cfg_path, &cfg));
        if (!json_is_object(cfg)) {
            st = ss_fail(SS_ERR_FORMAT, "%s: the top level is not a JSON object", cfg_path);
            goto done;
        }
        if (get_bool(cfg, "do_lower_case", 1, &t->lowercase) || get_bool(cfg, "tokenize_chinese_chars", 1, &t->chinese) ||
            get_bool(cfg, "strip_accents", -1, &strip)) {
            st = ss_fail(SS_ERR_FORMAT, "%s: do_lower_case, tokenize_chinese_chars and strip_accents must be booleans",
                         cfg_path);
            goto done;
        }
    }
    t->strip_accents = strip < 0 ? t->lowercase : strip;

    SS_TRY(read_file(path, &buf, &len));
    /* one token per line; \n, \r\n and \r end lines (Python's universal newlines) */
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r') j++;
        if (memchr(buf + i, '\0', j - i)) {
            st = ss_fail(SS_ERR_FORMAT, "%s: line %zu contains a NUL byte", path, n + 1);
            goto done;
        }
        for (size_t k = i; k < j;) { /* the file must be UTF-8 */
            size_t used;
            uint32_t cp = ss_utf8_decode((const unsigned char *)buf + k, j - k, &used);
            if (cp == SS_UC_REPLACEMENT && !(used == 3 && memcmp(buf + k, "\xEF\xBF\xBD", 3) == 0)) {
                st = ss_fail(SS_ERR_FORMAT, "%s: line %zu is not valid UTF-8 (byte %zu)", path, n + 1, k - i + 1);
                goto done;
            }
            k += used;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 32768;
            wp_entry *e = realloc(ents, cap * sizeof *e);
            if (!e) {
                st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            ents = e;
        }
        char *s = keep_string(t, dup_bytes(buf + i, j - i));
        if (!s) {
            st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        if (n >= WP_MAX_IDS) {
            st = ss_fail(SS_ERR_FORMAT, "%s: more than %d lines", path, WP_MAX_IDS);
            goto done;
        }
        ents[n] = (wp_entry){s, j - i, (int32_t)n};
        n++;
        if (j < len && buf[j] == '\r' && j + 1 < len && buf[j + 1] == '\n') j++;
        i = j + 1;
    }
    if (n == 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: no tokens", path);
        goto done;
    }
    /* the special tokens become added tokens (not normalised); later duplicates of a token win, as in
     * BertTokenizer's vocabulary dict */
    const char *keys[5] = {"unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};
    const char *dflt[5] = {"[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"};
    const char *unk = NULL;
    int32_t next_id = (int32_t)n;
    for (int k = 0; k < 5; k++) {
        const char *tok;
        SS_TRY(config_token(cfg_path, cfg, keys[k], dflt[k], &tok));
        if (k == 0) unk = tok;
        int32_t id = -1;
        for (size_t i = 0; i < n; i++)
            if (ents[i].len == strlen(tok) && memcmp(ents[i].tok, tok, ents[i].len) == 0) id = ents[i].id;
        int dup = 0;
        for (int a = 0; a < t->n_added; a++) dup |= strcmp(t->added[a].content, tok) == 0;
        if (dup) continue;
        if (id < 0) {
            if (k == 0) {
                st = ss_fail(SS_ERR_FORMAT, "%s: the unknown token \"%s\" is not in the vocabulary", path, tok);
                goto done;
            }
            id = next_id++; /* as transformers does: a missing special token is appended */
        }
        SS_TRY(add_added(t, path, tok, id, 0, 0, 0));
    }
    SS_TRY(finish(t, path, ents, n));
    t->unk_id = map_get2(t, "", 0, unk, strlen(unk));
    if (t->unk_id < 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: the unknown token \"%s\" is not in the vocabulary", path, unk);
        goto done;
    }
done:
    free(buf);
    free(cfg_path);
    free(ents);
    json_decref(cfg);
    return st;
}

/* ------------------------------------------------------------------ entry points */

ss_status ss_wordpiece_from_json(const char *path, const json_t *root, ss_wordpiece **out)
{
    ss_status st = SS_OK;
    *out = NULL;
    ss_wordpiece *t = calloc(1, sizeof *t);
    if (!t) return ss_fail(SS_ERR_NOMEM, "%s: out of memory loading the tokenizer", path);
    SS_TRY(load_tokenizer_json(t, path, root));
    *out = t;
    t = NULL;
done:
    ss_wordpiece_free(t);
    return st;
}

ss_status ss_wordpiece_from_vocab_txt(const char *model_dir, const char *path, ss_wordpiece **out)
{
    ss_status st = SS_OK;
    *out = NULL;
    ss_wordpiece *t = calloc(1, sizeof *t);
    if (!t) return ss_fail(SS_ERR_NOMEM, "%s: out of memory loading the tokenizer", path);
    SS_TRY(load_vocab_txt(t, model_dir, path));
    *out = t;
    t = NULL;
done:
    ss_wordpiece_free(t);
    return st;
}
