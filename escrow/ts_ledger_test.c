/* ts_ledger_test: self-test of the local ledger backend and of token amounts as text. */
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "tests/ts_test.h"
#include <stdio.h>
#include <string.h>

/* Each step builds on the ones before it: the first failed check (counted; its message, then ts_error()) ends the
   test. REQUIRE_ appends ts_error() to the message's arguments. */
#define REQUIRE(cond, ...) REQUIRE_(cond, __VA_ARGS__, ts_error())
#define REQUIRE_(cond, fmt, ...)                                                                                   \
    do {                                                                                                           \
        TS_TEST_CHECK(cond, fmt " (%s)", __VA_ARGS__);                                                             \
        if (failures)                                                                                              \
            goto out;                                                                                              \
    } while (0)

#define T(x) ((int64_t)(x) * TS_TOKEN_UNIT)

/* One account's figures from the wallet; -1 when it is not there. */
static int64_t figure(ts_escrow_t *e, sqlite3 *db, const char *account, const char *field)
{
    json_t *w = ts_escrow_wallet_json(e, db);
    int64_t v = -1;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(w, "accounts"), i, a)
        if (strcmp(json_string_value(json_object_get(a, "account")), account) == 0)
            v = json_integer_value(json_object_get(a, field));
    json_decref(w);
    return v;
}

/* Every account's balance + stake + locked equals what was minted. */
static bool conserved(ts_escrow_t *e, sqlite3 *db)
{
    json_t *w = ts_escrow_wallet_json(e, db);
    int64_t sum = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(w, "accounts"), i, a)
        sum += json_integer_value(json_object_get(a, "balance")) + json_integer_value(json_object_get(a, "stake")) +
               json_integer_value(json_object_get(a, "locked"));
    bool ok = sum == json_integer_value(json_object_get(w, "minted"));
    json_decref(w);
    return ok;
}

