/* export.c: ss_tr_export, a trained model -> config.json + model.safetensors + tokenizer.json (see export.h for
 * the mapping of each positional encoding onto gpt2, gpt_neox or bloom). */
#include "export.h"

#include <errno.h>
#include <jansson.h> /* config.json, tokenizer.json, metadata_json */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h> /* mkdir */
#include <unistd.h>   /* fsync, unlink */

#include "../fsutil.h"          /* ss_path_join */
#include "../model/safetensors.h" /* ss_st_write */
#include "../model/tokenizer.h"   /* ss_bpe_byte_symbol */

#define BOS_TOKEN "<|endoftext|>"

const char *ss_tr_posenc_name(ss_tr_posenc pe)
{
    static const char *const names[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
    return (unsigned)pe < sizeof names / sizeof names[0] ? names[pe] : "?";
}

/* ------------------------------------------------------------------------------------------ tensors */

/* The tensors of model.safetensors: views of the trainer's arrays, or buffers owned here (transposed, fused). */
typedef struct {
    int n, cap;
    char **names;        /* [cap] */
    int *n_dims;         /* [cap] 1 or 2 */
    int64_t (*dims)[2];  /* [cap] */
    const int64_t **shapes; /* [cap] -> dims[i] */
    const float **data;  /* [cap] */
    float **owned;       /* [cap] NULL for views */
} tlist;

static void tlist_free(tlist *t)
{
    for (int i = 0; i < t->n; i++) {
        free(t->names[i]);
        free(t->owned[i]);
    }
    free(t->names);
    free(t->n_dims);
    free(t->dims);
    free(t->shapes);
    free(t->data);
    free(t->owned);
    memset(t, 0, sizeof *t);
}

/* Appends tensor name of shape [d0] (d1 = 0) or [d0][d1]: a view of src, or (src NULL) a zeroed buffer owned
 * here, returned in *buf. */
static ss_status tlist_add(tlist *t, const char *name, int64_t d0, int64_t d1, const float *src, float **buf)
{
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        char **nn = realloc(t->names, (size_t)cap * sizeof *nn);
        if (nn) t->names = nn;
        int *nd = realloc(t->n_dims, (size_t)cap * sizeof *nd);
        if (nd) t->n_dims = nd;
        int64_t(*dd)[2] = realloc(t->dims, (size_t)cap * sizeof *dd);
        if (dd) t->dims = dd;
        const int64_t **ss = realloc(t->shapes, (size_t)cap * sizeof *ss);
        if (ss) t->shapes = ss;
        const float **da = realloc(t->data, (size_t)cap * sizeof *da);
        if (da) t->data = da;
        float **ow = realloc(t->owned, (size_t)cap * sizeof *ow);
        if (ow) t->owned = ow;
        if (!nn || !nd || !dd || !ss || !da || !ow) return ss_fail(SS_ERR_NOMEM, "export: out of memory");
        t->cap = cap;
        for (int i = 0; i < t->n; i++) t->shapes[i] = t->dims[i]; /* dims may have moved */
    }
    int i = t->n;
    t->names[i] = strdup(name);
    t->owned[i] = NULL;
    if (!t->names[i]) return ss_fail(SS_ERR_NOMEM, "export: out of memory");
    t->n++;
    t->n_dims[i] = d1 > 0 ? 2 : 1;
    t->dims[i][0] = d0;
    t->dims[i][1] = d1;
    t->shapes[i] = t->dims[i];
    if (!src) {
        size_t n = (size_t)d0 * (size_t)(d1 > 0 ? d1 : 1);
        t->owned[i] = calloc(n ? n : 1, sizeof(float));
        if (!t->owned[i]) return ss_fail(SS_ERR_NOMEM, "export: out of memory for '%s'", name);
        src = t->owned[i];
        *buf = t->owned[i];
    }
    t->data[i] = src;
    return SS_OK;
}

