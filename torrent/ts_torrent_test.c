/* ts_torrent_test: the self-test of torrent/torrent.h on loopback swarms (C API only). */
#include "torrent/torrent.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define TEST_FILE_NAME "input.bin"
#define TEST_FILE_SIZE (4 * 1024 * 1024 + 12345) /* ~4 MB, not a whole number of pieces */
#define TEST_WAIT_MS 15000                       /* longest wait for one download */
#define TEST_HOLD_MS 1500                        /* how long a held-back web seed must stay unused */
#define TEST_CORRUPT_STRIDE (64 * 1024)          /* the corrupt copy has one byte flipped every this many */
#define TEST_LISTEN "127.0.0.1:0"
#define TEST_RATE (2 * 1024 * 1024) /* bytes/s: the rate-limited seed's upload limit (~2 s for the file) */

static bool s_verbose;

#define NOTE(...)                                                                                          \
    do {                                                                                                   \
        if (s_verbose) {                                                                                   \
            fprintf(stderr, "ts_torrent: ");                                                               \
            fprintf(stderr, __VA_ARGS__);                                                                  \
            fprintf(stderr, "\n");                                                                         \
        }                                                                                                  \
    } while (0)

static char s_root[64]; /* the test's temporary directory */

static void path_in(char *out, size_t size, const char *dir, const char *name)
{
    snprintf(out, size, "%s/%s/%s", s_root, dir, name);
}

static int make_dir(const char *dir)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", s_root, dir);
    return mkdir(p, 0755);
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* The whole file, malloc'd, or NULL. */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            unsigned char *b = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

static bool same_as(const char *path, const unsigned char *want, size_t want_len)
{
    size_t len = 0;
    unsigned char *got = read_file(path, &len);
    bool same = got && len == want_len && memcmp(got, want, len) == 0;
    free(got);
    return same;
}

/* Removes the test directory tree (two levels are all the test makes). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

/* A session on the loopback interface; a failed check is counted into *fails. */
static ts_torrent_session_t *loopback_session(int *fails)
{
    int failures = 0;
    ts_torrent_settings_t s = { .listen = TEST_LISTEN, .allow_local_peers = true };
    ts_torrent_session_t *ses = ts_torrent_session_new(&s);
    TS_TEST_CHECK(ses, "session on %s: %s", TEST_LISTEN, ts_error());
    TS_TEST_CHECK(!ses || ts_torrent_session_port(ses) > 0, "port %d", ts_torrent_session_port(ses));
    *fails += failures;
    return ses;
}

