/* path.h: which implementation the dispatching kernels (ss_matmul, ss_attention) run.
 *
 * SS_KERNEL_FAST (the default) uses OpenBLAS; SS_KERNEL_REF uses the plain reference loops, for
 * tests and for checking a suspicious result. The switch is process-wide: set it before any
 * forward pass starts, not while one runs on another thread. */
#ifndef SS_KERNELS_PATH_H
#define SS_KERNELS_PATH_H

typedef enum { SS_KERNEL_FAST = 0, SS_KERNEL_REF = 1 } ss_kernel_path;

void ss_kernels_set_path(ss_kernel_path p);
ss_kernel_path ss_kernels_get_path(void);
const char *ss_kernel_path_name(ss_kernel_path p);

#endif