/* A view: name = src, shape [d0] or [d0][d1]. */
static ss_status view(tlist *t, const char *name, int64_t d0, int64_t d1, const float *src)
{
    return tlist_add(t, name, d0, d1, src, NULL);
}

/* An owned buffer of shape [d0] or [d0][d1], zeroed. */
static ss_status owned(tlist *t, const char *name, int64_t d0, int64_t d1, float **buf)
{
    return tlist_add(t, name, d0, d1, NULL, buf);
}

/* dst [c][r] = src [r][c]ᵀ. */
static void transpose(float *dst, const float *src, int r, int c)
{
    for (int i = 0; i < r; i++)
        for (int j = 0; j < c; j++) dst[(size_t)j * r + i] = src[(size_t)i * c + j];
}

/* GPT-NeoX / BLOOM fused query_key_value, rows per head: w [H][3][d_h][d] from wq, wk, wv [d][d] (nn.Linear),
 * b [H][3][d_h] from bq, bk, bv [d]. */
static void fuse_per_head(float *w, float *b, const ss_tr_export_layer *ly, int H, int d_h, int d)
{
    const float *ws[3] = {ly->wq, ly->wk, ly->wv}, *bs[3] = {ly->bq, ly->bk, ly->bv};
    for (int h = 0; h < H; h++)
        for (int p = 0; p < 3; p++)
            for (int c = 0; c < d_h; c++) {
                size_t row = ((size_t)h * 3 + (size_t)p) * d_h + c, src = (size_t)h * d_h + c;
                memcpy(w + row * d, ws[p] + src * d, (size_t)d * sizeof(float));
                b[row] = bs[p][src];
            }
}

/* gpt2 (GPT2LMHeadModel): Conv1D weights [in][out]. */
static ss_status tensors_gpt2(tlist *t, const ss_tr_export_model *m)
{
    ss_status st = SS_OK;
    const int d = m->d_model, dff = m->d_ff;
    char n[128];
    float *buf;
    SS_TRY(view(t, "transformer.wte.weight", m->n_vocab, d, m->wte));
    SS_TRY(view(t, "transformer.wpe.weight", m->n_ctx, d, m->wpe));
    if (!m->post_ln) {
        SS_TRY(view(t, "transformer.ln_f.weight", d, 0, m->lnf_g));
        SS_TRY(view(t, "transformer.ln_f.bias", d, 0, m->lnf_b));
    }
    for (int l = 0; l < m->n_layers; l++) {
        const ss_tr_export_layer *ly = &m->layers[l];
#define NAME(suffix) (snprintf(n, sizeof n, "transformer.h.%d.%s", l, suffix), n)
        SS_TRY(view(t, NAME("ln_1.weight"), d, 0, ly->ln1_g));
        SS_TRY(view(t, NAME("ln_1.bias"), d, 0, ly->ln1_b));
        SS_TRY(view(t, NAME("ln_2.weight"), d, 0, ly->ln2_g));
        SS_TRY(view(t, NAME("ln_2.bias"), d, 0, ly->ln2_b));
        SS_TRY(owned(t, NAME("attn.c_attn.weight"), d, 3 * d, &buf)); /* [d][3d]: x·W = [q | k | v] */
        const float *w3[3] = {ly->wq, ly->wk, ly->wv}, *b3[3] = {ly->bq, ly->bk, ly->bv};
        for (int i = 0; i < d; i++)
            for (int p = 0; p < 3; p++)
                for (int j = 0; j < d; j++) buf[(size_t)i * 3 * d + (size_t)p * d + j] = w3[p][(size_t)j * d + i];
        SS_TRY(owned(t, NAME("attn.c_attn.bias"), 3 * d, 0, &buf));
        for (int p = 0; p < 3; p++) memcpy(buf + (size_t)p * d, b3[p], (size_t)d * sizeof(float));
        SS_TRY(owned(t, NAME("attn.c_proj.weight"), d, d, &buf));
        transpose(buf, ly->wo, d, d);
        SS_TRY(view(t, NAME("attn.c_proj.bias"), d, 0, ly->bo));
        SS_TRY(owned(t, NAME("mlp.c_fc.weight"), d, dff, &buf)); /* [d][d_ff] */
        transpose(buf, ly->w_fc, dff, d);
        SS_TRY(view(t, NAME("mlp.c_fc.bias"), dff, 0, ly->b_fc));
        SS_TRY(owned(t, NAME("mlp.c_proj.weight"), dff, d, &buf)); /* [d_ff][d] */
        transpose(buf, ly->w_proj, d, dff);
        SS_TRY(view(t, NAME("mlp.c_proj.bias"), d, 0, ly->b_proj));
#undef NAME
    }
done:
    return st;
}

