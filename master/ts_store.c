/* ts_store: SQLite (WAL) store of jobs, frames, tasks and nodes.
   DESIGN: one connection behind a mutex; each public call is one transaction, so a task's state change
   and everything it implies (frame complete, job done or failed) commit together and survive a crash.
   Task states: queued -> assigned -> done, or back to queued (node lost, failure below the limit),
   or failed/cancelled. Frame states: rendering -> stitching -> finishing -> done. */
#include "verifier/ts_policy.h"
#include "master/ts_store.h"
#include "escrow/escrow.h"
#include "lib/ts_clock.h"
#include "lib/ts_error.h"
#include "lib/ts_sql.h"
#include "master/ts_store_db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUSY_TIMEOUT_MS 5000

static const char *const SCHEMA =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;"
    "CREATE TABLE IF NOT EXISTS jobs("
    " id INTEGER PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL, error TEXT,"
    " scene TEXT NOT NULL, scene_name TEXT NOT NULL, frame_start INT NOT NULL, frame_end INT NOT NULL,"
    " tiles_x INT NOT NULL, tiles_y INT NOT NULL, format TEXT NOT NULL, priority INT NOT NULL,"
    " device TEXT NOT NULL, blender TEXT NOT NULL, no_denoise INT NOT NULL, margin INT NOT NULL,"
    " width INT NOT NULL DEFAULT 0, height INT NOT NULL DEFAULT 0, ext TEXT NOT NULL DEFAULT '',"
    " params TEXT NOT NULL DEFAULT '{}',"
    " created REAL NOT NULL, finished REAL);"
    "CREATE TABLE IF NOT EXISTS frames("
    " job_id INT NOT NULL REFERENCES jobs(id), frame INT NOT NULL, state TEXT NOT NULL,"
    " stitched TEXT, output TEXT, output_size INT, PRIMARY KEY(job_id, frame));"
    "CREATE TABLE IF NOT EXISTS tasks("
    " id INTEGER PRIMARY KEY, job_id INT NOT NULL REFERENCES jobs(id), kind INT NOT NULL,"
    " frame INT NOT NULL DEFAULT 0, tile INT NOT NULL DEFAULT 0,"
    " x0 INT NOT NULL DEFAULT 0, y0 INT NOT NULL DEFAULT 0, x1 INT NOT NULL DEFAULT 0, y1 INT NOT NULL DEFAULT 0,"
    " input TEXT NOT NULL DEFAULT '', state TEXT NOT NULL, node TEXT NOT NULL DEFAULT '',"
    " failures INT NOT NULL DEFAULT 0, result TEXT, error TEXT, assigned_at REAL NOT NULL DEFAULT 0,"
    " start_pts INT NOT NULL DEFAULT 0, end_pts INT NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS tasks_by_state ON tasks(state, job_id);"
    "CREATE INDEX IF NOT EXISTS tasks_by_frame ON tasks(job_id, frame, kind);"
    "CREATE TABLE IF NOT EXISTS nodes("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL, state TEXT NOT NULL, blender TEXT NOT NULL DEFAULT '',"
    " devices TEXT NOT NULL DEFAULT '[]', cores INT NOT NULL DEFAULT 0, memory INT NOT NULL DEFAULT 0,"
    " last_seen REAL NOT NULL DEFAULT 0, tasks_done INT NOT NULL DEFAULT 0, tasks_failed INT NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS blocklist("
    " job_id INT NOT NULL, node TEXT NOT NULL, failures INT NOT NULL, PRIMARY KEY(job_id, node));"
    "CREATE TABLE IF NOT EXISTS verdicts("
    " id INTEGER PRIMARY KEY, job_id INT NOT NULL, task_id INT NOT NULL, node TEXT NOT NULL,"
    " outcome TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '', at REAL NOT NULL);";

/* Columns added after the first release: applied to every database, old or new (a column already there is fine). */
static const char *const MIGRATIONS[] = {
    /* verification: a check task names the task it checks; a checked task says how its check stands */
    "ALTER TABLE tasks ADD COLUMN check_of INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN verify TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE tasks ADD COLUMN dclass TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE tasks ADD COLUMN result_size INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN created REAL NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN finished REAL NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN busy REAL NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN cpu_model TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE nodes ADD COLUMN consecutive_valid INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN checks_passed INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN checks_failed INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN quarantined INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN lifted_at REAL NOT NULL DEFAULT 0",
    "ALTER TABLE blocklist ADD COLUMN blocked REAL NOT NULL DEFAULT 0",
    "CREATE INDEX IF NOT EXISTS tasks_by_check ON tasks(check_of)",
    "CREATE INDEX IF NOT EXISTS tasks_by_node ON tasks(node, job_id)",
    /* payments: who pays, the budget, the job's work units; each piece's units, locked price and payments */
    "ALTER TABLE jobs ADD COLUMN requester TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE jobs ADD COLUMN budget INT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN units_total INT NOT NULL DEFAULT 0",
    "ALTER TABLE jobs ADD COLUMN encode_units INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN units INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN price INT NOT NULL DEFAULT 0",
    "ALTER TABLE tasks ADD COLUMN paid INT NOT NULL DEFAULT 0",
    "ALTER TABLE nodes ADD COLUMN payout TEXT NOT NULL DEFAULT ''",
    /* a job whose budget is still on its way to a chain gets no work yet */
    "ALTER TABLE jobs ADD COLUMN funded INT NOT NULL DEFAULT 1",
    /* verification: the job's renderer may differ between honest runs (Cycles' adaptive sampling) */
    "ALTER TABLE jobs ADD COLUMN noisy INT NOT NULL DEFAULT 0",
};

static int migrate(ts_store_t *self)
{
    for (size_t i = 0; i < sizeof MIGRATIONS / sizeof MIGRATIONS[0]; i++) {
        char *err = NULL;
        if (sqlite3_exec(self->db, MIGRATIONS[i], NULL, NULL, &err) != SQLITE_OK &&
            !(err && strstr(err, "duplicate column name"))) {
            ts_error_set("store: %s: %s", MIGRATIONS[i], err ? err : "error");
            sqlite3_free(err);
            return -1;
        }
        sqlite3_free(err);
    }
    return 0;
}

double sdb_now(void)
{
    return ts_clock_wall();
}

int sdb_error(ts_store_t *self, const char *what)
{
    return ts_error_set("store: %s: %s", what, sqlite3_errmsg(self->db));
}

void sdb_lock(ts_store_t *self)
{
    pthread_mutex_lock(&self->lock);
}

void sdb_unlock(ts_store_t *self)
{
    pthread_mutex_unlock(&self->lock);
}

int sdb_exec(ts_store_t *self, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(self->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        ts_error_set("store: %s", err ? err : "error");
        sqlite3_free(err);
        return -1;
    }
    return 0;
}

