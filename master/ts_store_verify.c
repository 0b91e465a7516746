/* ts_store_verify: the store's side of verification: results waiting for the verifier, spot checks, verdicts,
   reputations, blocks and quarantine.
   DESIGN: ordinary work goes assigned -> verifying (result in) -> done ("unchecked"), or -> checking ("pending")
   while a check task (same work, check_of = its id) waits for another node. The check's verdict either completes
   it ("passed") or, on disagreement, queues a tie-break for a third node ("tiebreak"); only the tie-break can
   punish. Everything a verdict implies (credits, punishment, re-queued work, reopened frames) commits in one
   transaction, so a crash never leaves half a verdict. */
#include "lib/ts_error.h"
#include "master/ts_store_db.h"
#include "verifier/ts_agree.h"
#include "verifier/ts_policy.h"
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ts_store_result_in(ts_store_t *self, int64_t id, const char *node, const char *hash, int64_t size,
                       const char *dclass, double busy)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_task_t t;
    int rc = sdb_task_get(self, id, &t);
    char why[64] = "";
    if (rc == 0)
        snprintf(why, sizeof why, "unknown task");
    else if (rc == 1 && strcmp(t.state, "assigned") == 0 && strcmp(t.node, node) != 0)
        snprintf(why, sizeof why, "task is assigned to another node");
    else if (rc == 1 && strcmp(t.state, "queued") == 0 && t.check_of != 0)
        snprintf(why, sizeof why, "task is not assigned to this node");
    else if (rc == 1 && strcmp(t.state, "assigned") != 0 && strcmp(t.state, "queued") != 0)
        snprintf(why, sizeof why, "task is already %s", t.state);
    else if (rc == 1 && strcmp(t.state, "queued") == 0) {
        /* re-queued work is taken back from its node, unless a failed check has blocked the node since */
        sqlite3_stmt *st = sdb_prep(self, "SELECT 1 FROM nodes n WHERE n.id=?2 AND (n.quarantined OR EXISTS (SELECT 1"
                                          " FROM blocklist b WHERE b.job_id=?1 AND b.node=n.id AND b.blocked>0))");
        if (!st)
            rc = -1;
        else {
            sqlite3_bind_int64(st, 1, t.job_id);
            sqlite3_bind_text(st, 2, node, -1, SQLITE_TRANSIENT);
            if (sqlite3_step(st) == SQLITE_ROW)
                snprintf(why, sizeof why, "the node is blocked for job %lld", (long long)t.job_id);
            sdb_done(self, st);
        }
    }
    if (rc < 0 || why[0]) {
        sdb_end(self, rc < 0 ? -1 : 0);
        return rc < 0 ? -1 : ts_error_set("%s", why) + 1;
    }
    double now = sdb_now();
    if (busy <= 0 && t.assigned_at > 0)
        busy = now - t.assigned_at;
    rc = sdb_run(self, "UPDATE tasks SET state='verifying', node=?, result=?, result_size=?, dclass=?, finished=?, "
                       "busy=? WHERE id=?",
                 "ttitddi", node, hash, size, dclass, now, busy, id);
    return sdb_end(self, rc) < 0 ? -1 : 1;
}

int ts_store_results_to_verify(ts_store_t *self, int64_t *ids, int max)
{
    sdb_lock(self);
    int n = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT t.id FROM tasks t JOIN jobs j ON j.id=t.job_id WHERE t.state='verifying' "
                                      "AND j.state IN ('queued','running') ORDER BY t.id LIMIT ?");
    if (st) {
        sqlite3_bind_int(st, 1, max);
        while (n < max && sqlite3_step(st) == SQLITE_ROW)
            ids[n++] = sqlite3_column_int64(st, 0);
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return st ? n : -1;
}

/* The task in state 'verifying', or 0 when it is not (any more). */
static int get_verifying(ts_store_t *self, int64_t id, ts_task_t *t)
{
    int rc = sdb_task_get(self, id, t);
    if (rc == 1 && strcmp(t->state, "verifying") != 0)
        return 0;
    return rc;
}

