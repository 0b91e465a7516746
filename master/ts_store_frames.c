/* ts_store_frames: the store's frames: stitching, finished outputs, a render's video and its segments. */
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include <stdlib.h>

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
        sdb_done(self, st);
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
        sdb_done(self, st);
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
        sdb_done(self, st);
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
        sdb_done(self, st);
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
    /* the encode's share of the job, split by the frames each segment owns */
    int64_t span = 0, encode_units = 0;
    for (int i = 0; i < count; i++)
        span += ts_store_segment_units(&segs[i]);
    sqlite3_stmt *eu = rc == 0 ? sdb_prep(self, "SELECT encode_units FROM jobs WHERE id=?") : NULL;
    if (eu) {
        sqlite3_bind_int64(eu, 1, job);
        if (sqlite3_step(eu) == SQLITE_ROW)
            encode_units = sqlite3_column_int64(eu, 0);
        sdb_done(self, eu);
    }
    for (int i = 0; rc == 0 && i < count; i++) {
        int64_t own = ts_store_segment_units(&segs[i]);
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

int ts_store_piece_count(ts_store_t *self, int64_t job, int frame, int kind)
{
    sdb_lock(self);
    int n = -1;
    sqlite3_stmt *st = sdb_prep(self, "SELECT count(*) FROM tasks WHERE job_id=? AND frame=? AND kind=? AND check_of=0 "
                                      "AND state NOT IN ('cancelled','superseded')");
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        sqlite3_bind_int(st, 2, frame);
        sqlite3_bind_int(st, 3, kind);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int(st, 0);
        sdb_done(self, st);
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
        rc = sdb_job_done_if_complete(self, job);
    return sdb_end(self, rc);
}
