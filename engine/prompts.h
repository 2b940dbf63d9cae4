/* prompts.h: prompt sets. Files (.txt, .jsonl, .csv) and the natural generator give text, which the
 * model's tokenizer encodes; the random and repeated generators draw token ids from the model's
 * vocabulary. Either way the BOS policy frame is applied here, so every task sees final ids. */
#ifndef SS_PROMPTS_H
#define SS_PROMPTS_H

#include <stdint.h>

#include "model/model.h"
#include "status.h"
#include "sweep.h"

typedef struct ss_prompt_set ss_prompt_set;

/* Loads the set's texts (files, built-in natural set). Errors name the file and line. */
ss_status ss_prompts_open(const ss_prompt_spec *spec, ss_prompt_set **out);
int ss_prompts_count(const ss_prompt_set *ps);
/* The text of prompt i, or NULL for token generators. */
const char *ss_prompts_text(const ss_prompt_set *ps, int i);

/* The natural generator has two forms: without `length`, prompt i is sentence i of the built-in set;
 * with `length` = T, prompt i is a passage of exactly T tokens (specials included) made of
 * consecutive sentences, starting at sentence perm[i] of a seeded permutation and wrapping around,
 * cut at T tokens for each model's own tokenizer (Gu et al. use the first 64 tokens of natural text). */

/* Final token ids of prompt i for model m under a BOS policy. ids must have room for max_tokens.
 * A prompt longer than max_tokens fails with SS_ERR_RANGE unless truncate is set. */
ss_status ss_prompts_tokens(const ss_prompt_set *ps, int i, const ss_model *m, ss_bos_policy bos, int max_tokens,
                            int truncate, int32_t *ids, int *n);
void ss_prompts_free(ss_prompt_set *ps);

/* Generators on their own, for tests: deterministic in (seed, index). is_special(ctx, id) != 0
 * excludes an id. out has room for n ids. */
typedef int (*ss_is_special_fn)(const void *ctx, int32_t id);
void ss_gen_random_tokens(uint64_t seed, int index, int n, int n_vocab, ss_is_special_fn is_special, const void *ctx,
                          int32_t *out);
int32_t ss_gen_repeated_token(uint64_t seed, int index, int n_vocab, ss_is_special_fn is_special, const void *ctx);

/* The built-in natural-text set (experiments/data/natural.txt, compiled in). */
int ss_natural_count(void);
const char *ss_natural_text(int i);

#endif
