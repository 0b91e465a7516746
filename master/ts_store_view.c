/* ts_store_view: a render job's frames and one frame's tiles for the artists' app (see ts_store_view.h). */
#include "master/ts_store_view.h"
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include "splitter/ts_tileplan.h"
#include <stdlib.h>
#include <string.h>

/* A tile's newest task that is not superseded, as the mosaic shows it. */
#define TILE_COLUMNS                                                                                                 \
    "SELECT t.id, t.tile, t.state, t.node, coalesce(n.name, ''), t.busy, t.assigned_at, t.finished, t.verify,"      \
    " t.failures, t.result, t.x0, t.y0, t.x1, t.y1 FROM tasks t LEFT JOIN nodes n ON n.id=t.node"                   \
    " WHERE t.job_id=?1 AND t.frame=?2 AND t.kind=?3 AND t.check_of=0 AND t.state!='superseded'"

json_t *ts_store_view_frames(ts_store_t *self, const ts_job_t *job)
{
    json_t *frames = json_array();
    sdb_lock(self);
    sqlite3_stmt *st = sdb_prep(self, "SELECT f.frame, f.state, (SELECT count(*) FROM tasks t WHERE t.job_id=f.job_id"
                                      " AND t.frame=f.frame AND t.kind=?2 AND t.check_of=0 AND t.state='done')"
                                      " FROM frames f WHERE f.job_id=?1 AND f.frame!=?3 ORDER BY f.frame");
    int rc = st ? SQLITE_DONE : SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int64(st, 1, job->id);
        sqlite3_bind_int(st, 2, TS_KIND_TILE);
        sqlite3_bind_int(st, 3, TS_VIDEO_FRAME);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            json_array_append_new(frames, json_pack("{s:i,s:s,s:i,s:i}", "frame", sqlite3_column_int(st, 0), "state",
                                                    (const char *)sqlite3_column_text(st, 1), "tiles",
                                                    job->tiles_x * job->tiles_y, "tiles_done",
                                                    sqlite3_column_int(st, 2)));
        if (rc != SQLITE_DONE)
            sdb_error(self, "reading frames");
        sdb_done(self, st);
    }
    sdb_unlock(self);
    if (rc != SQLITE_DONE) {
        json_decref(frames);
        return NULL;
    }
    return json_pack("{s:o}", "frames", frames);
}

/* The frame's state: 1 found (state filled), 0 no such frame, -1 error. Under the store's lock. */
static int frame_state(ts_store_t *self, int64_t job, int frame, char *state, size_t cap)
{
    sqlite3_stmt *st = sdb_prep(self, "SELECT state FROM frames WHERE job_id=? AND frame=?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, job);
    sqlite3_bind_int(st, 2, frame);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : sdb_error(self, "reading a frame");
    if (found == 1)
        sdb_copy_text(state, cap, st, 0);
    sdb_done(self, st);
    return found;
}

/* The seconds a task's node worked on it: what the node reported, else from assignment to result; null unknown. */
static json_t *seconds_json(sqlite3_stmt *st)
{
    double busy = sqlite3_column_double(st, 5), assigned = sqlite3_column_double(st, 6),
           finished = sqlite3_column_double(st, 7);
    if (busy > 0)
        return json_real(busy);
    return finished > 0 && assigned > 0 && finished >= assigned ? json_real(finished - assigned) : json_null();
}

/* Each spot check (and tie-break) of the frame's tiles appended to its tile's "checks". Under the store's lock. */
static int add_checks(ts_store_t *self, int64_t job, int frame, json_t **by_tile, int count)
{
    sqlite3_stmt *st = sdb_prep(self, "SELECT o.tile, o.id, c.id, c.state, c.node, coalesce(n.name, ''), c.verify"
                                      " FROM tasks c JOIN tasks o ON o.id=c.check_of LEFT JOIN nodes n ON n.id=c.node"
                                      " WHERE o.job_id=?1 AND o.frame=?2 AND o.kind=?3 AND c.check_of!=0 ORDER BY c.id");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, job);
    sqlite3_bind_int(st, 2, frame);
    sqlite3_bind_int(st, 3, TS_KIND_TILE);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int tile = sqlite3_column_int(st, 0);
        json_t *t = tile >= 0 && tile < count ? by_tile[tile] : NULL;
        if (!t || json_integer_value(json_object_get(t, "task")) != sqlite3_column_int64(st, 1))
            continue; /* a check of a task the tile no longer shows */
        json_array_append_new(json_object_get(t, "checks"),
                              json_pack("{s:I,s:s,s:s,s:s,s:s}", "task", (json_int_t)sqlite3_column_int64(st, 2),
                                        "state", (const char *)sqlite3_column_text(st, 3), "node",
                                        (const char *)sqlite3_column_text(st, 4), "node_name",
                                        (const char *)sqlite3_column_text(st, 5), "verify",
                                        (const char *)sqlite3_column_text(st, 6)));
    }
    sdb_done(self, st);
    return rc == SQLITE_DONE ? 0 : sdb_error(self, "reading a frame's checks");
}

/* The job's tile plan (own rectangles): count tiles, or -1. */
static int plan(const ts_job_t *job, ts_tile_t **tiles)
{
    int count = 0;
    if (job->width <= 0 || job->height <= 0)
        return 0; /* not planned yet */
    if (ts_tileplan_make(job->width, job->height, job->tiles_x, job->tiles_y, 0, tiles, &count) < 0)
        return -1;
    return count;
}

