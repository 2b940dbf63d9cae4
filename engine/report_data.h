/* report_data.h: what `sinkscope report` reads from results files (schemas/results.md, schemas/frames.md): one
 * cell per (file, model, encoding, prompt set), with the per-prompt values the tables summarise and the
 * per-layer and per-head means the per-model tables and figures show. Read-only, serial HDF5.
 *
 * Per prompt (a task with status 1), n_done values each, NaN where the analysis is absent:
 *   sink1    Sink_1^ε in % (sink_rate, ε = 0.3 when the analysis has it, else its first ε; sink_eps says which)
 *   gini     mean over layers and heads of the in-degree Gini at the threshold τ (attention_graph; tau says which)
 *   fiedler  mean over layers of the head-mean graph's Fiedler value at τ, over the layers where τ is effective
 *   entropy  mean over layers and heads of the mean row entropy, nats (attention_geometry)
 * Per layer / head, means over the done prompts:
 *   sink1_l [L]     % of the layer's heads with α_1 > ε      sink1_lh [L][H]  % of prompts with α_1^{l,h} > ε
 *   entropy_l, gini_l, fiedler_l [L]
 * From /frames (when present): the label, its confidence, and per layer the dominant anchor (token id, its text
 * when the model's tokenizer can still be loaded, its class) and its share of (head, prompt) pairs.
 * The first done prompt's attention map (attention_map analysis), with its tokens' text, for the figure. */
#ifndef SS_REPORT_DATA_H
#define SS_REPORT_DATA_H

#include "status.h"

/* One analysis family's per-layer means, for its per-model table: every dataset of the analysis whose per-row
 * shape is [L] or [L+1] (hidden states), or [L][H] (then also averaged over heads), averaged over the done prompts
 * (NaN skipped). Datasets of identities (units position, channel, class) are left out. */
enum { SS_REPORT_MAX_FAMILIES = 16, SS_REPORT_MAX_FAMILY_COLS = 16 };
typedef struct {
    char name[64], type[32];
    int n_rows;                                  /* L or L + 1 */
    int n_cols;
    char cols[SS_REPORT_MAX_FAMILY_COLS][48];    /* dataset names */
    char units[SS_REPORT_MAX_FAMILY_COLS][24];
    double *values;                              /* [n_rows][SS_REPORT_MAX_FAMILY_COLS], n_cols used */
} ss_report_family;

typedef struct {
    /* identity and provenance */
    char file[512];
    char model[64], encoding[64], prompts[64], prompts_kind[16];
    char arch[32], posenc[32], bos[32], weight_types[160], sha256[65];
    char encoding_type[16];
    char sweep_name[128], version[32];
    int causal, L, H;
    /* a checkpoint of `sinkscope train` (/models/<m> attribute train); train_step = -1 for any other model */
    long train_step, train_seed;
    char train_enc[32];                  /* the encoding it was trained with ("" when not recorded) */
    double train_loss, heldout_loss;     /* at that step (NaN when not recorded) */
    /* task accounting */
    int n_tasks, n_done, n_failed, n_skipped, n_pending;
    char first_error[256]; /* the first failed or skipped task's message */
    /* per prompt [n_done] */
    double *sink1, *gini, *fiedler, *entropy;
    double sink_eps, tau;
    /* per layer [L], per layer x head [L][H] */
    double *sink1_l, *sink1_lh, *entropy_l, *gini_l, *fiedler_l;
    /* frames */
    int has_frames;
    char frame_label[24];
    double frame_confidence;
    int *anchor_id, *anchor_class; /* [L] */
    double *anchor_share;          /* [L] */
    char (*anchor_text)[48];       /* [L] */
    /* one attention map */
    int map_T, map_layer;
    float *map;                    /* [map_T][map_T] */
    char (*map_tokens)[48];        /* [map_T] */
    /* the other analyses (not sink_rate, top_keys, attention_map) */
    ss_report_family families[SS_REPORT_MAX_FAMILIES];
    int n_families;
} ss_report_cell;

typedef struct {
    ss_report_cell *cells;
    int n_cells;
    int n_files;
} ss_report_data;

/* Reads every file (n of them) and appends its cells in file > model > encoding > prompt set order. A file that
 * is not a sinkscope results file gives SS_ERR_FORMAT naming it. tau: the graph threshold to summarise (the
 * nearest of each file's grid is taken and recorded). select: "key=value[,key=value...]" with keys model,
 * encoding, prompts (NULL: everything); SS_ERR_INPUT for an unknown key. */
ss_status ss_report_read(const char *const *files, int n, double tau, const char *select, ss_report_data *out);
void ss_report_data_free(ss_report_data *d);

#endif
