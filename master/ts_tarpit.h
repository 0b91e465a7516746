/* ts_tarpit: holds an HTTP connection (libmicrohttpd suspend/resume) for a while before it is answered, so an
   address that keeps sending wrong tokens gets its refusals slowly and costs the master nothing meanwhile. */
#ifndef TS_TARPIT_H
#define TS_TARPIT_H

#include <microhttpd.h>
#include <stdbool.h>

typedef struct ts_tarpit ts_tarpit_t;

/* Holds up to max connections at once, each for delay_s. */
ts_tarpit_t *ts_tarpit_new(double delay_s, int max);
/* Suspends c (from its access handler) and resumes it delay_s later, when the handler is called again; false when
   max are held already (answer it now). */
bool ts_tarpit_hold(ts_tarpit_t *self, struct MHD_Connection *c);
/* Resumes every held connection at once and ends the timer thread; later holds are refused. Before the daemon
   stops. */
void ts_tarpit_stop(ts_tarpit_t *self);
/* After the daemon has stopped (stops it first when needed). */
void ts_tarpit_destroy(ts_tarpit_t **self_p);

#endif
