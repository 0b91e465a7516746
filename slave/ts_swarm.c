/* ts_swarm: torrent fetches into the slave's cache, and seeding what the cache holds. */
#include "slave/ts_swarm.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_log.h"
#include "slave/ts_fetch.h"
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TORRENT_MAX (10 * 1024 * 1024) /* largest .torrent fetched */
#define POLL_MS 250
#define STALL_S 120.0  /* no new byte this long, web seed included: the fetch fails */
#define SEEDING_MAX 4096 /* a project's files are a torrent each */

typedef struct {
    char hash[TS_HASH_HEX];
    int handle;
    bool announce;   /* told to the master (a scene; not each file of a project) */
    uint64_t seq;    /* when it was added: the newest are told first */
} seeding_t;

struct ts_swarm {
    ts_torrent_session_t *session;
    ts_blobs_t *cache;
    char dir[PATH_MAX];
    long web_seed_after_s;
    pthread_mutex_t lock; /* guards master (set by the reactor) and seeding (read by the reactor) */
    char master[96];
    seeding_t seeding[SEEDING_MAX];
    int nseeding;
    uint64_t seq;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seeds a cached blob from the cache's own directory; a blob already seeded is left alone (and told to the master
   from now on when announce). */
static int seed(ts_swarm_t *self, const char *hash, const unsigned char *torrent, size_t len, bool announce)
{
    for (int i = 0; i < self->nseeding; i++)
        if (strcmp(self->seeding[i].hash, hash) == 0) {
            pthread_mutex_lock(&self->lock);
            self->seeding[i].announce = self->seeding[i].announce || announce;
            self->seeding[i].seq = ++self->seq;
            pthread_mutex_unlock(&self->lock);
            return 0;
        }
    if (self->nseeding == SEEDING_MAX)
        return ts_error_set("seeding %d inputs already", SEEDING_MAX);
    char dir[PATH_MAX];
    ts_blobs_path(self->cache, hash, dir, sizeof dir);
    dirname(dir);
    int h = ts_torrent_add(self->session, torrent, len, dir, TS_TORRENT_SEED);
    if (h < 0)
        return -1;
    pthread_mutex_lock(&self->lock);
    seeding_t *s = &self->seeding[self->nseeding++];
    snprintf(s->hash, sizeof s->hash, "%s", hash);
    s->handle = h;
    s->announce = announce;
    s->seq = ++self->seq;
    pthread_mutex_unlock(&self->lock);
    return 0;
}

/* Seeds again what an earlier run fetched and the cache still holds. */
static void seed_kept(ts_swarm_t *self)
{
    DIR *d = opendir(self->dir);
    if (!d)
        return;
    struct dirent *e;
    int count = 0;
    while ((e = readdir(d))) {
        char hash[TS_HASH_HEX], path[PATH_MAX];
        size_t n = strlen(e->d_name);
        if (n != TS_HASH_HEX - 1 + 8 || strcmp(e->d_name + TS_HASH_HEX - 1, ".torrent") != 0)
            continue;
        snprintf(hash, sizeof hash, "%.*s", TS_HASH_HEX - 1, e->d_name);
        snprintf(path, sizeof path, "%s/%s", self->dir, e->d_name);
        unsigned char *t = NULL;
        size_t len = 0;
        if (!ts_hash_valid(hash) || !ts_blobs_has(self->cache, hash) ||
            ts_file_read(path, TORRENT_MAX, 0, &t, &len) < 0) {
            unlink(path);
            continue;
        }
        char blob[PATH_MAX];
        ts_blobs_path(self->cache, hash, blob, sizeof blob);
        if (seed(self, hash, t, len, ts_file_is_blend(blob)) == 0) /* scenes are told to the master again */
            count++;
        else
            ts_warn("seeding cached input %.12s: %s", hash, ts_error());
        free(t);
    }
    closedir(d);
    if (count)
        ts_info("seeding %d cached input(s)", count);
}

