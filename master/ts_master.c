/* ts_master: the reactor: slaves over a CURVE ROUTER socket, heartbeats, timeouts and task assignment.
   DESIGN: the reactor owns the socket and the table of connected nodes; everything durable is in the
   store, so a restarted master rebuilds its view from the store and from the Hellos of returning slaves.
   A slave's Hello lists the tasks it still holds: anything assigned to it that it does not hold goes back
   to the queue; anything it holds that is no longer its own is cancelled on the slave. */
#include "master/ts_master.h"
#include "master/ts_node_gpus.h"
#include "master/ts_results.h"
#include "master/ts_stitcher.h"
#include "master/ts_verifier.h"
#include "escrow/escrow.h"
#include "escrow/ts_ethkey.h"
#include "escrow/ts_payer.h"
#include "escrow/ts_payout.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_worker.h"
#include "lib/ts_identity.h"
#include "lib/ts_index.h"
#include "lib/ts_log.h"
#include "lib/ts_version.h"
#include "lib/ts_wire.h"
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define TICK_MS 200
#define KICK_GAP_MS 50       /* a kick (new work, a verdict) ticks at once, but no sooner than this after the last tick:
                                a tick reads every assigned task, and verdicts come hundreds a second */
#define PAYER_IDLE_S 1       /* the payer sends the outbox at least this often */
#define MAX_SLOTS 16
#define EARNINGS_EVERY_S 5.0 /* how often a node hears what it has been paid (on its heartbeats) */
#define MSGS_PER_WAKE 64
#define IO_THREADS 4         /* ZeroMQ's, for thousands of connections */
#define MONITOR_ENDPOINT "inproc://master-monitor"
#define NODE_SCENES 8        /* scenes remembered per node, for telling slaves which peers hold a scene */
#define ASSIGN_PEERS_MAX 32  /* peers named in one Assign */
#define UNHELD_HEARTBEATS 3 /* heartbeats after which an assigned task must appear in the node's holding list */

typedef struct {
    char id[TS_IDENTITY_ID_HEX];
    uint8_t key[TS_IDENTITY_PUBLIC_BYTES];
    char rid[TS_WIRE_RID_MAX];
    size_t rid_len;
    char name[128];
    char blender[32];
    bool has_gpu;
    int slots;
    double earnings_sent;      /* monotonic time its Earnings were last sent */
    double last_seen;
    char scene[TS_HASH_HEX];   /* the scene it rendered last: preferred for its next tasks */
    bool online;
    char peer_ip[64];          /* the address it connects from, as the transport saw it */
    int torrent_port;          /* its torrent session's port; 0: HTTP only */
    char fetched[NODE_SCENES][TS_HASH_HEX]; /* scenes it was sent lately (has, or is fetching): a ring */
    int nfetched;
    char seeding[NODE_SCENES][TS_HASH_HEX]; /* scenes it holds whole, from its last heartbeat */
    int nseeding;
    char cpu_class[160];       /* device classes of its results (verification compares like with like) */
    char gpu_class[160];
    char paused[64];           /* why its owner has it back ("" when it works): it gets no work */
    int held;                  /* tasks assigned to it, as the last tick counted them */
    uint64_t idle_at;          /* the store's change count when it last found no task (0: look again) */
} node_t;

struct ts_master {
    ts_master_options_t opts;
    ts_store_t *store;
    ts_blobs_t *blobs;
    ts_identity_t *identity;
    void *ctx, *router, *monitor;
    int kick_fd;
    volatile sig_atomic_t stop;
    node_t **nodes;             /* every node seen since start, each allocated once (pointers stay valid) */
    int nnodes, cap_nodes;
    ts_index_t *by_id;          /* node id -> node */
    ts_index_t *by_rid;         /* routing id of its connection -> node (online nodes) */
    double started;
    char blob_url[512];
    char torrent_url[512];     /* "<public url>/api/v1/torrents" */
    ts_seeder_t *seeder;       /* NULL with --no-torrent */
    ts_api_t *api;
    ts_stitcher_t *stitcher;
    ts_verifier_t *verifier;
    ts_escrow_t *escrow;
    ts_payer_t *payer;         /* evm only */
    ts_worker_t *payer_worker;
};

static double mono(void)
{
    return ts_clock_mono();
}

ts_store_t *ts_master_store(ts_master_t *self) { return self->store; }
ts_blobs_t *ts_master_blobs(ts_master_t *self) { return self->blobs; }
ts_seeder_t *ts_master_seeder(ts_master_t *self) { return self->seeder; }
const ts_master_options_t *ts_master_options(ts_master_t *self) { return &self->opts; }
static void result_in_cb(void *arg) { ts_verifier_wake(((ts_master_t *)arg)->verifier); }
static void kick_cb(void *arg) { ts_master_kick(arg); }
static void frame_ready_cb(void *arg) { ts_stitcher_wake(((ts_master_t *)arg)->stitcher); }


void ts_master_kick(ts_master_t *self)
{
    uint64_t one = 1;
    if (write(self->kick_fd, &one, sizeof one) < 0) {
        /* the counter is saturated: the reactor is already awake */
    }
}

