/* frames.h: the reference-frame classifier, sinkscope's own operationalisation of science.md (d) (not the paper's:
 * the paper gives no numeric rule). Method, every rule, threshold and default, and the output layout:
 * schemas/frames.md.
 *
 * Two layers:
 *  - ss_frames_classify: a pure function on arrays (no HDF5) for one (model, encoding, prompt set): per-prompt top
 *    keys of every head, their token ids and classes -> per-layer features, per-layer labels, the overall label
 *    with the margin of every rule to its threshold, and a bootstrap confidence;
 *  - ss_frames_update (frames_io.c): reads a results file, classifies every group, rewrites /frames in it. */
#ifndef SS_FRAMES_H
#define SS_FRAMES_H

#include <stdint.h>
#include <stdio.h>

#include "status.h"
#include "sweep.h" /* ss_frames_params */

#define SS_FRAMES_METHOD "sinkscope-frames-1"

/* Label codes (the datasets store these; the names are written beside them). */
enum {
    SS_FRAME_NONE = 0,          /* no frame can be read: no usable data, or sink-free repeated-token inputs only */
    SS_FRAME_CENTRALIZED = 1,
    SS_FRAME_BIDIRECTIONAL = 2,
    SS_FRAME_DISTRIBUTED = 3,
    SS_FRAME_MIXED = 4,         /* data, but no rule holds */
    SS_FRAME_N = 5
};
const char *ss_frame_name(int code);

/* Margin columns of the per-layer `margins` [L][3] dataset. */
enum { SS_FRAME_MARGIN_CENTRALIZED = 0, SS_FRAME_MARGIN_BIDIRECTIONAL = 1, SS_FRAME_MARGIN_DISTRIBUTED = 2 };

typedef struct {
    int n_prompts;              /* N: prompts of the group whose task is done (status 1) */
    int L, H;
    int causal;                 /* 1: decoder (the caller passes alpha top keys), 0: encoder (raw top keys) */
    const int32_t *top_pos;     /* [N][L][H] position of each head's top key; < 0 or >= n_tokens: no top key */
    const int32_t *top_class;   /* [N][L][H] its class (capture.h SS_TOK_*); < 0: unknown (the pair is left out) */
    const int32_t *tokens;      /* [N][tok_stride] token ids of each prompt */
    const int32_t *n_tokens;    /* [N] */
    int tok_stride;
    const int32_t *special_ids; /* [n_special] BOS/CLS/SEP/EOS ids, for the repeated-token test; may be NULL */
    int absolute_positions;     /* 1: the encoding in effect gives every position its own signal (learned rows,
                                   a sinusoidal table, shuffled rows): repeated-token inputs keep a positional cue
                                   and enter the features. 0: RoPE, ALiBi or no positions (Gu et al. Props. 1-4) */
    int n_special;
    const float *sink1;         /* [N] Sink_1 of each prompt (percent), or NULL; recorded, not used by the rules */
    const float *ref_count;     /* [N][L] |R| of each prompt and layer, or NULL: the |R| condition is skipped */
} ss_frames_input;