ts_swarm_t *ts_swarm_new(const ts_swarm_options_t *opts, ts_blobs_t *cache)
{
    char incoming[PATH_MAX];
    snprintf(incoming, sizeof incoming, "%s/incoming", opts->dir);
    if ((mkdir(opts->dir, 0700) != 0 && errno != EEXIST) || (mkdir(incoming, 0700) != 0 && errno != EEXIST)) {
        ts_error_set("torrent directory %s: %s", opts->dir, strerror(errno));
        return NULL;
    }
    ts_torrent_settings_t s = {.listen = opts->listen, .lsd = opts->lsd, .allow_local_peers = true};
    ts_swarm_t *self = calloc(1, sizeof *self);
    if (!self || !(self->session = ts_torrent_session_new(&s))) {
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->cache = cache;
    self->web_seed_after_s = opts->web_seed_after_s;
    snprintf(self->dir, sizeof self->dir, "%s", opts->dir);
    seed_kept(self);
    ts_info("torrent session on port %d%s", ts_torrent_session_port(self->session),
            opts->lsd ? ", local service discovery on" : "");
    return self;
}

void ts_swarm_destroy(ts_swarm_t **self_p)
{
    ts_swarm_t *self = *self_p;
    if (!self)
        return;
    ts_torrent_session_destroy(&self->session);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int ts_swarm_port(ts_swarm_t *self)
{
    return ts_torrent_session_port(self->session);
}

void ts_swarm_set_master(ts_swarm_t *self, const char *host_port)
{
    pthread_mutex_lock(&self->lock);
    snprintf(self->master, sizeof self->master, "%s", host_port ? host_port : "");
    pthread_mutex_unlock(&self->lock);
}

size_t ts_swarm_seeding(ts_swarm_t *self, char (*hashes)[TS_HASH_HEX], char **ptrs, int max)
{
    pthread_mutex_lock(&self->lock);
    int n = 0;
    uint64_t below = UINT64_MAX;
    while (n < max) { /* the newest announced first: a master keeps a few scenes per node */
        int best = -1;
        for (int i = 0; i < self->nseeding; i++)
            if (self->seeding[i].announce && self->seeding[i].seq < below &&
                (best < 0 || self->seeding[i].seq > self->seeding[best].seq))
                best = i;
        if (best < 0)
            break;
        below = self->seeding[best].seq;
        memcpy(hashes[n], self->seeding[best].hash, TS_HASH_HEX);
        ptrs[n] = hashes[n];
        n++;
    }
    pthread_mutex_unlock(&self->lock);
    return (size_t)n;
}

void ts_swarm_forget_missing(ts_swarm_t *self)
{
    for (int i = 0; i < self->nseeding;) {
        if (ts_blobs_has(self->cache, self->seeding[i].hash)) {
            i++;
            continue;
        }
        ts_torrent_remove(self->session, self->seeding[i].handle);
        char kept[PATH_MAX + 80];
        snprintf(kept, sizeof kept, "%s/%s.torrent", self->dir, self->seeding[i].hash);
        unlink(kept);
        pthread_mutex_lock(&self->lock);
        self->seeding[i] = self->seeding[--self->nseeding];
        pthread_mutex_unlock(&self->lock);
    }
}

/* The .torrent: kept from an earlier fetch, else downloaded. */
static int get_torrent(ts_swarm_t *self, const char *hash, const char *url, unsigned char **t, size_t *len,
                       volatile sig_atomic_t *stop)
{
    char kept[PATH_MAX + 80];
    snprintf(kept, sizeof kept, "%s/%s.torrent", self->dir, hash);
    if (access(kept, F_OK) == 0 && ts_file_read(kept, TORRENT_MAX, 0, t, len) == 0)
        return 0;
    if (ts_fetch_mem(url, TORRENT_MAX, t, len, stop) < 0)
        return -1;
    if (ts_file_write_atomic(kept, *t, *len) < 0) /* only costs fetching it again after a restart */
        ts_warn("keeping the torrent: %s", ts_error());
    return 0;
}

/* Waits for the download: peers first, the web seed once peers have brought nothing for a while. */
static int download(ts_swarm_t *self, int h, const char *hash, volatile sig_atomic_t *stop)
{
    double start = mono(), last_progress = start;
    int64_t last_down = -1;
    ts_torrent_status_t st;
    for (;;) {
        if (ts_torrent_wait(self->session, h, POLL_MS) == 0)
            return 0;
        if (ts_torrent_status(self->session, h, &st) < 0)
            return -1;
        if (st.error)
            return ts_error_set("torrent of %.12s: %s", hash, st.error_text);
        if (stop && *stop)
            return ts_error_set("torrent of %.12s: stopped at %.0f%%", hash, st.progress * 100);
        double now = mono();
        if (st.payload_down != last_down) {
            last_down = st.payload_down;
            last_progress = now;
        }
        if (!st.web_seeds_on && now - last_progress >= (double)self->web_seed_after_s) {
            ts_info("input %.12s: no progress from %d peer(s) for %ld s at %.0f%%: using the web seed", hash, st.peers,
                    self->web_seed_after_s, st.progress * 100);
            if (ts_torrent_web_seeds(self->session, h, true) < 0)
                return -1;
            last_progress = now;
        }
        if (now - last_progress > STALL_S)
            return ts_error_set("torrent of %.12s: nothing arrived for %.0f s (%.0f%% done, %d peers, web seed %s)",
                                hash, STALL_S, st.progress * 100, st.peers, st.web_seeds_on ? "on" : "off");
    }
}

int ts_swarm_fetch(ts_swarm_t *self, const char *hash, const char *info_hash, const char *torrent_url,
                   char *const *peers, size_t npeers, bool from_master, bool announce, volatile sig_atomic_t *stop)
{
    ts_swarm_forget_missing(self);
    unsigned char *t = NULL;
    size_t len = 0;
    if (get_torrent(self, hash, torrent_url, &t, &len, stop) < 0)
        return ts_error_prefix("torrent of %.12s", hash);
    char save[PATH_MAX], file[PATH_MAX + 80], got[TS_TORRENT_HASH_HEX + 1] = "", master[96];
    snprintf(save, sizeof save, "%s/incoming/%s", self->dir, hash);
    snprintf(file, sizeof file, "%s/%s", save, hash);
    double t0 = mono();
    int h = ts_torrent_add(self->session, t, len, save, TS_TORRENT_NO_WEB_SEED);
    int rc = -1;
    if (h < 0)
        goto out;
    if (ts_torrent_info_hash(self->session, h, got) < 0 || (info_hash[0] && strcmp(got, info_hash) != 0)) {
        ts_error_set("the torrent at %s has info-hash %s, the task says %s", torrent_url, got, info_hash);
        goto out_remove;
    }
    pthread_mutex_lock(&self->lock);
    snprintf(master, sizeof master, "%s", self->master);
    pthread_mutex_unlock(&self->lock);
    if (from_master && master[0] && ts_torrent_connect_peer(self->session, h, master) < 0)
        ts_warn("master peer %s: %s", master, ts_error());
    for (size_t i = 0; i < npeers; i++)
        if (ts_torrent_connect_peer(self->session, h, peers[i]) < 0)
            ts_warn("peer %s: %s", peers[i], ts_error());
    if (download(self, h, hash, stop) < 0)
        goto out_remove;
    ts_torrent_status_t st;
    ts_torrent_status(self->session, h, &st);
    ts_torrent_remove(self->session, h);
    h = -1;
    char stored[TS_HASH_HEX];
    if (ts_blobs_put_file(self->cache, file, hash, stored) < 0) { /* checks the content hash, moves it in */
        ts_error_prefix("torrent of %.12s", hash);
        goto out;
    }
    rmdir(save);
    ts_info("input %.12s fetched by torrent in %.1f s (%lld bytes, %d peer(s)%s)", hash, mono() - t0,
            (long long)st.payload_down, st.peers, st.web_seeds_on ? ", web seed on" : "");
    if (seed(self, hash, t, len, announce) < 0)
        ts_warn("seeding %.12s: %s", hash, ts_error());
    rc = 0;
    goto out;
out_remove:
    ts_torrent_remove(self->session, h);
out:
    free(t);
    return rc;
}
