/* encoding.h (internal to engine/model): the positional-encoding ablations of sweep.h's
 * ss_encoding_spec as the forward passes (bert.c, gpt2.c, llama.c, bloom.c, neox.c) apply them, and the
 * helpers they share: the sinusoidal table, a seeded permutation, the rotated dims of a RoPE fraction.
 *
 * An architecture keeps one ss_posenc in its state. ss_posenc_init records what the model does as
 * trained (learned position rows, RoPE dims/θ/pairing, ALiBi); ss_posenc_set resolves an encoding into
 * flags that the forward pass reads: what is added to the embeddings (ss_posenc_add), and the RoPE and
 * ALiBi of the attention (ss_posenc_attn). The weights are never touched, so native restores the model
 * as trained, bit for bit, after any other encoding. What each ablation does per architecture is
 * tabulated in experiments/README.md (grid.encoding[*]).
 *
 * Dimensions: T tokens, d = d_model, H heads of d_h columns, P learned position rows. */
#ifndef SS_ENCODING_H
#define SS_ENCODING_H

#include <stdint.h>

#include "../status.h"
#include "../sweep.h" /* ss_encoding_spec */
#include "decoder.h"  /* ss_scratch, ss_attn_cfg */
#include "rope.h"     /* ss_rope_pairing */

/* ------------------------------------------------------------------------------------------ helpers */

/* splitmix64 (Steele, Lea and Flood 2014): state += 0x9e3779b97f4a7c15; z = state;
 * z = (z ^ z >> 30)·0xbf58476d1ce4e5b9; z = (z ^ z >> 27)·0x94d049bb133111eb; returns z ^ z >> 31
 * (all mod 2^64). The same sequence on every platform. */
uint64_t ss_splitmix64(uint64_t *state);

/* perm[0..n) = the permutation of 0..n-1 that the encoding `shuffled` with this seed uses: start from
 * the identity, state = seed, then for i = n-1 down to 1: j = ss_splitmix64(&state) mod (i + 1) and
 * swap perm[i], perm[j] (Fisher–Yates; the modulo bias, below (i+1)/2^64, is part of the definition). */
void ss_seeded_permutation(int32_t *perm, int n, uint64_t seed);

/* table [T][d]: rows t0..t0+T-1 of the Transformer's sinusoidal table (Vaswani et al. 2017, 3.5),
 *   PE(t, 2i) = sin(t · 10000^(−2i/d)),  PE(t, 2i+1) = cos(t · 10000^(−2i/d)),
 * sin and cos interleaved as in the paper, computed in double and rounded to fp32 (for an odd d the
 * last column is a sin). */
void ss_sinusoidal_table(float *table, int t0, int T, int d);

/* The rotated columns of a head of d_h for a RoPE fraction: floor(fraction · d_h), rounded down to an
 * even number (as GPT-NeoX's int(d_h · rotary_pct), made even for the pairs); may be 0. */
int ss_rope_dims_for_fraction(int d_h, double fraction);

/* -------------------------------------------------------------------------------------- the state */

/* What is added to the embeddings at position t. */
typedef enum {
    SS_ABSPOS_NONE = 0,   /* nothing */
    SS_ABSPOS_LEARNED,    /* learned row t */
    SS_ABSPOS_SHUFFLED,   /* learned row perm[t], perm = ss_seeded_permutation(T, seed) */
    SS_ABSPOS_SINUSOIDAL  /* ss_sinusoidal_table row t */
} ss_abspos;

typedef struct {
    /* as trained (ss_posenc_init) */
    const char *arch;        /* config.json model_type, for messages */
    int H, d, d_h;
    const float *learned;    /* [P][d] learned position rows, or NULL */
    int native_rope_dims;    /* 0: no RoPE */
    double native_rope_theta;
    ss_rope_pairing native_pairing;
    int native_alibi;        /* 1: ALiBi as trained */
    float *slopes;           /* [H] ALiBi slopes (ss_alibi_slopes), owned */
    /* the current encoding (ss_posenc_set) */
    ss_encoding_type type;
    ss_abspos abs;
    uint64_t seed;           /* SHUFFLED */
    int rope_dims;           /* rotated columns per head; 0: no RoPE */
    ss_rope_pairing pairing;
    int alibi;               /* 1: ALiBi biases */
    /* per-length buffers, grown by ss_posenc_prepare and reused */
    float *sin_rows;         /* [n_sin][d] sinusoidal rows 0..n_sin-1 */
    int n_sin;
    int32_t *perm;           /* [perm_cap]; perm[0..perm_n) is the permutation for perm_n tokens, perm_seed */
    int perm_cap, perm_n;
    uint64_t perm_seed;
} ss_posenc;

/* Records the model as trained: learned rows [P][d] (or NULL), RoPE over rope_dims columns of each
 * head with theta and pairing (rope_dims 0: none), ALiBi (alibi = 1). The current encoding is native.
 * arch must outlive p. SS_ERR_NOMEM when the slopes cannot be allocated. */
ss_status ss_posenc_init(ss_posenc *p, const char *arch, int H, int d, int d_h, const float *learned, int rope_dims,
                         double rope_theta, ss_rope_pairing pairing, int alibi);
/* Makes enc the encoding of the following forward passes (NULL: native) and switches s's RoPE tables
 * to the θ and dims it needs. SS_ERR_UNSUPPORTED with the reason when it does not apply (shuffled
 * without learned rows; a rope fraction that rotates no column); SS_ERR_INPUT for parameters outside
 * the sweep's ranges. On any error p and s are left as they were. */
ss_status ss_posenc_set(ss_posenc *p, ss_scratch *s, const ss_encoding_spec *enc);
/* Before a forward pass of T tokens: grows the rows the current encoding adds (sinusoidal rows, the
 * permutation for T). SS_ERR_NOMEM leaves the old buffers valid. */
ss_status ss_posenc_prepare(ss_posenc *p, int T);
/* x [T][d] += the absolute position term of positions 0..T-1 (nothing when there is none), row by row
 * x[t][i] = x[t][i] + row[i], so that native reproduces "embedding + position row" exactly. x and tmp
 * ([T][d], overwritten by the shuffled rows) are f's backend memory; the learned rows must lie in one of f's
 * regions. Needs ss_posenc_prepare(p, T) first. */
ss_status ss_posenc_add(const ss_posenc *p, ss_fwd *f, float *x, float *tmp, int T);
/* The positional part of an attention config: rope_dims, rope_pairing and alibi (scale untouched). */
void ss_posenc_attn(const ss_posenc *p, ss_attn_cfg *a);
void ss_posenc_free(ss_posenc *p);

#endif
