/* hfconfig.c: config.json -> ss_hfconfig (see hfconfig.h). */
#include "hfconfig.h"

#include <errno.h>
#include <jansson.h> /* config.json, tokenizer.json, special_tokens_map.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fsutil.h"

/* A required integer field in [lo, hi]. */
static ss_status get_int(const json_t *root, const char *path, const char *field, int lo, int hi, int *out)
{
    json_t *v = json_object_get(root, field);
    if (!v) return ss_fail(SS_ERR_FORMAT, "%s: field '%s' is missing", path, field);
    if (!json_is_integer(v)) return ss_fail(SS_ERR_FORMAT, "%s: field '%s' is not an integer", path, field);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return ss_fail(SS_ERR_FORMAT, "%s: field '%s' = %lld is outside [%d, %d]", path, field, (long long)x, lo, hi);
    *out = (int)x;
    return SS_OK;
}

/* A required integer field that has two spellings (transformers' attribute_map): the first present
 * one is read; when neither is, the message names the first. */
static ss_status get_int2(const json_t *root, const char *path, const char *a, const char *b, int lo, int hi, int *out)
{
    return get_int(root, path, json_object_get(root, a) || !json_object_get(root, b) ? a : b, lo, hi, out);
}

/* An optional integer field: absent or null leaves *out unchanged. */
static ss_status opt_int(const json_t *root, const char *path, const char *field, int lo, int hi, int *out)
{
    json_t *v = json_object_get(root, field);
    if (!v || json_is_null(v)) return SS_OK;
    return get_int(root, path, field, lo, hi, out);
}

/* An optional number in (lo, hi]: absent or null leaves *out unchanged. */
static ss_status opt_num(const json_t *root, const char *path, const char *field, double lo, double hi, double *out)
{
    json_t *v = json_object_get(root, field);
    if (!v || json_is_null(v)) return SS_OK;
    if (!json_is_number(v) || !(json_number_value(v) > lo) || json_number_value(v) > hi)
        return ss_fail(SS_ERR_FORMAT, "%s: field '%s' is not a number in (%g, %g]", path, field, lo, hi);
    *out = json_number_value(v);
    return SS_OK;
}

/* An optional boolean: absent or null leaves *out unchanged. */
static ss_status opt_bool(const json_t *root, const char *path, const char *field, int *out)
{
    json_t *v = json_object_get(root, field);
    if (!v || json_is_null(v)) return SS_OK;
    if (!json_is_boolean(v)) return ss_fail(SS_ERR_FORMAT, "%s: field '%s' is not true or false", path, field);
    *out = json_is_true(v);
    return SS_OK;
}

/* An optional string copied into out[cap]: absent or null leaves out unchanged. */
static ss_status opt_str(const json_t *root, const char *path, const char *field, char *out, size_t cap)
{
    json_t *v = json_object_get(root, field);
    if (!v || json_is_null(v)) return SS_OK;
    if (!json_is_string(v)) return ss_fail(SS_ERR_FORMAT, "%s: field '%s' is not a string", path, field);
    if (strlen(json_string_value(v)) >= cap)
        return ss_fail(SS_ERR_FORMAT, "%s: field '%s' is longer than %zu characters", path, field, cap - 1);
    snprintf(out, cap, "%s", json_string_value(v));
    return SS_OK;
}

/* A token id field: an integer in [0, n_vocab), or a list whose first element is one (eos_token_id
 * of some configs); absent or null gives -1. */
static ss_status token_id(const json_t *root, const char *path, const char *field, int n_vocab, int32_t *out)
{
    json_t *v = json_object_get(root, field);
    *out = -1;
    if (json_is_array(v)) v = json_array_get(v, 0);
    if (!v || json_is_null(v)) return SS_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= n_vocab)
        return ss_fail(SS_ERR_FORMAT, "%s: field '%s' is not a token id in [0, %d)", path, field, n_vocab);
    *out = (int32_t)json_integer_value(v);
    return SS_OK;
}

