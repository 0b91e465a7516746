/* ts_executor: the slave's worker thread: fetch inputs, drive Blender, sign and return results.
   DESIGN: blocking work (downloads, renders) lives here, off the reactor. Tasks run one at a time in the
   order assigned; a cancelled task is dropped from the queue, or its result discarded when it is running.
   A Blender crash or hang becomes a failed result (the process is restarted for the next task), never a
   lost task. Testing only: with --cheat-share the tile and segment tasks ts_cheat picks are done cheaply (fewer
   samples, a worse encode) and returned exactly like honest ones, for the verifier's tests. */
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_kind.h"
#include "lib/ts_log.h"
#include "lib/ts_synthetic.h"
#include "lib/ts_wire.h"
#include "slave/ts_box.h"
#include "slave/ts_cheat.h"
#include "lib/ts_manifest.h"
#include "slave/ts_fetch.h"
#include "slave/ts_layout.h"
#include "slave/ts_slave.h"
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#define QUEUE_MAX 64
#define VERIFIED_MAX 64   /* cached blobs re-hashed once per run, then trusted until evicted */
#define LAID_MAX 16       /* projects whose files were verified in this run (a project has thousands) */
#define PROBE_TIMEOUT_S 300.0

struct ts_executor {
    const ts_slave_options_t *opts;
    ts_identity_t *identity;
    ts_blobs_t *cache;
    ts_blender_t *blender;
    ts_blender_t *encoder; /* the encoder process (slave/ts_encoder.h): segments and thumbnails */
    ts_swarm_t *swarm; /* NULL: HTTP only */
    void *out; /* PAIR socket, used only by the thread */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    ts_slave_task_t queue[QUEUE_MAX];
    int nqueue;
    uint64_t running;
    bool running_cancelled;
    char verified[VERIFIED_MAX][TS_HASH_HEX];
    int nverified;
    uint64_t cheat_count; /* tile and segment tasks started (--cheat-share counts them) */
    char laid[LAID_MAX][TS_HASH_HEX]; /* projects laid out from files verified in this run: not hashed again */
    int nlaid;
    volatile sig_atomic_t stop;       /* the executor ends */
    volatile sig_atomic_t abort_task; /* the running task ends now (stop, or a preemption); cleared for the next */
};

/* Where a slave lays out the projects it renders (slave/ts_layout.h). */
static void projects_dir(const ts_executor_t *self, char *out, size_t cap)
{
    snprintf(out, cap, "%s/projects", self->opts->work);
}

/* The folder that shows the running task's inputs to the sandboxed renderer (slave/ts_box.h). */
static void inputs_dir(const ts_executor_t *self, char *out, size_t cap)
{
    snprintf(out, cap, "%s/" TS_SLAVE_INPUTS_DIR, self->opts->work);
}

/* Re-hashes a cached input; a corrupt one is removed (and said so), and the laid-out projects with it: a layout links
   the corrupt copy, not the one fetched again. */
static int verify_cached(ts_executor_t *self, const char *hash)
{
    if (ts_blobs_verify(self->cache, hash) == 0)
        return 0;
    ts_warn("cached %s was corrupt: fetching it again", hash);
    char dir[PATH_MAX];
    projects_dir(self, dir, sizeof dir);
    ts_layout_prune(dir, NULL, true);
    self->nlaid = 0;
    return -1;
}

/* A blob through its torrent (the scene's, or a project file's: info_hash "" and the content hash checks it), from
   the peers that hold the task's scene; a failure is said and left to the HTTP download. */
static int fetch_by_torrent(ts_executor_t *self, const ts_slave_task_t *t, const char *hash, const char *info_hash,
                            const char *torrent_url)
{
    char *peers[TS_TASK_PEERS];
    for (int i = 0; i < t->npeers; i++)
        peers[i] = (char *)t->peers[i];
    bool scene = strcmp(hash, t->scene) == 0; /* the master is told of scenes, not of each project file */
    if (ts_swarm_fetch(self->swarm, hash, info_hash, torrent_url, peers, (size_t)t->npeers, t->from_master, scene,
                       &self->abort_task) == 0)
        return 0;
    if (!self->abort_task)
        ts_warn("fetching %.12s by torrent failed, trying plain HTTP: %s", hash, ts_error());
    return -1;
}

