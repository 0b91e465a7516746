/* tessera-slavesim: plays N slaves against a real tessera-master over the real protocol, for scheduler benchmarks. */
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_identity.h"
#include "lib/ts_log.h"
#include "lib/ts_opts.h"
#include "sim/ts_simslave.h"
#include "sim/ts_simstats.h"
#include "sim/ts_simthread.h"
#include "sim/ts_simwork.h"
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define FDS_PER_SLAVE 2     /* its TCP connection and its socket's mailbox */
#define FDS_SPARE 64        /* the context's own, epoll sets, the stats file, the log */
#define SOCKETS_SPARE 16    /* ZMQ_MAX_SOCKETS beyond one a slave (the context's internal ones) */
#define IO_THREADS 2        /* ZeroMQ's I/O threads: CURVE and TCP for every slave */
#define MAPS_PER_KEY 4      /* memory mappings one resident identity costs (libsodium's guarded allocation) */
#define MAPS_SPARE 8192     /* mappings left for everything else */
#define MAX_MAP_COUNT_PATH "/proc/sys/vm/max_map_count"
#define PROGRESS_EVERY_S 10.0

/* RLIMIT_NOFILE's soft limit raised to its hard limit; -1 (said) when even that is too low for slaves. */
static int raise_fd_limit(long slaves, int threads)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)slaves * FDS_PER_SLAVE + FDS_SPARE + 2 * (rlim_t)threads;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        ts_err("getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        long fit = rl.rlim_cur > FDS_SPARE + 2 * (rlim_t)threads
                       ? (long)((rl.rlim_cur - FDS_SPARE - 2 * (rlim_t)threads) / FDS_PER_SLAVE)
                       : 0;
        ts_err("--slaves %ld needs about %llu file descriptors (%d a slave), but the limit RLIMIT_NOFILE is %llu (its "
               "hard limit): raise it (ulimit -Hn, or LimitNOFILE= for a service) or simulate at most %ld slaves",
               slaves, (unsigned long long)need, FDS_PER_SLAVE, (unsigned long long)rl.rlim_cur, fit);
        return -1;
    }
    return 0;
}

/* Whether every slave's identity fits in memory under vm.max_map_count (else each is read again to sign). */
static bool keys_fit(long slaves)
{
    long max = 65530; /* Linux's default */
    FILE *f = fopen(MAX_MAP_COUNT_PATH, "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 65530;
        fclose(f);
    }
    return slaves * MAPS_PER_KEY + MAPS_SPARE <= max;
}

/* The context: IO_THREADS I/O threads and room for every slave's socket. NULL (said) when ZeroMQ cannot hold them. */
static void *make_context(long slaves)
{
    void *ctx = zmq_ctx_new();
    if (!ctx) {
        ts_err("zmq_ctx_new: %s", zmq_strerror(errno));
        return NULL;
    }
    int limit = zmq_ctx_get(ctx, ZMQ_SOCKET_LIMIT);
    if (slaves + SOCKETS_SPARE > limit || zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS, (int)slaves + SOCKETS_SPARE) < 0 ||
        zmq_ctx_set(ctx, ZMQ_IO_THREADS, IO_THREADS) < 0) {
        ts_err("--slaves %ld: this libzmq holds at most %d sockets in one context (ZMQ_SOCKET_LIMIT)", slaves,
               limit - SOCKETS_SPARE);
        zmq_ctx_term(ctx);
        return NULL;
    }
    return ctx;
}

/* The first slave of thread k of threads (k = threads: the end). */
static long split(long count, int threads, int k)
{
    return (long)((long long)k * count / threads);
}

/* Every slave's identity, loaded or made, each with its own time to connect within ramp_ms of the start; thread k
   gets the slaves split() gives it. NULL (said) on an error. */
static ts_simslave_t **make_slaves(const ts_simslave_conf_t *conf, long count, int threads, ts_simstats_t **stats,
                                   long ramp_ms)
{
    ts_simslave_t **slaves = calloc((size_t)count, sizeof *slaves);
    if (!slaves) {
        ts_err("out of memory");
        return NULL;
    }
    double t0 = ts_clock_mono(), said = t0;
    for (int k = 0; k < threads; k++)
        for (long i = split(count, threads, k); i < split(count, threads, k + 1); i++) {
            double after = (double)randombytes_uniform((uint32_t)ramp_ms + 1) / 1000.0;
            if (!(slaves[i] = ts_simslave_new(conf, (int)i, stats[k], after))) {
                ts_err("slave %ld: %s", i, ts_error());
                while (i-- > 0)
                    ts_simslave_destroy(&slaves[i]);
                free(slaves);
                return NULL;
            }
            if (ts_clock_mono() - said > PROGRESS_EVERY_S) {
                said = ts_clock_mono();
                ts_info("identities: %ld of %ld loaded or made", i + 1, count);
            }
        }
    ts_info("%ld identities ready in %.1f s (%s)", count, ts_clock_mono() - t0,
            conf->keys_resident ? "kept in memory" : "read again for each signature: vm.max_map_count is too low to "
                                                     "keep them all");
    return slaves;
}

