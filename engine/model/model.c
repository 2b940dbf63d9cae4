/* model.c: ss_model (model.h): config, weights (mmap'd safetensors, or a GGUF file dequantized to fp32 by
 * gguf_model.c), tokenizer and the per-architecture forward pass (arch.h), plus the model hash and the BOS
 * frame. */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h> /* model.safetensors.index.json, for the hash */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../hash.h" /* ss_sha256 */
#include "arch.h"
#include "backward.h" /* ss_bwd_* */
#include "fwd.h"
#include "gguf.h"
#include "gguf_model.h"
#include "hfconfig.h"
#include "safetensors.h"

struct ss_model {
    ss_hfconfig cfg;    /* cfg.info is what ss_model_get_info returns */
    ss_safetensors *sf; /* the weights (mmap'd, or fp32 tensors in gguf_arena); the arch state points into them */
    float *gguf_arena;  /* GGUF only: every weight dequantized to fp32 (sf's tensors point into it) */
    char **gguf_names;  /* GGUF only: [n_gguf] the file's tensors that were converted */
    const char **gguf_types; /* [n_gguf] their ggml types ("Q4_1") */
    int n_gguf;
    ss_tokenizer *tok;
    const ss_arch *arch;
    void *state; /* the arch's weights view + reusable scratch */
    ss_fwd fwd;  /* the backend the forward passes run on, with the weights it holds (fwd.h) */
    int enc_native; /* 1 while the positional encoding is the native one (ss_model_set_encoding) */
};

/* Supported architectures, by ss_model_info.arch. */
static const ss_arch *const g_archs[] = {&ss_arch_bert,  &ss_arch_gpt2,     &ss_arch_llama,
                                         &ss_arch_bloom, &ss_arch_gpt_neox, &ss_arch_gemma3};

static const ss_arch *find_arch(const char *name)
{
    for (size_t i = 0; i < sizeof g_archs / sizeof g_archs[0]; i++)
        if (strcmp(g_archs[i]->name, name) == 0) return g_archs[i];
    return NULL;
}

/* A model path is a GGUF file (by its magic) or a Hugging Face directory; anything else is named as such
 * rather than failing later on "<file>/config.json: Not a directory". */
static ss_status check_model_path(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) return ss_fail(SS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode) || ss_gguf_model_is_gguf(path)) return SS_OK;
    return ss_fail(SS_ERR_FORMAT,
                   "%s is neither a GGUF file nor a model directory (for a Hugging Face model, give the directory "
                   "that holds config.json)",
                   path);
}

ss_status ss_model_probe(const char *dir, ss_model_info *info)
{
    ss_status st = SS_OK;
    ss_hfconfig *cfg = malloc(sizeof *cfg);
    ss_gguf *g = NULL;
    if (!cfg) return ss_fail(SS_ERR_NOMEM, "out of memory probing %s", dir);
    SS_TRY(check_model_path(dir));
    if (ss_gguf_model_is_gguf(dir)) {
        SS_TRY(ss_gguf_open(dir, &g));
        SS_TRY(ss_gguf_model_config(g, cfg));
    } else {
        SS_TRY(ss_hfconfig_read(dir, cfg));
    }
    *info = cfg->info;
done:
    ss_gguf_close(g);
    free(cfg);
    return st;
}

/* A GGUF file: config, fp32 weights and (with_tokenizer) the tokenizer, all from the file; the file is
 * closed again (nothing points into it afterwards). */
static ss_status load_gguf(const char *path, int with_tokenizer, ss_model *m)
{
    ss_status st = SS_OK;
    ss_gguf *g = NULL;
    SS_TRY(ss_gguf_open(path, &g));
    SS_TRY(ss_gguf_model_config(g, &m->cfg));
    m->arch = find_arch(m->cfg.info.arch);
    if (!m->arch) {
        st = ss_fail(SS_ERR_INTERNAL, "%s: architecture '%s' has no forward pass", path, m->cfg.info.arch);
        goto done;
    }
    SS_TRY(ss_gguf_model_weights(g, &m->cfg, &m->sf, &m->gguf_arena, &m->gguf_names, &m->gguf_types, &m->n_gguf));
    SS_TRY(m->arch->load(&m->cfg, m->sf, &m->state));
    if (with_tokenizer) {
        SS_TRY(ss_gguf_model_tokenizer(g, &m->tok));
        int nv = ss_tokenizer_vocab_size(m->tok);
        if (nv > m->cfg.info.n_vocab) {
            st = ss_fail(SS_ERR_FORMAT, "%s: the tokenizer has %d tokens but the model's vocabulary is %d", path, nv,
                         m->cfg.info.n_vocab);
            goto done;
        }
    }
done:
    ss_gguf_close(g);
    return st;
}

