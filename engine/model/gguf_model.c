/* gguf_model.c: a GGUF file as a sinkscope model: configuration, fp32 weights under Hugging Face's names,
 * tokenizer (gguf_model.h). */
#include "gguf_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------------------------ probe */

int ss_gguf_model_is_gguf(const char *path)
{
    struct stat sb;
    if (!path || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[4];
    int ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "GGUF", 4) == 0;
    fclose(f);
    return ok;
}

/* ----------------------------------------------------------------------------------------- config */

/* A hyper-parameter that must be present (v >= 0 after ss_gguf_read_hparams) and within [lo, hi]. */
static ss_status need(const ss_gguf *g, const char *arch, const char *key, int64_t v, int64_t lo, int64_t hi, int *out)
{
    if (v < 0) return ss_fail(SS_ERR_FORMAT, "%s: key '%s.%s' is missing", g->path, arch, key);
    if (v < lo || v > hi)
        return ss_fail(SS_ERR_FORMAT, "%s: key '%s.%s' = %lld is outside [%lld, %lld]", g->path, arch, key,
                       (long long)v, (long long)lo, (long long)hi);
    *out = (int)v;
    return SS_OK;
}

/* A token id key: absent gives -1; present must be in [0, n_vocab). */
static ss_status token_id(const ss_gguf *g, const char *key, int64_t v, int n_vocab, int32_t *out)
{
    *out = -1;
    if (v < 0) return SS_OK;
    if (v >= n_vocab)
        return ss_fail(SS_ERR_FORMAT, "%s: key 'tokenizer.ggml.%s' = %lld is outside the vocabulary [0, %d)", g->path,
                       key, (long long)v, n_vocab);
    *out = (int32_t)v;
    return SS_OK;
}

