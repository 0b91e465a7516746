/* ts_policy: the spot-check rate (BOINC's adaptive replication) and its self-test at each edge. */
#include "verifier/ts_policy.h"
#include "tests/ts_test.h"
#include <math.h>

double ts_check_rate(int consecutive_valid, double trust, double floor)
{
    if (floor <= 0)
        return 0;
    if (consecutive_valid < trust || consecutive_valid <= 0)
        return 1;
    double r = 1.0 / consecutive_valid;
    return r > floor ? r : floor;
}

int ts_policy_test(bool verbose)
{
    int failures = 0;
    /* trust edge: below, at and above `trust` consecutive valid results */
    TS_TEST_CHECK(ts_check_rate(9, 10, 0.05) == 1, "below trust");
    TS_TEST_CHECK(fabs(ts_check_rate(10, 10, 0.05) - 0.1) < 1e-12, "at trust");
    TS_TEST_CHECK(fabs(ts_check_rate(11, 10, 0.05) - 1.0 / 11) < 1e-12, "above trust");
    /* floor edge: 1/run just above, at and below the floor (1/20 = 0.05) */
    TS_TEST_CHECK(fabs(ts_check_rate(19, 10, 0.05) - 1.0 / 19) < 1e-12, "1/run above the floor");
    TS_TEST_CHECK(ts_check_rate(20, 10, 0.05) == 0.05, "1/run at the floor");
    TS_TEST_CHECK(ts_check_rate(21, 10, 0.05) == 0.05 && ts_check_rate(1000, 10, 0.05) == 0.05, "below the floor");
    /* floor 0: no checks; floor 1: every result; a new node (run 0) is always checked */
    TS_TEST_CHECK(ts_check_rate(0, 10, 0) == 0 && ts_check_rate(500, 10, 0) == 0, "floor 0");
    TS_TEST_CHECK(ts_check_rate(5, 10, 1) == 1 && ts_check_rate(500, 10, 1) == 1, "floor 1");
    TS_TEST_CHECK(ts_check_rate(0, 0, 0.05) == 1, "a new node with trust 0");
    if (verbose)
        printf("  policy: trust, floor and run edges\n");
    return failures ? -1 : 0;
}