/* Config, weights and (with_tokenizer) the tokenizer. */
static ss_status load(const char *dir, int with_tokenizer, ss_model **out)
{
    ss_status st = SS_OK;
    *out = NULL;
    ss_model *m = calloc(1, sizeof *m);
    if (!m) return ss_fail(SS_ERR_NOMEM, "out of memory loading %s", dir);
    ss_fwd_init(&m->fwd, NULL);
    m->enc_native = 1;
    SS_TRY(check_model_path(dir));
    if (ss_gguf_model_is_gguf(dir)) {
        SS_TRY(load_gguf(dir, with_tokenizer, m));
        goto loaded;
    }
    SS_TRY(ss_hfconfig_read(dir, &m->cfg));
    m->arch = find_arch(m->cfg.info.arch);
    if (!m->arch) {
        st = ss_fail(SS_ERR_INTERNAL, "%s: architecture '%s' has no forward pass", dir, m->cfg.info.arch);
        goto done;
    }
    SS_TRY(ss_st_open_dir(dir, &m->sf));
    SS_TRY(m->arch->load(&m->cfg, m->sf, &m->state));
    if (!with_tokenizer) goto loaded;
    if ((st = ss_tokenizer_load(dir, &m->tok)) != SS_OK) {
        ss_wrap(st, "loading the tokenizer of %s", dir);
        goto done;
    }
    /* The tokenizer must agree with the config on the vocabulary and the special ids. */
    const ss_model_info *in = &m->cfg.info;
    int nv = ss_tokenizer_vocab_size(m->tok);
    if (nv > in->n_vocab) {
        st = ss_fail(SS_ERR_FORMAT, "%s: the tokenizer has %d tokens but config.json vocab_size is %d", dir, nv,
                     in->n_vocab);
        goto done;
    }
    struct {
        const char *tok;
        int32_t id;
    } specials[] = {{"[CLS]", in->cls_id}, {"[SEP]", in->sep_id}};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) {
        if (specials[i].id < 0) continue;
        int32_t tid = ss_tokenizer_id(m->tok, specials[i].tok);
        if (tid >= 0 && tid != specials[i].id) {
            st = ss_fail(SS_ERR_FORMAT, "%s: the tokenizer gives %s id %ld but tokenizer.json/vocab.txt say %ld", dir,
                         specials[i].tok, (long)tid, (long)specials[i].id);
            goto done;
        }
    }
loaded:
    *out = m;
    m = NULL;
done:
    ss_model_free(m);
    return st;
}

ss_status ss_model_load(const char *dir, ss_model **out) { return load(dir, 1, out); }

ss_status ss_model_load_weights_only(const char *dir, ss_model **out) { return load(dir, 0, out); }

const ss_model_info *ss_model_get_info(const ss_model *m) { return &m->cfg.info; }

const ss_tokenizer *ss_model_tokenizer(const ss_model *m) { return m->tok; }

int ss_model_n_weights(const ss_model *m) { return m->gguf_names ? m->n_gguf : m->sf ? m->sf->n_tensors : 0; }

int ss_model_weight(const ss_model *m, int i, const char **name, const char **type)
{
    if (i < 0 || i >= ss_model_n_weights(m)) return 0;
    if (m->gguf_names) {
        *name = m->gguf_names[i];
        *type = m->gguf_types[i] ? m->gguf_types[i] : "?";
    } else {
        *name = m->sf->tensors[i].name;
        *type = ss_dtype_name(m->sf->tensors[i].dtype);
    }
    return 1;
}

