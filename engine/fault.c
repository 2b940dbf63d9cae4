/* fault.c: SINKSCOPE_FAULT test hooks (see fault.h). */
#include "fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Calls f(kind, a, b) for each "kind:a[:b]" entry. */
static int scan(int task, int want_fail)
{
    const char *env = getenv("SINKSCOPE_FAULT");
    if (!env || !*env) return 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", env);
    int fail = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long a = -1, b = -1;
        char kind[16] = "";
        if (sscanf(tok, "%15[a-z]:%ld:%ld", kind, &a, &b) < 2) continue;
        if (want_fail) {
            if (strcmp(kind, "fail") == 0 && a == task) fail = 1;
            continue;
        }
        if (strcmp(kind, "crash") == 0 && a == task) {
            fprintf(stderr, "sinkscope: SINKSCOPE_FAULT: crashing on task %d\n", task);
            fflush(stderr);
            raise(SIGKILL);
        } else if (strcmp(kind, "slow") == 0) {
            sleep_ms(a);
        } else if (strcmp(kind, "cost") == 0 && a == task && b > 0) {
            sleep_ms(b);
        }
    }
    return fail;
}

void ss_fault_maybe(int task) { scan(task, 0); }
int ss_fault_fail(int task) { return scan(task, 1); }
