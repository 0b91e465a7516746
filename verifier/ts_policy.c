/* ts_policy: the spot-check rate, priced by what a node has at risk, and its self-test at each edge. */
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

double ts_check_breakeven(double price, double at_risk)
{
    if (!(price > 0) || !(at_risk > 0))
        return 1;
    double p = price / (TS_CHECK_DETECT * (price + at_risk));
    return p < 1 ? p : 1;
}

double ts_check_rate_for(const ts_check_facts_t *f, const ts_check_rates_t *r)
{
    if (r->floor <= 0)
        return 0;
    if (!(f->price > 0) || !(f->at_risk > 0))
        return ts_check_rate(f->run, r->trust, r->floor);
    if (f->run + f->pending < r->first)
        return 1;
    double p = TS_CHECK_MARGIN * ts_check_breakeven(f->price, f->at_risk);
    p = p < 1 ? p : 1;
    return p > r->floor ? p : r->floor;
}

/* The expected gain of faking one result at check rate p: positive means cheating pays. */
static double fake_gain(double p, double price, double at_risk)
{
    return (1 - p * TS_CHECK_DETECT) * price - p * TS_CHECK_DETECT * at_risk;
}

int ts_policy_test(bool verbose)
{
    int failures = 0;
    /* BOINC's rule, for nodes with nothing at risk: trust edge, below, at and above */
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

    /* break-even: faking gains nothing exactly there, loses above it, gains below it */
    const double prices[] = {0.01, 0.625, 1.0 / 6 * 10, 10}, risks[] = {0.5, 5, 50};
    for (size_t i = 0; i < sizeof prices / sizeof *prices; i++)
        for (size_t j = 0; j < sizeof risks / sizeof *risks; j++) {
            double be = ts_check_breakeven(prices[i], risks[j]);
            if (be >= 1)
                continue;
            TS_TEST_CHECK(fabs(fake_gain(be, prices[i], risks[j])) < 1e-9, "no gain at break-even");
            TS_TEST_CHECK(fake_gain(be * 1.001, prices[i], risks[j]) < 0, "a loss just above break-even");
            TS_TEST_CHECK(fake_gain(be * 0.999, prices[i], risks[j]) > 0, "a gain just below break-even");
        }
    TS_TEST_CHECK(ts_check_breakeven(1, 0) == 1 && ts_check_breakeven(0, 5) == 1, "nothing at risk: break-even 1");
    TS_TEST_CHECK(ts_check_breakeven(10, 0.1) == 1, "a price far above the stake: capped at 1");

    /* the priced rate: stake 5 at risk, price 0.625 (a 16-tile frame of a 10-token job) */
    ts_check_rates_t r = {.trust = 10, .floor = 0.05, .first = 1};
    ts_check_facts_t f = {.run = 0, .price = 0.625, .at_risk = 5};
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) == 1, "a new staked node's first result is checked");
    f.run = 1;
    double want = TS_CHECK_MARGIN * 0.625 / (TS_CHECK_DETECT * 5.625);
    TS_TEST_CHECK(fabs(ts_check_rate_for(&f, &r) - want) < 1e-12, "after its first valid result: margin x break-even");
    TS_TEST_CHECK(fake_gain(ts_check_rate_for(&f, &r), f.price, f.at_risk) < 0, "where faking does not pay");
    f.run = 1000;
    TS_TEST_CHECK(fabs(ts_check_rate_for(&f, &r) - want) < 1e-12, "a long run does not take the rate below it");
    /* first edge: below, at and above */
    r.first = 3;
    f.run = 2;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) == 1, "below first");
    f.run = 3;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) < 1, "at first");
    f.run = 4;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) < 1, "above first");
    /* results already out for a check count toward first: below, at and above */
    f.run = 0;
    f.pending = 2;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) == 1, "run 0 + 2 out for a check, below first 3");
    f.pending = 3;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) < 1, "run 0 + 3 out for a check, at first 3");
    f.pending = 4;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) < 1, "run 0 + 4 out for a check, above first 3");
    f.pending = 0;
    r.first = 1;
    /* floor edge: a priced rate just above, at and below the floor */
    f.run = 5;
    f.at_risk = 50;
    double be = ts_check_breakeven(f.price, f.at_risk) * TS_CHECK_MARGIN;
    r.floor = be * 0.999;
    TS_TEST_CHECK(fabs(ts_check_rate_for(&f, &r) - be) < 1e-12, "priced rate above the floor");
    r.floor = be;
    TS_TEST_CHECK(fabs(ts_check_rate_for(&f, &r) - be) < 1e-12, "priced rate at the floor");
    r.floor = be * 1.001;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) == r.floor, "priced rate below the floor: the floor");
    r.floor = 0;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) == 0, "floor 0: no checks, staked or not");
    /* a stake too small for the price: every result */
    r.floor = 0.05;
    f.at_risk = 0.2;
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) == 1, "little at risk against the price: every result");
    /* nothing at risk (no payments, or no slashing): BOINC's rule */
    f = (ts_check_facts_t){.run = 5, .price = 0.625, .at_risk = 0};
    TS_TEST_CHECK(ts_check_rate_for(&f, &r) == 1, "unstaked below trust");
    f = (ts_check_facts_t){.run = 12, .price = 0, .at_risk = 5};
    TS_TEST_CHECK(fabs(ts_check_rate_for(&f, &r) - 1.0 / 12) < 1e-12, "unpriced above trust: 1/run");
    if (verbose)
        printf("  policy: trust, floor, first and break-even edges\n");
    return failures ? -1 : 0;
}