int ts_store_result_invalid(ts_store_t *self, int64_t id, const char *why, const ts_check_policy_t *p)
{
    if (sdb_begin(self) < 0)
        return -1;
    ts_task_t t;
    int rc = get_verifying(self, id, &t);
    if (rc == 1) {
        rc = sdb_run(self, "UPDATE tasks SET result=NULL WHERE id=?", "i", id);
        if (rc == 0)
            rc = sdb_run(self, "UPDATE nodes SET consecutive_valid=0 WHERE id=?", "t", t.node);
        if (rc == 0)
            rc = sdb_task_fail(self, &t, why, p->max_failures);
    }
    return sdb_end(self, rc < 0 ? -1 : 0);
}

/* Whether an online node other than those that worked on task `original` may take work of the job. */
static int eligible_node_exists(ts_store_t *self, int64_t job, int64_t original, int max_failures)
{
    sqlite3_stmt *st = sdb_prep(
        self, "SELECT 1 FROM nodes n, jobs j WHERE j.id=?1 AND n.state='online' AND NOT n.quarantined"
              " AND (j.device='cpu' OR EXISTS (SELECT 1 FROM json_each(n.devices) WHERE value!='CPU'))"
              " AND (j.blender='' OR substr(n.blender,1,length(j.blender))=j.blender)"
              " AND (j.pool='' OR instr(','||n.tags||',', ','||j.pool||',')>0)"
              " AND NOT EXISTS (SELECT 1 FROM blocklist b WHERE b.job_id=j.id AND b.node=n.id AND"
              "  (b.blocked>0 OR b.failures>=?3))"
              " AND NOT EXISTS (SELECT 1 FROM tasks x WHERE (x.id=?2 OR (x.check_of=?2 AND x.check_of!=0)) AND x.node=n.id"
              "  AND x.state IN ('assigned','verifying','checking','done')) LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, job);
    sqlite3_bind_int64(st, 2, original);
    sqlite3_bind_int(st, 3, max_failures);
    int found = sqlite3_step(st) == SQLITE_ROW;
    sdb_done(self, st);
    return found;
}

/* A check task re-doing task t (to be given to a node that has not worked on it). */
/* Queues a check of t that re-does the rectangle of `like` (t's own, or the check a tie-break settles). */
static int queue_check_like(ts_store_t *self, const ts_task_t *t, const ts_task_t *like)
{
    return sdb_run(self,
                   "INSERT INTO tasks(job_id,kind,frame,tile,x0,y0,x1,y1,input,start_pts,end_pts,state,check_of,created)"
                   " SELECT job_id,kind,frame,tile,?,?,?,?,input,start_pts,end_pts,'queued',id,? FROM tasks WHERE id=?",
                   "iiiidi", (int64_t)like->x0, (int64_t)like->y0, (int64_t)like->x1, (int64_t)like->y1, sdb_now(),
                   t->id);
}

/* The side of a check's window along one side of a tile: `share` of the side, at least TS_CHECK_MIN_SIDE pixels. */
static int window_side(int side, double share)
{
    int s = (int)ceil(side * share);
    s = s > TS_CHECK_MIN_SIDE ? s : TS_CHECK_MIN_SIDE;
    return s < side ? s : side;
}

/* Queues the check of t. A tile's check re-does a random window of `area` of its pixels when the job's renderer is
   exact: Cycles repeats a pixel exactly wherever the rectangle around it ends, except under adaptive sampling,
   where every pixel of a window differed from that part of the tile (tests/test_noise_farm.sh); other work, and
   tiles of such jobs, are re-done whole. */
static int queue_check(ts_store_t *self, const ts_task_t *t, double area)
{
    ts_task_t like = *t;
    const ts_kind_t *kind = ts_kind_get(t->kind);
    if (kind && kind->result == TS_KIND_RESULT_TILE && area > 0 && area < 1 &&
        sdb_int(self, 1, "SELECT noisy FROM jobs WHERE id=?", "i", t->job_id) == 0) {
        int w = t->x1 - t->x0, h = t->y1 - t->y0, sw = window_side(w, sqrt(area)), sh = window_side(h, sqrt(area));
        like.x0 = t->x0 + (int)randombytes_uniform((uint32_t)(w - sw + 1));
        like.y0 = t->y0 + (int)randombytes_uniform((uint32_t)(h - sh + 1));
        like.x1 = like.x0 + sw;
        like.y1 = like.y0 + sh;
    }
    return queue_check_like(self, t, &like);
}

/* Whether check c re-did all of task t (not a window of a tile). */
static bool whole(const ts_task_t *c, const ts_task_t *t)
{
    return c->x0 == t->x0 && c->y0 == t->y0 && c->x1 == t->x1 && c->y1 == t->y1;
}

static int credit(ts_store_t *self, const char *node, bool checked)
{
    return sdb_run(self, checked ? "UPDATE nodes SET consecutive_valid=consecutive_valid+1,"
                                   " checks_passed=checks_passed+1, tasks_done=tasks_done+1 WHERE id=?"
                                 : "UPDATE nodes SET consecutive_valid=consecutive_valid+1, tasks_done=tasks_done+1 "
                                   "WHERE id=?",
                   "t", node);
}

static int record(ts_store_t *self, const ts_task_t *t, const char *node, const char *outcome, const char *detail)
{
    return sdb_run(self, "INSERT INTO verdicts(job_id,task_id,node,outcome,detail,at) VALUES(?,?,?,?,?,?)", "iitttd",
                   t->job_id, t->id, node, outcome, detail ? detail : "", sdb_now());
}

/* A node's run of consecutive valid results; -1 on error. */
static int node_run(ts_store_t *self, const char *node)
{
    sqlite3_stmt *st = sdb_prep(self, "SELECT consecutive_valid FROM nodes WHERE id=?");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, node, -1, SQLITE_TRANSIENT);
    int run = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sdb_done(self, st);
    return run;
}

