/* ts_slave: the slave's reactor: CURVE DEALER to the master, Hello/heartbeats, tasks in, results out.
   DESIGN: the DEALER's routing id is the node id, so the master recognises a slave across reconnects.
   Results are kept until ZeroMQ accepts them (ZMQ_IMMEDIATE: never queued on a dead connection); if one
   is lost with a dying master, the slave's next Hello no longer lists the task and the master re-queues it. */
#include "escrow/escrow.h"
#include "escrow/ts_payout.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_version.h"
#include "lib/ts_wire.h"
#include "slave/ts_blender_info.h"
#include "lib/ts_kind.h"
#include "slave/ts_encoder.h"
#include "slave/ts_gpu.h"
#include "slave/ts_sandbox.h"
#include "slave/ts_slave.h"
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>
#include "slave/ts_ctl.h"
#include "slave/ts_guest.h"

#define RESULTS_ENDPOINT "inproc://slave-results"
#define MONITOR_ENDPOINT "inproc://slave-monitor"
#define DEFAULT_HEARTBEAT_MS 1000
#define HOLD_MAX 64
#define INFO_TIMEOUT_S 120.0
#define PENDING_MAX 64
#define CPUINFO_PATH "/proc/cpuinfo"
#define CPUINFO_FLAGS_KEY "flags"
#define CPUINFO_MODEL_KEY "model name"
#define GUEST_POLL_MS 50     /* how often the owner's rules are asked while any is set: preemption latency */
#define DAY_S 86400
#define RECONNECT_IVL_MIN_MS 100    /* a lost master is tried again after 100..1,100 ms (random per slave), */
#define RECONNECT_IVL_SPREAD_MS 1000
#define RECONNECT_IVL_MAX_MS 30000  /* doubling up to 30 s between tries */
#define HELLO_WAIT_MAX_S 30.0      /* the longest wait between Hellos a master has not answered */
#define HANDSHAKE_IVL_MS 3000 /* a master that cannot read our CURVE hello never answers: give up on it sooner */

typedef struct {
    const ts_slave_options_t *opts;
    ts_identity_t *identity;
    void *dealer, *results, *monitor;
    ts_executor_t *exec;
    ts_swarm_t *swarm;
    char blender_version[32];
    char payout[TS_ETH_ADDRESS_HEX];            /* "" without --payout-key */
    uint8_t payout_sig[TS_PAYOUT_SIG_BYTES];
    char cpu_model[128];
    char **devices;
    size_t ndevices;
    ts_gpu_t gpus[TS_GPU_MAX]; /* the Vulkan devices, the lent ones enabled */
    int ngpus;
    bool gpus_named;           /* the owner named them (--gpus LIST): one without a Cycles device is an error */
    const char *sandbox;       /* "bwrap" or "none" */
    long heartbeat_ms;
    bool welcomed;
    int handshake_failures;
    double first_failure; /* when the first refused handshake happened (0: none since the last success) */
    bool handshake_ok;
    zmq_msg_t pending[PENDING_MAX]; /* packed result envelopes not yet accepted by ZeroMQ */
    int npending;
    /* the PC's owner */
    ts_guest_t *guest;
    ts_ctl_t *ctl;
    char paused[96];          /* why the farm may not use the PC now ("" when it works) */
    double paused_since;      /* mono() when the pause began */
    long day;                 /* local day the counters below are for */
    long results_today;       /* results sent (done or failed) */
    int64_t earned_today, earned_total; /* what the master last said the node was paid (token units); -1: not yet */
    long preemptions_today;
    double paused_today_s;    /* seconds paused today, the current pause up to its last check */
} slave_t;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The payout address and the signed claim on it that Hello carries; the key is only held while signing. */
static int claim_payout(slave_t *s)
{
    ts_ethkey_t *key = ts_ethkey_load(s->opts->payout_key);
    if (!key)
        return -1;
    uint8_t address[TS_ETH_ADDRESS_BYTES];
    ts_ethkey_address(key, address);
    int rc = ts_payout_sign(key, ts_identity_id(s->identity), s->payout_sig);
    ts_ethkey_destroy(&key);
    if (rc == 0)
        ts_eth_address_format(address, s->payout);
    return rc;
}

