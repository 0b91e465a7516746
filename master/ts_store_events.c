/* ts_store_events: reading the job and task events the store's triggers write (ts_store.c), pruning them, and a
   watcher told when new ones are written. */
#include "lib/ts_error.h"
#include "lib/ts_kind.h"
#include "master/ts_store_db.h"
#include <stdio.h>
#include <string.h>

#define PRUNE_BATCH 50000 /* events deleted per transaction, so a prune never holds the store for long */

/* The columns event_from_row reads, in its order. */
#define EVENT_COLUMNS                                                                                              \
    "SELECT e.id, e.at, e.job_id, e.task_id, e.kind, e.frame, e.tile, e.check_of, e.node, e.from_state, e.to_state," \
    " coalesce(j.name, ''), coalesce(j.requester, '') FROM events e LEFT JOIN jobs j ON j.id=e.job_id "

static void event_from_row(sqlite3_stmt *st, ts_event_t *e)
{
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    e->at = sqlite3_column_double(st, 1);
    e->job_id = sqlite3_column_int64(st, 2);
    e->task_id = sqlite3_column_int64(st, 3);
    e->kind = sqlite3_column_int(st, 4);
    e->frame = sqlite3_column_int(st, 5);
    e->tile = sqlite3_column_int(st, 6);
    e->check_of = sqlite3_column_int64(st, 7);
    sdb_copy_text(e->node, sizeof e->node, st, 8);
    sdb_copy_text(e->from, sizeof e->from, st, 9);
    sdb_copy_text(e->to, sizeof e->to, st, 10);
    sdb_copy_text(e->name, sizeof e->name, st, 11);
    sdb_copy_text(e->requester, sizeof e->requester, st, 12);
}

int ts_store_events_after(ts_store_t *self, int64_t after, const char *requester, int64_t job, ts_event_t *events,
                          int max, int64_t *next)
{
    sdb_lock(self);
    /* what is committed now is all a reader can see: read up to it, and past it only what the filter skipped */
    int64_t latest = sdb_int(self, 0, "SELECT seq FROM sqlite_sequence WHERE name='events'", "");
    sqlite3_stmt *st = sdb_prep(self, EVENT_COLUMNS "WHERE e.id > ?1 AND e.id <= ?2 AND (?3 IS NULL OR j.requester=?3)"
                                                    " AND (?4 = 0 OR e.job_id=?4) ORDER BY e.id LIMIT ?5");
    int n = 0;
    if (st) {
        sqlite3_bind_int64(st, 1, after);
        sqlite3_bind_int64(st, 2, latest);
        if (requester)
            sqlite3_bind_text(st, 3, requester, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, job);
        sqlite3_bind_int(st, 5, max);
        int rc = SQLITE_DONE;
        while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
            event_from_row(st, &events[n++]);
        if (n < max && rc != SQLITE_DONE)
            n = sdb_error(self, "reading events");
        sdb_done(self, st);
    } else {
        n = -1;
    }
    sdb_unlock(self);
    if (next && n >= 0)
        *next = n > 0 && n == max ? events[n - 1].id : latest > after ? latest : after;
    return n;
}

int ts_store_events_span(ts_store_t *self, int64_t *oldest, int64_t *latest)
{
    sdb_lock(self);
    *latest = sdb_int(self, 0, "SELECT seq FROM sqlite_sequence WHERE name='events'", "");
    *oldest = sdb_int(self, *latest + 1, "SELECT min(id) FROM events", "");
    sdb_unlock(self);
    return 0;
}

int64_t ts_store_events_prune(ts_store_t *self, int64_t keep, double before)
{
    int64_t deleted = 0;
    for (;;) {
        if (sdb_begin(self) < 0)
            return -1;
        /* ids grow with time: the events to go are a run from the oldest, up to the first that is young enough or
           among the newest keep */
        int64_t latest = sdb_int(self, 0, "SELECT seq FROM sqlite_sequence WHERE name='events'", "");
        int64_t young = sdb_int(self, latest + 1, "SELECT id FROM events WHERE at >= ? ORDER BY id LIMIT 1", "d",
                                before);
        int64_t end = latest - keep + 1 < young ? latest - keep + 1 : young; /* first id kept */
        int64_t oldest = sdb_int(self, end, "SELECT min(id) FROM events", "");
        bool more = end - oldest > PRUNE_BATCH;
        if (more)
            end = oldest + PRUNE_BATCH;
        int rc = oldest < end ? sdb_run(self, "DELETE FROM events WHERE id < ?", "i", end) : 0;
        int64_t n = rc == 0 && oldest < end ? sqlite3_changes(self->db) : 0;
        if (sdb_end(self, rc) < 0)
            return -1;
        deleted += n;
        if (!more)
            return deleted;
    }
}

json_t *ts_store_event_json(const ts_event_t *e)
{
    json_t *o = json_pack("{s:I,s:s,s:f,s:I,s:s,s:s,s:o,s:s}", "id", (json_int_t)e->id, "type",
                          e->task_id ? "task" : "job", "at", e->at, "job", (json_int_t)e->job_id, "name", e->name,
                          "requester", e->requester, "from", e->from[0] ? json_string(e->from) : json_null(), "to",
                          e->to);
    if (!o)
        return NULL;
    if (e->task_id) {
        json_object_set_new(o, "task", json_integer((json_int_t)e->task_id));
        json_object_set_new(o, "kind", json_string(ts_kind_name(e->kind)));
        json_object_set_new(o, "frame", json_integer(e->frame));
        json_object_set_new(o, "tile", json_integer(e->tile));
        json_object_set_new(o, "node", json_string(e->node));
        if (e->check_of)
            json_object_set_new(o, "check_of", json_integer((json_int_t)e->check_of));
    }
    return o;
}

/* SQLite calls this for every row a statement writes on the store's connection, the triggers' rows too. */
static void on_write(void *ud, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
    const ts_store_watch_t *w = ud;
    if (op == SQLITE_INSERT && strcmp(table, "events") == 0)
        w->stored(w->arg);
}

void ts_store_events_watch(ts_store_t *self, const ts_store_watch_t *watch)
{
    sdb_lock(self);
    sqlite3_update_hook(self->db, watch ? on_write : NULL, (void *)watch);
    sdb_unlock(self);
}
