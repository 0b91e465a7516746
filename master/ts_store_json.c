/* ts_store_json: the store's JSON views of jobs (with outputs and verification) and nodes, for the API. */
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include "verifier/ts_policy.h"
#include <stdio.h>
#include <string.h>

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
    /* a studio's queue: its name, when it first got work, the jobs it waits for */
    json_object_set_new(o, "name", json_string((const char *)sqlite3_column_text(st, 32)));
    json_object_set_new(o, "started", sqlite3_column_type(st, 33) == SQLITE_NULL ? json_null()
                                                                             : json_real(sqlite3_column_double(st, 33)));
    json_object_set_new(o, "pool", json_string((const char *)sqlite3_column_text(st, 34)));
    json_object_set_new(o, "max_nodes", json_integer(sqlite3_column_int(st, 35)));
    json_t *after = json_loads((const char *)sqlite3_column_text(st, 36), 0, NULL);
    json_object_set_new(o, "after", json_is_array(after) ? after : json_array());
    if (!json_is_array(after))
        json_decref(after);
    json_object_set_new(o, "chunk", json_integer(sqlite3_column_int(st, 37)));
    json_object_set_new(o, "out_pattern", json_string((const char *)sqlite3_column_text(st, 38)));
    json_object_set_new(o, "memory_need_mb", json_integer((sqlite3_column_int64(st, 39) + (1 << 20) - 1) >> 20));
    return o;
}

/* The job's money still held and given back, from the local ledger (escrow/ts_ledger.c): locked is what its
   requester's escrow and locked buckets hold for it now (ledger_balances), refunded the sum of the balance entries
   of its refund transactions. Another backend's (evm: the chain's) figures are not in the store: both are left out
   rather than guessed. */
static void job_money_json(ts_store_t *self, json_t *o, int64_t id)
{
    if (!self->escrow || strcmp(ts_escrow_backend(self->escrow), "local") != 0)
        return;
    int64_t locked = sdb_int(self, 0, "SELECT sum(b.amount) FROM ledger_jobs l JOIN ledger_balances b ON "
                                      "b.account=l.requester AND b.job=l.job AND b.bucket IN ('escrow','locked') "
                                      "WHERE l.job=?", "i", id);
    int64_t refunded = sdb_int(self, 0, "SELECT sum(e.amount) FROM ledger_xacts x JOIN ledger_entries e ON "
                                        "e.xact=x.id WHERE x.kind='refund' AND x.job=? AND e.bucket='balance'", "i", id);
    json_object_set_new(o, "locked", json_integer(locked));
    json_object_set_new(o, "refunded", json_integer(refunded));
}

#define JOB_MISSING_SHOWN 100 /* missing files a job's view names; missing_count says how many */

#define JOB_COLUMNS                                                                                           \
    "SELECT j.id,j.type,j.state,j.error,j.scene,j.scene_name,j.frame_start,j.frame_end,j.tiles_x,j.tiles_y,"  \
    "j.format,j.priority,j.device,j.width,j.height,j.created,j.finished,"                                     \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of=0 AND"                                  \
    " t.state NOT IN ('cancelled','superseded')),"                                                            \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of=0 AND t.state='done'),"                 \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of=0 AND t.state='assigned'),"             \
    "(SELECT count(*) FROM frames f WHERE f.job_id=j.id),"                                                    \
    "(SELECT count(*) FROM frames f WHERE f.job_id=j.id AND f.state='done'), j.ext, j.params,"               \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of!=0 AND"                                 \
    " t.state NOT IN ('cancelled','superseded')),"                                                            \
    "(SELECT count(*) FROM tasks t WHERE t.job_id=j.id AND t.check_of!=0 AND t.state='done'),"                \
    "j.requester, j.budget, j.funded,"                                                                        \
    "(SELECT coalesce(sum(t.price),0) FROM tasks t WHERE t.job_id=j.id AND t.check_of=0 AND t.paid>0),"     \
    "j.manifest, j.missing, j.name, j.started, j.pool, j.max_nodes,"                                                                \
    "(SELECT json_group_array(d.parent_id) FROM job_deps d WHERE d.job_id=j.id), j.chunk, j.out_pattern,"       \
    "j.memory_need FROM jobs j "

