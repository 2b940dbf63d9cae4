/* hfconfig.h: a Hugging Face config.json (plus the tokenizer's special ids) as sinkscope sees it.
 *
 * Supported model_type values: "bert". For BERT the fields read are hidden_size, num_hidden_layers,
 * num_attention_heads, intermediate_size, vocab_size, max_position_embeddings (all required),
 * type_vocab_size (default 2), layer_norm_eps (default 1e-12), hidden_act (must be "gelu", the erf
 * form) and position_embedding_type (must be "absolute" when present).
 *
 * Special ids come from the tokenizer files next to config.json, cheaply: the token strings from
 * special_tokens_map.json when present (default [CLS] [SEP] [PAD] [UNK]), their ids from
 * tokenizer.json ("added_tokens", then "model.vocab"), else from the line numbers of vocab.txt.
 * A token that is not found gets id -1. */
#ifndef SS_HFCONFIG_H
#define SS_HFCONFIG_H

#include <stddef.h> /* size_t, which sweep.h (via model.h) uses without including */

#include "model.h"

typedef struct {
    ss_model_info info;
    double layer_norm_eps;
    int type_vocab_size;
    char hidden_act[32];
} ss_hfconfig;

/* Reads dir/config.json and the special ids. Unsupported model_type: SS_ERR_INPUT; a missing or
 * malformed field: SS_ERR_FORMAT naming config.json and the field; no config.json: SS_ERR_IO. */
ss_status ss_hfconfig_read(const char *dir, ss_hfconfig *cfg);

#endif
