/* progress.h: rank 0's progress report: tasks done/total, failures, rate and ETA.
 * A live line (rewritten in place) on a terminal; plain lines every few seconds otherwise. */
#ifndef SS_PROGRESS_H
#define SS_PROGRESS_H

#include "scheduler.h"

typedef struct {
    int live;            /* 1: rewrite one line with \r; 0: print a line every `interval` seconds */
    int enabled;
    double interval;
    double t_start, t_last;
    int total;           /* tasks to run in this invocation */
    int done_before;     /* tasks already done in the file */
    int last_printed;
} ss_progress;

void ss_progress_init(ss_progress *p, ss_progress_mode mode, double interval, int total, int done_before);
/* Prints when due (live: at most 10 times a second). force prints now. */
void ss_progress_update(ss_progress *p, int finished, int failed, int force);
/* Prints the final line. */
void ss_progress_finish(ss_progress *p, int finished, int failed);
/* "1:02:03" / "2:03" / "7s" */
void ss_format_duration(double seconds, char *out, int cap);

#endif
