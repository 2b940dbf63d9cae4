/* model.h: a loaded model: config, weights (memory-mapped), tokenizer, and its forward pass. */
#ifndef SS_MODEL_H
#define SS_MODEL_H

#include <stdint.h>

#include "../capture.h"
#include "../backend.h"
#include "../status.h"
#include "../sweep.h"
#include "tokenizer.h"

/* Architectures (config.json model_type; the fields read are listed in hfconfig.h; a GGUF file's
 * general.architecture llama or gemma3, see gguf_model.h):
 *   arch       pos_encoding  causal  default BOS policy
 *   bert       learned       0       add: [CLS] x [SEP] ("none" gives x [SEP])
 *   gpt2       learned       1       none (x as given)
 *   llama      rope          1       add: [BOS] x, with config.json's bos_token_id (none when it has none)
 *   bloom      alibi         1       none
 *   gpt_neox   rope          1       none (partial rotary: rotary_pct of each head)
 *   gemma3     rope          1       add: [BOS] x (model_type gemma3_text, or gemma3's text_config; local
 *                                    sliding-window and global layers, QK-norm; GGUF: add_bos_token)
 * A model path is a Hugging Face directory or a .gguf file (general.architecture llama or gemma3, e.g.
 * SmolLM2 and Gemma-3): its weights are dequantized to fp32 at load and its tokenizer comes from the file.
 * The decoders' policies follow what their Hugging Face tokenizers do by default. bos_id and eos_id of
 * the decoders come from config.json (bos_token_id, eos_token_id); cls_id and sep_id stay -1. */
enum { SS_TRAIN_META_LEN = 1024 };

typedef struct {
    char arch[32];          /* "bert", "gpt2", "llama", "bloom", "gpt_neox", "gemma3" */
    char pos_encoding[32];  /* "learned", "rope", "alibi" ("none" for a GPT-NeoX with rotary_pct 0) */
    int n_layers, n_heads, n_kv_heads, d_model, d_head, d_ff, n_vocab, max_positions;
    int causal;             /* 0: encoder (bidirectional); 1: decoder (causal mask only, one unpadded sequence) */
    int32_t bos_id, eos_id, cls_id, sep_id, pad_id, unk_id; /* -1 when the model has none */
    ss_bos_policy default_bos; /* resolved meaning of model_default: SS_BOS_ADD or SS_BOS_NONE */
    /* config.json's "sinkscope_train" (a checkpoint of `sinkscope train`: step, seed, encoding, losses) as compact
     * JSON with sorted keys; "" for any other model. Recorded in the results file (/models/<m> attribute train). */
    char train[SS_TRAIN_META_LEN];
} ss_model_info;

typedef struct ss_model ss_model;

/* Reads config.json (and the tokenizer's special ids) only, or a GGUF file's metadata: cheap, used at plan
 * time. dir is a model directory or a .gguf file (as for every function below). */
ss_status ss_model_probe(const char *dir, ss_model_info *info);
/* Loads everything: safetensors weights are mmap'd, GGUF weights are dequantized to fp32 into memory the
 * model owns; the tokenizer is loaded (a missing tokenizer is an error). */
ss_status ss_model_load(const char *dir, ss_model **out);
/* The same without the tokenizer, for callers that feed token ids themselves (tests, tiny random
 * models without tokenizer files): ss_model_tokenizer returns NULL, ss_model_forward works as usual. */
ss_status ss_model_load_weights_only(const char *dir, ss_model **out);
const ss_model_info *ss_model_get_info(const ss_model *m);
const ss_tokenizer *ss_model_tokenizer(const ss_model *m); /* NULL after ss_model_load_weights_only */
/* The weight tensors as stored in the model's file(s): for i < ss_model_n_weights, ss_model_weight sets
 * *name (the file's tensor name: "blk.0.attn_q.weight" for GGUF) and *type (its stored type: a
 * safetensors dtype "F32", or a ggml type "Q4_1", "Q8_0", ...) and returns 1; 0 when i is out of range.
 * GGUF: the tensors converted to fp32 at load; safetensors: every tensor of the files. */
int ss_model_n_weights(const ss_model *m);
int ss_model_weight(const ss_model *m, int i, const char **name, const char **type);
/* buf = the stored types with their tensor counts, most frequent first: "Q4_K 121, Q6_K 13, F32 55"
 * (what a results file records as the model's source quantisation). Cut at cap (always terminated). */
void ss_model_weight_types(const ss_model *m, char *buf, size_t cap);
/* cls[t] = the class (capture.h SS_TOK_*) of token ids[t] at position t, for t < n. */
void ss_model_token_classes(const ss_model *m, const int32_t *ids, int n, uint8_t *cls);
/* A .gguf file: the sha256 (hex) of the file. A directory:
 * sha256 (hex) over config.json, the weight files and the tokenizer files, in a fixed order:
 * config.json; tokenizer.json, tokenizer_config.json, special_tokens_map.json, vocab.txt (those
 * present); model.safetensors, or else model.safetensors.index.json then its shards sorted by name.
 * Each file enters as its name, a NUL, its size (u64 little-endian), then its bytes. */
ss_status ss_model_hash(const char *dir, char hex[65]);

/* The special tokens a BOS policy puts around the content: for BERT, model_default and bos give
 * [CLS] x [SEP]; none gives x [SEP]. pre/post have room for 2 ids each. */
void ss_model_frame(const ss_model_info *info, ss_bos_policy bos, int32_t *pre, int *n_pre, int32_t *post, int *n_post);