int sdb_begin(ts_store_t *self)
{
    sdb_lock(self);
    if (sdb_exec(self, "BEGIN IMMEDIATE") < 0) {
        sdb_unlock(self);
        return -1;
    }
    return 0;
}

/* Ends the transaction: commit when rc >= 0, else roll back. Returns rc (or -1 when commit fails). */
int sdb_end(ts_store_t *self, int rc)
{
    if (rc >= 0 && sdb_exec(self, "COMMIT") < 0)
        rc = -1;
    if (rc < 0)
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    sdb_unlock(self);
    return rc;
}

sqlite3_stmt *sdb_prep(ts_store_t *self, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(self->db, sql, -1, &st, NULL) != SQLITE_OK) {
        sdb_error(self, sql);
        return NULL;
    }
    return st;
}

/* Runs a statement to completion with text/int binds given as a format: 't' text, 'i' int64, 'd' double. */
int sdb_run(ts_store_t *self, const char *sql, const char *fmt, ...)
{
    sqlite3_stmt *st = sdb_prep(self, sql);
    if (!st)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    ts_sql_bindv(st, fmt, ap);
    va_end(ap);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : sdb_error(self, "write");
}

void sdb_copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

/* kind_rank(kind) and kind_checked(kind) in SQL: the task kinds' table (lib/ts_kind.c) for queries. */
static void sql_kind_fact(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const ts_kind_t *k = ts_kind_get(sqlite3_value_int(argv[0]));
    bool rank = sqlite3_user_data(ctx) != NULL;
    sqlite3_result_int(ctx, !k ? 0 : rank ? k->rank : k->checked);
}

static int register_kind_functions(ts_store_t *self)
{
    static int rank_tag;
    const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    if (sqlite3_create_function(self->db, "kind_rank", 1, flags, &rank_tag, sql_kind_fact, NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function(self->db, "kind_checked", 1, flags, NULL, sql_kind_fact, NULL, NULL) != SQLITE_OK)
        return sdb_error(self, "registering the task kinds");
    return 0;
}

ts_store_t *ts_store_open(const char *path)
{
    ts_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    if (sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        ts_error_set("%s: cannot open database: %s", path, self->db ? sqlite3_errmsg(self->db) : "out of memory");
        ts_store_destroy(&self);
        return NULL;
    }
    sqlite3_busy_timeout(self->db, BUSY_TIMEOUT_MS);
    if (register_kind_functions(self) < 0 || sdb_exec(self, SCHEMA) < 0 || migrate(self) < 0) {
        ts_error_prefix("%s", path);
        ts_store_destroy(&self);
        return NULL;
    }
    return self;
}

void ts_store_destroy(ts_store_t **self_p)
{
    ts_store_t *self = *self_p;
    if (!self)
        return;
    if (self->db)
        sqlite3_close(self->db);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* ---- jobs ---- */

static json_t *transcode_params(const ts_job_request_t *r)
{
    json_t *p = json_pack("{s:s,s:I,s:s,s:i,s:i,s:s,s:f,s:i}", "vcodec", r->vcodec, "bitrate", (json_int_t)r->bitrate,
                          "preset", r->preset, "width", r->out_width, "height", r->out_height, "container",
                          r->container, "segment_seconds", r->segment_seconds, "threads", r->threads);
    json_object_set_new(p, "crf", r->crf >= 0 ? json_integer(r->crf) : json_null());
    json_object_set_new(p, "fps_num", json_integer(r->fps_num));
    json_object_set_new(p, "fps_den", json_integer(r->fps_den));
    json_object_set_new(p, "tb_num", json_integer(r->tb_num));
    json_object_set_new(p, "tb_den", json_integer(r->tb_den));
    return p;
}

int64_t ts_store_job_create(ts_store_t *self, const ts_job_request_t *r, int margin)
{
    if (sdb_begin(self) < 0)
        return -1;
    char *params = NULL;
    if (r->encode) {
        json_t *p = transcode_params(r);
        params = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(p);
    }
    int rc = sdb_run(self,
                 "INSERT INTO jobs(type,state,scene,scene_name,frame_start,frame_end,tiles_x,tiles_y,format,"
                 "priority,device,blender,no_denoise,margin,created,params) "
                 "VALUES('render','queued',?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 "ttiiiitittiidt", r->scene, r->scene_name, (int64_t)r->frame_start, (int64_t)r->frame_end,
                 (int64_t)r->tiles_x, (int64_t)r->tiles_y, r->format, (int64_t)r->priority, r->device, r->blender,
                 (int64_t)r->no_denoise, (int64_t)margin, sdb_now(), params ? params : "{}");
    free(params);
    int64_t id = sqlite3_last_insert_rowid(self->db);
    if (rc == 0)
        rc = sdb_run(self, "INSERT INTO tasks(job_id,kind,frame,state) VALUES(?,?,?,'queued')", "iii", id,
                 (int64_t)TS_KIND_PROBE, (int64_t)r->frame_start);
    /* the budget is locked now; it must give each piece (every tile and every frame's finish) its minimum */
    int64_t frames = (int64_t)r->frame_end - r->frame_start + 1;
    if (rc == 0)
        rc = sdb_pay_fund(self, id, r);
    if (rc == 0 && sdb_pay_plan(self, id, 0, frames * ((int64_t)r->tiles_x * r->tiles_y + 1)) != 0)
        rc = TS_STORE_REFUSED;
    rc = sdb_end(self, rc);
    return rc < 0 ? rc : id;
}

int64_t ts_store_job_create_transcode(ts_store_t *self, const ts_job_request_t *r, const ts_store_segment_t *segs,
                                      int count)
{
    json_t *params = transcode_params(r);
    char *text = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(params);
    if (!text)
        return ts_error_set("out of memory");
    if (sdb_begin(self) < 0) {
        free(text);
        return -1;
    }
    int rc = sdb_run(self,
                 "INSERT INTO jobs(type,state,scene,scene_name,frame_start,frame_end,tiles_x,tiles_y,format,priority,"
                 "device,blender,no_denoise,margin,ext,params,created) "
                 "VALUES('transcode','queued',?,?,0,0,1,1,?,?,'cpu','',0,0,?,?,?)",
                 "tttittd", r->scene, r->scene_name, r->container, (int64_t)r->priority, r->container, text, sdb_now());
    free(text);
    int64_t id = sqlite3_last_insert_rowid(self->db);
    if (rc == 0)
        rc = sdb_run(self, "INSERT INTO frames(job_id,frame,state) VALUES(?,0,'rendering')", "i", id);
    /* a segment's share of the job is the time it owns */
    int64_t units_total = 0;
    for (int i = 0; rc == 0 && i < count; i++) {
        int64_t units = segs[i].end_pts > segs[i].start_pts ? segs[i].end_pts - segs[i].start_pts : 1;
        units_total += units;
        rc = sdb_run(self, "INSERT INTO tasks(job_id,kind,frame,tile,input,start_pts,end_pts,units,state) "
                       "VALUES(?,?,0,?,?,?,?,?,'queued')",
                 "iiitiii", id, (int64_t)TS_KIND_SEGMENT, (int64_t)i, segs[i].hash, (int64_t)segs[i].start_pts,
                 (int64_t)segs[i].end_pts, units);
    }
    if (rc == 0)
        rc = sdb_pay_fund(self, id, r);
    if (rc == 0 && sdb_pay_plan(self, id, units_total, count) != 0)
        rc = TS_STORE_REFUSED;
    rc = sdb_end(self, rc);
    return rc < 0 ? rc : id;
}

int sdb_job_get(ts_store_t *self, int64_t id, ts_job_t *j)
{
    sqlite3_stmt *st = sdb_prep(self, "SELECT id,width,height,tiles_x,tiles_y,margin,frame_start,frame_end,state,"
                                  "format,ext,scene,scene_name,type,params,noisy FROM jobs WHERE id=?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        j->id = sqlite3_column_int64(st, 0);
        j->width = sqlite3_column_int(st, 1);
        j->height = sqlite3_column_int(st, 2);
        j->tiles_x = sqlite3_column_int(st, 3);
        j->tiles_y = sqlite3_column_int(st, 4);
        j->margin = sqlite3_column_int(st, 5);
        j->frame_start = sqlite3_column_int(st, 6);
        j->frame_end = sqlite3_column_int(st, 7);
        sdb_copy_text(j->state, sizeof j->state, st, 8);
        sdb_copy_text(j->format, sizeof j->format, st, 9);
        sdb_copy_text(j->ext, sizeof j->ext, st, 10);
        sdb_copy_text(j->scene, sizeof j->scene, st, 11);
        sdb_copy_text(j->scene_name, sizeof j->scene_name, st, 12);
        sdb_copy_text(j->type, sizeof j->type, st, 13);
        sdb_copy_text(j->params, sizeof j->params, st, 14);
        j->noisy = sqlite3_column_int(st, 15) != 0;
        rc = 1;
    }
    sqlite3_finalize(st);
    return rc;
}

int ts_store_job_get(ts_store_t *self, int64_t id, ts_job_t *job)
{
    sdb_lock(self);
    int rc = sdb_job_get(self, id, job);
    sdb_unlock(self);
    return rc;
}

bool sdb_job_ended(const char *state)
{
    return !strcmp(state, "done") || !strcmp(state, "failed") || !strcmp(state, "cancelled");
}

/* Ends a job: its open tasks are dropped. */
int sdb_job_end(ts_store_t *self, int64_t id, const char *state, const char *error)
{
    if (sdb_run(self, "UPDATE jobs SET state=?, error=?, finished=? WHERE id=?", "ttdi", state, error, sdb_now(), id) < 0)
        return -1;
    if (sdb_run(self, "UPDATE tasks SET state='cancelled' WHERE job_id=? AND state IN ('queued','assigned',"
                      "'verifying','checking')", "i",
                id) < 0)
        return -1;
    return sdb_pay_refund(self, id);
}

int ts_store_job_cancel(ts_store_t *self, int64_t id)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_job_t j;
    int rc = sdb_job_get(self, id, &j);
    if (rc == 0)
        rc = 1;
    else if (rc == 1 && sdb_job_ended(j.state))
        rc = 2;
    else if (rc == 1)
        rc = sdb_job_end(self, id, "cancelled", "cancelled by the user");
    return sdb_end(self, rc);
}

int ts_store_job_fail(ts_store_t *self, int64_t id, const char *error)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_job_t j;
    int rc = sdb_job_get(self, id, &j);
    if (rc == 1 && !sdb_job_ended(j.state))
        rc = sdb_job_end(self, id, "failed", error);
    return sdb_end(self, rc < 0 ? -1 : 0);
}

