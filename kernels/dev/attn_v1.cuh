/* attn_v1.cuh: attention with probabilities, version 1 (the baseline; kept frozen for the workbench).
 *
 * One block per (query row i, head h), grid (T, H). The block's threads stride over the keys j: the score
 * q_i·k_j is accumulated in double (as ss_mha_ref), masked keys get P = 0, the row max and the double sum of
 * expf(s − max) are block reductions, and P is scaled by (float)(1/sum) in place. The output column c is then
 * Σ_j P[i][j]·v[j][c] in double, one thread per column. Reads K and V once per query row (T times in all):
 * O(T²·d_h) global reads, from L2 for small T. Simple enough to be obviously the reference's arithmetic; the
 * only differences are the summation order and CUDA's expf (<= 2 ulp). Shape: threads only. */
#ifndef SS_ATTN_V1_CUH
#define SS_ATTN_V1_CUH

__global__ void attn_v1_kernel(SsMhaArgs a)
{
    __shared__ double shd[32];
    __shared__ float shf[32];
    const int i = blockIdx.x, h = blockIdx.y, g = h / (a.H / a.H_kv), T = a.T, d_h = a.d_h;
    const float *qi = a.q + ((size_t)h * T + i) * d_h;                                /* [d_h] */
    const float *kg = a.k + (size_t)g * T * d_h, *vg = a.v + (size_t)g * T * d_h;     /* [T][d_h] */
    float *Pi = a.P + ((size_t)h * T + i) * T;                                        /* [T] */
    const float slope = a.alibi ? a.alibi[h] : 0.0f;
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < T; j += blockDim.x) {
        if (!ss_visible(a, i, j)) {
            Pi[j] = 0.0f;
            continue;
        }
        double dot = 0.0;
        for (int c = 0; c < d_h; c++) dot += (double)qi[c] * kg[(size_t)j * d_h + c];
        float s = (float)(dot * a.scale);
        if (a.alibi) s = ss_add_alibi(s, slope, i, j);
        Pi[j] = s;
        mx = fmaxf(mx, s);
    }
    mx = ss_block_reduce(mx, SsMax<float>(), -INFINITY, shf); /* synchronises: Pi is visible block-wide */
    double sum = 0.0;
    for (int j = threadIdx.x; j < T; j += blockDim.x)
        if (ss_visible(a, i, j)) {
            const float e = expf(Pi[j] - mx);
            Pi[j] = e;
            sum += e;
        }
    sum = ss_block_reduce(sum, SsSum<double>(), 0.0, shd);
    const float inv = (float)(1.0 / sum);
    for (int j = threadIdx.x; j < T; j += blockDim.x)
        if (ss_visible(a, i, j)) Pi[j] *= inv;
    __syncthreads();
    for (int c = threadIdx.x; c < d_h; c += blockDim.x) {
        double acc = 0.0;
        for (int j = 0; j < T; j++)
            if (ss_visible(a, i, j)) acc += (double)Pi[j] * vg[(size_t)j * d_h + c];
        a.out[(size_t)i * a.ld_out + (size_t)h * d_h + c] = (float)acc;
    }
}

static int attn_v1_launch(const SsMhaArgs &a, ss_cu_mha_shape *shape)
{
    if (shape->threads == 0) shape->threads = 256;
    if (shape->threads % 32 || shape->threads > 1024)
        return ss_cu_fail_arg("attention v1: threads %d is not a multiple of 32 in [32, 1024]", shape->threads);
    if (a.H > 65535) return ss_cu_fail_arg("attention v1: H = %d > 65535", a.H);
    attn_v1_kernel<<<dim3(a.T, a.H), shape->threads>>>(a);
    SS_CU_LAUNCHED();
    return 0;
}

#endif
