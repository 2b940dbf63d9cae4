/* tokenizer.h: text -> token ids. Content tokens only; the special-token frame ([CLS] ... [SEP],
 * BOS) is applied by the caller from the model's BOS policy (model.h, ss_model_frame). */
#ifndef SS_TOKENIZER_H
#define SS_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "../status.h"

typedef struct ss_tokenizer ss_tokenizer;

/* Loads tokenizer.json (preferred) or vocab.txt from a Hugging Face model directory. tokenizer.json may hold a
 * WordPiece model or a byte-level BPE model (model.type "BPE" with a ByteLevel pre-tokenizer); vocab.txt is
 * WordPiece. model_dir may also be a .gguf file: its tokenizer.ggml.* metadata gives the BPE ("gpt2") or
 * Unigram ("llama") tokenizer (gguf_model.h). */
ss_status ss_tokenizer_load(const char *model_dir, ss_tokenizer **out);
/* Builds a byte-level BPE tokenizer from in-memory arrays, as a GGUF file holds them (tokenizer.ggml.model
 * "gpt2"): tokens[i] is the byte-level string of id i (tokenizer.ggml.tokens), merges[r] the merge of rank r
 * as "left right" (tokenizer.ggml.merges), token_types the llama.cpp token types (tokenizer.ggml.token_type;
 * NULL: all normal): control (3) and user-defined (4) tokens are matched verbatim in the raw text before
 * pre-tokenization, as Hugging Face's added tokens are, and types 2-5 (unknown, control, user-defined, unused)
 * are special. pre_type is tokenizer.ggml.pre: "gpt2", "llama-bpe" or "smollm". Everything is copied. */
ss_status ss_tokenizer_from_bpe(const char *const *tokens, int n_tokens, const char *const *merges, int n_merges,
                                const int32_t *token_types, const char *pre_type, ss_tokenizer **out);
/* Builds the SentencePiece-style Unigram tokenizer with byte fallback (Gemma; a GGUF's tokenizer.ggml.model
 * "llama") from in-memory arrays: pieces[i] (len[i] bytes, tokenizer.ggml.tokens), scores[i]
 * (tokenizer.ggml.scores), types[i] (tokenizer.ggml.token_type; NULL: all normal) for i < n, and unk_id
 * (tokenizer.ggml.unknown_token_id). Behaviour in unigram.h. Everything is copied. */
ss_status ss_tokenizer_from_unigram(const char *const *pieces, const uint64_t *len, const float *scores,
                                    const int32_t *types, int n, int32_t unk_id, ss_tokenizer **out);
/* Encodes text to content ids (no special tokens added). *ids is malloc'd; caller frees. */
ss_status ss_tokenizer_encode(const ss_tokenizer *t, const char *text, int32_t **ids, int *n);
int ss_tokenizer_vocab_size(const ss_tokenizer *t);
/* 1 for added/special tokens ([PAD], [CLS], [unused7], <|im_start|>, ...) that random prompts must not draw. */
int ss_tokenizer_is_special(const ss_tokenizer *t, int32_t id);
const char *ss_tokenizer_token(const ss_tokenizer *t, int32_t id); /* NULL when out of range */
int32_t ss_tokenizer_id(const ss_tokenizer *t, const char *token);   /* -1 when absent */
const char *ss_tokenizer_kind(const ss_tokenizer *t);                /* "wordpiece", "bpe" or "unigram" */
void ss_tokenizer_free(ss_tokenizer *t);
/* out = the symbol of byte b in GPT-2's byte-to-unicode table (what byte-level BPE vocabularies are written
 * in), UTF-8 and NUL-terminated; returns its length (1 or 2). */
size_t ss_bpe_byte_symbol(unsigned char b, char out[3]);

#endif
