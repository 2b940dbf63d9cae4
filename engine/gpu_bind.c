/* gpu_bind.c: rank-to-GPU binding (see gpu_bind.h). */
#include "gpu_bind.h"

#include <stdio.h>
#include <string.h>

int ss_gpu_pick(int local_rank, int n_visible)
{
    if (n_visible <= 0 || local_rank < 0) return -1;
    return local_rank % n_visible;
}

void ss_gpu_visible_entry(const char *cvd, int index, char *out, size_t cap)
{
    if (cap == 0) return;
    snprintf(out, cap, "%d", index);
    if (!cvd || !*cvd || index < 0) return;
    const char *p = cvd;
    for (int i = 0; i < index; i++) {
        p = strchr(p, ',');
        if (!p) return;
        p++;
    }
    size_t n = strcspn(p, ",");
    if (n == 0) return;
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}
