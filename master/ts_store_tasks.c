/* ts_store_tasks: the store's tasks: assignment, lookup, failure and re-queueing, completion. */
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TASK_COLUMNS                                                                                          \
    "SELECT t.id,t.job_id,t.kind,t.frame,t.tile,t.x0,t.y0,t.x1,t.y1,j.scene,t.input,j.format,j.device,"      \
    "j.no_denoise,t.state,t.node,t.assigned_at,t.failures,t.start_pts,t.end_pts,j.params,t.check_of,t.verify,"   \
    "t.dclass,t.result,t.result_size,j.manifest "                                                                          \
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
    sdb_copy_text(t->manifest, sizeof t->manifest, st, 26);
}

#define PREEMPT_PRONE 3 /* preemptions in 24 h after which a node gets a job's smaller pieces first */

/* The best queued task for the node: fair share between requesters (unless priority_only), then the requester's
   own order; a node its owner often takes back gets the job's smaller pieces first (a tile's pixels, a segment's
   duration), so less is lost at the next preemption. 1 found, 0 none, -1 error. */
/* The jobs a node may work on, best first; the queue's order across jobs: requesters' fair shares (unless
   --priority-only), priority, the scene the node holds, age. ?1 has a GPU, ?2 its Blender, ?3 the node,
   ?4 max failures, ?5 its scene, ?7 priority only, ?8 now. */
#define JOBS_FOR_NODE                                                                                                 \
    SDB_FAIR_CTE "SELECT j.id FROM jobs j JOIN fair f ON f.requester=j.requester "                                   \
    "WHERE j.state IN ('queued','running') AND j.funded"                                                              \
    " AND EXISTS (SELECT 1 FROM tasks q WHERE q.state='queued' AND q.job_id=j.id)"                                   \
    " AND (j.device='cpu' OR ?1)"                                                                                     \
    " AND (j.blender='' OR substr(?2,1,length(j.blender))=j.blender)"                                                 \
    " AND NOT EXISTS (SELECT 1 FROM blocklist b WHERE b.job_id=j.id AND b.node=?3 AND"                                \
    " (b.failures>=?4 OR b.blocked>0))"                                                                               \
    " AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.id=?3 AND n.quarantined)"                                         \
    /* the node's owner allows a renderer at least what the job's renders were seen to need */                       \
    " AND (j.memory_need=0 OR coalesce((SELECT n.max_memory FROM nodes n WHERE n.id=?3),0)=0"                         \
    " OR j.memory_need <= (SELECT n.max_memory FROM nodes n WHERE n.id=?3))"                                          \
    /* a GPU job's need fits the free memory of the GPUs the node lends */                                           \
    " AND (j.device='cpu' OR j.memory_need=0 OR coalesce((SELECT n.vram_free FROM nodes n WHERE n.id=?3),0)=0"        \
    " OR j.memory_need <= (SELECT n.vram_free FROM nodes n WHERE n.id=?3))"                                           \
    /* a requester's limit of tasks on nodes at once */                                                              \
    " AND (f.cap=0 OR f.n < f.cap)"                                                                                   \
    /* a pool: only nodes with its tag; at most max_nodes nodes at once (a node already on it may take more) */       \
    " AND (j.pool='' OR instr(','||coalesce((SELECT n.tags FROM nodes n WHERE n.id=?3),'')||',', ','||j.pool||',')>0)" \
    " AND (j.max_nodes=0 OR EXISTS (SELECT 1 FROM tasks x WHERE x.job_id=j.id AND x.state='assigned' AND x.node=?3)"  \
    " OR (SELECT count(DISTINCT x.node) FROM tasks x WHERE x.job_id=j.id AND x.state='assigned') < j.max_nodes)"     \
    " ORDER BY CASE WHEN ?7 THEN 0 ELSE f.key END, CASE WHEN ?7 THEN 0 ELSE f.n END,"                                \
    " j.priority DESC, (j.scene=?5) DESC, j.id"

/* A job's next queued task for node ?2: the queue index's first entry that is not a check of the node's own work
   (a check goes to a node that has not worked on the task it checks); for a node often preempted, the smallest of
   the first rank. */
static const char *task_in_job_sql(ts_store_t *self, bool smallest)
{
    if (!self->queue_sql[0][0])
        for (int i = 0; i < 2; i++)
            snprintf(self->queue_sql[i], sizeof self->queue_sql[i],
                     TASK_COLUMNS "WHERE t.job_id=?1 AND t.state='queued' AND (t.check_of=0 OR NOT EXISTS "
                     "(SELECT 1 FROM tasks x WHERE (x.id=t.check_of OR (x.check_of=t.check_of AND x.check_of!=0)) AND x.node=?2 AND "
                     "x.state IN ('assigned','verifying','checking','done'))) ORDER BY %s DESC, (t.check_of!=0) DESC, "
                     "%st.id LIMIT 1", self->queue_rank, i ? "(t.x1-t.x0)*(t.y1-t.y0) + (t.end_pts-t.start_pts), " : "");
    return self->queue_sql[smallest];
}