int ts_store_job_plan(ts_store_t *self, int64_t id, const ts_scene_facts_t *f, const ts_store_rect_t *render,
                      int ntiles)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_job_t j;
    int rc = sdb_job_get(self, id, &j);
    if (rc != 1 || sdb_job_ended(j.state))
        return sdb_end(self, rc < 0 ? -1 : 0);
    const char *ext = strcmp(j.format, "scene") == 0 ? f->ext : j.format;
    rc = sdb_run(self, "UPDATE jobs SET width=?, height=?, margin=?, ext=?, noisy=?, state='running' WHERE id=?",
                 "iiitii", (int64_t)f->width, (int64_t)f->height, (int64_t)f->margin, ext, (int64_t)f->adaptive, id);
    if (rc == 0 && ts_job_encodes(&j)) {
        /* a render that ends in an encode: its video waits for the frames; the scene's frame rate is pinned */
        json_t *p = json_loads(j.params, 0, NULL);
        if (p) {
            json_object_set_new(p, "fps_num", json_integer(f->fps_num > 0 ? f->fps_num : 24));
            json_object_set_new(p, "fps_den", json_integer(f->fps_den > 0 ? f->fps_den : 1));
            char *text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
            rc = text ? sdb_run(self, "UPDATE jobs SET params=? WHERE id=?", "ti", text, id) : -1;
            free(text);
            json_decref(p);
        }
        if (rc == 0)
            rc = sdb_run(self, "INSERT OR IGNORE INTO frames(job_id,frame,state) VALUES(?,?,'waiting')", "ii", id,
                     (int64_t)TS_VIDEO_FRAME);
    }
    sqlite3_stmt *ins = rc < 0 ? NULL
                               : sdb_prep(self, "INSERT INTO tasks(job_id,kind,frame,tile,x0,y0,x1,y1,units,state) "
                                            "VALUES(?,?,?,?,?,?,?,?,?,'queued')");
    /* work units: a tile's pixels times samples, a finish's pixels (one pass), an encode's pixels per frame */
    int64_t samples = f->samples > 0 ? f->samples : 1, frame_units = 0, frames = (int64_t)j.frame_end - j.frame_start + 1;
    for (int t = 0; t < ntiles; t++)
        frame_units += (int64_t)(render[t].x1 - render[t].x0) * (render[t].y1 - render[t].y0) * samples;
    if (!ins)
        rc = -1;
    for (int frame = j.frame_start; rc == 0 && frame <= j.frame_end; frame++) {
        rc = sdb_run(self, "INSERT OR IGNORE INTO frames(job_id,frame,state) VALUES(?,?,'rendering')", "ii", id,
                 (int64_t)frame);
        for (int t = 0; rc == 0 && t < ntiles; t++) {
            sqlite3_reset(ins);
            sqlite3_bind_int64(ins, 1, id);
            sqlite3_bind_int(ins, 2, TS_KIND_TILE);
            sqlite3_bind_int(ins, 3, frame);
            sqlite3_bind_int(ins, 4, t);
            sqlite3_bind_int(ins, 5, render[t].x0);
            sqlite3_bind_int(ins, 6, render[t].y0);
            sqlite3_bind_int(ins, 7, render[t].x1);
            sqlite3_bind_int(ins, 8, render[t].y1);
            sqlite3_bind_int64(ins, 9, (int64_t)(render[t].x1 - render[t].x0) * (render[t].y1 - render[t].y0) * samples);
            if (sqlite3_step(ins) != SQLITE_DONE)
                rc = sdb_error(self, "insert tile task");
        }
    }
    sqlite3_finalize(ins);
    int64_t pixels = (int64_t)f->width * f->height, encode_units = 0;
    if (ts_job_encodes(&j)) {
        json_t *p = json_loads(j.params, 0, NULL);
        int64_t w = json_integer_value(json_object_get(p, "width")), h = json_integer_value(json_object_get(p, "height"));
        encode_units = frames * (w > 0 && h > 0 ? w * h : pixels);
        json_decref(p);
    }
    if (rc == 0)
        rc = sdb_run(self, "UPDATE jobs SET encode_units=? WHERE id=?", "ii", encode_units, id);
    if (rc == 0) {
        int below = sdb_pay_plan(self, id, frames * (frame_units + pixels) + encode_units,
                                 frames * (ntiles + 1) + (encode_units > 0));
        rc = below < 0 ? -1 : below == 0 ? 0 : sdb_job_end(self, id, "failed", ts_error());
    }
    return sdb_end(self, rc);
}

