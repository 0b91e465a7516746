/* ts_clock: the wall clock as Unix seconds, as the store and the escrow record times. */
#ifndef TS_CLOCK_H
#define TS_CLOCK_H

/* Seconds since the Unix epoch, with the fraction. */
double ts_clock_wall(void);

#endif