int ts_store_view_frame(ts_store_t *self, const ts_job_t *job, int frame, json_t **out)
{
    *out = NULL;
    ts_tile_t *own = NULL;
    int count = plan(job, &own);
    if (count <= 0)
        return count;
    json_t **by_tile = calloc((size_t)count, sizeof *by_tile);
    json_t *tiles = json_array();
    char state[16] = "";
    if (!by_tile || !tiles) {
        free(own);
        free(by_tile);
        json_decref(tiles);
        return ts_error_set("out of memory");
    }
    for (int i = 0; i < count; i++) { /* every tile of the plan, before any task says more */
        ts_rect_t r = own[i].own;
        by_tile[i] = json_pack("{s:i,s:i,s:i,s:i,s:i,s:I,s:s,s:s,s:s,s:n,s:n,s:s,s:i,s:[]}", "tile", i, "x", r.x0, "y",
                               job->height - r.y1, "width", ts_rect_width(r), "height", ts_rect_height(r), "task",
                               (json_int_t)0, "state", "planned", "node", "", "node_name", "", "seconds",
                               "assigned_at", "verify", "", "failures", 0, "checks");
        json_array_append_new(tiles, by_tile[i]);
    }
    free(own);
    sdb_lock(self);
    int found = frame_state(self, job->id, frame, state, sizeof state);
    sqlite3_stmt *st = found == 1 ? sdb_prep(self, TILE_COLUMNS " ORDER BY t.tile, t.id") : NULL;
    if (found == 1 && !st)
        found = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, job->id);
        sqlite3_bind_int(st, 2, frame);
        sqlite3_bind_int(st, 3, TS_KIND_TILE);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) { /* ordered by id: the newest task of a tile is set last */
            int tile = sqlite3_column_int(st, 1);
            if (tile < 0 || tile >= count)
                continue;
            json_t *t = by_tile[tile];
            double assigned = sqlite3_column_double(st, 6);
            json_object_set_new(t, "task", json_integer(sqlite3_column_int64(st, 0)));
            json_object_set_new(t, "state", json_string((const char *)sqlite3_column_text(st, 2)));
            json_object_set_new(t, "node", json_string((const char *)sqlite3_column_text(st, 3)));
            json_object_set_new(t, "node_name", json_string((const char *)sqlite3_column_text(st, 4)));
            json_object_set_new(t, "seconds", seconds_json(st));
            json_object_set_new(t, "assigned_at", assigned > 0 ? json_real(assigned) : json_null());
            json_object_set_new(t, "verify", json_string((const char *)sqlite3_column_text(st, 8)));
            json_object_set_new(t, "failures", json_integer(sqlite3_column_int(st, 9)));
        }
        found = rc == SQLITE_DONE ? 1 : sdb_error(self, "reading a frame's tiles");
        sdb_done(self, st);
    }
    if (found == 1 && add_checks(self, job->id, frame, by_tile, count) < 0)
        found = -1;
    sdb_unlock(self);
    free(by_tile);
    if (found != 1) {
        json_decref(tiles);
        return found;
    }
    *out = json_pack("{s:I,s:i,s:s,s:i,s:i,s:i,s:i,s:o}", "job", (json_int_t)job->id, "frame", frame, "state", state,
                     "width", job->width, "height", job->height, "tiles_x", job->tiles_x, "tiles_y", job->tiles_y,
                     "tiles", tiles);
    return *out ? 1 : ts_error_set("out of memory");
}

int ts_store_view_tile_result(ts_store_t *self, const ts_job_t *job, int frame, int tile, char hash[TS_HASH_HEX],
                              ts_store_rect_t *render, ts_store_rect_t *own)
{
    ts_tile_t *plan_tiles = NULL;
    int count = plan(job, &plan_tiles);
    if (count <= 0 || tile < 0 || tile >= count) {
        free(plan_tiles);
        return count < 0 ? -1 : 0;
    }
    ts_rect_t o = plan_tiles[tile].own;
    free(plan_tiles);
    *own = (ts_store_rect_t){o.x0, o.y0, o.x1, o.y1};
    sdb_lock(self);
    /* verified: the verifier decoded it (done), or it is under a spot check after passing its own checks */
    sqlite3_stmt *st = sdb_prep(self, TILE_COLUMNS " AND t.tile=?4 ORDER BY t.id DESC LIMIT 1");
    int found = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, job->id);
        sqlite3_bind_int(st, 2, frame);
        sqlite3_bind_int(st, 3, TS_KIND_TILE);
        sqlite3_bind_int(st, 4, tile);
        int rc = sqlite3_step(st);
        found = rc == SQLITE_DONE ? 0 : rc == SQLITE_ROW ? 1 : sdb_error(self, "reading a tile");
        if (found == 1) {
            const char *state = (const char *)sqlite3_column_text(st, 2);
            found = sqlite3_column_type(st, 10) != SQLITE_NULL &&
                    (strcmp(state, "done") == 0 || strcmp(state, "checking") == 0);
        }
        if (found == 1) {
            sdb_copy_text(hash, TS_HASH_HEX, st, 10);
            *render = (ts_store_rect_t){sqlite3_column_int(st, 11), sqlite3_column_int(st, 12),
                                        sqlite3_column_int(st, 13), sqlite3_column_int(st, 14)};
        }
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return found;
}
