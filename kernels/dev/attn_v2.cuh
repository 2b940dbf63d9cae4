/* attn_v2.cuh: attention with probabilities, version 2 (tiled, two passes; the production version).
 *
 * One block per (tile of BQ query rows, head h), grid (ceil(T/BQ), H). The block's queries see keys
 * [kmin, kmax) (causal: up to its last query; with a window W from its first query's i−W+1); P outside that
 * range is written 0 directly. The keys are walked in tiles of BK rows held in shared memory:
 *   pass 1: scores S = scale·Q·Kᵀ (+ ALiBi, masked = −inf) of the tile, then one warp per row updates the
 *           row's running max m and its running sum l = Σ exp(s − m) (double, rescaled when m grows);
 *   pass 2: the scores again, p = expf(s − m)·(float)(1/l) written to P (once, coalesced) and to shared
 *           memory, then the tile's values replace its keys in shared memory and O += p·V.
 * P is written exactly once (T² floats per head, the floor for a kernel that must store P); Q·Kᵀ is computed
 * twice. fp32 dot products with FMA (the reference sums in double: expect ~1e-6 relative differences).
 *
 * Shared memory (dynamic): l [BQ] double, Q [BQ][d_h], KV [BK][d_h+1] (padded: conflict-free column reads),
 * S [BQ][BK+1], O [BQ][d_h], m [BQ], inv [BQ] floats. Shape: block_q = BQ, block_k = BK, threads. */
#ifndef SS_ATTN_V2_CUH
#define SS_ATTN_V2_CUH

static size_t attn_v2_smem(int BQ, int BK, int d_h)
{
    return sizeof(double) * BQ + sizeof(float) * ((size_t)BQ * d_h * 2 + (size_t)BK * (d_h + 1) +
                                                  (size_t)BQ * (BK + 1) + 2 * (size_t)BQ);
}

/* Loads rows [j0, j0+nk) of X [T][d_h] into KV [BK][d_h+1]. */
__device__ __forceinline__ void attn_v2_load(float *KV, const float *X, int j0, int nk, int d_h)
{
    for (int e = threadIdx.x; e < nk * d_h; e += blockDim.x) {
        const int jj = e / d_h, c = e - jj * d_h;
        KV[jj * (d_h + 1) + c] = X[(size_t)(j0 + jj) * d_h + c];
    }
}

/* S[r][jj] = the score of query i0+r against key j0+jj (rows < nq, keys < nk), −inf where masked. */
__device__ __forceinline__ void attn_v2_scores(const SsMhaArgs &a, float *S, const float *Qs, const float *KV, int i0,
                                               int nq, int j0, int nk, int BK, float slope)
{
    const int d_h = a.d_h;
    for (int e = threadIdx.x; e < nq * BK; e += blockDim.x) {
        const int r = e / BK, jj = e - r * BK, i = i0 + r, j = j0 + jj;
        float s = -INFINITY;
        if (jj < nk && ss_visible(a, i, j)) {
            const float *qr = Qs + r * d_h, *kr = KV + jj * (d_h + 1);
            float dot = 0.0f;
            for (int c = 0; c < d_h; c++) dot = fmaf(qr[c], kr[c], dot);
            s = dot * a.scale;
            if (a.alibi) s = ss_add_alibi(s, slope, i, j);
        }
        S[r * (BK + 1) + jj] = s;
    }
}