/* Makes sure the cache holds a blob: verified (re-hashed) at its first use in this run, fetched when missing or
   corrupt (the scene, and a project's files, through their torrents when the task names them, else or on failure
   over HTTP), marked as used. project_size: the blob is one of the task's project files, of that many bytes (-1: it
   is not); the big ones have torrents. */
static int ensure_blob_as(ts_executor_t *self, const ts_slave_task_t *t, const char *hash, int64_t project_size)
{
    for (int i = 0; i < self->nverified && i < VERIFIED_MAX; i++)
        if (strcmp(self->verified[i], hash) == 0 && ts_blobs_has(self->cache, hash)) {
            ts_blobs_touch(self->cache, hash);
            return 0;
        }
    bool have = ts_blobs_has(self->cache, hash) && verify_cached(self, hash) == 0;
    if (!have && self->swarm && t->info_hash[0] && strcmp(hash, t->scene) == 0)
        have = fetch_by_torrent(self, t, hash, t->info_hash, t->torrent_url) == 0;
    if (!have && self->swarm && project_size >= TS_MANIFEST_TORRENT_MIN && t->torrents_url[0]) {
        char url[sizeof t->torrents_url + TS_HASH_HEX + 1];
        snprintf(url, sizeof url, "%s/%s", t->torrents_url, hash);
        have = fetch_by_torrent(self, t, hash, "", url) == 0;
    }
    if (!have && (self->abort_task || ts_fetch_blob(self->cache, t->blob_url, hash, &self->abort_task) < 0))
        return -1;
    snprintf(self->verified[self->nverified++ % VERIFIED_MAX], TS_HASH_HEX, "%s", hash);
    ts_blobs_touch(self->cache, hash);
    return 0;
}

static int ensure_blob(ts_executor_t *self, const ts_slave_task_t *t, const char *hash)
{
    return ensure_blob_as(self, t, hash, -1);
}

/* Keeps the cache under its bound once a task has what it needs; the task's own inputs (a project's files too)
   stay. Evicted files still linked from older projects' folders are freed by removing those folders. */
static void bound_cache(ts_executor_t *self, const ts_slave_task_t *t, const ts_manifest_t *m)
{
    const char **keep = calloc((size_t)m->count + 4, sizeof *keep);
    if (!keep)
        return;
    int n = 0;
    keep[n++] = t->scene;
    if (t->input[0])
        keep[n++] = t->input;
    if (t->manifest[0])
        keep[n++] = t->manifest;
    for (int i = 0; i < m->count; i++)
        keep[n++] = m->files[i].hash;
    long long removed = ts_blobs_evict(self->cache, (long long)self->opts->cache_mb << 20, keep);
    free(keep);
    if (removed > 0)
        ts_info("cache over %ld MB: %lld bytes of least recently used inputs removed", self->opts->cache_mb, removed);
    if (removed > 0 && self->swarm)
        ts_swarm_forget_missing(self->swarm); /* stop seeding what is gone */
    if (removed > 0) {
        char dir[PATH_MAX];
        projects_dir(self, dir, sizeof dir);
        ts_layout_prune(dir, t->manifest[0] ? t->manifest : NULL, true);
    }
}

/* An artist's project: its manifest read, every file in the cache (by torrent when the master seeds them), and the
   project laid out in its folder, then moved into the renderer's inputs folder; scene gets the .blend's path there
   and dir the folder. */
static int prepare_project(ts_executor_t *self, const ts_slave_task_t *t, ts_manifest_t *m, char *scene,
                           size_t scene_cap, char *dir, size_t dir_cap)
{
    char path[PATH_MAX], parent[PATH_MAX];
    uint8_t *text = NULL;
    size_t len = 0;
    if (ensure_blob(self, t, t->manifest) < 0)
        return ts_error_prefix("the project's manifest");
    ts_blobs_path(self->cache, t->manifest, path, sizeof path);
    int rc = ts_file_read(path, TS_MANIFEST_BYTES_MAX, 0, &text, &len);
    if (rc == 0)
        rc = ts_manifest_parse((const char *)text, len, m);
    free(text);
    projects_dir(self, parent, sizeof parent);
    bool laid = false; /* laid out whole from files verified in this run: nothing to fetch or hash again */
    for (int i = 0; i < self->nlaid && i < LAID_MAX; i++)
        laid = laid || strcmp(self->laid[i], t->manifest) == 0;
    laid = laid && ts_layout_ready(parent, t->manifest);
    for (int i = 0; rc == 0 && !laid && i < m->count; i++)
        if (ensure_blob_as(self, t, m->files[i].hash, m->files[i].size) < 0)
            rc = ts_error_prefix("the project's file %s", m->files[i].name);
    if (rc == 0)
        rc = ts_layout_build(m, t->manifest, self->cache, parent, dir, dir_cap);
    if (rc == 0 && !laid)
        snprintf(self->laid[self->nlaid++ % LAID_MAX], TS_HASH_HEX, "%s", t->manifest);
    if (rc == 0) {
        ts_layout_prune(parent, t->manifest, false);
        char box[PATH_MAX];
        inputs_dir(self, box, sizeof box);
        rc = ts_box_project(box, parent, t->manifest, dir, dir_cap);
    }
    if (rc == 0)
        snprintf(scene, scene_cap, "%s/%s", dir, m->scene);
    return rc;
}