void ss_model_weight_types(const ss_model *m, char *buf, size_t cap)
{
    enum { MAX_TYPES = 24 };
    const char *names[MAX_TYPES];
    int counts[MAX_TYPES], n = 0;
    const char *name, *type;
    for (int i = 0; ss_model_weight(m, i, &name, &type); i++) {
        int k = 0;
        while (k < n && strcmp(names[k], type) != 0) k++;
        if (k == n && n < MAX_TYPES) {
            names[n] = type;
            counts[n++] = 0;
        }
        if (k < n) counts[k]++;
    }
    size_t used = 0;
    if (cap) buf[0] = '\0';
    for (int done = 0; done < n; done++) { /* largest count first; ties in the files' order */
        int best = -1;
        for (int k = 0; k < n; k++)
            if (counts[k] > 0 && (best < 0 || counts[k] > counts[best])) best = k;
        int w = snprintf(buf + used, used < cap ? cap - used : 0, "%s%s %d", done ? ", " : "", names[best],
                         counts[best]);
        if (w < 0 || used + (size_t)w >= cap) break; /* truncated: keep what fits */
        used += (size_t)w;
        counts[best] = 0;
    }
}

void ss_model_frame(const ss_model_info *info, ss_bos_policy bos, int32_t *pre, int *n_pre, int32_t *post, int *n_post)
{
    *n_pre = *n_post = 0;
    if (bos == SS_BOS_MODEL_DEFAULT) bos = info->default_bos;
    if (!info->causal && info->cls_id >= 0) {
        /* Encoder (BERT): [CLS] x [SEP]; "none" drops the [CLS] but keeps the [SEP]. */
        if (bos == SS_BOS_ADD) pre[(*n_pre)++] = info->cls_id;
        if (info->sep_id >= 0) post[(*n_post)++] = info->sep_id;
    } else {
        /* Decoder: [BOS] x when asked; nothing after. */
        if (bos == SS_BOS_ADD && info->bos_id >= 0) pre[(*n_pre)++] = info->bos_id;
    }
}

/* 1 when a token's text is punctuation or a newline (capture.h, SS_TOK_PUNCT). */
static int is_punct_text(const char *s)
{
    int n = 0;
    while (*s) {
        if (!strncmp(s, "\xc4\xa0", 2) || !strncmp(s, "\xe2\x96\x81", 3) || !strncmp(s, "##", 2)) { /* Ġ ▁ ## */
            s += s[0] == '#' ? 2 : (s[0] == '\xc4' ? 2 : 3);
            continue;
        }
        if (!strncmp(s, "\xc4\x8a", 2) || !strncmp(s, "<0x0A>", 6)) { /* Ċ (byte-level "\n"), byte piece */
            s += s[0] == '<' ? 6 : 2;
            n++;
            continue;
        }
        const unsigned char c = (unsigned char)*s;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            n += c == '\n';
            s++;
            continue;
        }
        if (c >= 0x80 || !ispunct(c)) return 0;
        n++;
        s++;
    }
    return n > 0;
}

void ss_model_token_classes(const ss_model *m, const int32_t *ids, int n, uint8_t *cls)
{
    const ss_model_info *in = &m->cfg.info;
    for (int t = 0; t < n; t++) {
        const int32_t id = ids[t];
        const char *text = m->tok ? ss_tokenizer_token(m->tok, id) : NULL;
        if ((in->bos_id >= 0 && id == in->bos_id) || (in->cls_id >= 0 && id == in->cls_id))
            cls[t] = SS_TOK_START;
        else if ((in->eos_id >= 0 && id == in->eos_id) || (in->sep_id >= 0 && id == in->sep_id))
            cls[t] = SS_TOK_END;
        else if (t == 0)
            cls[t] = SS_TOK_FIRST;
        else if (text && is_punct_text(text))
            cls[t] = SS_TOK_PUNCT;
        else
            cls[t] = SS_TOK_CONTENT;
    }
}

ss_status ss_model_forward(ss_model *m, const int32_t *ids, int n, ss_capture *cap)
{
    ss_status st = m->arch->forward(m->state, &m->fwd, ids, n, cap);
    if (st == SS_OK) {
        ss_model_token_classes(m, ids, n, cap->token_class);
        cap->model = m;
    }
    return st;
}

/* The architectures with a backward pass (backward.h), by ss_model_info.arch. */
static const struct {
    const char *arch;
    ss_bwd_fn fn;
} g_backward[] = {{"llama", ss_bwd_llama}, {"gemma3", ss_bwd_gemma3}, {"gpt2", ss_bwd_ln},
                  {"gpt_neox", ss_bwd_ln},   {"bloom", ss_bwd_ln}};

