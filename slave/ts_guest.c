/* ts_guest: the owner's rules in the order they win: the owner's pause, the work windows, a listed program, a
   customer session (the busy file, which billing software creates while one is on) and recent input (the idle
   source). The idle source is asked every call; the
   programs every PROGRAMS_EVERY_S; the hours once a minute is enough but are cheap, so every call. */
#include "slave/ts_guest.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_hours.h"
#include "slave/ts_exclusive.h"
#include "slave/ts_idle.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROGRAMS_EVERY_S 1.0   /* a game started is seen within this (the issue asks for 2 s) */
#define REASON_CAP 96

struct ts_guest {
    ts_guest_options_t o;
    ts_idle_t *idle;           /* NULL when input is not watched */
    ts_exclusive_t *programs;  /* NULL: none listed */
    ts_hours_t hours;
    bool owner_paused;
    double programs_at;
    char program[REASON_CAP];  /* the listed program seen running at the last scan, "" none */
    char reason[REASON_CAP];
    char describe[512];
};

ts_guest_t *ts_guest_new(const ts_guest_options_t *opts)
{
    ts_guest_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->o = *opts;
    if (ts_hours_parse(opts->hours, &self->hours) < 0)
        goto fail;
    if (opts->pause_while && opts->pause_while[0] && !(self->programs = ts_exclusive_new(opts->pause_while))) {
        ts_error_prefix("--pause-while");
        goto fail;
    }
    if (opts->idle_after > 0 && !(self->idle = ts_idle_new(opts->idle_source, opts->display, NULL))) {
        ts_error_prefix("--idle-after %g", opts->idle_after);
        goto fail;
    }
    size_t n = 0;
    self->describe[0] = '\0';
    if (self->idle)
        n += (size_t)snprintf(self->describe + n, sizeof self->describe - n, "input on %s, work after %g s idle",
                              ts_idle_describe(self->idle), opts->idle_after);
    if (self->hours.count > 0 && n < sizeof self->describe)
        n += (size_t)snprintf(self->describe + n, sizeof self->describe - n, "%shours %s", n ? "; " : "", opts->hours);
    if (opts->busy_file && n < sizeof self->describe)
        n += (size_t)snprintf(self->describe + n, sizeof self->describe - n, "%sin use while %s exists", n ? "; " : "",
                              opts->busy_file);
    if (self->programs && n < sizeof self->describe)
        n += (size_t)snprintf(self->describe + n, sizeof self->describe - n, "%spaused while %s run", n ? "; " : "",
                              opts->pause_while);
    return self;
fail:
    ts_guest_destroy(&self);
    return NULL;
}

void ts_guest_destroy(ts_guest_t **self_p)
{
    ts_guest_t *self = *self_p;
    if (!self)
        return;
    ts_idle_destroy(&self->idle);
    ts_exclusive_destroy(&self->programs);
    free(self);
    *self_p = NULL;
}

bool ts_guest_active(const ts_guest_t *self)
{
    return self->idle || self->programs || self->hours.count > 0 || self->o.busy_file;
}

const char *ts_guest_describe(const ts_guest_t *self)
{
    return self->describe[0] ? self->describe : "always (no --idle-after, --hours or --pause-while)";
}

void ts_guest_owner_pause(ts_guest_t *self, bool paused)
{
    self->owner_paused = paused;
}

const char *ts_guest_reason(ts_guest_t *self)
{
    if (self->owner_paused)
        return "paused by owner";
    if (self->hours.count > 0 && !ts_hours_open_at(&self->hours, time(NULL), NULL))
        return "outside hours";
    if (self->programs) {
        double now = ts_clock_mono();
        if (now - self->programs_at >= PROGRAMS_EVERY_S) {
            const char *running = ts_exclusive_running(self->programs);
            snprintf(self->program, sizeof self->program, "%s", running ? running : "");
            self->programs_at = now;
        }
        if (self->program[0]) {
            snprintf(self->reason, sizeof self->reason, "%s is running", self->program);
            return self->reason;
        }
    }
    if (self->o.busy_file && access(self->o.busy_file, F_OK) == 0)
        return "customer session";
    if (self->idle) {
        double idle = ts_idle_seconds(self->idle);
        if (idle < 0) /* the source failed (the X server went away): the PC counts as in use */
            return "in use (idle source failed)";
        if (idle < self->o.idle_after)
            return "in use";
    }
    return "";
}