/* Ordinary work t is done with its result: its frame moves on. */
static int complete(ts_store_t *self, ts_task_t *t, const char *verify, ts_verdict_t *v)
{
    int rc = sdb_run(self, "UPDATE tasks SET state='done', verify=? WHERE id=?", "ti", verify, t->id);
    rc = rc ? rc : sdb_pay_accept(self, t);
    bool fc = false;
    if (rc == 0)
        rc = sdb_task_complete(self, t, &fc);
    v->frame_complete = v->frame_complete || fc;
    return rc;
}

int ts_store_result_valid(ts_store_t *self, int64_t id, double draw, const ts_check_policy_t *p, ts_verdict_t *v)
{
    memset(v, 0, sizeof *v);
    if (sdb_begin(self) < 0)
        return -1;
    ts_task_t t;
    int rc = get_verifying(self, id, &t);
    if (rc != 1)
        return sdb_end(self, rc < 0 ? -1 : 0);
    int cv = node_run(self, t.node);
    if (cv < 0)
        return sdb_end(self, -1);
    rc = 0;
    const ts_kind_t *kind = ts_kind_get(t.kind);
    bool checkable = kind && kind->checked;
    ts_check_facts_t facts = {.run = cv};
    if (checkable) {
        /* its results out for a check now, the price of this one and its stake at risk */
        facts.pending = (int)sdb_int(self, 0, "SELECT count(*) FROM tasks WHERE node=? AND check_of=0 AND "
                                              "state='checking'", "t", t.node);
        sdb_pay_risk(self, &t, &facts.price, &facts.at_risk);
    }
    if (checkable && draw < ts_check_rate_for(&facts, &p->rates)) {
        int other = eligible_node_exists(self, t.job_id, t.id, p->max_failures);
        if (other < 0)
            return sdb_end(self, -1);
        v->sampled = other == 1;
    }
    if (v->sampled) {
        rc = sdb_run(self, "UPDATE tasks SET state='checking', verify='pending' WHERE id=?", "i", id);
        if (rc == 0)
            rc = queue_check(self, &t, p->area);
    } else {
        rc = credit(self, t.node, false);
        if (rc == 0)
            rc = complete(self, &t, "unchecked", v);
    }
    return sdb_end(self, rc);
}