static void send_hello(slave_t *s)
{
    uint64_t holding[HOLD_MAX];
    Tessera__Hello h = TESSERA__HELLO__INIT;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    h.name = (char *)(s->opts->name ? s->opts->name : host);
    h.identity_key.data = (uint8_t *)ts_identity_public(s->identity);
    h.identity_key.len = TS_IDENTITY_PUBLIC_BYTES;
    h.version = TS_VERSION;
    h.blender_version = s->blender_version;
    h.devices = s->devices;
    h.n_devices = s->ndevices;
    h.cpu_model = s->cpu_model;
    h.payout = s->payout;
    h.payout_sig.data = s->payout_sig;
    h.payout_sig.len = s->payout[0] ? sizeof s->payout_sig : 0;
    h.cores = (uint32_t)sysconf(_SC_NPROCESSORS_ONLN);
    h.torrent_port = s->swarm ? (uint32_t)ts_swarm_port(s->swarm) : 0;
    struct sysinfo si;
    if (sysinfo(&si) == 0)
        h.memory = (uint64_t)si.totalram * si.mem_unit;
    h.slots = (uint32_t)s->opts->slots;
    h.max_memory = (uint64_t)s->opts->max_memory_mb << 20;
    h.paused = s->paused;
    h.sandbox = (char *)s->sandbox;
    Tessera__Gpu gpus[TS_GPU_MAX], *gpu_ptrs[TS_GPU_MAX];
    for (int i = 0; i < s->ngpus; i++) {
        const ts_gpu_t *g = &s->gpus[i];
        tessera__gpu__init(&gpus[i]);
        gpus[i].index = (uint32_t)g->index;
        gpus[i].name = (char *)g->name;
        gpus[i].vendor = (char *)g->vendor;
        gpus[i].type = (char *)g->type;
        gpus[i].driver = (char *)g->driver;
        gpus[i].driver_version = (char *)g->driver_version;
        gpus[i].memory_mb = (uint64_t)g->memory_mb;
        gpus[i].free_mb = (uint64_t)g->free_mb;
        gpus[i].uuid = (char *)g->uuid;
        gpus[i].pci = (char *)g->pci;
        gpus[i].enabled = g->enabled;
        gpus[i].cycles_id = (char *)g->cycles_id;
        gpu_ptrs[i] = &gpus[i];
    }
    h.gpus = gpu_ptrs;
    h.n_gpus = (size_t)s->ngpus;
    char tagbuf[512], *tags[32];
    size_t ntags = 0;
    snprintf(tagbuf, sizeof tagbuf, "%s", s->opts->tags ? s->opts->tags : "");
    for (char *save = NULL, *t = strtok_r(tagbuf, ",", &save); t && ntags < 32; t = strtok_r(NULL, ",", &save))
        tags[ntags++] = t;
    h.tags = tags;
    h.n_tags = ntags;
    h.holding = holding;
    h.n_holding = (size_t)ts_executor_holding(s->exec, holding, HOLD_MAX);
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    if (ts_wire_send(s->dealer, NULL, 0, &env, false) < 0 && errno != EAGAIN)
        ts_warn("hello: %s", ts_error());
}

static void send_heartbeat(slave_t *s)
{
    uint64_t holding[HOLD_MAX];
    Tessera__Heartbeat hb = TESSERA__HEARTBEAT__INIT;
    hb.holding = holding;
    hb.n_holding = (size_t)ts_executor_holding(s->exec, holding, HOLD_MAX);
    hb.free_slots = (uint32_t)(s->opts->slots > (long)hb.n_holding ? s->opts->slots - (long)hb.n_holding : 0);
    if (s->paused[0])
        hb.free_slots = 0;
    hb.paused = s->paused;
    time_t t = time(NULL);
    struct tm midnight;
    localtime_r(&t, &midnight);
    midnight.tm_hour = midnight.tm_min = midnight.tm_sec = 0;
    midnight.tm_isdst = -1;
    hb.day_start = (double)mktime(&midnight); /* the master counts "today" for ctl status from here */
    char seeding[SEEDING_REPORT_MAX][TS_HASH_HEX];
    char *seeding_p[SEEDING_REPORT_MAX];
    if (s->swarm) {
        hb.n_seeding = ts_swarm_seeding(s->swarm, seeding, seeding_p, SEEDING_REPORT_MAX);
        hb.seeding = seeding_p;
    }
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    ts_wire_send(s->dealer, NULL, 0, &env, false); /* dropped while disconnected: the next one will do */
}

/* Tells the master the node stopped for its owner and which tasks it gives back. */
static void send_pause(slave_t *s, uint64_t *given, int n)
{
    Tessera__Pause p = TESSERA__PAUSE__INIT;
    p.reason = s->paused;
    p.given_back = given;
    p.n_given_back = (size_t)n;
    Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
    env.body_case = TESSERA__ENVELOPE__BODY_PAUSE;
    env.pause = &p;
    if (ts_wire_send(s->dealer, NULL, 0, &env, false) < 0) /* lost while disconnected: heartbeats and the next */
        ts_warn("pause: %s", ts_error());                   /* Hello carry the pause, and the master requeues */
}

static long local_day(void)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    return (long)(tm.tm_year * 400 + tm.tm_yday);
}

/* The counters `ctl status` shows start again each local day. */
static void roll_day(slave_t *s, double now)
{
    long day = local_day();
    if (day != s->day) {
        s->day = day;
        s->results_today = s->preemptions_today = 0;
        s->paused_today_s = 0;
        if (s->paused[0])
            s->paused_since = now;
    }
}

/* Asks the owner's rules; on a change, stops work at once and tells the master (given back: what it held), or
   takes work again. */