/* The finished outputs, by frame; their file names are the job type's (master/ts_jobtype.h). */
static json_t *outputs_json(ts_store_t *self, int64_t id)
{
    json_t *arr = json_array();
    sqlite3_stmt *st =
        sdb_prep(self, "SELECT frame, output, output_size FROM frames WHERE job_id=? AND state='done' ORDER BY frame");
    if (!st)
        return arr;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:i,s:s,s:I}", "frame", sqlite3_column_int(st, 0), "hash",
                                             (const char *)sqlite3_column_text(st, 1), "size",
                                             (json_int_t)sqlite3_column_int64(st, 2)));
    sdb_done(self, st);
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
            job_money_json(self, o, id);
            json_t *params = json_loads((const char *)sqlite3_column_text(st, 23), 0, NULL);
            json_object_set_new(o, "outputs", outputs_json(self, id));
            /* work set aside by requeues (ts_store_requeue.c): done before, not counted in tasks_* */
            int64_t superseded = sdb_int(self, 0, "SELECT count(*) FROM tasks WHERE job_id=? AND check_of=0 AND "
                                                  "state='superseded'", "i", id);
            json_object_set_new(o, "tasks_superseded", json_integer(superseded));
            if (params && json_object_size(params) > 0)
                json_object_set_new(o, "params", params);
            else
                json_decref(params);
            const char *manifest = (const char *)sqlite3_column_text(st, 30);
            if (manifest && manifest[0])
                json_object_set_new(o, "manifest", json_string(manifest));
            /* the files the artist let go missing at submit (--allow-missing) */
            json_t *missing = json_loads((const char *)sqlite3_column_text(st, 31), 0, NULL);
            if (json_is_array(missing) && json_array_size(missing) > 0) {
                json_object_set_new(o, "missing_count", json_integer((json_int_t)json_array_size(missing)));
                while (json_array_size(missing) > JOB_MISSING_SHOWN) /* every poll carries the view */
                    json_array_remove(missing, json_array_size(missing) - 1);
                json_object_set_new(o, "missing", missing);
            } else {
                json_decref(missing);
            }
        }
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return o;
}

json_t *ts_store_jobs_json(ts_store_t *self, const char *requester)
{
    sdb_lock(self);
    json_t *arr = json_array();
    sqlite3_stmt *st = sdb_prep(self, JOB_COLUMNS "WHERE ?1 IS NULL OR j.requester=?1 ORDER BY j.id");
    if (st && requester)
        sqlite3_bind_text(st, 1, requester, -1, SQLITE_STATIC);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = job_row_json(st);
        job_money_json(self, o, sqlite3_column_int64(st, 0));
        json_array_append_new(arr, o);
    }
    sdb_done(self, st);
    sdb_unlock(self);
    return arr;
}