ss_status ss_model_grad_norms(const ss_model *m, const ss_capture *cap, ss_grad_norms *out, ss_grad_visit visit,
                              void *ctx)
{
    const ss_model_info *in = &m->cfg.info;
    double *keep[4] = {out->layer, out->attention, out->mlp, out->norms};
    memset(out, 0, sizeof *out);
    out->layer = keep[0];
    out->attention = keep[1];
    out->mlp = keep[2];
    out->norms = keep[3];
    for (int i = 0; i < 4; i++)
        if (keep[i]) memset(keep[i], 0, (size_t)in->n_layers * sizeof *keep[i]);
    if (!in->causal)
        return ss_fail(SS_ERR_UNSUPPORTED, "the LM-loss gradient is not applicable to %s: an encoder without a "
                                           "masked-LM head",
                       in->arch);
    ss_bwd_fn fn = NULL;
    for (size_t i = 0; i < sizeof g_backward / sizeof g_backward[0]; i++)
        if (strcmp(g_backward[i].arch, in->arch) == 0) fn = g_backward[i].fn;
    if (!fn) return ss_fail(SS_ERR_UNSUPPORTED, "the LM-loss gradient is not implemented for %s", in->arch);
    if (!m->enc_native)
        return ss_fail(SS_ERR_UNSUPPORTED, "the LM-loss gradient is implemented for the native positional encoding "
                                           "only");
    if (cap->model != m || cap->n_layers != in->n_layers || cap->d_model != in->d_model)
        return ss_fail(SS_ERR_INPUT, "the capture is not this model's forward pass");
    if (!cap->attn || !cap->hidden || !cap->q || !cap->k || !cap->v || !cap->attn_out)
        return ss_fail(SS_ERR_UNSUPPORTED, "the LM-loss gradient needs the attention maps and activations on the host, "
                                           "and this capture does not hold them");
    ss_bwd_sink sink = {out, visit, ctx};
    ss_status st = fn(&m->cfg, m->sf, cap, &sink);
    if (st != SS_OK) ss_wrap(st, "the LM-loss gradient of %s", in->arch);
    return st;
}

/* The weights as regions of f: each safetensors file, or the GGUF arena up to its last tensor. */
static ss_status add_weight_regions(const ss_model *m, ss_fwd *f)
{
    if (m->gguf_arena) {
        size_t end = 0;
        for (int i = 0; i < m->sf->n_tensors; i++) {
            const ss_st_tensor *t = &m->sf->tensors[i];
            const size_t e = (size_t)((const char *)t->data - (const char *)m->gguf_arena) + (t->end - t->begin);
            if (e > end) end = e;
        }
        return ss_fwd_region_add(f, m->gguf_arena, end);
    }
    for (int i = 0; i < m->sf->n_files; i++) {
        ss_status st = ss_fwd_region_add(f, m->sf->files[i].buf, m->sf->files[i].size);
        if (st != SS_OK) return st;
    }
    return SS_OK;
}

ss_status ss_model_set_backend(ss_model *m, const ss_backend *be)
{
    if (!be) be = ss_backend_cpu();
    if (m->fwd.be == be) return SS_OK;
    ss_fwd_free(&m->fwd);
    ss_fwd_init(&m->fwd, be);
    ss_status st = add_weight_regions(m, &m->fwd);
    if (st != SS_OK) {
        ss_fwd_free(&m->fwd); /* back on the CPU */
        return ss_wrap(st, "placing the weights of %s on backend %s", m->cfg.info.arch, ss_backend_name(be));
    }
    return SS_OK;
}

size_t ss_model_backend_bytes(const ss_model *m) { return m->fwd.region_bytes; }

void ss_model_set_attn_summaries(ss_model *m, int on) { m->fwd.summaries = on != 0; }

ss_status ss_model_set_encoding(ss_model *m, const ss_encoding_spec *enc)
{
    static const ss_encoding_spec native = {.name = "native", .type = SS_ENC_NATIVE, .bos = -1};
    if (!enc) enc = &native;
    if (m->arch->set_encoding) {
        ss_status st = m->arch->set_encoding(m->state, enc);
        if (st == SS_OK) m->enc_native = enc->type == SS_ENC_NATIVE;
        return st;
    }
    if (enc->type == SS_ENC_NATIVE) return SS_OK;
    return ss_fail(SS_ERR_UNSUPPORTED, "encoding '%s' (%s) is not implemented for architecture '%s'", enc->name,
                   ss_encoding_type_name(enc->type), m->cfg.info.arch);
}

