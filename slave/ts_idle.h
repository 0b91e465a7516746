/* ts_idle: how long the PC's user has left it alone (seconds since the last input), from one of a table of sources,
   so a café slave renders only while nobody sits at the PC. */
#ifndef TS_IDLE_H
#define TS_IDLE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ts_idle ts_idle_t;

/* source: NULL or "auto" takes the first source that opens, in the table's order: x11 (display, else $DISPLAY),
   logind (the active session of seat0: IdleHint/IdleSinceHint over D-Bus), input (/dev/input/event*, readable by
   the input group). A name forces one; "name:arg" gives it an argument (x11:DISPLAY, logind:SEAT, input:DIR,
   file:PATH; file, the age of a file that something touches on input, is never chosen by auto). busy_file (NULL:
   none): a path that billing software creates while a customer's session is on; while it exists the PC counts as in
   use (idle 0).
   NULL with ts_error() naming every source tried and why it failed:
   "no idle source: x11: $DISPLAY is not set; logind: ...; input: ...". */
ts_idle_t *ts_idle_new(const char *source, const char *display, const char *busy_file);
void ts_idle_destroy(ts_idle_t **self_p);
/* For the log: "x11 display :99 (XScreenSaver)", with ", busy while PATH exists" when there is a busy file. */
const char *ts_idle_describe(const ts_idle_t *self);
/* Seconds since the last user input, >= 0 (0 while the busy file exists); -1 with ts_error() when the source failed
   (the X server went away or stopped answering): the caller counts the PC as in use, and may destroy and reopen.
   Cheap enough to call every 50-100 ms; it never blocks longer than TS_IDLE_WAIT_S. */
double ts_idle_seconds(ts_idle_t *self);
/* The names in the table, comma-separated ("x11, logind, input, file"), for --help. */
const char *ts_idle_sources(void);

#define TS_IDLE_WAIT_S 0.5   /* the most a source waits for an answer (the X server, logind) in one call */

int ts_idle_test(bool verbose);

/* What a source provides: one file each (slave/idle_<name>.c) and one line in SOURCES in slave/ts_idle.c. */
typedef struct {
    const char *name;
    bool automatic;   /* tried by "auto" */
    /* arg: after "name:" in the source, or NULL; display: ts_idle_new's. The state, or NULL with ts_error(). */
    void *(*open)(const char *arg, const char *display);
    double (*seconds)(void *state);   /* as ts_idle_seconds, without the busy file */
    void (*describe)(const void *state, char *out, size_t cap);
    void (*close)(void *state);
} ts_idle_source_t;

extern const ts_idle_source_t ts_idle_x11;      /* slave/idle_x11.c */
extern const ts_idle_source_t ts_idle_logind;   /* slave/idle_logind.c */
extern const ts_idle_source_t ts_idle_input;    /* slave/idle_input.c */
extern const ts_idle_source_t ts_idle_file;     /* slave/idle_file.c */

#endif
