/* ts_store_pay: the store's side of payments: budgets, prices by share of work, locks, releases, farm payments,
   slashes and refunds, each inside the transaction of the state change that moves the money.
   DESIGN: a piece's price is budget * units / units_total, fixed by the job's plan (pixels x samples for a tile,
   pixels for a finish, the frames a segment owns): nothing a node reports (its time, its hardware) enters it.
   The job's budget pays each piece once; a check, and a piece done again after its first result was thrown out
   (its node caught cheating), are paid by the farm's own account, which a cheater's slashed stake refills. */
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "master/ts_store_db.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void ts_store_set_escrow(ts_store_t *self, struct ts_escrow *escrow, const ts_pay_policy_t *policy)
{
    sdb_lock(self);
    self->escrow = escrow;
    if (policy)
        self->pay = *policy;
    sdb_unlock(self);
}

struct sqlite3 *ts_store_db(ts_store_t *self)
{
    return self->db;
}

static int64_t share(int64_t budget, int64_t units, int64_t total)
{
    if (total <= 0 || units <= 0 || budget <= 0)
        return 0;
    return (int64_t)((__int128)budget * units / total);
}

/* A piece's price from its job's budget and its share of the job's units (what was fixed at its lock, if any). */
static int64_t price_of(ts_store_t *self, int64_t task)
{
    int64_t locked = sdb_int(self, 0, "SELECT price FROM tasks WHERE id=?", "i", task);
    if (locked > 0)
        return locked;
    sqlite3_stmt *st = sdb_prep(self, "SELECT j.budget, t.units, j.units_total FROM tasks t JOIN jobs j ON j.id=t.job_id "
                                      "WHERE t.id=?");
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, task);
    int64_t p = sqlite3_step(st) == SQLITE_ROW
                    ? share(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2))
                    : 0;
    sdb_done(self, st);
    return p;
}

static int64_t job_budget(ts_store_t *self, int64_t job)
{
    return sdb_int(self, 0, "SELECT budget FROM jobs WHERE id=?", "i", job);
}

/* rc 1 from a backend: the money cannot move now; the work goes on and the log says why. */
static int soft(int rc, const char *what)
{
    if (rc == 1)
        ts_warn("payments: %s: %s", what, ts_error());
    return rc < 0 ? -1 : 0;
}

int sdb_pay_fund(ts_store_t *self, int64_t job, const ts_job_request_t *r)
{
    if (sdb_run(self, "UPDATE jobs SET requester=?, budget=? WHERE id=?", "tii", r->requester, r->budget, job) < 0)
        return -1;
    if (!self->escrow)
        return 0;
    if (r->budget <= 0)
        return ts_error_set("budget must be above 0") - 1;
    int rc = ts_escrow_fund(self->escrow, self->db, job, r->requester, r->budget, sdb_now() + self->pay.deadline_s);
    if (rc != 0)
        return TS_STORE_REFUSED;
    /* on a chain the budget is locked once the payer's transaction is mined; the job waits until then */
    return ts_escrow_settles_later(self->escrow) ? sdb_run(self, "UPDATE jobs SET funded=0 WHERE id=?", "i", job) : 0;
}

int sdb_pay_plan(ts_store_t *self, int64_t job, int64_t units_total, int64_t pieces)
{
    if (sdb_run(self, "UPDATE jobs SET units_total=? WHERE id=?", "ii", units_total, job) < 0)
        return -1;
    if (!self->escrow)
        return 0;
    int64_t budget = job_budget(self, job), minimum = pieces * self->pay.min_task_price;
    if (budget >= minimum)
        return 0;
    char b[32], m[32], p[32];
    ts_amount_format(budget, b, sizeof b);
    ts_amount_format(minimum, m, sizeof m);
    ts_amount_format(self->pay.min_task_price, p, sizeof p);
    ts_error_set("budget %s is below the job's minimum %s (%" PRId64 " pieces at %s each)", b, m, pieces, p);
    return 1;
}

int sdb_pay_more(ts_store_t *self, int64_t job, int64_t units, const char *ref, int64_t *price)
{
    *price = 0;
    if (!self->escrow)
        return 0;
    /* the plan's rates: the sum of the pieces' prices is at most this share (each is rounded down) */
    sqlite3_stmt *st = sdb_prep(self, "SELECT budget, units_total FROM jobs WHERE id=?");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, job);
    if (sqlite3_step(st) == SQLITE_ROW)
        *price = share(sqlite3_column_int64(st, 0), units, sqlite3_column_int64(st, 1));
    sdb_done(self, st);
    int rc = ts_escrow_fund_more(self->escrow, self->db, job, ref, *price);
    return rc < 0 ? -1 : rc;
}

/* Pieces of work have prices; probes do not (lib/ts_kind.c: the kinds spot checks re-do are the priced ones). */
static bool priced(const ts_task_t *t)
{
    const ts_kind_t *k = ts_kind_get(t->kind);
    return k && k->checked;
}