/* gpt_neox (GPTNeoXForCausalLM) and bloom (BloomForCausalLM): nn.Linear weights, per-head fused qkv. */
static ss_status tensors_fused(tlist *t, const ss_tr_export_model *m, int bloom)
{
    ss_status st = SS_OK;
    const int d = m->d_model, dff = m->d_ff, H = m->n_heads, d_h = d / H;
    const char *pfx = bloom ? "transformer." : "gpt_neox.";
    char n[160];
    float *w, *b;
#define NAME(fmt, ...) (snprintf(n, sizeof n, "%s" fmt, pfx, __VA_ARGS__), n)
    if (bloom) {
        SS_TRY(view(t, NAME("%s", "word_embeddings.weight"), m->n_vocab, d, m->wte));
        SS_TRY(view(t, NAME("%s", "word_embeddings_layernorm.weight"), d, 0, m->emb_ln_g));
        SS_TRY(view(t, NAME("%s", "word_embeddings_layernorm.bias"), d, 0, m->emb_ln_b));
    } else {
        SS_TRY(view(t, NAME("%s", "embed_in.weight"), m->n_vocab, d, m->wte));
        SS_TRY(view(t, "embed_out.weight", m->n_vocab, d, m->wte)); /* the untied head, a copy of wte */
    }
    if (!m->post_ln) {
        const char *lnf = bloom ? "ln_f" : "final_layer_norm";
        SS_TRY(view(t, NAME("%s.weight", lnf), d, 0, m->lnf_g));
        SS_TRY(view(t, NAME("%s.bias", lnf), d, 0, m->lnf_b));
    }
    const char *layers = bloom ? "h" : "layers", *attn = bloom ? "self_attention" : "attention";
    for (int l = 0; l < m->n_layers; l++) {
        const ss_tr_export_layer *ly = &m->layers[l];
        SS_TRY(view(t, NAME("%s.%d.input_layernorm.weight", layers, l), d, 0, ly->ln1_g));
        SS_TRY(view(t, NAME("%s.%d.input_layernorm.bias", layers, l), d, 0, ly->ln1_b));
        SS_TRY(owned(t, NAME("%s.%d.%s.query_key_value.weight", layers, l, attn), 3 * d, d, &w));
        SS_TRY(owned(t, NAME("%s.%d.%s.query_key_value.bias", layers, l, attn), 3 * d, 0, &b));
        fuse_per_head(w, b, ly, H, d_h, d);
        SS_TRY(view(t, NAME("%s.%d.%s.dense.weight", layers, l, attn), d, d, ly->wo));
        SS_TRY(view(t, NAME("%s.%d.%s.dense.bias", layers, l, attn), d, 0, ly->bo));
        SS_TRY(view(t, NAME("%s.%d.post_attention_layernorm.weight", layers, l), d, 0, ly->ln2_g));
        SS_TRY(view(t, NAME("%s.%d.post_attention_layernorm.bias", layers, l), d, 0, ly->ln2_b));
        SS_TRY(view(t, NAME("%s.%d.mlp.dense_h_to_4h.weight", layers, l), dff, d, ly->w_fc));
        SS_TRY(view(t, NAME("%s.%d.mlp.dense_h_to_4h.bias", layers, l), dff, 0, ly->b_fc));
        SS_TRY(view(t, NAME("%s.%d.mlp.dense_4h_to_h.weight", layers, l), d, dff, ly->w_proj));
        SS_TRY(view(t, NAME("%s.%d.mlp.dense_4h_to_h.bias", layers, l), d, 0, ly->b_proj));
    }
#undef NAME
done:
    return st;
}