/* The option must be absent or null (what sinkscope implements). */
static ss_status must_be_null(const json_t *root, const char *path, const char *field)
{
    json_t *v = json_object_get(root, field);
    if (v && !json_is_null(v))
        return ss_fail(SS_ERR_INPUT, "%s: field '%s' is set; only null is supported", path, field);
    return SS_OK;
}

/* d = H · d_h (the decoders without an explicit head_dim). */
static ss_status split_heads(const char *path, ss_model_info *in)
{
    if (in->d_model % in->n_heads != 0)
        return ss_fail(SS_ERR_FORMAT, "%s: hidden size %d is not a multiple of the number of heads %d", path,
                       in->d_model, in->n_heads);
    in->d_head = in->d_model / in->n_heads;
    return SS_OK;
}

/* The activation names of the GELU family; anything else is refused by the caller. */
static int is_gelu(const char *act)
{
    return strcmp(act, "gelu") == 0 || strcmp(act, "gelu_new") == 0 || strcmp(act, "gelu_pytorch_tanh") == 0 ||
           strcmp(act, "gelu_fast") == 0;
}

/* The special token strings: special_tokens_map.json values are "[CLS]" or {"content": "[CLS]", ...}.
 * No entry and no default (dflt NULL) gives "", which is never looked up. */
static void special_name(const json_t *map, const char *key, const char *dflt, char *out, size_t cap)
{
    const json_t *v = map ? json_object_get(map, key) : NULL;
    const char *s = json_is_object(v) ? json_string_value(json_object_get(v, "content")) : json_string_value(v);
    snprintf(out, cap, "%s", s ? s : dflt ? dflt : "");
}

/* Id of token tok in tokenizer.json (added_tokens, then model.vocab); -1 when absent. */
static int32_t id_in_tokenizer_json(const json_t *tj, const char *tok)
{
    const json_t *added = json_object_get(tj, "added_tokens");
    size_t i;
    const json_t *e;
    json_array_foreach(added, i, e)
    {
        const char *c = json_string_value(json_object_get(e, "content"));
        const json_t *id = json_object_get(e, "id");
        if (c && strcmp(c, tok) == 0 && json_is_integer(id) && json_integer_value(id) >= 0 &&
            json_integer_value(id) <= INT32_MAX)
            return (int32_t)json_integer_value(id);
    }
    const json_t *id = json_object_get(json_object_get(json_object_get(tj, "model"), "vocab"), tok);
    if (json_is_integer(id) && json_integer_value(id) >= 0 && json_integer_value(id) <= INT32_MAX)
        return (int32_t)json_integer_value(id);
    return -1;
}

/* Reads the special ids into cfg->info; missing tokenizer files leave -1. Encoders (BERT) fall back
 * to the names [CLS] [SEP] [PAD] [UNK]; decoders look up only the names special_tokens_map.json gives,
 * and never have cls/sep ids (their frame is BOS only). */
static ss_status read_special_ids(const char *dir, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    char *map_path = ss_path_join(dir, "special_tokens_map.json");
    char *tj_path = ss_path_join(dir, "tokenizer.json");
    char *vocab_path = ss_path_join(dir, "vocab.txt");
    json_t *map = NULL, *tj = NULL;
    FILE *vf = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    if (!map_path || !tj_path || !vocab_path) {
        st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", dir);
        goto done;
    }
    json_error_t jerr;
    map = json_load_file(map_path, 0, &jerr); /* optional: absent or bad falls back to the defaults */

    enum { CLS, SEP, PAD, UNK, N_SPECIAL };
    static const char *keys[N_SPECIAL] = {"cls_token", "sep_token", "pad_token", "unk_token"};
    static const char *dflt[N_SPECIAL] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]"};
    const int encoder = !cfg->info.causal;
    char names[N_SPECIAL][64];
    int32_t ids[N_SPECIAL];
    for (int k = 0; k < N_SPECIAL; k++) {
        if (!encoder && (k == CLS || k == SEP))
            names[k][0] = '\0';
        else
            special_name(map, keys[k], encoder ? dflt[k] : NULL, names[k], sizeof names[k]);
        ids[k] = -1;
    }

    tj = json_load_file(tj_path, 0, &jerr);
    if (tj) {
        for (int k = 0; k < N_SPECIAL; k++)
            if (names[k][0]) ids[k] = id_in_tokenizer_json(tj, names[k]);
    } else if ((vf = fopen(vocab_path, "r")) != NULL) {
        ssize_t len;
        for (int32_t n = 0; (len = getline(&line, &line_cap, vf)) >= 0; n++) {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
            for (int k = 0; k < N_SPECIAL; k++)
                if (ids[k] < 0 && names[k][0] && strcmp(line, names[k]) == 0) ids[k] = n;
        }
    }
    cfg->info.cls_id = ids[CLS];
    cfg->info.sep_id = ids[SEP];
    cfg->info.unk_id = ids[UNK];
    if (ids[PAD] >= 0) cfg->info.pad_id = ids[PAD];