static json_t *job_row_json(sqlite3_stmt *st)
{
    /* Columns as selected by JOB_COLUMNS. */
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "type", json_string((const char *)sqlite3_column_text(st, 1)));
    json_object_set_new(o, "state", json_string((const char *)sqlite3_column_text(st, 2)));
    const unsigned char *err = sqlite3_column_text(st, 3);
    json_object_set_new(o, "error", err ? json_string((const char *)err) : json_null());
    json_object_set_new(o, "scene", json_string((const char *)sqlite3_column_text(st, 4)));
    json_object_set_new(o, "scene_name", json_string((const char *)sqlite3_column_text(st, 5)));
    static const char *const ints[] = {"frame_start", "frame_end", "tiles_x", "tiles_y"};
    for (int i = 0; i < 4; i++)
        json_object_set_new(o, ints[i], json_integer(sqlite3_column_int64(st, 6 + i)));
    json_object_set_new(o, "format", json_string((const char *)sqlite3_column_text(st, 10)));
    json_object_set_new(o, "priority", json_integer(sqlite3_column_int64(st, 11)));
    json_object_set_new(o, "device", json_string((const char *)sqlite3_column_text(st, 12)));
    json_object_set_new(o, "width", json_integer(sqlite3_column_int64(st, 13)));
    json_object_set_new(o, "height", json_integer(sqlite3_column_int64(st, 14)));
    json_object_set_new(o, "created", json_real(sqlite3_column_double(st, 15)));
    json_object_set_new(o, "finished", sqlite3_column_type(st, 16) == SQLITE_NULL
                                           ? json_null()
                                           : json_real(sqlite3_column_double(st, 16)));
    static const char *const counts[] = {"tasks_total", "tasks_done", "tasks_running", "frames_total",
                                         "frames_done"};
    for (int i = 0; i < 5; i++)
        json_object_set_new(o, counts[i], json_integer(sqlite3_column_int64(st, 17 + i)));
    json_object_set_new(o, "ext", json_string((const char *)sqlite3_column_text(st, 22)));
    json_object_set_new(o, "checks_total", json_integer(sqlite3_column_int64(st, 24)));
    json_object_set_new(o, "checks_done", json_integer(sqlite3_column_int64(st, 25)));
    json_object_set_new(o, "requester", json_string((const char *)sqlite3_column_text(st, 26)));
    json_object_set_new(o, "budget", json_integer(sqlite3_column_int64(st, 27)));
    json_object_set_new(o, "funded", json_boolean(sqlite3_column_int(st, 28)));
    json_object_set_new(o, "paid", json_integer(sqlite3_column_int64(st, 29)));
    return o;
}

#define JOB_COLUMNS                                                                                           \
    "SELECT j.id,j.type,j.state,j.error,j.scene,j.scene_name,j.frame_start,j.frame_end,j.tiles_x,j.tiles_y,"  \
    "j.format,j.priority,j.device,j.width,j.height,j.created,j.finished,"                                     \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of=0 AND t.state!='cancelled'),"           \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of=0 AND t.state='done'),"                 \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of=0 AND t.state='assigned'),"             \
    "(SELECT count(*) FROM frames f WHERE f.job_id=j.id),"                                                    \
    "(SELECT count(*) FROM frames f WHERE f.job_id=j.id AND f.state='done'), j.ext, j.params,"               \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of!=0 AND t.state!='cancelled'),"          \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of!=0 AND t.state='done'),"                \
    "j.requester, j.budget, j.funded,"                                                                        \
    "(SELECT coalesce(sum(t.price),0) FROM tasks t WHERE t.job_id=j.id AND t.check_of=0 AND t.paid>0) FROM jobs j "

static void output_name(char *name, size_t cap, const char *type, int frame, const char *ext, const char *container)
{
    if (frame == TS_VIDEO_FRAME)
        snprintf(name, cap, "video.%s", container && container[0] ? container : "mp4");
    else if (strcmp(type, "transcode") == 0)
        snprintf(name, cap, "output.%s", ext);
    else
        snprintf(name, cap, "frame_%04d.%s", frame, ext);
}

static json_t *outputs_json(ts_store_t *self, int64_t id, const char *type, const char *ext, const char *container)
{
    json_t *arr = json_array();
    sqlite3_stmt *st =
        sdb_prep(self, "SELECT frame, output, output_size FROM frames WHERE job_id=? AND state='done' ORDER BY frame");
    if (!st)
        return arr;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        char name[64];
        output_name(name, sizeof name, type, sqlite3_column_int(st, 0), ext, container);
        json_t *o = json_object();
        json_object_set_new(o, "frame", json_integer(sqlite3_column_int(st, 0)));
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "hash", json_string((const char *)sqlite3_column_text(st, 1)));
        json_object_set_new(o, "size", json_integer(sqlite3_column_int64(st, 2)));
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    return arr;
}

