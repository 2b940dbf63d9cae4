/* prompts.c: prompt sets (files, the built-in natural set, random and repeated token generators)
 * and their final token ids under a model's BOS policy frame.
 *
 * Token generators are deterministic in (seed, prompt index) only: a xoshiro256** stream seeded by
 * splitmix64 from the pair, pure 64-bit integer arithmetic, so every rank and platform draws the same
 * ids. Ids are drawn one after another from that stream, so a shorter prompt (a truncated one, or one
 * under a BOS policy with more special tokens) is a prefix of the longer one. */
#include "prompts.h"

#include <pthread.h> /* pthread_once: the natural set is split into lines once */
#include <stdint.h>
#include <stdio.h> /* snprintf */
#include <stdlib.h>
#include <string.h>

/* prompt_files.c: reads a .txt / .jsonl / .csv prompt file; texts[i] starts on line lines[i]. */
ss_status ss_prompt_file_read(const char *path, const char *field, char ***texts_out, int **lines_out, int *n_out);

/* experiments/data/natural.txt, embedded by engine/embed_text.cmake (NUL-terminated). */
extern const unsigned char ss_natural_raw[];
extern const size_t ss_natural_raw_len;

struct ss_prompt_set {
    ss_prompt_kind kind;
    char *source;   /* for messages: the file path, "natural", "random" or "repeated" */
    char **texts;   /* [n] SS_PROMPTS_FILE: owned texts; NULL otherwise */
    int *lines;     /* [n] SS_PROMPTS_FILE: line of each prompt in the file */
    int n;
    int length;     /* random / repeated / natural passages: total length in tokens, specials included */
    int *start;     /* [n] natural passages: first sentence of each passage; NULL otherwise */
    uint64_t seed;
    int token_id;   /* repeated: fixed id, or -1 to draw it */
};

/* ---------------------------------------------------------------- deterministic generators */

enum { STREAM_RANDOM = 1, STREAM_REPEATED = 2, STREAM_PASSAGES = 3 };

