/* device_none.c: the CUDA device probe of a build without nvcc. */
#include <stdio.h>

#include "device.h"

int ss_cuda_device_count(char *why, int why_cap)
{
    if (why) snprintf(why, (size_t)why_cap, "this sinkscope was built without CUDA");
    return 0;
}

void ss_cuda_device_name(int i, char *name, int cap)
{
    (void)i;
    if (cap > 0) name[0] = '\0';
}

int ss_cuda_built(void) { return 0; }