done:
    if (vf) fclose(vf);
    free(line);
    json_decref(map);
    json_decref(tj);
    free(map_path);
    free(tj_path);
    free(vocab_path);
    return st;
}

/* The sizes under their usual Hugging Face names (BERT, Llama, GPT-NeoX configs). */
static ss_status read_standard_sizes(const json_t *root, const char *path, ss_model_info *in)
{
    ss_status st = SS_OK;
    SS_TRY(get_int(root, path, "hidden_size", 1, 1 << 16, &in->d_model));
    SS_TRY(get_int(root, path, "num_hidden_layers", 1, 1024, &in->n_layers));
    SS_TRY(get_int(root, path, "num_attention_heads", 1, 1024, &in->n_heads));
    SS_TRY(get_int(root, path, "intermediate_size", 1, 1 << 20, &in->d_ff));
    SS_TRY(get_int(root, path, "vocab_size", 1, 1 << 24, &in->n_vocab));
    SS_TRY(get_int(root, path, "max_position_embeddings", 1, 1 << 20, &in->max_positions));
done:
    return st;
}

static ss_status read_bert(const json_t *root, const char *path, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    ss_model_info *in = &cfg->info;
    snprintf(in->arch, sizeof in->arch, "bert");
    snprintf(in->pos_encoding, sizeof in->pos_encoding, "learned");
    SS_TRY(read_standard_sizes(root, path, in));
    if (in->d_model % in->n_heads != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: hidden_size %d is not a multiple of num_attention_heads %d", path, in->d_model,
                     in->n_heads);
        goto done;
    }
    in->d_head = in->d_model / in->n_heads;
    in->n_kv_heads = in->n_heads;
    in->causal = 0;
    in->default_bos = SS_BOS_ADD;

    cfg->type_vocab_size = 2;
    if (json_object_get(root, "type_vocab_size"))
        SS_TRY(get_int(root, path, "type_vocab_size", 1, 1 << 16, &cfg->type_vocab_size));

    cfg->layer_norm_eps = 1e-12;
    json_t *eps = json_object_get(root, "layer_norm_eps");
    if (eps) {
        if (!json_is_number(eps) || !(json_number_value(eps) > 0.0) || json_number_value(eps) > 1.0) {
            st = ss_fail(SS_ERR_FORMAT, "%s: field 'layer_norm_eps' is not a number in (0, 1]", path);
            goto done;
        }
        cfg->layer_norm_eps = json_number_value(eps);
    }

    json_t *act = json_object_get(root, "hidden_act");
    const char *acts = act ? json_string_value(act) : "gelu";
    if (!acts) {
        st = ss_fail(SS_ERR_FORMAT, "%s: field 'hidden_act' is not a string", path);
        goto done;
    }
    if (strcmp(acts, "gelu") != 0) {
        st = ss_fail(SS_ERR_INPUT, "%s: hidden_act '%s' is not supported (supported: gelu)", path, acts);
        goto done;
    }
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "%s", acts);

    json_t *pe = json_object_get(root, "position_embedding_type");
    if (pe && !json_is_null(pe)) {
        const char *pes = json_string_value(pe);
        if (!pes || strcmp(pes, "absolute") != 0) {
            st = ss_fail(SS_ERR_INPUT, "%s: position_embedding_type '%s' is not supported (supported: absolute)", path,
                         pes ? pes : "(not a string)");
            goto done;
        }
    }

    json_t *pad = json_object_get(root, "pad_token_id");
    if (json_is_integer(pad) && json_integer_value(pad) >= 0 && json_integer_value(pad) < in->n_vocab)
        in->pad_id = (int32_t)json_integer_value(pad);
