/* ts_test: the check macro of the self-tests: counts a failure into the caller's `failures` and says where. */
#ifndef TS_TEST_H
#define TS_TEST_H

#include <stdio.h>

/* What a self-test returns when it cannot run here (a missing service): counted apart, never as a pass. */
#define TS_TEST_SKIPPED 77

#define TS_TEST_CHECK(cond, ...)                                                                                  \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            failures++;                                                                                            \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fprintf(stderr, "\n");                                                                                 \
        }                                                                                                          \
    } while (0)

#endif