/* The disputed first check of a task in a tie-break: 1 found (filled), 0 none, -1 error. */
static int disputed_of(ts_store_t *self, int64_t original, ts_task_t *d)
{
    sqlite3_stmt *st = sdb_prep(self, "SELECT id FROM tasks WHERE check_of=? AND check_of!=0 AND verify='disputed' AND state='done' "
                                      "ORDER BY id DESC LIMIT 1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, original);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sdb_done(self, st);
    return id ? sdb_task_get(self, id, d) : 0;
}

int ts_store_check_parties(ts_store_t *self, int64_t check_id, ts_task_t *original, ts_task_t *disputed)
{
    sdb_lock(self);
    memset(disputed, 0, sizeof *disputed);
    ts_task_t c;
    int rc = sdb_task_get(self, check_id, &c);
    if (rc == 1 && c.check_of == 0)
        rc = ts_error_set("task %lld is not a check", (long long)check_id);
    if (rc == 1)
        rc = sdb_task_get(self, c.check_of, original);
    if (rc == 1 && (strcmp(original->state, "checking") != 0 ||
                    (strcmp(original->verify, "pending") != 0 && strcmp(original->verify, "tiebreak") != 0)))
        rc = 0;
    if (rc == 1 && strcmp(original->verify, "tiebreak") == 0)
        rc = disputed_of(self, original->id, disputed);
    sdb_unlock(self);
    return rc;
}

int ts_store_check_drop(ts_store_t *self, int64_t check_id)
{
    if (sdb_begin(self) < 0)
        return -1;
    return sdb_end(self, sdb_run(self, "UPDATE tasks SET state='cancelled' WHERE id=? AND check_of!=0 AND "
                                       "state NOT IN ('done','failed')",
                                 "i", check_id));
}

/* The video of a render that ends in an encode is cut from the frames again: its segments are set aside. */
int sdb_video_reopen(ts_store_t *self, int64_t job)
{
    int rc = sdb_run(self, "UPDATE tasks SET state='superseded' WHERE job_id=? AND frame=? AND state NOT IN "
                           "('cancelled','superseded')", "ii", job, (int64_t)TS_VIDEO_FRAME);
    if (rc == 0)
        rc = sdb_run(self, "UPDATE frames SET state='waiting', output=NULL, output_size=NULL WHERE job_id=? AND "
                           "frame=? AND state!='waiting'",
                     "ii", job, (int64_t)TS_VIDEO_FRAME);
    return rc;
}

int sdb_frame_reopen(ts_store_t *self, int64_t job, int frame, int kind)
{
    if (kind == TS_KIND_FINISH) {
        int rc = sdb_run(self, "UPDATE frames SET state='finishing', output=NULL, output_size=NULL WHERE job_id=? AND "
                               "frame=? AND state='done'",
                         "ii", job, (int64_t)frame);
        return rc < 0 ? rc : sdb_video_reopen(self, job);
    }
    int rc = sdb_run(self, "UPDATE frames SET state='rendering', stitched=NULL, output=NULL, output_size=NULL "
                           "WHERE job_id=? AND frame=?",
                     "ii", job, (int64_t)frame);
    if (rc == 0)
        rc = sdb_run(self, "UPDATE tasks SET state='superseded' WHERE job_id=? AND frame=? AND kind=? AND "
                           "state NOT IN ('cancelled','superseded')",
                     "iii", job, (int64_t)frame, (int64_t)TS_KIND_FINISH);
    return rc < 0 || frame == TS_VIDEO_FRAME ? rc : sdb_video_reopen(self, job);
}

/* Ordinary work back to the queue, its checks cancelled and its frame reopened. */
static int redo(ts_store_t *self, const ts_task_t *t)
{
    int rc = sdb_run(self, "UPDATE tasks SET state='queued', node='', result=NULL, verify='', dclass='' WHERE id=?",
                     "i", t->id);
    if (rc == 0)
        rc = sdb_run(self, "UPDATE tasks SET state='cancelled' WHERE check_of=? AND check_of!=0 AND state NOT IN ('cancelled','failed')",
                     "i", t->id);
    if (rc == 0 && strcmp(t->state, "done") == 0)
        rc = sdb_frame_reopen(self, t->job_id, t->frame, t->kind);
    if (rc == 0 && strcmp(t->state, "done") == 0)
        rc = sdb_run(self, "UPDATE jobs SET state='running', finished=NULL WHERE id=? AND state='done'", "i",
                     t->job_id);
    return rc;
}

/* Node failed a check on task t: see ts_store_check_settle. */
static int punish(ts_store_t *self, const char *node, const ts_task_t *t, const char *detail,
                  const ts_check_policy_t *p, ts_verdict_t *v)
{
    int rc = sdb_run(self, "UPDATE nodes SET consecutive_valid=0, checks_failed=checks_failed+1 WHERE id=?", "t", node);
    if (rc == 0)
        rc = record(self, t, node, "failed", detail);
    if (rc == 0)
        rc = sdb_pay_slash(self, node, t->job_id, sqlite3_last_insert_rowid(self->db));
    if (rc == 0)
        rc = sdb_run(self, "INSERT INTO blocklist(job_id,node,failures,blocked) VALUES(?,?,0,?) "
                           "ON CONFLICT(job_id,node) DO UPDATE SET blocked=excluded.blocked WHERE blocked=0",
                     "itd", t->job_id, node, sdb_now());
    /* everything of the node in this job that no check has vouched for is done again */
    sqlite3_stmt *st = rc < 0 ? NULL
                              : sdb_prep(self, "SELECT id FROM tasks WHERE job_id=? AND node=? AND kind_checked(kind) AND"
                                               " ((check_of=0 AND state IN ('assigned','verifying','checking')) OR"
                                               "  (check_of=0 AND state='done' AND verify IN ('','unchecked')) OR"
                                               "  (check_of!=0 AND state IN ('assigned','verifying')))");
    int64_t *ids = NULL;
    int n = 0, cap = 0;
    if (!st && rc == 0)
        rc = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, t->job_id);
        sqlite3_bind_text(st, 2, node, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                int64_t *grown = realloc(ids, (size_t)cap * sizeof *ids);
                if (!grown) {
                    rc = ts_error_set("out of memory");
                    break;
                }
                ids = grown;
            }
            ids[n++] = sqlite3_column_int64(st, 0);
        }
        sdb_done(self, st);
    }
    for (int i = 0; rc == 0 && i < n; i++) {
        ts_task_t w;
        rc = sdb_task_get(self, ids[i], &w) == 1 ? 0 : -1;
        if (rc == 0 && w.check_of != 0)
            rc = sdb_run(self, "UPDATE tasks SET state='queued', node='', result=NULL WHERE id=?", "i", w.id);
        else if (rc == 0) {
            rc = redo(self, &w);
            v->requeued++;
        }
    }
    free(ids);
    if (rc == 0) {
        /* quarantined farm-wide once blocked on quarantine_after jobs since an operator last lifted it */
        rc = sdb_run(self,
                     "UPDATE nodes SET quarantined=1 WHERE id=?1 AND NOT quarantined AND (SELECT count(*) FROM blocklist b"
                     " WHERE b.node=?1 AND b.blocked>0 AND b.blocked>=nodes.lifted_at)>=?2",
                     "ti", node, (int64_t)p->quarantine_after);
        if (rc == 0 && sqlite3_changes(self->db) > 0)
            v->quarantined = true;
    }
    if (v->punished < 2)
        snprintf(v->punished_node[v->punished], TS_HASH_HEX, "%s", node);
    v->punished++;
    return rc;
}

