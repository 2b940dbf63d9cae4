/* rope.h: rotary position embedding (RoPE), both pairings, full or partial rotary.
 *
 * Dimensions: T positions, n heads of d_h columns, of which the first r (rot_dims, even, <= d_h) are
 * rotated and the other d_h - r pass through unchanged (GPT-NeoX rotary_pct < 1; r = d_h otherwise).
 * Frequency i (0 <= i < r/2) turns by angle(t, i) = t · θ^(−2i/r) at position t.
 *
 * Which two columns form the pair turned by frequency i:
 *   SS_ROPE_HALF      (i, i + r/2)   Hugging Face checkpoints (Llama "rotate_half", GPT-NeoX; llama.cpp NEOX)
 *   SS_ROPE_ADJACENT  (2i, 2i + 1)   the original paper and llama-family GGUF files, whose converter
 *                                    permuted the Q/K rows (llama.cpp NORM)
 * For a pair (a, b) and angle φ:  a' = a·cos φ − b·sin φ,  b' = b·cos φ + a·sin φ.
 * The two pairings are the same rotation after permuting columns; choosing the wrong one silently
 * changes every attention map.
 *
 * The tables are computed in fp32 the way Hugging Face does (transformers 4.40, Llama and GPT-NeoX):
 *   inv_freq[i] = 1 / θ^(2i/r)   (fp32),   φ = fl32(t · inv_freq[i]),   cos φ, sin φ in fp32,
 * so long positions round as they do there. There is no BLAS path: the reference is what runs. */
#ifndef SS_KERNELS_ROPE_H
#define SS_KERNELS_ROPE_H

typedef enum { SS_ROPE_HALF = 0, SS_ROPE_ADJACENT = 1 } ss_rope_pairing;

/* cos_t, sin_t [T][r/2]: the tables for positions 0..T-1. */
void ss_rope_tables(float *cos_t, float *sin_t, int T, int rot_dims, double theta);

/* Rotates x [n][T][d_h] in place (n heads, row t is position t), using tables from ss_rope_tables
 * with the same rot_dims and at least T rows. */
void ss_rope_apply_ref(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                       const float *sin_t);

const char *ss_rope_pairing_name(ss_rope_pairing p); /* "half" or "adjacent" */

#endif
