/* ts_store_nodes: the store's nodes: seen, state, offline, paused by their owners. */
#include "lib/ts_error.h"
#include "master/ts_store_db.h"

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

int ts_store_node_pause(ts_store_t *self, const char *id, const char *reason, int given_back)
{
    if (sdb_begin(self) < 0)
        return -1;
    int rc = sdb_run(self, "UPDATE nodes SET state='paused', paused=? WHERE id=?", "tt", reason, id);
    if (rc == 0 && given_back > 0)
        rc = sdb_run(self, "INSERT INTO preemptions(node,at,reason,tasks) VALUES(?,?,?,?)", "tdti", id, sdb_now(), reason,
                     (int64_t)given_back);
    return sdb_end(self, rc);
}

int ts_store_node_tags(ts_store_t *self, const char *id, const char *tags, int64_t max_memory)
{
    sdb_lock(self);
    int rc = sdb_run(self, "UPDATE nodes SET tags=?, max_memory=? WHERE id=?", "tit", tags, max_memory, id);
    sdb_unlock(self);
    return rc;
}

int ts_store_node_gpus(ts_store_t *self, const char *id, const char *gpus_json, const char *sandbox, int64_t vram_free)
{
    sdb_lock(self);
    int rc = sdb_run(self, "UPDATE nodes SET gpus=?, sandbox=?, vram_free=? WHERE id=?", "ttit", gpus_json, sandbox,
                     vram_free, id);
    sdb_unlock(self);
    return rc;
}

int ts_store_node_earnings(ts_store_t *self, const char *node, double since, int64_t *today, int64_t *total)
{
    sdb_lock(self);
    *today = sdb_int(self, 0, "SELECT coalesce(sum(amount),0) FROM node_earnings WHERE node=? AND at>=?", "td", node,
                     since);
    *total = sdb_int(self, 0, "SELECT coalesce(sum(amount),0) FROM node_earnings WHERE node=?", "t", node);
    sdb_unlock(self);
    return 0;
}

int ts_store_job_memory(ts_store_t *self, int64_t job, int64_t bytes)
{
    sdb_lock(self);
    int rc = sdb_run(self, "UPDATE jobs SET memory_need=? WHERE id=? AND memory_need<?", "iii", bytes, job, bytes);
    sdb_unlock(self);
    return rc;
}

int ts_store_node_resume(ts_store_t *self, const char *id)
{
    sdb_lock(self);
    int rc = sdb_run(self, "UPDATE nodes SET state='online', paused='', last_seen=? WHERE id=?", "dt", sdb_now(), id);
    sdb_unlock(self);
    return rc;
}