static void check_guest(slave_t *s)
{
    double now = mono();
    roll_day(s, now);
    const char *why = ts_guest_reason(s->guest);
    if (why[0] && !s->paused[0]) {
        uint64_t given[HOLD_MAX];
        int n = ts_executor_preempt(s->exec, given, HOLD_MAX);
        snprintf(s->paused, sizeof s->paused, "%s", why);
        s->paused_since = now;
        if (n > 0)
            s->preemptions_today++;
        if (s->welcomed)
            send_pause(s, given, n);
        ts_info("paused: %s; %d task(s) given back", why, n);
    } else if (!why[0] && s->paused[0]) {
        s->paused_today_s += now - s->paused_since;
        ts_info("working again (paused %.1f s: %s)", now - s->paused_since, s->paused);
        s->paused[0] = '\0';
        if (s->welcomed)
            send_heartbeat(s); /* free slots again: the master assigns at once */
    } else if (why[0] && strcmp(why, s->paused) != 0) {
        snprintf(s->paused, sizeof s->paused, "%s", why);
        if (s->welcomed)
            send_heartbeat(s);
    }
}

/* `tessera-slave ctl pause|resume|status`, from the PC itself. */
static json_t *on_ctl(void *arg, const char *command)
{
    slave_t *s = arg;
    if (strcmp(command, "pause") == 0 || strcmp(command, "resume") == 0) {
        ts_guest_owner_pause(s->guest, command[0] == 'p');
        check_guest(s);
        ts_info("the owner asked: %s", command);
    } else if (strcmp(command, "status") != 0) {
        return NULL;
    }
    double now = mono();
    roll_day(s, now);
    uint64_t running = ts_executor_running(s->exec);
    json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:I,s:I,s:f,s:s}", "state", s->paused[0] ? "paused" : "working", "reason",
                          s->paused, "node", ts_identity_id(s->identity), "connected", s->welcomed, "tasks_today",
                          (json_int_t)s->results_today, "preemptions_today", (json_int_t)s->preemptions_today,
                          "paused_today_s", s->paused_today_s + (s->paused[0] ? now - s->paused_since : 0), "watching",
                          ts_guest_describe(s->guest));
    json_object_set_new(o, "task", running ? json_integer((json_int_t)running) : json_null());
    char today[32], total[32]; /* as the master last said (every few seconds while connected) */
    ts_amount_format(s->earned_today, today, sizeof today);
    ts_amount_format(s->earned_total, total, sizeof total);
    json_object_set_new(o, "tokens_today", s->earned_today >= 0 ? json_string(today) : json_null());
    json_object_set_new(o, "tokens_total", s->earned_total >= 0 ? json_string(total) : json_null());
    return o;
}

static void flush_pending(slave_t *s)
{
    while (s->npending > 0) {
        if (zmq_msg_send(&s->pending[0], s->dealer, ZMQ_DONTWAIT) < 0)
            return;
        memmove(s->pending, s->pending + 1, (size_t)(--s->npending) * sizeof s->pending[0]);
    }
}