done:
    return st;
}

/* What every decoder shares: causal, the bos/eos/pad ids of config.json, no BOS by default. */
static ss_status read_decoder_common(const json_t *root, const char *path, ss_hfconfig *cfg, const char *arch,
                                     const char *pos)
{
    ss_status st = SS_OK;
    ss_model_info *in = &cfg->info;
    snprintf(in->arch, sizeof in->arch, "%s", arch);
    snprintf(in->pos_encoding, sizeof in->pos_encoding, "%s", pos);
    in->causal = 1;
    in->default_bos = SS_BOS_NONE;
    cfg->rope_pairing = SS_ROPE_HALF;
    SS_TRY(token_id(root, path, "bos_token_id", in->n_vocab, &in->bos_id));
    SS_TRY(token_id(root, path, "eos_token_id", in->n_vocab, &in->eos_id));
    SS_TRY(token_id(root, path, "pad_token_id", in->n_vocab, &in->pad_id));
done:
    return st;
}

static ss_status read_gpt2(const json_t *root, const char *path, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    ss_model_info *in = &cfg->info;
    SS_TRY(get_int2(root, path, "n_embd", "hidden_size", 1, 1 << 16, &in->d_model));
    SS_TRY(get_int2(root, path, "n_layer", "num_hidden_layers", 1, 1024, &in->n_layers));
    SS_TRY(get_int2(root, path, "n_head", "num_attention_heads", 1, 1024, &in->n_heads));
    SS_TRY(get_int2(root, path, "n_positions", "max_position_embeddings", 1, 1 << 20, &in->max_positions));
    SS_TRY(get_int(root, path, "vocab_size", 1, 1 << 24, &in->n_vocab));
    SS_TRY(split_heads(path, in));
    in->n_kv_heads = in->n_heads;
    in->d_ff = 4 * in->d_model;
    SS_TRY(opt_int(root, path, "n_inner", 1, 1 << 20, &in->d_ff));
    cfg->layer_norm_eps = 1e-5;
    SS_TRY(opt_num(root, path, "layer_norm_epsilon", 0.0, 1.0, &cfg->layer_norm_eps));
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "gelu_new");
    SS_TRY(opt_str(root, path, "activation_function", cfg->hidden_act, sizeof cfg->hidden_act));
    if (!is_gelu(cfg->hidden_act)) {
        st = ss_fail(SS_ERR_INPUT,
                     "%s: activation_function '%s' is not supported (supported: gelu_new, gelu_pytorch_tanh, "
                     "gelu_fast, gelu)",
                     path, cfg->hidden_act);
        goto done;
    }
    cfg->scale_attn_weights = 1;
    SS_TRY(opt_bool(root, path, "scale_attn_weights", &cfg->scale_attn_weights));
    SS_TRY(opt_bool(root, path, "scale_attn_by_inverse_layer_idx", &cfg->scale_attn_by_layer));
    SS_TRY(opt_bool(root, path, "sinkscope_post_ln", &cfg->post_ln)); /* sinkscope's own key (hfconfig.h) */
    SS_TRY(read_decoder_common(root, path, cfg, "gpt2", "learned"));
done:
    return st;
}

