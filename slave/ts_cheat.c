/* ts_cheat: the testing-only dishonest slave mode's schedule: which tile and segment tasks are done cheaply.
   DESIGN: a slave started with --cheat-share F does the n-th tile or segment task it starts dishonestly when
   floor(n*F) > floor((n-1)*F), so cheats are deterministic and evenly spread (what a verifier's tests can count
   on). Computed on doubles, 0.333333 would give tasks 4, 7, 10 and 0.29 would give 28 cheats in 100 tasks
   (100 * 0.29 is 28.999...); the share is therefore read as the simplest fraction p/q within half a unit of its
   sixth decimal and the rule is evaluated in integers. Shares no such fraction fits (below 5e-7) fall back to
   doubles. */
#include "slave/ts_cheat.h"
#include <math.h>
#include <stdio.h>

#define SNAP_TOLERANCE (5e-7 + 1e-15) /* half a unit of the sixth decimal, plus rounding slack */
#define DENOMINATOR_MAX 1000000       /* with q = 10^6 every share has a fraction within the tolerance */

/* The simplest p/q (smallest q) within SNAP_TOLERANCE of share, p >= 1; false when none. 0 < share < 1. */
static bool as_fraction(double share, uint64_t *p, uint64_t *q)
{
    for (uint64_t d = 1; d <= DENOMINATOR_MAX; d++) {
        double num = nearbyint(share * (double)d);
        if (num >= 1 && fabs(num / (double)d - share) <= SNAP_TOLERANCE) {
            *p = (uint64_t)num;
            *q = d;
            return true;
        }
    }
    return false;
}

/* floor(n * p / q) without overflow for p, q <= DENOMINATOR_MAX. */
static uint64_t floor_times(uint64_t n, uint64_t p, uint64_t q)
{
    return (n / q) * p + (n % q) * p / q;
}

bool ts_cheat_due(uint64_t n, double share)
{
    if (n == 0 || !(share > 0))
        return false;
    if (share >= 1)
        return true;
    /* The search costs up to a few ms; a slave asks with the same share every time. */
    static _Thread_local double s_share = -1;
    static _Thread_local bool s_exact;
    static _Thread_local uint64_t s_p, s_q;
    if (share != s_share) {
        s_exact = as_fraction(share, &s_p, &s_q);
        s_share = share;
    }
    if (s_exact)
        return floor_times(n, s_p, s_q) > floor_times(n - 1, s_p, s_q);
    return floor((double)n * share) > floor((double)(n - 1) * share);
}

/* ---- self-test ---- */

#define TEST_TASKS 3000

static int count_due(uint64_t upto, double share)
{
    int c = 0;
    for (uint64_t n = 1; n <= upto; n++)
        c += ts_cheat_due(n, share);
    return c;
}

int ts_cheat_test(bool verbose)
{
    /* Shares whose tasks repeat with a period: due exactly at multiples of it. */
    static const struct {
        double share;
        uint64_t period;
    } periodic[] = {{1.0, 1}, {0.5, 2}, {0.333333, 3}, {0.3333333, 3}, {1.0 / 3, 3}, {0.25, 4}, {0.2, 5}, {0.1, 10},
                    {0.01, 100}};
    for (size_t i = 0; i < sizeof periodic / sizeof periodic[0]; i++)
        for (uint64_t n = 1; n <= TEST_TASKS; n++)
            if (ts_cheat_due(n, periodic[i].share) != (n % periodic[i].period == 0)) {
                fprintf(stderr, "cheat: share %.9g, task %llu: %s, expected every %llu-th task\n",
                        periodic[i].share, (unsigned long long)n, ts_cheat_due(n, periodic[i].share) ? "due" : "not due",
                        (unsigned long long)periodic[i].period);
                return -1;
            }
    /* The first N tasks hold floor(N * p/q) cheats, where doubles alone would miss some (100 * 0.29 < 29), and the
       gaps between cheats differ by one at most (evenly spread). */
    static const struct {
        double share;
        uint64_t p, q;
    } fractions[] = {{0.29, 29, 100}, {0.7, 7, 10}, {0.142857, 1, 7}, {0.666667, 2, 3}, {0.05, 1, 20},
                     {0.9, 9, 10},    {0.999, 999, 1000}, {0.57, 57, 100}, {0.123457, 10, 81}};
    for (size_t i = 0; i < sizeof fractions / sizeof fractions[0]; i++) {
        int c = 0;
        uint64_t last = 0, gap_min = UINT64_MAX, gap_max = 0;
        for (uint64_t n = 1; n <= TEST_TASKS; n++) {
            if (!ts_cheat_due(n, fractions[i].share))
                continue;
            c++;
            uint64_t gap = n - last;
            gap_min = gap < gap_min ? gap : gap_min;
            gap_max = gap > gap_max ? gap : gap_max;
            last = n;
            if ((uint64_t)c != n * fractions[i].p / fractions[i].q) {
                fprintf(stderr, "cheat: share %g: %d cheats in the first %llu tasks, expected %llu\n",
                        fractions[i].share, c, (unsigned long long)n,
                        (unsigned long long)(n * fractions[i].p / fractions[i].q));
                return -1;
            }
        }
        if ((uint64_t)c != TEST_TASKS * fractions[i].p / fractions[i].q || gap_max - gap_min > 1) {
            fprintf(stderr, "cheat: share %g: %d cheats in %d tasks (expected %llu), gaps %llu..%llu\n",
                    fractions[i].share, c, TEST_TASKS,
                    (unsigned long long)(TEST_TASKS * fractions[i].p / fractions[i].q), (unsigned long long)gap_min,
                    (unsigned long long)gap_max);
            return -1;
        }
        if (verbose)
            printf("  share %g: %d of %d tasks, gaps %llu..%llu\n", fractions[i].share, c, TEST_TASKS,
                   (unsigned long long)gap_min, (unsigned long long)gap_max);
    }
    /* Never: share 0, task 0; a share too small for a fraction still follows the rule on doubles. */
    if (count_due(TEST_TASKS, 0) != 0 || ts_cheat_due(0, 1.0) || ts_cheat_due(0, 0.5) ||
        count_due(TEST_TASKS, 1e-7) != 0 || !ts_cheat_due(10000000, 1e-7) || ts_cheat_due(9999999, 1e-7)) {
        fprintf(stderr, "cheat: share 0, task 0 or share 1e-7 wrong\n");
        return -1;
    }
    /* Large task numbers do not overflow. */
    uint64_t big = UINT64_C(1) << 50;
    if (ts_cheat_due(big * 3 + 1, 0.333333) || !ts_cheat_due(big * 3, 0.333333)) {
        fprintf(stderr, "cheat: share 1/3 wrong at task 2^50 * 3\n");
        return -1;
    }
    if (verbose)
        printf("  shares 0, 1, 1/2, 1/3 (0.333333), 1/4, 1/5, 1/10, 1/100 periodic; 1e-7 on doubles\n");
    return 0;
}