/* One task being run: what a runner reads and where it writes. */
typedef struct {
    ts_executor_t *self;
    const ts_slave_task_t *t;
    const char *scene;         /* the task's main input as the renderer sees it: the scene, or a segment's video */
    const char *input;         /* its second input (a finish's stitched frame), or "" */
    const ts_manifest_t *project; /* an artist's project (count 0: a scene alone) */
    const char *project_dir;   /* the folder it is laid out in */
    const char *out;           /* the output file a runner writes */
    bool cheat;                /* --cheat-share picked this task (testing only) */
    Tessera__Result *r;
    Tessera__SceneInfo *info;
    char *errbuf;
    size_t cap;
} run_t;

/* A runner: 0 when the output file is written, 1 when the result carries no file (a probe's facts),
   -1 with errbuf filled. */
typedef int (*runner_fn)(run_t *x);

/* Sends one request to the persistent Blender worker: its reply when ok, else NULL with errbuf filled (and
   r->input_error when the scene itself is at fault). */
static json_t *blender_op(run_t *x, json_t *req, double timeout)
{
    json_object_set_new(req, "scene", json_string(x->scene));
    if (x->project->count > 0) { /* the worker maps the scene's absolute paths into the project's folder */
        json_object_set_new(req, "project_root", json_string(x->project->root));
        json_object_set_new(req, "project_dir", json_string(x->project_dir));
        json_object_set_new(req, "allow_missing", json_boolean(x->project->allow_missing));
    }
    json_object_set_new(req, "frame", json_integer(x->t->frame));
    json_t *reply = ts_blender_call(x->self->blender, req, timeout, &x->self->abort_task);
    json_decref(req);
    if (!reply) {
        snprintf(x->errbuf, x->cap, "%s", ts_error());
        return NULL;
    }
    json_int_t peak_kb = json_integer_value(json_object_get(reply, "peak_rss_kb"));
    if (peak_kb > 0 && (uint64_t)peak_kb * 1024 > x->r->peak_memory)
        x->r->peak_memory = (uint64_t)peak_kb * 1024;
    if (!json_is_true(json_object_get(reply, "ok"))) {
        const char *e = json_string_value(json_object_get(reply, "error"));
        snprintf(x->errbuf, x->cap, "%s", e ? e : "the Blender worker failed without a reason");
        x->r->input_error = json_is_true(json_object_get(reply, "input_error"));
        json_decref(reply);
        return NULL;
    }
    return reply;
}

static char *reply_text(const json_t *reply, const char *key)
{
    const char *s = json_string_value(json_object_get(reply, key));
    return strdup(s ? s : "");
}

static int32_t reply_int(const json_t *reply, const char *key)
{
    return (int32_t)json_integer_value(json_object_get(reply, key));
}

/* Loads the scene and reports its facts (docs/blender-notes.md, "probe"). */
static int run_probe(run_t *x)
{
    double timeout = (double)x->self->opts->task_timeout_s;
    json_t *reply = blender_op(x, json_pack("{s:s}", "op", "probe"), PROBE_TIMEOUT_S < timeout ? PROBE_TIMEOUT_S : timeout);
    if (!reply)
        return -1;
    Tessera__SceneInfo *info = x->info;
    info->width = reply_int(reply, "width");
    info->height = reply_int(reply, "height");
    info->frame_start = reply_int(reply, "frame_start");
    info->frame_end = reply_int(reply, "frame_end");
    info->file_format = reply_text(reply, "file_format");
    info->ext = reply_text(reply, "ext");
    info->engine = reply_text(reply, "engine");
    info->denoise = json_is_true(json_object_get(reply, "denoise"));
    info->adaptive = json_is_true(json_object_get(reply, "adaptive"));
    info->uses_compositor = json_is_true(json_object_get(reply, "uses_compositor"));
    info->tile_margin = reply_int(reply, "tile_margin");
    info->samples = reply_int(reply, "samples");
    info->fps_num = reply_int(reply, "fps_num");
    info->fps_den = reply_int(reply, "fps_den");
    x->r->scene = info;
    json_decref(reply);
    return 1;
}