/* ------------------------------------------------------------------------------------------ checks */

static ss_status check_model(const char *dir, const ss_tr_export_model *m)
{
    if (m->n_layers < 1 || m->d_model < 1 || m->n_heads < 1 || m->d_ff < 1 || m->n_ctx < 1)
        return ss_fail(SS_ERR_INPUT, "export %s: n_layers, d_model, n_heads, d_ff and n_ctx must be positive", dir);
    if (m->d_model % m->n_heads != 0)
        return ss_fail(SS_ERR_INPUT, "export %s: d_model %d is not a multiple of n_heads %d", dir, m->d_model,
                       m->n_heads);
    if ((unsigned)m->pe > SS_TR_PE_NONE) return ss_fail(SS_ERR_INPUT, "export %s: unknown positional encoding %d", dir, m->pe);
    if (m->bos_id != -1 && m->bos_id != 256)
        return ss_fail(SS_ERR_INPUT, "export %s: bos_id is %d; the byte vocabulary has it at 256 (or -1: none)", dir,
                       m->bos_id);
    int want_vocab = m->bos_id >= 0 ? 257 : 256;
    if (m->n_vocab != want_vocab)
        return ss_fail(SS_ERR_INPUT, "export %s: n_vocab is %d; the byte vocabulary %s BOS has %d", dir, m->n_vocab,
                       m->bos_id >= 0 ? "with" : "without", want_vocab);
    if (!(m->ln_eps > 0.0f)) return ss_fail(SS_ERR_INPUT, "export %s: ln_eps must be positive", dir);
    if (m->pe == SS_TR_PE_ALIBI && m->d_ff != 4 * m->d_model)
        return ss_fail(SS_ERR_UNSUPPORTED, "export %s: alibi is exported as bloom, whose MLP is 4·d_model = %d wide; d_ff is %d",
                       dir, 4 * m->d_model, m->d_ff);
    if (m->pe == SS_TR_PE_ROPE && (m->d_model / m->n_heads) % 2 != 0)
        return ss_fail(SS_ERR_INPUT, "export %s: rope needs an even head size (d_head %d)", dir, m->d_model / m->n_heads);
    if (!m->wte || !m->layers) return ss_fail(SS_ERR_INPUT, "export %s: wte or layers is NULL", dir);
    if ((m->pe == SS_TR_PE_LEARNED || m->pe == SS_TR_PE_SINUSOIDAL) && !m->wpe)
        return ss_fail(SS_ERR_INPUT, "export %s: %s positions need wpe", dir, ss_tr_posenc_name(m->pe));
    if (m->pe == SS_TR_PE_ALIBI && (!m->emb_ln_g || !m->emb_ln_b))
        return ss_fail(SS_ERR_INPUT, "export %s: alibi (bloom) needs the embedding LayerNorm emb_ln_g, emb_ln_b", dir);
    if (!m->post_ln && (!m->lnf_g || !m->lnf_b))
        return ss_fail(SS_ERR_INPUT, "export %s: a pre-LN model needs the final LayerNorm lnf_g, lnf_b", dir);
    for (int l = 0; l < m->n_layers; l++) {
        const ss_tr_export_layer *y = &m->layers[l];
        const float *p[] = {y->ln1_g, y->ln1_b, y->wq, y->bq, y->wk, y->bk, y->wv, y->bv, y->wo,
                            y->bo, y->ln2_g, y->ln2_b, y->w_fc, y->b_fc, y->w_proj, y->b_proj};
        for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
            if (!p[i]) return ss_fail(SS_ERR_INPUT, "export %s: layer %d has a NULL tensor (field %zu)", dir, l, i);
    }
    return SS_OK;
}

