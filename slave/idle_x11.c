/* idle_x11: the X server's own idle counter (MIT-SCREEN-SAVER QueryInfo, ms since the last input of any device)
   over XCB rather than Xlib/libXss: XCB reports a lost server as a value (Xlib's I/O error path exits the process
   unless every caller installs handlers), and its replies can be waited for with poll(), so a server that stops
   answering costs one failed call of TS_IDLE_WAIT_S, not a hung slave. A request left unanswered stays pending and
   is picked up by the next call, so a stall that ends needs no reconnect; a lost connection stays failed. */
#include "slave/ts_idle.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xcb/screensaver.h>
#include <xcb/xcb.h>
#include <xcb/xcbext.h>   /* xcb_poll_for_reply: waiting for a reply with a bound */

typedef struct {
    xcb_connection_t *conn;
    xcb_window_t root;
    char display[64];
    bool pending;   /* cookie asked and not answered yet */
    unsigned int cookie;
} x11_t;

/* What xcb_connection_has_error's code means. */
static const char *conn_error(int code)
{
    switch (code) {
    case XCB_CONN_ERROR: return "no X server there, or not authorized";
    case XCB_CONN_CLOSED_EXT_NOTSUPPORTED: return "an extension is missing";
    case XCB_CONN_CLOSED_MEM_INSUFFICIENT: return "out of memory";
    case XCB_CONN_CLOSED_REQ_LEN_EXCEED: return "request too long";
    case XCB_CONN_CLOSED_PARSE_ERR: return "not a display name";
    case XCB_CONN_CLOSED_INVALID_SCREEN: return "no such screen";
    default: return "connection error";
    }
}

/* Sends what is queued with SIGPIPE held back: writing to a server that has just gone must fail the connection
   (xcb sees EPIPE), not kill a process that did not ignore the signal. */
static void flush(xcb_connection_t *conn)
{
    sigset_t pipe_only, old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    xcb_flush(conn);
    sigset_t pending;
    sigpending(&pending);
    if (!sigismember(&old, SIGPIPE) && sigismember(&pending, SIGPIPE)) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_only, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Waits for the reply to x->cookie until deadline (monotonic); 1 with *reply (NULL: an X error), 0 when the server
   did not answer in time, -1 when the connection is lost. */
static int wait_reply(x11_t *x, double deadline, void **reply)
{
    for (;;) {
        xcb_generic_error_t *err = NULL;
        *reply = NULL;
        if (xcb_poll_for_reply(x->conn, x->cookie, reply, &err)) {   /* reads what has arrived, never blocks */
            if (xcb_connection_has_error(x->conn))
                return -1;
            free(err);
            x->pending = false;
            return 1;
        }
        double left = deadline - ts_clock_mono();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = xcb_get_file_descriptor(x->conn), .events = POLLIN};
        poll(&p, 1, (int)(left * 1000) + 1);
    }
}

static void *x11_open(const char *arg, const char *display)
{
    const char *name = arg ? arg : display && display[0] ? display : getenv("DISPLAY");
    if (!name || !name[0]) {
        ts_error_set("$DISPLAY is not set");
        return NULL;
    }
    x11_t *x = calloc(1, sizeof *x);
    if (!x) {
        ts_error_set("out of memory");
        return NULL;
    }
    snprintf(x->display, sizeof x->display, "%s", name);
    int screen = 0;
    x->conn = xcb_connect(name, &screen);
    int code = xcb_connection_has_error(x->conn);
    if (code) {
        ts_error_set("cannot connect to display %s (%s)", name, conn_error(code));
        goto fail;
    }
    xcb_screen_iterator_t it = xcb_setup_roots_iterator(xcb_get_setup(x->conn));
    for (int i = 0; i < screen && it.rem; i++)
        xcb_screen_next(&it);
    if (!it.rem) {
        ts_error_set("display %s: no screen %d", name, screen);
        goto fail;
    }
    x->root = it.data->root;
    /* A core round trip first, bounded, so a server that accepts connections but does not answer fails here; the
       extension query after it is a round trip xcb waits for without a bound. */
    x->cookie = xcb_get_input_focus(x->conn).sequence;
    flush(x->conn);
    void *reply;
    int got = wait_reply(x, ts_clock_mono() + TS_IDLE_WAIT_S, &reply);
    free(reply);
    if (got <= 0) {
        ts_error_set("display %s: %s", name, got < 0 ? "connection lost" : "the X server did not answer");
        goto fail;
    }
    xcb_prefetch_extension_data(x->conn, &xcb_screensaver_id);
    flush(x->conn);
    const xcb_query_extension_reply_t *ext = xcb_get_extension_data(x->conn, &xcb_screensaver_id);
    if (!ext || !ext->present) {
        ts_error_set("display %s: the X server has no MIT-SCREEN-SAVER extension", name);
        goto fail;
    }
    return x;
fail:
    xcb_disconnect(x->conn);
    free(x);
    return NULL;
}

static double x11_seconds(void *state)
{
    x11_t *x = state;
    if (xcb_connection_has_error(x->conn))
        return ts_error_set("display %s: connection lost", x->display);
    if (!x->pending) {
        x->cookie = xcb_screensaver_query_info(x->conn, x->root).sequence;
        x->pending = true;
        flush(x->conn);
    }
    void *reply;
    int got = wait_reply(x, ts_clock_mono() + TS_IDLE_WAIT_S, &reply);
    if (got < 0)
        return ts_error_set("display %s: connection lost", x->display);
    if (got == 0)
        return ts_error_set("display %s: the X server did not answer in %.1f s", x->display, TS_IDLE_WAIT_S);
    if (!reply)
        return ts_error_set("display %s: the screen saver query failed", x->display);
    double s = ((xcb_screensaver_query_info_reply_t *)reply)->ms_since_user_input / 1000.0;
    free(reply);
    return s;
}

static void x11_describe(const void *state, char *out, size_t cap)
{
    snprintf(out, cap, "x11 display %s (XScreenSaver)", ((const x11_t *)state)->display);
}

static void x11_close(void *state)
{
    x11_t *x = state;
    xcb_disconnect(x->conn);
    free(x);
}

const ts_idle_source_t ts_idle_x11 = {
    .name = "x11", .automatic = true,
    .open = x11_open, .seconds = x11_seconds, .describe = x11_describe, .close = x11_close,
};
