/* ts_guest: whether the PC is the farm's now: the owner's rules (idle time, a billing session, games, work hours,
   a pause from the owner) folded into one answer the slave's reactor asks every 50 ms. */
#ifndef TS_GUEST_H
#define TS_GUEST_H

#include <stdbool.h>

typedef struct {
    double idle_after;       /* seconds without input before work starts (0: input is not watched) */
    const char *idle_source; /* NULL/"auto" or a source's name (slave/ts_idle.h) */
    const char *display;     /* X display for the x11 source (NULL: $DISPLAY) */
    const char *busy_file;   /* billing software's file: while it exists a customer session is on (NULL: none);
                                works with or without idle_after */
    const char *pause_while; /* comma-separated programs whose running pauses the slave (NULL: none) */
    const char *hours;       /* work windows "22:00-09:00,12:00-13:00" in local time (NULL: any time) */
} ts_guest_options_t;

typedef struct ts_guest ts_guest_t;

/* NULL with ts_error() naming what is wrong (a malformed --hours, no idle source and what was tried). */
ts_guest_t *ts_guest_new(const ts_guest_options_t *opts);
void ts_guest_destroy(ts_guest_t **self_p);
/* Whether any rule is set (else the slave works whenever it runs, as before). */
bool ts_guest_active(const ts_guest_t *self);
/* What the log says is watched, e.g. "input on x11 display :99 (XScreenSaver), idle after 300 s; hours 22:00-09:00". */
const char *ts_guest_describe(const ts_guest_t *self);
/* Why the PC is not the farm's now, or "" when it may work: "paused by owner", "outside hours", "<program> is
   running", "in use" (input within idle_after), "customer session" (the busy file). */
const char *ts_guest_reason(ts_guest_t *self);
/* The owner's own pause (tessera-slave ctl pause / resume). */
void ts_guest_owner_pause(ts_guest_t *self, bool paused);

#endif