json_t *ts_store_job_json(ts_store_t *self, int64_t id)
{
    sdb_lock(self);
    json_t *o = NULL;
    sqlite3_stmt *st = sdb_prep(self, JOB_COLUMNS "WHERE j.id=?");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW) {
            o = job_row_json(st);
            json_t *params = json_loads((const char *)sqlite3_column_text(st, 23), 0, NULL);
            json_object_set_new(o, "outputs",
                                outputs_json(self, id, json_string_value(json_object_get(o, "type")),
                                             json_string_value(json_object_get(o, "ext")),
                                             json_string_value(json_object_get(params, "container"))));
            if (params && json_object_size(params) > 0)
                json_object_set_new(o, "params", params);
            else
                json_decref(params);
        }
        sqlite3_finalize(st);
    }
    sdb_unlock(self);
    return o;
}

json_t *ts_store_jobs_json(ts_store_t *self)
{
    sdb_lock(self);
    json_t *arr = json_array();
    sqlite3_stmt *st = sdb_prep(self, JOB_COLUMNS "ORDER BY j.id");
    while (st && sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, job_row_json(st));
    sqlite3_finalize(st);
    sdb_unlock(self);
    return arr;
}

int ts_store_output(ts_store_t *self, int64_t job, int frame, char hash[TS_HASH_HEX], char name[64])
{
    sdb_lock(self);
    int rc = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT f.output, j.ext, j.type, json_extract(j.params, '$.container') "
                                  "FROM frames f JOIN jobs j ON j.id=f.job_id WHERE f.job_id=? AND f.frame=? AND "
                                  "f.state='done'");
    if (!st)
        rc = -1;
    else {
        sqlite3_bind_int64(st, 1, job);
        sqlite3_bind_int(st, 2, frame);
        if (sqlite3_step(st) == SQLITE_ROW) {
            sdb_copy_text(hash, TS_HASH_HEX, st, 0);
            output_name(name, 64, (const char *)sqlite3_column_text(st, 2), frame, (const char *)sqlite3_column_text(st, 1),
                        (const char *)sqlite3_column_text(st, 3));
            rc = 1;
        }
        sqlite3_finalize(st);
    }
    sdb_unlock(self);
    return rc;
}

/* ---- tasks ---- */

#define TASK_COLUMNS                                                                                          \
    "SELECT t.id,t.job_id,t.kind,t.frame,t.tile,t.x0,t.y0,t.x1,t.y1,j.scene,t.input,j.format,j.device,"      \
    "j.no_denoise,t.state,t.node,t.assigned_at,t.failures,t.start_pts,t.end_pts,j.params,t.check_of,t.verify,"   \
    "t.dclass,t.result,t.result_size "                                                                          \
    "FROM tasks t JOIN jobs j ON j.id=t.job_id "

void sdb_task_from_row(sqlite3_stmt *st, ts_task_t *t)
{
    t->id = sqlite3_column_int64(st, 0);
    t->job_id = sqlite3_column_int64(st, 1);
    t->kind = sqlite3_column_int(st, 2);
    t->frame = sqlite3_column_int(st, 3);
    t->tile = sqlite3_column_int(st, 4);
    t->x0 = sqlite3_column_int(st, 5);
    t->y0 = sqlite3_column_int(st, 6);
    t->x1 = sqlite3_column_int(st, 7);
    t->y1 = sqlite3_column_int(st, 8);
    sdb_copy_text(t->scene, sizeof t->scene, st, 9);
    sdb_copy_text(t->input_hash, sizeof t->input_hash, st, 10);
    sdb_copy_text(t->format, sizeof t->format, st, 11);
    sdb_copy_text(t->device, sizeof t->device, st, 12);
    t->no_denoise = sqlite3_column_int(st, 13) != 0;
    sdb_copy_text(t->state, sizeof t->state, st, 14);
    sdb_copy_text(t->node, sizeof t->node, st, 15);
    t->assigned_at = sqlite3_column_double(st, 16);
    t->failures = sqlite3_column_int(st, 17);
    t->start_pts = sqlite3_column_int64(st, 18);
    t->end_pts = sqlite3_column_int64(st, 19);
    sdb_copy_text(t->params, sizeof t->params, st, 20);
    t->check_of = sqlite3_column_int64(st, 21);
    sdb_copy_text(t->verify, sizeof t->verify, st, 22);
    sdb_copy_text(t->dclass, sizeof t->dclass, st, 23);
    sdb_copy_text(t->result, sizeof t->result, st, 24);
    t->result_size = sqlite3_column_int64(st, 25);
}

int ts_store_assign(ts_store_t *self, const char *node, const char *blender_version, bool has_gpu,
                    const char *prefer_scene, int max_failures, ts_task_t *tasks, int max)
{
    if (max <= 0)
        return 0;
    if (sdb_begin(self) < 0)
        return -1;
    if (!sdb_pay_may_work(self, node))
        return sdb_end(self, 0);
    sqlite3_stmt *st = sdb_prep(
        self, TASK_COLUMNS
        "WHERE t.state='queued' AND j.state IN ('queued','running') AND j.funded"
        " AND (j.device='cpu' OR ?1)"
        " AND (j.blender='' OR substr(?2,1,length(j.blender))=j.blender)"
        " AND NOT EXISTS (SELECT 1 FROM blocklist b WHERE b.job_id=t.job_id AND b.node=?3 AND"
        " (b.failures>=?4 OR b.blocked>0))"
        " AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id=?3 AND n.quarantined)"
        /* a check goes to a node that has not worked on the task it checks */
        " AND (t.check_of=0 OR NOT EXISTS (SELECT 1 FROM tasks x WHERE (x.id=t.check_of OR x.check_of=t.check_of)"
        " AND x.node=?3 AND x.state IN ('assigned','verifying','checking','done')))"
        /* checks first within a job: the frame they hold back waits for them */
        " ORDER BY j.priority DESC, (j.scene=?5) DESC, j.id, kind_rank(t.kind) DESC, (t.check_of!=0) DESC, t.id LIMIT ?6");
    int n = 0, rc = st ? 0 : -1;
    if (st) {
        sqlite3_bind_int(st, 1, has_gpu);
        sqlite3_bind_text(st, 2, blender_version, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, node, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, max_failures);
        sqlite3_bind_text(st, 5, prefer_scene ? prefer_scene : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 6, max);
        while (n < max && sqlite3_step(st) == SQLITE_ROW)
            sdb_task_from_row(st, &tasks[n++]);
        sqlite3_finalize(st);
    }
    double t = sdb_now();
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = sdb_run(self, "UPDATE tasks SET state='assigned', node=?, assigned_at=? WHERE id=?", "tdi", node, t,
                 tasks[i].id);
        rc = rc ? rc : sdb_run(self, "UPDATE jobs SET state='running' WHERE id=? AND state='queued'", "i", tasks[i].job_id);
        snprintf(tasks[i].state, sizeof tasks[i].state, "assigned");
        snprintf(tasks[i].node, sizeof tasks[i].node, "%s", node);
        tasks[i].assigned_at = t;
        rc = rc ? rc : sdb_pay_lock(self, &tasks[i]);
    }
    return sdb_end(self, rc) < 0 ? -1 : n;
}