/* The capture's buffers live in one block (the arena). A forward pass at T = 512 captures hundreds of
 * MB; malloc hands blocks that large out as fresh mmaps, and page-faulting them in again for every
 * prompt cost 5-8% of the forward. So ss_capture_free keeps the largest freed arena of the thread for
 * the next ss_capture_alloc instead of unmapping it: at most one capture's worth stays reserved, which
 * the next task of a sweep needs anyway. ss_capture_release_cache returns it. */
static _Thread_local void *g_spare;       /* the cached arena, or NULL */
static _Thread_local size_t g_spare_size; /* its size in bytes */

void ss_capture_release_cache(void)
{
    free(g_spare);
    g_spare = NULL;
    g_spare_size = 0;
}

void ss_capture_free(ss_capture *cap)
{
    if (!cap) return;
    if (cap->arena) {
        if (cap->arena_size >= g_spare_size) {
            free(g_spare);
            g_spare = cap->arena;
            g_spare_size = cap->arena_size;
        } else {
            free(cap->arena);
        }
    }
    memset(cap, 0, sizeof *cap);
}

ss_status ss_capture_alloc(ss_capture *cap, const int32_t *ids, int T, int L, int H, int H_kv, int d, int d_h,
                           int causal)
{
    memset(cap, 0, sizeof *cap);
    const size_t t = (size_t)T, qn = (size_t)L * H * t * d_h, kn = (size_t)L * H_kv * t * d_h;
    /* float counts, in arena order; each part starts 64-byte aligned */
    const size_t n_attn = (size_t)L * H * t * t, n_hidden = (size_t)(L + 1) * t * d, n_pre = t * d,
                 n_ao = (size_t)L * t * d;
    const size_t n_sum = (size_t)L * H * t; /* each attention summary */
    const size_t parts[] = {n_attn, n_hidden, n_pre, qn, qn, kn, kn, kn, n_ao, n_sum, n_sum,
                            (t * sizeof(int32_t) + 3) / 4, (size_t)L, (size_t)L * sizeof(float *) / sizeof(float) + 1,
                            (t + 3) / 4};
    size_t off[sizeof parts / sizeof parts[0]], total = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        off[i] = total;
        total += (parts[i] + 15) / 16 * 16;
    }
    const size_t bytes = total * sizeof(float);
    float *base;
    if (g_spare && g_spare_size >= bytes) {
        base = g_spare;
        cap->arena_size = g_spare_size;
        g_spare = NULL;
        g_spare_size = 0;
    } else {
        base = aligned_alloc(64, bytes);
        cap->arena_size = bytes;
    }
    if (!base) {
        cap->arena_size = 0;
        return ss_fail(SS_ERR_NOMEM, "out of memory for the capture of %d tokens (%.0f MB)", T, bytes / 1e6);
    }
    cap->arena = base;
    cap->attn = base + off[0];           /* [L][H][T][T] */
    cap->hidden = base + off[1];         /* [L+1][T][d] */
    cap->hidden_prenorm = base + off[2]; /* [T][d] */
    cap->q_pre = base + off[3];          /* [L][H][T][d_h] */
    cap->q = base + off[4];              /* [L][H][T][d_h] */
    cap->k_pre = base + off[5];          /* [L][H_kv][T][d_h] */
    cap->k = base + off[6];              /* [L][H_kv][T][d_h] */
    cap->v = base + off[7];              /* [L][H_kv][T][d_h] */
    cap->attn_out = base + off[8];       /* [L][T][d] */
    cap->col_mean = base + off[9];       /* [L][H][T]; ss_fwd_end keeps these or attn (capture.h) */
    cap->alpha = base + off[10];         /* [L][H][T] */
    int32_t *tokens = (int32_t *)(void *)(base + off[11]); /* [T] */
    memcpy(tokens, ids, t * sizeof *tokens);
    cap->tokens = tokens;
    cap->window = (int32_t *)(void *)(base + off[12]); /* [L] */
    memset(cap->window, 0, (size_t)L * sizeof *cap->window);
    cap->w_o = (const float **)(void *)(base + off[13]); /* [L] */
    memset(cap->w_o, 0, (size_t)L * sizeof *cap->w_o);
    cap->token_class = (uint8_t *)(void *)(base + off[14]); /* [T] */
    memset(cap->token_class, 0, t);
    cap->n_layers = L;
    cap->n_heads = H;
    cap->n_kv_heads = H_kv;
    cap->n_tokens = T;
    cap->d_model = d;
    cap->d_head = d_h;
    cap->causal = causal;
    return SS_OK;
}