/* Runs the model on ids[0..n) in fp32 and fills cap (which the model allocates; free with
 * ss_capture_free). Fails with SS_ERR_RANGE when n exceeds max_positions or an id is out of the vocabulary.
 * Every capture.h buffer is filled (attention, hidden states, q/k before and after the positional
 * encoding, v, the attention outputs) for every layer.
 * Ownership: *cap is overwritten (zeroed first), so free a previous capture before passing it again;
 * its buffers are allocated per call and belong to the caller until ss_capture_free (which zeroes the
 * struct; freeing twice is harmless). On failure *cap is left zeroed.
 * The per-token scratch (q, k, v, FFN activations) lives in the model, grows to the longest prompt
 * seen and is reused, so one model must not run two forward passes at once (one model per thread). */
ss_status ss_model_forward(ss_model *m, const int32_t *ids, int n, ss_capture *cap);
/* The backend the following forward passes compute on (backend.h; NULL: the CPU). Moving to a backend that
 * is not host memory uploads the weights (fp32, dequantized for GGUF) once and keeps them there until the
 * model is freed or moved again; the capture still arrives in host memory. On failure (device memory) the
 * model stays on the CPU and the message says why. */
ss_status ss_model_set_backend(ss_model *m, const ss_backend *be);
/* on = 1: on a device backend, the following forward passes keep the attention maps on the device and return
 * their summaries instead (capture.h: attn NULL, col_mean and alpha set), so that the maps never cross PCIe; for
 * tasks whose analyses all read only the summaries (analysis.h attn_summary_ok). No effect on the CPU. */
void ss_model_set_attn_summaries(ss_model *m, int on);
/* Bytes of weights the model's backend holds (0 on the CPU, which uses them in place). */
size_t ss_model_backend_bytes(const ss_model *m);
/* Positional-encoding ablation for the following forward passes (sweep.h, ss_encoding_spec; NULL or
 * type native restores the model as trained). SS_ERR_UNSUPPORTED, with the reason as the message,
 * when the encoding does not apply to this model (the task is then recorded as skipped). */
ss_status ss_model_set_encoding(ss_model *m, const ss_encoding_spec *enc);

/* ---------------------------------------------------------------------------------------- gradients
 * The gradient of the language-model loss of one prompt with respect to every weight tensor, for the Fisher
 * analysis (science notes b9). The loss is the mean next-token cross-entropy over positions 0..T-2 (target
 * ids[t+1]; T = 1 gives loss 0 and zero gradients), with logits = hidden[L]·Wᵀ where W is the untied LM head
 * (lm_head.weight, GPT-NeoX's embed_out.weight) when the weights hold one and the token embedding otherwise
 * (tied). The forward activations come from cap (which must be this model's latest ss_model_forward, native
 * encoding); what the capture does not hold (normed inputs, MLP intermediates) is recomputed from it. Computed
 * on the CPU in fp32 (sums of squares in double), whatever backend the forward pass ran on.
 * Groups: per layer, attention (q, k, v, o projections and their biases, QK-norm weights), MLP (every MLP
 * matrix and bias) and norms (the layer's other norm weights and biases); outside the layers, the embedding
 * tables (token, learned positions, BLOOM's embedding LayerNorm), the final norm, and the untied LM head. */
typedef enum {
    SS_PG_ATTENTION = 0, SS_PG_MLP, SS_PG_NORM, SS_PG_EMBEDDING, SS_PG_FINAL_NORM, SS_PG_LM_HEAD, SS_PG_COUNT
} ss_param_group;

typedef struct {
    double loss;   /* the mean cross-entropy (nats) */
    int n_targets; /* T − 1 */
    /* [n_layers] each, owned by the caller (NULL: not wanted); zeroed, then the sums of squared gradients
     * Σ (∂L/∂θ)² over the group's parameters. layer[l] = attention[l] + mlp[l] + norms[l]. */
    double *layer, *attention, *mlp, *norms;
    double embedding, final_norm, lm_head; /* the same for the groups outside the layers (lm_head 0 when tied) */
    int has_final_norm;                    /* 0: the model has none (post-LN) */
    int has_lm_head;                       /* 1: an untied LM head (else the embedding is the head) */
} ss_grad_norms;

/* Called once or more per weight tensor with a slice of its gradient: grad[0..n) is ∂L/∂θ for the elements
 * offset..offset+n of tensor name (the weights' own name, e.g. "model.layers.0.self_attn.q_proj.weight";
 * layer -1 outside the layers). The slices of one tensor come in order and cover it once. */
typedef void (*ss_grad_visit)(void *ctx, const char *name, int layer, ss_param_group group, const float *grad,
                              size_t offset, size_t n);

/* Fills out (and calls visit, when not NULL, for every tensor). SS_ERR_UNSUPPORTED, with the reason, for an
 * architecture without a backward pass (bert: no LM head; the ones not implemented yet) or an encoding other
 * than native; SS_ERR_INPUT when cap is not this model's; SS_ERR_NOMEM. */
ss_status ss_model_grad_norms(const ss_model *m, const ss_capture *cap, ss_grad_norms *out, ss_grad_visit visit,
                              void *ctx);

void ss_capture_free(ss_capture *cap);
/* Frees the arena ss_capture_free keeps for the calling thread's next capture (see model.c). */
void ss_capture_release_cache(void);
void ss_model_free(ss_model *m);

#endif