static int settle_first(ts_store_t *self, ts_task_t *o, ts_task_t *c, int mask, const char *detail, ts_verdict_t *v)
{
    if (mask & TS_AGREES_ORIGINAL) {
        int rc = sdb_run(self, "UPDATE tasks SET state='done', verify='check' WHERE id=?", "i", c->id);
        rc = rc ? rc : credit(self, o->node, true);
        rc = rc ? rc : credit(self, c->node, true);
        rc = rc ? rc : record(self, o, o->node, "passed", NULL);
        rc = rc ? rc : record(self, o, c->node, "passed", NULL);
        rc = rc ? rc : sdb_pay_check(self, o, c);
        return rc ? rc : complete(self, o, "passed", v);
    }
    /* two strangers disagree: a third node decides */
    int rc = sdb_run(self, "UPDATE tasks SET state='done', verify='disputed', error=? WHERE id=?", "ti", detail, c->id);
    rc = rc ? rc : sdb_run(self, "UPDATE tasks SET verify='tiebreak' WHERE id=?", "i", o->id);
    rc = rc ? rc : queue_check_like(self, o, c); /* the same pixels again */
    v->sampled = true;
    return rc;
}

static int settle_tiebreak(ts_store_t *self, ts_task_t *o, ts_task_t *d, ts_task_t *c, int mask, const char *detail,
                           const ts_check_policy_t *p, ts_verdict_t *v)
{
    int rc = sdb_run(self, "UPDATE tasks SET state='done', verify='check' WHERE id=?", "i", c->id);
    if (rc == 0 && mask == 0) {
        /* three nodes, three answers: nobody can be blamed; the task is done again from scratch */
        rc = sdb_run(self, "UPDATE tasks SET state='cancelled', verify='inconclusive' WHERE id IN (?,?)", "ii", c->id,
                     d->id);
        ts_task_t fresh = *o;
        fresh.node[0] = '\0'; /* no node is blamed for the failure */
        char why[256];
        snprintf(why, sizeof why, "results of three nodes disagree (%s)", detail);
        rc = rc ? rc : sdb_run(self, "UPDATE tasks SET result=NULL WHERE id=?", "i", o->id);
        return rc ? rc : sdb_task_fail(self, &fresh, why, p->max_failures);
    }
    rc = rc ? rc : credit(self, c->node, true);
    rc = rc ? rc : record(self, o, c->node, "passed", NULL);
    rc = rc ? rc : sdb_pay_check(self, o, c);
    if (rc == 0 && (mask & TS_AGREES_DISPUTED)) {
        rc = sdb_run(self, "UPDATE tasks SET verify='check' WHERE id=?", "i", d->id);
        rc = rc ? rc : credit(self, d->node, true);
        rc = rc ? rc : record(self, o, d->node, "passed", NULL);
        /* a disputed check that was right is paid as a check, unless its result becomes the task's (below) */
        rc = rc || !(mask & TS_AGREES_ORIGINAL) ? rc : sdb_pay_check(self, o, d);
    }
    if (rc == 0 && (mask & TS_AGREES_ORIGINAL)) {
        rc = credit(self, o->node, true);
        rc = rc ? rc : record(self, o, o->node, "passed", NULL);
        if (rc == 0 && !(mask & TS_AGREES_DISPUTED))
            rc = punish(self, d->node, o, detail, p, v);
        return rc ? rc : complete(self, o, "passed", v);
    }
    if (rc == 0 && !whole(d, o)) {
        /* the original was wrong, and the checks re-did only a part of it: the piece is done again (punish
           re-queues the work of its node that no check vouched for, this piece included) */
        rc = sdb_pay_check(self, o, d); /* the disputed check was right: paid as a check */
        return rc ? rc : punish(self, o->node, o, detail, p, v);
    }
    if (rc == 0) {
        /* the original was wrong: the task keeps the disputed check's result, which the tie-break confirms */
        char cheat[TS_HASH_HEX];
        snprintf(cheat, sizeof cheat, "%s", o->node);
        rc = sdb_run(self, "UPDATE tasks SET node=?, result=?, result_size=?, dclass=?, busy=? WHERE id=?", "ttitdi",
                     d->node, d->result, d->result_size, d->dclass, 0.0, o->id);
        snprintf(o->node, sizeof o->node, "%s", d->node);
        snprintf(o->result, sizeof o->result, "%s", d->result);
        o->result_size = d->result_size;
        rc = rc ? rc : punish(self, cheat, o, detail, p, v);
        rc = rc ? rc : complete(self, o, "passed", v);
    }
    return rc;
}