/* ------------------------------------------------------------------------------------------ JSON files */

/* Sets key to a new value; any failure (out of memory) turns *ok to 0. */
static void put(json_t *o, const char *key, json_t *v, int *ok)
{
    if (!v || json_object_set_new(o, key, v) != 0) *ok = 0;
}

/* A float as the shortest decimal that reads back as the same float (1e-05, not 9.9999997473787516e-06). */
static json_t *json_float(float x)
{
    char buf[32];
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)x);
        if (strtof(buf, NULL) == x) break;
    }
    return json_real(strtod(buf, NULL));
}

static json_t *token_or_null(int id) { return id >= 0 ? json_integer(id) : json_null(); }

static ss_status build_config(const char *dir, const ss_tr_export_model *m, json_t **out)
{
    ss_status st = SS_OK;
    int ok = 1;
    json_t *c = json_object(), *meta = NULL;
    *out = NULL;
    if (!c) return ss_fail(SS_ERR_NOMEM, "export %s: out of memory", dir);
    if (m->metadata_json) {
        json_error_t jerr;
        meta = json_loads(m->metadata_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(meta)) {
            st = ss_fail(SS_ERR_INPUT, "export %s: metadata_json is not a JSON object%s%s", dir, meta ? "" : ": ",
                         meta ? "" : jerr.text);
            goto done;
        }
    }
    const int d = m->d_model;
    switch (m->pe) {
    case SS_TR_PE_LEARNED:
    case SS_TR_PE_SINUSOIDAL:
        put(c, "model_type", json_string("gpt2"), &ok);
        put(c, "architectures", json_pack("[s]", "GPT2LMHeadModel"), &ok);
        put(c, "n_embd", json_integer(d), &ok);
        put(c, "n_layer", json_integer(m->n_layers), &ok);
        put(c, "n_head", json_integer(m->n_heads), &ok);
        put(c, "n_inner", json_integer(m->d_ff), &ok);
        put(c, "n_positions", json_integer(m->n_ctx), &ok);
        put(c, "n_ctx", json_integer(m->n_ctx), &ok);
        put(c, "activation_function", json_string("gelu_new"), &ok);
        put(c, "layer_norm_epsilon", json_float(m->ln_eps), &ok);
        put(c, "scale_attn_weights", json_true(), &ok);
        put(c, "scale_attn_by_inverse_layer_idx", json_false(), &ok);
        put(c, "reorder_and_upcast_attn", json_false(), &ok);
        put(c, "resid_pdrop", json_real(0.0), &ok);
        put(c, "embd_pdrop", json_real(0.0), &ok);
        put(c, "attn_pdrop", json_real(0.0), &ok);
        put(c, "tie_word_embeddings", json_true(), &ok);
        break;
    case SS_TR_PE_ROPE:
    case SS_TR_PE_NONE:
        put(c, "model_type", json_string("gpt_neox"), &ok);
        put(c, "architectures", json_pack("[s]", "GPTNeoXForCausalLM"), &ok);
        put(c, "hidden_size", json_integer(d), &ok);
        put(c, "num_hidden_layers", json_integer(m->n_layers), &ok);
        put(c, "num_attention_heads", json_integer(m->n_heads), &ok);
        put(c, "intermediate_size", json_integer(m->d_ff), &ok);
        put(c, "max_position_embeddings", json_integer(m->n_ctx), &ok);
        put(c, "hidden_act", json_string("gelu_new"), &ok);
        put(c, "rotary_pct", json_real(m->pe == SS_TR_PE_ROPE ? 1.0 : 0.0), &ok);
        put(c, "rotary_emb_base", json_integer(10000), &ok);
        put(c, "layer_norm_eps", json_float(m->ln_eps), &ok);
        put(c, "use_parallel_residual", json_false(), &ok);
        put(c, "attention_bias", json_true(), &ok);
        put(c, "attention_dropout", json_real(0.0), &ok);
        put(c, "hidden_dropout", json_real(0.0), &ok);
        put(c, "tie_word_embeddings", json_false(), &ok);
        break;
    case SS_TR_PE_ALIBI:
        put(c, "model_type", json_string("bloom"), &ok);
        put(c, "architectures", json_pack("[s]", "BloomForCausalLM"), &ok);
        put(c, "hidden_size", json_integer(d), &ok);
        put(c, "n_layer", json_integer(m->n_layers), &ok);
        put(c, "n_head", json_integer(m->n_heads), &ok);
        put(c, "seq_length", json_integer(m->n_ctx), &ok);
        put(c, "layer_norm_epsilon", json_float(m->ln_eps), &ok);
        put(c, "apply_residual_connection_post_layernorm", json_false(), &ok);
        put(c, "hidden_dropout", json_real(0.0), &ok);
        put(c, "attention_dropout", json_real(0.0), &ok);
        put(c, "tie_word_embeddings", json_true(), &ok);
        break;
    }
    if (m->post_ln) put(c, "sinkscope_post_ln", json_true(), &ok); /* sinkscope's extension (hfconfig.h) */
    put(c, "vocab_size", json_integer(m->n_vocab), &ok);
    put(c, "bos_token_id", token_or_null(m->bos_id), &ok);
    put(c, "eos_token_id", token_or_null(m->bos_id), &ok);
    put(c, "torch_dtype", json_string("float32"), &ok);
    put(c, "sinkscope_positional_encoding", json_string(ss_tr_posenc_name(m->pe)), &ok); /* informative only */
    if (meta) {
        put(c, "sinkscope_train", meta, &ok);
        meta = NULL;
    }
    if (!ok) {
        st = ss_fail(SS_ERR_NOMEM, "export %s: out of memory building config.json", dir);
        goto done;
    }
    *out = c;
    c = NULL;
done:
    json_decref(meta);
    json_decref(c);
    return st;
}