static uint64_t splitmix64_next(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s[4];
} rng256;

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** step. */
static uint64_t rng_next(rng256 *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

/* One independent stream per (seed, stream, index): the seed is scrambled, then the stream tag and
 * the index are folded in by bijective (odd-multiplier) maps, and splitmix64 fills the state. */
static void rng_seed(rng256 *r, uint64_t seed, int stream, int index)
{
    uint64_t x = seed;
    uint64_t y = splitmix64_next(&x);
    y ^= (uint64_t)(uint32_t)stream * UINT64_C(0xD6E8FEB86659FD93);
    y += (uint64_t)(uint32_t)index * UINT64_C(0xA0761D6478BD642F);
    for (int k = 0; k < 4; k++) r->s[k] = splitmix64_next(&y);
}

/* Uniform in [0, n) without modulo bias: reject the lowest 2^64 mod n values. */
static uint32_t rng_below(rng256 *r, uint32_t n)
{
    uint64_t threshold = (UINT64_C(0) - (uint64_t)n) % n;
    for (;;) {
        uint64_t x = rng_next(r);
        if (x >= threshold) return (uint32_t)(x % n);
    }
}

/* A uniform non-special id by rejection. After MAX_REJECT consecutive special draws (a vocabulary
 * that is nearly all special) it takes the next non-special id after the last draw, cyclically,
 * which is still deterministic; -1 when every id is special. */
#define MAX_REJECT 4096
static int32_t draw_id(rng256 *r, int n_vocab, ss_is_special_fn is_special, const void *ctx)
{
    uint32_t id = 0;
    for (int t = 0; t < MAX_REJECT; t++) {
        id = rng_below(r, (uint32_t)n_vocab);
        if (!is_special || !is_special(ctx, (int32_t)id)) return (int32_t)id;
    }
    for (int k = 1; k <= n_vocab; k++) {
        int32_t c = (int32_t)((id + (uint32_t)k) % (uint32_t)n_vocab);
        if (!is_special || !is_special(ctx, c)) return c;
    }
    return -1;
}

void ss_gen_random_tokens(uint64_t seed, int index, int n, int n_vocab, ss_is_special_fn is_special, const void *ctx,
                          int32_t *out)
{
    rng256 r;
    rng_seed(&r, seed, STREAM_RANDOM, index);
    int k = 0;
    for (; k < n && n_vocab > 0; k++) {
        out[k] = draw_id(&r, n_vocab, is_special, ctx);
        if (out[k] < 0) break; /* every id is special: the rest is -1 too */
    }
    for (; k < n; k++) out[k] = -1;
}

int32_t ss_gen_repeated_token(uint64_t seed, int index, int n_vocab, ss_is_special_fn is_special, const void *ctx)
{
    rng256 r;
    rng_seed(&r, seed, STREAM_REPEATED, index);
    return n_vocab > 0 ? draw_id(&r, n_vocab, is_special, ctx) : -1;
}

/* ---------------------------------------------------------------- the built-in natural set */

static struct {
    char *buf;          /* a copy of ss_natural_raw with line ends replaced by NULs */
    const char **lines; /* [n] sentences (comments and blank lines skipped) */
    int n;
} g_natural;
static pthread_once_t g_natural_once = PTHREAD_ONCE_INIT;

/* Splits the embedded file once per process; the table lives until exit. On allocation failure
 * the set is empty (ss_prompts_open reports it). */
static void natural_init(void)
{
    size_t len = ss_natural_raw_len;
    char *buf = malloc(len + 1);
    if (!buf) return;
    memcpy(buf, ss_natural_raw, len);
    buf[len] = '\0';
    int cap = 1;
    for (size_t i = 0; i < len; i++) cap += buf[i] == '\n';
    const char **lines = malloc((size_t)cap * sizeof *lines);
    if (!lines) {
        free(buf);
        return;
    }
    int n = 0;
    for (char *s = buf; s < buf + len;) {
        char *nl = memchr(s, '\n', (size_t)(buf + len - s));
        char *end = nl ? nl : buf + len;
        *end = '\0';
        if (end > s && end[-1] == '\r') end[-1] = '\0';
        if (s[0] != '\0' && s[0] != '#') lines[n++] = s;
        s = end + 1;
    }
    g_natural.buf = buf;
    g_natural.lines = lines;
    g_natural.n = n;
}

int ss_natural_count(void)
{
    pthread_once(&g_natural_once, natural_init);
    return g_natural.n;
}

const char *ss_natural_text(int i)
{
    pthread_once(&g_natural_once, natural_init);
    return i >= 0 && i < g_natural.n ? g_natural.lines[i] : NULL;
}

/* ---------------------------------------------------------------- prompt sets */

static const char *kind_name(ss_prompt_kind k)
{
    switch (k) {
    case SS_PROMPTS_FILE: return "file";
    case SS_PROMPTS_NATURAL: return "natural";
    case SS_PROMPTS_RANDOM: return "random";
    case SS_PROMPTS_REPEATED: return "repeated";
    }
    return "unknown";
}

ss_status ss_prompts_open(const ss_prompt_spec *spec, ss_prompt_set **out)
{
    ss_status st = SS_OK;
    ss_prompt_set *ps = NULL;
    *out = NULL;
    if (!spec) return ss_fail(SS_ERR_INTERNAL, "ss_prompts_open: no prompt spec");
    const char *name = spec->name ? spec->name : "(unnamed)";
    if (spec->count < 0) {
        st = ss_fail(SS_ERR_INPUT, "prompt set '%s': count is %d; it must be >= 0", name, spec->count);
        goto done;
    }
    ps = calloc(1, sizeof *ps);
    if (!ps) {
        st = ss_fail(SS_ERR_NOMEM, "prompt set '%s': out of memory", name);
        goto done;
    }
    ps->kind = spec->kind;
    ps->seed = spec->seed;
    ps->length = spec->length;
    ps->token_id = spec->token_id;

    switch (spec->kind) {
    case SS_PROMPTS_FILE: {
        const char *path = spec->resolved_path ? spec->resolved_path : spec->path;
        if (!path || !*path) {
            st = ss_fail(SS_ERR_INPUT, "prompt set '%s': no file path", name);
            goto done;
        }
        ps->source = strdup(path);
        if (!ps->source) {
            st = ss_fail(SS_ERR_NOMEM, "prompt set '%s': out of memory", name);
            goto done;
        }
        SS_TRY(ss_prompt_file_read(path, spec->field, &ps->texts, &ps->lines, &ps->n));
        if (spec->count > 0) {
            if (spec->count > ps->n) {
                st = ss_fail(SS_ERR_INPUT, "%s: the file holds %d prompt(s) but count is %d", path, ps->n,
                             spec->count);
                goto done;
            }
            for (int i = spec->count; i < ps->n; i++) free(ps->texts[i]);
            ps->n = spec->count;
        }
        break;
    }
    case SS_PROMPTS_NATURAL: {
        int total = ss_natural_count();
        if (total == 0) {
            st = ss_fail(SS_ERR_NOMEM, "prompt set '%s': the built-in natural set could not be loaded", name);
            goto done;
        }
        if (spec->count > total) {
            st = ss_fail(SS_ERR_INPUT, "prompt set '%s': the natural set holds %d sentences but count is %d", name,
                         total, spec->count);
            goto done;
        }
        ps->n = spec->count > 0 ? spec->count : total;
        if (spec->length > 0) {
            /* passages: distinct starting sentences, a seeded Fisher-Yates permutation of 0..total-1 */
            int *perm = malloc((size_t)total * sizeof *perm);
            if (!perm) {
                st = ss_fail(SS_ERR_NOMEM, "prompt set '%s': out of memory", name);
                goto done;
            }
            for (int k = 0; k < total; k++) perm[k] = k;
            rng256 r;
            rng_seed(&r, spec->seed, STREAM_PASSAGES, 0);
            for (int k = total - 1; k > 0; k--) {
                int j = (int)rng_below(&r, (uint32_t)k + 1);
                int t = perm[k];
                perm[k] = perm[j];
                perm[j] = t;
            }
            ps->start = perm;
        }
        break;
    }
    case SS_PROMPTS_RANDOM:
    case SS_PROMPTS_REPEATED:
        if (spec->count <= 0) {
            st = ss_fail(SS_ERR_INPUT, "prompt set '%s': the %s generator needs count >= 1 (got %d)", name,
                         kind_name(spec->kind), spec->count);
            goto done;
        }
        if (spec->length <= 0) {
            st = ss_fail(SS_ERR_INPUT, "prompt set '%s': the %s generator needs length >= 1 (got %d)", name,
                         kind_name(spec->kind), spec->length);
            goto done;
        }
        if (spec->kind == SS_PROMPTS_REPEATED && spec->token_id < -1) {
            st = ss_fail(SS_ERR_INPUT, "prompt set '%s': token_id is %d; use an id >= 0, or -1 to draw it", name,
                         spec->token_id);
            goto done;
        }
        ps->n = spec->count;
        break;
    default:
        st = ss_fail(SS_ERR_INPUT, "prompt set '%s': unknown prompt kind %d", name, (int)spec->kind);
        goto done;
    }
    if (!ps->source) {
        ps->source = strdup(kind_name(spec->kind));
        if (!ps->source) {
            st = ss_fail(SS_ERR_NOMEM, "prompt set '%s': out of memory", name);
            goto done;
        }
    }
    *out = ps;
    ps = NULL;
done:
    ss_prompts_free(ps);
    return st;
}

int ss_prompts_count(const ss_prompt_set *ps) { return ps ? ps->n : 0; }

const char *ss_prompts_text(const ss_prompt_set *ps, int i)
{
    if (!ps || i < 0 || i >= ps->n) return NULL;
    if (ps->kind == SS_PROMPTS_FILE) return ps->texts[i];
    if (ps->kind == SS_PROMPTS_NATURAL) return ss_natural_text(ps->start ? ps->start[i] : i);
    return NULL;
}

void ss_prompts_free(ss_prompt_set *ps)
{
    if (!ps) return;
    if (ps->texts)
        for (int i = 0; i < ps->n; i++) free(ps->texts[i]);
    free(ps->texts);
    free(ps->lines);
    free(ps->start);
    free(ps->source);
    free(ps);
}

/* ---------------------------------------------------------------- final token ids */

/* Special ids for the generators: the tokenizer's special/added tokens plus the model's frame ids. */
typedef struct {
    const ss_tokenizer *tok;
    const ss_model_info *info;
} special_ctx;

static int model_is_special(const void *p, int32_t id)
{
    const special_ctx *c = p;
    const ss_model_info *in = c->info;
    if (id == in->bos_id || id == in->eos_id || id == in->cls_id || id == in->sep_id || id == in->pad_id ||
        id == in->unk_id)
        return 1;
    return c->tok ? ss_tokenizer_is_special(c->tok, id) != 0 : 0;
}

/* "prompt 12 (file.txt:14)" / "natural prompt 12" / "random prompt 12", for messages. */
static void prompt_label(const ss_prompt_set *ps, int i, char *buf, size_t size)
{
    if (ps->kind == SS_PROMPTS_FILE) snprintf(buf, size, "prompt %d (%s:%d)", i, ps->source, ps->lines[i]);
    else snprintf(buf, size, "%s prompt %d", kind_name(ps->kind), i);
}

/* Content ids of natural passage i: sentences start[i], start[i]+1, ... (wrapping) encoded one by one
 * and joined, cut at exactly `want` ids. *content is malloc'd. */
static ss_status natural_passage(const ss_prompt_set *ps, int i, const ss_tokenizer *tok, int want, const char *label,
                                 int32_t **content, int *n_content)
{
    ss_status st = SS_OK;
    int32_t *ids = NULL, *piece = NULL; /* ids: [want] */
    int have = 0, n_piece = 0;
    const int total = ss_natural_count();
    *content = NULL;
    *n_content = 0;
    if (want < 1)
        return ss_fail(SS_ERR_RANGE, "%s: length %d leaves no room for content next to the special tokens", label,
                       ps->length);
    ids = malloc((size_t)want * sizeof *ids);
    if (!ids) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", label);
    for (int k = 0; have < want; k++) {
        if (k == total && have == 0) {
            st = ss_fail(SS_ERR_RANGE, "%s: the natural set encodes to no tokens", label);
            goto done;
        }
        SS_TRY(ss_tokenizer_encode(tok, ss_natural_text((ps->start[i] + k) % total), &piece, &n_piece));
        int take = n_piece < want - have ? n_piece : want - have;
        memcpy(ids + have, piece, (size_t)take * sizeof *ids);
        have += take;
        free(piece);
        piece = NULL;
    }
    *content = ids;
    *n_content = have;
    ids = NULL;
done:
    free(piece);
    free(ids);
    return st;
}

ss_status ss_prompts_tokens(const ss_prompt_set *ps, int i, const ss_model *m, ss_bos_policy bos, int max_tokens,
                            int truncate, int32_t *ids, int *n)
{
    ss_status st = SS_OK;
    int32_t *content = NULL; /* text prompts: the tokenizer's output */
    int32_t pre[2], post[2];
    int n_pre = 0, n_post = 0, n_content = 0;
    char label[512];
    *n = 0;
    if (!ps || !m || !ids) return ss_fail(SS_ERR_INTERNAL, "ss_prompts_tokens: NULL argument");
    if (i < 0 || i >= ps->n) return ss_fail(SS_ERR_RANGE, "prompt index %d is outside 0..%d", i, ps->n - 1);
    prompt_label(ps, i, label, sizeof label);
    if (max_tokens <= 0) return ss_fail(SS_ERR_INPUT, "%s: max_tokens is %d; it must be >= 1", label, max_tokens);

    const ss_model_info *info = ss_model_get_info(m);
    const ss_tokenizer *tok = ss_model_tokenizer(m);
    if (!info || !tok) return ss_fail(SS_ERR_INTERNAL, "%s: the model has no info or tokenizer", label);
    ss_model_frame(info, bos, pre, &n_pre, post, &n_post);
    int n_special = n_pre + n_post;
    int room = max_tokens - n_special; /* content tokens that fit */

    if (ps->kind == SS_PROMPTS_NATURAL && ps->start) {
        SS_TRY(natural_passage(ps, i, tok, ps->length - n_special, label, &content, &n_content));
    } else if (ps->kind == SS_PROMPTS_FILE || ps->kind == SS_PROMPTS_NATURAL) {
        SS_TRY(ss_tokenizer_encode(tok, ss_prompts_text(ps, i), &content, &n_content));
    } else {
        n_content = ps->length - n_special;
        if (n_content < 1) {
            st = ss_fail(SS_ERR_RANGE, "%s: length %d leaves no room for content next to the %d special token(s) of "
                                       "the '%s' BOS policy",
                         label, ps->length, n_special, ss_bos_policy_name(bos));
            goto done;
        }
    }

    int total = n_special + n_content;
    if (total == 0) {
        st = ss_fail(SS_ERR_RANGE, "%s: no tokens (the text encodes to nothing and the '%s' BOS policy adds none)",
                     label, ss_bos_policy_name(bos));
        goto done;
    }
    if (total > max_tokens) {
        if (!truncate) {
            st = ss_fail(SS_ERR_RANGE, "%s has %d tokens (with specials); max_tokens is %d", label, total, max_tokens);
            goto done;
        }
        if (room < 1) {
            st = ss_fail(SS_ERR_RANGE, "%s: max_tokens %d leaves no room for content next to %d special token(s)",
                         label, max_tokens, n_special);
            goto done;
        }
        n_content = room;
    }

    /* pre + content + post */
    memcpy(ids, pre, (size_t)n_pre * sizeof *ids);
    int32_t *body = ids + n_pre;
    int is_text = ps->kind == SS_PROMPTS_FILE || ps->kind == SS_PROMPTS_NATURAL;
    if (is_text) {
        if (n_content > 0) memcpy(body, content, (size_t)n_content * sizeof *ids);
    } else {
        int n_vocab = ss_tokenizer_vocab_size(tok);
        if (info->n_vocab > 0 && (n_vocab <= 0 || info->n_vocab < n_vocab)) n_vocab = info->n_vocab;
        if (n_vocab <= 0) {
            st = ss_fail(SS_ERR_INTERNAL, "%s: the model reports an empty vocabulary", label);
            goto done;
        }
        special_ctx sc = {tok, info};
        if (ps->kind == SS_PROMPTS_REPEATED && ps->token_id >= 0) {
            if (ps->token_id >= n_vocab) {
                st = ss_fail(SS_ERR_RANGE, "%s: token_id %d is outside the vocabulary (size %d)", label, ps->token_id,
                             n_vocab);
                goto done;
            }
            for (int k = 0; k < n_content; k++) body[k] = ps->token_id;
        } else {
            if (ps->kind == SS_PROMPTS_REPEATED) {
                int32_t id = ss_gen_repeated_token(ps->seed, i, n_vocab, model_is_special, &sc);
                for (int k = 0; k < n_content; k++) body[k] = id;
            } else {
                ss_gen_random_tokens(ps->seed, i, n_content, n_vocab, model_is_special, &sc, body);
            }
            if (body[0] < 0) {
                st = ss_fail(SS_ERR_RANGE, "%s: every id of the vocabulary (size %d) is special; nothing to draw",
                             label, n_vocab);
                goto done;
            }
        }
    }
    memcpy(body + n_content, post, (size_t)n_post * sizeof *ids);
    *n = n_pre + n_content + n_post;
done:
    free(content);
    return st;
}