/* The master seeds on the host we connect to (tcp://HOST:PORT), at the port its Welcome gives. */
static void set_master_peer(slave_t *s, uint32_t port)
{
    if (port == 0 || port > 65535) {
        ts_swarm_set_master(s->swarm, NULL);
        return;
    }
    const char *hp = strstr(s->opts->master, "://");
    hp = hp ? hp + 3 : s->opts->master;
    char host[256];
    const char *colon = strrchr(hp, ':');
    size_t n = colon ? (size_t)(colon - hp) : strlen(hp);
    if (n >= sizeof host)
        n = sizeof host - 1;
    memcpy(host, hp, n);
    host[n] = '\0';
    if (host[0] == '[' && n > 1 && host[n - 1] == ']') { /* [v6] */
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    char ip[INET6_ADDRSTRLEN] = "", peer[96];
    if (getaddrinfo(host, NULL, &hints, &res) == 0 && res) {
        if (res->ai_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, sizeof ip);
        else if (res->ai_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, ip, sizeof ip);
    }
    if (res)
        freeaddrinfo(res);
    if (!ip[0]) {
        ts_warn("the master's host '%s' does not resolve: its torrent peer is left out", host);
        return;
    }
    snprintf(peer, sizeof peer, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
    ts_swarm_set_master(s->swarm, peer);
}

static void on_master(slave_t *s, Tessera__Envelope *env)
{
    switch (env->body_case) {
    case TESSERA__ENVELOPE__BODY_EARNINGS:
        s->earned_today = env->earnings->today;
        s->earned_total = env->earnings->total;
        break;
    case TESSERA__ENVELOPE__BODY_WELCOME:
        if (!s->welcomed)
            ts_info("registered with the master (tessera %s)", env->welcome->master_version);
        s->welcomed = true;
        if (env->welcome->heartbeat_ms > 0)
            s->heartbeat_ms = env->welcome->heartbeat_ms;
        if (s->swarm)
            set_master_peer(s, env->welcome->torrent_port);
        break;
    case TESSERA__ENVELOPE__BODY_REREGISTER:
        ts_info("the master asks for a new hello (it restarted?)");
        send_hello(s);
        break;
    case TESSERA__ENVELOPE__BODY_ASSIGN: {
        Tessera__Assign *a = env->assign;
        if (s->paused[0]) { /* sent before the master heard of the pause: straight back */
            uint64_t id = a->task_id;
            send_pause(s, &id, 1);
            break;
        }
        ts_slave_task_t t = {.id = a->task_id, .job_id = a->job_id, .kind = (int)a->kind, .frame = a->frame,
                             .no_denoise = a->no_denoise};
        const ts_kind_t *kind = ts_kind_get(t.kind);
        bool no_input = kind && kind->no_input && !a->scene_hash[0]; /* a synthetic piece has none */
        if ((!no_input && !ts_hash_valid(a->scene_hash)) || (a->input_hash[0] && !ts_hash_valid(a->input_hash)) ||
            (a->manifest_hash[0] && !ts_hash_valid(a->manifest_hash))) {
            ts_warn("task %llu refused: malformed content hash", (unsigned long long)a->task_id);
            break;
        }
        snprintf(t.scene, sizeof t.scene, "%s", a->scene_hash);
        snprintf(t.blob_url, sizeof t.blob_url, "%s", a->blob_url);
        snprintf(t.device, sizeof t.device, "%s", a->device);
        snprintf(t.input, sizeof t.input, "%s", a->input_hash);
        snprintf(t.format, sizeof t.format, "%s", a->format);
        snprintf(t.params, sizeof t.params, "%s", a->params);
        snprintf(t.manifest, sizeof t.manifest, "%s", a->manifest_hash);
        snprintf(t.torrents_url, sizeof t.torrents_url, "%s", a->torrents_url);
        t.start_pts = a->start_pts;
        t.end_pts = a->end_pts;
        if (a->scene_info_hash[0] && strlen(a->scene_info_hash) == TS_TORRENT_HASH_HEX &&
            strspn(a->scene_info_hash, "0123456789abcdef") == TS_TORRENT_HASH_HEX) {
            snprintf(t.info_hash, sizeof t.info_hash, "%s", a->scene_info_hash);
            snprintf(t.torrent_url, sizeof t.torrent_url, "%s", a->torrent_url);
            t.from_master = a->from_master;
            for (size_t i = 0; i < a->n_peers && t.npeers < TS_TASK_PEERS; i++)
                snprintf(t.peers[t.npeers++], sizeof t.peers[0], "%s", a->peers[i]);
        } else if (a->scene_info_hash[0]) {
            ts_warn("task %llu: malformed info-hash ignored; the scene comes over HTTP",
                    (unsigned long long)a->task_id);
        }
        if (a->render) {
            t.x0 = a->render->x0;
            t.y0 = a->render->y0;
            t.x1 = a->render->x1;
            t.y1 = a->render->y1;
        }
        ts_executor_push(s->exec, &t);
        break;
    }
    case TESSERA__ENVELOPE__BODY_CANCEL:
        for (size_t i = 0; i < env->cancel->n_task_ids; i++)
            ts_executor_cancel(s->exec, env->cancel->task_ids[i]);
        break;
    default:
        ts_warn("unexpected message from the master (%d)", (int)env->body_case);
    }
}

/* Handshake bookkeeping: a refused CURVE handshake starts the give-up clock, a successful one stops it. */
static void on_monitor(slave_t *s)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    if (zmq_msg_recv(&ev, s->monitor, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&ev);
        return;
    }
    uint16_t event = 0;
    memcpy(&event, zmq_msg_data(&ev), sizeof event);
    zmq_msg_close(&ev);
    zmq_msg_init(&addr);
    zmq_msg_recv(&addr, s->monitor, 0);
    zmq_msg_close(&addr);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        s->handshake_ok = true;
        s->handshake_failures = 0;
        s->first_failure = 0;
        return;
    }
    if (event == ZMQ_EVENT_DISCONNECTED)
        s->handshake_ok = false; /* the next connection must prove itself again */
    if (!(event & (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)))
        return;
    s->handshake_failures++;
    if (s->first_failure > 0)
        return; /* said once; libzmq retries every 100 ms */
    s->first_failure = mono();
    ts_warn("the master at %s refused the CURVE handshake (event %u; is --master-cert %s its certificate?)",
            s->opts->master, (unsigned)event, s->opts->master_cert);
}

/* The instruction set Cycles' CPU kernels would use on a CPU with these /proc/cpuinfo flags (Cycles 3.4 picks the
   best of AVX2, AVX, SSE4.1, SSE3, SSE2): two CPUs that differ here render different pixels (docs/blender-notes.md
   section 6), so it is part of the device class. NULL when none is named. */
