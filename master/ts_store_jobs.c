/* ts_store_jobs: the store's jobs: creation with their probe or segments, lookup, cancel, fail, plan. */
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include <stdlib.h>
#include <string.h>

int64_t ts_store_job_create(ts_store_t *self, const ts_job_request_t *r, int margin)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self,
                 "INSERT INTO jobs(type,state,scene,scene_name,frame_start,frame_end,tiles_x,tiles_y,format,"
                 "priority,device,blender,no_denoise,margin,created,params,manifest,missing) "
                 "VALUES('render','queued',?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 "ttiiiitittiidttt", r->scene, r->scene_name, (int64_t)r->frame_start, (int64_t)r->frame_end,
                 (int64_t)r->tiles_x, (int64_t)r->tiles_y, r->format, (int64_t)r->priority, r->device, r->blender,
                 (int64_t)r->no_denoise, (int64_t)margin, sdb_now(), r->settings[0] ? r->settings : "{}", r->manifest,
                 r->missing ? r->missing : "");
    int64_t id = sqlite3_last_insert_rowid(self->db);
    if (rc == 0)
        rc = sdb_job_inputs_put(self, id, r);
    if (rc == 0)
        rc = sdb_job_deps_put(self, id, r);
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

int64_t ts_store_job_create_pieces(ts_store_t *self, const ts_job_request_t *r, const ts_store_pieces_job_t *job,
                                   const ts_store_segment_t *pieces, int count)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self,
                 "INSERT INTO jobs(type,state,scene,scene_name,frame_start,frame_end,tiles_x,tiles_y,format,priority,"
                 "device,blender,no_denoise,margin,width,height,ext,params,created) "
                 "VALUES(?,'queued',?,?,0,0,?,?,?,?,'cpu','',0,0,?,?,?,?,?)",
                 "tttiitiiittd", job->type, r->scene, r->scene_name, (int64_t)job->tiles_x, (int64_t)job->tiles_y,
                 job->format, (int64_t)r->priority, (int64_t)job->width, (int64_t)job->height, job->ext, job->params,
                 sdb_now());
    int64_t id = sqlite3_last_insert_rowid(self->db);
    if (rc == 0)
        rc = sdb_job_inputs_put(self, id, r);
    if (rc == 0)
        rc = sdb_job_deps_put(self, id, r);
    if (rc == 0)
        rc = sdb_run(self, "INSERT INTO frames(job_id,frame,state) VALUES(?,0,'rendering')", "i", id);
    /* a piece's share of the job: the frames it owns (a segment), or its rectangle's pixels */
    int64_t units_total = 0, area = (int64_t)job->width * job->height;
    for (int i = 0; rc == 0 && i < count; i++) {
        int64_t units = job->per_frame_units ? ts_store_segment_units(&pieces[i]) : area > 0 ? area : 1;
        units_total += units;
        rc = sdb_run(self, "INSERT INTO tasks(job_id,kind,frame,tile,x1,y1,input,start_pts,end_pts,units,state) "
                       "VALUES(?,?,0,?,?,?,?,?,?,?,'queued')",
                 "iiiiitiii", id, (int64_t)job->kind, (int64_t)i, (int64_t)job->width, (int64_t)job->height,
                 pieces[i].hash, (int64_t)pieces[i].start_pts, (int64_t)pieces[i].end_pts, units);
    }
    if (rc == 0)
        rc = sdb_pay_fund(self, id, r);
    if (rc == 0 && sdb_pay_plan(self, id, units_total, count) != 0)
        rc = TS_STORE_REFUSED;
    rc = sdb_end(self, rc);
    return rc < 0 ? rc : id;
}

int sdb_job_inputs_put(ts_store_t *self, int64_t id, const ts_job_request_t *r)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < r->ninputs; i++)
        rc = sdb_run(self, "INSERT INTO job_inputs(job_id,seq,name,hash) VALUES(?,?,?,?)", "iitt", id, (int64_t)i,
                     r->inputs[i].name, r->inputs[i].hash);
    return rc;
}

int ts_store_job_input_name(ts_store_t *self, int64_t id, const char *hash, char *name, size_t cap)
{
    sdb_lock(self);
    int rc = -1;
    sqlite3_stmt *st = sdb_prep(self, "SELECT name FROM job_inputs WHERE job_id=? AND hash=? ORDER BY seq LIMIT 1");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st) == SQLITE_ROW;
        if (rc == 1)
            sdb_copy_text(name, cap, st, 0);
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return rc;
}

bool ts_job_encodes(const ts_job_t *j)
{
    if (strcmp(j->type, "render") != 0)
        return false;
    json_t *p = json_loads(j->params, 0, NULL);
    bool encodes = json_is_string(json_object_get(p, "vcodec"));
    json_decref(p);
    return encodes;
}

int64_t ts_store_job_inputs_count(ts_store_t *self, int64_t id)
{
    sdb_lock(self);
    int64_t n = sdb_int(self, 0, "SELECT count(*) FROM job_inputs WHERE job_id=?", "i", id);
    sdb_unlock(self);
    return n;
}

json_t *ts_store_job_inputs_json(ts_store_t *self, int64_t id)
{
    sdb_lock(self);
    json_t *arr = json_array();
    sqlite3_stmt *st = sdb_prep(self, "SELECT name, hash FROM job_inputs WHERE job_id=? ORDER BY seq");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(arr, json_pack("{s:s,s:s}", "name", (const char *)sqlite3_column_text(st, 0),
                                                 "hash", (const char *)sqlite3_column_text(st, 1)));
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return arr;
}

int sdb_job_get(ts_store_t *self, int64_t id, ts_job_t *j)
{
    sqlite3_stmt *st = sdb_prep(self, "SELECT id,width,height,tiles_x,tiles_y,margin,frame_start,frame_end,state,"
                                  "format,ext,scene,scene_name,type,params,noisy,requester,out_pattern FROM jobs WHERE id=?");
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
        sdb_copy_text(j->requester, sizeof j->requester, st, 16);
        sdb_copy_text(j->out_pattern, sizeof j->out_pattern, st, 17);
        rc = 1;
    }
    sdb_done(self, st);
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
    if (sdb_pay_refund(self, id) < 0)
        return -1;
    return sdb_job_children_release(self, id, state);
}

int sdb_job_done_if_complete(ts_store_t *self, int64_t id)
{
    if (sdb_run(self, "UPDATE jobs SET state='done', finished=? WHERE id=? AND state IN ('running','paused') AND NOT "
                      "EXISTS (SELECT 1 FROM frames WHERE job_id=? AND state!='done')",
                "dii", sdb_now(), id, id) < 0)
        return -1;
    if (sqlite3_changes(self->db) != 1)
        return 0;
    if (sdb_pay_refund(self, id) < 0)
        return -1;
    return sdb_job_children_release(self, id, "done");
}

int ts_store_job_cancel(ts_store_t *self, int64_t id)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_job_t j;
    int rc = sdb_job_get(self, id, &j);
    if (rc == 0)
        rc = TS_STORE_UNKNOWN;
    else if (rc == 1 && sdb_job_ended(j.state))
        rc = TS_STORE_ENDED;
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
    sdb_done(self, ins);
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