static ss_status build_tokenizer(const char *dir, const ss_tr_export_model *m, json_t **out)
{
    int ok = 1;
    json_t *t = json_object(), *vocab = json_object(), *added = json_array();
    *out = NULL;
    if (!t || !vocab || !added) ok = 0;
    for (int b = 0; ok && b < 256; b++) {
        char sym[3];
        ss_bpe_byte_symbol((unsigned char)b, sym);
        put(vocab, sym, json_integer(b), &ok);
    }
    if (ok && m->bos_id >= 0 &&
        json_array_append_new(added, json_pack("{s:i, s:s, s:b, s:b, s:b, s:b, s:b}", "id", m->bos_id, "content",
                                               BOS_TOKEN, "single_word", 0, "lstrip", 0, "rstrip", 0, "normalized", 0,
                                               "special", 1)) != 0)
        ok = 0;
    if (ok) {
        put(t, "version", json_string("1.0"), &ok);
        put(t, "truncation", json_null(), &ok);
        put(t, "padding", json_null(), &ok);
        put(t, "added_tokens", added, &ok);
        added = NULL;
        put(t, "normalizer", json_null(), &ok);
        put(t, "pre_tokenizer",
            json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1,
                      "use_regex", 1),
            &ok);
        put(t, "post_processor",
            json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 0,
                      "use_regex", 1),
            &ok);
        put(t, "decoder",
            json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1,
                      "use_regex", 1),
            &ok);
        put(t, "model",
            json_pack("{s:s, s:n, s:n, s:s, s:s, s:b, s:b, s:b, s:o, s:[]}", "type", "BPE", "dropout", "unk_token",
                      "continuing_subword_prefix", "", "end_of_word_suffix", "", "fuse_unk", 0, "byte_fallback", 0,
                      "ignore_merges", 0, "vocab", vocab, "merges"),
            &ok);
        vocab = NULL; /* stolen by json_pack's "o" */
    }
    json_decref(vocab);
    json_decref(added);
    if (!ok) {
        json_decref(t);
        return ss_fail(SS_ERR_NOMEM, "export %s: out of memory building tokenizer.json", dir);
    }
    *out = t;
    return SS_OK;
}

