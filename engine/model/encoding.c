/* encoding.c: positional-encoding ablations shared by the architectures (encoding.h). */
#include "encoding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "attention.h" /* ss_alibi_slopes */

/* ------------------------------------------------------------------------------------------ helpers */

uint64_t ss_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ss_seeded_permutation(int32_t *perm, int n, uint64_t seed)
{
    uint64_t state = seed;
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(ss_splitmix64(&state) % (uint64_t)(i + 1));
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

void ss_sinusoidal_table(float *table, int t0, int T, int d)
{
    for (int c = 0; c < d; c++) {
        const int i2 = c - (c & 1); /* 2i */
        const double inv_freq = pow(10000.0, -(double)i2 / (double)d);
        for (int t = 0; t < T; t++) {
            const double angle = (double)(t0 + t) * inv_freq;
            table[(size_t)t * d + c] = (float)((c & 1) ? cos(angle) : sin(angle));
        }
    }
}

int ss_rope_dims_for_fraction(int d_h, double fraction)
{
    double r = floor(fraction * (double)d_h);
    if (!(r >= 0.0)) return 0;
    if (r > d_h) r = d_h;
    return (int)r & ~1;
}

/* -------------------------------------------------------------------------------------- the state */

ss_status ss_posenc_init(ss_posenc *p, const char *arch, int H, int d, int d_h, const float *learned, int rope_dims,
                         double rope_theta, ss_rope_pairing pairing, int alibi)
{
    memset(p, 0, sizeof *p);
    p->arch = arch;
    p->H = H;
    p->d = d;
    p->d_h = d_h;
    p->learned = learned;
    p->native_rope_dims = rope_dims;
    p->native_rope_theta = rope_theta;
    p->native_pairing = pairing;
    p->native_alibi = alibi;
    p->slopes = malloc((size_t)(H > 0 ? H : 1) * sizeof *p->slopes);
    if (!p->slopes) return ss_fail(SS_ERR_NOMEM, "out of memory for the ALiBi slopes of %s", arch);
    ss_alibi_slopes(p->slopes, H);
    /* native */
    p->type = SS_ENC_NATIVE;
    p->abs = learned ? SS_ABSPOS_LEARNED : SS_ABSPOS_NONE;
    p->rope_dims = rope_dims;
    p->pairing = pairing;
    p->alibi = alibi;
    return SS_OK;
}

ss_status ss_posenc_set(ss_posenc *p, ss_scratch *s, const ss_encoding_spec *enc)
{
    ss_status st = SS_OK;
    static const ss_encoding_spec native = {.name = "native", .type = SS_ENC_NATIVE, .bos = -1};
    if (!enc) enc = &native;
    const char *name = enc->name ? enc->name : ss_encoding_type_name(enc->type);
    /* the next state, committed only when everything succeeded */
    ss_abspos abs = SS_ABSPOS_NONE;
    int rope_dims = 0, alibi = 0;
    double theta = p->native_rope_theta;
    /* an ablation RoPE pairs columns as the model's own RoPE does (a GGUF llama: adjacent), else half-split */
    ss_rope_pairing pairing = p->native_rope_dims > 0 ? p->native_pairing : SS_ROPE_HALF;
    switch (enc->type) {
    case SS_ENC_NATIVE:
        abs = p->learned ? SS_ABSPOS_LEARNED : SS_ABSPOS_NONE;
        rope_dims = p->native_rope_dims;
        alibi = p->native_alibi;
        break;
    case SS_ENC_NONE:
        break;
    case SS_ENC_ROPE:
        if (!(enc->theta > 0.0) || !isfinite(enc->theta))
            return ss_fail(SS_ERR_INPUT, "encoding '%s' (rope): theta must be a finite number > 0, not %g", name,
                           enc->theta);
        if (!(enc->fraction > 0.0 && enc->fraction <= 1.0))
            return ss_fail(SS_ERR_INPUT, "encoding '%s' (rope): fraction must be in (0, 1], not %g", name,
                           enc->fraction);
        rope_dims = ss_rope_dims_for_fraction(p->d_h, enc->fraction);
        if (rope_dims == 0)
            return ss_fail(SS_ERR_UNSUPPORTED,
                           "encoding '%s' (rope, fraction %g) does not apply to %s: it rotates 0 of the %d "
                           "dimensions of each head (floor(%g x %d) rounded down to even); the fraction must be at "
                           "least %g",
                           name, enc->fraction, p->arch, p->d_h, enc->fraction, p->d_h, 2.0 / p->d_h);
        theta = enc->theta;
        break;
    case SS_ENC_ALIBI:
        alibi = 1;
        break;
    case SS_ENC_SINUSOIDAL:
        abs = SS_ABSPOS_SINUSOIDAL;
        break;
    case SS_ENC_SHUFFLED:
        if (!p->learned)
            return ss_fail(SS_ERR_UNSUPPORTED,
                           "encoding '%s' (shuffled) does not apply to %s: model has no learned position embeddings "
                           "to shuffle",
                           name, p->arch);
        abs = SS_ABSPOS_SHUFFLED;
        break;
    default:
        return ss_fail(SS_ERR_INPUT, "encoding '%s': unknown type %d", name, (int)enc->type);
    }
    /* The scratch's tables follow the RoPE in use; without RoPE they keep the model's own (if any). */
    if (rope_dims > 0) {
        SS_TRY(ss_scratch_set_rope(s, rope_dims, theta));
    } else if (p->native_rope_dims > 0) {
        SS_TRY(ss_scratch_set_rope(s, p->native_rope_dims, p->native_rope_theta));
    }
    p->type = enc->type;
    p->abs = abs;
    p->seed = enc->seed;
    p->rope_dims = rope_dims;
    p->pairing = pairing;
    p->alibi = alibi;
done:
    return st;
}

ss_status ss_posenc_prepare(ss_posenc *p, int T)
{
    if (p->abs == SS_ABSPOS_SINUSOIDAL && T > p->n_sin) {
        float *rows = realloc(p->sin_rows, (size_t)T * p->d * sizeof *rows);
        if (!rows) return ss_fail(SS_ERR_NOMEM, "out of memory for the sinusoidal table of %d positions", T);
        ss_sinusoidal_table(rows + (size_t)p->n_sin * p->d, p->n_sin, T - p->n_sin, p->d);
        p->sin_rows = rows;
        p->n_sin = T;
    }
    if (p->abs == SS_ABSPOS_SHUFFLED && (T != p->perm_n || p->seed != p->perm_seed)) {
        if (T > p->perm_cap) {
            int32_t *perm = realloc(p->perm, (size_t)T * sizeof *perm);
            if (!perm) return ss_fail(SS_ERR_NOMEM, "out of memory for the permutation of %d positions", T);
            p->perm = perm;
            p->perm_cap = T;
        }
        ss_seeded_permutation(p->perm, T, p->seed);
        p->perm_n = T;
        p->perm_seed = p->seed;
    }
    return SS_OK;
}

ss_status ss_posenc_add(const ss_posenc *p, ss_fwd *f, float *x, float *tmp, int T)
{
    ss_status st = SS_OK;
    const size_t n = (size_t)T * p->d;
    const void *rows = NULL; /* [T][d] or, shuffled, [T] */
    switch (p->abs) {
    case SS_ABSPOS_NONE: return SS_OK;
    case SS_ABSPOS_LEARNED: /* rows 0..T-1 are contiguous */
        return ss_be_add(f->be, x, ss_fwd_ptr(f, p->learned), n);
    case SS_ABSPOS_SHUFFLED:
        SS_TRY(ss_fwd_stage(f, p->perm, (size_t)T * sizeof *p->perm, &rows));
        SS_TRY(ss_be_embed(f->be, tmp, ss_fwd_ptr(f, p->learned), rows, T, p->d, T));
        return ss_be_add(f->be, x, tmp, n);
    case SS_ABSPOS_SINUSOIDAL:
        SS_TRY(ss_fwd_stage(f, p->sin_rows, n * sizeof(float), &rows));
        return ss_be_add(f->be, x, rows, n);
    }
done:
    return st;
}

void ss_posenc_attn(const ss_posenc *p, ss_attn_cfg *a)
{
    a->rope_dims = p->rope_dims;
    a->rope_pairing = p->pairing;
    a->alibi = p->alibi ? p->slopes : NULL;
}

void ss_posenc_free(ss_posenc *p)
{
    if (!p) return;
    free(p->slopes);
    free(p->sin_rows);
    free(p->perm);
    memset(p, 0, sizeof *p);
}
