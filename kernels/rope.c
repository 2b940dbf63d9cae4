/* rope.c: rotary position embedding (rope.h). */
#include "rope.h"

#include <math.h>
#include <stddef.h>

void ss_rope_tables(float *cos_t, float *sin_t, int T, int rot_dims, double theta)
{
    const int half = rot_dims / 2;
    const float base = (float)theta;
    for (int i = 0; i < half; i++) {
        /* fp32 throughout, as torch computes 1.0 / (base ** (arange(0, r, 2).float() / r)) */
        float expo = (float)(2 * i) / (float)rot_dims;
        float inv_freq = 1.0f / powf(base, expo);
        for (int t = 0; t < T; t++) {
            float phi = (float)t * inv_freq;
            cos_t[(size_t)t * half + i] = cosf(phi);
            sin_t[(size_t)t * half + i] = sinf(phi);
        }
    }
}

void ss_rope_apply_ref(float *x, int n, int T, int d_h, int rot_dims, ss_rope_pairing pairing, const float *cos_t,
                       const float *sin_t)
{
    const int half = rot_dims / 2;
    for (int h = 0; h < n; h++)
        for (int t = 0; t < T; t++) {
            float *row = x + ((size_t)h * T + t) * d_h;                               /* [d_h] */
            const float *c = cos_t + (size_t)t * half, *s = sin_t + (size_t)t * half; /* [r/2] */
            for (int i = 0; i < half; i++) {
                int ia = pairing == SS_ROPE_ADJACENT ? 2 * i : i;
                int ib = pairing == SS_ROPE_ADJACENT ? 2 * i + 1 : i + half;
                float a = row[ia], b = row[ib];
                row[ia] = a * c[i] - b * s[i];
                row[ib] = b * c[i] + a * s[i];
            }
        }
}

const char *ss_rope_pairing_name(ss_rope_pairing p) { return p == SS_ROPE_ADJACENT ? "adjacent" : "half"; }
