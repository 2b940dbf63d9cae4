/* analysis.c: the registry of analysis types. To add an analysis, write analysis_<type>.c with an
 * ss_analysis_type and list it here. */
#include "analysis.h"

#include <string.h>

extern const ss_analysis_type ss_analysis_sink_rate;
extern const ss_analysis_type ss_analysis_top_keys;

static const ss_analysis_type *const g_registry[] = {
    &ss_analysis_sink_rate,
    &ss_analysis_top_keys,
    NULL,
};

const ss_analysis_type *ss_analysis_find(const char *type)
{
    if (!type) return NULL;
    for (int i = 0; g_registry[i]; i++)
        if (strcmp(g_registry[i]->type, type) == 0) return g_registry[i];
    return NULL;
}

const ss_analysis_type *const *ss_analysis_all(void) { return g_registry; }

size_t ss_dataset_elems(const ss_dataset_decl *d)
{
    size_t n = 1;
    for (int i = 0; i < d->rank; i++) n *= (size_t)d->dims[i];
    return n;
}

size_t ss_dataset_dtype_size(ss_dtype t) { return t == SS_DT_F32 ? sizeof(float) : sizeof(int32_t); }
