/* tokenizer.h: text -> token ids. Content tokens only; the special-token frame ([CLS] ... [SEP],
 * BOS) is applied by the caller from the model's BOS policy (model.h, ss_model_frame). */
#ifndef SS_TOKENIZER_H
#define SS_TOKENIZER_H

#include <stdint.h>

#include "../status.h"

typedef struct ss_tokenizer ss_tokenizer;

/* Loads tokenizer.json (preferred) or vocab.txt from a Hugging Face model directory. */
ss_status ss_tokenizer_load(const char *model_dir, ss_tokenizer **out);
/* Encodes text to content ids (no special tokens added). *ids is malloc'd; caller frees. */
ss_status ss_tokenizer_encode(const ss_tokenizer *t, const char *text, int32_t **ids, int *n);
int ss_tokenizer_vocab_size(const ss_tokenizer *t);
/* 1 for added/special tokens ([PAD], [CLS], [unused7], ...) that random prompts must not draw. */
int ss_tokenizer_is_special(const ss_tokenizer *t, int32_t id);
const char *ss_tokenizer_token(const ss_tokenizer *t, int32_t id); /* NULL when out of range */
int32_t ss_tokenizer_id(const ss_tokenizer *t, const char *token);   /* -1 when absent */
const char *ss_tokenizer_kind(const ss_tokenizer *t);                /* "wordpiece" */
void ss_tokenizer_free(ss_tokenizer *t);

#endif