int ts_store_check_settle(ts_store_t *self, int64_t check_id, int mask, const char *detail,
                          const ts_check_policy_t *p, ts_verdict_t *v)
{
    memset(v, 0, sizeof *v);
    if (sdb_begin(self) < 0)
        return -1;
    ts_task_t c, o, d;
    int rc = get_verifying(self, check_id, &c);
    if (rc == 1 && c.check_of == 0)
        rc = ts_error_set("task %lld is not a check", (long long)check_id);
    if (rc == 1)
        rc = sdb_task_get(self, c.check_of, &o);
    if (rc != 1)
        return sdb_end(self, rc < 0 ? -1 : 0);
    if (strcmp(o.state, "checking") != 0)
        return sdb_end(self, sdb_run(self, "UPDATE tasks SET state='cancelled' WHERE id=?", "i", c.id));
    if (strcmp(o.verify, "pending") == 0)
        return sdb_end(self, settle_first(self, &o, &c, mask, detail, v));
    rc = disputed_of(self, o.id, &d);
    if (rc != 1)
        return sdb_end(self, rc < 0 ? -1 : ts_error_set("task %lld: the disputed check is gone", (long long)o.id));
    return sdb_end(self, settle_tiebreak(self, &o, &d, &c, mask, detail, p, v));
}

