/* ts_hours: the slave's work windows (--hours 22:00-09:00,12:00-13:00) in local time: parsed, asked whether open. */
#ifndef TS_HOURS_H
#define TS_HOURS_H

#include <stdbool.h>
#include <time.h>

#define TS_HOURS_MAX 8
#define TS_HOURS_DAY (24 * 60)

/* Windows in minutes of the day; a window owns the minutes start <= m < end, and one whose end is not after its
   start wraps past midnight (22:00-09:00 owns 22:00..23:59 and 00:00..08:59). Windows may overlap: the set is their
   union. count 0: no windows given, open at all hours. */
typedef struct {
    int count;
    struct {
        int start_min; /* 0..1439 */
        int end_min;   /* 0..1440, never equal to start_min */
    } w[TS_HOURS_MAX];
} ts_hours_t;

/* Parses "HH:MM-HH:MM[,HH:MM-HH:MM...]" (1 to 8 windows; H or HH hours, MM minutes; 24:00 only as an end; spaces
   around the times and commas allowed). NULL gives count 0 (open at all hours); "" and a window that starts where it
   ends are refused. -1 with ts_error() "--hours '<text>': <what is wrong>". */
int ts_hours_parse(const char *text, ts_hours_t *out);
/* Whether minute_of_day (0..1439) is inside a window (start inclusive, end exclusive). */
bool ts_hours_open(const ts_hours_t *h, int minute_of_day);
/* Minutes (1..1440) from minute_of_day until the open/closed state changes; -1 when it never does. */
int ts_hours_next_change(const ts_hours_t *h, int minute_of_day);
/* Whether h is open at t in local time (localtime_r). *change_at (when not NULL) gets the first time after t at which
   the state changes, or (time_t)-1 when it never does; it is found by mktime, so a DST shift in between is counted. */
bool ts_hours_open_at(const ts_hours_t *h, time_t t, time_t *change_at);

int ts_hours_test(bool verbose);

#endif
