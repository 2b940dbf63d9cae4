/* capture.h: what one forward pass exposes to the analyses.
 *
 * Dimensions: L layers, H query heads, H_kv key/value heads (H_kv = H without grouped-query
 * attention; query head h reads KV head h·H_kv/H, rounded down), T tokens, d = d_model, d_h = d_head.
 * Every buffer is filled for every layer by every architecture; all live in one arena allocated per
 * forward pass and freed by ss_capture_free (model.h), which keeps the thread's largest arena for the
 * next pass. Row-major, index order as written.
 *
 * Notation as in the science docs: q and k are taken after the positional encoding (RoPE) and after
 * any QK-norm; q_pre and k_pre before it. Models without a rotary encoding (BERT and GPT-2 with learned
 * positions, BLOOM with ALiBi, which biases the scores instead) have q_pre == q and k_pre == k (equal
 * contents, separate buffers). Values carry no positional encoding in any supported model. */
#ifndef SS_CAPTURE_H
#define SS_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

/* Token classes, in the order a token is tested: a start special (BOS, [CLS]) or an end special (EOS,
 * [SEP]) by id, whatever the position; otherwise the first position; otherwise punctuation (the token's
 * text, without the tokenizer's word markers "Ġ", "▁", "##" and whitespace, is non-empty and only
 * ASCII punctuation, or a newline); otherwise content. */
enum { SS_TOK_CONTENT = 0, SS_TOK_FIRST = 1, SS_TOK_START = 2, SS_TOK_END = 3, SS_TOK_PUNCT = 4, SS_TOK_N_CLASSES = 5 };

typedef struct {
    int n_layers, n_heads, n_kv_heads, n_tokens, d_model, d_head;
    int causal;            /* 1: A[l][h][i][j] = 0 for j > i */
    const int32_t *tokens; /* [T] token ids */
    float *attn;           /* [L][H][T][T] attention probabilities; row i = query, column j = key; rows sum to 1 */
    /* [L+1][T][d] Hugging Face's hidden_states: index 0 is the embedding output (after the embedding
     * LayerNorm for BERT and BLOOM), index l (0 < l < L) the residual stream leaving layer l-1 and
     * entering layer l. Index L is the model's last hidden state: for BERT the output of the last
     * layer; for the decoders (GPT-2, Llama, BLOOM, GPT-NeoX) that output AFTER the final norm
     * (ln_f / norm / final_layer_norm), exactly as HF returns it. */
    float *hidden;
    float *hidden_prenorm; /* [T][d] the residual stream leaving layer L-1 before any final norm (BERT: = hidden[L]) */
    float *q_pre, *q;      /* [L][H][T][d_h] queries before / after the positional encoding (projection + bias) */
    float *k_pre, *k;      /* [L][H_kv][T][d_h] keys before / after the positional encoding */
    float *v;              /* [L][H_kv][T][d_h] values */
    float *attn_out;       /* [L][T][d] attention block output: after W_O (+ bias), before the residual add */
    /* Attention summaries [L][H][T], for a pass whose attention maps stayed on a device (attn is then NULL;
     * ss_model_set_attn_summaries): col_mean[l][h][j] = (1/T) Σ_i A_ij (sink.h ss_column_mean) and alpha[l][h][j]
     * = ss_column_importance_window of the layer's matrix. NULL whenever attn is there: read attn then. */
    float *col_mean, *alpha;
    /* [L] the sliding window of each layer: query i sees keys j with i − window < j <= i; 0 = no window
     * (every key up to the causal mask). Gemma-3's local layers have one; every other layer 0. */
    int32_t *window;
    /* [L] each layer's attention output projection W_O, as the model holds it (not a copy): [d][H·d_h]
     * (nn.Linear, out × in) or, with w_o_conv1d = 1 (GPT-2's Conv1D), [H·d_h][d]. Head h's block is
     * columns (rows) h·d_h .. (h+1)·d_h − 1. Valid while the model is loaded. The bias is not part of
     * any head's path and is left out. */
    const float **w_o;
    int w_o_conv1d;
    /* [T] the class of each token (science.md b0): SS_TOK_* below. Set by ss_model_forward from the
     * model's special ids and tokenizer (content and first position only when it has no tokenizer). */
    uint8_t *token_class;
    /* The model that produced this capture (set by ss_model_forward; NULL for hand-built captures). Analyses that
     * need the weights (fisher: model.h's ss_model_grad_norms) read them through it; valid while the model is
     * loaded, and the model must not run another forward pass meanwhile (the runner's tasks are sequential). */
    const struct ss_model *model;
    void *arena;           /* the block every buffer above points into (model.c owns it) */
    size_t arena_size;     /* its size in bytes */
} ss_capture;

/* Layer l's window (0 when the capture has no window array, as hand-built test captures). */
static inline int ss_capture_window(const ss_capture *c, int l) { return c->window ? c->window[l] : 0; }
/* Token t's class, or -1 when the capture has none. */
static inline int ss_capture_class(const ss_capture *c, int t) { return c->token_class ? c->token_class[t] : -1; }

#endif
