/* hfconfig.h: a Hugging Face config.json (plus the tokenizer's special ids) as sinkscope sees it.
 *
 * Supported model_type values and the fields read (required unless a default is given; where two
 * names are listed, either spelling is accepted, as transformers' attribute_map does):
 *   bert      hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, vocab_size,
 *             max_position_embeddings, type_vocab_size (2), layer_norm_eps (1e-12), hidden_act ("gelu",
 *             the erf form, only), position_embedding_type ("absolute" only), pad_token_id.
 *             Learned absolute positions, bidirectional, default BOS policy: add ([CLS] x [SEP]).
 *   gpt2      n_embd|hidden_size, n_layer|num_hidden_layers, n_head|num_attention_heads,
 *             n_positions|max_position_embeddings, vocab_size, n_inner (null: 4·d),
 *             activation_function ("gelu_new"), layer_norm_epsilon (1e-5), scale_attn_weights (true),
 *             scale_attn_by_inverse_layer_idx (false). Learned absolute positions.
 *             sinkscope_post_ln (false): see below.
 *   llama     hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads (= heads),
 *             head_dim (hidden_size / heads), intermediate_size, vocab_size, max_position_embeddings,
 *             hidden_act ("silu"), rms_norm_eps (1e-6), rope_theta (10000), rope_scaling (null only),
 *             attention_bias (false), mlp_bias (false only). RoPE over the whole head, half-split pairs.
 *   bloom     hidden_size|n_embed, n_layer|num_hidden_layers, n_head|num_attention_heads, vocab_size,
 *             layer_norm_epsilon (1e-5), apply_residual_connection_post_layernorm (false); d_ff = 4·d;
 *             sinkscope_post_ln (false; not with apply_residual_connection_post_layernorm).
 *             ALiBi has no position limit: max_positions is seq_length or max_position_embeddings when
 *             present, else 2048 (BLOOM's training length).
 *   gpt_neox  hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, vocab_size,
 *             max_position_embeddings, hidden_act ("gelu"), rotary_pct (0.25), rotary_emb_base (10000),
 *             rope_scaling (null only), layer_norm_eps (1e-5), use_parallel_residual (true),
 *             attention_bias (true), sinkscope_post_ln (false; needs use_parallel_residual false). RoPE over
 *             the first int(d_h · rotary_pct) columns, half-split.
 *   sinkscope_post_ln (gpt2, bloom, gpt_neox) is a sinkscope extension that Hugging Face does not read, written
 *             by `sinkscope train` (engine/train/export.h) for post-LN models: each sublayer is x = LN(x + f(x))
 *             (the first norm after the attention, the second after the MLP) and there is no final norm.
 *   gemma3_text  hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, vocab_size;
 *             with transformers' Gemma3TextConfig defaults: num_key_value_heads (4), head_dim (256),
 *             max_position_embeddings (131072), query_pre_attn_scalar (256), rope_theta (1e6, the global
 *             layers' base), rope_local_base_freq (1e4, the sliding-window layers' base), sliding_window
 *             (4096), layer_types (a list of "sliding_attention" / "full_attention", one per layer; absent:
 *             sliding_window_pattern or _sliding_window_pattern P (6): layer i is global iff (i+1) % P == 0),
 *             rms_norm_eps (1e-6), hidden_activation (or hidden_act; "gelu_pytorch_tanh"). Refused when set:
 *             rope_scaling, attn_logit_softcapping, attention_bias. RoPE over the whole head, half-split.
 *   gemma3    (the multimodal Gemma3Config): its "text_config" object is read as gemma3_text; the bos/eos/pad
 *             ids are taken from text_config, else from the top level.
 *             Both give arch "gemma3"; default BOS policy add (as Gemma's tokenizer does).
 * All the decoders are causal and read bos_token_id / eos_token_id (an integer, or a list whose first
 * element is used; absent or null: -1) and pad_token_id. Default BOS policy: llama adds its BOS
 * (when bos_token_id is set); gpt2, bloom and gpt_neox add nothing, as their tokenizers do.
 *
 * Special ids come from the tokenizer files next to config.json, cheaply: the token strings from
 * special_tokens_map.json when present (BERT defaults [CLS] [SEP] [PAD] [UNK]; decoders have no
 * defaults, and their cls/sep ids stay -1), their ids from tokenizer.json ("added_tokens", then
 * "model.vocab"), else from the line numbers of vocab.txt. A token that is not found gets id -1. */
#ifndef SS_HFCONFIG_H
#define SS_HFCONFIG_H

#include <stddef.h> /* size_t, which sweep.h (via model.h) uses without including */

#include "model.h"
#include "rope.h" /* ss_rope_pairing */

#define SS_HF_MAX_LAYERS 1024 /* the largest num_hidden_layers accepted */

typedef struct {
    ss_model_info info;
    double layer_norm_eps; /* LayerNorm or RMSNorm epsilon */
    int type_vocab_size;   /* BERT token types */
    char hidden_act[32];   /* as written in config.json (gpt2: activation_function) */
    /* decoders */
    int rope_dims;                /* rotated columns per head (even, <= d_head); 0 without RoPE */
    double rope_theta;            /* RoPE base θ */
    ss_rope_pairing rope_pairing; /* SS_ROPE_HALF for HF checkpoints; a GGUF llama loader sets SS_ROPE_ADJACENT */
    int attention_bias;           /* llama, gpt_neox: the q/k/v/o projections have biases */
    int parallel_residual;        /* gpt_neox: x + attn(ln1(x)) + mlp(ln2(x)) */
    int residual_post_ln;         /* bloom apply_residual_connection_post_layernorm */
    int scale_attn_weights;       /* gpt2: scores divided by √d_h */
    int scale_attn_by_layer;      /* gpt2 scale_attn_by_inverse_layer_idx: scores also divided by l+1 */
    int post_ln;                  /* sinkscope_post_ln (gpt2, bloom, gpt_neox): x = LN(x + f(x)), no final norm */
    /* gemma3 */
    double rope_local_theta;      /* RoPE base of the sliding-window (local) layers; rope_theta: the global ones */
    double query_pre_attn_scalar; /* scores are scaled by query_pre_attn_scalar^-0.5 */
    int sliding_window;           /* keys per query on the local layers (query i sees i-W+1 .. i) */
    unsigned char layer_sliding[SS_HF_MAX_LAYERS]; /* [n_layers] 1: local (sliding-window) layer, 0: global */
} ss_hfconfig;

/* Reads dir/config.json and the special ids. Unsupported model_type or option: SS_ERR_INPUT; a missing
 * or malformed field: SS_ERR_FORMAT naming config.json and the field; no config.json: SS_ERR_IO. */
ss_status ss_hfconfig_read(const char *dir, ss_hfconfig *cfg);

#endif