static int connect_to(ts_torrent_session_t *ses, int handle, ts_torrent_session_t *peer)
{
    int failures = 0;
    char hp[64];
    snprintf(hp, sizeof hp, "127.0.0.1:%d", ts_torrent_session_port(peer));
    TS_TEST_CHECK(ts_torrent_connect_peer(ses, handle, hp) == 0, "connect to %s: %s", hp, ts_error());
    return failures;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------------------------------------- */

/* size bytes of xorshift64 output (malloc'd; NULL when out of memory), different every run. */
static unsigned char *random_bytes(size_t size, uint64_t salt)
{
    unsigned char *data = malloc(size);
    uint64_t x = salt ^ (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    for (size_t i = 0; data && i < size; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data[i] = (unsigned char)(x >> 24);
    }
    return data;
}

/* What the swarm tests share: the file, its torrent, and a good seed. */
typedef struct {
    unsigned char *data;
    size_t size;
    unsigned char *torrent;
    size_t torrent_len;
    ts_torrent_session_t *seed;
    int seed_handle;
} swarm_t;

/* 1. One seed and two downloaders; both finish with identical bytes; counters add up. */
static int test_swarm(swarm_t *w)
{
    int failures = 0;
    char src[512], a_path[512], b_path[512], a_dir[512], b_dir[512], seed_dir[512];
    make_dir("seed");
    make_dir("a");
    make_dir("b");
    path_in(src, sizeof src, "seed", TEST_FILE_NAME);
    path_in(a_path, sizeof a_path, "a", TEST_FILE_NAME);
    path_in(b_path, sizeof b_path, "b", TEST_FILE_NAME);
    snprintf(seed_dir, sizeof seed_dir, "%s/seed", s_root);
    snprintf(a_dir, sizeof a_dir, "%s/a", s_root);
    snprintf(b_dir, sizeof b_dir, "%s/b", s_root);

    w->size = TEST_FILE_SIZE;
    w->data = random_bytes(w->size, 0x9E3779B97F4A7C15ull);
    if (!w->data || write_file(src, w->data, w->size) != 0) {
        TS_TEST_CHECK(0, "writing %s: %s", src, strerror(errno));
        return failures;
    }

    char hash[TS_TORRENT_HASH_HEX + 1] = "";
    int rc = ts_torrent_create(src, NULL, &w->torrent, &w->torrent_len, hash);
    TS_TEST_CHECK(rc == 0, "create: %s", ts_error());
    if (rc != 0)
        return failures;
    TS_TEST_CHECK(strlen(hash) == TS_TORRENT_HASH_HEX && strspn(hash, "0123456789abcdef") == TS_TORRENT_HASH_HEX,
                  "info-hash \"%s\"", hash);
    TS_TEST_CHECK(w->torrent_len > 0 && w->torrent[0] == 'd', "torrent of %zu bytes", w->torrent_len);
    NOTE("torrent: %zu bytes, info-hash %s", w->torrent_len, hash);

    /* The same file makes the same info-hash (the creation date is outside the info dictionary). */
    unsigned char *again = NULL;
    size_t again_len = 0;
    char hash2[TS_TORRENT_HASH_HEX + 1] = "";
    TS_TEST_CHECK(ts_torrent_create(src, NULL, &again, &again_len, hash2) == 0 && strcmp(hash, hash2) == 0,
                  "second create: %s vs %s (%s)", hash2, hash, ts_error());
    free(again);

    ts_torrent_session_t *a = NULL, *b = NULL;
    w->seed = loopback_session(&failures);
    a = loopback_session(&failures);
    b = loopback_session(&failures);
    if (!w->seed || !a || !b)
        goto out;
    w->seed_handle = ts_torrent_add(w->seed, w->torrent, w->torrent_len, seed_dir, TS_TORRENT_SEED);
    TS_TEST_CHECK(w->seed_handle >= 0, "seed add: %s", ts_error());
    char added_hash[TS_TORRENT_HASH_HEX + 1] = "";
    TS_TEST_CHECK(w->seed_handle < 0 || (ts_torrent_info_hash(w->seed, w->seed_handle, added_hash) == 0 &&
                                         strcmp(added_hash, hash) == 0),
                  "added torrent's info-hash %s, created %s", added_hash, hash);
    TS_TEST_CHECK(ts_torrent_info_hash(w->seed, 9999, added_hash) < 0, "info-hash of an unknown handle");
    int ha = ts_torrent_add(a, w->torrent, w->torrent_len, a_dir, 0);
    int hb = ts_torrent_add(b, w->torrent, w->torrent_len, b_dir, 0);
    TS_TEST_CHECK(ha >= 0 && hb >= 0, "downloader add: %s", ts_error());
    if (w->seed_handle < 0 || ha < 0 || hb < 0)
        goto out;
    TS_TEST_CHECK(ts_torrent_wait(w->seed, w->seed_handle, TEST_WAIT_MS) == 0, "seed: %s", ts_error());

    double t0 = now_s();
    failures += connect_to(a, ha, w->seed);
    failures += connect_to(b, hb, w->seed);
    failures += connect_to(b, hb, a); /* the downloaders also trade pieces between themselves */
    TS_TEST_CHECK(ts_torrent_wait(a, ha, TEST_WAIT_MS) == 0, "downloader a: %s", ts_error());
    TS_TEST_CHECK(ts_torrent_wait(b, hb, TEST_WAIT_MS) == 0, "downloader b: %s", ts_error());
    double took = now_s() - t0;
    TS_TEST_CHECK(same_as(a_path, w->data, w->size), "%s differs from the source", a_path);
    TS_TEST_CHECK(same_as(b_path, w->data, w->size), "%s differs from the source", b_path);

    ts_torrent_status_t sa, sb, ss;
    TS_TEST_CHECK(ts_torrent_status(a, ha, &sa) == 0 && ts_torrent_status(b, hb, &sb) == 0 &&
                      ts_torrent_status(w->seed, w->seed_handle, &ss) == 0,
                  "status: %s", ts_error());
    TS_TEST_CHECK(sa.finished && sb.finished && ss.finished && sa.progress == 1.0 && !sa.error && !sb.error,
                  "finished %d %d %d, progress %.3f, error %s %s", sa.finished, sb.finished, ss.finished, sa.progress,
                  sa.error_text, sb.error_text);
    TS_TEST_CHECK(sa.hash_failures == 0 && sb.hash_failures == 0, "hash failures %d %d", sa.hash_failures,
                  sb.hash_failures);

    int64_t s_up, s_down, a_up, a_down, b_up, b_down;
    if (ts_torrent_session_counters(w->seed, &s_up, &s_down) != 0 ||
        ts_torrent_session_counters(a, &a_up, &a_down) != 0 || ts_torrent_session_counters(b, &b_up, &b_down) != 0) {
        TS_TEST_CHECK(0, "counters: %s", ts_error());
        goto out;
    }
    const int64_t size = (int64_t)w->size;
    if (s_verbose)
        fprintf(stderr,
                "ts_torrent: swarm of 3 on loopback, %lld bytes in %.2f s: seed up %lld (%.2fx the file), "
                "a up %lld down %lld, b up %lld down %lld (torrent status: seed up %lld, a down %lld, b down %lld)\n",
                (long long)size, took, (long long)s_up, (double)s_up / size, (long long)a_up, (long long)a_down,
                (long long)b_up, (long long)b_down, (long long)ss.payload_up, (long long)sa.payload_down,
                (long long)sb.payload_down);
    /* Every byte a downloader got came from the seed or the other downloader; the seed sent at least one copy
       and at most about two (a little more for blocks requested twice near the end). Blocks still in flight when
       a downloader finishes are sent but never counted as received. */
    TS_TEST_CHECK(s_up >= size && s_up <= 2 * size + size / 8, "seed uploaded %lld bytes for a %lld-byte file",
                  (long long)s_up, (long long)size);
    TS_TEST_CHECK(a_down >= size && b_down >= size, "downloaded %lld and %lld of %lld", (long long)a_down,
                  (long long)b_down, (long long)size);
    TS_TEST_CHECK(s_down == 0, "the seed downloaded %lld bytes", (long long)s_down);
    TS_TEST_CHECK(a_down + b_down <= s_up + a_up + b_up && a_down + b_down >= s_up + a_up + b_up - size / 8,
                  "sent %lld + %lld + %lld, received %lld + %lld", (long long)s_up, (long long)a_up, (long long)b_up,
                  (long long)a_down, (long long)b_down);
    TS_TEST_CHECK(ss.payload_up == s_up, "seed torrent uploaded %lld, session %lld", (long long)ss.payload_up,
                  (long long)s_up);
out:
    ts_torrent_session_destroy(&a);
    ts_torrent_session_destroy(&b);
    TS_TEST_CHECK(a == NULL && b == NULL, "destroy did not clear the pointer");
    return failures;
}

/* 2. A peer serving corrupt data: the downloader meets it first, sees hash failures, then finishes from a good
   seed. The corrupt seed checks its good copy first; the file is damaged afterwards, on disk, so libtorrent
   serves the damaged bytes as verified. (A seed_mode seed would hash each piece before sending it.) */
static int test_corrupt_peer(swarm_t *w)
{
    int failures = 0;
    char bad_dir[512], bad_path[512], d_dir[512], d_path[512];
    make_dir("bad");
    make_dir("d");
    snprintf(bad_dir, sizeof bad_dir, "%s/bad", s_root);
    snprintf(d_dir, sizeof d_dir, "%s/d", s_root);
    path_in(bad_path, sizeof bad_path, "bad", TEST_FILE_NAME);
    path_in(d_path, sizeof d_path, "d", TEST_FILE_NAME);
    if (write_file(bad_path, w->data, w->size) != 0) {
        TS_TEST_CHECK(0, "writing %s: %s", bad_path, strerror(errno));
        return failures;
    }
    ts_torrent_session_t *bad = loopback_session(&failures), *d = loopback_session(&failures);
    if (!bad || !d)
        goto out;
    int hbad = ts_torrent_add(bad, w->torrent, w->torrent_len, bad_dir, 0);
    TS_TEST_CHECK(hbad >= 0, "corrupt seed add: %s", ts_error());
    if (hbad < 0)
        goto out;
    TS_TEST_CHECK(ts_torrent_wait(bad, hbad, TEST_WAIT_MS) == 0, "corrupt seed check: %s", ts_error());
    int fd = open(bad_path, O_WRONLY);
    TS_TEST_CHECK(fd >= 0, "%s: %s", bad_path, strerror(errno));
    for (size_t off = 0; fd >= 0 && off < w->size; off += TEST_CORRUPT_STRIDE) {
        unsigned char c = (unsigned char)~w->data[off];
        TS_TEST_CHECK(pwrite(fd, &c, 1, (off_t)off) == 1, "%s: %s", bad_path, strerror(errno));
    }
    if (fd >= 0)
        close(fd);

    int hd = ts_torrent_add(d, w->torrent, w->torrent_len, d_dir, 0);
    TS_TEST_CHECK(hd >= 0, "downloader add: %s", ts_error());
    if (hd < 0)
        goto out;
    failures += connect_to(d, hd, bad);
    ts_torrent_status_t st = { 0 };
    double deadline = now_s() + TEST_WAIT_MS / 1000.0;
    while (ts_torrent_status(d, hd, &st) == 0 && st.hash_failures == 0 && now_s() < deadline)
        sleep_ms(20);
    TS_TEST_CHECK(st.hash_failures > 0, "no hash failure from the corrupt seed (progress %.3f, %d peers)", st.progress,
                  st.peers);
    NOTE("corrupt seed: %d hash failures, progress %.3f, %d peers (%.2f s)", st.hash_failures, st.progress, st.peers,
         now_s() - deadline + TEST_WAIT_MS / 1000.0);

    failures += connect_to(d, hd, w->seed);
    TS_TEST_CHECK(ts_torrent_wait(d, hd, TEST_WAIT_MS) == 0, "downloader: %s", ts_error());
    TS_TEST_CHECK(same_as(d_path, w->data, w->size), "%s differs from the source", d_path);
    TS_TEST_CHECK(ts_torrent_status(d, hd, &st) == 0, "%s", ts_error());
    TS_TEST_CHECK(st.finished && st.hash_failures > 0 && !st.error, "finished %d, %d hash failures, error %s",
                  st.finished, st.hash_failures, st.error_text);
    ts_torrent_status_t sbad;
    TS_TEST_CHECK(ts_torrent_status(bad, hbad, &sbad) == 0, "%s", ts_error());
    NOTE("downloader finished: %d hash failures, %lld bytes down; corrupt seed sent %lld bytes, %d peers left",
         st.hash_failures, (long long)st.payload_down, (long long)sbad.payload_up, sbad.peers);
    TS_TEST_CHECK(sbad.payload_up < (int64_t)w->size, "the corrupt seed sent %lld bytes: it was not cut off",
                  (long long)sbad.payload_up);
out:
    ts_torrent_session_destroy(&bad);
    ts_torrent_session_destroy(&d);
    return failures;
}

/* 6. An upload limit holds for a loopback peer when limit_local_peers is set (libtorrent exempts local peers
   otherwise: the unlimited swarm above moves the file in about half a second). */
static int test_rate_limit(swarm_t *w)
{
    int failures = 0;
    char seed_dir[512], dir[512], path[512];
    snprintf(seed_dir, sizeof seed_dir, "%s/seed", s_root);
    make_dir("slow");
    snprintf(dir, sizeof dir, "%s/slow", s_root);
    path_in(path, sizeof path, "slow", TEST_FILE_NAME);
    ts_torrent_settings_t limited = { .listen = TEST_LISTEN, .allow_local_peers = true, .upload_rate = TEST_RATE,
                                      .limit_local_peers = true };
    ts_torrent_session_t *seed = ts_torrent_session_new(&limited), *d = loopback_session(&failures);
    TS_TEST_CHECK(seed, "limited session: %s", ts_error());
    if (!seed || !d)
        goto out;
    int hs = ts_torrent_add(seed, w->torrent, w->torrent_len, seed_dir, TS_TORRENT_SEED);
    int hd = ts_torrent_add(d, w->torrent, w->torrent_len, dir, 0);
    TS_TEST_CHECK(hs >= 0 && hd >= 0, "add: %s", ts_error());
    if (hs < 0 || hd < 0)
        goto out;
    double t0 = now_s();
    failures += connect_to(d, hd, seed);
    TS_TEST_CHECK(ts_torrent_wait(d, hd, TEST_WAIT_MS) == 0, "rate-limited download: %s", ts_error());
    double took = now_s() - t0, nominal = (double)w->size / TEST_RATE;
    TS_TEST_CHECK(same_as(path, w->data, w->size), "%s differs from the source", path);
    TS_TEST_CHECK(took >= 0.7 * nominal, "%zu bytes at %d bytes/s took %.2f s (nominal %.2f s): not limited", w->size,
                  TEST_RATE, took, nominal);
    NOTE("rate limit %d bytes/s on a loopback peer: %zu bytes in %.2f s (nominal %.2f s)", TEST_RATE, w->size, took,
         nominal);
out:
    ts_torrent_session_destroy(&seed);
    ts_torrent_session_destroy(&d);
    return failures;
}

/* ---------------------------------------------------------------------------------------------------- */
/* A web seed (BEP 19): a small HTTP server (libmicrohttpd) serving the file, with Range requests.       */

typedef struct {
    const unsigned char *data;
    size_t size;
    atomic_int requests;
    atomic_llong bytes;
} web_t;

static enum MHD_Result web_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    web_t *w = cls;
    unsigned code = MHD_HTTP_OK;
    size_t first = 0, last = w->size - 1;
    const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    if (strcmp(method, "GET") != 0 || strcmp(url, "/" TEST_FILE_NAME) != 0)
        code = MHD_HTTP_NOT_FOUND;
    else if (range) {
        int used = 0;
        if (sscanf(range, "bytes=%zu-%n", &first, &used) != 1 || used == 0)
            code = MHD_HTTP_RANGE_NOT_SATISFIABLE;
        else if (range[used] && sscanf(range + used, "%zu", &last) != 1)
            code = MHD_HTTP_RANGE_NOT_SATISFIABLE;
        else if (first > last || last >= w->size)
            code = MHD_HTTP_RANGE_NOT_SATISFIABLE;
        else
            code = MHD_HTTP_PARTIAL_CONTENT;
    }
    size_t len = code == MHD_HTTP_OK || code == MHD_HTTP_PARTIAL_CONTENT ? last - first + 1 : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(w->data + first), MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (code == MHD_HTTP_PARTIAL_CONTENT) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %zu-%zu/%zu", first, last, w->size);
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
    }
    atomic_fetch_add(&w->requests, 1);
    atomic_fetch_add(&w->bytes, (long long)len);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* 5. A downloader with no peers at all finishes from the web seed alone. */
static int test_web_seed(swarm_t *w)
{
    int failures = 0;
    char src[512], dir[512], path[512], url[128];
    path_in(src, sizeof src, "seed", TEST_FILE_NAME);
    make_dir("web");
    snprintf(dir, sizeof dir, "%s/web", s_root);
    path_in(path, sizeof path, "web", TEST_FILE_NAME);
    web_t web = { .data = w->data, .size = w->size };
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct MHD_Daemon *httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, web_handler, &web,
                                                MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    TS_TEST_CHECK(httpd, "cannot start an HTTP server on 127.0.0.1");
    if (!httpd)
        return failures;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(httpd, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/" TEST_FILE_NAME, info ? (unsigned)info->port : 0u);

    unsigned char *torrent = NULL;
    size_t len = 0;
    char hash[TS_TORRENT_HASH_HEX + 1] = "", hash0[TS_TORRENT_HASH_HEX + 1] = "";
    unsigned char *plain = NULL;
    size_t plain_len = 0;
    ts_torrent_session_t *d = NULL;
    int rc = ts_torrent_create(src, url, &torrent, &len, hash);
    TS_TEST_CHECK(rc == 0, "create with web seed %s: %s", url, ts_error());
    if (rc != 0)
        goto out;
    /* The URL lives outside the info dictionary: same info-hash as without it, and it is in the torrent. */
    TS_TEST_CHECK(ts_torrent_create(src, NULL, &plain, &plain_len, hash0) == 0 && strcmp(hash, hash0) == 0,
                  "info-hash %s with a web seed, %s without", hash, hash0);
    TS_TEST_CHECK(memmem(torrent, len, url, strlen(url)) && len > plain_len, "the torrent does not hold %s", url);
    if (!(d = loopback_session(&failures)))
        goto out;
    /* Added with its web seed held back: nothing moves until it is turned on. */
    int h = ts_torrent_add(d, torrent, len, dir, TS_TORRENT_NO_WEB_SEED);
    TS_TEST_CHECK(h >= 0, "add: %s", ts_error());
    if (h < 0)
        goto out;
    ts_torrent_status_t st;
    TS_TEST_CHECK(ts_torrent_wait(d, h, TEST_HOLD_MS) < 0, "finished with its web seed off");
    TS_TEST_CHECK(ts_torrent_status(d, h, &st) == 0 && !st.web_seeds_on && st.payload_down == 0 &&
                      atomic_load(&web.requests) == 0,
                  "web seed off: %lld bytes down, %d requests served", (long long)st.payload_down,
                  atomic_load(&web.requests));
    TS_TEST_CHECK(ts_torrent_web_seeds(d, h, true) == 0, "turning the web seed on: %s", ts_error());
    TS_TEST_CHECK(ts_torrent_wait(d, h, TEST_WAIT_MS) == 0, "web seed download: %s", ts_error());
    TS_TEST_CHECK(same_as(path, w->data, w->size), "%s differs from the source", path);
    TS_TEST_CHECK(ts_torrent_status(d, h, &st) == 0 && st.web_seeds_on && st.payload_down >= (int64_t)w->size &&
                      st.hash_failures == 0,
                  "downloaded %lld of %zu bytes, %d hash failures (%s)", (long long)st.payload_down, w->size,
                  st.hash_failures, ts_error());
    TS_TEST_CHECK(atomic_load(&web.requests) > 0 && atomic_load(&web.bytes) >= (long long)w->size,
                  "the web seed served %d requests, %lld bytes", atomic_load(&web.requests), atomic_load(&web.bytes));
    NOTE("web seed %s: %d requests, %lld bytes served", url, atomic_load(&web.requests),
         (long long)atomic_load(&web.bytes));
out:
    ts_torrent_session_destroy(&d);
    MHD_stop_daemon(httpd);
    free(torrent);
    free(plain);
    return failures;
}

/* 6. An initial seeder with one upload slot: the downloaders, all connected to each other, get most pieces from
   each other, so the seed uploads about one copy however many download (a plain seed sends several). The file is
   bigger than the others: the seed's first unchoke rounds cost a fixed few MB, which a 4 MB file would not hide. */
#define TEST_SLOT_PEERS 4
#define TEST_SLOT_FILE_SIZE (32 * 1024 * 1024 + 777)
#define TEST_SLOT_WAIT_MS 45000 /* a piece stuck with a choked peer waits for an optimistic unchoke (30 s) */
static int test_one_slot_seed(void)
{
    int failures = 0;
    char seed_dir[512], dir[512], path[512];
    make_dir("bigseed");
    snprintf(seed_dir, sizeof seed_dir, "%s/bigseed", s_root);
    path_in(path, sizeof path, "bigseed", TEST_FILE_NAME);
    size_t size = TEST_SLOT_FILE_SIZE;
    unsigned char *data = random_bytes(size, 0x2545F4914F6CDD1Dull), *torrent = NULL;
    size_t torrent_len = 0;
    char hash[TS_TORRENT_HASH_HEX + 1];
    ts_torrent_settings_t one = { .listen = TEST_LISTEN, .allow_local_peers = true, .upload_slots = 1,
                                  .unchoke_interval_s = 2 };
    ts_torrent_session_t *seed = NULL, *d[TEST_SLOT_PEERS] = { 0 };
    int h[TEST_SLOT_PEERS], hs = -1;
    if (!data || write_file(path, data, size) != 0 || ts_torrent_create(path, NULL, &torrent, &torrent_len, hash)) {
        TS_TEST_CHECK(0, "making the %zu-byte file and its torrent: %s", size, data ? ts_error() : "out of memory");
        goto out;
    }
    seed = ts_torrent_session_new(&one);
    TS_TEST_CHECK(seed, "one-slot seed: %s", ts_error());
    if (!seed || (hs = ts_torrent_add(seed, torrent, torrent_len, seed_dir, TS_TORRENT_SEED)) < 0) {
        TS_TEST_CHECK(0, "one-slot seed add: %s", ts_error());
        goto out;
    }
    for (int i = 0; i < TEST_SLOT_PEERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "slot%d", i);
        make_dir(name);
        snprintf(dir, sizeof dir, "%s/%s", s_root, name);
        if (!(d[i] = loopback_session(&failures)) || (h[i] = ts_torrent_add(d[i], torrent, torrent_len, dir, 0)) < 0) {
            TS_TEST_CHECK(0, "downloader %d: %s", i, ts_error());
            goto out;
        }
        failures += connect_to(d[i], h[i], seed);
        for (int j = 0; j < i; j++)
            failures += connect_to(d[i], h[i], d[j]);
    }
    for (int i = 0; i < TEST_SLOT_PEERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "slot%d", i);
        path_in(path, sizeof path, name, TEST_FILE_NAME);
        TS_TEST_CHECK(ts_torrent_wait(d[i], h[i], TEST_SLOT_WAIT_MS) == 0, "downloader %d: %s", i, ts_error());
        TS_TEST_CHECK(same_as(path, data, size), "%s differs from the source", path);
    }
    ts_torrent_status_t st;
    if (ts_torrent_status(seed, hs, &st) == 0) {
        NOTE("one-slot seed, %d downloaders: seed uploaded %.2fx the file", TEST_SLOT_PEERS,
             (double)st.payload_up / (double)size);
        TS_TEST_CHECK(st.payload_up >= (int64_t)size && st.payload_up <= (int64_t)size * 3 / 2,
                      "one-slot seed uploaded %lld bytes for a %zu-byte file to %d downloaders",
                      (long long)st.payload_up, size, TEST_SLOT_PEERS);
    }
out:
    for (int i = 0; i < TEST_SLOT_PEERS; i++)
        ts_torrent_session_destroy(&d[i]);
    ts_torrent_session_destroy(&seed);
    free(data);
    free(torrent);
    return failures;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Hand-made torrents.                                                                                  */

#define TEST_PIECES "aaaaaaaaaaaaaaaaaaaa" /* one 20-byte SHA-1 "hash" */

/* A single-file v1 torrent named name, of 5 bytes. */
static int single_file_torrent(char *out, size_t size, const char *name)
{
    return snprintf(out, size, "d4:infod6:lengthi5e4:name%zu:%s12:piece lengthi16384e6:pieces20:" TEST_PIECES "ee",
                    strlen(name), name);
}

/* A multi-file v1 torrent "root" with one file whose path list is elems (bencoded list items), plus extra keys
   (bencoded, sorted after "length") in the file's dictionary. */
static int multi_file_torrent(char *out, size_t size, const char *elems, const char *extra)
{
    return snprintf(out, size,
                    "d4:infod5:filesld%s6:lengthi5e4:pathl%seee4:name4:root12:piece lengthi16384e6:pieces20:"
                    TEST_PIECES "ee",
                    extra, elems);
}

/* Does dir hold any entry but "." and ".."? */
static int entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int expect_refused(ts_torrent_session_t *ses, const char *what, const char *torrent, int len,
                          const char *save_dir, const char *needle)
{
    int failures = 0;
    int rc = ts_torrent_add(ses, (const unsigned char *)torrent, (size_t)len, save_dir, 0);
    TS_TEST_CHECK(rc == -1, "%s: accepted (handle %d)", what, rc);
    TS_TEST_CHECK(rc >= 0 || strstr(ts_error(), needle), "%s: message \"%s\" does not name \"%s\"", what, ts_error(),
                  needle);
    NOTE("%s: %s", what, ts_error());
    if (rc >= 0)
        ts_torrent_remove(ses, rc);
    return failures;
}

/* 3. File names that would leave the save directory are refused, naming the path. */
static int test_path_escape(void)
{
    int failures = 0;
    char save[512], outside[512], abs_target[512], t[1024];
    make_dir("escape");
    make_dir("escape/save");
    snprintf(outside, sizeof outside, "%s/escape", s_root);
    snprintf(save, sizeof save, "%s/escape/save", s_root);
    snprintf(abs_target, sizeof abs_target, "%s/escape/abs-evil", s_root);
    ts_torrent_session_t *ses = loopback_session(&failures);
    if (!ses)
        return failures;

    int n = single_file_torrent(t, sizeof t, "../evil");
    failures += expect_refused(ses, "name ../evil", t, n, save, "../evil");
    n = single_file_torrent(t, sizeof t, "..");
    failures += expect_refused(ses, "name ..", t, n, save, "\"..\"");
    n = single_file_torrent(t, sizeof t, abs_target);
    failures += expect_refused(ses, "absolute name", t, n, save, abs_target);
    n = multi_file_torrent(t, sizeof t, "2:..4:evil", "");
    failures += expect_refused(ses, "path element ..", t, n, save, "root/../evil");
    n = multi_file_torrent(t, sizeof t, "3:sub1:/4:evil", "");
    failures += expect_refused(ses, "path element /", t, n, save, "root/sub///evil");
    n = multi_file_torrent(t, sizeof t, "4:link", "4:attr1:l");
    failures += expect_refused(ses, "symlink attribute", t, n, save, "root/link");
    n = snprintf(t, sizeof t, "d4:infod5:filesld6:lengthi5e4:pathl4:evile10:path.utf-8l2:..4:evileee4:name4:root"
                              "12:piece lengthi16384e6:pieces20:" TEST_PIECES "ee");
    failures += expect_refused(ses, "path.utf-8 with ..", t, n, save, "root/../evil");
    n = snprintf(t, sizeof t, "d4:infod9:file treed2:..d4:evild0:d6:lengthi5eeeee12:meta versioni2e4:name4:root"
                              "12:piece lengthi16384eee");
    failures += expect_refused(ses, "v2 file tree with ..", t, n, save, "\"../evil\"");

    /* The same shapes with harmless names are accepted (and download nothing: no peers). */
    n = single_file_torrent(t, sizeof t, "good");
    int h = ts_torrent_add(ses, (const unsigned char *)t, (size_t)n, save, 0);
    TS_TEST_CHECK(h >= 0, "single-file \"good\": %s", ts_error());
    ts_torrent_remove(ses, h);
    n = multi_file_torrent(t, sizeof t, "3:sub4:good", "");
    h = ts_torrent_add(ses, (const unsigned char *)t, (size_t)n, save, 0);
    TS_TEST_CHECK(h >= 0, "multi-file root/sub/good: %s", ts_error());
    ts_torrent_status_t st;
    TS_TEST_CHECK(h < 0 || (ts_torrent_status(ses, h, &st) == 0 && !st.error), "status: %s %s", ts_error(),
                  st.error_text);
    ts_torrent_remove(ses, h);
    TS_TEST_CHECK(ts_torrent_status(ses, h, &st) == -1, "status of a removed torrent");
    ts_torrent_session_destroy(&ses);

    TS_TEST_CHECK(access(abs_target, F_OK) != 0, "%s was written", abs_target);
    TS_TEST_CHECK(entries_in(outside) == 1, "%s holds %d entries, only save/ expected", outside, entries_in(outside));
    return failures;
}

/* 4. Bad input: not a torrent, a seed without its file, bad peers and handles, a file gone while seeding. */
static int test_bad_input(swarm_t *w)
{
    int failures = 0;
    char empty_dir[512], gone_dir[512], gone_path[512], missing[512];
    make_dir("empty");
    make_dir("gone");
    make_dir("f");
    snprintf(empty_dir, sizeof empty_dir, "%s/empty", s_root);
    snprintf(gone_dir, sizeof gone_dir, "%s/gone", s_root);
    path_in(gone_path, sizeof gone_path, "gone", TEST_FILE_NAME);
    path_in(missing, sizeof missing, "empty", TEST_FILE_NAME);
    ts_torrent_session_t *ses = loopback_session(&failures), *f = loopback_session(&failures);
    if (!ses || !f)
        goto out;

    static const char junk[] = "this is not bencoded";
    failures += expect_refused(ses, "junk", junk, (int)strlen(junk), empty_dir, "not bencoded");
    failures += expect_refused(ses, "empty buffer", "", 0, empty_dir, "empty");
    failures += expect_refused(ses, "no info", "d3:fooi1ee", 10, empty_dir, "no \"info\"");
    failures += expect_refused(ses, "a list", "li1ee", 5, empty_dir, "not a dictionary");
    failures +=
        expect_refused(ses, "truncated", (const char *)w->torrent, (int)w->torrent_len / 2, empty_dir, "not bencoded");
    char t[512];
    int n = snprintf(t, sizeof t, "d4:infod6:lengthi5e4:name4:good12:piece lengthi16384e6:pieces19:"
                                  "aaaaaaaaaaaaaaaaaaaee");
    failures += expect_refused(ses, "19-byte pieces", t, n, empty_dir, "not a valid torrent");

    /* Seed mode without the file: refused up front, naming it. */
    int rc = ts_torrent_add(ses, w->torrent, w->torrent_len, empty_dir, TS_TORRENT_SEED);
    TS_TEST_CHECK(rc == -1 && strstr(ts_error(), missing), "seeding a missing file: %d, %s", rc, ts_error());
    NOTE("seeding a missing file: %s", ts_error());
    TS_TEST_CHECK(entries_in(empty_dir) == 0, "%s is not empty", empty_dir);

    /* Creating from what is not a non-empty regular file. */
    unsigned char *tb = NULL;
    size_t tl = 0;
    char hash[TS_TORRENT_HASH_HEX + 1];
    TS_TEST_CHECK(ts_torrent_create(missing, NULL, &tb, &tl, hash) == -1 && strstr(ts_error(), missing),
                  "create %s: %s", missing, ts_error());
    TS_TEST_CHECK(ts_torrent_create(empty_dir, NULL, &tb, &tl, hash) == -1 && strstr(ts_error(), "regular"),
                  "create %s: %s", empty_dir, ts_error());

    /* Peers and handles. */
    static const char *bad_peers[] = { "nonsense", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "host:80",
                                       "[::1]80", "::1:80" };
    int good = ts_torrent_add(ses, w->torrent, w->torrent_len, empty_dir, 0);
    TS_TEST_CHECK(good >= 0, "%s", ts_error());
    for (size_t i = 0; good >= 0 && i < sizeof bad_peers / sizeof bad_peers[0]; i++)
        TS_TEST_CHECK(ts_torrent_connect_peer(ses, good, bad_peers[i]) == -1 && strstr(ts_error(), bad_peers[i]),
                      "peer \"%s\": %s", bad_peers[i], ts_error());
    TS_TEST_CHECK(good < 0 || ts_torrent_connect_peer(ses, good, "[::1]:6881") == 0, "[::1]:6881: %s", ts_error());
    ts_torrent_status_t st;
    TS_TEST_CHECK(ts_torrent_connect_peer(ses, 99, "127.0.0.1:6881") == -1 && strstr(ts_error(), "99"), "%s",
                  ts_error());
    TS_TEST_CHECK(ts_torrent_status(ses, -1, &st) == -1, "status of handle -1");
    TS_TEST_CHECK(ts_torrent_wait(ses, 99, 10) == -1 && strstr(ts_error(), "99"), "%s", ts_error());
    TS_TEST_CHECK(good < 0 || (ts_torrent_wait(ses, good, 50) == -1 && strstr(ts_error(), "not finished")),
                  "wait with no peers: %s", ts_error());
    ts_torrent_remove(ses, good);
    ts_torrent_remove(ses, good); /* twice: a no-op */

    /* A seed_mode seed whose file disappears after it was added. When a peer asks for data, libtorrent either
       fails the torrent (file_open error, naming the file) or, when the piece check fails first, leaves seed
       mode and rechecks (finding nothing: an unfinished torrent at 0%). Either way it is visible in the status
       and the downloader gets nothing. */
    if (write_file(gone_path, w->data, w->size) != 0) {
        TS_TEST_CHECK(0, "writing %s: %s", gone_path, strerror(errno));
        goto out;
    }
    int hg = ts_torrent_add(ses, w->torrent, w->torrent_len, gone_dir, TS_TORRENT_SEED);
    TS_TEST_CHECK(hg >= 0, "seed add: %s", ts_error());
    if (hg < 0)
        goto out;
    TS_TEST_CHECK(ts_torrent_status(ses, hg, &st) == 0 && st.finished && !st.error,
                  "seed_mode torrent: finished %d, %s", st.finished, st.error_text);
    unlink(gone_path);
    char f_dir[512];
    snprintf(f_dir, sizeof f_dir, "%s/f", s_root);
    int hf = ts_torrent_add(f, w->torrent, w->torrent_len, f_dir, 0);
    TS_TEST_CHECK(hf >= 0, "downloader add: %s", ts_error());
    if (hf < 0)
        goto out;
    failures += connect_to(f, hf, ses);
    double deadline = now_s() + TEST_WAIT_MS / 1000.0;
    while (ts_torrent_status(ses, hg, &st) == 0 && !st.error && st.finished && now_s() < deadline)
        sleep_ms(20);
    TS_TEST_CHECK(st.error ? strstr(st.error_text, gone_path) != NULL : !st.finished && st.progress < 1.0,
                  "seed without its file: finished %d, progress %.3f, error %d \"%s\"", st.finished, st.progress,
                  st.error, st.error_text);
    NOTE("seed without its file: %s", st.error ? st.error_text : "left seed mode, rechecked: unfinished");
    TS_TEST_CHECK(ts_torrent_wait(ses, hg, 10) == -1 && strstr(ts_error(), st.error ? "failed" : "not finished"),
                  "wait: %s", ts_error());
    TS_TEST_CHECK(ts_torrent_wait(f, hf, 100) == -1, "downloaded from a seed without its file");
out:
    ts_torrent_session_destroy(&ses);
    ts_torrent_session_destroy(&f);
    return failures;
}

/* A listen address that is not this machine's. */
static int test_bad_session(void)
{
    int failures = 0;
    ts_torrent_settings_t s = { .listen = "192.0.2.1:0" }; /* TEST-NET-1: never a local address */
    ts_torrent_session_t *ses = ts_torrent_session_new(&s);
    TS_TEST_CHECK(!ses && strstr(ts_error(), "192.0.2.1"), "listen on 192.0.2.1: %s", ses ? "accepted" : ts_error());
    NOTE("listen on 192.0.2.1: %s", ts_error());
    ts_torrent_session_destroy(&ses);
    s = (ts_torrent_settings_t){ .listen = TEST_LISTEN, .upload_rate = -1 };
    ses = ts_torrent_session_new(&s);
    TS_TEST_CHECK(!ses && strstr(ts_error(), "rate"), "negative rate: %s", ses ? "accepted" : ts_error());
    ts_torrent_session_destroy(&ses);
    return failures;
}

int ts_torrent_test(bool verbose)
{
    int failures = 0;
    s_verbose = verbose;
    snprintf(s_root, sizeof s_root, "/tmp/ts_torrent_test_XXXXXX");
    if (!mkdtemp(s_root)) {
        fprintf(stderr, "ts_torrent: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    swarm_t w = { 0 };
    double t0 = now_s();
    failures += test_swarm(&w);
    NOTE("swarm: %.2f s", now_s() - t0);
    if (w.seed && w.torrent) {
        failures += test_corrupt_peer(&w);
        NOTE("corrupt peer: %.2f s", now_s() - t0);
        failures += test_bad_input(&w);
        NOTE("bad input: %.2f s", now_s() - t0);
        failures += test_web_seed(&w);
        NOTE("web seed: %.2f s", now_s() - t0);
        failures += test_rate_limit(&w);
        NOTE("rate limit: %.2f s", now_s() - t0);
    }
    failures += test_one_slot_seed();
    NOTE("one-slot seed: %.2f s", now_s() - t0);
    failures += test_path_escape();
    failures += test_bad_session();
    NOTE("all: %.2f s", now_s() - t0);
    ts_torrent_session_destroy(&w.seed);
    free(w.data);
    free(w.torrent);
    remove_tree(s_root);
    return failures ? -1 : 0;
}
