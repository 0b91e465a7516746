/* ts_tarpit: a FIFO of suspended connections (every one waits the same delay, so the queue is in due order) and
   one thread that resumes each when it is due. */
#include "master/ts_tarpit.h"
#include "lib/ts_clock.h"
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    struct MHD_Connection *c;
    double due;
} held_t;

struct ts_tarpit {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    double delay;
    held_t *ring;
    int cap, head, count;
    bool stop, joined;
};

static void *run(void *arg)
{
    ts_tarpit_t *self = arg;
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (self->count > 0 && (self->stop || self->ring[self->head].due <= ts_clock_mono())) {
            struct MHD_Connection *c = self->ring[self->head].c;
            self->head = (self->head + 1) % self->cap;
            self->count--;
            MHD_resume_connection(c); /* the handler is called again and answers */
        }
        if (self->stop)
            break;
        if (self->count == 0) {
            pthread_cond_wait(&self->wake, &self->lock);
            continue;
        }
        /* sleep until the oldest is due (the condition variable runs on CLOCK_MONOTONIC) */
        double due = self->ring[self->head].due;
        struct timespec ts = {.tv_sec = (time_t)due, .tv_nsec = (long)((due - (double)(time_t)due) * 1e9)};
        pthread_cond_timedwait(&self->wake, &self->lock, &ts);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

ts_tarpit_t *ts_tarpit_new(double delay_s, int max)
{
    ts_tarpit_t *self = calloc(1, sizeof *self);
    if (!self || !(self->ring = calloc((size_t)max, sizeof *self->ring))) {
        free(self);
        return NULL;
    }
    self->delay = delay_s;
    self->cap = max;
    pthread_mutex_init(&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&self->thread, NULL, run, self) != 0) {
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->lock);
        free(self->ring);
        free(self);
        return NULL;
    }
    return self;
}

bool ts_tarpit_hold(ts_tarpit_t *self, struct MHD_Connection *c)
{
    pthread_mutex_lock(&self->lock);
    bool held = !self->stop && self->count < self->cap;
    if (held) {
        self->ring[(self->head + self->count) % self->cap] = (held_t){c, ts_clock_mono() + self->delay};
        self->count++;
        MHD_suspend_connection(c);
        if (self->count == 1)
            pthread_cond_signal(&self->wake);
    }
    pthread_mutex_unlock(&self->lock);
    return held;
}

void ts_tarpit_stop(ts_tarpit_t *self)
{
    if (self->joined)
        return;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    self->joined = true;
}

void ts_tarpit_destroy(ts_tarpit_t **self_p)
{
    ts_tarpit_t *self = *self_p;
    if (!self)
        return;
    ts_tarpit_stop(self);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    free(self->ring);
    free(self);
    *self_p = NULL;
}