int ts_store_output(ts_store_t *self, int64_t job, int frame, char hash[TS_HASH_HEX])
{
    sdb_lock(self);
    int rc = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT output FROM frames WHERE job_id=? AND frame=? AND state='done'");
    if (!st)
        rc = -1;
    else {
        sqlite3_bind_int64(st, 1, job);
        sqlite3_bind_int(st, 2, frame);
        if (sqlite3_step(st) == SQLITE_ROW) {
            sdb_copy_text(hash, TS_HASH_HEX, st, 0);
            rc = 1;
        }
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return rc;
}

json_t *ts_store_nodes_json(ts_store_t *self, const ts_check_rates_t *rates)
{
    sdb_lock(self);
    json_t *arr = json_array();
    sqlite3_stmt *st = sdb_prep(
        self, "SELECT id,name,state,blender,devices,cores,memory,last_seen,tasks_done,tasks_failed,"
              "(SELECT count(*) FROM tasks t WHERE t.node=n.id AND t.state='assigned'),"
              "cpu_model,consecutive_valid,checks_passed,checks_failed,quarantined,"
              "(SELECT json_group_array(b.job_id) FROM blocklist b JOIN jobs j ON j.id=b.job_id"
              " WHERE b.node=n.id AND b.blocked>0), payout, paused,"
              "(SELECT count(*) FROM preemptions p WHERE p.node=n.id AND p.at>?), tags, max_memory, gpus, sandbox,"
              " vram_free "
              "FROM nodes n ORDER BY name, id");
    if (st)
        sqlite3_bind_double(st, 1, sdb_now() - 86400.0);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        const char *state = (const char *)sqlite3_column_text(st, 2);
        json_t *blocked = json_loads((const char *)sqlite3_column_text(st, 16), 0, NULL);
        const char *id = (const char *)sqlite3_column_text(st, 0);
        int64_t stake = self->escrow ? ts_escrow_stake(self->escrow, self->db, id) : -1;
        if (sqlite3_column_int(st, 15))
            state = "quarantined";
        else if (strcmp(state, "paused") == 0)
            ; /* its owner has it back: paused_reason says why */
        else if (self->escrow && stake < self->pay.min_stake && strcmp(state, "offline") != 0)
            state = "unstaked";   /* less stake than paid work needs: it gets none */
        else if (json_array_size(blocked) > 0)
            state = "blocked";    /* blocked on some jobs by failed checks, still working on others */
        else if (strcmp(state, "online") == 0 && sqlite3_column_int(st, 10) > 0)
            state = "busy";
        json_object_set_new(o, "id", json_string((const char *)sqlite3_column_text(st, 0)));
        json_object_set_new(o, "name", json_string((const char *)sqlite3_column_text(st, 1)));
        json_object_set_new(o, "state", json_string(state));
        /* connected: working, or paused by its owner */
        json_object_set_new(o, "online", json_boolean(strcmp((const char *)sqlite3_column_text(st, 2), "offline") != 0));
        if (strcmp((const char *)sqlite3_column_text(st, 2), "paused") == 0)
            json_object_set_new(o, "paused_reason", json_string((const char *)sqlite3_column_text(st, 18)));
        json_object_set_new(o, "preemptions_24h", json_integer(sqlite3_column_int64(st, 19)));
        json_object_set_new(o, "tags", json_string((const char *)sqlite3_column_text(st, 20)));
        json_object_set_new(o, "max_memory_mb", json_integer(sqlite3_column_int64(st, 21) >> 20));
        json_object_set_new(o, "blender", json_string((const char *)sqlite3_column_text(st, 3)));
        json_t *dev = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
        json_object_set_new(o, "devices", dev ? dev : json_array());
        json_t *gpus = json_loads((const char *)sqlite3_column_text(st, 22), 0, NULL);
        json_object_set_new(o, "gpus", json_is_array(gpus) ? gpus : json_array());
        if (gpus && !json_is_array(gpus))
            json_decref(gpus);
        /* what its renderers run in: "bwrap", or "none" (its owner passed --no-sandbox: unsafe for scenes) */
        json_object_set_new(o, "sandbox", json_string((const char *)sqlite3_column_text(st, 23)));
        json_object_set_new(o, "vram_free_mb", json_integer(sqlite3_column_int64(st, 24) >> 20));
        json_object_set_new(o, "cpu_model", json_string((const char *)sqlite3_column_text(st, 11)));
        json_object_set_new(o, "cores", json_integer(sqlite3_column_int64(st, 5)));
        json_object_set_new(o, "memory", json_integer(sqlite3_column_int64(st, 6)));
        json_object_set_new(o, "last_seen", json_real(sqlite3_column_double(st, 7)));
        json_object_set_new(o, "tasks_done", json_integer(sqlite3_column_int64(st, 8)));
        json_object_set_new(o, "tasks_failed", json_integer(sqlite3_column_int64(st, 9)));
        int cv = sqlite3_column_int(st, 12);
        json_object_set_new(o, "reputation", json_integer(cv));
        /* the rate its next result is drawn against, at the price of its latest priced piece */
        ts_check_facts_t facts = {.run = cv};
        int64_t at_risk = self->escrow ? ts_escrow_slash_of(self->escrow, stake) : 0;
        if (self->escrow) {
            facts.at_risk = (double)at_risk / TS_TOKEN_UNIT;
            facts.price = (double)sdb_int(self, 0, "SELECT price FROM tasks WHERE node=? AND price>0 ORDER BY id DESC "
                                                   "LIMIT 1", "t", id) / TS_TOKEN_UNIT;
        }
        json_object_set_new(o, "check_rate", json_real(ts_check_rate_for(&facts, rates)));
        json_object_set_new(o, "checks_passed", json_integer(sqlite3_column_int64(st, 13)));
        json_object_set_new(o, "checks_failed", json_integer(sqlite3_column_int64(st, 14)));
        json_object_set_new(o, "blocked_jobs", blocked ? blocked : json_array());
        if (self->escrow)
            json_object_set_new(o, "stake", json_integer(stake));
        if (self->escrow)
            json_object_set_new(o, "at_risk", json_integer(at_risk));
        json_object_set_new(o, "payout", json_string((const char *)sqlite3_column_text(st, 17)));
        json_array_append_new(arr, o);
    }
    sdb_done(self, st);
    sdb_unlock(self);
    return arr;
}
