/* ts_account: requester account names and the bodies of the account requests (POST accounts, .../credit). */
#ifndef TS_ACCOUNT_H
#define TS_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_ACCOUNT_NAME_MAX 64
#define TS_ACCOUNT_NAME_CAP (TS_ACCOUNT_NAME_MAX + 1)
/* Names an account may not take: "default" pays for the operator's own jobs; the others name the farm's own
   accounts in the wallets (local ledger, evm outbox). */
#define TS_ACCOUNT_RESERVED {"default", "farm", "mint", "master", "operator"}

/* A name is 1 to 64 letters, digits and - _ . @; -1 with ts_error() "<what> '<name>': ..." otherwise. */
int ts_account_name_check(const char *what, const char *name);
/* POST accounts {"name": NAME}: a checked name that is not reserved; -1 with ts_error() naming the field. */
int ts_account_parse_add(const char *body, size_t len, char name[TS_ACCOUNT_NAME_CAP]);
/* POST accounts/{name}/credit {"amount": "12.5" (or a whole number), "ref": optional idempotency key}: token units
   above 0, and ref (1-64 letters, digits, - _ .; "" when not given: the caller makes one). A credit retried with
   the same ref is made once. -1 with ts_error(). */
#define TS_ACCOUNT_REF_CAP 65
int ts_account_parse_credit(const char *body, size_t len, int64_t *units, char ref[TS_ACCOUNT_REF_CAP]);

/* PUT shares/{requester} {"weight": W, "max_running": N}: a requester's fair share of node time (a number above 0,
   at most TS_ACCOUNT_WEIGHT_MAX; others get time in proportion to theirs) and how many of its tasks may run at once
   (0: any number). Either may be left out: *weight is then 0, *max_running -1 (unchanged). -1 with ts_error(). */
#define TS_ACCOUNT_WEIGHT_MAX 1000000.0
#define TS_ACCOUNT_MAX_RUNNING 1000000
int ts_account_parse_share(const char *body, size_t len, double *weight, int *max_running);

int ts_account_test(bool verbose);

#endif
