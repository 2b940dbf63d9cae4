/* status.h: error codes with messages. Every fallible function returns an ss_status;
 * the message is set where the error is detected (ss_fail) and read by the caller that reports it. */
#ifndef SS_STATUS_H
#define SS_STATUS_H

typedef enum {
    SS_OK = 0,
    SS_ERR_INPUT,    /* bad user input: sweep, prompt file, model file; the CLI exits 2 */
    SS_ERR_IO,       /* a file could not be read or written */
    SS_ERR_NOMEM,
    SS_ERR_RANGE,    /* a task's input is out of the model's range (too long, bad token id) */
    SS_ERR_FORMAT,   /* a file exists but is not of the expected format */
    SS_ERR_UNSUPPORTED, /* a valid request that does not apply here (an encoding a model cannot take) */
    SS_ERR_MPI,
    SS_ERR_HDF5,
    SS_ERR_INTERNAL
} ss_status;

/* Sets this thread's error message (printf style) and returns st. */
ss_status ss_fail(ss_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends context ("while loading X: ") to the current message; returns st unchanged. */
ss_status ss_wrap(ss_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ss_errmsg(void);
void ss_clear_error(void);
const char *ss_status_name(ss_status st);

#define SS_TRY(expr)                                                                                  \
    do {                                                                                              \
        if ((st = (expr)) != SS_OK) goto done;                                                        \
    } while (0)

#endif