ss_status ss_gguf_model_config(const ss_gguf *g, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    ss_gguf_hparams hp;
    memset(cfg, 0, sizeof *cfg);
    SS_TRY(ss_gguf_read_hparams(g, &hp));
    const int is_llama = strcmp(hp.arch, "llama") == 0, is_gemma3 = strcmp(hp.arch, "gemma3") == 0;
    if (!is_llama && !is_gemma3) {
        st = ss_fail(SS_ERR_INPUT, "%s: general.architecture '%s' is not supported (supported: llama, gemma3)",
                     g->path, hp.arch);
        goto done;
    }
    ss_model_info *in = &cfg->info;
    const char *a = hp.arch;
    snprintf(in->arch, sizeof in->arch, "%s", a);
    snprintf(in->pos_encoding, sizeof in->pos_encoding, "rope");
    in->causal = 1;
    in->cls_id = in->sep_id = -1;
    SS_TRY(need(g, a, "block_count", hp.n_layers, 1, SS_HF_MAX_LAYERS, &in->n_layers));
    SS_TRY(need(g, a, "embedding_length", hp.d_model, 1, 1 << 16, &in->d_model));
    SS_TRY(need(g, a, "feed_forward_length", hp.d_ff, 1, 1 << 20, &in->d_ff));
    SS_TRY(need(g, a, "attention.head_count", hp.n_heads, 1, 1024, &in->n_heads));
    SS_TRY(need(g, a, "attention.head_count_kv", hp.n_kv_heads, 1, in->n_heads, &in->n_kv_heads));
    SS_TRY(need(g, a, "context_length", hp.n_ctx, 1, 1 << 20, &in->max_positions));
    if (hp.n_vocab < 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: neither '%s.vocab_size' nor 'tokenizer.ggml.tokens' gives the vocabulary",
                     g->path, a);
        goto done;
    }
    SS_TRY(need(g, a, "vocab_size", hp.n_vocab, 1, 1 << 24, &in->n_vocab));
    if (in->n_heads % in->n_kv_heads != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: %s.attention.head_count %d is not a multiple of head_count_kv %d", g->path, a,
                     in->n_heads, in->n_kv_heads);
        goto done;
    }
    SS_TRY(need(g, a, "attention.key_length", hp.d_head_k, 2, 1 << 16, &in->d_head));
    if (hp.d_head_v != hp.d_head_k) {
        st = ss_fail(SS_ERR_FORMAT, "%s: %s.attention.value_length %lld differs from key_length %lld", g->path, a,
                     (long long)hp.d_head_v, (long long)hp.d_head_k);
        goto done;
    }
    if (is_llama && hp.rope_dims_in_file) {
        /* transformers reads rope.dimension_count as head_dim for llama */
        SS_TRY(need(g, a, "rope.dimension_count", hp.rope_dims, 2, 1 << 16, &in->d_head));
    }
    if (in->d_head % 2 != 0 || hp.rope_dims != hp.d_head_k) {
        st = ss_fail(SS_ERR_FORMAT, "%s: %s.rope.dimension_count %lld with a head of %d: only RoPE over the whole "
                     "(even) head is supported", g->path, a, (long long)hp.rope_dims, in->d_head);
        goto done;
    }
    cfg->rope_dims = in->d_head;
    cfg->rope_pairing = SS_ROPE_HALF; /* after ss_gguf_model_weights un-permutes llama's Q/K rows */
    cfg->rope_theta = hp.rope_base > 0 ? hp.rope_base : is_gemma3 ? 1e6 : 10000.0;
    cfg->layer_norm_eps = hp.norm_eps > 0 ? hp.norm_eps : is_gemma3 ? 1e-6 : 1e-5;
    if (is_llama) {
        snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "silu");
    } else {
        snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "gelu_pytorch_tanh");
        SS_TRY(need(g, a, "attention.sliding_window", hp.sliding_window, 1, 1 << 30, &cfg->sliding_window));
        cfg->rope_local_theta = 10000.0;                /* llama.cpp's and HF's gemma3 value; not in the file */
        cfg->query_pre_attn_scalar = (double)in->d_head; /* scale 1/√d_h */
        for (int l = 0; l < in->n_layers; l++) cfg->layer_sliding[l] = (l + 1) % 6 != 0; /* 5 local, 1 global */
    }
    SS_TRY(token_id(g, "bos_token_id", hp.bos_id, in->n_vocab, &in->bos_id));
    SS_TRY(token_id(g, "eos_token_id", hp.eos_id, in->n_vocab, &in->eos_id));
    SS_TRY(token_id(g, "padding_token_id", hp.pad_id, in->n_vocab, &in->pad_id));
    SS_TRY(token_id(g, "unknown_token_id", hp.unk_id, in->n_vocab, &in->unk_id));
    int add_bos = hp.add_bos >= 0 ? hp.add_bos : strcmp(hp.tok_model, "llama") == 0;
    in->default_bos = add_bos && in->bos_id >= 0 ? SS_BOS_ADD : SS_BOS_NONE;
done:
    return st;
}

/* ---------------------------------------------------------------------------------------- weights */

typedef enum { CONV_PLAIN, CONV_UNPERMUTE, CONV_MINUS_ONE } conv_kind;

typedef struct {
    char gguf[64];   /* "blk.3.attn_q.weight" */
    char hf[96];     /* "model.layers.3.self_attn.q_proj.weight" */
    int n_dims;      /* 1 or 2 */
    int64_t d0, d1;  /* GGUF dims, innermost first: d0 = row length (in), d1 = rows (out); 2-D only */
    conv_kind conv;
    int heads;       /* CONV_UNPERMUTE: heads of d1 / heads rows each */
} wspec;

static void spec(wspec *w, const char *gguf, const char *hf, int n_dims, int64_t d0, int64_t d1, conv_kind conv,
                 int heads)
{
    snprintf(w->gguf, sizeof w->gguf, "%s", gguf);
    snprintf(w->hf, sizeof w->hf, "%s", hf);
    w->n_dims = n_dims;
    w->d0 = d0;
    w->d1 = d1;
    w->conv = conv;
    w->heads = heads;
}

