/* sweep.h: the sweep YAML, parsed and validated.
 *
 * A sweep names three grid axes (model, prompts, encoding) and a list of analyses.
 * Grid order (documented in experiments/README.md): model slowest, then prompts, then encoding,
 * then the prompt index within the prompt set fastest. Every task runs every analysis on one
 * shared forward pass, so the analysis list multiplies results, not compute.
 *
 * Paths in the YAML are resolved relative to the directory of the sweep file. */
#ifndef SS_SWEEP_H
#define SS_SWEEP_H

#include <stdint.h>

#include <stddef.h>

#include "status.h"

typedef struct {
    int line, col; /* 1-based position in the sweep file; 0 when not from a file */
} ss_loc;

typedef enum {
    SS_BOS_MODEL_DEFAULT = 0, /* "model_default": what the model's tokenizer does by itself */
    SS_BOS_ADD,               /* "bos": always prepend the start token (BOS, or [CLS] for BERT) */
    SS_BOS_NONE               /* "none": never prepend a start token */
} ss_bos_policy;

const char *ss_bos_policy_name(ss_bos_policy p);

typedef struct {
    char *name;          /* unique among models; used as the HDF5 group name */
    char *path;          /* as written in the YAML */
    char *resolved_path; /* relative paths resolved against the sweep file's directory */
    ss_bos_policy bos;
    int max_tokens;      /* 1..1000000; 0 in the YAML means "the model's own limit" (resolved at plan time) */
    int truncate;        /* 1: cut prompts to max_tokens; 0 (default): such a task fails */
    ss_loc loc;
} ss_model_spec;

typedef enum {
    SS_PROMPTS_FILE = 0, /* file: .txt (one prompt per line), .jsonl (field), .csv (column) */
    SS_PROMPTS_NATURAL,  /* generator: natural  -> the built-in natural-text set */
    SS_PROMPTS_RANDOM,   /* generator: random   -> uniformly drawn non-special token ids */
    SS_PROMPTS_REPEATED  /* generator: repeated -> one token id repeated */
} ss_prompt_kind;

typedef struct {
    char *name;          /* unique among prompt sets */
    ss_prompt_kind kind;
    char *path;          /* SS_PROMPTS_FILE: as written */
    char *resolved_path;
    char *field;         /* .jsonl field or .csv column; default "text" */
    int count;           /* generators: number of prompts (required for random/repeated);
                            file/natural: take the first `count` prompts, 0 = all */
    int length;          /* random/repeated: sequence length T in tokens, special tokens included */
    uint64_t seed;       /* default: the sweep seed */
    int token_id;        /* repeated: the token id; -1 (default) = drawn from the seed */
    ss_loc loc;
} ss_prompt_spec;

/* Positional-encoding ablations applied at inference time (documented per architecture in
 * experiments/README.md). A combination that does not apply to a model is a skipped task. */
typedef enum {
    SS_ENC_NATIVE = 0, /* as trained */
    SS_ENC_NONE,       /* positional signal removed: learned/sinusoidal rows zero, RoPE skipped, ALiBi dropped */
    SS_ENC_ROPE,       /* RoPE with theta and the rotated fraction of each head */
    SS_ENC_ALIBI,      /* ALiBi biases (the model's own positional signal removed) */
    SS_ENC_SINUSOIDAL, /* sinusoidal absolute positions in place of the model's own */
    SS_ENC_SHUFFLED    /* learned position rows permuted with a seed */
} ss_encoding_type;

const char *ss_encoding_type_name(ss_encoding_type t);

typedef struct {
    char *name;          /* unique among encodings; defaults to the type's name */
    ss_encoding_type type;
    double theta;        /* rope: base, default 10000 */
    double fraction;     /* rope: rotated fraction of each head, (0, 1], default 1 */
    uint64_t seed;       /* shuffled: permutation seed, default: the sweep seed */
    int bos;             /* -1: the model's BOS policy; 0 "off": no start token; 1 "on": always one */
    ss_loc loc;
} ss_encoding_spec;

/* Analysis parameters are declared by each analysis type (analysis.h) and validated against
 * that declaration; the parsed value of every declared parameter is stored here (defaults filled). */
typedef enum { SS_PARAM_INT = 0, SS_PARAM_FLOAT, SS_PARAM_FLOAT_LIST, SS_PARAM_STRING } ss_param_type;

