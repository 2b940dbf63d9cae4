/* unigram.h: the SentencePiece-style Unigram tokenizer that Gemma uses, as Hugging Face runs it
 * (tokenizers' Unigram model with byte fallback, built by transformers from a GGUF's vocabulary):
 *   1. control tokens written literally in the text are matched first (longest first);
 *   2. the rest is normalised by replacing every ' ' with U+2581 '▁' (no prefix space is added);
 *   3. each piece of text is split by Viterbi: the segmentation whose summed piece scores is highest;
 *      normal and user-defined pieces take part (Gemma's whitespace runs are user-defined); a character
 *      no piece covers is unknown, and byte fallback writes its UTF-8 bytes as <0xXX> tokens.
 * Piece texts follow transformers' GGUF conversion: <0x09> stands for a literal tab, and a piece made
 * only of spaces stands for as many '▁'. */
#ifndef SS_UNIGRAM_H
#define SS_UNIGRAM_H

#include <stdint.h>

#include "../status.h"

typedef struct ss_unigram ss_unigram;

/* GGUF token types (tokenizer.ggml.token_type). */
enum { SS_TOK_NORMAL = 1, SS_TOK_UNKNOWN = 2, SS_TOK_CONTROL = 3, SS_TOK_USER_DEFINED = 4, SS_TOK_UNUSED = 5,
       SS_TOK_BYTE = 6 };

/* pieces[i] (len[i] bytes), scores[i], types[i] for i < n; unk_id the unknown token. Copies what it needs. */
ss_status ss_unigram_new(const char *const *pieces, const uint64_t *len, const float *scores, const int32_t *types,
                         int n, int32_t unk_id, ss_unigram **out);
/* Content ids of text (no BOS/EOS added). *ids is malloc'd (non-NULL even when *n is 0). */
ss_status ss_unigram_encode(const ss_unigram *u, const char *text, int32_t **ids, int *n);
int ss_unigram_vocab_size(const ss_unigram *u);
int ss_unigram_is_special(const ss_unigram *u, int32_t id); /* control, user-defined, unknown, unused, byte */
const char *ss_unigram_piece(const ss_unigram *u, int32_t id);
int32_t ss_unigram_id(const ss_unigram *u, const char *piece);
void ss_unigram_free(ss_unigram *u);

#endif
