/* ts_store_quote: what a quote reads from the store: the farm's recent pace (seconds per work unit of its last done
   tiles) and how many nodes could render at once now. */
#ifndef TS_STORE_QUOTE_H
#define TS_STORE_QUOTE_H

#include "master/ts_store.h"
#include <stddef.h>

#define TS_QUOTE_TILES_MAX 200 /* the done tiles a quote's pace is taken from, newest first */

/* Fills rates (cap entries) with the seconds per work unit (rendered pixels x samples) of the newest done tiles that
   were not spot checks, and *slots with the online nodes that are not paused. 0, or -1 with ts_error(). */
int ts_store_quote_pace(ts_store_t *self, double *rates, size_t cap, size_t *count, int *slots);

#endif
