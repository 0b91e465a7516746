/* ts_master: the master daemon: one reactor thread (ZeroMQ ROUTER + periodic tick), the HTTP API, the stitcher. */
#ifndef TS_MASTER_H
#define TS_MASTER_H

#include "lib/ts_blobs.h"
#include "lib/tessera.pb-c.h"
#include "master/ts_seeder.h"
#include "master/ts_store.h"
#include <stdbool.h>

typedef struct {
    const char *state_dir;
    const char *listen;        /* ZeroMQ endpoint for slaves */
    const char *http;          /* host:port of the HTTP API */
    const char *public_url;    /* base URL slaves use for blobs; default http(s)://<http> */
    const char *tls_cert;      /* PEM certificate (chain) of the HTTPS API; NULL: plain HTTP */
    const char *tls_key;       /* its PEM private key */
    long heartbeat_ms;
    long node_timeout_s;
    long task_timeout_s;
    long max_failures;
    const char *schedule;       /* "fair": requesters by their shares of node time; "priority": priority and age */
    long tile_margin;
    long max_message_mb;
    const char *torrent_listen; /* the seeding session's listen interfaces */
    bool no_torrent;            /* inputs over HTTP only */
    bool no_lsd;                /* local service discovery off */
    long seed_slots;            /* slaves the master uploads to at once */
    long http_per_ip;           /* HTTP connections one address may hold open at once */
    long http_idle_s;           /* an HTTP connection idle this long (a request never finished) is closed */
    double check_floor;         /* verification: lowest spot-check rate */
    long check_trust;           /* nothing at risk: consecutive valid results before the rate drops below 1 */
    double check_area;          /* share of a tile's pixels its spot check re-renders */
    long check_first;           /* a stake at risk: a node's first results checked in full (then priced by risk) */
    long check_wait_s;          /* a check with no eligible node is dropped after this long */
    long quarantine_after;      /* jobs blocked on before a node is quarantined */
    /* payments (escrow/escrow.h); amounts are token amounts as text ("12.5") */
    const char *escrow;         /* "local" (a ledger in the store) or "evm" */
    const char *rpc_url;        /* evm: the chain's JSON-RPC URL */
    const char *escrow_address; /* evm: the JobEscrow contract */
    const char *key_file;       /* evm: the master's secp256k1 key */
    long chain_id;              /* evm: the chain id expected (0: any) */
    const char *requester_mint; /* local: a new requester's starting balance */
    const char *node_stake;     /* local: a new node's starting stake */
    const char *farm_mint;      /* local: the farm account's starting balance */
    const char *check_pool;     /* evm: what the farm's pool for checks and redone work is funded with */
    const char *min_stake;      /* a node with less stake gets no work */
    const char *min_task_price; /* a job's budget must give each piece at least this */
    double slash_share;         /* share of a node's stake a failed check takes */
    long job_deadline_h;        /* hours after which a requester may reclaim a job's funds on chain */
    double pay_every_s;         /* evm: how long a job's payments may wait to go out together */
} ts_master_options_t;

typedef struct ts_master ts_master_t;

ts_master_t *ts_master_new(const ts_master_options_t *opts);
void ts_master_destroy(ts_master_t **self_p);
/* Runs until ts_master_stop; 0 on a clean stop. */
int ts_master_run(ts_master_t *self);
/* Async-signal-safe. */
void ts_master_stop(ts_master_t *self);
/* Wakes the reactor (new work, cancelled job, stitched frame); safe from any thread. */
void ts_master_kick(ts_master_t *self);

ts_store_t *ts_master_store(ts_master_t *self);
ts_blobs_t *ts_master_blobs(ts_master_t *self);
/* The seeding side of the swarm; NULL when the master runs with --no-torrent. */
ts_seeder_t *ts_master_seeder(ts_master_t *self);
const ts_master_options_t *ts_master_options(ts_master_t *self);

/* The HTTP API (ts_api.c). */
typedef struct ts_api ts_api_t;
ts_api_t *ts_api_new(ts_master_t *master, const char *host_port);
void ts_api_destroy(ts_api_t **self_p);

#endif
