/* ts_clock: the wall clock as Unix seconds and the monotonic clock (see ts_clock.h). */
#include "lib/ts_clock.h"
#include <time.h>

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double ts_clock_wall(void)
{
    return seconds(CLOCK_REALTIME);
}

double ts_clock_mono(void)
{
    return seconds(CLOCK_MONOTONIC);
}
