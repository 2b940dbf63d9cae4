/* capture.h: what one forward pass exposes to the analyses. */
#ifndef SS_CAPTURE_H
#define SS_CAPTURE_H

#include <stdint.h>

typedef struct {
    int n_layers, n_heads, n_tokens, d_model;
    int causal;             /* 1: A[l][h][i][j] = 0 for j > i */
    const int32_t *tokens;  /* [T] token ids */
    float *attn;            /* [L][H][T][T] attention probabilities; row i = query, column j = key; rows sum to 1 */
    float *hidden;          /* [L+1][T][d] residual stream entering layer l (index L = final output) */
} ss_capture;

#endif
