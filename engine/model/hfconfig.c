/* hfconfig.c: config.json -> ss_hfconfig (see hfconfig.h). */
#include "hfconfig.h"

#include <errno.h>
#include <jansson.h> /* config.json, tokenizer.json, special_tokens_map.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fsutil.h"

/* A required positive integer field. */
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

/* The special token strings: special_tokens_map.json values are "[CLS]" or {"content": "[CLS]", ...}. */
static void special_name(const json_t *map, const char *key, const char *dflt, char *out, size_t cap)
{
    const json_t *v = map ? json_object_get(map, key) : NULL;
    const char *s = json_is_object(v) ? json_string_value(json_object_get(v, "content")) : json_string_value(v);
    snprintf(out, cap, "%s", s ? s : dflt);
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

/* Reads the special ids into cfg->info; missing tokenizer files leave -1. */
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
    char names[N_SPECIAL][64];
    int32_t ids[N_SPECIAL];
    for (int k = 0; k < N_SPECIAL; k++) {
        special_name(map, keys[k], dflt[k], names[k], sizeof names[k]);
        ids[k] = -1;
    }

    tj = json_load_file(tj_path, 0, &jerr);
    if (tj) {
        for (int k = 0; k < N_SPECIAL; k++) ids[k] = id_in_tokenizer_json(tj, names[k]);
    } else if ((vf = fopen(vocab_path, "r")) != NULL) {
        ssize_t len;
        for (int32_t n = 0; (len = getline(&line, &line_cap, vf)) >= 0; n++) {
            while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
            for (int k = 0; k < N_SPECIAL; k++)
                if (ids[k] < 0 && strcmp(line, names[k]) == 0) ids[k] = n;
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

static ss_status read_bert(const json_t *root, const char *path, ss_hfconfig *cfg)
{
    ss_status st = SS_OK;
    ss_model_info *in = &cfg->info;
    snprintf(in->arch, sizeof in->arch, "bert");
    snprintf(in->pos_encoding, sizeof in->pos_encoding, "learned");
    SS_TRY(get_int(root, path, "hidden_size", 1, 1 << 16, &in->d_model));
    SS_TRY(get_int(root, path, "num_hidden_layers", 1, 1024, &in->n_layers));
    SS_TRY(get_int(root, path, "num_attention_heads", 1, 1024, &in->n_heads));
    SS_TRY(get_int(root, path, "intermediate_size", 1, 1 << 20, &in->d_ff));
    SS_TRY(get_int(root, path, "vocab_size", 1, 1 << 24, &in->n_vocab));
    SS_TRY(get_int(root, path, "max_position_embeddings", 1, 1 << 20, &in->max_positions));
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
    json_t *mt = json_object_get(root, "model_type");
    if (!mt) {
        st = ss_fail(SS_ERR_FORMAT, "%s: field 'model_type' is missing", path);
        goto done;
    }
    if (!json_is_string(mt)) {
        st = ss_fail(SS_ERR_FORMAT, "%s: field 'model_type' is not a string", path);
        goto done;
    }
    if (strcmp(json_string_value(mt), "bert") == 0) {
        SS_TRY(read_bert(root, path, cfg));
    } else {
        st = ss_fail(SS_ERR_INPUT, "%s: model_type '%s' is not supported (supported: bert)", path,
                     json_string_value(mt));
        goto done;
    }
    SS_TRY(read_special_ids(dir, cfg));
done:
    json_decref(root);
    free(path);
    return st;
}
