/* status.c: thread-local error message behind ss_status. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SS_ERRMSG_MAX 1024
static _Thread_local char g_msg[SS_ERRMSG_MAX];

ss_status ss_fail(ss_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg, sizeof g_msg, fmt, ap);
    va_end(ap);
    return st;
}

ss_status ss_wrap(ss_status st, const char *fmt, ...)
{
    char prefix[SS_ERRMSG_MAX], old[SS_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_msg, sizeof old);
    char joined[2 * SS_ERRMSG_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, old);
    memcpy(g_msg, joined, sizeof g_msg - 1); /* long messages are cut, not overflowed */
    g_msg[sizeof g_msg - 1] = '\0';
    return st;
}

const char *ss_errmsg(void) { return g_msg[0] ? g_msg : "no error message"; }

void ss_clear_error(void) { g_msg[0] = '\0'; }

const char *ss_status_name(ss_status st)
{
    switch (st) {
    case SS_OK: return "ok";
    case SS_ERR_INPUT: return "bad input";
    case SS_ERR_IO: return "I/O error";
    case SS_ERR_NOMEM: return "out of memory";
    case SS_ERR_RANGE: return "out of range";
    case SS_ERR_FORMAT: return "bad format";
    case SS_ERR_UNSUPPORTED: return "not applicable";
    case SS_ERR_MPI: return "MPI error";
    case SS_ERR_HDF5: return "HDF5 error";
    case SS_ERR_INTERNAL: return "internal error";
    }
    return "unknown";
}