/* The tensors an architecture binds, GGUF name -> HF name. specs has room for 2 + 13·L entries. */
static int build_specs(const ss_hfconfig *cfg, wspec *specs)
{
    const ss_model_info *in = &cfg->info;
    const int64_t d = in->d_model, dff = in->d_ff, dh = in->d_head, nq = (int64_t)in->n_heads * dh,
                  nkv = (int64_t)in->n_kv_heads * dh;
    const int gemma = strcmp(in->arch, "gemma3") == 0;
    const conv_kind nrm = gemma ? CONV_MINUS_ONE : CONV_PLAIN;
    int n = 0;
    spec(&specs[n++], "token_embd.weight", "model.embed_tokens.weight", 2, d, in->n_vocab, CONV_PLAIN, 0);
    for (int l = 0; l < in->n_layers; l++) {
        char g[64], h[96];
#define W(gs, hs, nd, a, b, conv, heads)                                                                               \
    do {                                                                                                               \
        snprintf(g, sizeof g, "blk.%d.%s.weight", l, gs);                                                              \
        snprintf(h, sizeof h, "model.layers.%d.%s.weight", l, hs);                                                     \
        spec(&specs[n++], g, h, nd, a, b, conv, heads);                                                                \
    } while (0)
        W("attn_norm", "input_layernorm", 1, d, 1, nrm, 0);
        if (gemma) {
            W("attn_q", "self_attn.q_proj", 2, d, nq, CONV_PLAIN, 0);
            W("attn_k", "self_attn.k_proj", 2, d, nkv, CONV_PLAIN, 0);
            W("attn_q_norm", "self_attn.q_norm", 1, dh, 1, nrm, 0);
            W("attn_k_norm", "self_attn.k_norm", 1, dh, 1, nrm, 0);
        } else {
            W("attn_q", "self_attn.q_proj", 2, d, nq, CONV_UNPERMUTE, in->n_heads);
            W("attn_k", "self_attn.k_proj", 2, d, nkv, CONV_UNPERMUTE, in->n_kv_heads);
        }
        W("attn_v", "self_attn.v_proj", 2, d, nkv, CONV_PLAIN, 0);
        W("attn_output", "self_attn.o_proj", 2, nq, d, CONV_PLAIN, 0);
        if (gemma) {
            W("post_attention_norm", "post_attention_layernorm", 1, d, 1, nrm, 0);
            W("ffn_norm", "pre_feedforward_layernorm", 1, d, 1, nrm, 0);
            W("post_ffw_norm", "post_feedforward_layernorm", 1, d, 1, nrm, 0);
        } else {
            W("ffn_norm", "post_attention_layernorm", 1, d, 1, nrm, 0);
        }
        W("ffn_gate", "mlp.gate_proj", 2, d, dff, CONV_PLAIN, 0);
        W("ffn_up", "mlp.up_proj", 2, d, dff, CONV_PLAIN, 0);
        W("ffn_down", "mlp.down_proj", 2, dff, d, CONV_PLAIN, 0);
#undef W
    }
    spec(&specs[n++], "output_norm.weight", "model.norm.weight", 1, d, 1, nrm, 0);
    return n;
}

static int cmp_tensor(const void *a, const void *b)
{
    return strcmp(((const ss_st_tensor *)a)->name, ((const ss_st_tensor *)b)->name);
}

void ss_gguf_model_free_names(char **names, const char **types, int n)
{
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
    free((void *)types);
}

