/* ts_simslave: one simulated slave, speaking the real protocol to a real master.
   DESIGN: it is what slave/ts_slave.c and slave/ts_executor.c are on the wire, without Blender: a CURVE DEALER whose
   routing id is its node id (ZMQ_IMMEDIATE, a random first reconnect interval doubling to 30 s), Hello until welcomed,
   heartbeats at the Welcome's interval listing what it holds, a new Hello on Reregister, Cancel dropping the task.
   One slot: an Assign of a synthetic piece is worked on for --work-ms, then answered with lib/ts_synthetic.h's bytes,
   their hash, and the node key's result signature (ts_identity_sign_result, as the executor signs); any other kind is
   refused at once with a failed Result. A result ZeroMQ does not accept (no connection) waits and is tried again; as on
   the real slave it is no longer listed as held, so a master that restarts meanwhile re-queues the task.
   Nothing blocks: the worker thread calls on_timer at ts_simslave_due() and on_input when the socket's descriptor
   (ZMQ_FD) is readable. ZMQ_FD only signals a change, and any send may consume that signal, so every call ends by
   reading until ZMQ_EVENTS says nothing is waiting. */
#include "sim/ts_simslave.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_hash.h"
#include "lib/ts_kind.h"
#include "lib/ts_log.h"
#include "lib/ts_synthetic.h"
#include "lib/ts_version.h"
#include "lib/ts_wire.h"
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <zmq.h>

#define SLOTS 1                      /* tasks a simulated slave takes at once (its Hello's slots) */
#define TASKS_MAX 16                 /* held and finished-but-unsent tasks; more Assigns than that are dropped */
#define DEFAULT_HEARTBEAT_MS 1000    /* until a Welcome says otherwise */
#define RETRY_MIN_S 0.1              /* a Hello or result ZeroMQ refused (not connected yet) is tried again after */
#define RETRY_SPREAD_MS 200          /* 100..300 ms */
#define RECONNECT_IVL_MIN_MS 100     /* a lost master is tried again after 100..1,000 ms (random per slave), */
#define RECONNECT_IVL_SPREAD_MS 900
#define RECONNECT_IVL_MAX_MS 30000   /* doubling up to 30 s between tries: a master restart is no stampede */
#define HANDSHAKE_IVL_MS 3000
#define MEMORY_BYTES (4ULL << 30)    /* what its Hello says it has */
#define BLENDER_VERSION "sim"
#define CPU_MODEL "tessera-slavesim"
#define SANDBOX "none"               /* honest: it runs no renderer at all (the master warns once per node) */
#define REFUSED "tessera-slavesim runs only synthetic tasks"

typedef struct {
    uint64_t id, job;
    int64_t piece;        /* a synthetic piece's index (the Assign's start_pts) */
    bool synthetic;
    bool done;            /* its work is over: a result waits to be sent */
    double started;       /* when work on it began (0: queued behind another) */
    double done_at;
} task_t;

struct ts_simslave {
    const ts_simslave_conf_t *conf;
    ts_simstats_t *stats;
    int index;
    ts_identity_t *identity;  /* NULL unless conf->keys_resident */
    uint8_t public_key[TS_IDENTITY_PUBLIC_BYTES];
    char id[TS_IDENTITY_ID_HEX];
    char name[64];
    void *sock;
    double connect_after;     /* seconds after conf->t0 */
    long heartbeat_ms;
    bool welcomed;            /* a Welcome answered its last Hello */
    bool ever_welcomed;
    bool online;              /* welcomed, and its last send went through */
    double hello_at, beat_at, retry_at;
    double free_since;        /* when its free slot was told to the master (0: none free, or not told) */
    ts_simstats_source_t free_source;
    task_t tasks[TASKS_MAX];  /* in the order they came */
    int ntasks;
};

static void key_path(const ts_simslave_t *s, char *path, size_t cap)
{
    snprintf(path, cap, "%s/sim-%05d/identity.key", s->conf->work, s->index);
}

