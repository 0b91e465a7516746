/* ts_test: the check macros of the self-tests: count a failure into the caller's `failures` and say where. */
#ifndef TS_TEST_H
#define TS_TEST_H

#include <stdio.h>
#include <stdlib.h>

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

/* A check that ends the test at its first failure (goto out), saying ts_error(): for steps that build on the ones
   before them. The caller includes lib/ts_error.h. */
#define TS_TEST_REQUIRE(cond)                                                                                     \
    do {                                                                                                           \
        TS_TEST_CHECK(cond, "%s", ts_error());                                                                     \
        if (failures)                                                                                              \
            goto out;                                                                                              \
    } while (0)

/* Removes a test's temporary folder and all in it; -1 when that fails. */
static inline int ts_test_remove_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
