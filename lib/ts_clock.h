/* ts_clock: the wall clock as Unix seconds, as the store and the escrow record times; a monotonic clock for
   intervals. */
#ifndef TS_CLOCK_H
#define TS_CLOCK_H

/* Seconds since the Unix epoch, with the fraction. */
double ts_clock_wall(void);
/* Seconds from an arbitrary start that never jumps (CLOCK_MONOTONIC), for timeouts and rates. */
double ts_clock_mono(void);

#endif
