/* ts_cheat: the testing-only dishonest slave mode's schedule: which tile and segment tasks are done cheaply. */
#ifndef TS_CHEAT_H
#define TS_CHEAT_H

#include <stdbool.h>
#include <stdint.h>

/* Is the slave's n-th tile or segment task (n = 1, 2, 3, ... in the order it starts them) to be done
   dishonestly with share F (0..1)? True when floor(n*F) > floor((n-1)*F): deterministic and evenly spread, so
   the first N tasks hold floor(N*F) dishonest ones. F is taken as the simplest fraction within half a unit of
   its sixth decimal (0.333333 is 1/3: tasks 3, 6, 9, ...), computed in integers, so float rounding never moves
   a task. F <= 0 (or n = 0): never; F >= 1: always. */
bool ts_cheat_due(uint64_t n, double share);

int ts_cheat_test(bool verbose);

#endif
