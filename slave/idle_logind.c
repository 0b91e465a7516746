/* idle_logind: the idle hint of the seat's active session, read from logind (org.freedesktop.login1) over the
   system bus with sd-bus. The hint is as good as what sets it: a desktop sets IdleHint after its own idle delay
   (GNOME's idle-delay), logind itself for text sessions from the tty's last use; until it is set the session reads
   as in use (0), which errs on the customer's side. The active session is looked up again every few seconds (a
   user switch, a logout); a seat with none left reads as idle since that was seen. */
#include "slave/ts_idle.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define LOGIN1 "org.freedesktop.login1"
#define LOOKUP_EVERY_S 5.0

typedef struct {
    sd_bus *bus;
    char seat[64];
    char session[64];     /* the active session's id, "" when the seat has none */
    char *path;           /* its object path */
    double looked_up;     /* when (monotonic) */
    double none_since;    /* when the seat was first seen without one */
} logind_t;

/* A failed bus call as text: logind absent or silent, else the D-Bus error's message, else errno's. */
static int bus_error(const char *what, sd_bus_error *e, int r)
{
    if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
        sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
        ts_error_set("%s: logind is not running (%s)", what, e->message ? e->message : e->name);
    else if (r == -ETIMEDOUT)
        ts_error_set("%s: logind did not answer in %.1f s", what, TS_IDLE_WAIT_S);
    else
        ts_error_set("%s: %s", what, sd_bus_error_is_set(e) && e->message ? e->message : strerror(-r));
    sd_bus_error_free(e);
    return -1;
}

/* Finds the seat's active session: 0 (session "" when there is none), -1 with ts_error(). */
static int look_up(logind_t *l)
{
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *m = NULL;
    const char *seat_path, *id, *path;
    int r = sd_bus_call_method(l->bus, LOGIN1, "/org/freedesktop/login1", LOGIN1 ".Manager", "GetSeat", &e, &m, "s",
                               l->seat);
    if (r < 0)
        return bus_error(l->seat, &e, r);
    r = sd_bus_message_read(m, "o", &seat_path);
    char *seat_copy = r >= 0 ? strdup(seat_path) : NULL;
    sd_bus_message_unref(m);
    m = NULL;
    if (!seat_copy)
        return ts_error_set("%s: unexpected answer to GetSeat", l->seat);
    r = sd_bus_get_property(l->bus, LOGIN1, seat_copy, LOGIN1 ".Seat", "ActiveSession", &e, &m, "(so)");
    free(seat_copy);
    if (r < 0)
        return bus_error(l->seat, &e, r);
    r = sd_bus_message_read(m, "(so)", &id, &path);
    if (r < 0) {
        sd_bus_message_unref(m);
        return ts_error_set("%s: unexpected ActiveSession", l->seat);
    }
    free(l->path);
    l->path = id[0] ? strdup(path) : NULL;
    snprintf(l->session, sizeof l->session, "%s", l->path ? id : "");
    sd_bus_message_unref(m);
    l->looked_up = ts_clock_mono();
    return 0;
}

static void logind_close(void *state)
{
    logind_t *l = state;
    sd_bus_flush_close_unref(l->bus);
    free(l->path);
    free(l);
}

static void *logind_open(const char *arg, const char *display)
{
    logind_t *l = calloc(1, sizeof *l);
    if (!l) {
        ts_error_set("out of memory");
        return NULL;
    }
    snprintf(l->seat, sizeof l->seat, "%s", arg ? arg : "seat0");
    int r = sd_bus_open_system(&l->bus);
    if (r < 0) {
        const char *at = getenv("DBUS_SYSTEM_BUS_ADDRESS");
        ts_error_set("no system bus at %s (%s)", at ? at : "/run/dbus/system_bus_socket", strerror(-r));
        l->bus = NULL;
        logind_close(l);
        return NULL;
    }
    sd_bus_set_method_call_timeout(l->bus, (uint64_t)(TS_IDLE_WAIT_S * 1e6));
    if (look_up(l) < 0 || !l->path) {
        if (!l->path && l->looked_up)
            ts_error_set("no session on %s", l->seat);
        logind_close(l);
        return NULL;
    }
    return l;
}

static double logind_seconds(void *state)
{
    logind_t *l = state;
    double now = ts_clock_mono();
    if ((!l->path || now - l->looked_up >= LOOKUP_EVERY_S) && look_up(l) < 0)
        return -1;
    if (!l->path) {
        if (!l->none_since)
            l->none_since = now;
        return now - l->none_since;
    }
    l->none_since = 0;
    sd_bus_error e = SD_BUS_ERROR_NULL;
    int hint = 0;
    uint64_t since_us = 0;
    int r = sd_bus_get_property_trivial(l->bus, LOGIN1, l->path, LOGIN1 ".Session", "IdleHint", &e, 'b', &hint);
    if (r >= 0 && hint)
        r = sd_bus_get_property_trivial(l->bus, LOGIN1, l->path, LOGIN1 ".Session", "IdleSinceHintMonotonic", &e,
                                        't', &since_us);
    if (r < 0) {
        l->looked_up = 0;   /* the session may have ended: look again next time */
        char what[160];
        snprintf(what, sizeof what, "%s session %s", l->seat, l->session);
        return bus_error(what, &e, r);
    }
    if (!hint)
        return 0;
    double s = now - (double)since_us / 1e6;
    return s > 0 ? s : 0;
}

static void logind_describe(const void *state, char *out, size_t cap)
{
    const logind_t *l = state;
    snprintf(out, cap, "logind %s session %s (IdleHint)", l->seat, l->session);
}

const ts_idle_source_t ts_idle_logind = {
    .name = "logind", .automatic = true,
    .open = logind_open, .seconds = logind_seconds, .describe = logind_describe, .close = logind_close,
};