static ss_status read_llama(const json_t *root, const char *path, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    ss_model_info *in = &cfg->info;
    SS_TRY(read_standard_sizes(root, path, in));
    in->n_kv_heads = in->n_heads;
    SS_TRY(opt_int(root, path, "num_key_value_heads", 1, in->n_heads, &in->n_kv_heads));
    if (in->n_heads % in->n_kv_heads != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", path,
                     in->n_heads, in->n_kv_heads);
        goto done;
    }
    if (json_object_get(root, "head_dim") && !json_is_null(json_object_get(root, "head_dim"))) {
        SS_TRY(get_int(root, path, "head_dim", 2, 1 << 16, &in->d_head));
    } else {
        SS_TRY(split_heads(path, in));
    }
    if (in->d_head % 2 != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: the head size %d is odd; RoPE needs pairs", path, in->d_head);
        goto done;
    }
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "silu");
    SS_TRY(opt_str(root, path, "hidden_act", cfg->hidden_act, sizeof cfg->hidden_act));
    if (strcmp(cfg->hidden_act, "silu") != 0 && strcmp(cfg->hidden_act, "swish") != 0) {
        st = ss_fail(SS_ERR_INPUT, "%s: hidden_act '%s' is not supported (supported: silu)", path, cfg->hidden_act);
        goto done;
    }
    cfg->layer_norm_eps = 1e-6;
    SS_TRY(opt_num(root, path, "rms_norm_eps", 0.0, 1.0, &cfg->layer_norm_eps));
    cfg->rope_theta = 10000.0;
    SS_TRY(opt_num(root, path, "rope_theta", 0.0, 1e12, &cfg->rope_theta));
    SS_TRY(must_be_null(root, path, "rope_scaling"));
    SS_TRY(opt_bool(root, path, "attention_bias", &cfg->attention_bias));
    int mlp_bias = 0;
    SS_TRY(opt_bool(root, path, "mlp_bias", &mlp_bias));
    if (mlp_bias) {
        st = ss_fail(SS_ERR_INPUT, "%s: field 'mlp_bias' is true; only false is supported", path);
        goto done;
    }
    cfg->rope_dims = in->d_head;
    SS_TRY(read_decoder_common(root, path, cfg, "llama", "rope"));
    in->default_bos = in->bos_id >= 0 ? SS_BOS_ADD : SS_BOS_NONE;
done:
    return st;
}

static ss_status read_bloom(const json_t *root, const char *path, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    ss_model_info *in = &cfg->info;
    SS_TRY(get_int2(root, path, "hidden_size", "n_embed", 1, 1 << 16, &in->d_model));
    SS_TRY(get_int2(root, path, "n_layer", "num_hidden_layers", 1, 1024, &in->n_layers));
    SS_TRY(get_int2(root, path, "n_head", "num_attention_heads", 1, 1024, &in->n_heads));
    SS_TRY(get_int(root, path, "vocab_size", 1, 1 << 24, &in->n_vocab));
    SS_TRY(split_heads(path, in));
    in->n_kv_heads = in->n_heads;
    in->d_ff = 4 * in->d_model;
    in->max_positions = 2048;
    SS_TRY(opt_int(root, path, "max_position_embeddings", 1, 1 << 20, &in->max_positions));
    SS_TRY(opt_int(root, path, "seq_length", 1, 1 << 20, &in->max_positions));
    cfg->layer_norm_eps = 1e-5;
    SS_TRY(opt_num(root, path, "layer_norm_epsilon", 0.0, 1.0, &cfg->layer_norm_eps));
    SS_TRY(opt_bool(root, path, "apply_residual_connection_post_layernorm", &cfg->residual_post_ln));
    SS_TRY(opt_bool(root, path, "sinkscope_post_ln", &cfg->post_ln)); /* sinkscope's own key (hfconfig.h) */
    if (cfg->post_ln && cfg->residual_post_ln) {
        st = ss_fail(SS_ERR_INPUT, "%s: sinkscope_post_ln and apply_residual_connection_post_layernorm are both true",
                     path);
        goto done;
    }
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "bloom_gelu");
    SS_TRY(read_decoder_common(root, path, cfg, "bloom", "alibi"));
done:
    return st;
}