int sdb_pay_lock(ts_store_t *self, const ts_task_t *t)
{
    if (!self->escrow || t->check_of != 0 || !priced(t))
        return 0;
    int64_t price = price_of(self, t->id);
    if (price <= 0)
        return 0;
    if (sdb_run(self, "UPDATE tasks SET price=? WHERE id=?", "ii", price, t->id) < 0)
        return -1;
    return soft(ts_escrow_lock(self->escrow, self->db, t->job_id, t->id, price), "lock");
}

/* What a node was paid, for its owner's view (node_earnings), whatever the backend. */
static int earned(ts_store_t *self, const char *node, int64_t amount)
{
    return sdb_run(self, "INSERT INTO node_earnings(node, at, amount) VALUES(?,?,?)", "tdi", node, sdb_now(), amount);
}

int sdb_pay_accept(ts_store_t *self, const ts_task_t *t)
{
    if (!self->escrow || t->check_of != 0 || !priced(t) || !t->node[0])
        return 0;
    int64_t price = price_of(self, t->id), paid = sdb_int(self, 0, "SELECT paid FROM tasks WHERE id=?", "i", t->id);
    if (price <= 0)
        return 0;
    int rc = paid == 0 ? ts_escrow_release(self->escrow, self->db, t->job_id, t->id, t->node, price) : 1;
    bool moved = rc == 0;
    if (rc == 1) {
        /* paid before (its first result was thrown out) or never locked: the farm pays this result */
        char ref[32];
        snprintf(ref, sizeof ref, "work%" PRId64, paid);
        int farm = ts_escrow_pay(self->escrow, self->db, t->job_id, t->id, ref, t->node, price);
        moved = farm == 0;
        rc = soft(farm, "farm payment");
    }
    if (rc < 0 || (moved && earned(self, t->node, price) < 0))
        return -1;
    return sdb_run(self, "UPDATE tasks SET paid=paid+1 WHERE id=?", "i", t->id);
}

int sdb_pay_check(ts_store_t *self, const ts_task_t *o, const ts_task_t *c)
{
    if (!self->escrow)
        return 0;
    int64_t price = price_of(self, o->id);
    /* a check that re-did a part of a tile is paid for that part */
    int64_t whole = (int64_t)(o->x1 - o->x0) * (o->y1 - o->y0), part = (int64_t)(c->x1 - c->x0) * (c->y1 - c->y0);
    if (whole > 0 && part > 0 && part < whole)
        price = price * part / whole;
    int rc = ts_escrow_pay(self->escrow, self->db, o->job_id, c->id, "check", c->node, price);
    if (rc == 0 && earned(self, c->node, price) < 0)
        return -1;
    return soft(rc, "check payment");
}

void sdb_pay_risk(ts_store_t *self, const ts_task_t *t, double *price, double *at_risk)
{
    *price = *at_risk = 0;
    if (!self->escrow || !priced(t) || !t->node[0])
        return;
    *price = (double)price_of(self, t->id) / TS_TOKEN_UNIT;
    *at_risk = (double)ts_escrow_slash_of(self->escrow, ts_escrow_stake(self->escrow, self->db, t->node)) / TS_TOKEN_UNIT;
}

int sdb_pay_slash(ts_store_t *self, const char *node, int64_t job, int64_t verdict)
{
    if (!self->escrow)
        return 0;
    return soft(ts_escrow_slash(self->escrow, self->db, node, job, verdict), "slash");
}

int sdb_pay_refund(ts_store_t *self, int64_t job)
{
    if (!self->escrow)
        return 0;
    return soft(ts_escrow_refund(self->escrow, self->db, job), "refund");
}

int sdb_pay_node_seen(ts_store_t *self, const char *node)
{
    if (!self->escrow)
        return 0;
    return soft(ts_escrow_node_joined(self->escrow, self->db, node), "new node");
}

bool sdb_pay_may_work(ts_store_t *self, const char *node)
{
    return !self->escrow || ts_escrow_stake(self->escrow, self->db, node) >= self->pay.min_stake;
}

json_t *ts_store_wallet_json(ts_store_t *self)
{
    if (self->escrow && ts_escrow_settles_later(self->escrow)) /* the chain is asked without holding the store */
        return ts_escrow_wallet_json(self->escrow, self->db);
    sdb_lock(self);
    json_t *w = self->escrow ? ts_escrow_wallet_json(self->escrow, self->db) : NULL;
    if (!self->escrow)
        ts_error_set("payments are off");
    sdb_unlock(self);
    return w;
}

int ts_store_wallet_history(ts_store_t *self, const char *account, int limit, json_t **out)
{
    sdb_lock(self);
    int rc = self->escrow ? ts_escrow_history_json(self->escrow, self->db, account, limit, out)
                          : ts_error_set("payments are off");
    sdb_unlock(self);
    return rc;
}