__global__ void attn_v2_kernel(SsMhaArgs a, int BQ, int BK)
{
    extern __shared__ double smem[];
    const int T = a.T, d_h = a.d_h, h = blockIdx.y, g = h / (a.H / a.H_kv);
    double *l_sh = smem;                    /* [BQ] running sums */
    float *Qs = (float *)(l_sh + BQ);       /* [BQ][d_h] */
    float *KV = Qs + BQ * d_h;              /* [BK][d_h+1] the tile's keys, then its values */
    float *S = KV + BK * (d_h + 1);         /* [BQ][BK+1] the tile's scores, then probabilities */
    float *Os = S + BQ * (BK + 1);          /* [BQ][d_h] output accumulators */
    float *m_sh = Os + BQ * d_h;            /* [BQ] running maxima */
    float *inv_sh = m_sh + BQ;              /* [BQ] (float)(1/l) */
    const int tid = threadIdx.x, nt = blockDim.x, lane = tid & 31, warp = tid >> 5, nw = nt >> 5;
    const int i0 = blockIdx.x * BQ, nq = min(BQ, T - i0);
    const int kmax = a.causal ? i0 + nq : T;
    const int kmin = a.causal && a.window > 0 ? max(0, i0 - a.window + 1) : 0;
    float *Ph = a.P + (size_t)h * T * T;                                          /* [T][T] */
    const float *qh = a.q + (size_t)h * T * d_h;                                  /* [T][d_h] */
    const float *kg = a.k + (size_t)g * T * d_h, *vg = a.v + (size_t)g * T * d_h; /* [T][d_h] */
    const float slope = a.alibi ? a.alibi[h] : 0.0f;

    for (int e = tid; e < nq * d_h; e += nt) {
        Qs[e] = qh[(size_t)i0 * d_h + e];
        Os[e] = 0.0f;
    }
    for (int r = tid; r < BQ; r += nt) {
        m_sh[r] = -INFINITY;
        l_sh[r] = 0.0;
    }
    for (int r = 0; r < nq; r++) { /* keys no query of the block sees */
        float *Pr = Ph + (size_t)(i0 + r) * T; /* [T] */
        for (int j = tid; j < kmin; j += nt) Pr[j] = 0.0f;
        for (int j = kmax + tid; j < T; j += nt) Pr[j] = 0.0f;
    }
    __syncthreads();

    /* pass 1: row max and sum */
    for (int j0 = kmin; j0 < kmax; j0 += BK) {
        const int nk = min(BK, kmax - j0);
        attn_v2_load(KV, kg, j0, nk, d_h);
        __syncthreads();
        attn_v2_scores(a, S, Qs, KV, i0, nq, j0, nk, BK, slope);
        __syncthreads();
        for (int r = warp; r < nq; r += nw) {
            const float *Sr = S + r * (BK + 1); /* [BK] */
            float mt = -INFINITY;
            for (int jj = lane; jj < nk; jj += 32) mt = fmaxf(mt, Sr[jj]);
            mt = ss_warp_reduce(mt, SsMax<float>());
            if (mt == -INFINITY) continue; /* warp-uniform: nothing visible in this tile */
            const float mo = m_sh[r], mn = fmaxf(mo, mt);
            double part = 0.0;
            for (int jj = lane; jj < nk; jj += 32) part += expf(Sr[jj] - mn); /* expf(−inf) = 0 */
            part = ss_warp_reduce(part, SsSum<double>());
            if (lane == 0) {
                l_sh[r] = l_sh[r] * exp((double)mo - (double)mn) + part;
                m_sh[r] = mn;
            }
        }
        __syncthreads();
    }
    for (int r = tid; r < nq; r += nt) inv_sh[r] = (float)(1.0 / l_sh[r]);
    __syncthreads();

    /* pass 2: probabilities into P, and O += P·V */
    for (int j0 = kmin; j0 < kmax; j0 += BK) {
        const int nk = min(BK, kmax - j0);
        attn_v2_load(KV, kg, j0, nk, d_h);
        __syncthreads();
        attn_v2_scores(a, S, Qs, KV, i0, nq, j0, nk, BK, slope);
        __syncthreads();
        for (int e = tid; e < nq * BK; e += nt) {
            const int r = e / BK, jj = e - r * BK;
            if (jj >= nk) continue;
            const float s = S[r * (BK + 1) + jj];
            const float p = s == -INFINITY ? 0.0f : expf(s - m_sh[r]) * inv_sh[r];
            S[r * (BK + 1) + jj] = p;
            Ph[(size_t)(i0 + r) * T + j0 + jj] = p;
        }
        __syncthreads();
        attn_v2_load(KV, vg, j0, nk, d_h);
        __syncthreads();
        for (int e = tid; e < nq * d_h; e += nt) {
            const int r = e / d_h, c = e - r * d_h;
            const float *Sr = S + r * (BK + 1); /* [BK] */
            float acc = Os[e];
            for (int jj = 0; jj < nk; jj++) acc = fmaf(Sr[jj], KV[jj * (d_h + 1) + c], acc);
            Os[e] = acc;
        }
        __syncthreads();
    }
    for (int e = tid; e < nq * d_h; e += nt) {
        const int r = e / d_h, c = e - r * d_h;
        a.out[(size_t)(i0 + r) * a.ld_out + (size_t)h * d_h + c] = Os[e];
    }
}

static int attn_v2_launch(const SsMhaArgs &a, ss_cu_mha_shape *shape)
{
    int dev = 0, optin = 0;
    SS_CU_CHECK(cudaGetDevice(&dev));
    SS_CU_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    const int defaults = shape->block_q == 0;
    if (shape->threads == 0) shape->threads = 256;
    if (shape->block_k == 0) shape->block_k = a.d_h > 128 ? 32 : 64;
    if (shape->block_q == 0) shape->block_q = 32;
    while (defaults && shape->block_q > 8 && attn_v2_smem(shape->block_q, shape->block_k, a.d_h) > (size_t)optin)
        shape->block_q /= 2;
    const int BQ = shape->block_q, BK = shape->block_k;
    const size_t smem = attn_v2_smem(BQ, BK, a.d_h);
    if (shape->threads % 32 || shape->threads > 1024 || BQ < 1 || BK < 1)
        return ss_cu_fail_arg("attention v2: bad shape block_q=%d block_k=%d threads=%d", BQ, BK, shape->threads);
    if (smem > (size_t)optin)
        return ss_cu_fail_arg("attention v2: block_q=%d block_k=%d d_h=%d needs %zu bytes of shared memory, the "
                              "device allows %d", BQ, BK, a.d_h, smem, optin);
    if (a.H > 65535) return ss_cu_fail_arg("attention v2: H = %d > 65535", a.H);
    if (smem > 48 * 1024)
        SS_CU_CHECK(cudaFuncSetAttribute(attn_v2_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    attn_v2_kernel<<<dim3((a.T + BQ - 1) / BQ, a.H), shape->threads, smem>>>(a, BQ, BK);
    SS_CU_LAUNCHED();
    return 0;
}

#endif
