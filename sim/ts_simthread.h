/* ts_simthread: one worker thread of tessera-slavesim: its share of the simulated slaves, their sockets in one epoll
   set and their timers in one heap. */
#ifndef TS_SIMTHREAD_H
#define TS_SIMTHREAD_H

#include "sim/ts_simslave.h"

typedef struct ts_simthread ts_simthread_t;

/* Starts a thread that runs slaves[0..count) (it owns them from now on and destroys them when it ends) until
   stop_fd (an eventfd) becomes readable. NULL with ts_error(). */
ts_simthread_t *ts_simthread_start(ts_simslave_t **slaves, int count, int stop_fd);
/* Waits for the thread to end; 0, or -1 with ts_error() when it ended on an error (it said which). */
int ts_simthread_join(ts_simthread_t **self_p);

#endif
