/* ts_store_accounts: requester accounts and API tokens: the operator's token, adding, revoking, checking, credit.
   DESIGN: a token's row holds its key id and its secret's hash (lib/ts_token.h), never the token; a token is
   checked by its key id, then its hash in constant time. Revoking an account revokes its tokens in the same
   transaction, and every request is checked against the table, so a revoked token stops at once. The operator's
   token lives in STATE/operator.token (mode 0600); deleting that file and restarting the master makes a new one
   and revokes the old. */
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "master/ts_store_db.h"
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROLE_OPERATOR "operator"
#define ROLE_REQUESTER "requester"

static int token_put(ts_store_t *self, const char *account, const char *role, const ts_token_key_t *key)
{
    sqlite3_stmt *st = sdb_prep(self, "INSERT INTO api_tokens(id,account,role,hash,created) VALUES(?,?,?,?,?)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, key->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, key->hash, TS_TOKEN_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, sdb_now());
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sdb_error(self, "api_tokens");
    sdb_done(self, st);
    return rc;
}

int ts_store_token_check(ts_store_t *self, const ts_token_key_t *key, ts_caller_t *caller)
{
    sdb_lock(self);
    int rc = 0;
    sqlite3_stmt *st = sdb_prep(self, "SELECT t.account, t.role, t.hash FROM api_tokens t LEFT JOIN accounts a ON"
                                      " a.name=t.account WHERE t.id=? AND t.revoked=0 AND coalesce(a.revoked,0)=0");
    if (!st)
        rc = -1;
    else {
        sqlite3_bind_text(st, 1, key->id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 2) == TS_TOKEN_HASH_BYTES &&
            ts_token_hash_equal(sqlite3_column_blob(st, 2), key->hash)) {
            caller->operator = strcmp((const char *)sqlite3_column_text(st, 1), ROLE_OPERATOR) == 0;
            sdb_copy_text(caller->account, sizeof caller->account, st, 0);
            rc = 1;
        }
        sdb_done(self, st);
    }
    sdb_unlock(self);
    return rc;
}

/* The token in a file when it is one this store knows for the operator: 1, else 0. */
static int operator_file_valid(ts_store_t *self, const char *path)
{
    char text[TS_TOKEN_CAP + 2] = "";
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        n--;
    ts_token_key_t key;
    ts_caller_t caller;
    int ok = ts_token_parse(text, n, &key) == 0 && ts_store_token_check(self, &key, &caller) == 1 && caller.operator;
    sodium_memzero(text, sizeof text);
    return ok;
}

/* Writes the token to path (0600) through a temporary file, so a crash leaves the old file or the new, whole. */
static int write_token_file(const char *path, const char *token)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return ts_error_set("%s: %s", tmp, strerror(errno));
    size_t len = strlen(token);
    bool ok = write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    int err = errno;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return ts_error_set("%s: %s", path, strerror(ok ? errno : err));
    }
    return 0;
}

int ts_store_operator_token(ts_store_t *self, const char *path)
{
    struct stat st;
    if (operator_file_valid(self, path)) {
        if (stat(path, &st) == 0 && (st.st_mode & 077) != 0 && chmod(path, 0600) != 0)
            return ts_error_set("%s: cannot make it private (mode 0600): %s", path, strerror(errno));
        return 0;
    }
    char token[TS_TOKEN_CAP];
    ts_token_key_t key;
    ts_token_new(token, &key);
    int rc = sdb_begin(self);
    if (rc == 0)
        rc = sdb_run(self, "UPDATE api_tokens SET revoked=? WHERE role='" ROLE_OPERATOR "' AND revoked=0", "d",
                     sdb_now());
    if (rc == 0)
        rc = token_put(self, "", ROLE_OPERATOR, &key);
    rc = sdb_end(self, rc);
    if (rc == 0)
        rc = write_token_file(path, token);
    sodium_memzero(token, sizeof token);
    if (rc == 0)
        ts_info("accounts: a new operator token is in %s", path);
    return rc;
}

int ts_store_account_add(ts_store_t *self, const char *name, char token[TS_TOKEN_CAP])
{
    ts_token_key_t key;
    ts_token_new(token, &key);
    int rc = sdb_begin(self);
    if (rc == 0 && sdb_int(self, 0, "SELECT 1 FROM accounts WHERE name=? AND revoked=0", "t", name) == 1)
        rc = TS_STORE_EXISTS;
    /* a revoked account comes back with a new token (its old ones stay revoked), its jobs and money as they were */
    if (rc == 0)
        rc = sdb_run(self, "INSERT INTO accounts(name,created) VALUES(?,?) ON CONFLICT(name) DO UPDATE SET revoked=0",
                     "td", name, sdb_now());
    if (rc == 0)
        rc = token_put(self, name, ROLE_REQUESTER, &key);
    rc = sdb_end(self, rc);
    if (rc != 0)
        sodium_memzero(token, TS_TOKEN_CAP);
    return rc;
}

int ts_store_account_revoke(ts_store_t *self, const char *name)
{
    int rc = sdb_begin(self);
    if (rc == 0 && sdb_int(self, 0, "SELECT 1 FROM accounts WHERE name=? AND revoked=0", "t", name) != 1)
        rc = TS_STORE_UNKNOWN;
    double now = sdb_now();
    if (rc == 0)
        rc = sdb_run(self, "UPDATE accounts SET revoked=? WHERE name=?", "dt", now, name);
    if (rc == 0)
        rc = sdb_run(self, "UPDATE api_tokens SET revoked=? WHERE account=? AND revoked=0", "dt", now, name);
    return sdb_end(self, rc);
}

int ts_store_account_active(ts_store_t *self, const char *name)
{
    sdb_lock(self);
    int rc = (int)sdb_int(self, 0, "SELECT 1 FROM accounts WHERE name=? AND revoked=0", "t", name);
    sdb_unlock(self);
    return rc;
}

json_t *ts_store_accounts_json(ts_store_t *self)
{
    sdb_lock(self);
    json_t *arr = json_array();
    sqlite3_stmt *st = sdb_prep(self, "SELECT a.name, a.created, a.revoked,"
                                      " (SELECT count(*) FROM jobs j WHERE j.requester=a.name)"
                                      " FROM accounts a ORDER BY a.name");
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        double revoked = sqlite3_column_double(st, 2);
        json_t *o = json_pack("{s:s,s:f,s:b,s:I}", "account", (const char *)sqlite3_column_text(st, 0), "created",
                              sqlite3_column_double(st, 1), "revoked", revoked > 0, "jobs",
                              (json_int_t)sqlite3_column_int64(st, 3));
        if (revoked > 0)
            json_object_set_new(o, "revoked_at", json_real(revoked));
        json_array_append_new(arr, o);
    }
    sdb_done(self, st);
    sdb_unlock(self);
    return arr;
}

int ts_store_account_credit(ts_store_t *self, const char *name, int64_t amount, const char *ref)
{
    if (!self->escrow)
        return ts_error_set("payments are off: there is no balance to credit");
    int rc = sdb_begin(self);
    if (rc == 0 && sdb_int(self, 0, "SELECT 1 FROM accounts WHERE name=? AND revoked=0", "t", name) != 1)
        rc = TS_STORE_UNKNOWN;
    if (rc == 0)
        rc = ts_escrow_credit(self->escrow, self->db, name, amount, ref) == 0 ? 0 : TS_STORE_REFUSED;
    return sdb_end(self, rc);
}