int sdb_task_get(ts_store_t *self, int64_t id, ts_task_t *task)
{
    sqlite3_stmt *st = sdb_prep(self, TASK_COLUMNS "WHERE t.id=?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        sdb_task_from_row(st, task);
        rc = 1;
    }
    sqlite3_finalize(st);
    return rc;
}

int ts_store_task_get(ts_store_t *self, int64_t id, ts_task_t *task)
{
    sdb_lock(self);
    int rc = sdb_task_get(self, id, task);
    sdb_unlock(self);
    return rc;
}

int ts_store_tasks_assigned(ts_store_t *self, const char *node, ts_task_t **tasks, int *count)
{
    sdb_lock(self);
    *tasks = NULL;
    *count = 0;
    int cap = 0, rc = 0;
    sqlite3_stmt *st = sdb_prep(self, TASK_COLUMNS "WHERE t.state='assigned' AND (?1 IS NULL OR t.node=?1)");
    if (st && node)
        sqlite3_bind_text(st, 1, node, -1, SQLITE_TRANSIENT);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            ts_task_t *grown = realloc(*tasks, (size_t)cap * sizeof **tasks);
            if (!grown) {
                rc = ts_error_set("out of memory");
                break;
            }
            *tasks = grown;
        }
        sdb_task_from_row(st, &(*tasks)[(*count)++]);
    }
    if (!st)
        rc = -1;
    sqlite3_finalize(st);
    sdb_unlock(self);
    return rc;
}

int ts_store_node_assigned_count(ts_store_t *self, const char *node)
{
    sdb_lock(self);
    int n = -1;
    sqlite3_stmt *st = sdb_prep(self, "SELECT count(*) FROM tasks WHERE state='assigned' AND node=?");
    if (st) {
        sqlite3_bind_text(st, 1, node, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sdb_unlock(self);
    return n;
}

int sdb_task_fail(ts_store_t *self, const ts_task_t *t, const char *error, int max_failures)
{
    int rc = sdb_run(self, "UPDATE tasks SET state='queued', node='', failures=failures+1, error=?, verify='' "
                           "WHERE id=?", "ti", error, t->id);
    if (rc == 0 && t->node[0])
        rc = sdb_run(self,
                     "INSERT INTO blocklist(job_id,node,failures) VALUES(?,?,1) "
                     "ON CONFLICT(job_id,node) DO UPDATE SET failures=failures+1",
                     "it", t->job_id, t->node);
    if (rc == 0 && t->node[0])
        rc = sdb_run(self, "UPDATE nodes SET tasks_failed=tasks_failed+1 WHERE id=?", "t", t->node);
    if (rc == 0 && t->failures + 1 >= max_failures) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s task %lld (frame %d, tile %d) failed %d times; last error: %s",
                 ts_kind_name(t->kind), (long long)t->id, t->frame, t->tile, t->failures + 1, error);
        rc = sdb_run(self, "UPDATE tasks SET state='failed' WHERE id=?", "i", t->id);
        if (rc == 0)
            rc = sdb_job_end(self, t->job_id, "failed", msg);
    }
    return rc;
}

int ts_store_task_requeue(ts_store_t *self, int64_t id, bool failed, const char *error, int max_failures)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_task_t t;
    int rc = sdb_task_get(self, id, &t);
    if (rc != 1 || strcmp(t.state, "assigned") != 0)
        return sdb_end(self, rc < 0 ? -1 : 0);
    if (!failed)
        return sdb_end(self, sdb_run(self, "UPDATE tasks SET state='queued', node='' WHERE id=?", "i", id));
    return sdb_end(self, sdb_task_fail(self, &t, error, max_failures));
}

/* Marks an assigned (or re-queued) task done by node; 0 when it was already done or dropped. */
static int task_accept_locked(ts_store_t *self, int64_t id, const char *hash, const char *node, ts_task_t *t)
{
    int rc = sdb_task_get(self, id, t);
    if (rc != 1 || !(strcmp(t->state, "assigned") == 0 || strcmp(t->state, "queued") == 0))
        return rc < 0 ? -1 : 0;
    if (sdb_run(self, "UPDATE tasks SET state='done', result=?, node=? WHERE id=?", "tti", hash, node, id) < 0 ||
        sdb_run(self, "UPDATE nodes SET tasks_done=tasks_done+1 WHERE id=?", "t", node) < 0)
        return -1;
    snprintf(t->node, sizeof t->node, "%s", node);
    return sdb_pay_accept(self, t) < 0 ? -1 : 1;
}

int ts_store_probe_done(ts_store_t *self, int64_t id, const char *node)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_task_t t;
    return sdb_end(self, task_accept_locked(self, id, "", node, &t)) < 0 ? -1 : 0;
}

int sdb_task_complete(ts_store_t *self, const ts_task_t *t, bool *frame_complete)
{
    *frame_complete = false;
    const ts_kind_t *kind = ts_kind_get(t->kind);
    if (kind && kind->ends == TS_KIND_ENDS_FRAME) {
        int rc = sdb_run(self, "UPDATE frames SET state='done', output=?, output_size=? WHERE job_id=? AND frame=?",
                         "tiii", t->result, t->result_size, t->job_id, (int64_t)t->frame);
        if (rc == 0)
            rc = sdb_run(self,
                         "UPDATE jobs SET state='done', finished=? WHERE id=? AND state='running' AND NOT EXISTS "
                         "(SELECT 1 FROM frames WHERE job_id=? AND state!='done')",
                         "dii", sdb_now(), t->job_id, t->job_id);
        if (rc == 0 && sqlite3_changes(self->db) == 1)
            rc = sdb_pay_refund(self, t->job_id);
        return rc;
    }
    if (!kind || kind->ends != TS_KIND_ENDS_PIECE)
        return 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT count(*) FROM tasks WHERE job_id=? AND frame=? AND kind=? AND "
                                      "check_of=0 AND state!='done'");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, t->job_id);
    sqlite3_bind_int(st, 2, t->frame);
    sqlite3_bind_int(st, 3, t->kind);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0)
        *frame_complete = true;
    sqlite3_finalize(st);
    if (!*frame_complete)
        return 0;
    return sdb_run(self, "UPDATE frames SET state='stitching' WHERE job_id=? AND frame=?", "ii", t->job_id,
                   (int64_t)t->frame);
}

int ts_store_tile_done(ts_store_t *self, int64_t id, const char *hash, const char *node, bool *frame_complete)
{
    *frame_complete = false;
    if (sdb_begin(self) < 0)
        return -1;
    ts_task_t t;
    int rc = task_accept_locked(self, id, hash, node, &t);
    if (rc == 1)
        rc = sdb_task_complete(self, &t, frame_complete);
    return sdb_end(self, rc) < 0 ? -1 : 0;
}

