/* ts_worker: a thread that runs one pass of some work whenever it is woken, and at least every idle_s seconds. */
#include "lib/ts_worker.h"
#include "lib/ts_error.h"
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct ts_worker {
    void (*pass)(void *arg);
    void *arg;
    int idle_s;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop, woken;
};

static void *run(void *p)
{
    ts_worker_t *self = p;
    for (;;) {
        pthread_mutex_lock(&self->lock);
        if (!self->woken && !self->stop) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += self->idle_s;
            pthread_cond_timedwait(&self->cond, &self->lock, &until);
        }
        bool stop = self->stop;
        self->woken = false;
        pthread_mutex_unlock(&self->lock);
        if (stop)
            return NULL;
        self->pass(self->arg);
    }
}

ts_worker_t *ts_worker_new(const char *name, void (*pass)(void *arg), void *arg, int idle_s, bool first_now)
{
    ts_worker_t *self = calloc(1, sizeof *self);
    if (!self) {
        ts_error_set("cannot start the %s thread: out of memory", name);
        return NULL;
    }
    self->pass = pass;
    self->arg = arg;
    self->idle_s = idle_s;
    self->woken = first_now;
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    if (pthread_create(&self->thread, NULL, run, self) != 0) {
        pthread_cond_destroy(&self->cond);
        pthread_mutex_destroy(&self->lock);
        free(self);
        ts_error_set("cannot start the %s thread", name);
        return NULL;
    }
    return self;
}

void ts_worker_wake(ts_worker_t *self)
{
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->woken = true;
    pthread_cond_signal(&self->cond);
    pthread_mutex_unlock(&self->lock);
}

void ts_worker_destroy(ts_worker_t **self_p)
{
    ts_worker_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    pthread_cond_signal(&self->cond);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    pthread_cond_destroy(&self->cond);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}
