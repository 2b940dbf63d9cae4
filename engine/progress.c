/* progress.c: the progress line of rank 0 (on stderr, so stdout stays clean for results). */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ss_format_duration(double s, char *out, int cap)
{
    if (s < 0 || s != s) {
        snprintf(out, (size_t)cap, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, (size_t)cap, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else if (t >= 60) snprintf(out, (size_t)cap, "%ld:%02ld", t / 60, t % 60);
    else snprintf(out, (size_t)cap, "%lds", t);
}

void ss_progress_init(ss_progress *p, ss_progress_mode mode, double interval, int total, int done_before)
{
    p->enabled = mode != SS_PROGRESS_NONE;
    p->live = mode == SS_PROGRESS_LIVE || (mode == SS_PROGRESS_AUTO && isatty(STDERR_FILENO));
    p->interval = interval > 0 ? interval : 10.0;
    p->t_start = p->t_last = now_s();
    p->total = total;
    p->done_before = done_before;
    p->last_printed = -1;
}

static void print_line(ss_progress *p, int finished, int failed, int final)
{
    double el = now_s() - p->t_start;
    double rate = el > 0 ? finished / el : 0;
    char eta[32], ela[32];
    ss_format_duration(rate > 0 ? (p->total - finished) / rate : -1, eta, sizeof eta);
    ss_format_duration(el, ela, sizeof ela);
    char resumed[64] = "";
    if (p->done_before > 0) snprintf(resumed, sizeof resumed, " (+%d done earlier)", p->done_before);
    double pct = p->total > 0 ? 100.0 * finished / p->total : 100.0;
    char line[256];
    if (final)
        snprintf(line, sizeof line, "[sinkscope] %d/%d tasks%s, %d failed, %.2f tasks/s, took %s", finished, p->total,
                 resumed, failed, rate, ela);
    else
        snprintf(line, sizeof line, "[sinkscope] %d/%d tasks (%.0f%%)%s, %d failed, %.2f tasks/s, ETA %s", finished,
                 p->total, pct, resumed, failed, rate, eta);
    if (p->live) fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
    else fprintf(stderr, "%s\n", line);
    fflush(stderr);
    p->last_printed = finished;
}

void ss_progress_update(ss_progress *p, int finished, int failed, int force)
{
    if (!p->enabled) return;
    double t = now_s();
    double gap = p->live ? 0.1 : p->interval;
    if (!force && (t - p->t_last < gap || finished == p->last_printed)) return;
    p->t_last = t;
    print_line(p, finished, failed, 0);
}

void ss_progress_finish(ss_progress *p, int finished, int failed)
{
    if (!p->enabled) return;
    print_line(p, finished, failed, 1);
}