/* The slave's key: the resident one, or read again (give it back with key_done). */
static ts_identity_t *key_get(ts_simslave_t *s)
{
    if (s->identity)
        return s->identity;
    char path[PATH_MAX];
    key_path(s, path, sizeof path);
    return ts_identity_load_or_create(path);
}

static void key_done(ts_simslave_t *s, ts_identity_t *key)
{
    if (key != s->identity)
        ts_identity_destroy(&key);
}

ts_simslave_t *ts_simslave_new(const ts_simslave_conf_t *conf, int index, ts_simstats_t *stats, double connect_after)
{
    ts_simslave_t *s = calloc(1, sizeof *s);
    if (!s) {
        ts_error_set("out of memory");
        return NULL;
    }
    s->conf = conf;
    s->stats = stats;
    s->index = index;
    s->connect_after = connect_after;
    s->heartbeat_ms = DEFAULT_HEARTBEAT_MS;
    snprintf(s->name, sizeof s->name, "%s-%05d", conf->name_prefix, index);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/sim-%05d", conf->work, index);
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        ts_error_set("%s: %s", path, strerror(errno));
        free(s);
        return NULL;
    }
    ts_identity_t *key = key_get(s);
    if (!key) {
        free(s);
        return NULL;
    }
    memcpy(s->public_key, ts_identity_public(key), sizeof s->public_key);
    snprintf(s->id, sizeof s->id, "%s", ts_identity_id(key));
    if (conf->keys_resident)
        s->identity = key;
    else
        ts_identity_destroy(&key);
    return s;
}

void ts_simslave_destroy(ts_simslave_t **self_p)
{
    ts_simslave_t *s = *self_p;
    if (!s)
        return;
    if (s->sock)
        zmq_close(s->sock); /* ZMQ_LINGER 0: nothing waits */
    ts_identity_destroy(&s->identity);
    free(s);
    *self_p = NULL;
}

static double jitter_s(unsigned spread_ms)
{
    return (double)randombytes_uniform(spread_ms) / 1000.0;
}

static int held(const ts_simslave_t *s, uint64_t *ids)
{
    int n = 0;
    for (int i = 0; i < s->ntasks; i++)
        if (!s->tasks[i].done) {
            if (ids)
                ids[n] = s->tasks[i].id;
            n++;
        }
    return n;
}

static void set_online(ts_simslave_t *s, bool online)
{
    if (online != s->online)
        ts_simstats_add(s->stats->online, online ? 1 : -1);
    s->online = online;
}

/* Unix time of the local midnight, as the real slave's heartbeats carry it (the master's "today" for Earnings);
   mktime looked up once a minute per thread. */
static double day_start(void)
{
    static _Thread_local time_t next_check;
    static _Thread_local double midnight;
    time_t t = time(NULL);
    if (t >= next_check) {
        struct tm tm;
        localtime_r(&t, &tm);
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tm.tm_isdst = -1;
        midnight = (double)mktime(&tm);
        next_check = t + 60;
    }
    return midnight;
}

/* 0 sent, 1 not now (no connection: EAGAIN), -1 failed (said). */
static int send_env(ts_simslave_t *s, const Tessera__Envelope *env, const char *what)
{
    if (ts_wire_send(s->sock, NULL, 0, env, false) == 0)
        return 0;
    if (errno == EAGAIN)
        return 1;
    ts_warn("%s: %s: %s", s->name, what, ts_error());
    return -1;
}

static void send_hello(ts_simslave_t *s, double now)
{
    uint64_t holding[TASKS_MAX];
    char *devices[] = {"CPU"};
    Tessera__Hello h = TESSERA__HELLO__INIT;
    h.name = s->name;
    h.identity_key.data = s->public_key;
    h.identity_key.len = sizeof s->public_key;
    h.version = TS_VERSION;
    h.blender_version = BLENDER_VERSION;
    h.devices = devices;
    h.n_devices = 1;
    h.cores = 1;
    h.memory = MEMORY_BYTES;
    h.slots = SLOTS;
    h.cpu_model = CPU_MODEL;
    h.sandbox = SANDBOX;
    h.holding = holding;
    h.n_holding = (size_t)held(s, holding);
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    if (send_env(s, &env, "hello") == 0) {
        ts_simstats_add(s->stats->hellos, 1);
        s->hello_at = now + (double)s->heartbeat_ms / 1000.0; /* said again if no Welcome comes by then */
    } else {
        s->hello_at = now + RETRY_MIN_S + jitter_s(RETRY_SPREAD_MS); /* not connected yet */
    }
}

