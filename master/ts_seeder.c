/* ts_seeder: torrents of render inputs, made once, kept in the state directory and seeded from the blob store. */
#include "master/ts_seeder.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_log.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TORRENT_FILE_MAX (10 * 1024 * 1024)

typedef struct {
    char hash[TS_HASH_HEX];
    char info_hash[TS_TORRENT_HASH_HEX + 1];
    unsigned char *bytes;
    size_t len;
    int handle;
} published_t;

struct ts_seeder {
    pthread_mutex_t lock;
    ts_torrent_session_t *session;
    ts_blobs_t *blobs;
    char web_seed_base[512];
    char dir[PATH_MAX];
    published_t *pub;
    size_t npub, cap;
};

ts_seeder_t *ts_seeder_new(const ts_seeder_options_t *opts, ts_blobs_t *blobs)
{
    if (mkdir(opts->dir, 0700) != 0 && errno != EEXIST) {
        ts_error_set("torrent directory %s: %s", opts->dir, strerror(errno));
        return NULL;
    }
    ts_torrent_settings_t s = {
        .listen = opts->listen,
        .lsd = opts->lsd,
        .allow_local_peers = true, /* a café's PCs may share one public address; a test farm is all 127.0.0.1 */
        .upload_slots = opts->upload_slots,
        .unchoke_interval_s = opts->upload_slots > 0 ? 2 : 0, /* rotate the few slots quickly */
    };
    ts_seeder_t *self = calloc(1, sizeof *self);
    if (!self || !(self->session = ts_torrent_session_new(&s))) {
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->blobs = blobs;
    snprintf(self->web_seed_base, sizeof self->web_seed_base, "%s", opts->web_seed_base);
    snprintf(self->dir, sizeof self->dir, "%s", opts->dir);
    ts_info("seeding render inputs over BitTorrent on port %d%s", ts_torrent_session_port(self->session),
            opts->lsd ? " (local service discovery on)" : "");
    return self;
}

void ts_seeder_destroy(ts_seeder_t **self_p)
{
    ts_seeder_t *self = *self_p;
    if (!self)
        return;
    ts_torrent_session_destroy(&self->session);
    for (size_t i = 0; i < self->npub; i++)
        free(self->pub[i].bytes);
    free(self->pub);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int ts_seeder_port(ts_seeder_t *self)
{
    return ts_torrent_session_port(self->session);
}

static published_t *find(ts_seeder_t *self, const char *hash)
{
    for (size_t i = 0; i < self->npub; i++)
        if (strcmp(self->pub[i].hash, hash) == 0)
            return &self->pub[i];
    return NULL;
}

/* A .torrent kept from an earlier run, when it still names the current web seed; NULL otherwise. */
static unsigned char *load_kept(const char *path, const char *url, size_t *len)
{
    uint8_t *buf = NULL;
    if (access(path, F_OK) != 0 || ts_file_read(path, TORRENT_FILE_MAX, 0, &buf, len) < 0)
        return NULL;
    if (!memmem(buf, *len, url, strlen(url))) {
        free(buf);
        return NULL;
    }
    return buf;
}

int ts_seeder_publish(ts_seeder_t *self, const char *hash, char info_hash[TS_TORRENT_HASH_HEX + 1])
{
    if (!ts_hash_valid(hash))
        return ts_error_set("'%s' is not a content hash", hash);
    pthread_mutex_lock(&self->lock);
    published_t *p = find(self, hash);
    if (p && info_hash)
        memcpy(info_hash, p->info_hash, sizeof p->info_hash);
    pthread_mutex_unlock(&self->lock);
    if (p)
        return 0;
    if (!ts_blobs_has(self->blobs, hash))
        return ts_error_set("input %s is not stored", hash);

    /* Hashing happens outside the lock: a big scene must not hold up the reactor's lookups. */
    char blob[PATH_MAX], kept[PATH_MAX + 80], url[640], ih[TS_TORRENT_HASH_HEX + 1];
    ts_blobs_path(self->blobs, hash, blob, sizeof blob);
    snprintf(kept, sizeof kept, "%s/%s.torrent", self->dir, hash);
    snprintf(url, sizeof url, "%s/%s", self->web_seed_base, hash);
    size_t len = 0;
    unsigned char *bytes = load_kept(kept, url, &len);
    bool fresh = !bytes;
    if (fresh) {
        if (ts_torrent_create(blob, url, &bytes, &len, ih) < 0)
            return -1;
        if (ts_file_write_atomic(kept, bytes, len) < 0) /* only costs hashing again next run */
            ts_warn("keeping the torrent: %s", ts_error());
    }
    char save_dir[PATH_MAX];
    snprintf(save_dir, sizeof save_dir, "%s", blob);
    dirname(save_dir);

    pthread_mutex_lock(&self->lock);
    int rc = 0;
    if ((p = find(self, hash))) { /* published by another thread meanwhile */
        free(bytes);
    } else if (self->npub == self->cap &&
               !(self->pub = realloc(self->pub, (self->cap = self->cap ? 2 * self->cap : 16) * sizeof *self->pub))) {
        free(bytes);
        rc = ts_error_set("publishing %s: out of memory", hash);
    } else {
        int h = ts_torrent_add(self->session, bytes, len, save_dir, TS_TORRENT_SEED);
        ts_torrent_status_t st;
        if (h < 0 || ts_torrent_status(self->session, h, &st) < 0) {
            free(bytes);
            rc = ts_error_prefix("seeding %s", hash);
        } else {
            p = &self->pub[self->npub++];
            memset(p, 0, sizeof *p);
            snprintf(p->hash, sizeof p->hash, "%s", hash);
            p->bytes = bytes;
            p->len = len;
            p->handle = h;
            /* the info-hash of a kept torrent: ask the session rather than parse it here */
            if (fresh)
                memcpy(p->info_hash, ih, sizeof ih);
            else if (ts_torrent_info_hash(self->session, h, p->info_hash) < 0)
                rc = -1;
            ts_info("seeding input %.12s as torrent %s (%zu-byte .torrent%s)", hash, p->info_hash, len,
                    fresh ? "" : ", kept from an earlier run");
        }
    }
    if (rc == 0 && p && info_hash)
        memcpy(info_hash, p->info_hash, sizeof p->info_hash);
    pthread_mutex_unlock(&self->lock);
    return rc;
}

int ts_seeder_torrent(ts_seeder_t *self, const char *hash, unsigned char **bytes, size_t *len)
{
    pthread_mutex_lock(&self->lock);
    published_t *p = find(self, hash);
    int rc = 1;
    if (p && (*bytes = malloc(p->len))) {
        memcpy(*bytes, p->bytes, p->len);
        *len = p->len;
        rc = 0;
    } else if (p) {
        rc = ts_error_set("out of memory");
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

int64_t ts_seeder_uploaded(ts_seeder_t *self)
{
    int64_t up = 0, down = 0;
    pthread_mutex_lock(&self->lock);
    if (ts_torrent_session_counters(self->session, &up, &down) < 0) {
        ts_warn("torrent counters: %s", ts_error());
        up = 0;
    }
    pthread_mutex_unlock(&self->lock);
    return up;
}
