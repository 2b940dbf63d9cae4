/* mirror_backend.h (tests): a backend that keeps a device's memory discipline on the CPU.
 *
 * Its memory is host memory, but it is NOT a host backend (ss_backend_is_host is 0): the weights, the capture
 * and every staged table are copied into its own allocations, as they would be uploaded to a GPU. Each
 * operation first checks that every buffer it is given lies, with the extent the operation will touch, inside
 * ONE of the mirror's live allocations (a host pointer, a stale pointer or an overrun fails the operation with
 * a message naming it), then runs the CPU's operation. So a forward pass that passes on this backend hands its
 * operations only backend memory, within bounds, and its result must equal the CPU backend's bit for bit
 * (same kernels, same 64-byte alignments).
 *
 * gaps = 1 builds the table with no operations at all: every call then takes backend.c's CPU fallback
 * (download, compute, upload), which the same comparison checks. */
#ifndef SS_TEST_MIRROR_BACKEND_H
#define SS_TEST_MIRROR_BACKEND_H

#include "backend.h"

ss_backend *mirror_backend_new(int gaps);
void mirror_backend_free(ss_backend *b);
/* Live allocations and the number of failed checks so far. */
int mirror_live_allocs(void);
int mirror_violations(void);

#endif