static ss_status read_neox(const json_t *root, const char *path, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    ss_model_info *in = &cfg->info;
    SS_TRY(read_standard_sizes(root, path, in));
    SS_TRY(split_heads(path, in));
    in->n_kv_heads = in->n_heads;
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "gelu");
    SS_TRY(opt_str(root, path, "hidden_act", cfg->hidden_act, sizeof cfg->hidden_act));
    if (!is_gelu(cfg->hidden_act)) {
        st = ss_fail(SS_ERR_INPUT,
                     "%s: hidden_act '%s' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast)",
                     path, cfg->hidden_act);
        goto done;
    }
    double pct = 0.25;
    json_t *rp = json_object_get(root, "rotary_pct");
    if (rp && !json_is_null(rp) &&
        (!json_is_number(rp) || json_number_value(rp) < 0.0 || json_number_value(rp) > 1.0)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: field 'rotary_pct' is not a number in [0, 1]", path);
        goto done;
    }
    if (rp && !json_is_null(rp)) pct = json_number_value(rp);
    cfg->rope_dims = (int)(in->d_head * pct); /* int(head_size * rotary_pct), truncated as in Python */
    if (cfg->rope_dims % 2 != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: rotary_pct %g gives %d rotated columns per head; RoPE needs an even number",
                     path, pct, cfg->rope_dims);
        goto done;
    }
    cfg->rope_theta = 10000.0;
    SS_TRY(opt_num(root, path, "rotary_emb_base", 0.0, 1e12, &cfg->rope_theta));
    SS_TRY(must_be_null(root, path, "rope_scaling"));
    cfg->layer_norm_eps = 1e-5;
    SS_TRY(opt_num(root, path, "layer_norm_eps", 0.0, 1.0, &cfg->layer_norm_eps));
    cfg->parallel_residual = 1;
    SS_TRY(opt_bool(root, path, "use_parallel_residual", &cfg->parallel_residual));
    SS_TRY(opt_bool(root, path, "sinkscope_post_ln", &cfg->post_ln)); /* sinkscope's own key (hfconfig.h) */
    if (cfg->post_ln && cfg->parallel_residual) {
        st = ss_fail(SS_ERR_INPUT, "%s: sinkscope_post_ln needs use_parallel_residual false", path);
        goto done;
    }
    cfg->attention_bias = 1;
    SS_TRY(opt_bool(root, path, "attention_bias", &cfg->attention_bias));
    SS_TRY(read_decoder_common(root, path, cfg, "gpt_neox", cfg->rope_dims > 0 ? "rope" : "none"));
done:
    return st;
}

