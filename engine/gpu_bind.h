/* gpu_bind.h: which GPU each rank takes. A rank takes the visible device given by its node-local rank
 * (MPI_COMM_TYPE_SHARED), modulo the number of visible devices. Slurm restricts what a task sees
 * through CUDA_VISIBLE_DEVICES: with --gpus-per-task=1 every task sees one device and takes device 0;
 * with --gpus-per-node=G every task on the node sees all G and local rank r takes r mod G. */
#ifndef SS_GPU_BIND_H
#define SS_GPU_BIND_H

#include <stddef.h>

/* The visible device index for this rank, or -1 when no device is visible. */
int ss_gpu_pick(int local_rank, int n_visible);

/* Entry `index` of a CUDA_VISIBLE_DEVICES list ("2,3" -> index 1 is "3"; UUIDs are kept as they are);
 * when cvd is NULL or has no such entry, the index itself ("1"): the physical id of the device. */
void ss_gpu_visible_entry(const char *cvd, int index, char *out, size_t cap);

#endif