static const char *cycles_kernel(const char *flags)
{
    static const char *const ISA[][2] = {{"avx2", "avx2"}, {"avx", "avx"}, {"sse4_1", "sse41"}, {"pni", "sse3"},
                                          {"sse2", "sse2"}};
    for (size_t i = 0; i < sizeof ISA / sizeof ISA[0]; i++) {
        size_t n = strlen(ISA[i][0]);
        for (const char *p = flags; (p = strstr(p, ISA[i][0])) != NULL; p += n)
            if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
                return ISA[i][1];
    }
    return NULL;
}

/* The first "model name" of /proc/cpuinfo, trimmed, with the CPU kernel Cycles would use ("... [avx2]");
   "" when there is no model (e.g. many ARM kernels) or no file. */
static void read_cpu_model(char *model, size_t cap)
{
    model[0] = '\0';
    FILE *f = fopen(CPUINFO_PATH, "r");
    if (!f)
        return;
    char *line = NULL;
    size_t len = 0;
    const char *kernel = NULL;
    while (getline(&line, &len, f) >= 0) {
        if (!kernel && strncmp(line, CPUINFO_FLAGS_KEY, strlen(CPUINFO_FLAGS_KEY)) == 0 && strchr(line, ':')) {
            kernel = cycles_kernel(strchr(line, ':') + 1);
            if (model[0])
                break;
            continue;
        }
        if (model[0])
            continue;
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *end = colon;
        while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - line) != strlen(CPUINFO_MODEL_KEY) || strncmp(line, CPUINFO_MODEL_KEY, (size_t)(end - line)))
            continue;
        char *v = colon + 1;
        v += strspn(v, " \t");
        size_t n = strlen(v);
        while (n > 0 && strchr(" \t\r\n", v[n - 1]))
            n--;
        snprintf(model, cap, "%.*s", (int)n, v);
        if (kernel)
            break;
    }
    free(line);
    fclose(f);
    size_t used = strlen(model);
    if (model[0] && kernel && used < cap)
        snprintf(model + used, cap - used, " [%s]", kernel);
}

/* The GPUs the owner lends, matched to Cycles' devices (cycles: the worker's list); the node's device classes are
   then the CPU and that compute type. A GPU Cycles has but the Vulkan loader does not list is not lent (said). */
static int lend_gpus(slave_t *s, ts_blender_t *blender, const json_t *cycles)
{
    char type[16], ids[TS_GPU_MAX * 161] = "";
    json_t *none = json_array();
    int rc = ts_gpu_match_cycles(s->gpus, s->ngpus, cycles ? cycles : none, s->gpus_named, type, sizeof type);
    json_decref(none);
    if (rc < 0)
        return -1;
    size_t lent = 0;
    for (int i = 0; i < s->ngpus; i++)
        if (s->gpus[i].enabled) {
            snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", lent ? "," : "", s->gpus[i].cycles_id);
            lent++;
            ts_info("lending GPU %d: %s (%s, %lld MB, uuid %s) as Cycles %s", s->gpus[i].index, s->gpus[i].name,
                    s->gpus[i].type, (long long)s->gpus[i].memory_mb, s->gpus[i].uuid, s->gpus[i].cycles_id);
        }
    if (!lent && json_array_size(cycles) > 0)
        ts_warn("Cycles sees %zu GPU device(s) that no lent Vulkan device matches (see --list-devices and --gpus): "
                "rendering on the CPU", json_array_size(cycles));
    ts_blender_set_gpus(blender, ids);
    s->ndevices = lent ? 2 : 1;
    s->devices = calloc(s->ndevices + 1, sizeof *s->devices);
    if (!s->devices)
        return ts_error_set("out of memory");
    s->devices[0] = strdup("CPU");
    if (lent)
        s->devices[1] = strdup(type);
    return 0;
}

/* Blender's version and devices: from <work>/blender-info.json when it was written for this Blender and worker
   script, else from Blender itself (started here; the caller stops it again), then cached for the next start. */
static int probe_blender(slave_t *s, ts_blender_t *blender, volatile sig_atomic_t *stop)
{
    char cache[PATH_MAX];
    snprintf(cache, sizeof cache, "%s/%s", s->opts->work, TS_BLENDER_INFO_FILE);
    json_t *key = ts_blender_info_key(s->opts->blender, s->opts->worker_script); /* NULL: nothing is cached */
    if (!key)
        ts_debug("not caching Blender's info: %s", ts_error());
    json_t *reply = key ? ts_blender_info_load(cache, key) : NULL;
    bool cached = reply != NULL;
    if (!reply) {
        if (key)
            ts_debug("probing Blender: %s", ts_error());
        json_t *req = json_pack("{s:s}", "op", "info");
        reply = ts_blender_call(blender, req, INFO_TIMEOUT_S, stop);
        json_decref(req);
        if (!reply) {
            json_decref(key);
            if (s->opts->max_memory_mb > 0) /* its own error names the log; the cap may be why */
                return ts_error_prefix("--blender %s under --max-memory-mb %ld (Blender alone needs about 200)",
                                       s->opts->blender, s->opts->max_memory_mb);
            return ts_error_prefix("--blender %s", s->opts->blender);
        }
    }
    const char *v = json_string_value(json_object_get(reply, "blender"));
    snprintf(s->blender_version, sizeof s->blender_version, "%s", v ? v : "");
    if (lend_gpus(s, blender, json_object_get(reply, "cycles_devices")) < 0) {
        json_decref(reply);
        json_decref(key);
        return -1;
    }
    if (v && !cached && key && ts_blender_info_save(cache, key, reply) < 0)
        ts_warn("not caching Blender's info: %s", ts_error());
    json_decref(reply);
    json_decref(key);
    if (!v)
        return ts_error_set("--blender %s: the worker did not report a Blender version", s->opts->blender);
    ts_info("blender %s, devices: %zu, cpu: %s%s", s->blender_version, s->ndevices,
            s->cpu_model[0] ? s->cpu_model : "?", cached ? " (cached: Blender not started)" : "");
    return 0;
}

