/* torrent: a small C API over libtorrent-rasterbar 2.0 for spreading job inputs between farm machines.
 *
 * DESIGN: one session (ts_torrent_session_t) owns one lt::session and the torrents added to it; torrents are
 * named by a small integer index, never reused within a session. Everything libtorrent tells us arrives as
 * alerts: ts_torrent_wait / ts_torrent_status / ts_torrent_session_counters pop them and keep per-torrent
 * records (finished, error text, hash failures); status() adds libtorrent's own torrent_status. A torrent counts
 * as finished when all its pieces are verified AND its pending disk writes are flushed (flush_cache, then
 * cache_flushed_alert), so the file may be read as soon as ts_torrent_wait returns 0. Torrents are not queued
 * (not auto-managed): every added torrent is active at once. Transfers are TCP only (no uTP): farm traffic is
 * LAN traffic and should not yield to other traffic, and the listen port is then one TCP port.
 * Torrents whose file names could leave the save directory ("..", "." or empty elements, absolute names,
 * separators in a name element, symlink attributes; in v1 "name"/"files" and v2 "file tree") are refused before
 * libtorrent sees them, though libtorrent also sanitizes names. Errors: -1 with ts_error() naming the input; every C++
 * exception is caught at this boundary. A session is used from one thread at a time (libtorrent's own threads
 * are inside). libtorrent exempts LAN and loopback peers from rate limits unless limit_local_peers is set.
 */
#ifndef TS_TORRENT_H
#define TS_TORRENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TS_TORRENT_DEFAULT_LISTEN "0.0.0.0:6881" /* listen interfaces when settings.listen is NULL */
#define TS_TORRENT_HASH_HEX 40                   /* hex characters of a v1 (SHA-1) info-hash */

typedef struct ts_torrent_session ts_torrent_session_t;

/* Zero-initialised: default listen, no DHT/LSD/UPnP/NAT-PMP, no rate limits, one connection per IP. */
typedef struct {
    const char *listen;             /* listen_interfaces, "127.0.0.1:0" or "0.0.0.0:6881,[::]:6881" style (port 0:
                                       any free port); NULL: TS_TORRENT_DEFAULT_LISTEN */
    bool dht, lsd, upnp, natpmp;    /* peer discovery / port mapping; all off for a farm that connects peers itself */
    int upload_rate, download_rate; /* bytes/s, 0 = unlimited */
    bool allow_local_peers;         /* several peers on one IP (a loopback swarm: every peer is 127.0.0.1) */
    bool limit_local_peers;         /* the rate limits also apply to LAN/loopback peers (libtorrent exempts them) */
    int upload_slots;               /* peers uploaded to at once (unchoke slots; LAN peers count too); 0: libtorrent's
                                       default. 1 on an initial seeder makes peers share among themselves */
    int unchoke_interval_s;         /* how often the uploaded-to peers are rotated; 0: libtorrent's default (15 s) */
} ts_torrent_settings_t;

/* Starts a session listening as asked; NULL (message says why, e.g. the address cannot be bound) on failure. */
ts_torrent_session_t *ts_torrent_session_new(const ts_torrent_settings_t *s);
/* Stops the session (blocks until libtorrent has shut down; files are kept) and sets *self_p NULL. */
void ts_torrent_session_destroy(ts_torrent_session_t **self_p);
/* The TCP port actually listened on (the first listen interface that worked). */
int ts_torrent_session_port(ts_torrent_session_t *self);

/* Makes a v1 single-file .torrent for the regular file at path (piece size chosen by libtorrent; the torrent's
   name is the file's base name), with a BEP 19 web seed when web_seed_url is not NULL (the URL of the file itself,
   or of a directory ending in '/' to which the name is appended). *torrent gets the bencoded bytes (malloc'd, the
   caller frees), *len their length, info_hash the v1 info-hash as 40 lowercase hex characters. */
int ts_torrent_create(const char *path, const char *web_seed_url, unsigned char **torrent, size_t *len,
                      char info_hash[TS_TORRENT_HASH_HEX + 1]);

/* ts_torrent_add flags. */
#define TS_TORRENT_SEED 1u        /* the files are complete already: seed them */
#define TS_TORRENT_NO_WEB_SEED 4u /* leave the torrent's web seeds out until ts_torrent_web_seeds() turns them on */

/* Adds a torrent from its bencoded bytes, with its files in save_dir (created if missing). TS_TORRENT_SEED: the
   files are complete already; they are not checked up front (libtorrent hashes each piece before first sending
   it) but each must exist with its size, else -1. Otherwise existing data is checked and the rest downloaded.
   Refuses, before adding, torrents whose file names would escape save_dir ("..", absolute paths, symlinks), the
   message naming the path. Returns the torrent's handle (>= 0) or -1. */
int ts_torrent_add(ts_torrent_session_t *self, const unsigned char *torrent, size_t len, const char *save_dir,
                   unsigned flags);
/* The v1 info-hash of an added torrent, 40 lowercase hex characters. -1 for an unknown handle. */
int ts_torrent_info_hash(ts_torrent_session_t *self, int handle, char info_hash[TS_TORRENT_HASH_HEX + 1]);
/* Turns the torrent's own web seeds (its url-list) on or off; 0, or -1 for an unknown handle. */
int ts_torrent_web_seeds(ts_torrent_session_t *self, int handle, bool on);
/* Connects a known peer, "a.b.c.d:port" or "[v6]:port", to a torrent. Returns at once; the connection is made in
   the background (a peer that cannot be reached is simply not among the peers). */
int ts_torrent_connect_peer(ts_torrent_session_t *self, int handle, const char *host_port);

typedef struct {
    bool finished;                    /* all pieces verified (for a seed_mode torrent: assumed) */
    bool error;                       /* the torrent failed (stopped); message in error_text */
    char error_text[256];
    double progress;                  /* 0..1 */
    int64_t payload_up, payload_down; /* payload bytes for this torrent in this session */
    int peers;                        /* connected peers */
    int hash_failures;                /* pieces that failed their hash check (corrupt data from a peer) */
    bool web_seeds_on;                /* the torrent's web seeds are in use */
} ts_torrent_status_t;

/* Processes pending alerts and fills *st. -1 for an unknown (or removed) handle. */
int ts_torrent_status(ts_torrent_session_t *self, int handle, ts_torrent_status_t *st);
/* Processes alerts and waits up to timeout_ms for the torrent to finish (pieces verified, data on disk);
   0 when finished, -1 when the torrent failed or the time ran out (the message says which, with progress). */
int ts_torrent_wait(ts_torrent_session_t *self, int handle, int timeout_ms);
/* Session-wide payload byte counters (all torrents, including removed ones). */
int ts_torrent_session_counters(ts_torrent_session_t *self, int64_t *payload_up, int64_t *payload_down);
/* Removes a torrent from the session (its files stay) and waits, a few seconds at most, until libtorrent has let go
   of it, so it can be added again at once; the handle becomes unknown. Unknown handles: no-op. */
void ts_torrent_remove(ts_torrent_session_t *self, int handle);

int ts_torrent_test(bool verbose);

#ifdef __cplusplus
}
#endif

#endif