typedef struct {
    int L;
    int label;                  /* overall SS_FRAME_* */
    const char *none_reason;    /* label none: why (static text); "" otherwise */
    double confidence;          /* fraction of bootstrap resamples with the same overall label; NaN if bootstrap 0 */
    int n_used;                 /* prompts that entered the features */
    int n_repeated;             /* prompts left out as repeated-token inputs with no sink by construction */
    int n_repeated_kept;        /* repeated-token inputs that entered (absolute positions, or a special token) */
    int skip_effective;         /* layers left out of the centralized fraction (skip_layers, or 0 if >= L) */
    int r_rule;                 /* 1: the |R| > 1 condition was evaluated; 0: skipped (no |R| given) */
    int first_third;            /* layers 0 .. first_third-1 are the "first third" of the bidirectional rule */
    /* per layer; every array has L entries ([L][5] / [L][3] where said) */
    int32_t *labels;            /* per-layer label (schemas/frames.md) */
    double *shares;             /* [L][5] share_l(c) over (head, prompt) pairs, c = SS_TOK_* */
    int32_t *anchor_id;         /* the most frequent top-key token id; -1 when the layer has no pairs */
    int32_t *anchor_class;      /* its most frequent class among those pairs */
    double *anchor_share;       /* its share of (head, prompt) pairs = m_l */
    int32_t *anchor2_id;        /* the runner-up token id (-1: none) */
    double *anchor2_share;
    double *m_l;                /* max over token ids of share_l(id) */
    double *entropy;            /* entropy of the top-key id distribution, nats */
    double *mean_R;             /* mean |R| over the prompts; NaN when not given */
    double *constant_heads;     /* fraction of heads whose top-key id is the same on every prompt */
    double *margins;            /* [L][3] per-layer margins, columns SS_FRAME_MARGIN_* */
    int32_t *n_pairs;           /* (head, prompt) pairs with a top key */
    int8_t *counted;            /* 1: in the centralized fraction (l >= skip_effective, pairs > 0) */
    /* overall scores: each rule's score and its margin (score minus threshold; >= 0 satisfies a >= condition,
     * > 0 a strict one) */
    double central_fraction;    /* max over c in {first, start}: fraction of counted layers with share >= theta_c */
    int central_class;          /* the c of that max */
    double margin_centralized;  /* central_fraction - phi */
    double bidir_start;         /* max share(start special) over the first third */
    double bidir_end;           /* max share(end special) over the last two thirds */
    double margin_bidirectional; /* min(bidir_start, bidir_end) - theta_b (the rule also needs causal = 0) */
    double distributed_fraction; /* fraction of layers with m_l < theta_d */
    double constant_heads_all;  /* fraction of all heads (l, h) whose top-key id is constant over the prompts */
    double mean_R_all;          /* mean |R| over prompts and layers; NaN when not given */
    double margin_distributed_layers; /* distributed_fraction - phi */
    double margin_distributed_heads;  /* 0.5 - constant_heads_all (strict) */
    double margin_distributed_R;      /* mean_R_all - 1 (strict); NaN when skipped */
    double margin_distributed;  /* the smallest of the three (the binding condition) */
    double sink1;               /* mean Sink_1 over the used prompts (percent); NaN when not given */
    void *block;                /* owns every per-layer array above */
} ss_frames_result;

/* Classifies one group. p: thresholds (ss_frames_params_default for the defaults). The result's arrays are
 * allocated here; free with ss_frames_result_free. Deterministic in (input, p). */
ss_status ss_frames_classify(const ss_frames_input *in, const ss_frames_params *p, ss_frames_result *out);
void ss_frames_result_free(ss_frames_result *r);

/* ------------------------------------------------------------------ results files (frames_io.c) */

/* The thresholds a results file asks for: the `frames:` mapping of its embedded /sweep/yaml, the defaults where it
 * has none. SS_ERR_FORMAT when the file is not a sinkscope results file. */
ss_status ss_frames_read_params(const char *results_path, ss_frames_params *out);

/* Classifies every (model, encoding, prompt set) of a finished results file and writes /frames (replacing any
 * earlier /frames; nothing else in the file changes). Serial HDF5: call it from one process after the parallel
 * file is closed. params: the thresholds (NULL: ss_frames_read_params). table: where to print a compact table per
 * group (NULL: quiet). Models without a top_keys analysis get no group. Errors: SS_ERR_FORMAT when the file is
 * not a sinkscope results file; SS_ERR_UNSUPPORTED when no model has a top_keys analysis (nothing is written);
 * SS_ERR_INPUT for an invalid `frames:` in the embedded sweep; I/O and HDF5 errors otherwise. */
ss_status ss_frames_update(const char *results_path, const ss_frames_params *params, FILE *table);

/* 1 when the sweep has a top_keys analysis (so ss_frames_update has something to classify). */
int ss_frames_applicable(const ss_sweep *s);

#endif
