/* device.cu: CUDA device discovery through the runtime API (static runtime: runs where no CUDA is
 * installed, and then reports no device). */
#include <cuda_runtime.h>
#include <stdio.h>

#include "device.h"

extern "C" int ss_cuda_device_count(char *why, int why_cap)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        if (why) snprintf(why, (size_t)why_cap, "%s", cudaGetErrorString(e));
        cudaGetLastError(); /* clear the sticky error */
        return 0;
    }
    if (n == 0 && why) snprintf(why, (size_t)why_cap, "no CUDA device");
    return n;
}

extern "C" void ss_cuda_device_name(int i, char *name, int cap)
{
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, i) == cudaSuccess) snprintf(name, (size_t)cap, "%s", p.name);
    else if (cap > 0) name[0] = '\0';
}

extern "C" int ss_cuda_built(void) { return 1; }
