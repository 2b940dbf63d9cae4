/* analysis_reference.h: the reference sets shared by the reference_tokens and reference_influence analyses. */
#ifndef SS_ANALYSIS_REFERENCE_H
#define SS_ANALYSIS_REFERENCE_H

#include "analysis.h"

/* The detector's parameters (tau, frac, cap_frac, min_queries), declared by both analyses. */
enum { SS_REFERENCE_N_PARAMS = 4 };
extern const ss_param_decl ss_reference_params[SS_REFERENCE_N_PARAMS];

/* Layer l's reference keys from spec's tau, frac, cap_frac and min_queries (analysis_reference_tokens.c):
 * the corrected set into R [T] (*n_R entries, ascending) and, when R_raw is not NULL, the authors' set into
 * R_raw [T]. Abar [T][T] receives the head-mean attention, score [T] is scratch (it ends holding alpha). */
ss_status ss_reference_sets(const ss_analysis_spec *spec, const ss_capture *cap, int l, float *Abar, float *score,
                            int *R, int *n_R, int *R_raw, int *n_R_raw);

#endif