int ts_store_finish_done(ts_store_t *self, int64_t id, const char *hash, int64_t size, const char *node)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_task_t t;
    int rc = task_accept_locked(self, id, hash, node, &t);
    bool unused;
    if (rc == 1) {
        snprintf(t.result, sizeof t.result, "%s", hash);
        t.result_size = size;
        rc = sdb_task_complete(self, &t, &unused);
    }
    return sdb_end(self, rc) < 0 ? -1 : 0;
}

int ts_store_frames_to_stitch(ts_store_t *self, int64_t *jobs, int *frames, int max)
{
    sdb_lock(self);
    int n = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT f.job_id, f.frame FROM frames f JOIN jobs j ON j.id=f.job_id "
                                  "WHERE f.state='stitching' AND j.state='running' ORDER BY f.job_id, f.frame LIMIT ?");
    if (st) {
        sqlite3_bind_int(st, 1, max);
        while (n < max && sqlite3_step(st) == SQLITE_ROW) {
            jobs[n] = sqlite3_column_int64(st, 0);
            frames[n++] = sqlite3_column_int(st, 1);
        }
        sqlite3_finalize(st);
    }
    sdb_unlock(self);
    return st ? n : -1;
}

int ts_store_frame_tiles(ts_store_t *self, int64_t job, int frame, int kind, char (*hashes)[TS_HASH_HEX], int count)
{
    sdb_lock(self);
    int n = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT tile, result FROM tasks WHERE job_id=? AND frame=? AND kind=? AND "
                                  "state='done' AND check_of=0 ORDER BY tile");
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        sqlite3_bind_int(st, 2, frame);
        sqlite3_bind_int(st, 3, kind);
        while (sqlite3_step(st) == SQLITE_ROW) {
            int tile = sqlite3_column_int(st, 0);
            if (tile >= 0 && tile < count) {
                sdb_copy_text(hashes[tile], TS_HASH_HEX, st, 1);
                n++;
            }
        }
        sqlite3_finalize(st);
    }
    sdb_unlock(self);
    if (!st)
        return -1;
    return n == count ? 0 : ts_error_set("job %lld frame %d: %d of %d tiles done", (long long)job, frame, n, count);
}

int ts_store_frame_stitched(ts_store_t *self, int64_t job, int frame, const char *hash)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self, "UPDATE frames SET state='finishing', stitched=? WHERE job_id=? AND frame=? AND "
                       "state='stitching'",
                 "tii", hash, job, (int64_t)frame);
    if (rc == 0 && sqlite3_changes(self->db) == 1)
        rc = sdb_run(self, "INSERT INTO tasks(job_id,kind,frame,input,units,state) "
                       "SELECT ?,?,?,?,width*height,'queued' FROM jobs WHERE id=?", "iiiti", job,
                 (int64_t)TS_KIND_FINISH, (int64_t)frame, hash, job);
    return sdb_end(self, rc);
}

int ts_store_videos_to_cut(ts_store_t *self, int64_t *jobs, int max)
{
    sdb_lock(self);
    int n = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT f.job_id FROM frames f JOIN jobs j ON j.id=f.job_id WHERE f.frame=?1 AND "
                                  "f.state='waiting' AND j.state='running' AND NOT EXISTS (SELECT 1 FROM frames g "
                                  "WHERE g.job_id=f.job_id AND g.frame!=?1 AND g.state!='done') ORDER BY f.job_id LIMIT ?2");
    if (st) {
        sqlite3_bind_int(st, 1, TS_VIDEO_FRAME);
        sqlite3_bind_int(st, 2, max);
        while (n < max && sqlite3_step(st) == SQLITE_ROW)
            jobs[n++] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sdb_unlock(self);
    return st ? n : -1;
}

int ts_store_frame_outputs(ts_store_t *self, int64_t job, char (**hashes)[TS_HASH_HEX], int *count)
{
    sdb_lock(self);
    *hashes = NULL;
    *count = 0;
    int cap = 0, rc = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT output FROM frames WHERE job_id=? AND frame!=? AND state='done' ORDER BY frame");
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        sqlite3_bind_int(st, 2, TS_VIDEO_FRAME);
        while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
            if (*count == cap) {
                cap = cap ? cap * 2 : 64;
                void *grown = realloc(*hashes, (size_t)cap * sizeof **hashes);
                if (!grown) {
                    rc = ts_error_set("out of memory");
                    break;
                }
                *hashes = grown;
            }
            sdb_copy_text((*hashes)[(*count)++], TS_HASH_HEX, st, 0);
        }
        sqlite3_finalize(st);
    }
    sdb_unlock(self);
    return st ? rc : -1;
}

int ts_store_video_segments(ts_store_t *self, int64_t job, const ts_store_segment_t *segs, int count, int tb_num,
                            int tb_den, int fps_num, int fps_den)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_job_t j;
    int rc = sdb_job_get(self, job, &j);
    if (rc != 1)
        return sdb_end(self, rc < 0 ? -1 : 0);
    json_t *p = json_loads(j.params, 0, NULL);
    rc = p ? 0 : ts_error_set("job %lld: no encoder settings", (long long)job);
    if (rc == 0) {
        json_object_set_new(p, "tb_num", json_integer(tb_num));
        json_object_set_new(p, "tb_den", json_integer(tb_den));
        json_object_set_new(p, "fps_num", json_integer(fps_num));
        json_object_set_new(p, "fps_den", json_integer(fps_den));
        char *text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
        rc = text ? sdb_run(self, "UPDATE jobs SET params=? WHERE id=?", "ti", text, job) : -1;
        free(text);
    }
    json_decref(p);
    /* the encode's share of the job, split by the time each segment owns */
    int64_t span = 0, encode_units = 0;
    for (int i = 0; i < count; i++)
        span += segs[i].end_pts > segs[i].start_pts ? segs[i].end_pts - segs[i].start_pts : 1;
    sqlite3_stmt *eu = rc == 0 ? sdb_prep(self, "SELECT encode_units FROM jobs WHERE id=?") : NULL;
    if (eu) {
        sqlite3_bind_int64(eu, 1, job);
        if (sqlite3_step(eu) == SQLITE_ROW)
            encode_units = sqlite3_column_int64(eu, 0);
        sqlite3_finalize(eu);
    }
    for (int i = 0; rc == 0 && i < count; i++) {
        int64_t own = segs[i].end_pts > segs[i].start_pts ? segs[i].end_pts - segs[i].start_pts : 1;
        rc = sdb_run(self, "INSERT INTO tasks(job_id,kind,frame,tile,input,start_pts,end_pts,units,state) "
                       "VALUES(?,?,?,?,?,?,?,?,'queued')",
                 "iiiitiii", job, (int64_t)TS_KIND_SEGMENT, (int64_t)TS_VIDEO_FRAME, (int64_t)i, segs[i].hash,
                 (int64_t)segs[i].start_pts, (int64_t)segs[i].end_pts,
                 span > 0 ? (int64_t)((__int128)encode_units * own / span) : 0);
    }
    if (rc == 0)
        rc = sdb_run(self, "UPDATE frames SET state='rendering' WHERE job_id=? AND frame=?", "ii", job, (int64_t)TS_VIDEO_FRAME);
    return sdb_end(self, rc);
}

