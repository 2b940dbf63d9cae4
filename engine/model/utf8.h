/* utf8.h: UTF-8 decoding/encoding and the Unicode character data that BERT normalisation needs
 * (character classes, canonical decomposition and combining classes for NFD, lower-casing).
 * Semantics follow the Hugging Face fast tokenizer (see gen_unicode_tables.py for the data and why). */
#ifndef SS_UTF8_H
#define SS_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define SS_UC_REPLACEMENT 0xFFFDu

/* Character classes (bit flags returned by ss_uc_props). */
#define SS_UC_OTHER 0x01u /* Cc, Cf, Co: dropped by clean_text (\t \n \r are whitespace instead) */
#define SS_UC_WS 0x02u    /* White_Space (Rust char::is_whitespace) */
#define SS_UC_PUNCT 0x04u /* ASCII punctuation or Unicode P*: split off by the BERT pre-tokenizer */
#define SS_UC_MN 0x08u    /* nonspacing mark: dropped after NFD when stripping accents */
#define SS_UC_CJK 0x10u   /* CJK ideograph padded with spaces by handle_chinese_chars */

/* The longest results of ss_uc_decompose and ss_uc_lower. */
#define SS_UC_MAX_DECOMP 4
#define SS_UC_MAX_LOWER 3

/* Decodes one code point from s[0..n) (n >= 1). Returns the code point and sets *len to the bytes used.
 * Ill-formed input (bad lead byte, truncated or overlong sequence, surrogate, > U+10FFFF) gives
 * U+FFFD for each maximal ill-formed subpart, as Python's errors="replace" does. */
uint32_t ss_utf8_decode(const unsigned char *s, size_t n, size_t *len);
/* Writes cp (<= U+10FFFF, not a surrogate) as UTF-8 into out; returns the byte count (1-4), 0 if invalid. */
size_t ss_utf8_encode(uint32_t cp, char out[4]);

unsigned ss_uc_props(uint32_t cp);

/* Byte-level BPE pre-tokenizer classes (bit flags returned by ss_uc_bpe_class), with the semantics of the
 * Oniguruma regexes and the Digits pre-tokenizer inside HF tokenizers (see gen_unicode_tables.py). */
#define SS_UCB_L 0x01u       /* \p{L} */
#define SS_UCB_N 0x02u       /* \p{N} */
#define SS_UCB_SPACE 0x04u   /* \s (White_Space) */
#define SS_UCB_NUMERIC 0x08u /* Rust char::is_numeric: what pre_tokenizers.Digits splits off */

unsigned ss_uc_bpe_class(uint32_t cp);
/* Canonical combining class (0 for starters and unknown code points). */
unsigned ss_uc_ccc(uint32_t cp);
/* Full canonical decomposition of cp (recursive, Hangul included), without reordering: writes up to
 * SS_UC_MAX_DECOMP code points and returns their count (1 and cp itself when it has none). */
size_t ss_uc_decompose(uint32_t cp, uint32_t out[SS_UC_MAX_DECOMP]);
/* Full lower-case mapping of one code point (no context: final sigma is not special): count written. */
size_t ss_uc_lower(uint32_t cp, uint32_t out[SS_UC_MAX_LOWER]);
/* Canonical ordering: stable sort by combining class of every run of non-starters in cps[0..n). */
void ss_uc_reorder(uint32_t *cps, size_t n);
/* Unicode version of the tables (e.g. "14.0.0"). */
const char *ss_uc_version(void);

#endif