/* Dequantizes one tensor into dst [d1][d0] with its conversion. tmp: [d1][d0] scratch for un-permuting. */
static ss_status convert(const ss_gguf *g, const wspec *w, float *dst, float *tmp)
{
    ss_status st = SS_OK;
    const int64_t dims[2] = {w->d0, w->d1};
    const size_t n = (size_t)w->d0 * (size_t)w->d1;
    if (w->conv != CONV_UNPERMUTE) {
        SS_TRY(ss_gguf_load_f32(g, w->gguf, w->n_dims, dims, dst));
        if (w->conv == CONV_MINUS_ONE)
            for (size_t i = 0; i < n; i++) dst[i] = dst[i] - 1.0f; /* fp32, as transformers' numpy does */
        return SS_OK;
    }
    SS_TRY(ss_gguf_load_f32(g, w->gguf, w->n_dims, dims, tmp));
    const int64_t rows_per_head = w->d1 / w->heads, half = rows_per_head / 2;
    if (rows_per_head * w->heads != w->d1 || 2 * half != rows_per_head) {
        st = ss_fail(SS_ERR_FORMAT, "%s: tensor '%s' has %lld rows, not %d heads of an even size", g->path, w->gguf,
                     (long long)w->d1, w->heads);
        goto done;
    }
    /* HF row h·d_h + p·d_h/2 + i  <-  GGUF row h·d_h + 2i + p */
    for (int64_t h = 0; h < w->heads; h++)
        for (int64_t p = 0; p < 2; p++)
            for (int64_t i = 0; i < half; i++)
                memcpy(dst + (size_t)(h * rows_per_head + p * half + i) * (size_t)w->d0,
                       tmp + (size_t)(h * rows_per_head + 2 * i + p) * (size_t)w->d0, (size_t)w->d0 * sizeof(float));
done:
    return st;
}

ss_status ss_gguf_model_weights(const ss_gguf *g, const ss_hfconfig *cfg, ss_safetensors **sf_out, float **arena_out,
                                char ***names_out, const char ***types_out, int *n_out)
{
    ss_status st = SS_OK;
    *sf_out = NULL;
    *arena_out = NULL;
    *names_out = NULL;
    *types_out = NULL;
    *n_out = 0;
    const int L = cfg->info.n_layers;
    wspec *specs = calloc((size_t)(2 + 13 * L), sizeof *specs);
    ss_safetensors *sf = calloc(1, sizeof *sf);
    float *arena = NULL, *tmp = NULL;
    char **names = NULL;
    const char **types = NULL;
    int n = 0;
    if (!specs || !sf) goto nomem;
    n = build_specs(cfg, specs);

    /* biases are not mapped: refuse a file that has them rather than ignore them */
    static const char *const biases[] = {"blk.0.attn_q.bias", "blk.0.attn_k.bias", "blk.0.attn_v.bias",
                                         "blk.0.attn_output.bias"};
    for (size_t i = 0; i < sizeof biases / sizeof biases[0]; i++)
        if (ss_gguf_find_tensor(g, biases[i])) {
            st = ss_fail(SS_ERR_INPUT, "%s: tensor '%s': attention biases are not supported", g->path, biases[i]);
            goto done;
        }

    size_t total = 0, largest = 0;
    for (int i = 0; i < n; i++) {
        const size_t e = (size_t)specs[i].d0 * (size_t)specs[i].d1;
        total += e;
        if (specs[i].conv == CONV_UNPERMUTE && e > largest) largest = e;
    }
    arena = malloc((total ? total : 1) * sizeof *arena); /* every weight, fp32 */
    tmp = malloc((largest ? largest : 1) * sizeof *tmp);   /* [d1][d0] of the largest un-permuted tensor */
    sf->files = calloc(1, sizeof *sf->files);
    sf->tensors = calloc((size_t)n, sizeof *sf->tensors);
    names = calloc((size_t)n, sizeof *names);
    types = calloc((size_t)n, sizeof *types);
    if (!arena || !tmp || !sf->files || !sf->tensors || !names || !types) goto nomem;
    sf->n_files = 1;
    if (!(sf->files[0].path = strdup(g->path))) goto nomem;

    size_t off = 0;
    for (int i = 0; i < n; i++) {
        const wspec *w = &specs[i];
        const size_t e = (size_t)w->d0 * (size_t)w->d1;
        SS_TRY(convert(g, w, arena + off, tmp));
        ss_st_tensor *t = &sf->tensors[i];
        if (!(t->name = strdup(w->hf)) || !(names[i] = strdup(w->gguf))) goto nomem;
        sf->n_tensors = i + 1;
        types[i] = ss_ggml_type_name(ss_gguf_find_tensor(g, w->gguf)->type);
        t->dtype = SS_DT_F32;
        t->n_dims = w->n_dims;
        if (w->n_dims == 2) {
            t->shape[0] = w->d1; /* [out][in], as Hugging Face stores it */
            t->shape[1] = w->d0;
        } else {
            t->shape[0] = w->d0;
        }
        t->n_elems = e;
        t->begin = off * sizeof(float);
        t->end = (off + e) * sizeof(float);
        t->data = (const uint8_t *)(arena + off);
        t->file = 0;
        off += e;
    }
    qsort(sf->tensors, (size_t)n, sizeof *sf->tensors, cmp_tensor);
    *sf_out = sf;
    *arena_out = arena;
    *names_out = names;
    *types_out = types;
    *n_out = n;
    sf = NULL;
    arena = NULL;
    names = NULL;
    types = NULL;
    goto done;
nomem:
    st = ss_fail(SS_ERR_NOMEM, "%s: out of memory converting the weights to fp32", g->path);
done:
    ss_st_free(sf);
    free(arena);
    free(tmp);
    ss_gguf_model_free_names(names, types, n);
    free(specs);
    return st;
}

