/* ts_eta_test: the estimate follows the job's own pace, says "not known" where it cannot know, and reads as the
   jobs list writes it. */
#include "gui/ts_eta.h"
#include "tests/ts_test.h"
#include <math.h>

static gboolean text_is(double seconds, const char *want)
{
    g_autofree char *got = ts_eta_text(seconds);
    if (g_strcmp0(got, want) != 0)
        fprintf(stderr, "ts_eta_text(%g): '%s', not '%s'\n", seconds, got, want);
    return g_strcmp0(got, want) == 0;
}

int ts_eta_test(gboolean verbose)
{
    int failures = 0;
    double t0 = 1700000000.0;
    /* 4 of 16 tasks in 100 s: 25 s a task, 12 to go */
    TS_TEST_CHECK(fabs(ts_eta_seconds(4, 16, t0, t0 + 100) - 300) < 1e-6, "%g", ts_eta_seconds(4, 16, t0, t0 + 100));
    /* the pace changes the estimate: twice as fast, half the time */
    TS_TEST_CHECK(fabs(ts_eta_seconds(8, 16, t0, t0 + 100) - 100) < 1e-6, "%g", ts_eta_seconds(8, 16, t0, t0 + 100));
    TS_TEST_CHECK(ts_eta_seconds(16, 16, t0, t0 + 100) == 0, "all done: nothing left");
    TS_TEST_CHECK(ts_eta_seconds(0, 16, t0, t0 + 100) < 0, "nothing done yet: not known");
    TS_TEST_CHECK(ts_eta_seconds(4, 16, 0, t0) < 0, "not started: not known");
    TS_TEST_CHECK(ts_eta_seconds(4, 16, t0, t0 - 5) < 0, "a clock behind the start: not known");
    TS_TEST_CHECK(ts_eta_seconds(17, 16, t0, t0 + 100) < 0, "more done than planned: not known");
    TS_TEST_CHECK(ts_eta_seconds(4, 0, t0, t0 + 100) < 0, "no plan yet: not known");
    TS_TEST_CHECK(text_is(-1, "—") && text_is(NAN, "—"), "not known reads as a dash");
    TS_TEST_CHECK(text_is(0, "< 1 min") && text_is(59, "< 1 min"), "under a minute");
    TS_TEST_CHECK(text_is(60, "1 min") && text_is(61, "2 min") && text_is(300, "5 min"), "minutes, rounded up");
    TS_TEST_CHECK(text_is(3600, "1 h 00 min") && text_is(2 * 3600 + 5 * 60, "2 h 05 min"), "hours and minutes");
    if (verbose)
        printf("eta: ok\n");
    return failures ? -1 : 0;
}
