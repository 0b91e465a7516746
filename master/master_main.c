/* tessera-master: the queue, scheduler, store and API of a tessera farm. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_opts.h"
#include "lib/ts_version.h"
#include "master/ts_master.h"
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>

static ts_master_t *s_master;

static void on_signal(int sig)
{
    (void)sig;
    if (s_master)
        ts_master_stop(s_master);
}

#define FD_WANTED 65536 /* descriptors: the HTTP API's connections and the slaves' sockets */
#define FD_RESERVED 256 /* of them for the store, blobs, torrents and the master's own sockets */

/* The soft descriptor limit up to the hard one (often 1,024 against 524,288): a master serving many slaves and
   clients would otherwise fail to accept at the 1,025th descriptor. */
static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= FD_WANTED)
        return;
    r.rlim_cur = r.rlim_max == RLIM_INFINITY || r.rlim_max > FD_WANTED ? FD_WANTED : r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur < FD_WANTED) /* each slave holds one descriptor */
        ts_warn("open files: the limit is %llu (hard %llu), so at most about %llu slaves and API clients at once; "
                "raise it (ulimit -n, or LimitNOFILE= in a systemd unit) for more",
                (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max,
                (unsigned long long)(r.rlim_cur > FD_RESERVED ? r.rlim_cur - FD_RESERVED : 0));
}

