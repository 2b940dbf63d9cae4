/* pretok.h: the pre-tokenizers of byte-level BPE tokenizers, as hand-written matchers over Unicode classes with
 * the semantics of Hugging Face tokenizers (its Oniguruma regexes: leftmost-first alternation with backtracking,
 * applied with find-all and the "Isolated" split behaviour; its Digits pre-tokenizer).
 *
 * A pre-tokenizer is a sequence of steps; each step splits every piece the previous one produced, seeing only
 * that piece (a lookahead such as (?!\S) stops at the piece's end), as pre_tokenizers.Sequence does. */
#ifndef SS_PRETOK_H
#define SS_PRETOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    SS_PRETOK_DIGITS,     /* Digits(individual_digits=true): every numeric character is a piece of its own */
    SS_PRETOK_DIGIT_RUNS, /* Digits(individual_digits=false): every run of numeric characters is one piece */
    SS_PRETOK_GPT2,       /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
    SS_PRETOK_LLAMA3      /* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
                             ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
} ss_pretok_step;

#define SS_PRETOK_MAX_STEPS 4

typedef struct {
    int n;
    ss_pretok_step step[SS_PRETOK_MAX_STEPS];
} ss_pretok;

/* The two regexes exactly as tokenizer.json spells them (a Split pattern is recognised by equality). */
extern const char ss_pretok_gpt2_regex[];
extern const char ss_pretok_llama3_regex[];

/* Writes the SS_UCB_* class (utf8.h) of each code point of s[0..n) into cls[0..n). */
void ss_pretok_classify(const uint32_t *s, size_t n, uint8_t *cls);

/* Length of the regex match that starts at s[i], within s[0..n) (0 when none); cls from ss_pretok_classify. */
size_t ss_pretok_gpt2_match(const uint32_t *s, const uint8_t *cls, size_t n, size_t i);
size_t ss_pretok_llama3_match(const uint32_t *s, const uint8_t *cls, size_t n, size_t i);

/* Called for each piece [start, end) (indices into s, non-empty, in order, together covering s).
 * A non-zero return stops the split and is passed back. */
typedef int (*ss_pretok_emit)(void *ctx, size_t start, size_t end);

/* Splits s[0..n) (classes cls) with the steps of p; returns 0 or the first non-zero value emit returned.
 * With no steps the whole text is one piece; an empty text gives none. */
int ss_pretok_split(const ss_pretok *p, const uint32_t *s, const uint8_t *cls, size_t n, ss_pretok_emit emit,
                    void *ctx);

#endif