/* Renders the task's rectangle to a float EXR (fewer samples when cheating). */
static int run_tile(run_t *x)
{
    const ts_slave_task_t *t = x->t;
    json_t *req = json_pack("{s:s,s:[iiii],s:s,s:s,s:b}", "op", "tile", "border", t->x0, t->y0, t->x1, t->y1, "out",
                            x->out, "device", t->device, "no_denoise", t->no_denoise);
    if (x->cheat)
        json_object_set_new(req, "samples", json_integer(x->self->opts->cheat_samples));
    json_t *reply = blender_op(x, req, (double)x->self->opts->task_timeout_s);
    json_decref(reply);
    return reply ? 0 : -1;
}

/* Writes the stitched float frame (the task's second input) through Blender's output path. */
static int run_finish(run_t *x)
{
    json_t *req = json_pack("{s:s,s:s,s:o,s:s}", "op", "finish", "input", x->input, "format",
                            x->t->format[0] ? json_string(x->t->format) : json_null(), "out", x->out);
    json_t *reply = blender_op(x, req, (double)x->self->opts->task_timeout_s);
    json_decref(reply);
    return reply ? 0 : -1;
}

/* Sends one request to the encoder process (slave/ts_encoder.h): 0 when ok, else -1 with errbuf filled (and
   r->input_error when the input itself is at fault). frames gets the frames it encoded (may be NULL). */
static int encoder_op(run_t *x, json_t *req, int64_t *frames)
{
    json_object_set_new(req, "in", json_string(x->scene));
    json_object_set_new(req, "out", json_string(x->out));
    json_t *reply = ts_blender_call(x->self->encoder, req, (double)x->self->opts->task_timeout_s, &x->self->abort_task);
    json_decref(req);
    if (!reply) {
        snprintf(x->errbuf, x->cap, "%s", ts_error());
        return -1;
    }
    int rc = 0;
    if (!json_is_true(json_object_get(reply, "ok"))) {
        const char *e = json_string_value(json_object_get(reply, "error"));
        snprintf(x->errbuf, x->cap, "%s", e ? e : "the encoder failed without a reason");
        x->r->input_error = json_is_true(json_object_get(reply, "input_error"));
        rc = -1;
    }
    if (frames)
        *frames = json_integer_value(json_object_get(reply, "frames"));
    json_decref(reply);
    return rc;
}

/* Encodes a video segment with the job's pinned settings (with --cheat-share, the encoder is told to cheapen
   them: --cheat-crf in the encoder's range for the job's crf or bitrate, --cheat-preset for x264/x265). */
static int run_segment(run_t *x)
{
    const ts_slave_task_t *t = x->t;
    json_error_t jerr;
    json_t *p = json_loads(t->params, 0, &jerr);
    if (!json_is_object(p)) {
        snprintf(x->errbuf, x->cap, "encoder settings are not a JSON object: %s", p ? "" : jerr.text);
        json_decref(p);
        return -1;
    }
    json_t *req = json_pack("{s:s,s:I,s:I,s:o}", "op", "segment", "start", (json_int_t)t->start_pts, "end",
                            (json_int_t)t->end_pts, "params", p);
    if (x->cheat)
        json_object_set_new(req, "cheat", json_pack("{s:i,s:s}", "crf", (int)x->self->opts->cheat_crf, "preset",
                                                    x->self->opts->cheat_preset));
    int64_t frames = 0;
    const char *vcodec = json_string_value(json_object_get(p, "vcodec"));
    char codec[32];
    snprintf(codec, sizeof codec, "%s", vcodec ? vcodec : "?");
    if (encoder_op(x, req, &frames) < 0)
        return -1;
    ts_info("task %llu: %lld frames encoded with %s", (unsigned long long)t->id, (long long)frames, codec);
    return 0;
}

