/* path.c: the process-wide choice between reference and fast kernels (see path.h). */
#include "path.h"

static ss_kernel_path g_path = SS_KERNEL_FAST;

void ss_kernels_set_path(ss_kernel_path p) { g_path = p; }

ss_kernel_path ss_kernels_get_path(void) { return g_path; }

const char *ss_kernel_path_name(ss_kernel_path p) { return p == SS_KERNEL_REF ? "reference" : "blas"; }
