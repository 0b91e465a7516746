/* ts_simslave: one simulated slave: its identity, its CURVE DEALER to the master and its side of the protocol (Hello,
   Welcome, heartbeats, Reregister, Assign, Cancel, signed Results), driven by a worker thread's poller and timers. */
#ifndef TS_SIMSLAVE_H
#define TS_SIMSLAVE_H

#include "lib/ts_identity.h"
#include "sim/ts_simstats.h"
#include "sim/ts_simwork.h"
#include <stdbool.h>

/* What every simulated slave shares (read-only once the slaves exist). */
typedef struct {
    void *zmq_ctx;
    const char *master;                           /* the master's ZeroMQ endpoint */
    char master_key[TS_IDENTITY_Z85_LEN + 1];     /* its CURVE public key */
    const char *work;                             /* DIR: DIR/sim-NNNNN/identity.key per slave */
    const char *name_prefix;                      /* names are "<prefix>-NNNNN" */
    ts_simwork_t work_time;
    bool keys_resident;  /* keep each identity in memory; else it is read again for each signature (saves the 4
                            memory mappings per key that libsodium's guarded allocation costs: vm.max_map_count) */
    double t0;           /* ts_clock_mono() at the start (set before the worker threads start): connections are
                            made from then on, and ts_simstats_t.last_first_welcome_us counts from it */
} ts_simslave_conf_t;

typedef struct ts_simslave ts_simslave_t;

/* Slave number index: loads or creates its identity (DIR/sim-NNNNN/identity.key, the folder made 0700); it connects
   connect_after seconds after conf->t0. stats: its worker thread's. NULL with ts_error() naming the file. */
ts_simslave_t *ts_simslave_new(const ts_simslave_conf_t *conf, int index, ts_simstats_t *stats, double connect_after);
/* Closes its socket (any thread that owns it now) and forgets it. */
void ts_simslave_destroy(ts_simslave_t **self_p);

/* When it next wants ts_simslave_on_timer (ts_clock_mono() time). */
double ts_simslave_due(const ts_simslave_t *self);
/* Does what is due at now: connects (the first time: returns the descriptor to poll for input, else -1 on no
   change), says Hello until welcomed, heartbeats, ends work and sends results. -2 with ts_error() when the socket
   cannot be made (the caller stops). */
int ts_simslave_on_timer(ts_simslave_t *self, double now);
/* Its descriptor was readable (or may be): takes every message the master sent. */
void ts_simslave_on_input(ts_simslave_t *self, double now);

#endif