static void send_heartbeat(ts_simslave_t *s, double now)
{
    uint64_t holding[TASKS_MAX];
    Tessera__Heartbeat hb = TESSERA__HEARTBEAT__INIT;
    hb.holding = holding;
    hb.n_holding = (size_t)held(s, holding);
    hb.free_slots = hb.n_holding < SLOTS ? SLOTS - (uint32_t)hb.n_holding : 0;
    hb.day_start = day_start();
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    set_online(s, send_env(s, &env, "heartbeat") == 0); /* refused: the connection is down (ZMQ_IMMEDIATE) */
    double period = (double)s->heartbeat_ms / 1000.0;
    s->beat_at += period; /* keeps its phase, so the farm's heartbeats stay spread */
    if (s->beat_at <= now)
        s->beat_at = now + period;
}

/* 0 sent, 1 not now, -1 failed (the result is dropped: the master re-queues the task). */
static int send_result(ts_simslave_t *s, const task_t *t)
{
    Tessera__Result r = TESSERA__RESULT__INIT;
    uint8_t output[TS_SYNTHETIC_OUTPUT_BYTES], sig[TS_IDENTITY_SIGNATURE_BYTES];
    char hash[TS_HASH_HEX];
    r.task_id = t->id;
    if (t->synthetic) {
        ts_identity_t *key = key_get(s);
        if (!key) {
            ts_warn("%s: task %llu: %s", s->name, (unsigned long long)t->id, ts_error());
            return -1;
        }
        ts_synthetic_piece_output(t->job, t->piece, output);
        ts_hash_buf(output, sizeof output, hash);
        ts_identity_sign_result(key, t->id, hash, sig);
        key_done(s, key);
        r.ok = true;
        r.output_hash = hash;
        r.output.data = output;
        r.output.len = sizeof output;
        r.signature.data = sig;
        r.signature.len = sizeof sig;
        r.cpu_seconds = t->done_at - t->started;
    } else {
        r.error = REFUSED;
    }
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_RESULT;
    env.result = &r;
    return send_env(s, &env, "result");
}

/* The task worked on ends when its time is up, and the next one starts. */
static void advance_work(ts_simslave_t *s, double now)
{
    for (int i = 0; i < s->ntasks; i++) {
        task_t *t = &s->tasks[i];
        if (t->done)
            continue;
        if (t->started == 0) {
            t->started = now;
            t->done_at = now + ts_simwork_draw(&s->conf->work_time);
        }
        if (now < t->done_at)
            return;
        t->done = true;
    }
}

/* Sends the finished tasks' results in order, until ZeroMQ refuses one (tried again at retry_at). */
static void flush_results(ts_simslave_t *s, double now)
{
    for (int i = 0; i < s->ntasks;) {
        task_t *t = &s->tasks[i];
        if (!t->done) {
            i++;
            continue;
        }
        int rc = send_result(s, t);
        if (rc == 1) {
            s->retry_at = now + RETRY_MIN_S + jitter_s(RETRY_SPREAD_MS);
            return;
        }
        if (rc == 0)
            ts_simstats_add(*(t->synthetic ? &s->stats->results : &s->stats->results_refused), 1);
        memmove(t, t + 1, (size_t)(s->ntasks - i - 1) * sizeof *t);
        s->ntasks--;
        if (rc == 0 && held(s, NULL) < SLOTS) { /* the master counts the slot free from this result */
            s->free_since = now;
            s->free_source = TS_SIMSTATS_AFTER_RESULT;
        }
    }
}