ss_status ss_arch_check_ids(const int32_t *ids, int n, int n_vocab, int max_positions)
{
    if (n < 1) return ss_fail(SS_ERR_RANGE, "prompt has %d tokens; the model needs at least 1", n);
    if (n > max_positions)
        return ss_fail(SS_ERR_RANGE, "prompt has %d tokens; the model allows at most %d", n, max_positions);
    for (int t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= n_vocab)
            return ss_fail(SS_ERR_RANGE, "token id %ld at position %d is outside the vocabulary [0, %d)", (long)ids[t],
                           t, n_vocab);
    return SS_OK;
}

void ss_model_free(ss_model *m)
{
    if (!m) return;
    if (m->arch && m->state) m->arch->free(m->state);
    ss_fwd_free(&m->fwd);
    ss_tokenizer_free(m->tok);
    ss_st_free(m->sf);
    free(m->gguf_arena);
    ss_gguf_model_free_names(m->gguf_names, m->gguf_types, m->n_gguf);
    free(m);
}

/* ------------------------------------------------------------------------------------------- hash */

/* Feeds one file into the digest as: its name, NUL, its size (u64 little-endian), its contents.
 * An optional file that does not exist adds nothing. */
static ss_status hash_file(ss_sha256 *h, const char *dir, const char *name, int required)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (!required && errno == ENOENT) return SS_OK;
        return ss_fail(SS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    }
    unsigned char size_le[8];
    uint64_t size = (uint64_t)sb.st_size;
    for (int i = 0; i < 8; i++) size_le[i] = (unsigned char)(size >> (8 * i));
    ss_sha256_str(h, name);
    ss_sha256_update(h, size_le, sizeof size_le);
    return ss_sha256_file(h, path);
}

/* The hash covers, in this order, each file as (name, NUL, size as u64 little-endian, contents):
 *   config.json (required);
 *   tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt (those present);
 *   model.safetensors, or else model.safetensors.index.json followed by its shards sorted by name.
 * A GGUF file: the plain sha256 of its bytes (what sha256sum prints). */
ss_status ss_model_hash(const char *dir, char hex[65])
{
    if (ss_gguf_model_is_gguf(dir)) {
        ss_sha256 *g = ss_sha256_new();
        hex[0] = '\0';
        if (!g) return ss_fail(SS_ERR_NOMEM, "out of memory hashing %s", dir);
        ss_status gst = ss_sha256_file(g, dir);
        char digest[65];
        ss_sha256_final(g, digest); /* frees the context */
        if (gst == SS_OK) memcpy(hex, digest, sizeof digest);
        return gst;
    }
    ss_status st = SS_OK;
    static const char *tok_files[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                      "vocab.txt"};
    ss_sha256 *h = ss_sha256_new();
    json_t *index = NULL;
    const char **shards = NULL; /* [n_shards] */
    size_t n_shards = 0;
    char path[4096];
    struct stat sb;
    hex[0] = '\0';
    if (!h) {
        st = ss_fail(SS_ERR_NOMEM, "out of memory hashing %s", dir);
        goto done;
    }
    SS_TRY(hash_file(h, dir, "config.json", 1));
    for (size_t i = 0; i < sizeof tok_files / sizeof tok_files[0]; i++) SS_TRY(hash_file(h, dir, tok_files[i], 0));

    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (stat(path, &sb) == 0) {
        SS_TRY(hash_file(h, dir, "model.safetensors", 1));
    } else {
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
        if (stat(path, &sb) != 0) {
            st = ss_fail(SS_ERR_IO, "%s: no model.safetensors and no model.safetensors.index.json", dir);
            goto done;
        }
        SS_TRY(ss_st_index_shards(path, &index, &shards, &n_shards));
        SS_TRY(hash_file(h, dir, "model.safetensors.index.json", 1));
        for (size_t i = 0; i < n_shards; i++) SS_TRY(hash_file(h, dir, shards[i], 1));
    }
    ss_sha256_final(h, hex);
    h = NULL;
done:
    if (h) {
        char discard[65];
        ss_sha256_final(h, discard); /* frees the context */
        hex[0] = '\0';
    }
    free(shards);
    json_decref(index);
    return st;
}