/* -------------------------------------------------------------------------------------- tokenizer */

/* NUL-terminated copies of a GGUF string array; a string holding a NUL is an error naming the key. */
static ss_status copy_strings(const ss_gguf *g, const char *key, const ss_gguf_str *items, uint64_t n, char ***out)
{
    char **v = calloc(n ? n : 1, sizeof *v);
    *out = v;
    if (!v) return ss_fail(SS_ERR_NOMEM, "%s: out of memory reading '%s'", g->path, key);
    for (uint64_t i = 0; i < n; i++) {
        if (memchr(items[i].ptr, '\0', items[i].len))
            return ss_fail(SS_ERR_FORMAT, "%s: '%s' entry %llu holds a NUL byte", g->path, key, (unsigned long long)i);
        if (!(v[i] = malloc(items[i].len + 1)))
            return ss_fail(SS_ERR_NOMEM, "%s: out of memory reading '%s'", g->path, key);
        memcpy(v[i], items[i].ptr, items[i].len);
        v[i][items[i].len] = '\0';
    }
    return SS_OK;
}

static void free_strings(char **v, uint64_t n)
{
    for (uint64_t i = 0; v && i < n; i++) free(v[i]);
    free(v);
}

ss_status ss_gguf_model_tokenizer(const ss_gguf *g, ss_tokenizer **out)
{
    ss_status st = SS_OK;
    const char *model = NULL, *pre = NULL;
    const ss_gguf_str *toks = NULL, *mrg = NULL;
    const ss_gguf_kv *types_kv = NULL, *scores_kv = NULL;
    uint64_t n_tok = 0, n_mrg = 0, n_types = 0, n_scores = 0;
    char **tokens = NULL, **merges = NULL;
    int32_t *types = NULL;
    float *scores = NULL;
    const char **pieces = NULL;
    uint64_t *lens = NULL;
    *out = NULL;
    if (!ss_gguf_get_str(g, "tokenizer.ggml.model", &model))
        return ss_fail(SS_ERR_FORMAT, "%s: key 'tokenizer.ggml.model' is missing or not a string", g->path);
    if (!ss_gguf_get_str_array(g, "tokenizer.ggml.tokens", &toks, &n_tok) || n_tok == 0 || n_tok > (1u << 24))
        return ss_fail(SS_ERR_FORMAT, "%s: key 'tokenizer.ggml.tokens' is missing or not 1..2^24 strings", g->path);
    if (ss_gguf_get_int_array(g, "tokenizer.ggml.token_type", &types_kv, &n_types)) {
        if (n_types != n_tok)
            return ss_fail(SS_ERR_FORMAT, "%s: 'tokenizer.ggml.token_type' has %llu entries for %llu tokens", g->path,
                           (unsigned long long)n_types, (unsigned long long)n_tok);
        if (!(types = malloc(n_tok * sizeof *types))) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", g->path);
        for (uint64_t i = 0; i < n_tok; i++) {
            int64_t v = 0;
            if (!ss_gguf_arr_int(types_kv, i, &v) || v < 0 || v > 6) {
                st = ss_fail(SS_ERR_FORMAT, "%s: 'tokenizer.ggml.token_type' entry %llu is not a token type 0..6",
                             g->path, (unsigned long long)i);
                goto done;
            }
            types[i] = (int32_t)v;
        }
    }
    if (strcmp(model, "gpt2") == 0) {
        if (!ss_gguf_get_str_array(g, "tokenizer.ggml.merges", &mrg, &n_mrg) || n_mrg > (1u << 24)) {
            st = ss_fail(SS_ERR_FORMAT, "%s: key 'tokenizer.ggml.merges' is missing or not a list of strings", g->path);
            goto done;
        }
        if (!ss_gguf_get_str(g, "tokenizer.ggml.pre", &pre)) pre = "gpt2";
        SS_TRY(copy_strings(g, "tokenizer.ggml.tokens", toks, n_tok, &tokens));
        SS_TRY(copy_strings(g, "tokenizer.ggml.merges", mrg, n_mrg, &merges));
        if ((st = ss_tokenizer_from_bpe((const char *const *)tokens, (int)n_tok, (const char *const *)merges,
                                        (int)n_mrg, types, pre, out)) != SS_OK)
            ss_wrap(st, "%s: the BPE tokenizer (tokenizer.ggml.pre '%s')", g->path, pre);
    } else if (strcmp(model, "llama") == 0) {
        int64_t unk = -1;
        if (!ss_gguf_get_int(g, "tokenizer.ggml.unknown_token_id", &unk) || unk < 0 || (uint64_t)unk >= n_tok) {
            st = ss_fail(SS_ERR_FORMAT, "%s: key 'tokenizer.ggml.unknown_token_id' is missing or not a token id",
                         g->path);
            goto done;
        }
        if (!ss_gguf_get_float_array(g, "tokenizer.ggml.scores", &scores_kv, &n_scores) || n_scores != n_tok) {
            st = ss_fail(SS_ERR_FORMAT, "%s: key 'tokenizer.ggml.scores' is missing or not one number per token",
                         g->path);
            goto done;
        }
        scores = malloc(n_tok * sizeof *scores);
        pieces = malloc(n_tok * sizeof *pieces);
        lens = malloc(n_tok * sizeof *lens);
        if (!scores || !pieces || !lens) {
            st = ss_fail(SS_ERR_NOMEM, "%s: out of memory reading the vocabulary", g->path);
            goto done;
        }
        for (uint64_t i = 0; i < n_tok; i++) {
            double sc = 0.0;
            ss_gguf_arr_float(scores_kv, i, &sc);
            scores[i] = (float)sc;
            pieces[i] = toks[i].ptr;
            lens[i] = toks[i].len;
        }
        if ((st = ss_tokenizer_from_unigram(pieces, lens, scores, types, (int)n_tok, (int32_t)unk, out)) != SS_OK)
            ss_wrap(st, "%s: the Unigram tokenizer", g->path);
    } else {
        st = ss_fail(SS_ERR_INPUT, "%s: tokenizer.ggml.model '%s' is not supported (supported: gpt2, llama)", g->path,
                     model);
    }
done:
    free_strings(tokens, n_tok);
    free_strings(merges, n_mrg);
    free(types);
    free(scores);
    free(pieces);
    free(lens);
    return st;
}