static void on_welcome(ts_simslave_t *s, const Tessera__Welcome *w, double now)
{
    if (w->heartbeat_ms > 0)
        s->heartbeat_ms = w->heartbeat_ms;
    if (!s->ever_welcomed) {
        s->ever_welcomed = true;
        ts_simstats_add(s->stats->welcomed, 1);
        uint64_t us = (uint64_t)((now - s->conf->t0) * 1e6); /* this thread is the only writer */
        if (us > atomic_load_explicit(&s->stats->last_first_welcome_us, memory_order_relaxed))
            atomic_store_explicit(&s->stats->last_first_welcome_us, us, memory_order_relaxed);
        ts_debug("%s registered", s->name);
    }
    if (!s->welcomed) /* the first beat at a random point of the period: the farm's heartbeats spread out */
        s->beat_at = now + jitter_s((unsigned)s->heartbeat_ms + 1);
    s->welcomed = true;
    set_online(s, true);
    s->free_since = held(s, NULL) < SLOTS ? now : 0;
    s->free_source = TS_SIMSTATS_AFTER_WELCOME;
}

static void on_assign(ts_simslave_t *s, const Tessera__Assign *a, double now)
{
    ts_simstats_add(s->stats->assigns, 1);
    for (int i = 0; i < s->ntasks; i++)
        if (s->tasks[i].id == a->task_id) { /* sent again (e.g. after a reconnect): it is already here */
            ts_debug("%s: task %llu again", s->name, (unsigned long long)a->task_id);
            return;
        }
    if (s->free_since > 0) {
        ts_simstats_latency(s->stats, s->free_source, now - s->free_since);
        s->free_since = 0;
    }
    if (s->ntasks == TASKS_MAX) {
        ts_warn("%s: task %llu dropped: %d tasks held already", s->name, (unsigned long long)a->task_id, TASKS_MAX);
        return;
    }
    task_t *t = &s->tasks[s->ntasks++];
    *t = (task_t){.id = a->task_id, .job = a->job_id, .piece = a->start_pts, .synthetic = (int)a->kind == TS_KIND_SYNTHETIC};
    if (!t->synthetic) { /* refused at once */
        t->done = true;
        t->started = t->done_at = now;
    }
    advance_work(s, now);
    flush_results(s, now);
}

static void on_cancel(ts_simslave_t *s, const Tessera__Cancel *c, double now)
{
    for (size_t k = 0; k < c->n_task_ids; k++)
        for (int i = 0; i < s->ntasks; i++)
            if (s->tasks[i].id == c->task_ids[k]) {
                ts_simstats_add(s->stats->cancels, 1);
                memmove(&s->tasks[i], &s->tasks[i + 1], (size_t)(s->ntasks - i - 1) * sizeof s->tasks[0]);
                s->ntasks--;
                break;
            }
    advance_work(s, now); /* the next task starts if the cancelled one was being worked on */
}

static void on_master(ts_simslave_t *s, const Tessera__Envelope *env, double now)
{
    switch (env->body_case) {
    case TESSERA__ENVELOPE__BODY_WELCOME:
        on_welcome(s, env->welcome, now);
        break;
    case TESSERA__ENVELOPE__BODY_REREGISTER: /* the master does not know us (it restarted): Hello again */
        ts_simstats_add(s->stats->reregisters, 1);
        s->welcomed = false;
        set_online(s, false);
        send_hello(s, now);
        break;
    case TESSERA__ENVELOPE__BODY_ASSIGN:
        on_assign(s, env->assign, now);
        break;
    case TESSERA__ENVELOPE__BODY_CANCEL:
        on_cancel(s, env->cancel, now);
        break;
    case TESSERA__ENVELOPE__BODY_EARNINGS:
        break;
    default:
        ts_debug("%s: unexpected message from the master (%d)", s->name, (int)env->body_case);
    }
}

