/* device.h: run-time CUDA device discovery. Built from device.cu when nvcc is present; otherwise
 * device_none.c answers "no CUDA in this build". */
#ifndef SS_CUDA_DEVICE_H
#define SS_CUDA_DEVICE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Number of usable CUDA devices (0 when none or no driver). why: a short reason when 0. */
int ss_cuda_device_count(char *why, int why_cap);
/* Name of device i ("" if unknown). */
void ss_cuda_device_name(int i, char *name, int cap);
/* 1 if this binary was built with the CUDA backend. */
int ss_cuda_built(void);

#ifdef __cplusplus
}
#endif

#endif
