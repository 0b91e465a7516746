/* ts_policy: the spot-check policy: how likely a node's next result is re-done by another node. */
#ifndef TS_POLICY_H
#define TS_POLICY_H

#include <stdbool.h>

/* The share of a node's results that are re-done by another node, from its run of consecutive valid results:
   1 until `trust` of them, then max(floor, 1/run) (BOINC's adaptive replication); floor 0 means no checks at all. */
double ts_check_rate(int consecutive_valid, double trust, double floor);

int ts_policy_test(bool verbose);

#endif