/* The GPUs the owner lends and the box renderers and encoders run in (none with --no-sandbox, said loudly); exe
   gets the Blender executable to run (resolved for the box), self_exe this program (its encoder runs from it). */
static int start_box(slave_t *s, ts_sandbox_t **sandbox, char *exe, char *self_exe)
{
    const ts_slave_options_t *o = s->opts;
    char inputs[PATH_MAX], out[PATH_MAX];
    snprintf(inputs, sizeof inputs, "%s/" TS_SLAVE_INPUTS_DIR, o->work);
    snprintf(out, sizeof out, "%s/" TS_SLAVE_OUT_DIR, o->work);
    if ((mkdir(inputs, 0755) < 0 && errno != EEXIST) || (mkdir(out, 0755) < 0 && errno != EEXIST))
        return ts_error_set("--work %s: %s", o->work, strerror(errno));
    s->ngpus = ts_gpu_list(s->gpus, TS_GPU_MAX);
    if (ts_gpu_choose(s->gpus, s->ngpus, o->gpus, &s->gpus_named) < 0)
        return -1;
    snprintf(exe, PATH_MAX, "%s", o->blender);
    ssize_t len = readlink("/proc/self/exe", self_exe, PATH_MAX - 1);
    if (len <= 0)
        return ts_error_set("cannot find this program's own file (/proc/self/exe): %s", strerror(errno));
    self_exe[len] = '\0';
    s->sandbox = "none";
    if (o->no_sandbox) {
        ts_warn("--no-sandbox: renderers and encoders run unconfined, with this user's rights: a hostile scene can "
                "read this node's key and reach the network (unsafe; the farm is shown this)");
        return 0;
    }
    if (ts_blender_info_resolve(o->blender, exe) < 0)
        return ts_error_prefix("--blender");
    const char *devices[TS_SANDBOX_DEVICES_MAX + 1] = {0};
    char dev_paths[TS_SANDBOX_DEVICES_MAX][64];
    int ndev = ts_gpu_device_nodes(s->gpus, s->ngpus, dev_paths, TS_SANDBOX_DEVICES_MAX);
    for (int i = 0; i < ndev; i++)
        devices[i] = dev_paths[i];
    char cuda[TS_GPU_MAX * 48];
    ts_gpu_cuda_visible(s->gpus, s->ngpus, cuda, sizeof cuda);
    ts_sandbox_options_t so = {.bwrap = o->bwrap, .work = o->work, .inputs = inputs, .out = out, .exe = exe,
                               .script = o->worker_script, .helper = self_exe, .env = {cuda[0] ? cuda : NULL}};
    memcpy(so.devices, devices, sizeof so.devices);
    if (!(*sandbox = ts_sandbox_new(&so)) || ts_sandbox_check(*sandbox) < 0)
        return -1;
    s->sandbox = ts_sandbox_kind(*sandbox);
    ts_info("renderers and encoders run sandboxed (bwrap: no network, only the task's inputs and the output folder)");
    return 0;
}

