/* ts_simwork: how long a simulated slave works on a task: a fixed time ("MS") or one drawn uniformly ("uniform:A-B"). */
#ifndef TS_SIMWORK_H
#define TS_SIMWORK_H

typedef struct {
    long lo_ms, hi_ms; /* equal for a fixed time */
} ts_simwork_t;

/* Parses "MS" or "uniform:A-B" (whole milliseconds, 0 <= A <= B <= 86,400,000). 0, or -1 with ts_error() saying what
   is wrong with text. */
int ts_simwork_parse(const char *text, ts_simwork_t *work);
/* One task's work time in seconds (thread-safe). */
double ts_simwork_draw(const ts_simwork_t *work);

#endif
