/* fwd.c: a forward pass's buffers on its backend (fwd.h). */
#include "fwd.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { STAGE_BLOCK = 1 << 20 };

/* The staging area is a list of blocks; a pass takes room from them in order and never moves what it took. */
typedef struct ss_fwd_stage_block {
    struct ss_fwd_stage_block *next;
    void *dev;
    size_t cap, used;
} stage_block;

void ss_fwd_init(ss_fwd *f, const ss_backend *be)
{
    memset(f, 0, sizeof *f);
    f->be = be ? be : ss_backend_cpu();
    f->host = ss_backend_is_host(f->be);
}

void ss_fwd_free(ss_fwd *f)
{
    if (!f || !f->be) return;
    for (int i = 0; i < f->n_regions; i++) ss_be_release(f->be, f->regions[i].dev);
    free(f->regions);
    ss_be_release(f->be, f->cap_dev);
    for (stage_block *b = f->stage, *n; b; b = n) {
        n = b->next;
        ss_be_release(f->be, b->dev);
        free(b);
    }
    ss_fwd_init(f, NULL);
}

ss_status ss_fwd_region_add(ss_fwd *f, const void *host, size_t bytes)
{
    if (f->host || !host) return SS_OK;
    ss_fwd_region *r = NULL;
    for (int i = 0; i < f->n_regions; i++)
        if (f->regions[i].host == host) r = &f->regions[i];
    if (r && r->bytes == bytes) return SS_OK;
    if (!r) {
        if (f->n_regions == f->cap_regions) {
            int cap = f->cap_regions ? 2 * f->cap_regions : 8;
            ss_fwd_region *g = realloc(f->regions, (size_t)cap * sizeof *g);
            if (!g) return ss_fail(SS_ERR_NOMEM, "out of memory for the weight regions");
            f->regions = g;
            f->cap_regions = cap;
        }
        r = &f->regions[f->n_regions++];
        *r = (ss_fwd_region){host, NULL, 0};
    } else {
        ss_be_release(f->be, r->dev);
        f->region_bytes -= r->bytes;
        r->dev = NULL;
        r->bytes = 0;
    }
    ss_status st = ss_be_alloc(f->be, &r->dev, bytes);
    if (st == SS_OK) st = ss_be_upload(f->be, r->dev, host, bytes);
    if (st != SS_OK) {
        ss_be_release(f->be, r->dev);
        *r = f->regions[--f->n_regions]; /* forget it */
        return st;
    }
    r->bytes = bytes;
    f->region_bytes += bytes;
    return SS_OK;
}

const float *ss_fwd_ptr(const ss_fwd *f, const float *host)
{
    if (f->host || !host) return host;
    const char *h = (const char *)host;
    for (int i = 0; i < f->n_regions; i++) {
        const char *b = f->regions[i].host;
        if (h >= b && h < b + f->regions[i].bytes) return (const float *)(void *)((char *)f->regions[i].dev + (h - b));
    }
    return NULL;
}

/* The capture's float part: [attn, end of alpha), contiguous at the start of its arena (model.c: attn, hidden
 * states, q/k/v, attention outputs, then the two attention summaries). */
static size_t cap_float_bytes(const ss_capture *c)
{
    const size_t ns = (size_t)c->n_layers * c->n_heads * c->n_tokens;
    return (size_t)((const char *)(c->alpha + ns) - (const char *)c->attn);
}

float *ss_fwd_cap(const ss_fwd *f, float *host)
{
    if (f->host || !host) return host;
    const char *h = (const char *)host, *b = (const char *)f->cap->attn;
    if (h >= b && h < b + cap_float_bytes(f->cap)) return (float *)(void *)((char *)f->cap_dev + (h - b));
    return (float *)ss_fwd_ptr(f, host);
}

ss_status ss_fwd_begin(ss_fwd *f, const ss_capture *cap)
{
    if (f->host) return SS_OK;
    for (stage_block *b = f->stage; b; b = b->next) b->used = 0;
    f->cap = cap;
    const size_t need = cap_float_bytes(cap);
    if (need > f->cap_dev_bytes) {
        ss_be_release(f->be, f->cap_dev);
        f->cap_dev = NULL;
        f->cap_dev_bytes = 0;
        {
        ss_status st_ = ss_be_alloc(f->be, &f->cap_dev, need);
        if (st_ != SS_OK) return st_;
    }
        f->cap_dev_bytes = need;
    }
    return SS_OK;
}

ss_status ss_fwd_stage(ss_fwd *f, const void *host, size_t bytes, const void **out)
{
    *out = host;
    if (f->host || !host) return SS_OK;
    const size_t need = (bytes + 63) / 64 * 64;
    stage_block *b = f->stage;
    while (b && b->cap - b->used < need) b = b->next;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return ss_fail(SS_ERR_NOMEM, "out of memory for the staging area");
        b->cap = need > STAGE_BLOCK ? need : STAGE_BLOCK;
        ss_status st = ss_be_alloc(f->be, &b->dev, b->cap);
        if (st != SS_OK) {
            free(b);
            return st;
        }
        b->next = f->stage;
        f->stage = b;
    }
    void *dst = (char *)b->dev + b->used;
    {
        ss_status st_ = ss_be_upload(f->be, dst, host, bytes);
        if (st_ != SS_OK) return st_;
    }
    b->used += need;
    *out = dst;
    return SS_OK;
}

/* A summary pass: the attention summaries computed where the maps are, then everything but the maps comes back. */
static ss_status end_summaries(ss_fwd *f, ss_capture *cap)
{
    ss_status st = SS_OK;
    const int L = cap->n_layers, H = cap->n_heads, T = cap->n_tokens;
    const size_t per = (size_t)H * T * T, ns = (size_t)H * T; /* one layer of attn, of a summary */
    for (int l = 0; l < L; l++)
        SS_TRY(ss_be_attn_summary(f->be, ss_fwd_cap(f, cap->attn + l * per), H, T, cap->causal, ss_capture_window(cap, l),
                                  ss_fwd_cap(f, cap->col_mean + l * ns), ss_fwd_cap(f, cap->alpha + l * ns)));
    SS_TRY(ss_be_sync(f->be));
    const char *from = (const char *)cap->hidden, *to = (const char *)(cap->alpha + (size_t)L * ns);
    SS_TRY(ss_be_download(f->be, cap->hidden, ss_fwd_cap(f, cap->hidden), (size_t)(to - from)));
    cap->attn = NULL; /* stayed on the device */
done:
    return st;
}

ss_status ss_fwd_end(ss_fwd *f, ss_capture *cap)
{
    if (!f->host && f->summaries) return end_summaries(f, cap);
    const size_t bytes = cap_float_bytes(cap);
    cap->col_mean = cap->alpha = NULL; /* a full pass: the analyses read attn */
    if (f->host) return SS_OK;
    {
        ss_status st_ = ss_be_sync(f->be);
        if (st_ != SS_OK) return st_;
    }
    return ss_be_download(f->be, cap->attn, f->cap_dev, bytes);
}
