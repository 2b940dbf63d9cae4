/* gguf_model.h (internal to engine/model): a GGUF file (llama.cpp) as a sinkscope model. model.c uses it
 * when a model path is a GGUF file; the architectures (llama.c, gemma3.c) then load exactly as they do
 * from a Hugging Face directory.
 *
 * Supported general.architecture values: "llama" (SmolLM2 and other Llama-family files) and "gemma3".
 *
 * Configuration (ss_gguf_model_config): the <arch>.* hyper-parameters become the ss_hfconfig that the
 * same model's config.json would give, following transformers' GGUF loader (integrations/ggml.py):
 *   llama   block_count, embedding_length, feed_forward_length, attention.head_count, head_count_kv
 *           (absent: = heads), context_length, rope.freq_base (absent: 10000), rope.dimension_count (must
 *           equal the head size when present), attention.layer_norm_rms_epsilon (absent: 1e-5);
 *           the vocabulary is <arch>.vocab_size, else the number of tokenizer.ggml.tokens.
 *   gemma3  the same keys plus attention.key_length (the head size; value_length must match),
 *           attention.sliding_window (required), rope.freq_base = the global layers' base (absent: 1e6).
 *           Not in the file, fixed as llama.cpp and transformers' Gemma3TextConfig defaults do: the local
 *           layers' RoPE base 10000; the layer pattern 5 local then 1 global (layer l is global iff
 *           (l + 1) % 6 == 0); the attention scale 1/√head_size (transformers: query_pre_attn_scalar,
 *           default 256; llama.cpp: 1/√head_size; both are 1/16 for the 270M model's head of 256);
 *           eps absent: 1e-6.
 * Special ids: tokenizer.ggml.{bos,eos,padding,unknown}_token_id (absent: -1). The default BOS policy
 * follows tokenizer.ggml.add_bos_token (absent: add for a "llama" (SentencePiece) vocabulary, none for
 * "gpt2", as llama.cpp). SmolLM2's file says false, so its default is none; transformers' converted
 * tokenizer prepends BOS anyway (its LlamaTokenizerFast default), which sinkscope does not copy.
 *
 * Weights (ss_gguf_model_weights): every tensor the architecture uses is dequantized to fp32 at load into
 * one buffer owned by the model (kernels/dequant.h, bit-identical to the gguf package), and exposed as a
 * read-only ss_safetensors table of F32 tensors under Hugging Face's names ("model.layers.N...."), with
 * Hugging Face's [out][in] shapes. Two conversions undo what llama.cpp's converter did, exactly as
 * transformers' GGUF loader does:
 *   llama   attn_q / attn_k rows are un-permuted (the converter interleaved each head's two halves so
 *           that RoPE could rotate adjacent pairs): HF row h·d_h + p·d_h/2 + i = GGUF row h·d_h + 2i + p.
 *           The model then rotates half-split pairs like the HF checkpoint, and q/k captures have HF's
 *           column order. (Rotating adjacent pairs on the stored rows gives the same attention and hidden
 *           states with the q/k columns permuted; sinkscope does not do that.)
 *   gemma3  every *norm.weight (attention, QK, FFN, final) is stored with Gemma's +1 folded in; w − 1 (in
 *           fp32) is handed to gemma3.c, which forms 1 + w again, as transformers does.
 * The source ggml type of every tensor is recorded (ss_gguf_model_weights' names/types lists, exposed by
 * ss_model_weight). */
#ifndef SS_GGUF_MODEL_H
#define SS_GGUF_MODEL_H

#include "../status.h"
#include "gguf.h"
#include "hfconfig.h"
#include "safetensors.h"
#include "tokenizer.h"

/* 1 when path is a regular file that starts with the GGUF magic. */
int ss_gguf_model_is_gguf(const char *path);

/* The configuration of the GGUF's model (see above); no weights are read. Unsupported architecture:
 * SS_ERR_INPUT; a missing or inconsistent key: SS_ERR_FORMAT naming the file and the key. */
ss_status ss_gguf_model_config(const ss_gguf *g, ss_hfconfig *cfg);

/* The dequantized weights as an ss_safetensors of F32 tensors (free with ss_st_free; its data points into
 * *arena, which the caller frees with free() after the table). *names / *types [*n] list every GGUF
 * tensor converted (token_embd, then layer by layer, output_norm last) with its ggml type name ("Q4_1");
 * *names holds malloc'd strings, the types are static; free with ss_gguf_model_free_names. A missing
 * tensor or one of another shape: SS_ERR_FORMAT naming the file and the tensor; attention biases (not
 * mapped): SS_ERR_INPUT. */
ss_status ss_gguf_model_weights(const ss_gguf *g, const ss_hfconfig *cfg, ss_safetensors **sf, float **arena,
                                char ***names, const char ***types, int *n);
void ss_gguf_model_free_names(char **names, const char **types, int n);

/* The tokenizer stored in the GGUF: tokenizer.ggml.model "gpt2" gives the byte-level BPE tokenizer (pre-
 * tokenizer from tokenizer.ggml.pre), "llama" the Unigram tokenizer (scores and token types from the file). */
ss_status ss_gguf_model_tokenizer(const ss_gguf *g, ss_tokenizer **out);

#endif