void ts_simslave_on_input(ts_simslave_t *s, double now)
{
    if (!s->sock)
        return;
    for (;;) {
        int events = 0;
        size_t len = sizeof events;
        if (zmq_getsockopt(s->sock, ZMQ_EVENTS, &events, &len) < 0 || !(events & ZMQ_POLLIN))
            return; /* ZMQ_EVENTS also re-arms ZMQ_FD */
        bool again;
        Tessera__Envelope *env = ts_wire_recv(s->sock, true, NULL, NULL, &again);
        if (!env) {
            if (again)
                return;
            ts_warn("%s: dropped a message from the master: %s", s->name, ts_error());
            continue;
        }
        on_master(s, env, now);
        ts_wire_free(&env);
    }
}

/* The DEALER as the real slave makes it; returns its ZMQ_FD, or -1 with ts_error(). */
static int connect_master(ts_simslave_t *s)
{
    const ts_simslave_conf_t *c = s->conf;
    if (!(s->sock = zmq_socket(c->zmq_ctx, ZMQ_DEALER)))
        return ts_error_set("%s: cannot make a socket: %s", s->name, zmq_strerror(errno));
    ts_identity_t *key = key_get(s);
    if (!key)
        return ts_error_prefix("%s", s->name);
    char pub[TS_IDENTITY_Z85_LEN + 1], sec[TS_IDENTITY_Z85_LEN + 1];
    ts_identity_curve_public(key, pub);
    ts_identity_curve_secret(key, sec);
    key_done(s, key);
    int one = 1, zero = 0, reconnect_ivl = RECONNECT_IVL_MIN_MS + (int)randombytes_uniform(RECONNECT_IVL_SPREAD_MS + 1),
        reconnect_max = RECONNECT_IVL_MAX_MS, handshake_ivl = HANDSHAKE_IVL_MS;
    zmq_setsockopt(s->sock, ZMQ_CURVE_SERVERKEY, c->master_key, TS_IDENTITY_Z85_LEN);
    zmq_setsockopt(s->sock, ZMQ_CURVE_PUBLICKEY, pub, TS_IDENTITY_Z85_LEN);
    zmq_setsockopt(s->sock, ZMQ_CURVE_SECRETKEY, sec, TS_IDENTITY_Z85_LEN);
    sodium_memzero(sec, sizeof sec);
    zmq_setsockopt(s->sock, ZMQ_ROUTING_ID, s->id, strlen(s->id));
    zmq_setsockopt(s->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(s->sock, ZMQ_RECONNECT_IVL, &reconnect_ivl, sizeof reconnect_ivl);
    zmq_setsockopt(s->sock, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max);
    zmq_setsockopt(s->sock, ZMQ_HANDSHAKE_IVL, &handshake_ivl, sizeof handshake_ivl);
    zmq_setsockopt(s->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(s->sock, c->master) != 0)
        return ts_error_set("--master %s: %s", c->master, zmq_strerror(errno));
    int fd = -1;
    size_t len = sizeof fd;
    if (zmq_getsockopt(s->sock, ZMQ_FD, &fd, &len) != 0)
        return ts_error_set("%s: ZMQ_FD: %s", s->name, zmq_strerror(errno));
    return fd;
}

int ts_simslave_on_timer(ts_simslave_t *s, double now)
{
    int fd = -1;
    if (!s->sock) {
        if (now < s->conf->t0 + s->connect_after)
            return -1;
        if ((fd = connect_master(s)) < 0)
            return -2;
        s->hello_at = now;
    }
    if (!s->welcomed && now >= s->hello_at)
        send_hello(s, now);
    if (s->welcomed && now >= s->beat_at)
        send_heartbeat(s, now);
    advance_work(s, now);
    if (now >= s->retry_at)
        flush_results(s, now);
    ts_simslave_on_input(s, now); /* a send may have taken the descriptor's signal of waiting input */
    return fd;
}

double ts_simslave_due(const ts_simslave_t *s)
{
    if (!s->sock)
        return s->conf->t0 + s->connect_after;
    double due = s->welcomed ? s->beat_at : s->hello_at;
    bool pending = false;
    for (int i = 0; i < s->ntasks; i++) {
        const task_t *t = &s->tasks[i];
        if (t->done)
            pending = true;
        else if (t->started > 0 && t->done_at < due)
            due = t->done_at;
    }
    if (pending && s->retry_at < due)
        due = s->retry_at;
    return due;
}