static int amounts_test(void)
{
    static const struct {
        const char *text;
        int64_t units;
    } good[] = {{"0", 0}, {"12.5", 12500000}, {"0.000001", 1}, {"7", 7000000}, {"1.", 1000000}, {".5", 500000}};
    static const char *const bad[] = {"", "-1", "1.0000001", "abc", "1.2.3", "99999999999999999999", "1e3", " 1"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t u = -1;
        if (ts_amount_parse(good[i].text, &u) < 0 || u != good[i].units) {
            fprintf(stderr, "ledger test: amount '%s' -> %lld\n", good[i].text, (long long)u);
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t u;
        if (ts_amount_parse(bad[i], &u) == 0 || !strstr(ts_error(), "amount")) {
            fprintf(stderr, "ledger test: amount '%s' accepted or unclear (%s)\n", bad[i], ts_error());
            return -1;
        }
    }
    char out[32];
    ts_amount_format(12500000, out, sizeof out);
    if (strcmp(out, "12.5") != 0)
        return fprintf(stderr, "ledger test: format 12500000 -> %s\n", out), -1;
    ts_amount_format(-1, out, sizeof out);
    if (strcmp(out, "-0.000001") != 0)
        return fprintf(stderr, "ledger test: format -1 -> %s\n", out), -1;
    return 0;
}

int ts_ledger_test(bool verbose)
{
    int failures = 0;
    if (amounts_test() < 0)
        return -1;
    sqlite3 *db = NULL;
    ts_escrow_t *e = NULL;
    int rc = -1;
    json_t *h = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return -1;
    ts_escrow_config_t cfg = {.backend = "local", .requester_mint = T(100), .node_stake_mint = T(10),
                              .farm_mint = T(5), .slash_share = 1.0};
    e = ts_escrow_new(&cfg, db);
    REQUIRE(e, "open");
    REQUIRE(strcmp(ts_escrow_backend(e), "local") == 0, "backend name");
    REQUIRE(figure(e, db, "farm", "balance") == T(5), "farm mint");
    /* opening again (a restart) mints nothing twice */
    ts_escrow_destroy(&e);
    e = ts_escrow_new(&cfg, db);
    REQUIRE(e && figure(e, db, "farm", "balance") == T(5), "farm minted once");

    REQUIRE(ts_escrow_node_joined(e, db, "n1") == 0 && ts_escrow_node_joined(e, db, "n2") == 0 &&
                ts_escrow_node_joined(e, db, "n1") == 0,
            "nodes join");
    REQUIRE(ts_escrow_stake(e, db, "n1") == T(10), "node stake minted once");
    REQUIRE(ts_escrow_slash_of(e, ts_escrow_stake(e, db, "n1")) == T(10), "at risk: the whole stake at slash share 1");
    REQUIRE(ts_escrow_fund(e, db, 1, "alice", T(200), 0) < 0 && strstr(ts_error(), "below the budget"),
            "a budget above the balance is refused");
    REQUIRE(ts_escrow_fund(e, db, 1, "bad name!", T(1), 0) < 0 && strstr(ts_error(), "only letters"), "bad requester");
    REQUIRE(ts_escrow_fund(e, db, 1, "alice", 0, 0) < 0, "a budget of 0 is refused");
    REQUIRE(ts_escrow_fund(e, db, 1, "alice", T(10), 0) == 0, "fund");
    REQUIRE(ts_escrow_fund(e, db, 1, "alice", T(10), 0) == 0 && figure(e, db, "alice", "balance") == T(90),
            "funding twice takes the budget once");
    REQUIRE(figure(e, db, "alice", "locked") == T(10), "budget locked");

    REQUIRE(ts_escrow_lock(e, db, 1, 11, T(4)) == 0 && ts_escrow_lock(e, db, 1, 12, T(4)) == 0, "lock");
    REQUIRE(ts_escrow_lock(e, db, 1, 11, T(4)) == 0, "locking again is a no-op");
    REQUIRE(ts_escrow_lock(e, db, 1, 13, T(4)) == 1, "a lock beyond the budget is refused softly");
    REQUIRE(ts_escrow_release(e, db, 1, 13, "n1", T(4)) == 1, "no release without a lock");
    REQUIRE(ts_escrow_release(e, db, 1, 11, "n1", T(4)) == 0, "release");
    REQUIRE(ts_escrow_release(e, db, 1, 11, "n1", T(4)) == 0 && figure(e, db, "n1", "balance") == T(4),
            "a second release pays nothing");
    REQUIRE(ts_escrow_pay(e, db, 1, 21, "check", "n2", T(1)) == 0 &&
                ts_escrow_pay(e, db, 1, 21, "check", "n2", T(1)) == 0,
            "farm pays a check once");
    REQUIRE(figure(e, db, "n2", "balance") == T(1) && figure(e, db, "farm", "balance") == T(4),
            "check paid by the farm");
    REQUIRE(ts_escrow_pay(e, db, 1, 22, "check", "n2", T(50)) == 1, "the farm cannot pay more than it has");

    REQUIRE(ts_escrow_slash(e, db, "n2", 1, 7) == 0 && ts_escrow_slash(e, db, "n2", 1, 7) == 0,
            "slash once per verdict");
    REQUIRE(ts_escrow_stake(e, db, "n2") == 0 && figure(e, db, "farm", "balance") == T(14), "stake to the farm");
    REQUIRE(ts_escrow_slash_of(e, ts_escrow_stake(e, db, "n2")) == 0, "nothing left at risk after the slash");
    REQUIRE(conserved(e, db), "conservation before the refund");

    REQUIRE(ts_escrow_refund(e, db, 1) == 0 && ts_escrow_refund(e, db, 1) == 0, "refund (twice)");
    REQUIRE(figure(e, db, "alice", "balance") == T(96) && figure(e, db, "alice", "locked") == 0,
            "refund returns the unlocked and the unpaid locked funds: %lld",
            (long long)figure(e, db, "alice", "balance"));
    REQUIRE(ts_escrow_release(e, db, 1, 12, "n1", T(4)) == 1, "no release after the refund");
    REQUIRE(conserved(e, db), "conservation after the refund");
    /* a job that ran again (requeued work) is funded more, once per ref, and refunded again */
    REQUIRE(ts_escrow_fund_more(e, db, 1, "r1", T(200)) < 0 && strstr(ts_error(), "below the price 200"),
            "more funds beyond the balance are refused");
    REQUIRE(ts_escrow_fund_more(e, db, 9, "r1", T(1)) < 0 && strstr(ts_error(), "never funded"), "an unfunded job");
    REQUIRE(ts_escrow_fund_more(e, db, 1, "r1", T(2)) == 0 && ts_escrow_fund_more(e, db, 1, "r1", T(2)) == 0 &&
                figure(e, db, "alice", "balance") == T(94) && figure(e, db, "alice", "locked") == T(2),
            "more funds taken once per ref");
    REQUIRE(ts_escrow_lock(e, db, 1, 14, T(2)) == 0 && ts_escrow_release(e, db, 1, 14, "n1", T(2)) == 0,
            "the new funds pay new work");
    REQUIRE(ts_escrow_refund(e, db, 1) == 0 && figure(e, db, "alice", "balance") == T(94) && conserved(e, db),
            "a second refund, money conserved");

    REQUIRE(ts_escrow_history_json(e, db, "nobody", 10, &h) == 1, "unknown account");
    REQUIRE(ts_escrow_history_json(e, db, "alice", 0, &h) == 0 && json_array_size(json_object_get(h, "history")) > 0,
            "history");
    rc = 0;
    if (verbose)
        printf("ledger: ok\n");
out:
    json_decref(h);
    ts_escrow_destroy(&e);
    ts_escrow_sql_forget(db);
    sqlite3_close(db);
    return rc;
}