/* The node's next task: the best job it may work on that has a task it may take, then that job's first such
   task. Two steps, each on an index, so a choice costs the same with 10 or 100,000 tasks queued. */
static int best_task(ts_store_t *self, const char *node, const char *blender_version, bool has_gpu,
                     const char *prefer_scene, int max_failures, ts_task_t *task)
{
    sqlite3_stmt *jobs = sdb_prep(self, JOBS_FOR_NODE);
    if (!jobs)
        return -1;
    double now = sdb_now();
    sqlite3_bind_int(jobs, 1, has_gpu);
    sqlite3_bind_text(jobs, 2, blender_version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(jobs, 3, node, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(jobs, 4, max_failures);
    sqlite3_bind_text(jobs, 5, prefer_scene ? prefer_scene : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(jobs, 7, self->priority_only);
    sqlite3_bind_double(jobs, 8, now);
    bool smallest = sdb_int(self, 0, "SELECT count(*) FROM preemptions WHERE node=? AND at>?", "td", node,
                            now - 86400.0) >= PREEMPT_PRONE;
    int rc, found = 0;
    while (!found && (rc = sqlite3_step(jobs)) == SQLITE_ROW) {
        sqlite3_stmt *st = sdb_prep(self, task_in_job_sql(self, smallest));
        if (!st) {
            found = -1;
            break;
        }
        sqlite3_bind_int64(st, 1, sqlite3_column_int64(jobs, 0));
        sqlite3_bind_text(st, 2, node, -1, SQLITE_TRANSIENT);
        int got = sqlite3_step(st);
        if (got == SQLITE_ROW) {
            sdb_task_from_row(st, task);
            found = 1;
        } else if (got != SQLITE_DONE) {
            found = sdb_error(self, "choosing a task");
        }
        sdb_done(self, st);
    }
    if (!found && rc != SQLITE_DONE)
        found = sdb_error(self, "choosing a job");
    sdb_done(self, jobs);
    return found;
}

/* A job with chunks (jobs.chunk > 1) gives the node the next frames' tasks of the same kind with the one chosen, up
   to the chunk and within its requester's limit of tasks on nodes, so one persistent renderer does them in a row;
   how many were added to tasks. */
static int chunk_mates(ts_store_t *self, const ts_task_t *first, ts_task_t *tasks, int max)
{
    int chunk = (int)sdb_int(self, 1, "SELECT chunk FROM jobs WHERE id=?", "i", first->job_id);
    if (chunk <= 1 || first->check_of != 0 || max <= 0)
        return 0;
    int cap = (int)sdb_int(self, 0, "SELECT s.max_running FROM requester_shares s JOIN jobs j ON "
                                    "j.requester=s.requester WHERE j.id=?", "i", first->job_id);
    if (cap > 0) { /* the first is not assigned yet: it takes one of what is left */
        int running = (int)sdb_int(self, 0, "SELECT count(*) FROM tasks t JOIN jobs j ON j.id=t.job_id WHERE "
                                             "t.state='assigned' AND j.requester=(SELECT requester FROM jobs WHERE id=?)",
                                   "i", first->job_id);
        if (cap - running - 1 < max)
            max = cap - running - 1;
        if (max <= 0)
            return 0;
    }
    sqlite3_stmt *st = sdb_prep(self, TASK_COLUMNS "WHERE t.job_id=? AND t.kind=? AND t.state='queued' AND "
                                                   "t.check_of=0 AND t.frame>? ORDER BY t.frame, t.tile, t.id LIMIT ?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, first->job_id);
    sqlite3_bind_int(st, 2, first->kind);
    sqlite3_bind_int(st, 3, first->frame);
    sqlite3_bind_int(st, 4, chunk - 1 < max ? chunk - 1 : max);
    int n = 0;
    while (n < max && sqlite3_step(st) == SQLITE_ROW)
        sdb_task_from_row(st, &tasks[n++]);
    sdb_done(self, st);
    return n;
}

static int assign_one(ts_store_t *self, const char *node, ts_task_t *task, double now)
{
    int rc = sdb_run(self, "UPDATE tasks SET state='assigned', node=?, assigned_at=? WHERE id=?", "tdi", node, now,
                     task->id);
    rc = rc ? rc : sdb_run(self, "UPDATE jobs SET state='running', started=coalesce(started,?) WHERE id=? AND "
                                 "state='queued'", "di", now, task->job_id);
    snprintf(task->state, sizeof task->state, "assigned");
    snprintf(task->node, sizeof task->node, "%s", node);
    task->assigned_at = now;
    return rc ? rc : sdb_pay_lock(self, task);
}

int ts_store_assign(ts_store_t *self, const char *node, const char *blender_version, bool has_gpu,
                    const char *prefer_scene, int max_failures, ts_task_t *tasks, int max)
{
    return ts_store_assign_chunks(self, node, blender_version, has_gpu, prefer_scene, max_failures, tasks, max, max);
}

int ts_store_assign_chunks(ts_store_t *self, const char *node, const char *blender_version, bool has_gpu,
                           const char *prefer_scene, int max_failures, ts_task_t *tasks, int max, int room)
{
    if (max <= 0)
        return 0;
    if (sdb_begin(self) < 0)
        return -1;
    if (!sdb_pay_may_work(self, node))
        return sdb_end(self, 0);
    /* one at a time: each choice sees the ones before it (a requester's running count, its limit, max_nodes) */
    int n = 0, rc = 0;
    double now = sdb_now();
    while (rc == 0 && n < max && n < room) {
        int found = best_task(self, node, blender_version, has_gpu, n ? tasks[n - 1].scene : prefer_scene,
                              max_failures, &tasks[n]);
        if (found <= 0) {
            rc = found;
            break;
        }
        int mates = chunk_mates(self, &tasks[n], tasks + n + 1, room - n - 1);
        rc = mates < 0 ? -1 : 0;
        for (int i = 0; rc == 0 && i <= mates; i++)
            rc = assign_one(self, node, &tasks[n + i], now);
        n += mates < 0 ? 0 : mates + 1;
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
    sdb_done(self, st);
    return rc;
}

int ts_store_task_get(ts_store_t *self, int64_t id, ts_task_t *task)
{
    sdb_lock(self);
    int rc = sdb_task_get(self, id, task);
    sdb_unlock(self);
    return rc;
}

int ts_store_assigned_brief(ts_store_t *self, ts_assigned_t **out, int *count)
{
    sdb_lock(self);
    *out = NULL;
    *count = 0;
    int cap = 0, rc = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT id, node, assigned_at FROM tasks WHERE state='assigned'");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        if (*count == cap) {
            cap = cap ? cap * 2 : 256;
            ts_assigned_t *grown = realloc(*out, (size_t)cap * sizeof **out);
            if (!grown) {
                rc = ts_error_set("out of memory");
                break;
            }
            *out = grown;
        }
        ts_assigned_t *a = &(*out)[(*count)++];
        a->id = sqlite3_column_int64(st, 0);
        sdb_copy_text(a->node, sizeof a->node, st, 1);
        a->assigned_at = sqlite3_column_double(st, 2);
    }
    if (!st)
        rc = -1;
    sdb_done(self, st);
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
    sdb_done(self, st);
    sdb_unlock(self);
    return rc;
}

uint64_t ts_store_changes(ts_store_t *self)
{
    /* this connection's writes, and the file's data version: it moves with other connections' commits too (the
       payer's, the chain's funding), seen at this connection's next read */
    unsigned int version = 0;
    sdb_lock(self);
    sqlite3_file_control(self->db, "main", SQLITE_FCNTL_DATA_VERSION, &version);
    uint64_t n = (uint64_t)sqlite3_total_changes64(self->db) + version;
    sdb_unlock(self);
    return n;
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
        sdb_done(self, st);
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
    /* a task accepted straight from its node (a probe) finishes now; one that went through verifying has its time */
    if (sdb_run(self, "UPDATE tasks SET state='done', result=?, node=?, finished=CASE WHEN finished>0 THEN finished "
                      "ELSE ? END WHERE id=?", "ttdi", hash, node, sdb_now(), id) < 0 ||
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
        return rc == 0 ? sdb_job_done_if_complete(self, t->job_id) : rc;
    }
    if (!kind || kind->ends != TS_KIND_ENDS_PIECE)
        return 0;
    /* one entry of the open pieces' index (ts_store.c), however many pieces the frame has */
    sqlite3_stmt *st = sdb_prep(self, "SELECT EXISTS (SELECT 1 FROM tasks WHERE job_id=? AND frame=? AND kind=? AND "
                                      "check_of=0 AND state NOT IN ('done','superseded'))");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, t->job_id);
    sqlite3_bind_int(st, 2, t->frame);
    sqlite3_bind_int(st, 3, t->kind);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 0)
        *frame_complete = true;
    sdb_done(self, st);
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