int ts_store_segment_count(ts_store_t *self, int64_t job)
{
    sdb_lock(self);
    int n = -1;
    sqlite3_stmt *st = sdb_prep(self, "SELECT count(*) FROM tasks WHERE job_id=? AND kind=? AND check_of=0 AND state!='cancelled'");
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        sqlite3_bind_int(st, 2, TS_KIND_SEGMENT);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    sdb_unlock(self);
    return n;
}

int ts_store_frame_output(ts_store_t *self, int64_t job, int frame, const char *hash, int64_t size)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self, "UPDATE frames SET state='done', output=?, output_size=? WHERE job_id=? AND frame=? AND "
                       "state='stitching'",
                 "tiii", hash, size, job, (int64_t)frame);
    if (rc == 0)
        rc = sdb_run(self,
                 "UPDATE jobs SET state='done', finished=? WHERE id=? AND state='running' AND NOT EXISTS "
                 "(SELECT 1 FROM frames WHERE job_id=? AND state!='done')",
                 "dii", sdb_now(), job, job);
    if (rc == 0 && sqlite3_changes(self->db) == 1)
        rc = sdb_pay_refund(self, job);
    return sdb_end(self, rc);
}

/* ---- nodes ---- */

int ts_store_node_seen(ts_store_t *self, const char *id, const char *name, const char *blender,
                       const char *devices_json, const char *cpu_model, const char *payout, int cores, int64_t memory)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self,
                     "INSERT INTO nodes(id,name,state,blender,devices,cpu_model,payout,cores,memory,last_seen) "
                     "VALUES(?,?,'online',?,?,?,?,?,?,?) "
                     "ON CONFLICT(id) DO UPDATE SET name=excluded.name, state='online', blender=excluded.blender,"
                     " devices=excluded.devices, cpu_model=excluded.cpu_model, payout=excluded.payout,"
                     " cores=excluded.cores, memory=excluded.memory, last_seen=excluded.last_seen",
                     "ttttttiid", id, name, blender, devices_json, cpu_model, payout ? payout : "", (int64_t)cores,
                     memory, sdb_now());
    if (rc == 0)
        rc = sdb_pay_node_seen(self, id);
    return sdb_end(self, rc);
}

int ts_store_node_state(ts_store_t *self, const char *id, const char *state)
{
    sdb_lock(self);
    int rc = sdb_run(self, "UPDATE nodes SET state=?, last_seen=CASE WHEN ?='offline' THEN last_seen ELSE ? END WHERE id=?",
                 "ttdt", state, state, sdb_now(), id);
    sdb_unlock(self);
    return rc;
}

int ts_store_nodes_all_offline(ts_store_t *self)
{
    sdb_lock(self);
    int rc = sdb_run(self, "UPDATE nodes SET state='offline'", "");
    sdb_unlock(self);
    return rc;
}

json_t *ts_store_nodes_json(ts_store_t *self, double trust, double floor)
{
    sdb_lock(self);
    json_t *arr = json_array();
    sqlite3_stmt *st = sdb_prep(
        self, "SELECT id,name,state,blender,devices,cores,memory,last_seen,tasks_done,tasks_failed,"
              "(SELECT count(*) FROM tasks t WHERE t.node=n.id AND t.state='assigned'),"
              "cpu_model,consecutive_valid,checks_passed,checks_failed,quarantined,"
              "(SELECT json_group_array(b.job_id) FROM blocklist b JOIN jobs j ON j.id=b.job_id"
              " WHERE b.node=n.id AND b.blocked>0), payout "
              "FROM nodes n ORDER BY name, id");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        const char *state = (const char *)sqlite3_column_text(st, 2);
        json_t *blocked = json_loads((const char *)sqlite3_column_text(st, 16), 0, NULL);
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int64_t stake = self->escrow ? ts_escrow_stake(self->escrow, self->db, id) : -1;
        if (sqlite3_column_int(st, 15))
            state = "quarantined";
        else if (self->escrow && stake < self->pay.min_stake && strcmp(state, "offline") != 0)
            state = "unstaked";   /* less stake than paid work needs: it gets none */
        else if (json_array_size(blocked) > 0)
            state = "blocked";    /* blocked on some jobs by failed checks, still working on others */
        else if (strcmp(state, "online") == 0 && sqlite3_column_int(st, 10) > 0)
            state = "busy";
        json_object_set_new(o, "id", json_string((const char *)sqlite3_column_text(st, 0)));
        json_object_set_new(o, "name", json_string((const char *)sqlite3_column_text(st, 1)));
        json_object_set_new(o, "state", json_string(state));
        json_object_set_new(o, "online", json_boolean(strcmp((const char *)sqlite3_column_text(st, 2), "online") == 0));
        json_object_set_new(o, "blender", json_string((const char *)sqlite3_column_text(st, 3)));
        json_t *dev = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
        json_object_set_new(o, "devices", dev ? dev : json_array());
        json_object_set_new(o, "cpu_model", json_string((const char *)sqlite3_column_text(st, 11)));
        json_object_set_new(o, "cores", json_integer(sqlite3_column_int64(st, 5)));
        json_object_set_new(o, "memory", json_integer(sqlite3_column_int64(st, 6)));
        json_object_set_new(o, "last_seen", json_real(sqlite3_column_double(st, 7)));
        json_object_set_new(o, "tasks_done", json_integer(sqlite3_column_int64(st, 8)));
        json_object_set_new(o, "tasks_failed", json_integer(sqlite3_column_int64(st, 9)));
        int cv = sqlite3_column_int(st, 12);
        json_object_set_new(o, "reputation", json_integer(cv));
        json_object_set_new(o, "check_rate", json_real(ts_check_rate(cv, trust, floor)));
        json_object_set_new(o, "checks_passed", json_integer(sqlite3_column_int64(st, 13)));
        json_object_set_new(o, "checks_failed", json_integer(sqlite3_column_int64(st, 14)));
        json_object_set_new(o, "blocked_jobs", blocked ? blocked : json_array());
        if (self->escrow)
            json_object_set_new(o, "stake", json_integer(stake));
        json_object_set_new(o, "payout", json_string((const char *)sqlite3_column_text(st, 17)));
        json_array_append_new(arr, o);
    }
    sqlite3_finalize(st);
    sdb_unlock(self);
    return arr;
}
