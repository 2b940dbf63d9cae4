/* export.h: a trained model (sinkscope train, issue 8) written as a Hugging Face-style model directory that
 * ss_model_load reads like any pretrained model: config.json + model.safetensors + tokenizer.json.
 *
 * The model (what the trainer computes; the export makes the engine compute the same):
 *   x = wte[ids] (+ wpe[t] for learned / sinusoidal);  alibi: x = LayerNorm_emb(x)
 *   pre-LN block:  x += attn(LN1(x))·Woᵀ + bo;  x += gelu_tanh(LN2(x)·W_fcᵀ + b_fc)·W_projᵀ + b_proj;
 *                  after the last block the final LN (lnf)
 *   post-LN block: x = LN1(x + attn(x)·Woᵀ + bo);  x = LN2(x + MLP(x)); no final LN
 *   attention: q, k, v = x·Wᵀ + b; head h = columns [h·d_h, (h+1)·d_h); scale 1/√d_h; causal;
 *     rope: rotate_half pairs (i, i + d_h/2) over all d_h columns, θ = 10000; alibi: BLOOM's slopes
 *     (ss_alibi_slopes); learned / sinusoidal / none: nothing inside attention
 *   logits = final · wteᵀ (tied)
 * Vocabulary: 256 byte tokens (id = byte value), plus "<|endoftext|>" = 256 when bos_id >= 0 (n_vocab 257).
 *
 * How each encoding is written (model_type, tensor layout), checked against engine/model and transformers:
 *   learned, sinusoidal  gpt2 (GPT2LMHeadModel names under "transformer."): c_attn = [q | k | v] as one Conv1D,
 *                        every Conv1D weight stored [in][out] (transposed); wpe holds the learned or the fixed
 *                        sinusoidal table; activation_function gelu_new; lm_head tied (not stored).
 *   rope, none           gpt_neox (GPTNeoXForCausalLM names): query_key_value fused per head, rows [H][3][d_h];
 *                        use_parallel_residual false; rotary_pct 1 (rope) or 0 (none), rotary_emb_base 10000;
 *                        hidden_act gelu_new; embed_out = a copy of wte (tie_word_embeddings false).
 *   alibi                bloom (BloomForCausalLM names under "transformer."): query_key_value fused per head as
 *                        for gpt_neox; word_embeddings_layernorm = emb_ln; BLOOM's MLP is 4d wide, so d_ff must
 *                        be 4·d_model; lm_head tied.
 *   post-LN (any encoding): config.json "sinkscope_post_ln": true (a sinkscope extension that gpt2.c, neox.c and
 *                        bloom.c read, hfconfig.h; Hugging Face does not read it, so transformers computes such a
 *                        checkpoint as pre-LN, wrongly) and no final LN tensor; the block norms are written as
 *                        ln_1 / ln_2 (input_layernorm / post_attention_layernorm): LN1 after the attention, LN2
 *                        after the MLP.
 * Every config has max positions = n_ctx (bloom: seq_length), bos_token_id = eos_token_id = bos_id (null when
 * bos_id < 0), and metadata_json under "sinkscope_train". The engine's default BOS policy for these model types is
 * none (as for GPT-2): a BOS is prepended only when a sweep asks for it (`bos: add`).
 * tokenizer.json: byte-level BPE (ByteLevel pre-tokenizer, add_prefix_space false), vocabulary = the 256 GPT-2
 * byte symbols with id = byte value, no merges; "<|endoftext|>" as a special added token when bos_id >= 0. The
 * engine's tokenizer decodes text as UTF-8 first (an ill-formed sequence becomes U+FFFD's three bytes), so
 * valid UTF-8 text encodes to exactly its bytes. */
#ifndef SS_TRAIN_EXPORT_H
#define SS_TRAIN_EXPORT_H

#include "../status.h"

typedef enum { SS_TR_PE_LEARNED, SS_TR_PE_SINUSOIDAL, SS_TR_PE_ROPE, SS_TR_PE_ALIBI, SS_TR_PE_NONE } ss_tr_posenc;

typedef struct {
    const float *ln1_g, *ln1_b;               /* [d] */
    const float *wq, *bq, *wk, *bk, *wv, *bv; /* W [d][d] in nn.Linear layout [out][in]; b [d] */
    const float *wo, *bo;                     /* [d][d], [d] */
    const float *ln2_g, *ln2_b;               /* [d] */
    const float *w_fc, *b_fc;                 /* [d_ff][d], [d_ff] */
    const float *w_proj, *b_proj;             /* [d][d_ff], [d] */
} ss_tr_export_layer;

typedef struct {
    int n_layers, d_model, n_heads, d_ff, n_ctx, n_vocab; /* d_head = d_model / n_heads */
    ss_tr_posenc pe;
    int post_ln;                      /* 0: pre-LN (x += f(LN(x)), final LN), 1: post-LN (x = LN(x + f(x)), no final LN) */
    float ln_eps;
    int bos_id;                       /* -1: none; else the id of "<|endoftext|>" (the tokenizer's BOS/EOS), 256 */
    const float *wte;                 /* [n_vocab][d]; the LM head is tied to it */
    const float *wpe;                 /* [n_ctx][d] for learned and sinusoidal (the fixed table), else NULL */
    const float *emb_ln_g, *emb_ln_b; /* [d] BLOOM's word_embeddings_layernorm, alibi only, else NULL */
    const ss_tr_export_layer *layers; /* [n_layers] */
    const float *lnf_g, *lnf_b;       /* [d] final LN (pre-LN only, NULL for post-LN) */
    const char *metadata_json;        /* optional JSON object text stored as config.json's "sinkscope_train" */
} ss_tr_export_model;

/* The positional encoding's name: "learned", "sinusoidal", "rope", "alibi", "none" ("?" out of range). */
const char *ss_tr_posenc_name(ss_tr_posenc pe);

/* Writes dir/config.json, dir/model.safetensors, dir/tokenizer.json (creating dir and its parents; each file
 * written to a temp name and renamed, config.json last, so a crash never leaves a half-written checkpoint that
 * loads). An inconsistent model (sizes, a missing tensor, bad metadata_json): SS_ERR_INPUT; a combination no
 * loader supports (alibi with d_ff != 4·d_model): SS_ERR_UNSUPPORTED; a write failure:
 * SS_ERR_IO. Existing files of the same names are replaced. */
ss_status ss_tr_export(const char *dir, const ss_tr_export_model *m);

#endif