/* Scales the task's image (its own input) into a contact sheet's cell of render.x1 x render.y1 pixels; a damaged
   image fails the job, not node after node. */
static int run_thumb(run_t *x)
{
    return encoder_op(x, json_pack("{s:s,s:i,s:i}", "op", "thumb", "w", x->t->x1, "h", x->t->y1), NULL);
}

/* A synthetic piece (a benchmark's, master/job_synthetic.c): its bytes, from the job and the piece's index. */
static int run_synthetic(run_t *x)
{
    uint8_t bytes[TS_SYNTHETIC_OUTPUT_BYTES];
    ts_synthetic_piece_output(x->t->job_id, x->t->start_pts, bytes);
    if (ts_file_write_atomic(x->out, bytes, sizeof bytes) == 0)
        return 0;
    snprintf(x->errbuf, x->cap, "%s", ts_error());
    return -1;
}

/* The slave's runners, one per task kind it runs (lib/ts_kind.c has the kinds); a kind not here is refused. */
static const struct {
    int kind;
    runner_fn run;
    const char *ext;       /* the output file's extension */
    bool second_input;     /* the task's input blob is fetched too (a finish's stitched frame) */
    bool cheats;           /* --cheat-share may fake it (testing) */
} RUNNERS[] = {
    {TS_KIND_PROBE, run_probe, "out", false, false},
    {TS_KIND_TILE, run_tile, "exr", false, true},
    {TS_KIND_FINISH, run_finish, "out", true, false},
    {TS_KIND_SEGMENT, run_segment, "nut", false, true},
    {TS_KIND_THUMB, run_thumb, "png", false, false},
    {TS_KIND_SYNTHETIC, run_synthetic, "bin", false, false},
};

/* Runs one task; fills r (ok/error/scene facts) and *output (malloc'd) on success. */
static void run_task(ts_executor_t *self, const ts_slave_task_t *t, Tessera__Result *r,
                     Tessera__SceneInfo *info, uint8_t **output, size_t *output_len, char *errbuf, size_t cap)
{
    r->ok = false;
    size_t i = 0;
    while (i < sizeof RUNNERS / sizeof RUNNERS[0] && RUNNERS[i].kind != t->kind)
        i++;
    if (i == sizeof RUNNERS / sizeof RUNNERS[0]) {
        snprintf(errbuf, cap, "unknown task kind %d: this slave does not run it", t->kind);
        return;
    }
    char scene[PATH_MAX], out[PATH_MAX], project_dir[PATH_MAX] = "", input[PATH_MAX] = "", box[PATH_MAX];
    char cached[PATH_MAX], projects[PATH_MAX];
    ts_manifest_t project = {0};
    run_t x = {.self = self, .t = t, .scene = scene, .input = input, .project = &project, .project_dir = project_dir,
               .out = out, .r = r, .info = info, .errbuf = errbuf, .cap = cap};
    inputs_dir(self, box, sizeof box);
    projects_dir(self, projects, sizeof projects);
    if (ts_box_clear(box, projects) < 0) { /* the last task's inputs leave the renderer's sight */
        snprintf(errbuf, cap, "%s", ts_error());
        return;
    }
    if (RUNNERS[i].cheats) {
        uint64_t n = ++self->cheat_count;
        x.cheat = ts_cheat_due(n, self->opts->cheat_share);
        if (x.cheat)
            ts_warn("cheating on task %llu (%s task %llu of this node)", (unsigned long long)t->id,
                    ts_kind_name(t->kind), (unsigned long long)n);
    }
    bool no_input = ts_kind_get(t->kind)->no_input; /* a synthetic piece: nothing to fetch */
    if (!no_input && ensure_blob(self, t, t->scene) < 0) {
        snprintf(errbuf, cap, "fetching the %s task's %s: %s", ts_kind_name(t->kind),
                 ts_kind_get(t->kind)->own_input ? "input" : "scene", ts_error());
        return;
    }
    ts_blobs_path(self->cache, t->scene, cached, sizeof cached);
    bool in_project = t->manifest[0] && !ts_kind_get(t->kind)->own_input;
    if (!no_input && !in_project && ts_box_file(box, cached, t->scene, scene, sizeof scene) < 0) {
        snprintf(errbuf, cap, "%s", ts_error());
        return;
    }
    if (in_project && prepare_project(self, t, &project, scene, sizeof scene, project_dir, sizeof project_dir) < 0) {
        snprintf(errbuf, cap, "preparing the %s task's project: %s", ts_kind_name(t->kind), ts_error());
        ts_manifest_free(&project);
        return;
    }
    if (RUNNERS[i].second_input) {
        if (ensure_blob(self, t, t->input) < 0) {
            snprintf(errbuf, cap, "fetching the %s task's input: %s", ts_kind_name(t->kind), ts_error());
            ts_manifest_free(&project);
            return;
        }
        ts_blobs_path(self->cache, t->input, cached, sizeof cached);
        if (ts_box_file(box, cached, t->input, input, sizeof input) < 0) {
            snprintf(errbuf, cap, "%s", ts_error());
            ts_manifest_free(&project);
            return;
        }
    }
    bound_cache(self, t, &project);
    snprintf(out, sizeof out, "%s/out/task-%llu.%s", self->opts->work, (unsigned long long)t->id, RUNNERS[i].ext);
    int rc = RUNNERS[i].run(&x);
    ts_manifest_free(&project);
    if (rc == 1) {
        *output = NULL;
        *output_len = 0;
        r->ok = true;
    } else if (rc == 0 && ts_file_read(out, 0, 1, output, output_len) == 0) {
        r->ok = true;
    } else if (rc == 0) {
        snprintf(errbuf, cap, "reading the output: %s", ts_error());
    }
    unlink(out);
}

