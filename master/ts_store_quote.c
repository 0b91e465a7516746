/* ts_store_quote: the farm's recent pace and free nodes for a quote (see ts_store_quote.h). */
#include "master/ts_store_quote.h"
#include "lib/ts_kind.h"
#include "master/ts_store_db.h"

int ts_store_quote_pace(ts_store_t *self, double *rates, size_t cap, size_t *count, int *slots)
{
    *count = 0;
    *slots = 0;
    sdb_lock(self);
    /* a tile's own seconds as its node measured them (busy), else from its assignment to its result */
    sqlite3_stmt *st = sdb_prep(self, "SELECT CASE WHEN busy > 0 THEN busy ELSE finished - assigned_at END, units"
                                      " FROM tasks WHERE kind=? AND state='done' AND check_of=0 AND units > 0"
                                      " AND finished > 0 ORDER BY finished DESC LIMIT ?");
    int rc = st ? SQLITE_DONE : SQLITE_ERROR;
    if (st) {
        sqlite3_bind_int(st, 1, TS_KIND_TILE);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)cap);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            double seconds = sqlite3_column_double(st, 0);
            if (seconds > 0 && *count < cap)
                rates[(*count)++] = seconds / (double)sqlite3_column_int64(st, 1);
        }
        if (rc != SQLITE_DONE)
            sdb_error(self, "reading the recent tiles' seconds");
        sdb_done(self, st);
    }
    if (rc == SQLITE_DONE)
        *slots = (int)sdb_int(self, 0, "SELECT count(*) FROM nodes WHERE state='online' AND paused=''", "");
    sdb_unlock(self);
    return rc == SQLITE_DONE ? 0 : -1;
}