/* Gemma-3's text model (Gemma3TextConfig); see hfconfig.h for the fields and their defaults. */
static ss_status read_gemma3_text(const json_t *root, const char *path, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    ss_model_info *in = &cfg->info;
    SS_TRY(get_int(root, path, "hidden_size", 1, 1 << 16, &in->d_model));
    SS_TRY(get_int(root, path, "num_hidden_layers", 1, SS_HF_MAX_LAYERS, &in->n_layers));
    SS_TRY(get_int(root, path, "num_attention_heads", 1, 1024, &in->n_heads));
    SS_TRY(get_int(root, path, "intermediate_size", 1, 1 << 20, &in->d_ff));
    SS_TRY(get_int(root, path, "vocab_size", 1, 1 << 24, &in->n_vocab));
    in->max_positions = 131072;
    SS_TRY(opt_int(root, path, "max_position_embeddings", 1, 1 << 20, &in->max_positions));
    in->n_kv_heads = 4; /* Gemma3TextConfig's default */
    SS_TRY(opt_int(root, path, "num_key_value_heads", 1, 1024, &in->n_kv_heads));
    if (in->n_kv_heads > in->n_heads || in->n_heads % in->n_kv_heads != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: num_attention_heads %d is not a multiple of num_key_value_heads %d", path,
                     in->n_heads, in->n_kv_heads);
        goto done;
    }
    in->d_head = 256;
    SS_TRY(opt_int(root, path, "head_dim", 2, 1 << 16, &in->d_head));
    if (in->d_head % 2 != 0) {
        st = ss_fail(SS_ERR_FORMAT, "%s: field 'head_dim' = %d is odd; RoPE needs pairs", path, in->d_head);
        goto done;
    }
    snprintf(cfg->hidden_act, sizeof cfg->hidden_act, "gelu_pytorch_tanh");
    SS_TRY(opt_str(root, path, "hidden_act", cfg->hidden_act, sizeof cfg->hidden_act));
    SS_TRY(opt_str(root, path, "hidden_activation", cfg->hidden_act, sizeof cfg->hidden_act));
    if (!is_gelu(cfg->hidden_act)) {
        st = ss_fail(SS_ERR_INPUT,
                     "%s: hidden_activation '%s' is not supported (supported: gelu_pytorch_tanh, gelu_new, gelu_fast, "
                     "gelu)",
                     path, cfg->hidden_act);
        goto done;
    }
    cfg->layer_norm_eps = 1e-6;
    SS_TRY(opt_num(root, path, "rms_norm_eps", 0.0, 1.0, &cfg->layer_norm_eps));
    cfg->rope_theta = 1e6;
    SS_TRY(opt_num(root, path, "rope_theta", 0.0, 1e12, &cfg->rope_theta));
    cfg->rope_local_theta = 1e4;
    SS_TRY(opt_num(root, path, "rope_local_base_freq", 0.0, 1e12, &cfg->rope_local_theta));
    cfg->query_pre_attn_scalar = 256.0;
    SS_TRY(opt_num(root, path, "query_pre_attn_scalar", 0.0, 1e12, &cfg->query_pre_attn_scalar));
    cfg->sliding_window = 4096;
    SS_TRY(opt_int(root, path, "sliding_window", 1, 1 << 30, &cfg->sliding_window));
    SS_TRY(must_be_null(root, path, "rope_scaling"));
    SS_TRY(must_be_null(root, path, "attn_logit_softcapping"));
    SS_TRY(opt_bool(root, path, "attention_bias", &cfg->attention_bias));
    if (cfg->attention_bias) {
        st = ss_fail(SS_ERR_INPUT, "%s: field 'attention_bias' is true; only false is supported", path);
        goto done;
    }
    const json_t *types = json_object_get(root, "layer_types");
    if (types && !json_is_null(types)) {
        if (!json_is_array(types) || json_array_size(types) != (size_t)in->n_layers) {
            st = ss_fail(SS_ERR_FORMAT, "%s: field 'layer_types' is not a list of %d strings", path, in->n_layers);
            goto done;
        }
        for (int l = 0; l < in->n_layers; l++) {
            const char *t = json_string_value(json_array_get(types, (size_t)l));
            if (t && strcmp(t, "sliding_attention") == 0)
                cfg->layer_sliding[l] = 1;
            else if (t && strcmp(t, "full_attention") == 0)
                cfg->layer_sliding[l] = 0;
            else {
                st = ss_fail(SS_ERR_FORMAT,
                             "%s: field 'layer_types' entry %d is not \"sliding_attention\" or "
                             "\"full_attention\"",
                             path, l);
                goto done;
            }
        }
    } else {
        int pattern = 6;
        SS_TRY(opt_int(root, path, "_sliding_window_pattern", 1, 1 << 20, &pattern));
        SS_TRY(opt_int(root, path, "sliding_window_pattern", 1, 1 << 20, &pattern));
        for (int l = 0; l < in->n_layers; l++) cfg->layer_sliding[l] = (l + 1) % pattern != 0;
    }
    cfg->rope_dims = in->d_head;
    SS_TRY(read_decoder_common(root, path, cfg, "gemma3", "rope"));
    in->default_bos = in->bos_id >= 0 ? SS_BOS_ADD : SS_BOS_NONE;
done:
    return st;
}

