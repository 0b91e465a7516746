/* idle_input: the time of the last key, button, motion or axis event on any /dev/input/event* this process can read
   (root, or the input group), without X or logind. Devices are opened non-blocking and drained on every call (the
   event codes are never looked at), accelerometers are left out (they never rest), and the folder is scanned again
   every few seconds for devices plugged in since and devices gone. Until the first event, input counts from the
   open: a slave starting up waits the full idle delay. */
#include "slave/ts_idle.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/input.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVICES 64
#define RESCAN_EVERY_S 5.0

typedef struct {
    int fd;
    dev_t dev;
    ino_t ino;             /* the node's identity: a device plugged in again is a new node */
    bool mono_stamps;      /* its events carry CLOCK_MONOTONIC times (EVIOCSCLOCKID took) */
} device_t;

typedef struct {
    char dir[PATH_MAX - 32];
    device_t devices[MAX_DEVICES];
    int n;
    double last_input, scanned;   /* monotonic */
} input_t;

static bool is_input(const struct input_event *ev)
{
    return ev->type == EV_KEY || ev->type == EV_REL || ev->type == EV_ABS;
}

static bool known(const input_t *in, const struct stat *st)
{
    for (int i = 0; i < in->n; i++)
        if (in->devices[i].dev == st->st_dev && in->devices[i].ino == st->st_ino)
            return true;
    return false;
}

/* Opens one node; 1 added, 0 skipped (an accelerometer, full), -1 unreadable (errno). */
static int add(input_t *in, const char *path)
{
    if (in->n == MAX_DEVICES)
        return 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    unsigned char props[INPUT_PROP_CNT / 8] = {0};
    if (fstat(fd, &st) < 0 || known(in, &st) ||
        (ioctl(fd, EVIOCGPROP(sizeof props), props) >= 0 &&
         props[INPUT_PROP_ACCELEROMETER / 8] & (1u << (INPUT_PROP_ACCELEROMETER % 8)))) {
        close(fd);
        return 0;
    }
    int clock = CLOCK_MONOTONIC;
    in->devices[in->n++] = (device_t){.fd = fd, .dev = st.st_dev, .ino = st.st_ino,
                                      .mono_stamps = ioctl(fd, EVIOCSCLOCKID, &clock) == 0};
    return 1;
}

/* Opens the event nodes not open yet; -1 with ts_error() when the folder cannot be read. *denied counts the nodes
   this process may not read. */
static int scan(input_t *in, int *denied)
{
    DIR *d = opendir(in->dir);
    if (!d)
        return ts_error_set("%s: %s", in->dir, strerror(errno));
    *denied = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "event", 5) != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", in->dir, e->d_name);
        struct stat st;
        if (stat(path, &st) < 0 || known(in, &st))
            continue;
        if (add(in, path) < 0 && (errno == EACCES || errno == EPERM))
            (*denied)++;
    }
    closedir(d);
    in->scanned = ts_clock_mono();
    return 0;
}

static void drop(input_t *in, int i)
{
    close(in->devices[i].fd);
    in->devices[i] = in->devices[--in->n];
}

static void input_close(void *state)
{
    input_t *in = state;
    while (in->n)
        drop(in, in->n - 1);
    free(in);
}

static void *input_open(const char *arg, const char *display)
{
    input_t *in = calloc(1, sizeof *in);
    if (!in) {
        ts_error_set("out of memory");
        return NULL;
    }
    snprintf(in->dir, sizeof in->dir, "%s", arg ? arg : "/dev/input");
    int denied = 0;
    if (scan(in, &denied) < 0) {
        input_close(in);
        return NULL;
    }
    if (!in->n) {
        if (denied)
            ts_error_set("%s: no readable event device (%d denied: add the slave's user to the input group)", in->dir,
                         denied);
        else
            ts_error_set("%s: no event device", in->dir);
        input_close(in);
        return NULL;
    }
    in->last_input = ts_clock_mono();
    return in;
}

/* Reads everything device i has queued; false when the device is gone. */
static bool drain(input_t *in, int i, double now)
{
    device_t *dev = &in->devices[i];
    struct input_event evs[64];
    for (;;) {
        ssize_t n = read(dev->fd, evs, sizeof evs);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        if (n == 0)   /* nothing (a FIFO without a writer; an evdev node never says 0) */
            return true;
        for (size_t k = 0; k < (size_t)n / sizeof evs[0]; k++) {
            if (!is_input(&evs[k]))
                continue;
            double at = dev->mono_stamps ? (double)evs[k].input_event_sec + evs[k].input_event_usec / 1e6 : now;
            if (at > now)
                at = now;
            if (at > in->last_input)
                in->last_input = at;
        }
        if ((size_t)n < sizeof evs)
            return true;
    }
}

static double input_seconds(void *state)
{
    input_t *in = state;
    double now = ts_clock_mono();
    if (now - in->scanned >= RESCAN_EVERY_S) {
        int denied;
        scan(in, &denied);   /* a folder that cannot be read now keeps the devices already open */
    }
    for (int i = in->n - 1; i >= 0; i--)
        if (!drain(in, i, now))
            drop(in, i);   /* unplugged (ENODEV); the others still count */
    return now - in->last_input;
}

static void input_describe(const void *state, char *out, size_t cap)
{
    const input_t *in = state;
    snprintf(out, cap, "input: %d event device%s in %s", in->n, in->n == 1 ? "" : "s", in->dir);
}

const ts_idle_source_t ts_idle_input = {
    .name = "input", .automatic = true,
    .open = input_open, .seconds = input_seconds, .describe = input_describe, .close = input_close,
};