int ts_slave_run(const ts_slave_options_t *o, volatile sig_atomic_t *stop)
{
    slave_t s = {.opts = o, .heartbeat_ms = DEFAULT_HEARTBEAT_MS, .earned_today = -1, .earned_total = -1};
    char path[PATH_MAX], master_key[TS_IDENTITY_Z85_LEN + 1];
    /* the owner's rules first: a malformed one, or no idle source, is a usage error (exit 2) */
    ts_guest_options_t go = {.idle_after = o->idle_after, .idle_source = o->idle_source, .display = o->display,
                             .busy_file = o->busy_file, .pause_while = o->pause_while, .hours = o->hours};
    if (!(s.guest = ts_guest_new(&go))) {
        ts_err("%s", ts_error());
        return 2;
    }
    int rc = 1;
    if (mkdir(o->work, 0700) != 0 && errno != EEXIST) {
        ts_err("--work %s: %s", o->work, strerror(errno));
        ts_guest_destroy(&s.guest);
        return 1;
    }
    if (ts_identity_read_cert(o->master_cert, master_key) < 0) {
        ts_err("--master-cert: %s", ts_error());
        ts_guest_destroy(&s.guest);
        return 1;
    }
    snprintf(path, sizeof path, "%s/identity.key", o->work);
    if (!(s.identity = ts_identity_load_or_create(path))) {
        ts_err("%s", ts_error());
        ts_guest_destroy(&s.guest);
        return 1;
    }
    if (o->payout_key && claim_payout(&s) < 0) {
        ts_err("--payout-key %s", ts_error());
        ts_identity_destroy(&s.identity);
        ts_guest_destroy(&s.guest);
        return 1;
    }
    snprintf(path, sizeof path, "%s/cache", o->work);
    ts_blobs_t *cache = ts_blobs_new(path);
    ts_sandbox_t *sandbox = NULL;
    ts_blender_t *blender = NULL, *encoder = NULL;
    void *ctx = zmq_ctx_new();
    char exe[PATH_MAX], self_exe[PATH_MAX];
    if (!cache || start_box(&s, &sandbox, exe, self_exe) < 0) {
        ts_err("%s", ts_error());
        rc = 2;
        goto out;
    }
    snprintf(path, sizeof path, "%s/encoder.log", o->work);
    char *const encoder_argv[] = {self_exe, TS_ENCODER_COMMAND, NULL};
    encoder = ts_blender_new_program("encoder", encoder_argv, path, (int64_t)o->max_memory_mb << 20, sandbox);
    snprintf(path, sizeof path, "%s/blender.log", o->work);
    long threads = o->max_threads > 0 && (o->threads == 0 || o->threads > o->max_threads) ? o->max_threads : o->threads;
    blender = ts_blender_new(exe, o->worker_script, path, (int)threads, (int64_t)o->max_memory_mb << 20, sandbox);
    if (!blender || !encoder) {
        ts_err("%s", ts_error());
        goto out;
    }
    read_cpu_model(s.cpu_model, sizeof s.cpu_model);
    if (probe_blender(&s, blender, stop) < 0) {
        ts_err("%s", ts_error());
        goto out;
    }
    /* Blender waits until a task needs it: an idle slave, or one that only transcodes, holds no renderer */
    if (ts_blender_running(blender))
        ts_blender_kill(blender);
    s.results = zmq_socket(ctx, ZMQ_PAIR);
    zmq_bind(s.results, RESULTS_ENDPOINT);
    if (!o->no_torrent) {
        snprintf(path, sizeof path, "%s/torrents", o->work);
        ts_swarm_options_t so = {.listen = o->torrent_listen, .lsd = !o->no_lsd,
                                 .web_seed_after_s = o->web_seed_after_s, .dir = path};
        if (!(s.swarm = ts_swarm_new(&so, cache))) {
            ts_err("--torrent-listen %s: %s", o->torrent_listen, ts_error());
            rc = 1;
            goto out;
        }
    }
    s.exec = ts_executor_new(ctx, RESULTS_ENDPOINT, o, s.identity, cache, blender, encoder, s.swarm);
    s.dealer = zmq_socket(ctx, ZMQ_DEALER);
    char pub[TS_IDENTITY_Z85_LEN + 1], sec[TS_IDENTITY_Z85_LEN + 1];
    ts_identity_curve_public(s.identity, pub);
    ts_identity_curve_secret(s.identity, sec);
    int one = 1, zero = 0;
    zmq_setsockopt(s.dealer, ZMQ_CURVE_SERVERKEY, master_key, TS_IDENTITY_Z85_LEN);
    zmq_setsockopt(s.dealer, ZMQ_CURVE_PUBLICKEY, pub, TS_IDENTITY_Z85_LEN);
    zmq_setsockopt(s.dealer, ZMQ_CURVE_SECRETKEY, sec, TS_IDENTITY_Z85_LEN);
    memset(sec, 0, sizeof sec);
    const char *id = ts_identity_id(s.identity);
    zmq_setsockopt(s.dealer, ZMQ_ROUTING_ID, id, strlen(id));
    zmq_setsockopt(s.dealer, ZMQ_IMMEDIATE, &one, sizeof one);
    /* After a master restart thousands of slaves reconnect: each waits its own random first interval, doubling up
       to a cap, so they come back spread out, not as one stampede */
    int reconnect_ivl = RECONNECT_IVL_MIN_MS + (int)randombytes_uniform(RECONNECT_IVL_SPREAD_MS),
        reconnect_max = RECONNECT_IVL_MAX_MS;
    zmq_setsockopt(s.dealer, ZMQ_RECONNECT_IVL, &reconnect_ivl, sizeof reconnect_ivl);
    zmq_setsockopt(s.dealer, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max);
    int handshake_ivl = HANDSHAKE_IVL_MS;
    zmq_setsockopt(s.dealer, ZMQ_HANDSHAKE_IVL, &handshake_ivl, sizeof handshake_ivl);
    zmq_setsockopt(s.dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_socket_monitor(s.dealer, MONITOR_ENDPOINT,
                       ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_DISCONNECTED);
    s.monitor = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(s.monitor, MONITOR_ENDPOINT);
    if (zmq_connect(s.dealer, o->master) != 0) {
        ts_err("--master %s: %s", o->master, zmq_strerror(errno));
        goto out;
    }
    ts_info("node %.16s... connecting to %s", id, o->master);
    ts_info("works: %s", ts_guest_describe(s.guest));
    char ctl_path[PATH_MAX];
    if (o->ctl)
        snprintf(ctl_path, sizeof ctl_path, "%s", o->ctl);
    else
        snprintf(ctl_path, sizeof ctl_path, "%s/ctl.sock", o->work);
    if (!(s.ctl = ts_ctl_listen(ctl_path, on_ctl, &s)))
        ts_warn("no control socket: %s", ts_error());
    s.day = local_day();
    check_guest(&s); /* a PC in use when the slave starts says so in its Hello */
    double last_beat = 0, last_hello = 0, hello_wait = (double)s.heartbeat_ms / 1000.0;
    rc = 0;
    while (!*stop) {
        zmq_pollitem_t items[] = {
            {s.dealer, 0, ZMQ_POLLIN, 0},
            {s.results, 0, ZMQ_POLLIN, 0},
            {s.monitor, 0, ZMQ_POLLIN, 0},
            {NULL, s.ctl ? ts_ctl_fd(s.ctl) : -1, ZMQ_POLLIN, 0},
        };
        long wait_ms = (long)s.heartbeat_ms / 4;
        if (ts_guest_active(s.guest) && wait_ms > GUEST_POLL_MS)
            wait_ms = GUEST_POLL_MS;
        if (zmq_poll(items, s.ctl ? 4 : 3, wait_ms) < 0 && errno != EINTR)
            break;
        if (ts_guest_active(s.guest))
            check_guest(&s);
        if (s.ctl && (items[3].revents & ZMQ_POLLIN))
            ts_ctl_serve(s.ctl);
        if (items[0].revents & ZMQ_POLLIN) {
            bool again;
            Tessera__Envelope *env;
            while ((env = ts_wire_recv(s.dealer, true, NULL, NULL, &again)) != NULL) {
                on_master(&s, env);
                ts_wire_free(&env);
            }
            if (!again)
                ts_warn("dropped a message from the master: %s", ts_error());
        }
        if (items[1].revents & ZMQ_POLLIN) {
            while (s.npending < PENDING_MAX) {
                zmq_msg_init(&s.pending[s.npending]);
                if (zmq_msg_recv(&s.pending[s.npending], s.results, ZMQ_DONTWAIT) < 0) {
                    zmq_msg_close(&s.pending[s.npending]);
                    break;
                }
                s.npending++;
                s.results_today++;
            }
        }
        if (items[2].revents & ZMQ_POLLIN)
            on_monitor(&s);
        flush_pending(&s);
        double now = mono();
        if (s.first_failure > 0 && !s.handshake_ok && now - s.first_failure > (double)o->handshake_timeout_s) {
            /* libzmq does not retry a CURVE handshake the master could not read: it never will */
            ts_err("giving up: the master at %s refused our CURVE handshake for %ld s; check --master-cert %s",
                   o->master, o->handshake_timeout_s, o->master_cert);
            rc = 1;
            break;
        }
        if (s.welcomed)
            hello_wait = (double)s.heartbeat_ms / 1000.0;
        else if (now - last_hello > hello_wait) {
            /* unanswered: the next Hello waits twice as long (up to HELLO_WAIT_MAX_S, +-25% at random), so thousands
               of slaves knocking at a busy master do not make it register each of them again and again */
            send_hello(&s);
            last_hello = now;
            hello_wait = hello_wait * 2 > HELLO_WAIT_MAX_S ? HELLO_WAIT_MAX_S : hello_wait * 2;
            hello_wait *= 0.75 + 0.5 * (double)randombytes_uniform(1000) / 1000.0;
        }
        if (s.welcomed && now - last_beat > (double)s.heartbeat_ms / 1000.0) {
            send_heartbeat(&s);
            last_beat = now;
        }
    }
    ts_info("slave stopping");
out:
    ts_ctl_destroy(&s.ctl);
    ts_executor_destroy(&s.exec);  /* joins the thread; Blender is killed below */
    ts_swarm_destroy(&s.swarm);
    ts_blender_destroy(&blender);
    ts_blender_destroy(&encoder);
    ts_sandbox_destroy(&sandbox);
    for (int i = 0; i < s.npending; i++)
        zmq_msg_close(&s.pending[i]);
    if (s.monitor)
        zmq_close(s.monitor);
    if (s.dealer)
        zmq_close(s.dealer);
    if (s.results)
        zmq_close(s.results);
    zmq_ctx_term(ctx);
    for (size_t i = 0; s.devices && i < s.ndevices; i++)
        free(s.devices[i]);
    free(s.devices);
    ts_blobs_destroy(&cache);
    ts_guest_destroy(&s.guest);
    ts_identity_destroy(&s.identity);
    return rc;
}
