/* ts_torrent: the C API of torrent/torrent.h over libtorrent 2.0 (sessions, .torrent creation, alerts). */
#include "torrent/torrent.h"
extern "C" {
#include "lib/ts_error.h" /* C headers without extern "C" guards of their own */
#include "lib/ts_log.h"
#include "lib/ts_version.h"
}

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/bdecode.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/ip_filter.hpp>
#include <libtorrent/load_torrent.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/session_stats.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cassert>
#include <cstdarg>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace lt = libtorrent;
namespace fs = std::filesystem;

#define TS_TORRENT_LISTEN_TIMEOUT_MS 10000 /* longest wait for the listen sockets when a session starts */
#define TS_TORRENT_STATS_TIMEOUT_MS 5000   /* longest wait for a session_stats_alert */
#define TS_TORRENT_REMOVE_TIMEOUT_MS 5000  /* longest wait for libtorrent to drop a removed torrent */
#define TS_TORRENT_USER_AGENT "tessera/" TS_VERSION
#define TS_TORRENT_MAX_TORRENT_BYTES (10 * 1024 * 1024) /* largest .torrent accepted (libtorrent's default) */
#define TS_TORRENT_DECODE_DEPTH 100                     /* bdecode nesting limit (libtorrent's default) */
#define TS_TORRENT_DECODE_TOKENS 3000000                /* bdecode token limit (libtorrent's default) */

/* The alerts we act on: errors, state changes (finished, checked, hash failures, listen results), peer bans and
   url-seed errors (peer), and cache_flushed_alert (storage). session_stats_alert is always posted. */
static const lt::alert_category_t s_alert_mask =
    lt::alert_category::error | lt::alert_category::status | lt::alert_category::peer | lt::alert_category::storage;

namespace {

/* What the alerts told us about one torrent. */
struct torrent_rec {
    lt::torrent_handle h;
    std::string name;
    bool removed = false;
    bool dirty = true;           /* something changed: re-read status() before judging it finished */
    bool flush_posted = false;   /* flush_cache() asked for since it last finished */
    bool flushed = false;        /* cache_flushed_alert arrived after that */
    std::string error;           /* first error alert's message, "" when none */
    int hash_failures = 0;
    std::vector<std::string> web_seeds; /* the torrent's url-list */
    bool web_seeds_on = true;
};

} /* namespace */

struct ts_torrent_session {
    std::unique_ptr<lt::session> ses;
    std::vector<torrent_rec> torrents; /* indexed by handle */
    int port = 0;
    /* listen results, while the session starts */
    int listen_failures = 0;
    std::string listen_error;
    /* the latest session_stats_alert */
    bool stats_arrived = false;
    int64_t stats_up = 0, stats_down = 0;
    int idx_sent = -1, idx_recv = -1;
};

