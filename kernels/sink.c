/* sink.c: column statistics of attention matrices for the sink analyses. */
#include "sink.h"

void ss_column_importance_window(const float *A, int T, int causal, int window, float *alpha)
{
    for (int j = 0; j < T; j++) {
        const int first = causal ? j : 0; /* queries that can see key j: [first, end) */
        const int end = causal && window > 0 && j + window < T ? j + window : T;
        double sum = 0.0;
        for (int i = first; i < end; i++) sum += A[(long)i * T + j];
        alpha[j] = (float)(sum / (double)(end - first));
    }
}

void ss_column_importance(const float *A, int T, int causal, float *alpha)
{
    ss_column_importance_window(A, T, causal, 0, alpha);
}

void ss_column_mean(const float *A, int T, float *r)
{
    for (int j = 0; j < T; j++) {
        double sum = 0.0;
        for (int i = 0; i < T; i++) sum += A[(long)i * T + j];
        r[j] = (float)(sum / (double)T);
    }
}

int ss_argmax(const float *v, int n_candidates)
{
    int best = 0;
    for (int j = 1; j < n_candidates; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

int ss_key_candidates_window(int T, int causal, int window, int min_queries)
{
    if (!causal) return T;
    const int span = window > 0 && window < T ? window : T; /* the most queries any key has */
    int need = (span + 3) / 4;
    if (min_queries > need) need = min_queries;
    if (need > span) return 0;
    int n = T - need + 1; /* key j has min(T - j, window) visible queries; need that >= need (<= span) */
    return n < 0 ? 0 : n;
}

int ss_key_candidates(int T, int causal, int min_queries) { return ss_key_candidates_window(T, causal, 0, min_queries); }
