/* ts_clock: the wall clock as Unix seconds (see ts_clock.h). */
#include "lib/ts_clock.h"
#include <time.h>

double ts_clock_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