/* Says once when every slave has been welcomed, and with progress, what the threads counted. */
static void log_progress(ts_simstats_t *const *stats, int threads, long slaves, double elapsed, bool progress,
                         bool *all_said)
{
    uint64_t welcomed = 0, assigns = 0, results = 0, last = 0;
    int64_t online = 0;
    for (int t = 0; t < threads; t++) {
        welcomed += atomic_load(&stats[t]->welcomed);
        online += atomic_load(&stats[t]->online);
        assigns += atomic_load(&stats[t]->assigns);
        results += atomic_load(&stats[t]->results);
        if (atomic_load(&stats[t]->last_first_welcome_us) > last)
            last = atomic_load(&stats[t]->last_first_welcome_us);
    }
    if (!*all_said && welcomed >= (uint64_t)slaves) {
        ts_info("all %ld slaves registered, %.2f s after the start", slaves, (double)last / 1e6);
        *all_said = true;
    }
    if (progress)
        ts_info("%.0f s: %llu of %ld registered, %lld online, %llu assigns, %llu results", elapsed,
                (unsigned long long)welcomed, slaves, (long long)online, (unsigned long long)assigns,
                (unsigned long long)results);
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* Runs until SIGINT/SIGTERM, duration_s (0: none) or a thread's error; the stats every second. 0, or 1 on an error. */
static int run(const ts_simslave_conf_t *conf, ts_simslave_t **slaves, long count, int threads, ts_simstats_t **stats,
               int stop_fd, const char *stats_path, double duration_s)
{
    ts_simthread_t **th = calloc((size_t)threads, sizeof *th);
    if (!th) {
        ts_err("out of memory");
        return 1;
    }
    int rc = 0, started = 0;
    for (; started < threads; started++) {
        long first = split(count, threads, started), end = split(count, threads, started + 1);
        if (!(th[started] = ts_simthread_start(slaves + first, (int)(end - first), stop_fd))) {
            ts_err("%s", ts_error());
            for (long i = first; i < count; i++)
                ts_simslave_destroy(&slaves[i]);
            rc = 1;
            break;
        }
    }
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    double next_progress = conf->t0 + PROGRESS_EVERY_S;
    bool all_said = false;
    while (rc == 0 && !readable(stop_fd)) {
        double now = ts_clock_mono(), wait = 1.0 - fmod(now - conf->t0, 1.0);
        if (duration_s > 0 && conf->t0 + duration_s - now < wait)
            wait = conf->t0 + duration_s - now;
        if (wait > 0) {
            struct timespec ts = {.tv_sec = (time_t)wait, .tv_nsec = (long)((wait - floor(wait)) * 1e9)};
            int sig = sigtimedwait(&sigs, NULL, &ts);
            if (sig > 0) {
                ts_info("stopping (%s)", strsignal(sig));
                break;
            }
        }
        now = ts_clock_mono();
        if (duration_s > 0 && now - conf->t0 >= duration_s) {
            ts_info("stopping: --duration %.0f s is over", duration_s);
            break;
        }
        if (stats_path && ts_simstats_write(stats_path, stats, threads, count, now - conf->t0) < 0)
            ts_warn("%s", ts_error());
        bool progress = now >= next_progress;
        if (progress)
            next_progress += PROGRESS_EVERY_S;
        log_progress(stats, threads, count, now - conf->t0, progress, &all_said);
    }
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof one) < 0)
        ts_err("cannot stop the threads: %s", strerror(errno));
    for (int t = 0; t < started; t++)
        if (ts_simthread_join(&th[t]) < 0) {
            ts_err("%s", ts_error());
            rc = 1;
        }
    free(th);
    log_progress(stats, threads, count, ts_clock_mono() - conf->t0, true, &all_said);
    if (stats_path && ts_simstats_write(stats_path, stats, threads, count, ts_clock_mono() - conf->t0) < 0) {
        ts_err("%s", ts_error());
        rc = 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *master = NULL, *master_cert = NULL, *work = NULL, *work_ms = NULL, *prefix = NULL, *stats_path = NULL,
               *log_level = NULL;
    long slaves = 0, threads = 0, ramp_ms = 0;
    double duration = 0;
    bool help = false;
    const ts_opt_t table[] = {
        {"master", TS_OPT_STRING, "tcp://127.0.0.1:5555", 0, -1, &master, "the master's ZeroMQ endpoint"},
        {"master-cert", TS_OPT_STRING, NULL, 0, -1, &master_cert, "the master's certificate file (master.cert in its state directory)"},
        {"slaves", TS_OPT_INT, NULL, 1, 100000, &slaves, "how many slaves to play"},
        {"work", TS_OPT_STRING, NULL, 0, -1, &work, "work directory: one identity a slave (DIR/sim-NNNNN/identity.key), kept for the next run"},
        {"work-ms", TS_OPT_STRING, "0", 0, -1, &work_ms, "how long a synthetic task takes: MS, or uniform:A-B (drawn per task)"},
        {"threads", TS_OPT_INT, "2", 1, 64, &threads, "worker threads the slaves are spread over"},
        {"name-prefix", TS_OPT_STRING, "sim", 0, -1, &prefix, "node names are PREFIX-NNNNN"},
        {"stats", TS_OPT_STRING, NULL, 0, -1, &stats_path, "write counters and assignment latencies (JSON) to this file every second and at exit"},
        {"duration", TS_OPT_DOUBLE, "0", 0, 1e9, &duration, "stop after this many seconds (0: at SIGINT or SIGTERM)"},
        {"ramp-ms", TS_OPT_INT, "1500", 0, 3600000, &ramp_ms, "connect the slaves at random times within this many ms of the start"},
        {"log-level", TS_OPT_STRING, "info", 0, -1, &log_level, "debug, info, warn or error"},
        TS_OPT_END,
    };
    if (ts_opts_parse(table, argc - 1, argv + 1, NULL, 0, &help) < 0) {
        fprintf(stderr, "tessera-slavesim: %s\n", ts_error());
        return 2;
    }
    if (help) {
        printf("usage: tessera-slavesim --master ENDPOINT --master-cert FILE --slaves N --work DIR [options]\n\n"
               "Plays N slaves against a real tessera-master (one CURVE connection, identity and protocol state each);\n"
               "they run synthetic tasks (tessera submit synthetic) and refuse every other kind.\n\n");
        ts_opts_usage(stdout, table);
        return 0;
    }
    ts_log_level_t level;
    if (ts_log_level_parse(log_level, &level) < 0) {
        fprintf(stderr, "tessera-slavesim: option --log-level: unknown level '%s'\n", log_level);
        return 2;
    }
    if (!master_cert || !work || slaves <= 0) {
        fprintf(stderr, "tessera-slavesim: options --master-cert, --work and --slaves are required\n");
        return 2;
    }
    ts_simslave_conf_t conf = {.master = master, .work = work, .name_prefix = prefix};
    if (ts_simwork_parse(work_ms, &conf.work_time) < 0) {
        fprintf(stderr, "tessera-slavesim: option --work-ms: %s\n", ts_error());
        return 2;
    }
    ts_log_init("slavesim", level);
    if (sodium_init() < 0) {
        ts_err("libsodium failed to initialise");
        return 1;
    }
    if (raise_fd_limit(slaves, (int)threads) < 0)
        return 1;
    if (mkdir(work, 0700) < 0 && errno != EEXIST) {
        ts_err("--work %s: %s", work, strerror(errno));
        return 1;
    }
    if (ts_identity_read_cert(master_cert, conf.master_key) < 0) {
        ts_err("--master-cert: %s", ts_error());
        return 1;
    }
    conf.keys_resident = keys_fit(slaves);
    /* SIGINT and SIGTERM wait for the main thread's sigtimedwait; the threads started below inherit the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    ts_simstats_t **stats = calloc((size_t)threads, sizeof *stats);
    for (long t = 0; stats && t < threads; t++)
        if (!(stats[t] = calloc(1, sizeof *stats[t]))) {
            ts_err("out of memory");
            return 1;
        }
    if (!stats || !(conf.zmq_ctx = make_context(slaves)))
        return 1;
    int rc = 1, stop_fd = eventfd(0, EFD_CLOEXEC);
    ts_simslave_t **all = stop_fd >= 0 ? make_slaves(&conf, slaves, (int)threads, stats, ramp_ms)
                                       : NULL;
    if (stop_fd < 0)
        ts_err("eventfd: %s", strerror(errno));
    if (all) {
        ts_info("%ld slaves over %ld threads connecting to %s within %.1f s; --work-ms %s", slaves, threads, master,
                (double)ramp_ms / 1000.0, work_ms);
        conf.t0 = ts_clock_mono();
        rc = run(&conf, all, slaves, (int)threads, stats, stop_fd, stats_path, duration);
        free(all); /* each thread destroyed its slaves */
    }
    zmq_ctx_term(conf.zmq_ctx);
    if (stop_fd >= 0)
        close(stop_fd);
    for (long t = 0; t < threads; t++)
        free(stats[t]);
    free(stats);
    return rc;
}