/* Writes root to dir/name through dir/name.tmp (flushed to disk, then renamed). */
static ss_status write_json(const char *dir, const char *name, const json_t *root)
{
    ss_status st = SS_OK;
    char *path = ss_path_join(dir, name), *tmp = NULL;
    FILE *f = NULL;
    if (!path) return ss_fail(SS_ERR_NOMEM, "export %s: out of memory", dir);
    size_t n = strlen(path) + sizeof ".tmp";
    tmp = malloc(n);
    if (!tmp) {
        st = ss_fail(SS_ERR_NOMEM, "export %s: out of memory", dir);
        goto done;
    }
    snprintf(tmp, n, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        st = ss_fail(SS_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        goto done;
    }
    int bad = json_dumpf(root, f, JSON_INDENT(2) | JSON_SORT_KEYS) != 0 || fputc('\n', f) == EOF || fflush(f) != 0 ||
              fsync(fileno(f)) != 0;
    int err = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    f = NULL;
    if (bad) {
        unlink(tmp);
        st = ss_fail(SS_ERR_IO, "cannot write %s: %s", tmp, strerror(err));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        st = ss_fail(SS_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        goto done;
    }
done:
    free(path);
    free(tmp);
    return st;
}

/* mkdir -p dir. */
static ss_status make_dirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p) return ss_fail(SS_ERR_NOMEM, "export %s: out of memory", dir);
    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c != '/' && c != '\0') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            ss_status st = ss_fail(SS_ERR_IO, "cannot create directory %s: %s", p, strerror(errno));
            free(p);
            return st;
        }
        *s = c;
        if (c == '\0') break;
    }
    struct stat sb;
    int is_dir = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
    free(p);
    return is_dir ? SS_OK : ss_fail(SS_ERR_IO, "%s exists and is not a directory", dir);
}

ss_status ss_tr_export(const char *dir, const ss_tr_export_model *m)
{
    ss_status st = SS_OK;
    tlist t = {0};
    json_t *config = NULL, *tok = NULL;
    char *st_path = NULL;
    if (!dir || !*dir || !m) return ss_fail(SS_ERR_INPUT, "ss_tr_export: NULL argument");
    SS_TRY(check_model(dir, m));
    SS_TRY(build_config(dir, m, &config));
    SS_TRY(build_tokenizer(dir, m, &tok));
    if (m->pe == SS_TR_PE_LEARNED || m->pe == SS_TR_PE_SINUSOIDAL)
        SS_TRY(tensors_gpt2(&t, m));
    else
        SS_TRY(tensors_fused(&t, m, m->pe == SS_TR_PE_ALIBI));
    SS_TRY(make_dirs(dir));
    st_path = ss_path_join(dir, "model.safetensors");
    if (!st_path) {
        st = ss_fail(SS_ERR_NOMEM, "export %s: out of memory", dir);
        goto done;
    }
    SS_TRY(ss_st_write(st_path, t.n, (const char *const *)t.names, t.n_dims, t.shapes, t.data));
    SS_TRY(write_json(dir, "tokenizer.json", tok));
    SS_TRY(write_json(dir, "config.json", config)); /* last: a directory with config.json is complete */
done:
    tlist_free(&t);
    json_decref(config);
    json_decref(tok);
    free(st_path);
    return st;
}