namespace {

using clock_type = std::chrono::steady_clock;

/* Sets the message and returns false, for the checks below. */
__attribute__((format(printf, 1, 2))) bool refuse(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ts_error_setv(fmt, ap);
    va_end(ap);
    return false;
}

torrent_rec *find_rec(ts_torrent_session_t *self, const lt::torrent_handle &h)
{
    for (auto &r : self->torrents)
        if (!r.removed && r.h == h)
            return &r;
    return nullptr;
}

torrent_rec *rec_of(ts_torrent_session_t *self, int handle)
{
    if (handle < 0 || (size_t)handle >= self->torrents.size() || self->torrents[handle].removed) {
        ts_error_set("torrent handle %d: no such torrent in this session", handle);
        return nullptr;
    }
    return &self->torrents[handle];
}

/* Acts on one alert: updates the records it concerns. */
void dispatch(ts_torrent_session_t *self, lt::alert *a)
{
    if (auto *ls = lt::alert_cast<lt::listen_succeeded_alert>(a)) {
        if (ls->socket_type == lt::socket_type_t::tcp && self->port == 0)
            self->port = ls->port;
        return;
    }
    if (auto *lf = lt::alert_cast<lt::listen_failed_alert>(a)) {
        if (lf->socket_type == lt::socket_type_t::tcp) {
            self->listen_failures++;
            if (self->listen_error.empty())
                self->listen_error = lf->message();
        }
        return;
    }
    if (auto *ss = lt::alert_cast<lt::session_stats_alert>(a)) {
        auto c = ss->counters();
        self->stats_up = c[self->idx_sent];
        self->stats_down = c[self->idx_recv];
        self->stats_arrived = true;
        return;
    }
    if (lt::alert_cast<lt::alerts_dropped_alert>(a)) {
        ts_debug("torrent: libtorrent dropped alerts; re-reading every torrent's status");
        for (auto &r : self->torrents)
            r.dirty = true;
        return;
    }
    auto *ta = dynamic_cast<lt::torrent_alert *>(a);
    if (!ta)
        return;
    torrent_rec *r = find_rec(self, ta->handle);
    if (!r)
        return;
    if (auto *hf = lt::alert_cast<lt::hash_failed_alert>(a)) {
        r->hash_failures++;
        r->dirty = true;
        ts_debug("torrent %s: piece %d failed its hash check", r->name.c_str(), static_cast<int>(hf->piece_index));
    } else if (lt::alert_cast<lt::peer_ban_alert>(a)) {
        ts_debug("torrent %s: %s", r->name.c_str(), a->message().c_str());
    } else if (lt::alert_cast<lt::torrent_error_alert>(a) || lt::alert_cast<lt::file_error_alert>(a)) {
        if (r->error.empty())
            r->error = a->message();
        r->dirty = true;
        ts_debug("torrent %s: %s", r->name.c_str(), a->message().c_str());
    } else if (lt::alert_cast<lt::url_seed_alert>(a)) {
        ts_debug("torrent %s: %s", r->name.c_str(), a->message().c_str());
    } else if (lt::alert_cast<lt::cache_flushed_alert>(a)) {
        if (r->flush_posted)
            r->flushed = true;
        r->dirty = true;
    } else if (auto *sc = lt::alert_cast<lt::state_changed_alert>(a)) {
        if (sc->state != lt::torrent_status::seeding && sc->state != lt::torrent_status::finished)
            r->flush_posted = r->flushed = false; /* back to checking or downloading: flush again when done */
        r->dirty = true;
    } else if (lt::alert_cast<lt::torrent_finished_alert>(a) || lt::alert_cast<lt::torrent_checked_alert>(a)) {
        r->dirty = true;
    }
}

/* Waits up to timeout_ms for alerts (0: only takes what is there) and handles every one. */
void pump(ts_torrent_session_t *self, int timeout_ms)
{
    if (timeout_ms > 0 && !self->ses->wait_for_alert(std::chrono::milliseconds(timeout_ms)))
        return;
    std::vector<lt::alert *> alerts;
    self->ses->pop_alerts(&alerts);
    for (lt::alert *a : alerts)
        dispatch(self, a);
}

int ms_left(clock_type::time_point deadline)
{
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    return left > 0 ? (int)left : 0;
}

/* The error text for a torrent: the first error alert's message, else libtorrent's error code; "" when none. */
std::string error_of(const torrent_rec &r, const lt::torrent_status &st)
{
    if (!r.error.empty())
        return r.error;
    if (st.errc)
        return st.errc.message();
    return "";
}

/* ---------------------------------------------------------------------------------------------------------- */
/* File names: refused when they could leave the save directory.                                               */

/* Checks one path element; sets the message (naming the whole path) and returns false when it is unsafe. */
bool element_ok(const std::string &elem, const std::string &path, const char *where)
{
    if (elem.empty() || elem == "." || elem == "..")
        return refuse("torrent file name \"%s\" (%s): path element \"%s\" is not allowed (it could escape the "
                      "save directory)", path.c_str(), where, elem.c_str());
    if (elem.find_first_of(std::string("/\\\0", 3)) != std::string::npos) {
        if (path[0] == '/' || path[0] == '\\')
            return refuse("torrent file name \"%s\" (%s): absolute paths are not allowed", path.c_str(), where);
        return refuse("torrent file name \"%s\" (%s): path element \"%s\" holds a path separator (or NUL); \"..\" "
                      "and absolute paths are not allowed", path.c_str(), where, elem.c_str());
    }
    return true;
}

/* A file's "attr" string: 'l' marks a symlink, refused (its target could point anywhere). */
bool attr_ok(const lt::bdecode_node &file, const std::string &path, const char *where)
{
    std::string attr(file.dict_find_string_value("attr"));
    if (attr.find('l') != std::string::npos || file.dict_find("symlink path"))
        return refuse("torrent file name \"%s\" (%s): symlinks are not allowed", path.c_str(), where);
    return true;
}

/* The string value of key, or of key.utf-8 when present (libtorrent prefers that one); checks both. */
bool name_ok(const lt::bdecode_node &dict, const char *key, const char *where)
{
    for (std::string k : { std::string(key), std::string(key) + ".utf-8" }) {
        lt::bdecode_node n = dict.dict_find(k);
        if (!n)
            continue;
        if (n.type() != lt::bdecode_node::string_t)
            return refuse("torrent %s: \"%s\" is not a string", where, k.c_str());
        std::string v(n.string_value());
        if (!element_ok(v, v, where))
            return false;
    }
    return true;
}

/* A v1 "path" list (and "path.utf-8"), joined with '/' for messages. */
bool path_list_ok(const lt::bdecode_node &file, const std::string &root, const char *where)
{
    for (const char *k : { "path", "path.utf-8" }) {
        lt::bdecode_node p = file.dict_find(k);
        if (!p)
            continue;
        if (p.type() != lt::bdecode_node::list_t)
            return refuse("torrent %s: \"%s\" is not a list", where, k);
        std::string joined = root;
        for (int j = 0; j < p.list_size(); j++) {
            lt::bdecode_node e = p.list_at(j);
            joined += "/";
            if (e.type() == lt::bdecode_node::string_t)
                joined += std::string(e.string_value());
        }
        for (int j = 0; j < p.list_size(); j++) {
            lt::bdecode_node e = p.list_at(j);
            if (e.type() != lt::bdecode_node::string_t)
                return refuse("torrent file name \"%s\" (%s): path element %d is not a string",
                                    joined.c_str(), where, j);
            if (!element_ok(std::string(e.string_value()), joined, where))
                return false;
        }
        if (!attr_ok(file, joined, where))
            return false;
    }
    return true;
}

/* A v2 "file tree": every key is a path element; a key "" holds a file's properties. Each file's elements are
   checked once its whole path is known, so the message names that path. */
bool file_tree_ok(const lt::bdecode_node &tree, std::vector<std::string> &elems)
{
    std::string path;
    for (const auto &e : elems)
        path += (path.empty() ? "" : "/") + e;
    if (tree.type() != lt::bdecode_node::dict_t)
        return refuse("torrent file tree \"%s\": not a dictionary", path.c_str());
    if (elems.size() > TS_TORRENT_DECODE_DEPTH)
        return refuse("torrent file tree \"%s\": nested too deep", path.c_str());
    for (int i = 0; i < tree.dict_size(); i++) {
        auto kv = tree.dict_at(i);
        if (kv.first.empty()) { /* a file: its path is complete */
            for (const auto &e : elems)
                if (!element_ok(e, path, "info.file tree"))
                    return false;
            if (elems.empty())
                return refuse("torrent file tree: a file without a name");
            if (!attr_ok(kv.second, path, "info.file tree"))
                return false;
            continue;
        }
        elems.emplace_back(kv.first);
        bool ok = file_tree_ok(kv.second, elems);
        elems.pop_back();
        if (!ok)
            return false;
    }
    return true;
}

/* Every file name in the info dictionary, v1 and v2. */
bool names_ok(const lt::bdecode_node &info)
{
    if (!name_ok(info, "name", "info.name"))
        return false;
    std::string root(info.dict_find_string_value("name.utf-8"));
    if (root.empty())
        root = std::string(info.dict_find_string_value("name"));
    if (!attr_ok(info, root, "info"))
        return false;
    if (lt::bdecode_node files = info.dict_find("files")) {
        if (files.type() != lt::bdecode_node::list_t)
            return refuse("torrent info.files: not a list");
        for (int i = 0; i < files.list_size(); i++) {
            lt::bdecode_node f = files.list_at(i);
            std::string where = "info.files[" + std::to_string(i) + "]";
            if (f.type() != lt::bdecode_node::dict_t)
                return refuse("torrent %s: not a dictionary", where.c_str());
            if (!path_list_ok(f, root, where.c_str()))
                return false;
        }
    }
    if (lt::bdecode_node tree = info.dict_find("file tree")) {
        std::vector<std::string> elems;
        return file_tree_ok(tree, elems);
    }
    return true;
}

/* For seed_mode: every file (pad files aside) exists in save_dir with the size the torrent gives. */
bool files_present(const lt::torrent_info &ti, const std::string &save_dir)
{
    const lt::file_storage &files = ti.files();
    for (lt::file_index_t i : files.file_range()) {
        if (files.pad_file_at(i))
            continue;
        std::string p = files.file_path(i, save_dir);
        struct stat sb;
        if (stat(p.c_str(), &sb) != 0)
            return refuse("seeding torrent \"%s\": %s: %s", ti.name().c_str(), p.c_str(),
                                std::strerror(errno));
        if (!S_ISREG(sb.st_mode) || (int64_t)sb.st_size != files.file_size(i))
            return refuse("seeding torrent \"%s\": %s is %s of %lld bytes, the torrent says %lld bytes",
                                ti.name().c_str(), p.c_str(), S_ISREG(sb.st_mode) ? "a file" : "not a regular file",
                                (long long)sb.st_size, (long long)files.file_size(i));
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------------------- */

std::string hex_of(const lt::sha1_hash &h)
{
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (char c : h) {
        s += digits[(unsigned char)c >> 4];
        s += digits[(unsigned char)c & 15];
    }
    return s;
}

ts_torrent_session_t *session_new(const ts_torrent_settings_t *s)
{
    const char *listen = s->listen ? s->listen : TS_TORRENT_DEFAULT_LISTEN;
    if (s->upload_slots < 0 || s->unchoke_interval_s < 0) {
        ts_error_set("torrent session: upload slots (%d) and unchoke interval (%d s) must be >= 0", s->upload_slots,
                     s->unchoke_interval_s);
        return nullptr;
    }
    if (s->upload_rate < 0 || s->download_rate < 0) {
        ts_error_set("torrent session: rate limits must be >= 0 bytes/s (upload %d, download %d)", s->upload_rate,
                     s->download_rate);
        return nullptr;
    }
    lt::settings_pack p;
    p.set_str(lt::settings_pack::listen_interfaces, listen);
    p.set_str(lt::settings_pack::user_agent, TS_TORRENT_USER_AGENT);
    p.set_int(lt::settings_pack::alert_mask, s_alert_mask);
    p.set_bool(lt::settings_pack::enable_dht, s->dht);
    p.set_bool(lt::settings_pack::enable_lsd, s->lsd);
    p.set_bool(lt::settings_pack::enable_upnp, s->upnp);
    p.set_bool(lt::settings_pack::enable_natpmp, s->natpmp);
    if (s->upload_slots > 0) {
        p.set_int(lt::settings_pack::unchoke_slots_limit, s->upload_slots);
        p.set_int(lt::settings_pack::allowed_fast_set_size, 0); /* choked peers get nothing (BEP 6 allows some) */
    }
    if (s->unchoke_interval_s > 0)
        p.set_int(lt::settings_pack::unchoke_interval, s->unchoke_interval_s);
    p.set_int(lt::settings_pack::upload_rate_limit, s->upload_rate);
    p.set_int(lt::settings_pack::download_rate_limit, s->download_rate);
    p.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, s->allow_local_peers);
    /* TCP only: LAN transfers should not back off like uTP (LEDBAT) does, and one TCP port is the port. */
    p.set_bool(lt::settings_pack::enable_incoming_utp, false);
    p.set_bool(lt::settings_pack::enable_outgoing_utp, false);
    p.set_bool(lt::settings_pack::enable_incoming_tcp, true);
    p.set_bool(lt::settings_pack::enable_outgoing_tcp, true);

    lt::session_params params(std::move(p)); /* with the default plugins: ut_metadata, ut_pex, smart_ban */
    auto self = std::make_unique<ts_torrent_session>();
    self->idx_sent = lt::find_metric_idx("net.sent_payload_bytes");
    self->idx_recv = lt::find_metric_idx("net.recv_payload_bytes");
    if (self->idx_sent < 0 || self->idx_recv < 0) {
        ts_error_set("torrent session: this libtorrent has no net.sent/recv_payload_bytes counters");
        return nullptr;
    }
    self->ses = std::make_unique<lt::session>(std::move(params));

    if (s->limit_local_peers || s->upload_slots > 0) {
        /* libtorrent puts LAN/loopback addresses in the local peer class only, which has no rate limit and ignores
           unchoke slots; put them in the global class too, and keep the local one only when upload slots are not
           limited (a farm's peers are all local: the slot limit must apply to them). */
        lt::ip_filter f = self->ses->get_peer_class_filter();
        const uint32_t global = 1u << static_cast<uint32_t>(lt::session::global_peer_class_id);
        const uint32_t local = 1u << static_cast<uint32_t>(lt::session::local_peer_class_id);
        static const char *const local_ranges[][2] = {
            { "10.0.0.0", "10.255.255.255" },   { "172.16.0.0", "172.31.255.255" },
            { "192.168.0.0", "192.168.255.255" }, { "169.254.0.0", "169.254.255.255" },
            { "127.0.0.0", "127.255.255.255" }, { "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
            { "::1", "::1" },
        };
        for (auto &r : local_ranges)
            f.add_rule(lt::make_address(r[0]), lt::make_address(r[1]), s->upload_slots > 0 ? global : global | local);
        self->ses->set_peer_class_filter(f);
    }

    /* The listen sockets are opened in the background: wait for the first TCP one, or for every listed
       interface to have failed. */
    int interfaces = 1;
    for (const char *c = listen; *c; c++)
        interfaces += *c == ',';
    auto deadline = clock_type::now() + std::chrono::milliseconds(TS_TORRENT_LISTEN_TIMEOUT_MS);
    while (self->port == 0 && self->listen_failures < interfaces && ms_left(deadline) > 0)
        pump(self.get(), ms_left(deadline));
    if (self->port == 0) {
        ts_error_set("torrent session: cannot listen on \"%s\": %s", listen,
                     self->listen_error.empty() ? "no listen socket within the time allowed"
                                                : self->listen_error.c_str());
        return nullptr;
    }
    return self.release();
}

int create(const char *path, const char *web_seed_url, unsigned char **torrent, size_t *len, char *info_hash)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ts_error_set("making a torrent of %s: %s", path, std::strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return ts_error_set("making a torrent of %s: not a regular file", path);
    if (sb.st_size == 0)
        return ts_error_set("making a torrent of %s: the file is empty", path);
    fs::path abs = fs::absolute(path);
    lt::file_storage files;
    lt::add_files(files, abs.string());
    if (files.num_files() != 1)
        return ts_error_set("making a torrent of %s: expected one file, found %d", path, files.num_files());
    lt::create_torrent t(files, 0, lt::create_torrent::v1_only);
    t.set_creator(TS_TORRENT_USER_AGENT);
    if (web_seed_url)
        t.add_url_seed(web_seed_url);
    lt::error_code ec;
    lt::set_piece_hashes(t, abs.parent_path().string(), ec);
    if (ec)
        return ts_error_set("making a torrent of %s: hashing: %s", path, ec.message().c_str());
    std::vector<char> buf;
    lt::bencode(std::back_inserter(buf), t.generate());
    lt::torrent_info ti(buf, ec, lt::from_span);
    if (ec)
        return ts_error_set("making a torrent of %s: reading it back: %s", path, ec.message().c_str());
    std::string hex = hex_of(ti.info_hashes().v1);
    assert(hex.size() == TS_TORRENT_HASH_HEX);
    unsigned char *out = (unsigned char *)std::malloc(buf.size());
    if (!out)
        return ts_error_set("making a torrent of %s: out of memory (%zu bytes)", path, buf.size());
    std::memcpy(out, buf.data(), buf.size());
    *torrent = out;
    *len = buf.size();
    std::memcpy(info_hash, hex.c_str(), TS_TORRENT_HASH_HEX + 1);
    return 0;
}

int add(ts_torrent_session_t *self, const unsigned char *torrent, size_t len, const char *save_dir, unsigned flags)
{
    const bool seed_mode = flags & TS_TORRENT_SEED;

    if (len == 0)
        return ts_error_set("adding a torrent to %s: the torrent is empty (0 bytes)", save_dir);
    if (len > TS_TORRENT_MAX_TORRENT_BYTES)
        return ts_error_set("adding a torrent to %s: the torrent is %zu bytes, more than %d", save_dir, len,
                            TS_TORRENT_MAX_TORRENT_BYTES);
    lt::error_code ec;
    int pos = 0;
    lt::bdecode_node root = lt::bdecode({ (const char *)torrent, (std::ptrdiff_t)len }, ec, &pos,
                                        TS_TORRENT_DECODE_DEPTH, TS_TORRENT_DECODE_TOKENS);
    if (ec)
        return ts_error_set("adding a torrent to %s: not bencoded: %s at byte %d", save_dir, ec.message().c_str(),
                            pos);
    if (root.type() != lt::bdecode_node::dict_t)
        return ts_error_set("adding a torrent to %s: not a dictionary", save_dir);
    lt::bdecode_node info = root.dict_find_dict("info");
    if (!info)
        return ts_error_set("adding a torrent to %s: no \"info\" dictionary", save_dir);
    if (!names_ok(info))
        return ts_error_prefix("adding a torrent to %s", save_dir);

    lt::load_torrent_limits limits;
    limits.max_buffer_size = TS_TORRENT_MAX_TORRENT_BYTES;
    limits.max_decode_depth = TS_TORRENT_DECODE_DEPTH;
    limits.max_decode_tokens = TS_TORRENT_DECODE_TOKENS;
    lt::add_torrent_params atp;
    try {
        atp = lt::load_torrent_parsed(root, limits);
    } catch (const std::exception &e) {
        return ts_error_set("adding a torrent to %s: not a valid torrent: %s", save_dir, e.what());
    }
    if (!atp.ti)
        return ts_error_set("adding a torrent to %s: no metadata", save_dir);
    std::string name = atp.ti->name();
    if (seed_mode && !files_present(*atp.ti, save_dir))
        return ts_error_prefix("adding a torrent to %s", save_dir);
    atp.save_path = save_dir;
    atp.flags &= ~(lt::torrent_flags::auto_managed | lt::torrent_flags::paused);
    if (seed_mode)
        atp.flags |= lt::torrent_flags::seed_mode;
    torrent_rec rec;
    /* load_torrent may leave the url-list in the torrent_info or move it to url_seeds: take both */
    for (const lt::web_seed_entry &ws : atp.ti->web_seeds())
        if (ws.type == lt::web_seed_entry::url_seed)
            rec.web_seeds.push_back(ws.url);
    for (const std::string &u : atp.url_seeds)
        if (std::find(rec.web_seeds.begin(), rec.web_seeds.end(), u) == rec.web_seeds.end())
            rec.web_seeds.push_back(u);
    if (flags & TS_TORRENT_NO_WEB_SEED) {
        auto ti = std::make_shared<lt::torrent_info>(*atp.ti);
        ti->set_web_seeds({});
        atp.ti = ti;
        atp.url_seeds.clear();
        rec.web_seeds_on = false;
    }
    rec.h = self->ses->add_torrent(std::move(atp), ec);
    if (ec)
        return ts_error_set("adding torrent \"%s\" to %s: %s", name.c_str(), save_dir, ec.message().c_str());
    rec.name = name;
    self->torrents.push_back(std::move(rec));
    return (int)self->torrents.size() - 1;
}

int web_seeds(ts_torrent_session_t *self, int handle, bool on)
{
    torrent_rec *r = rec_of(self, handle);
    if (!r)
        return -1;
    if (r->web_seeds_on == on)
        return 0;
    for (const std::string &url : r->web_seeds) {
        if (on)
            r->h.add_url_seed(url);
        else
            r->h.remove_url_seed(url);
    }
    r->web_seeds_on = on;
    return 0;
}

int connect_peer(ts_torrent_session_t *self, int handle, const char *host_port)
{
    torrent_rec *r = rec_of(self, handle);
    if (!r)
        return -1;
    std::string hp(host_port), host, port_s;
    if (!hp.empty() && hp[0] == '[') {
        size_t close = hp.find(']');
        if (close == std::string::npos || close + 1 >= hp.size() || hp[close + 1] != ':')
            return ts_error_set("peer \"%s\": expected [v6-address]:port", host_port);
        host = hp.substr(1, close - 1);
        port_s = hp.substr(close + 2);
    } else {
        size_t colon = hp.rfind(':');
        if (colon == std::string::npos || hp.find(':') != colon)
            return ts_error_set("peer \"%s\": expected address:port (IPv6 as [address]:port)", host_port);
        host = hp.substr(0, colon);
        port_s = hp.substr(colon + 1);
    }
    char *end = nullptr;
    errno = 0;
    long port = std::strtol(port_s.c_str(), &end, 10);
    if (port_s.empty() || *end || errno || port < 1 || port > 65535)
        return ts_error_set("peer \"%s\": port \"%s\" is not 1..65535", host_port, port_s.c_str());
    lt::error_code ec;
    lt::address addr = lt::make_address(host, ec);
    if (ec)
        return ts_error_set("peer \"%s\": \"%s\" is not an IP address: %s", host_port, host.c_str(),
                            ec.message().c_str());
    r->h.connect_peer(lt::tcp::endpoint(addr, (unsigned short)port));
    return 0;
}

int status(ts_torrent_session_t *self, int handle, ts_torrent_status_t *out)
{
    pump(self, 0);
    torrent_rec *r = rec_of(self, handle);
    if (!r)
        return -1;
    lt::torrent_status st = r->h.status();
    std::memset(out, 0, sizeof *out);
    out->finished = st.is_finished;
    std::string err = error_of(*r, st);
    out->error = !err.empty();
    std::snprintf(out->error_text, sizeof out->error_text, "%s", err.c_str());
    out->progress = st.progress;
    out->payload_up = st.total_payload_upload;
    out->payload_down = st.total_payload_download;
    out->peers = st.num_peers;
    out->hash_failures = r->hash_failures;
    out->web_seeds_on = r->web_seeds_on;
    return 0;
}

int wait(ts_torrent_session_t *self, int handle, int timeout_ms)
{
    if (!rec_of(self, handle))
        return -1;
    auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        torrent_rec *r = &self->torrents[handle]; /* the vector does not grow here, but re-take it anyway */
        if (r->dirty) {
            r->dirty = false;
            lt::torrent_status st = r->h.status();
            std::string err = error_of(*r, st);
            if (!err.empty())
                return ts_error_set("torrent \"%s\": failed: %s", r->name.c_str(), err.c_str());
            if (st.is_finished) {
                if (r->flushed)
                    return 0;
                if (!r->flush_posted) { /* finished: now make sure every verified block is on disk */
                    r->flush_posted = true;
                    r->h.flush_cache();
                }
            }
        }
        int left = ms_left(deadline);
        if (left == 0) {
            lt::torrent_status st = r->h.status();
            return ts_error_set("torrent \"%s\": not finished after %d ms (%.1f%% done, %d peers, state %d)",
                                r->name.c_str(), timeout_ms, st.progress * 100.0, st.num_peers, (int)st.state);
        }
        pump(self, left);
    }
}

int counters(ts_torrent_session_t *self, int64_t *up, int64_t *down)
{
    self->stats_arrived = false;
    self->ses->post_session_stats();
    auto deadline = clock_type::now() + std::chrono::milliseconds(TS_TORRENT_STATS_TIMEOUT_MS);
    while (!self->stats_arrived && ms_left(deadline) > 0)
        pump(self, ms_left(deadline));
    if (!self->stats_arrived)
        return ts_error_set("torrent session: no session statistics within %d ms", TS_TORRENT_STATS_TIMEOUT_MS);
    *up = self->stats_up;
    *down = self->stats_down;
    return 0;
}

} /* namespace */

/* ---------------------------------------------------------------------------------------------------------- */
/* The C boundary: every exception stops here.                                                                 */

#define TS_TORRENT_CATCH(context, fail)                                                                           \
    catch (const std::exception &e)                                                                            \
    {                                                                                                          \
        ts_error_set("%s: %s", context, e.what());                                                                \
        return fail;                                                                                           \
    }                                                                                                          \
    catch (...)                                                                                                \
    {                                                                                                          \
        ts_error_set("%s: unexpected exception", context);                                                        \
        return fail;                                                                                           \
    }

extern "C" ts_torrent_session_t *ts_torrent_session_new(const ts_torrent_settings_t *s)
{
    assert(s);
    try {
        return session_new(s);
    }
    TS_TORRENT_CATCH("torrent session", nullptr)
}

extern "C" void ts_torrent_session_destroy(ts_torrent_session_t **self_p)
{
    assert(self_p);
    if (!*self_p)
        return;
    try {
        delete *self_p; /* lt::session's destructor waits for libtorrent's threads */
    } catch (const std::exception &e) {
        ts_warn("torrent session: stopping: %s", e.what());
    } catch (...) {
        ts_warn("torrent session: stopping: unexpected exception");
    }
    *self_p = nullptr;
}

extern "C" int ts_torrent_session_port(ts_torrent_session_t *self)
{
    assert(self);
    return self->port;
}

extern "C" int ts_torrent_create(const char *path, const char *web_seed_url, unsigned char **torrent, size_t *len,
                                 char info_hash[TS_TORRENT_HASH_HEX + 1])
{
    assert(path && torrent && len && info_hash);
    try {
        return create(path, web_seed_url, torrent, len, info_hash);
    }
    TS_TORRENT_CATCH(("making a torrent of " + std::string(path)).c_str(), -1)
}

extern "C" int ts_torrent_add(ts_torrent_session_t *self, const unsigned char *torrent, size_t len,
                              const char *save_dir, unsigned flags)
{
    assert(self && (torrent || len == 0) && save_dir);
    try {
        return add(self, torrent, len, save_dir, flags);
    }
    TS_TORRENT_CATCH(("adding a torrent to " + std::string(save_dir)).c_str(), -1)
}

extern "C" int ts_torrent_info_hash(ts_torrent_session_t *self, int handle, char info_hash[TS_TORRENT_HASH_HEX + 1])
{
    assert(self && info_hash);
    try {
        torrent_rec *r = rec_of(self, handle);
        if (!r)
            return -1;
        std::string hex = hex_of(r->h.info_hashes().v1);
        std::snprintf(info_hash, TS_TORRENT_HASH_HEX + 1, "%s", hex.c_str());
        return 0;
    }
    TS_TORRENT_CATCH(("torrent handle " + std::to_string(handle)).c_str(), -1)
}

extern "C" int ts_torrent_web_seeds(ts_torrent_session_t *self, int handle, bool on)
{
    assert(self);
    try {
        return web_seeds(self, handle, on);
    }
    TS_TORRENT_CATCH(("torrent handle " + std::to_string(handle)).c_str(), -1)
}

extern "C" int ts_torrent_connect_peer(ts_torrent_session_t *self, int handle, const char *host_port)
{
    assert(self && host_port);
    try {
        return connect_peer(self, handle, host_port);
    }
    TS_TORRENT_CATCH(("connecting peer " + std::string(host_port)).c_str(), -1)
}

extern "C" int ts_torrent_status(ts_torrent_session_t *self, int handle, ts_torrent_status_t *st)
{
    assert(self && st);
    try {
        return status(self, handle, st);
    }
    TS_TORRENT_CATCH(("torrent handle " + std::to_string(handle)).c_str(), -1)
}

extern "C" int ts_torrent_wait(ts_torrent_session_t *self, int handle, int timeout_ms)
{
    assert(self);
    try {
        return wait(self, handle, timeout_ms);
    }
    TS_TORRENT_CATCH(("waiting for torrent handle " + std::to_string(handle)).c_str(), -1)
}

extern "C" int ts_torrent_session_counters(ts_torrent_session_t *self, int64_t *payload_up, int64_t *payload_down)
{
    assert(self && payload_up && payload_down);
    try {
        return counters(self, payload_up, payload_down);
    }
    TS_TORRENT_CATCH("torrent session counters", -1)
}

extern "C" void ts_torrent_remove(ts_torrent_session_t *self, int handle)
{
    assert(self);
    if (handle < 0 || (size_t)handle >= self->torrents.size() || self->torrents[handle].removed)
        return;
    try {
        /* Wait (briefly) until libtorrent has let go of the torrent and its files, so the same torrent can be
           added again at once (from another directory, say) and the files moved. */
        lt::info_hash_t ih = self->torrents[handle].h.info_hashes();
        self->ses->remove_torrent(self->torrents[handle].h);
        auto deadline = clock_type::now() + std::chrono::milliseconds(TS_TORRENT_REMOVE_TIMEOUT_MS);
        while (ms_left(deadline) > 0 && self->ses->find_torrent(ih.get_best()).is_valid())
            pump(self, 50);
    } catch (const std::exception &e) {
        ts_warn("torrent handle %d: removing: %s", handle, e.what());
    } catch (...) {
        ts_warn("torrent handle %d: removing: unexpected exception", handle);
    }
    self->torrents[handle].removed = true;
}
