/* ts_simthread: one worker thread of tessera-slavesim: its slaves' sockets in one epoll set, their timers in one heap.
   DESIGN: the cost is per event, not per slave: epoll reports only the sockets whose ZMQ_FD signalled (zmq_poll would
   scan all of them on every call), and a binary heap holds each slave's next due time. A slave whose due time changes
   gets a new heap entry; the old one stays until it comes up and is skipped as stale (its time is no longer the one
   armed[] holds), so no entry is ever searched for. */
#include "sim/ts_simthread.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define EVENTS_MAX 512
#define WAIT_MAX_MS 1000
#define STOP_TAG UINT32_MAX
#define MIN_STEP_S 0.001 /* a slave that is due again at once waits this long: never a busy loop */

typedef struct {
    double due;
    uint32_t slave;
} entry_t;

struct ts_simthread {
    pthread_t thread;
    ts_simslave_t **slaves;
    int count;
    double *armed;    /* the due time of each slave's live heap entry */
    entry_t *heap;
    size_t nheap, cap;
    int epoll_fd, stop_fd;
    int rc;
    char error[512];
};

static int push(ts_simthread_t *t, double due, uint32_t slave)
{
    if (t->nheap == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        entry_t *h = realloc(t->heap, cap * sizeof *h);
        if (!h)
            return ts_error_set("out of memory (timer heap of %zu)", cap);
        t->heap = h;
        t->cap = cap;
    }
    size_t i = t->nheap++;
    while (i > 0 && t->heap[(i - 1) / 2].due > due) {
        t->heap[i] = t->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->heap[i] = (entry_t){due, slave};
    return 0;
}

static entry_t pop(ts_simthread_t *t)
{
    entry_t top = t->heap[0], last = t->heap[--t->nheap];
    size_t i = 0, n = t->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && t->heap[c + 1].due < t->heap[c].due)
            c++;
        if (t->heap[c].due >= last.due)
            break;
        t->heap[i] = t->heap[c];
        i = c;
    }
    if (n > 0)
        t->heap[i] = last;
    return top;
}

/* Gives slave i a heap entry at its due time, unless it has one there already. */
static int arm(ts_simthread_t *t, uint32_t i, double now)
{
    double due = ts_simslave_due(t->slaves[i]);
    if (due < now + MIN_STEP_S && t->armed[i] < 0) /* just handled, and due again at once */
        due = now + MIN_STEP_S;
    if (due == t->armed[i])
        return 0;
    t->armed[i] = due;
    return push(t, due, i);
}

static int watch(ts_simthread_t *t, int fd, uint32_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
    if (epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return ts_error_set("epoll: cannot watch descriptor %d: %s (fs.epoll.max_user_watches?)", fd, strerror(errno));
    return 0;
}

static int loop(ts_simthread_t *t)
{
    struct epoll_event ev[EVENTS_MAX];
    double now = ts_clock_mono();
    for (int i = 0; i < t->count; i++) {
        t->armed[i] = -1;
        if (arm(t, (uint32_t)i, now) < 0)
            return -1;
    }
    for (;;) {
        int timeout = WAIT_MAX_MS;
        if (t->nheap > 0) {
            double wait = t->heap[0].due - ts_clock_mono();
            timeout = wait <= 0 ? 0 : wait * 1000 >= WAIT_MAX_MS ? WAIT_MAX_MS : (int)ceil(wait * 1000);
        }
        int n = epoll_wait(t->epoll_fd, ev, EVENTS_MAX, timeout);
        if (n < 0 && errno != EINTR)
            return ts_error_set("epoll_wait: %s", strerror(errno));
        now = ts_clock_mono();
        for (int k = 0; k < n; k++) {
            uint32_t i = ev[k].data.u32;
            if (i == STOP_TAG)
                return 0;
            ts_simslave_on_input(t->slaves[i], now);
            if (arm(t, i, now) < 0)
                return -1;
        }
        while (t->nheap > 0 && t->heap[0].due <= now) {
            entry_t e = pop(t);
            if (e.due != t->armed[e.slave])
                continue; /* stale: the slave was re-armed since */
            t->armed[e.slave] = -1;
            int fd = ts_simslave_on_timer(t->slaves[e.slave], now);
            if (fd == -2 || (fd >= 0 && watch(t, fd, e.slave) < 0) || arm(t, e.slave, now) < 0)
                return -1;
        }
    }
}

static void *run(void *arg)
{
    ts_simthread_t *t = arg;
    t->rc = loop(t);
    if (t->rc < 0)
        snprintf(t->error, sizeof t->error, "%s", ts_error());
    uint64_t one = 1; /* whatever ended it, the others and the main thread stop too */
    if (write(t->stop_fd, &one, sizeof one) < 0)
        ts_warn("cannot signal the stop: %s", strerror(errno));
    for (int i = 0; i < t->count; i++)
        ts_simslave_destroy(&t->slaves[i]);
    return NULL;
}

ts_simthread_t *ts_simthread_start(ts_simslave_t **slaves, int count, int stop_fd)
{
    ts_simthread_t *t = calloc(1, sizeof *t);
    if (!t || !(t->armed = calloc((size_t)count + 1, sizeof *t->armed))) {
        free(t);
        ts_error_set("out of memory");
        return NULL;
    }
    t->slaves = slaves;
    t->count = count;
    t->stop_fd = stop_fd;
    if ((t->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0 || watch(t, stop_fd, STOP_TAG) < 0) {
        if (t->epoll_fd < 0)
            ts_error_set("epoll_create1: %s", strerror(errno));
        else
            close(t->epoll_fd);
        free(t->armed);
        free(t);
        return NULL;
    }
    int rc = pthread_create(&t->thread, NULL, run, t);
    if (rc != 0) {
        ts_error_set("cannot start a thread: %s", strerror(rc));
        close(t->epoll_fd);
        free(t->armed);
        free(t);
        return NULL;
    }
    return t;
}

int ts_simthread_join(ts_simthread_t **self_p)
{
    ts_simthread_t *t = *self_p;
    if (!t)
        return 0;
    pthread_join(t->thread, NULL);
    int rc = t->rc;
    if (rc < 0)
        ts_error_set("%s", t->error);
    close(t->epoll_fd);
    free(t->heap);
    free(t->armed);
    free(t);
    *self_p = NULL;
    return rc;
}