/* A tie-break nobody could take: see ts_store_checks_expire. */
static int settle_unresolved(ts_store_t *self, int64_t tiebreak, ts_task_t *o, double waited, ts_verdict_t *v)
{
    ts_task_t d;
    int rc = disputed_of(self, o->id, &d);
    if (rc != 1)
        return rc < 0 ? -1 : ts_error_set("task %lld: the disputed check is gone", (long long)o->id);
    char why[160];
    snprintf(why, sizeof why, "no third node could take the tie-break within %.0f s: unresolved, nobody punished",
             waited);
    rc = sdb_run(self, "UPDATE tasks SET state='cancelled' WHERE id=?", "i", tiebreak);
    rc = rc ? rc : sdb_run(self, "UPDATE tasks SET verify='unresolved' WHERE id=?", "i", d.id);
    rc = rc ? rc : record(self, o, o->node, "disputed", why);
    rc = rc ? rc : record(self, o, d.node, "disputed", why);
    if (rc == 0 && whole(&d, o) && ts_agree_dispute_takes_check(node_run(self, o->node), node_run(self, d.node))) {
        /* the piece keeps the check's result (one that re-did all of it); the original's node is paid as for a
           check */
        ts_task_t was = *o;
        rc = sdb_run(self, "UPDATE tasks SET node=?, result=?, result_size=?, dclass=?, busy=? WHERE id=?", "ttitdi",
                     d.node, d.result, d.result_size, d.dclass, 0.0, o->id);
        snprintf(o->node, sizeof o->node, "%s", d.node);
        snprintf(o->result, sizeof o->result, "%s", d.result);
        o->result_size = d.result_size;
        rc = rc ? rc : sdb_pay_check(self, o, &was);
    } else if (rc == 0) {
        rc = sdb_pay_check(self, o, &d);
    }
    v->unresolved++;
    return rc ? rc : complete(self, o, "disputed", v);
}

int ts_store_checks_expire(ts_store_t *self, double max_wait, const ts_check_policy_t *p, ts_verdict_t *v)
{
    memset(v, 0, sizeof *v);
    if (sdb_begin(self) < 0)
        return -1;
    sqlite3_stmt *st = sdb_prep(self, "SELECT c.id, c.check_of, c.job_id FROM tasks c INDEXED BY tasks_checks_queued JOIN tasks o ON o.id=c.check_of "
                                      "WHERE c.check_of!=0 AND c.state='queued' AND c.created<? AND o.state='checking' "
                                      "AND o.verify IN ('pending','tiebreak') LIMIT 64");
    if (!st)
        return sdb_end(self, -1);
    sqlite3_bind_double(st, 1, sdb_now() - max_wait);
    int64_t checks[64], originals[64], jobs[64];
    int n = 0, expired = 0, rc = 0;
    while (n < 64 && sqlite3_step(st) == SQLITE_ROW) {
        checks[n] = sqlite3_column_int64(st, 0);
        originals[n] = sqlite3_column_int64(st, 1);
        jobs[n++] = sqlite3_column_int64(st, 2);
    }
    sdb_done(self, st);
    for (int i = 0; rc == 0 && i < n; i++) {
        int other = eligible_node_exists(self, jobs[i], originals[i], p->max_failures);
        if (other != 0) {
            rc = other < 0 ? -1 : 0;
            continue;
        }
        ts_task_t o;
        rc = sdb_task_get(self, originals[i], &o) == 1 ? 0 : -1;
        if (rc == 0 && strcmp(o.verify, "tiebreak") == 0) {
            rc = settle_unresolved(self, checks[i], &o, max_wait, v);
        } else {
            rc = rc ? rc : sdb_run(self, "UPDATE tasks SET state='cancelled' WHERE id=?", "i", checks[i]);
            rc = rc ? rc : credit(self, o.node, false);
            rc = rc ? rc : complete(self, &o, "unchecked", v);
        }
        expired++;
    }
    return sdb_end(self, rc) < 0 ? -1 : expired;
}