/* The multimodal Gemma3Config: its text_config is a Gemma3TextConfig (the vision tower is not used). */
static ss_status read_gemma3(const json_t *root, const char *path, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    const json_t *text = json_object_get(root, "text_config");
    if (!json_is_object(text))
        return ss_fail(SS_ERR_FORMAT, "%s: field 'text_config' is missing or not an object", path);
    json_t *merged = json_deep_copy(text);
    if (!merged) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
    static const char *const ids[] = {"bos_token_id", "eos_token_id", "pad_token_id"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        json_t *v = json_object_get(merged, ids[i]);
        json_t *top = json_object_get(root, ids[i]);
        if ((!v || json_is_null(v)) && top && json_object_set(merged, ids[i], top) != 0) {
            st = ss_fail(SS_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
    }
    SS_TRY(read_gemma3_text(merged, path, cfg));
done:
    json_decref(merged);
    return st;
}

/* config.json model_type -> reader. */
static const struct {
    const char *model_type;
    ss_status (*read)(const json_t *root, const char *path, ss_hfconfig *cfg);
} g_readers[] = {
    {"bert", read_bert},     {"bloom", read_bloom},   {"gemma3", read_gemma3}, {"gemma3_text", read_gemma3_text},
    {"gpt2", read_gpt2},     {"gpt_neox", read_neox}, {"llama", read_llama},
};

ss_status ss_hfconfig_read(const char *dir, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    json_t *root = NULL;
    memset(cfg, 0, sizeof *cfg);
    cfg->info.bos_id = cfg->info.eos_id = cfg->info.cls_id = cfg->info.sep_id = -1;
    cfg->info.pad_id = cfg->info.unk_id = -1;
    char *path = ss_path_join(dir, "config.json");
    if (!path) return ss_fail(SS_ERR_NOMEM, "%s: out of memory", dir);

    FILE *f = fopen(path, "rb");
    if (!f) {
        st = ss_fail(SS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
        goto done;
    }
    json_error_t jerr;
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        st = ss_fail(SS_ERR_FORMAT, "%s: not valid JSON: %s (line %d, column %d)", path, jerr.text, jerr.line,
                     jerr.column);
        goto done;
    }
    if (!json_is_object(root)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: not a JSON object", path);
        goto done;
    }
    json_t *train = json_object_get(root, "sinkscope_train"); /* a trained checkpoint's provenance (model.h) */
    json_t *tpe = json_object_get(root, "sinkscope_positional_encoding"); /* what it was trained with */
    if (train) {
        json_t *t2 = json_is_object(train) ? json_deep_copy(train) : NULL;
        if (t2 && json_is_string(tpe) && !json_object_get(t2, "encoding"))
            json_object_set(t2, "encoding", tpe); /* so that the results file says which encoding */
        char *txt = t2 ? json_dumps(t2, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(t2);
        if (!txt || strlen(txt) >= sizeof cfg->info.train) {
            free(txt);
            st = ss_fail(SS_ERR_FORMAT, "%s: field 'sinkscope_train' must be a JSON object of at most %zu bytes", path,
                         sizeof cfg->info.train - 1);
            goto done;
        }
        memcpy(cfg->info.train, txt, strlen(txt) + 1);
        free(txt);
    }
    json_t *mt = json_object_get(root, "model_type");
    if (!mt) {
        st = ss_fail(SS_ERR_FORMAT, "%s: field 'model_type' is missing", path);
        goto done;
    }
    if (!json_is_string(mt)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: field 'model_type' is not a string", path);
        goto done;
    }
    size_t r = 0, n_readers = sizeof g_readers / sizeof g_readers[0];
    while (r < n_readers && strcmp(json_string_value(mt), g_readers[r].model_type) != 0) r++;
    if (r == n_readers) {
        st = ss_fail(SS_ERR_INPUT,
                     "%s: model_type '%s' is not supported (supported: bert, bloom, gemma3, gemma3_text, gpt2, "
                     "gpt_neox, llama)",
                     path, json_string_value(mt));
        goto done;
    }
    SS_TRY(g_readers[r].read(root, path, cfg));
    /* A sinkscope checkpoint says which encoding it was trained with: a sinusoidal table is stored as GPT-2's
     * learned rows, but its positional encoding is sinusoidal. */
    if (json_is_string(tpe)) {
        static const char *const known[] = {"learned", "sinusoidal", "rope", "alibi", "none"};
        const char *v = json_string_value(tpe);
        size_t k = 0;
        while (k < 5 && strcmp(v, known[k]) != 0) k++;
        if (k == 5) {
            st = ss_fail(SS_ERR_FORMAT, "%s: sinkscope_positional_encoding '%.40s' is not one of learned, sinusoidal, "
                         "rope, alibi, none", path, v);
            goto done;
        }
        snprintf(cfg->info.pos_encoding, sizeof cfg->info.pos_encoding, "%s", v);
    }
    SS_TRY(read_special_ids(dir, cfg));
done:
    json_decref(root);
    free(path);
    return st;
}