typedef struct {
    const char *name;    /* points into the declaration */
    ss_param_type type;
    double num;          /* INT and FLOAT */
    double *list;        /* FLOAT_LIST */
    int n_list;
    char *str;           /* STRING */
} ss_param_value;

typedef struct {
    char *name;          /* unique among analyses; HDF5 group name */
    char *type;          /* a registered analysis type, e.g. "sink_rate", "top_keys" */
    ss_param_value *params; /* one per declared parameter, in declaration order */
    int n_params;
    ss_loc loc;
} ss_analysis_spec;

typedef enum { SS_BACKEND_AUTO = 0, SS_BACKEND_CPU, SS_BACKEND_CUDA } ss_backend_choice;

/* The reference-frame classifier's thresholds (the optional top-level `frames:` mapping; method and defaults in
 * schemas/frames.md). They do not enter the sweep's fingerprint: the classifier only reads finished results. */
typedef struct {
    double theta_c;   /* centralized: a class's share of (head, prompt) pairs in a layer, default 0.9 */
    double phi;       /* fraction of layers a rule needs, default 0.9 */
    double theta_b;   /* bidirectional: start/end-special share, default 0.5 */
    double theta_d;   /* distributed: m_l below this, default 0.5 */
    int skip_layers;  /* first layers left out of the centralized fraction, default 2 */
    int bootstrap;    /* resamples of the prompts for the confidence, default 200; 0 = no confidence */
    uint64_t seed;    /* the bootstrap's seed, default 0 */
} ss_frames_params;

/* Fills the documented defaults. */
void ss_frames_params_default(ss_frames_params *p);
/* The accepted range [lo, hi] of a `frames:` key (the same for the YAML and the command line): 0, or -1 for an
 * unknown key. */
int ss_frames_param_range(const char *key, double *lo, double *hi);

typedef struct {
    char *file;          /* the sweep file path as given */
    char *base_dir;      /* its directory */
    char *text;          /* the whole YAML text, stored in the results file */
    char *name;
    uint64_t seed;       /* default 0 */
    char *output;        /* optional default output file (resolved); -o overrides */
    ss_backend_choice backend;
    int threads;         /* BLAS threads per rank; 0 = auto (cores on the node / ranks on the node) */

    ss_model_spec *models;       int n_models;
    ss_prompt_spec *prompts;     int n_prompts;
    ss_encoding_spec *encodings; int n_encodings;
    ss_analysis_spec *analyses;  int n_analyses;
    ss_frames_params frames;     /* `frames:`; the defaults when absent */
} ss_sweep;

/* One validation error: file:line:col: message. */
typedef struct {
    ss_loc loc;
    char *msg;
} ss_diag;

typedef struct {
    ss_diag *items;
    int n, cap;
} ss_diags;

void ss_diags_add(ss_diags *d, ss_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ss_diags_print(const ss_diags *d, const char *file, void *stream /* FILE* */);
void ss_diags_free(ss_diags *d);

/* Parses and validates YAML text. Returns SS_OK with *out set when there are no errors;
 * otherwise SS_ERR_INPUT with every error found in diags (not only the first) and *out NULL.
 * `file` is used for messages and to resolve relative paths. Checks existence of model
 * directories and prompt files, but does not open models. */
ss_status ss_sweep_parse(const char *text, size_t len, const char *file, ss_sweep **out, ss_diags *diags);
/* Reads the file, then ss_sweep_parse. An unreadable file is one diag at 0:0. */
ss_status ss_sweep_load(const char *file, ss_sweep **out, ss_diags *diags);
void ss_sweep_free(ss_sweep *s);

/* Reads only the top-level `frames:` mapping of a sweep's text (nothing else is validated: the results file's
 * embedded /sweep/yaml, whose model paths may be gone). *present is set to 1 when the key is there; `out` gets the
 * defaults, overridden by what the mapping gives. SS_ERR_INPUT with the errors in diags when it is invalid. */
ss_status ss_sweep_parse_frames(const char *text, size_t len, const char *file, ss_frames_params *out, int *present,
                                ss_diags *diags);

/* Parameter lookup in an analysis spec (by declared name); NULL if absent. */
const ss_param_value *ss_analysis_param(const ss_analysis_spec *a, const char *name);

#endif
