/* ts_slave: the slave daemon: a reactor (DEALER to the master, heartbeats) and an executor thread. */
#ifndef TS_SLAVE_H
#define TS_SLAVE_H

#include "lib/ts_blobs.h"
#include "lib/ts_identity.h"
#include "lib/tessera.pb-c.h"
#include "slave/ts_blender.h"
#include "slave/ts_swarm.h"
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *master;       /* tcp://host:port */
    const char *master_cert;  /* path */
    const char *work;         /* work directory */
    const char *name;
    const char *blender;      /* executable */
    const char *worker_script;
    long slots;
    long threads;
    long max_threads;         /* the owner's cap on render threads (0: none) */
    long max_memory_mb;       /* the owner's cap on a renderer's memory (0: none): a hard limit, and told the master */
    long task_timeout_s;
    long handshake_timeout_s; /* give up when the master refuses our handshake this long */
    long cache_mb;            /* size bound of the input cache */
    const char *torrent_listen; /* the torrent session's listen interfaces */
    bool no_torrent;          /* inputs over HTTP only */
    bool no_lsd;              /* local service discovery off */
    long web_seed_after_s;    /* seconds without progress from peers before the master's web seed is used */
    const char *payout_key;   /* the key file of the address its pay goes to on a chain (evm escrow); NULL: none */
    /* Testing only: a dishonest slave for the verifier's tests (ts_cheat). Its results look honest to the master. */
    double cheat_share;       /* share of tile and segment tasks done dishonestly (0: none) */
    long cheat_samples;       /* Cycles samples of a dishonest tile */
    long cheat_crf;           /* crf of a dishonest segment (clamped into the encoder's range) */
    const char *cheat_preset; /* x264/x265 preset of a dishonest segment */
    /* A café PC's owner (slave/ts_guest.h): when the farm may use it. */
    double idle_after;        /* seconds without input before work (0: input not watched) */
    const char *idle_source;  /* "auto" or a source's name (slave/ts_idle.h) */
    const char *display;      /* the X display watched (NULL: $DISPLAY) */
    const char *busy_file;    /* exists while a customer session is on (billing software) */
    const char *pause_while;  /* programs whose running pauses the slave */
    const char *hours;        /* work windows in local time */
    const char *ctl;          /* the control socket (NULL: WORK/ctl.sock) */
    const char *tags;         /* its pools, comma-separated (a job with --pool TAG runs only on nodes tagged so) */
    /* The renderer's box and the GPUs it may use (slave/ts_sandbox.h, slave/ts_gpu.h). */
    bool no_sandbox;          /* renderers and encoders run unconfined (unsafe; shown to the farm) */
    const char *bwrap;        /* the bubblewrap executable (NULL: bwrap on PATH) */
    const char *gpus;         /* all, none, or indexes and UUIDs (NULL: every discrete and integrated GPU) */
} ts_slave_options_t;

#define TS_SLAVE_INPUTS_DIR "inputs" /* below --work: the running task's inputs, all the renderer sees of it */
#define TS_SLAVE_OUT_DIR "out"       /* below --work: where renderers and encoders write */

#define TS_TASK_PEERS 16      /* peers of a task's scene kept from its Assign */
#define SEEDING_REPORT_MAX 32 /* inputs named in a heartbeat or result as seeded here */

/* A task as the executor keeps it. */
typedef struct {
    uint64_t id;
    uint64_t job_id;
    int kind;
    char scene[TS_HASH_HEX];
    char blob_url[512];
    int frame;
    int x0, y0, x1, y1;
    char device[8];
    bool no_denoise;
    char input[TS_HASH_HEX];
    char format[16];
    int64_t start_pts, end_pts;   /* TASK_SEGMENT */
    char params[512];             /* TASK_SEGMENT: encoder settings, JSON */
    char info_hash[TS_TORRENT_HASH_HEX + 1]; /* the scene's torrent; "" for HTTP */
    char torrent_url[600];
    char peers[TS_TASK_PEERS][80];
    int npeers;
    bool from_master;
    char manifest[TS_HASH_HEX];   /* an artist's project: its manifest blob; "" for a scene alone */
    char torrents_url[600];       /* with a manifest: where each file's .torrent is, by hash ("" for HTTP) */
} ts_slave_task_t;

typedef struct ts_executor ts_executor_t;

/* The executor drives the Blender process and the encoder process (both the caller's) and runs one task at a time; results come back as packed
   Envelopes on the inproc endpoint given. */
ts_executor_t *ts_executor_new(void *zmq_ctx, const char *results_endpoint, const ts_slave_options_t *opts,
                               ts_identity_t *identity, ts_blobs_t *cache, ts_blender_t *blender,
                               ts_blender_t *encoder, ts_swarm_t *swarm);
void ts_executor_destroy(ts_executor_t **self_p);
void ts_executor_push(ts_executor_t *self, const ts_slave_task_t *task);
void ts_executor_cancel(ts_executor_t *self, uint64_t task_id);
/* The owner wants the PC back: the queue is emptied, the running task ends at once (Blender's process group and the
   encoder's are killed now) and sends no result; ids gets every task given back (at most max,
   the count returned). */
int ts_executor_preempt(ts_executor_t *self, uint64_t *ids, int max);
/* Task ids queued or running; returns the count (at most max). */
int ts_executor_holding(ts_executor_t *self, uint64_t *ids, int max);
/* The task running now (0: none). */
uint64_t ts_executor_running(ts_executor_t *self);

/* Runs the slave until *stop; returns the process exit code. */
int ts_slave_run(const ts_slave_options_t *opts, volatile sig_atomic_t *stop);

#endif