int main(int argc, char **argv)
{
    ts_master_options_t o = {0};
    const char *log_level = NULL;
    bool help = false, version = false;
    const ts_opt_t table[] = {
        {"state", TS_OPT_STRING, NULL, 0, -1, &o.state_dir, "state directory (database, blobs, keys); created if needed"},
        {"listen", TS_OPT_STRING, "tcp://127.0.0.1:5555", 0, -1, &o.listen, "ZeroMQ endpoint slaves connect to"},
        {"http", TS_OPT_STRING, "127.0.0.1:8080", 0, -1, &o.http, "HOST:PORT of the HTTP API ([ADDRESS]:PORT for IPv6)"},
        {"public-url", TS_OPT_STRING, NULL, 0, -1, &o.public_url, "base URL slaves use to fetch inputs (default http://<--http>, https:// with --tls-cert)"},
        {"tls-cert", TS_OPT_STRING, NULL, 0, -1, &o.tls_cert, "serve the HTTP API over TLS with this PEM certificate (chain); plain HTTP is not answered then"},
        {"tls-key", TS_OPT_STRING, NULL, 0, -1, &o.tls_key, "the certificate's PEM private key"},
        {"heartbeat-ms", TS_OPT_INT, "1000", 50, 60000, &o.heartbeat_ms, "how often slaves must report"},
        {"node-timeout", TS_OPT_INT, "10", 1, 3600, &o.node_timeout_s, "seconds of silence before a slave's tasks are re-queued"},
        {"task-timeout", TS_OPT_INT, "3600", 1, 604800, &o.task_timeout_s, "seconds a task may run before it counts as failed"},
        {"max-failures", TS_OPT_INT, "3", 1, 100, &o.max_failures, "failures of a task before its job fails; failures of a node before it is blocked for the job"},
        {"schedule", TS_OPT_STRING, "fair", 0, -1, &o.schedule, "fair: requesters get node time in proportion to their shares (tessera share) and priority orders each one's own jobs; priority: the whole queue by priority, then age"},
        {"tile-margin", TS_OPT_INT, "-1", -1, 4096, &o.tile_margin, "context pixels rendered around each tile and cropped when stitching; -1: what the scene needs to be exact (adaptive sampling)"},
        {"max-message-mb", TS_OPT_INT, "1024", 1, 4096, &o.max_message_mb, "largest message a slave may send"},
        {"torrent-listen", TS_OPT_STRING, "0.0.0.0:0", 0, -1, &o.torrent_listen, "ADDRESS:PORT the master seeds render inputs on (port 0: any free port; slaves learn it)"},
        {"no-torrent", TS_OPT_FLAG, NULL, 0, -1, &o.no_torrent, "send inputs over HTTP only (no BitTorrent swarm)"},
        {"no-lsd", TS_OPT_FLAG, NULL, 0, -1, &o.no_lsd, "turn local service discovery off"},
        {"seed-slots", TS_OPT_INT, "1", 1, 64, &o.seed_slots, "slaves the master uploads a scene to at once; the others get it from each other"},
        {"http-per-ip", TS_OPT_INT, "64", 1, 4096, &o.http_per_ip,
         "HTTP connections one address may hold at once (a café behind one address shares them)"},
        {"http-idle", TS_OPT_INT, "30", 1, 3600, &o.http_idle_s,
         "seconds an HTTP connection may send nothing (idle, or a request left unfinished) before it is closed"},
        {"check-floor", TS_OPT_DOUBLE, "0.05", 0, 1, &o.check_floor, "lowest share of a trusted node's results re-done by another node and compared (0: no spot checks; 1: every result, as fixed 2x replication)"},
        {"check-trust", TS_OPT_INT, "10", 1, 1000000, &o.check_trust, "a node with nothing at risk (no payments, or --slash-share 0): consecutive valid results before its spot-check rate drops below 1 (then max(floor, 1/run))"},
        {"check-area", TS_OPT_DOUBLE, "0.25", 0, 1, &o.check_area, "share of a tile's pixels a spot check re-renders, in a random window (1: the whole tile; 0 also the whole tile)"},
        {"check-first", TS_OPT_INT, "1", 0, 1000000, &o.check_first, "a node with stake at risk: its first results re-done in full; then max(floor, 2 x the rate at which faking stops paying)"},
        {"check-wait", TS_OPT_INT, "30", 1, 86400, &o.check_wait_s, "seconds a spot check waits for an eligible other node before the result is accepted unchecked, and a tie-break for a third node before the dispute is left unresolved"},
        {"quarantine-after", TS_OPT_INT, "3", 1, 1000, &o.quarantine_after, "jobs a node may be blocked on by failed checks before it gets no work at all (tessera nodes lift ID ends it)"},
        {"escrow", TS_OPT_STRING, "local", 0, -1, &o.escrow, "where money moves: local (a double-entry ledger in the master's database) or evm (the JobEscrow contract on a chain)"},
        {"rpc", TS_OPT_STRING, NULL, 0, -1, &o.rpc_url, "evm: the chain's JSON-RPC URL"},
        {"escrow-address", TS_OPT_STRING, NULL, 0, -1, &o.escrow_address, "evm: the JobEscrow contract's address (tessera escrow deploy prints it)"},
        {"key-file", TS_OPT_STRING, NULL, 0, -1, &o.key_file, "evm: the master's secp256k1 key (64 hex digits): it funds jobs, pays and slashes"},
        {"chain-id", TS_OPT_INT, "0", 0, 2147483647, &o.chain_id, "evm: the chain id the RPC must report (0: any)"},
        {"requester-mint", TS_OPT_STRING, "1000", 0, -1, &o.requester_mint, "local: tokens a new requester starts with (recorded as minting)"},
        {"node-stake", TS_OPT_STRING, "100", 0, -1, &o.node_stake, "local: stake minted for a node when it first joins"},
        {"farm-mint", TS_OPT_STRING, "100", 0, -1, &o.farm_mint, "local: tokens the farm's own account starts with (it pays spot checks and redone work)"},
        {"check-pool", TS_OPT_STRING, "100", 0, -1, &o.check_pool, "evm: tokens the master funds the farm's pool for spot checks and redone work with"},
        {"min-stake", TS_OPT_STRING, "1", 0, -1, &o.min_stake, "a node with less stake gets no work"},
        {"min-task-price", TS_OPT_STRING, "0.0001", 0, -1, &o.min_task_price, "a job's budget must give each of its pieces at least this many tokens"},
        {"slash-share", TS_OPT_DOUBLE, "0.5", 0, 1, &o.slash_share, "share of a node's stake taken each time it fails a spot check (0: none)"},
        {"pay-every", TS_OPT_DOUBLE, "10", 0, 86400, &o.pay_every_s, "evm: seconds a job's price locks and payments may wait to go to the chain together (one transaction per batch of up to 100; a job that ends sends at once)"},
        {"job-deadline", TS_OPT_INT, "168", 1, 87600, &o.job_deadline_h, "hours after which a requester may reclaim a job's unspent funds from the contract itself"},
        {"log-level", TS_OPT_STRING, "info", 0, -1, &log_level, "debug, info, warn or error"},
        {"version", TS_OPT_FLAG, NULL, 0, -1, &version, "print the version and exit"},
        TS_OPT_END,
    };
    char *pos[1];
    if (ts_opts_parse(table, argc - 1, argv + 1, pos, 0, &help) < 0) {
        fprintf(stderr, "tessera-master: %s\n", ts_error());
        return 2;
    }
    if (help) {
        printf("usage: tessera-master --state DIR [options]\n\n");
        ts_opts_usage(stdout, table);
        return 0;
    }
    if (version) {
        printf("tessera-master %s\n", TS_VERSION);
        return 0;
    }
    ts_log_level_t level;
    if (ts_log_level_parse(log_level, &level) < 0) {
        fprintf(stderr, "tessera-master: option --log-level: unknown level '%s'\n", log_level);
        return 2;
    }
    if (!o.state_dir) {
        fprintf(stderr, "tessera-master: option --state is required\n");
        return 2;
    }
    ts_log_init("master", level);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    s_master = ts_master_new(&o);
    if (!s_master) {
        fprintf(stderr, "tessera-master: %s\n", ts_error());
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc = ts_master_run(s_master);
    ts_master_destroy(&s_master);
    return rc == 0 ? 0 : 1;
}