int ts_store_node_lift(ts_store_t *self, const char *id)
{
    if (sdb_begin(self) < 0)
        return -1;
    sqlite3_stmt *st = sdb_prep(self, "SELECT quarantined FROM nodes WHERE id=?");
    if (!st)
        return sdb_end(self, -1);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) != SQLITE_ROW ? TS_STORE_UNKNOWN : sqlite3_column_int(st, 0) ? 0 : TS_STORE_NOT_QUARANTINED;
    sdb_done(self, st);
    if (rc == 0 && sdb_run(self, "UPDATE nodes SET quarantined=0, lifted_at=? WHERE id=?", "dt", sdb_now(), id) < 0)
        rc = -1;
    return sdb_end(self, rc);
}

json_t *ts_store_job_checks_json(ts_store_t *self, int64_t job)
{
    sdb_lock(self);
    json_t *o = NULL;
    sqlite3_stmt *st = sdb_prep(
        self, "SELECT"
              " (SELECT coalesce(sum(busy),0) FROM tasks WHERE job_id=?1 AND check_of=0 AND state='done'),"
              " (SELECT coalesce(sum(busy),0) FROM tasks WHERE job_id=?1 AND check_of!=0 AND state IN ('done','cancelled')"
              "  AND busy>0),"
              " (SELECT count(*) FROM tasks WHERE job_id=?1 AND check_of=0 AND state='done'),"
              " (SELECT count(*) FROM tasks WHERE job_id=?1 AND check_of!=0 AND busy>0 AND state!='superseded'),"
              " (SELECT count(*) FROM verdicts WHERE job_id=?1 AND outcome='failed'),"
              " (SELECT count(*) FROM tasks WHERE job_id=?1 AND check_of=0 AND state='done' AND verify='passed'),"
              " (SELECT count(*) FROM tasks WHERE job_id=?1 AND check_of=0 AND state='done' AND verify='unchecked'),"
              " (SELECT count(*) FROM tasks WHERE job_id=?1 AND check_of=0 AND state='checking' AND verify='tiebreak'),"
              " (SELECT count(*) FROM tasks WHERE job_id=?1 AND check_of=0 AND verify='disputed')");
    if (st) {
        sqlite3_bind_int64(st, 1, job);
        if (sqlite3_step(st) == SQLITE_ROW)
            o = json_pack("{s:f,s:f,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "work_seconds", sqlite3_column_double(st, 0),
                          "check_seconds", sqlite3_column_double(st, 1), "work_tasks",
                          (json_int_t)sqlite3_column_int64(st, 2), "check_tasks", (json_int_t)sqlite3_column_int64(st, 3),
                          "checks_failed", (json_int_t)sqlite3_column_int64(st, 4), "tasks_passed",
                          (json_int_t)sqlite3_column_int64(st, 5), "tasks_unchecked",
                          (json_int_t)sqlite3_column_int64(st, 6), "disputes_open",
                          (json_int_t)sqlite3_column_int64(st, 7), "disputes_unresolved",
                          (json_int_t)sqlite3_column_int64(st, 8));
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return o;
}
