/* tokenizer_impl.h: the tokenizer kinds behind tokenizer.h (private to engine/model). tokenizer.c reads
 * tokenizer.json once, looks at model.type and hands the parsed document to the kind's loader; every public
 * function of tokenizer.h dispatches to the functions below. */
#ifndef SS_TOKENIZER_IMPL_H
#define SS_TOKENIZER_IMPL_H

#include <jansson.h> /* defines: json_t */
#include <stdint.h>

#include "../status.h"

/* ---------------------------------------------------------------- WordPiece (wordpiece.c) */
typedef struct ss_wordpiece ss_wordpiece;

/* root: the parsed tokenizer.json (model.type "WordPiece"); path names it in messages. */
ss_status ss_wordpiece_from_json(const char *path, const json_t *root, ss_wordpiece **out);
/* vocab.txt at path, with the optional tokenizer_config.json of model_dir. */
ss_status ss_wordpiece_from_vocab_txt(const char *model_dir, const char *path, ss_wordpiece **out);
ss_status ss_wordpiece_encode(const ss_wordpiece *t, const char *text, int32_t **ids, int *n);
int ss_wordpiece_vocab_size(const ss_wordpiece *t);
int ss_wordpiece_is_special(const ss_wordpiece *t, int32_t id);
const char *ss_wordpiece_token(const ss_wordpiece *t, int32_t id);
int32_t ss_wordpiece_id(const ss_wordpiece *t, const char *token);
void ss_wordpiece_free(ss_wordpiece *t);

/* ---------------------------------------------------------------- byte-level BPE (bpe.c) */
typedef struct ss_bpe ss_bpe;

/* root: the parsed tokenizer.json (model.type "BPE"); path names it in messages. */
ss_status ss_bpe_from_json(const char *path, const json_t *root, ss_bpe **out);
/* See ss_tokenizer_from_bpe (tokenizer.h). */
ss_status ss_bpe_from_arrays(const char *const *tokens, int n_tokens, const char *const *merges, int n_merges,
                             const int32_t *token_types, const char *pre_type, ss_bpe **out);
ss_status ss_bpe_encode(const ss_bpe *t, const char *text, int32_t **ids, int *n);
int ss_bpe_vocab_size(const ss_bpe *t);
int ss_bpe_is_special(const ss_bpe *t, int32_t id);
const char *ss_bpe_token(const ss_bpe *t, int32_t id);
int32_t ss_bpe_id(const ss_bpe *t, const char *token);
void ss_bpe_free(ss_bpe *t);

#endif
