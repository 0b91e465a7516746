/* ts_policy: the spot-check policy: how likely a node's next result is re-done by another node. */
#ifndef TS_POLICY_H
#define TS_POLICY_H

#include <stdbool.h>

/* The chance that re-doing a faked result and comparing catches it: the lowest share of changed tiles the
   render-noise rule caught at 8x8 tiles (half the samples: 89.7%, bench/bench_agree.py), rounded down. */
#define TS_CHECK_DETECT 0.85
/* How far above break-even a staked node's check rate is kept: covers a cheater who saves a little more than the
   price (a cheap fake still costs something, so the price is already an upper bound) and errors in the figures. */
#define TS_CHECK_MARGIN 2.0

/* A check of a tile re-renders a random window of it, at least this many pixels on a side (or the whole side). */
#define TS_CHECK_MIN_SIDE 16

/* What the rate is computed from. */
typedef struct {
    int run;          /* the node's consecutive valid results (0: new, or just failed a check) */
    int pending;      /* its results out for a check now (they count toward `first`: a new node's first piece is
                         re-done, not every piece it hands in before that check has come back) */
    double price;     /* what this result earns the node (tokens; 0: the farm has no payments) */
    double at_risk;   /* what one failed check costs the node: the stake it slashes (tokens) */
} ts_check_facts_t;

typedef struct {
    double trust;     /* nothing at risk: results checked in full before the rate follows 1/run (BOINC) */
    double floor;     /* the lowest rate; 0 turns spot checks off */
    int first;        /* something at risk: a node's first results (run below this) are checked in full */
} ts_check_rates_t;

/* The share of a node's results that are re-done by another node. With a stake at risk and a price: 1 while
   run + pending < first, then max(floor, min(1, TS_CHECK_MARGIN * ts_check_breakeven(price, at_risk))). With nothing at
   risk: BOINC's adaptive replication, 1 until `trust` valid results, then max(floor, 1/run). floor 0: 0. */
double ts_check_rate_for(const ts_check_facts_t *f, const ts_check_rates_t *r);

/* The check rate at which faking a result stops paying: a faked result earns `price` when it goes unchecked and
   costs `at_risk` when a check catches it (chance p * TS_CHECK_DETECT), so faking loses on average whenever
   p > price / (TS_CHECK_DETECT * (price + at_risk)). Returns that bound, at most 1; 1 when nothing is at risk. */
double ts_check_breakeven(double price, double at_risk);

/* BOINC's adaptive replication alone: 1 until `trust` consecutive valid results, then max(floor, 1/run). */
double ts_check_rate(int consecutive_valid, double trust, double floor);

int ts_policy_test(bool verbose);

#endif