static void send_result(ts_executor_t *self, const ts_slave_task_t *t)
{
    Tessera__Result r = TESSERA__RESULT__INIT;
    Tessera__SceneInfo info = TESSERA__SCENE_INFO__INIT;
    uint8_t *output = NULL;
    size_t output_len = 0;
    char errbuf[1024] = "";
    char hash[TS_HASH_HEX];
    uint8_t sig[TS_IDENTITY_SIGNATURE_BYTES];
    r.task_id = t->id;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_task(self, t, &r, &info, &output, &output_len, errbuf, sizeof errbuf);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r.cpu_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* What this node seeds travels with the result: the master names it as a peer for the next tasks at once,
       rather than after the next heartbeat. */
    char seeding[SEEDING_REPORT_MAX][TS_HASH_HEX];
    char *seeding_p[SEEDING_REPORT_MAX];
    if (self->swarm) {
        r.n_seeding = ts_swarm_seeding(self->swarm, seeding, seeding_p, SEEDING_REPORT_MAX);
        r.seeding = seeding_p;
    }
    if (r.ok) {
        ts_hash_buf(output ? output : (const uint8_t *)"", output_len, hash);
        ts_identity_sign_result(self->identity, t->id, hash, sig);
        r.output_hash = hash;
        r.output.data = output;
        r.output.len = output_len;
        r.signature.data = sig;
        r.signature.len = sizeof sig;
        ts_info("task %llu done (%zu bytes)", (unsigned long long)t->id, output_len);
    } else {
        r.error = errbuf;
        ts_warn("task %llu failed: %s", (unsigned long long)t->id, errbuf);
    }
    /* The task stops being "running" before its result leaves: the master may hand the same task straight back
       (a retry), and that Assign must not be taken for a duplicate. */
    pthread_mutex_lock(&self->lock);
    bool cancelled = self->running_cancelled;
    self->running = 0;
    pthread_mutex_unlock(&self->lock);
    if (!cancelled && !self->stop) {
        Tessera__Envelope env = TESSERA__ENVELOPE__INIT;
        env.body_case = TESSERA__ENVELOPE__BODY_RESULT;
        env.result = &r;
        if (ts_wire_send(self->out, NULL, 0, &env, true) < 0)
            ts_err("task %llu: cannot hand the result to the reactor: %s", (unsigned long long)t->id, ts_error());
    }
    free(output);
    if (r.scene == &info) { /* the strings were strdup'ed by run_task */
        free(info.file_format);
        free(info.ext);
        free(info.engine);
    }
}