void ts_master_stop(ts_master_t *self)
{
    self->stop = 1;
    ts_master_kick(self);
}

static int mkdir_state(const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return ts_error_set("--state %s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return ts_error_set("--state %s: not a directory", dir);
    return 0;
}

static int amount_option(const char *name, const char *text, int64_t *units)
{
    if (ts_amount_parse(text, units) < 0)
        return ts_error_prefix("--%s", name);
    return 0;
}

static void pay_pass(void *arg)
{
    ts_master_t *self = arg;
    if (ts_payer_pass(self->payer) < 0)
        ts_warn("payments: %s (the outbox keeps them for the next try)", ts_error());
}

/* The escrow on the store's database (db_path); with evm, the payer that sends its outbox to the chain. */
static int open_escrow(ts_master_t *self, const char *db_path)
{
    const ts_master_options_t *o = &self->opts;
    const char *salt = ts_identity_id(self->identity);
    ts_escrow_config_t cfg = {.backend = o->escrow, .rpc_url = o->rpc_url, .contract = o->escrow_address,
                              .key_file = o->key_file, .chain_id = (uint64_t)o->chain_id,
                              .slash_share = o->slash_share, .salt = salt, .settle_s = o->pay_every_s};
    ts_pay_policy_t pay = {.deadline_s = (double)o->job_deadline_h * 3600};
    if (amount_option("requester-mint", o->requester_mint, &cfg.requester_mint) < 0 ||
        amount_option("node-stake", o->node_stake, &cfg.node_stake_mint) < 0 ||
        amount_option("farm-mint", o->farm_mint, &cfg.farm_mint) < 0 ||
        amount_option("check-pool", o->check_pool, &cfg.pool) < 0 ||
        amount_option("min-stake", o->min_stake, &pay.min_stake) < 0 ||
        amount_option("min-task-price", o->min_task_price, &pay.min_task_price) < 0)
        return -1;
    if (!(self->escrow = ts_escrow_new(&cfg, ts_store_db(self->store))))
        return -1;
    ts_store_set_escrow(self->store, self->escrow, &pay);
    if (strcmp(ts_escrow_backend(self->escrow), "evm") != 0)
        return 0;
    if (!(self->payer = ts_payer_new(&cfg, db_path)))
        return -1;
    self->payer_worker = ts_worker_new("payer", pay_pass, self, PAYER_IDLE_S, true);
    return self->payer_worker ? 0 : -1;
}

ts_master_t *ts_master_new(const ts_master_options_t *opts)
{
    ts_master_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    self->kick_fd = -1;
    char path[PATH_MAX];
    if (!(self->by_id = ts_index_new()) || !(self->by_rid = ts_index_new()))
        goto fail;
    if (mkdir_state(opts->state_dir) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/master.key", opts->state_dir);
    if (!(self->identity = ts_identity_load_or_create(path)))
        goto fail;
    snprintf(path, sizeof path, "%s/master.cert", opts->state_dir);
    if (ts_identity_write_cert(self->identity, path) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/tessera.db", opts->state_dir);
    if (!(self->store = ts_store_open(path)))
        goto fail;
    if (strcmp(opts->schedule, "fair") != 0 && strcmp(opts->schedule, "priority") != 0) {
        ts_error_set("--schedule '%s': fair or priority", opts->schedule);
        goto fail;
    }
    ts_store_set_fair_share(self->store, strcmp(opts->schedule, "fair") == 0);
    if (open_escrow(self, path) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/operator.token", opts->state_dir);
    if (ts_store_operator_token(self->store, path) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/blobs", opts->state_dir);
    if (!(self->blobs = ts_blobs_new(path)))
        goto fail;
    if (ts_store_nodes_all_offline(self->store) < 0)
        goto fail;
    char base[400];
    if (opts->public_url)
        snprintf(base, sizeof base, "%s", opts->public_url);
    else
        snprintf(base, sizeof base, "%s://%s", opts->tls_cert ? "https" : "http", opts->http);
    snprintf(self->blob_url, sizeof self->blob_url, "%s/api/v1/blobs", base);
    snprintf(self->torrent_url, sizeof self->torrent_url, "%s/api/v1/torrents", base);
    if (!opts->no_torrent) {
        snprintf(path, sizeof path, "%s/torrents", opts->state_dir);
        ts_seeder_options_t so = {.listen = opts->torrent_listen, .lsd = !opts->no_lsd,
                                  .upload_slots = (int)opts->seed_slots, .web_seed_base = self->blob_url, .dir = path};
        if (!(self->seeder = ts_seeder_new(&so, self->blobs))) {
            ts_error_prefix("--torrent-listen %s", opts->torrent_listen);
            goto fail;
        }
    }
    self->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->ctx = zmq_ctx_new();
    /* ZeroMQ's I/O threads share the slaves' connections: CURVE's crypto and each poller's timers (libzmq cancels a
       timer by walking its poller's list, once a ZMTP heartbeat a connection) spread over them */
    zmq_ctx_set(self->ctx, ZMQ_IO_THREADS, IO_THREADS);
    self->router = zmq_socket(self->ctx, ZMQ_ROUTER);
    char secret[TS_IDENTITY_Z85_LEN + 1];
    ts_identity_curve_secret(self->identity, secret);
    int one = 1, zero = 0;
    int64_t maxmsg = (int64_t)opts->max_message_mb << 20;
    zmq_setsockopt(self->router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(self->router, ZMQ_CURVE_SECRETKEY, secret, TS_IDENTITY_Z85_LEN);
    memset(secret, 0, sizeof secret);
    zmq_setsockopt(self->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(self->router, ZMQ_ROUTER_MANDATORY, &zero, sizeof zero);
    /* a slave that reconnects (restarted, or its network came back) before its old connection is known dead takes
       its routing id over; without this its messages went nowhere until the old connection timed out */
    zmq_setsockopt(self->router, ZMQ_ROUTER_HANDOVER, &one, sizeof one);
    zmq_setsockopt(self->router, ZMQ_LINGER, &zero, sizeof zero);
    /* ZMTP heartbeats: a peer gone without a word (a café PC switched off) has its connection and queues freed
       after the node timeout, not when TCP gives up minutes later */
    int zmtp_ivl = (int)opts->heartbeat_ms * 2, zmtp_timeout = (int)opts->node_timeout_s * 1000;
    zmq_setsockopt(self->router, ZMQ_HEARTBEAT_IVL, &zmtp_ivl, sizeof zmtp_ivl);
    zmq_setsockopt(self->router, ZMQ_HEARTBEAT_TIMEOUT, &zmtp_timeout, sizeof zmtp_timeout);
    zmq_socket_monitor(self->router, MONITOR_ENDPOINT,
                       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    self->monitor = zmq_socket(self->ctx, ZMQ_PAIR);
    zmq_connect(self->monitor, MONITOR_ENDPOINT);
    if (zmq_bind(self->router, opts->listen) != 0) {
        ts_error_set("--listen %s: %s", opts->listen, zmq_strerror(errno));
        goto fail;
    }
    self->started = mono();
    ts_stitcher_ctx_t sc = {.store = self->store, .blobs = self->blobs, .kick = kick_cb, .arg = self};
    if (!(self->stitcher = ts_stitcher_new(&sc)))
        goto fail;
    ts_verifier_ctx_t vc = {.store = self->store,
                            .blobs = self->blobs,
                            .policy = {.rates = {.trust = (double)opts->check_trust,
                                                 .floor = opts->check_floor,
                                                 .first = (int)opts->check_first},
                                       .area = opts->check_area,
                                       .quarantine_after = (int)opts->quarantine_after,
                                       .max_failures = (int)opts->max_failures},
                            .check_wait_s = opts->check_wait_s,
                            .kick = kick_cb,
                            .frame_ready = frame_ready_cb,
                            .arg = self};
    if (!(self->verifier = ts_verifier_new(&vc)))
        goto fail;
    if (!(self->api = ts_api_new(self, opts->http)))
        goto fail;
    return self;
fail:
    ts_master_destroy(&self);
    return NULL;
}

void ts_master_destroy(ts_master_t **self_p)
{
    ts_master_t *self = *self_p;
    if (!self)
        return;
    ts_api_destroy(&self->api);
    ts_verifier_destroy(&self->verifier);
    ts_stitcher_destroy(&self->stitcher);
    if (self->monitor)
        zmq_close(self->monitor);
    if (self->router)
        zmq_close(self->router);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    if (self->kick_fd >= 0)
        close(self->kick_fd);
    ts_seeder_destroy(&self->seeder);
    ts_worker_destroy(&self->payer_worker);
    ts_payer_destroy(&self->payer);
    ts_blobs_destroy(&self->blobs);
    ts_store_destroy(&self->store);
    ts_escrow_destroy(&self->escrow);
    ts_identity_destroy(&self->identity);
    for (int i = 0; i < self->nnodes; i++)
        free(self->nodes[i]);
    free(self->nodes);
    ts_index_destroy(&self->by_id);
    ts_index_destroy(&self->by_rid);
    free(self);
    *self_p = NULL;
}

static node_t *node_by_rid(ts_master_t *self, const char *rid, size_t len)
{
    node_t *n = ts_index_get(self->by_rid, rid, len);
    return n && n->online ? n : NULL;
}

static node_t *node_by_id(ts_master_t *self, const char *id)
{
    return ts_index_get(self->by_id, id, strlen(id));
}

/* A node seen for the first time: added to the table and the id index. NULL with ts_error() out of memory. */
static node_t *node_add(ts_master_t *self, const char *id)
{
    if (self->nnodes == self->cap_nodes) {
        int cap = self->cap_nodes ? self->cap_nodes * 2 : 64;
        node_t **nodes = realloc(self->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) {
            ts_error_set("out of memory for %d nodes", cap);
            return NULL;
        }
        self->nodes = nodes;
        self->cap_nodes = cap;
    }
    node_t *n = calloc(1, sizeof *n);
    if (!n || ts_index_put(self->by_id, id, strlen(id), n) < 0) {
        free(n);
        ts_error_set("out of memory for node %s", id);
        return NULL;
    }
    snprintf(n->id, sizeof n->id, "%s", id);
    self->nodes[self->nnodes++] = n;
    return n;
}

static void send_env(ts_master_t *self, node_t *n, Tessera__Envelope *env)
{
    if (ts_wire_send(self->router, n->rid, n->rid_len, env, false) < 0)
        ts_warn("node %s: %s", n->name, ts_error());
}

static void send_cancel(ts_master_t *self, node_t *n, uint64_t task)
{
    Tessera__Cancel c = TESSERA__CANCEL__INIT;
    c.n_task_ids = 1;
    c.task_ids = &task;
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_CANCEL;
    env.cancel = &c;
    send_env(self, n, &env);
}

static bool listed(const char (*list)[TS_HASH_HEX], int count, const char *scene)
{
    for (int i = 0; i < count && i < NODE_SCENES; i++)
        if (strcmp(list[i], scene) == 0)
            return true;
    return false;
}

/* Remembers that a node was sent a scene (it holds it, or is fetching it: either way it is a peer for it). */
static void note_fetched(node_t *n, const char *scene)
{
    if (!listed((const char (*)[TS_HASH_HEX])n->fetched, n->nfetched, scene))
        snprintf(n->fetched[n->nfetched++ % NODE_SCENES], TS_HASH_HEX, "%s", scene);
}

/* The torrent addresses of other online nodes that hold the scene or were sent it (and are fetching it); returns
   how many. *held: whether one of them holds it whole, so the master's own seed can stay out of it. */
static size_t scene_peers(ts_master_t *self, const node_t *to, const char *scene, char buf[][80], char **out,
                          bool *held)
{
    size_t k = 0;
    *held = false;
    for (int i = 0; i < self->nnodes && k < ASSIGN_PEERS_MAX; i++) {
        const node_t *p = self->nodes[i];
        if (p == to || !p->online || p->torrent_port <= 0 || !p->peer_ip[0])
            continue;
        bool seeds = listed(p->seeding, p->nseeding, scene);
        if (!seeds && !listed(p->fetched, p->nfetched, scene))
            continue;
        *held = *held || seeds;
        snprintf(buf[k], 80, strchr(p->peer_ip, ':') ? "[%s]:%d" : "%s:%d", p->peer_ip, p->torrent_port);
        out[k] = buf[k];
        k++;
    }
    return k;
}

static void send_assign(ts_master_t *self, node_t *n, const ts_task_t *t)
{
    Tessera__Assign a = TESSERA__ASSIGN__INIT;
    Tessera__Rect r = TESSERA__RECT__INIT;
    a.task_id = (uint64_t)t->id;
    a.job_id = (uint64_t)t->job_id;
    a.kind = (Tessera__TaskKind)t->kind;
    a.scene_hash = (char *)t->scene;
    a.blob_url = self->blob_url;
    a.frame = t->frame;
    r.x0 = t->x0;
    r.y0 = t->y0;
    r.x1 = t->x1;
    r.y1 = t->y1;
    a.render = &r;
    a.device = strcmp(t->device, "gpu") == 0 ? "GPU" : "CPU";
    a.no_denoise = t->no_denoise;
    a.input_hash = (char *)t->input_hash;
    a.format = strcmp(t->format, "scene") == 0 ? "" : (char *)t->format;
    a.start_pts = t->start_pts;
    a.end_pts = t->end_pts;
    const ts_kind_t *kind = ts_kind_get(t->kind);
    bool own_input = kind && kind->own_input;
    a.params = t->kind == TS_KIND_SEGMENT ? (char *)t->params : "";
    if (own_input)
        a.scene_hash = (char *)t->input_hash; /* the task's own input (a segment's cut) is all the slave needs */
    if (!own_input && t->manifest[0]) { /* a project: the slave fetches its files as it fetches the scene */
        a.manifest_hash = (char *)t->manifest;
        a.torrents_url = self->seeder && n->torrent_port > 0 ? self->torrent_url : "";
    }
    char info_hash[TS_TORRENT_HASH_HEX + 1], turl[700], peer_buf[ASSIGN_PEERS_MAX][80];
    char *peers[ASSIGN_PEERS_MAX];
    if (!own_input && self->seeder && n->torrent_port > 0) {
        /* a scene travels by torrent: published at upload, or now (after a restart, the kept .torrent) */
        if (ts_seeder_publish(self->seeder, t->scene, info_hash) == 0) {
            snprintf(turl, sizeof turl, "%s/%s", self->torrent_url, t->scene);
            a.scene_info_hash = info_hash;
            a.torrent_url = turl;
            a.peers = peers;
            bool held;
            a.n_peers = scene_peers(self, n, t->scene, peer_buf, peers, &held);
            a.from_master = !held; /* slaves that hold the scene serve it; the master's upload stays ~1 copy */
        } else {
            ts_warn("task %lld: no torrent for scene %.12s, it goes over HTTP: %s", (long long)t->id, t->scene,
                    ts_error());
        }
    }
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_ASSIGN;
    env.assign = &a;
    send_env(self, n, &env);
    if (!own_input)
        note_fetched(n, t->scene);
    snprintf(n->scene, sizeof n->scene, "%s", t->scene);
    ts_debug("task %lld (job %lld kind %d frame %d tile %d) -> %s", (long long)t->id, (long long)t->job_id,
             t->kind, t->frame, t->tile, n->name);
}

/* The node's pay today (from its local midnight) and in all, every EARNINGS_EVERY_S: its owner's `ctl status`. */
static void send_earnings(ts_master_t *self, node_t *n, double day_start)
{
    double now = ts_clock_mono();
    if (day_start <= 0 || now - n->earnings_sent < EARNINGS_EVERY_S)
        return;
    n->earnings_sent = now;
    Tessera__Earnings e = TESSERA__EARNINGS__INIT;
    if (ts_store_node_earnings(self->store, n->id, day_start, &e.today, &e.total) < 0)
        return;
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_EARNINGS;
    env.earnings = &e;
    send_env(self, n, &env);
}

/* Fills the node's free slots. held: its assigned tasks when the caller counted them, -1 to count them now. A node
   that found nothing looks again only once the store has changed: thousands of idle nodes cost nothing a tick. */
static void schedule_node(ts_master_t *self, node_t *n, int held)
{
    if (n->paused[0])
        return;
    if (held < 0)
        held = ts_store_node_assigned_count(self->store, n->id);
    int free_slots = n->slots - held;
    if (held < 0 || free_slots <= 0 || (n->idle_at && n->idle_at == ts_store_changes(self->store)))
        return;
    ts_task_t tasks[MAX_SLOTS + TS_REQUEST_CHUNK_MAX];
    if (free_slots > MAX_SLOTS)
        free_slots = MAX_SLOTS;
    int got = ts_store_assign_chunks(self->store, n->id, n->blender, n->has_gpu, n->scene,
                                     (int)self->opts.max_failures, tasks, free_slots, MAX_SLOTS + TS_REQUEST_CHUNK_MAX);
    if (got < 0)
        ts_err("assign to %s: %s", n->name, ts_error());
    n->idle_at = got == 0 ? ts_store_changes(self->store) : 0;
    for (int i = 0; i < got; i++)
        send_assign(self, n, &tasks[i]);
}

/* Every online node with free slots, its assigned tasks counted from assigned (the store's list of them all, one
   query a tick, not one a node; count < 0: not known, each node counts its own). */
static void schedule_all(ts_master_t *self, const ts_assigned_t *assigned, int count)
{
    if (count >= 0) {
        for (int i = 0; i < self->nnodes; i++)
            self->nodes[i]->held = 0;
        for (int i = 0; i < count; i++) {
            node_t *n = node_by_id(self, assigned[i].node);
            if (n)
                n->held++;
        }
    }
    for (int i = 0; i < self->nnodes; i++)
        if (self->nodes[i]->online)
            schedule_node(self, self->nodes[i], count >= 0 ? self->nodes[i]->held : -1);
}

static bool holds(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* Tasks a node reports holding that are not assigned to it any more are cancelled on the node. */
static void cancel_foreign(ts_master_t *self, node_t *n, const uint64_t *ids, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        ts_task_t t;
        if (ts_store_task_get(self->store, (int64_t)ids[i], &t) == 1 &&
            (strcmp(t.state, "assigned") != 0 || strcmp(t.node, n->id) != 0))
            send_cancel(self, n, ids[i]);
    }
}

/* Tasks assigned to a node more than settle seconds ago that it does not hold (ids: what it reports holding)
   go back to the queue: after a reconnect (settle 0), an Assign lost on the way (a few heartbeats: younger ones
   may simply not have arrived yet), or the node going offline (holding nothing, settle 0). */
static void requeue_unheld(ts_master_t *self, node_t *n, const uint64_t *ids, size_t count, double settle,
                           const char *why)
{
    double w = ts_clock_wall();
    ts_task_t *tasks = NULL;
    int total = 0;
    if (ts_store_tasks_assigned(self->store, n->id, &tasks, &total) < 0)
        return;
    for (int i = 0; i < total; i++)
        if (w - tasks[i].assigned_at >= settle && !holds(ids, count, (uint64_t)tasks[i].id)) {
            ts_info("task %lld back to the queue: %s %s", (long long)tasks[i].id, n->name, why);
            ts_store_task_requeue(self->store, tasks[i].id, false, NULL, (int)self->opts.max_failures);
        }
    free(tasks);
}

/* The node's owner has it back: it gets no work until it says otherwise. The tasks it gave back (given: ids) go
   straight back to the queue counted against nothing (requeue_unheld catches any it did not name). */
static void node_pause(ts_master_t *self, node_t *n, const char *reason, const uint64_t *given, size_t ngiven)
{
    int back = 0;
    for (size_t i = 0; i < ngiven; i++) {
        ts_task_t t;
        if (ts_store_task_get(self->store, (int64_t)given[i], &t) == 1 && strcmp(t.state, "assigned") == 0 &&
            strcmp(t.node, n->id) == 0 &&
            ts_store_task_requeue(self->store, t.id, false, NULL, (int)self->opts.max_failures) == 0)
            back++;
    }
    bool was = n->paused[0] != '\0';
    snprintf(n->paused, sizeof n->paused, "%s", reason[0] ? reason : "paused");
    if (ts_store_node_pause(self->store, n->id, n->paused, back) < 0)
        ts_err("node %s: %s", n->name, ts_error());
    if (!was || back > 0)
        ts_info("node %s paused (%s): %d task(s) back to the queue", n->name, n->paused, back);
    if (back > 0)
        schedule_all(self, NULL, -1);
}

static void node_resume(ts_master_t *self, node_t *n)
{
    n->paused[0] = '\0';
    if (ts_store_node_resume(self->store, n->id) < 0)
        ts_err("node %s: %s", n->name, ts_error());
    ts_info("node %s works again", n->name);
    n->idle_at = 0;
    schedule_node(self, n, -1);
}

static void on_hello(ts_master_t *self, const char *rid, size_t rid_len, const char *peer_ip,
                     const Tessera__Hello *h)
{
    if (h->identity_key.len != TS_IDENTITY_PUBLIC_BYTES) {
        ts_warn("hello with a %zu-byte identity key refused", h->identity_key.len);
        return;
    }
    char id[TS_IDENTITY_ID_HEX];
    for (size_t i = 0; i < TS_IDENTITY_PUBLIC_BYTES; i++)
        snprintf(id + 2 * i, 3, "%02x", h->identity_key.data[i]);
    node_t *n = node_by_id(self, id);
    if (!n && !(n = node_add(self, id))) {
        ts_err("node %s refused: %s", id, ts_error());
        return;
    }
    if (ts_index_get(self->by_rid, n->rid, n->rid_len) == n)
        ts_index_del(self->by_rid, n->rid, n->rid_len); /* its last connection's */
    if (ts_index_put(self->by_rid, rid, rid_len, n) < 0) {
        ts_err("node %s refused: %s", id, ts_error());
        return;
    }
    memcpy(n->key, h->identity_key.data, TS_IDENTITY_PUBLIC_BYTES);
    memcpy(n->rid, rid, rid_len);
    n->rid_len = rid_len;
    snprintf(n->name, sizeof n->name, "%s", h->name && h->name[0] ? h->name : id);
    snprintf(n->blender, sizeof n->blender, "%s", h->blender_version ? h->blender_version : "");
    n->has_gpu = false;
    json_t *devices = json_array();
    const char *cpu_model = h->cpu_model ? h->cpu_model : "";
    snprintf(n->cpu_class, sizeof n->cpu_class, "%s/CPU/%s", n->blender, cpu_model);
    snprintf(n->gpu_class, sizeof n->gpu_class, "%s/GPU", n->blender);
    for (size_t i = 0; i < h->n_devices; i++) {
        json_array_append_new(devices, json_string(h->devices[i]));
        if (strcmp(h->devices[i], "CPU") != 0) {
            n->has_gpu = true;
            size_t len = strlen(n->gpu_class);
            snprintf(n->gpu_class + len, sizeof n->gpu_class - len, "/%s", h->devices[i]);
        }
    }
    char *devices_json = json_dumps(devices, JSON_COMPACT);
    json_decref(devices);
    ts_node_gpus_t gpus;
    if (ts_node_gpus(h, &gpus, n->gpu_class, sizeof n->gpu_class) < 0)
        ts_err("node %s: %s", n->name, ts_error());
    const char *sandbox = h->sandbox && h->sandbox[0] ? h->sandbox : "none";
    if (strcmp(sandbox, "none") == 0)
        ts_warn("node %s runs scenes without a sandbox (--no-sandbox): unsafe for its owner", n->name);
    n->slots = h->slots < 1 ? 1 : h->slots > MAX_SLOTS ? MAX_SLOTS : (int)h->slots;
    snprintf(n->peer_ip, sizeof n->peer_ip, "%s", peer_ip);
    n->torrent_port = h->torrent_port <= 65535 ? (int)h->torrent_port : 0;
    n->last_seen = mono();
    n->online = true;
    const char *payout = h->payout ? h->payout : "";
    uint8_t address[TS_ETH_ADDRESS_BYTES];
    if (payout[0] && (ts_eth_address_parse(payout, address) < 0 ||
                      ts_payout_verify(id, h->payout_sig.data, h->payout_sig.len, address) < 0)) {
        ts_warn("node %s: payout address %.42s ignored: %s", n->name, payout, ts_error());
        payout = "";
    }
    if (ts_store_node_seen(self->store, id, n->name, n->blender, devices_json ? devices_json : "[]", cpu_model, payout,
                           (int)h->cores, (int64_t)h->memory) < 0)
        ts_err("node %s: %s", n->name, ts_error());
    char tags[TS_NODE_TAGS_CAP] = "";
    for (size_t i = 0; i < h->n_tags; i++) { /* its pools; a malformed tag is left out and said */
        if (ts_request_tag_check(h->tags[i]) < 0 || strlen(tags) + strlen(h->tags[i]) + 2 > sizeof tags) {
            ts_warn("node %s: tag '%.40s' ignored: %s", n->name, h->tags[i], ts_error());
            continue;
        }
        snprintf(tags + strlen(tags), sizeof tags - strlen(tags), "%s%s", tags[0] ? "," : "", h->tags[i]);
    }
    if (ts_store_node_tags(self->store, id, tags, h->max_memory < INT64_MAX ? (int64_t)h->max_memory : 0) < 0)
        ts_err("node %s: %s", n->name, ts_error());
    if (gpus.json && ts_store_node_gpus(self->store, id, gpus.json, strcmp(sandbox, "bwrap") == 0 ? "bwrap" : "none",
                                        gpus.vram_free) < 0)
        ts_err("node %s: %s", n->name, ts_error());
    ts_node_gpus_free(&gpus);
    free(devices_json);
    ts_info("node %s (%s) online: blender %s, %zu device(s), %zu GPU(s), %u cores, %u slots, holding %zu task(s)",
            n->name, id, n->blender, h->n_devices, h->n_gpus, h->cores, n->slots, h->n_holding);

    /* Reconcile: what the store assigned to this node but the node does not hold goes back to the queue. */
    requeue_unheld(self, n, h->holding, h->n_holding, 0, "no longer holds it");
    n->paused[0] = '\0';
    if (h->paused && h->paused[0])
        node_pause(self, n, h->paused, NULL, 0);
    cancel_foreign(self, n, h->holding, h->n_holding);

    Tessera__Welcome w = TESSERA__WELCOME__INIT;
    w.master_version = TS_VERSION;
    w.heartbeat_ms = (uint32_t)self->opts.heartbeat_ms;
    w.torrent_port = self->seeder ? (uint32_t)ts_seeder_port(self->seeder) : 0;
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    send_env(self, n, &env);
    n->idle_at = 0;
    schedule_node(self, n, -1);
}

/* What a node says it seeds (heartbeats and results carry the whole list). */
static void note_seeding(node_t *n, char *const *hashes, size_t count)
{
    n->nseeding = 0;
    for (size_t i = 0; i < count && n->nseeding < NODE_SCENES; i++)
        if (ts_hash_valid(hashes[i]))
            snprintf(n->seeding[n->nseeding++], TS_HASH_HEX, "%s", hashes[i]);
}

static void reregister(ts_master_t *self, const char *rid, size_t rid_len)
{
    Tessera__Reregister rr = TESSERA__REREGISTER__INIT;
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_REREGISTER;
    env.reregister = &rr;
    if (ts_wire_send(self->router, rid, rid_len, &env, false) < 0)
        ts_warn("reregister: %s", ts_error());
}

static void on_message(ts_master_t *self, const char *rid, size_t rid_len, const char *peer_ip,
                       Tessera__Envelope *env)
{
    if (env->body_case == TESSERA__ENVELOPE__BODY_HELLO) {
        on_hello(self, rid, rid_len, peer_ip, env->hello);
        return;
    }
    node_t *n = node_by_rid(self, rid, rid_len);
    if (!n) {
        reregister(self, rid, rid_len); /* e.g. the master restarted: the slave must say Hello again */
        return;
    }
    n->last_seen = mono();
    switch (env->body_case) {
    case TESSERA__ENVELOPE__BODY_HEARTBEAT:
        note_seeding(n, env->heartbeat->seeding, env->heartbeat->n_seeding);
        cancel_foreign(self, n, env->heartbeat->holding, env->heartbeat->n_holding);
        requeue_unheld(self, n, env->heartbeat->holding, env->heartbeat->n_holding,
                       UNHELD_HEARTBEATS * (double)self->opts.heartbeat_ms / 1000.0, "does not hold it");
        if (env->heartbeat->paused && env->heartbeat->paused[0] && strcmp(env->heartbeat->paused, n->paused) != 0)
            node_pause(self, n, env->heartbeat->paused, NULL, 0); /* its Pause was lost, or the reason changed */
        else if ((!env->heartbeat->paused || !env->heartbeat->paused[0]) && n->paused[0])
            node_resume(self, n);
        send_earnings(self, n, env->heartbeat->day_start);
        break;
    case TESSERA__ENVELOPE__BODY_PAUSE:
        node_pause(self, n, env->pause->reason ? env->pause->reason : "", env->pause->given_back,
                   env->pause->n_given_back);
        break;
    case TESSERA__ENVELOPE__BODY_RESULT:
        note_seeding(n, env->result->seeding, env->result->n_seeding);
        ts_result_origin_t from = {.id = n->id, .key = n->key, .cpu_class = n->cpu_class, .gpu_class = n->gpu_class};
        ts_results_ctx_t rc = {.store = self->store, .blobs = self->blobs, .max_failures = (int)self->opts.max_failures,
                               .task_timeout_s = self->opts.task_timeout_s, .result_in = result_in_cb, .arg = self};
        if (ts_results_accept(&rc, &from, env->result) < 0)
            ts_warn("result of task %llu from %s refused: %s", (unsigned long long)env->result->task_id, n->name,
                    ts_error());
        schedule_node(self, n, -1);
        break;
    default:
        ts_warn("node %s sent an unexpected message (%d)", n->name, (int)env->body_case);
    }
}

static void node_lost(ts_master_t *self, node_t *n, const char *why)
{
    ts_warn("node %s offline: %s", n->name, why);
    n->online = false;
    ts_store_node_state(self->store, n->id, "offline");
    requeue_unheld(self, n, NULL, 0, 0, "is offline");
}

static void tick(ts_master_t *self)
{
    double now = mono();
    for (int i = 0; i < self->nnodes; i++)
        if (self->nodes[i]->online && now - self->nodes[i]->last_seen > (double)self->opts.node_timeout_s)
            node_lost(self, self->nodes[i], "no heartbeat");
    ts_assigned_t *tasks = NULL;
    int count = 0;
    if (ts_store_assigned_brief(self->store, &tasks, &count) == 0) {
        double w = ts_clock_wall();
        for (int i = 0; i < count; i++) {
            node_t *n = node_by_id(self, tasks[i].node);
            bool up = n && n->online;
            if (!up && now - self->started > (double)self->opts.node_timeout_s) {
                /* assigned before a master restart to a node that never came back */
                ts_info("task %lld back to the queue: its node did not come back", (long long)tasks[i].id);
                ts_store_task_requeue(self->store, tasks[i].id, false, NULL, (int)self->opts.max_failures);
                tasks[i].node[0] = '\0'; /* held by no one now */
            } else if (w - tasks[i].assigned_at > (double)self->opts.task_timeout_s) {
                char why[128];
                snprintf(why, sizeof why, "timed out after %ld s", self->opts.task_timeout_s);
                ts_warn("task %lld on %s %s", (long long)tasks[i].id, up ? n->name : "?", why);
                ts_store_task_requeue(self->store, tasks[i].id, true, why, (int)self->opts.max_failures);
                if (up)
                    send_cancel(self, n, (uint64_t)tasks[i].id);
                tasks[i].node[0] = '\0';
            }
        }
        schedule_all(self, tasks, count);
    } else {
        schedule_all(self, NULL, -1);
    }
    free(tasks);
}

static void drain_monitor(ts_master_t *self)
{
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&ev);
            return;
        }
        zmq_msg_init(&addr);
        zmq_msg_recv(&addr, self->monitor, 0);
        ts_warn("a slave failed the CURVE handshake (wrong master certificate?): connection refused");
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
    }
}

int ts_master_run(ts_master_t *self)
{
    ts_info("master %s listening on %s, API on http://%s, state in %s", TS_VERSION, self->opts.listen,
            self->opts.http, self->opts.state_dir);
    double last_tick = 0;
    bool kick_pending = false;
    while (!self->stop) {
        zmq_pollitem_t items[] = {
            {self->router, 0, ZMQ_POLLIN, 0},
            {NULL, self->kick_fd, ZMQ_POLLIN, 0},
            {self->monitor, 0, ZMQ_POLLIN, 0},
        };
        if (zmq_poll(items, 3, kick_pending ? KICK_GAP_MS : TICK_MS) < 0 && errno != EINTR) {
            ts_err("poll: %s", zmq_strerror(errno));
            return -1;
        }
        /* one store transaction for what this wake brings (each message's own still undone alone on failure) */
        bool batch = ts_store_batch_begin(self->store) == 0;
        for (int i = 0; i < MSGS_PER_WAKE && (items[0].revents & ZMQ_POLLIN); i++) {
            char rid[TS_WIRE_RID_MAX];
            size_t rid_len = 0;
            bool again;
            char peer_ip[64];
            Tessera__Envelope *env = ts_wire_recv_from(self->router, true, rid, &rid_len, peer_ip, sizeof peer_ip,
                                                       &again);
            if (!env) {
                if (again)
                    break;
                ts_warn("dropped a message: %s", ts_error());
                continue;
            }
            on_message(self, rid, rid_len, peer_ip, env);
            ts_wire_free(&env);
        }
        bool kicked = false;
        if (items[1].revents & ZMQ_POLLIN) {
            uint64_t v;
            kicked = read(self->kick_fd, &v, sizeof v) > 0;
        }
        if (items[2].revents & ZMQ_POLLIN)
            drain_monitor(self);
        double now = mono();
        kick_pending = kick_pending || kicked;
        if ((kick_pending && now - last_tick >= KICK_GAP_MS / 1000.0) || now - last_tick >= TICK_MS / 1000.0) {
            tick(self);
            last_tick = now;
            kick_pending = false;
        }
        if (batch && ts_store_batch_end(self->store) < 0)
            ts_err("store: %s", ts_error());
    }
    ts_info("master stopping");
    return 0;
}
