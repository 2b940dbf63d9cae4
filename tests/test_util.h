/* test_util.h: CHECK macros for plain-executable tests. A failed check prints file:line and counts;
 * TEST_END returns 1 if any check failed. SKIP(reason) exits 77 after saying why. */
#ifndef SS_TEST_UTIL_H
#define SS_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_test_failures;

#define CHECK(cond)                                                                                   \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                  \
            g_test_failures++;                                                                        \
        }                                                                                             \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                          \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);                  \
            fprintf(stderr, __VA_ARGS__);                                                             \
            fputc('\n', stderr);                                                                      \
            g_test_failures++;                                                                        \
        }                                                                                             \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                         \
    do {                                                                                              \
        double _a = (a), _b = (b);                                                                    \
        if (!(fabs(_a - _b) <= (tol))) {                                                              \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g, tol %g\n", __FILE__,     \
                    __LINE__, #a, _a, #b, _b, (double)(tol));                                         \
            g_test_failures++;                                                                        \
        }                                                                                             \
    } while (0)

#define CHECK_STREQ(a, b)                                                                             \
    do {                                                                                              \
        const char *_a = (a), *_b = (b);                                                              \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                                                      \
            fprintf(stderr, "%s:%d: CHECK_STREQ failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__,       \
                    _a ? _a : "(null)", _b ? _b : "(null)");                                          \
            g_test_failures++;                                                                        \
        }                                                                                             \
    } while (0)

#define SKIP(...)                                                                                     \
    do {                                                                                              \
        fprintf(stderr, "SKIP: ");                                                                    \
        fprintf(stderr, __VA_ARGS__);                                                                 \
        fputc('\n', stderr);                                                                          \
        exit(77);                                                                                     \
    } while (0)

#define TEST_END()                                                                                    \
    do {                                                                                              \
        if (g_test_failures) fprintf(stderr, "%d check(s) failed\n", g_test_failures);                \
        return g_test_failures ? 1 : 0;                                                               \
    } while (0)

/* Path helpers: SS_SOURCE_DIR / SS_MODEL_CACHE are set by CTest. */
static inline const char *test_env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

#endif