static void *run(void *arg)
{
    ts_executor_t *self = arg;
    for (;;) {
        pthread_mutex_lock(&self->lock);
        while (self->nqueue == 0 && !self->stop)
            pthread_cond_wait(&self->cond, &self->lock);
        if (self->stop) {
            pthread_mutex_unlock(&self->lock);
            break;
        }
        ts_slave_task_t t = self->queue[0];
        memmove(self->queue, self->queue + 1, (size_t)(--self->nqueue) * sizeof self->queue[0]);
        self->running = t.id;
        self->running_cancelled = false;
        self->abort_task = 0;
        pthread_mutex_unlock(&self->lock);
        send_result(self, &t);
        pthread_mutex_lock(&self->lock);
        self->running = 0;
        pthread_mutex_unlock(&self->lock);
    }
    return NULL;
}

ts_executor_t *ts_executor_new(void *zmq_ctx, const char *results_endpoint, const ts_slave_options_t *opts,
                               ts_identity_t *identity, ts_blobs_t *cache, ts_blender_t *blender,
                               ts_blender_t *encoder, ts_swarm_t *swarm)
{
    ts_executor_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = opts;
    self->identity = identity;
    self->cache = cache;
    self->blender = blender;
    self->encoder = encoder;
    self->swarm = swarm;
    char outdir[PATH_MAX];
    snprintf(outdir, sizeof outdir, "%s/out", opts->work);
    mkdir(outdir, 0755);
    self->out = zmq_socket(zmq_ctx, ZMQ_PAIR);
    if (zmq_connect(self->out, results_endpoint) != 0) {
        zmq_close(self->out);
        free(self);
        ts_error_set("executor: %s", zmq_strerror(errno));
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    pthread_create(&self->thread, NULL, run, self);
    return self;
}

void ts_executor_destroy(ts_executor_t **self_p)
{
    ts_executor_t *self = *self_p;
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    self->stop = 1;
    self->abort_task = 1;
    pthread_cond_signal(&self->cond);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    int zero = 0;
    zmq_setsockopt(self->out, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(self->out);
    pthread_cond_destroy(&self->cond);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void ts_executor_push(ts_executor_t *self, const ts_slave_task_t *task)
{
    pthread_mutex_lock(&self->lock);
    bool known = self->running == task->id;
    for (int i = 0; i < self->nqueue; i++)
        known = known || self->queue[i].id == task->id;
    if (!known && self->nqueue < QUEUE_MAX) {
        self->queue[self->nqueue++] = *task;
        pthread_cond_signal(&self->cond);
    } else if (!known) {
        ts_warn("task %llu dropped: queue full", (unsigned long long)task->id);
    }
    pthread_mutex_unlock(&self->lock);
}

void ts_executor_cancel(ts_executor_t *self, uint64_t task_id)
{
    pthread_mutex_lock(&self->lock);
    for (int i = 0; i < self->nqueue; i++)
        if (self->queue[i].id == task_id) {
            memmove(self->queue + i, self->queue + i + 1, (size_t)(self->nqueue - i - 1) * sizeof self->queue[0]);
            self->nqueue--;
            break;
        }
    if (self->running == task_id)
        self->running_cancelled = true;
    pthread_mutex_unlock(&self->lock);
    ts_info("task %llu cancelled by the master", (unsigned long long)task_id);
}

/* The running task (unless cancelled), then the queue: under the lock. */
static int held_ids(const ts_executor_t *self, uint64_t *ids, int max)
{
    int n = 0;
    if (self->running && !self->running_cancelled && n < max)
        ids[n++] = self->running;
    for (int i = 0; i < self->nqueue && n < max; i++)
        ids[n++] = self->queue[i].id;
    return n;
}

int ts_executor_preempt(ts_executor_t *self, uint64_t *ids, int max)
{
    pthread_mutex_lock(&self->lock);
    int n = held_ids(self, ids, max);
    self->nqueue = 0;
    if (self->running) {
        self->running_cancelled = true; /* its result, if any, is not sent */
        self->abort_task = 1;
    }
    pthread_mutex_unlock(&self->lock);
    ts_blender_preempt(self->blender);
    ts_blender_preempt(self->encoder);
    return n;
}

uint64_t ts_executor_running(ts_executor_t *self)
{
    pthread_mutex_lock(&self->lock);
    uint64_t id = self->running_cancelled ? 0 : self->running;
    pthread_mutex_unlock(&self->lock);
    return id;
}

int ts_executor_holding(ts_executor_t *self, uint64_t *ids, int max)
{
    pthread_mutex_lock(&self->lock);
    int n = held_ids(self, ids, max);
    pthread_mutex_unlock(&self->lock);
    return n;
}
