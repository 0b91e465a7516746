/* cli_account: `tessera account add|list|revoke|credit`: the farm operator's requester accounts and their tokens. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "escrow/escrow.h"
#include "lib/ts_account.h"
#include "lib/ts_error.h"
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ACCOUNT_SYNOPSIS "account add NAME | list | revoke NAME | credit NAME AMOUNT [--json]"
#define ACCOUNT_SUMMARY                                                                                            \
    "The farm operator's requester accounts (the operator's token only; it is in the master's\n"                   \
    "STATE/operator.token).\n"                                                                                     \
    "  add NAME            creates the account and prints its token, once: the master keeps only a hash\n"        \
    "  list                every account, whether it is revoked, and its jobs\n"                                  \
    "  revoke NAME         its tokens stop working at once (its jobs and money stay; add makes a new token)\n"   \
    "  credit NAME AMOUNT  tops up its balance by AMOUNT tokens (local ledger: recorded as a credit)\n"            \
    "A requester sees, waits on, downloads and cancels only its own jobs, and pays for them itself."

#define ACCOUNT_PATH_MAX 160

typedef struct {
    const char *name;
    int args; /* positionals after the action */
} action_t;

static const action_t ACTIONS[] = {{"add", 1}, {"list", 0}, {"revoke", 1}, {"credit", 2}, {NULL, 0}};

static int print_list(const json_t *answer)
{
    const json_t *accounts = json_object_get(answer, "accounts");
    if (json_array_size(accounts) == 0) {
        printf("no accounts (add one with `%s account add NAME`)\n", CLI_PROG);
        return 0;
    }
    printf("%-24s %-8s %6s  %s\n", "ACCOUNT", "STATE", "JOBS", "CREATED");
    size_t i;
    const json_t *a;
    json_array_foreach(accounts, i, a) {
        char when[32] = "?";
        time_t t = (time_t)cli_json_num(a, "created");
        struct tm tm;
        if (localtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
        printf("%-24s %-8s %6ld  %s\n", cli_json_str(a, "account", "?"),
               json_is_true(json_object_get(a, "revoked")) ? "revoked" : "active", cli_json_int(a, "jobs"), when);
    }
    return 0;
}

int cli_cmd_account(cli_ctx_t *ctx, int argc, char **argv)
{
    bool json = false;
    char *pos[3];
    int npos;
    cli_http_t *http = NULL;
    int ready = cli_http_command(ctx, argc, argv, ACCOUNT_SYNOPSIS, ACCOUNT_SUMMARY, pos, 1, 3, &npos, "action (add, "
                                 "list, revoke or credit)", &json, &http);
    if (ready != 0)
        return ready > 0 ? 0 : -1;
    const action_t *action = NULL;
    for (const action_t *a = ACTIONS; a->name; a++)
        if (strcmp(a->name, pos[0]) == 0)
            action = a;
    int ret = 0;
    if (!action)
        ret = cli_fail(CLI_EXIT_USAGE, "account: unknown action '%s' (usage: %s %s)", pos[0], CLI_PROG,
                       ACCOUNT_SYNOPSIS);
    else if (npos - 1 != action->args)
        ret = cli_fail(CLI_EXIT_USAGE, "account %s takes %d argument%s (usage: %s %s)", action->name, action->args,
                       action->args == 1 ? "" : "s", CLI_PROG, ACCOUNT_SYNOPSIS);
    else if (action->args > 0 && ts_account_name_check("account", pos[1]) < 0)
        ret = cli_fail(CLI_EXIT_USAGE, "%s", ts_error());
    int64_t units = 0;
    if (ret == 0 && action->args == 2 && (ts_amount_parse(pos[2], &units) < 0 || units <= 0))
        ret = cli_fail(CLI_EXIT_USAGE, "account credit: amount '%s': a token amount above 0, such as 12.5", pos[2]);
    if (ret < 0) {
        cli_http_free(&http);
        return ret;
    }
    char path[ACCOUNT_PATH_MAX];
    json_t *body = NULL;
    const char *method = "POST";
    if (strcmp(action->name, "list") == 0) {
        method = "GET";
        snprintf(path, sizeof path, "/api/v1/accounts");
    } else if (strcmp(action->name, "add") == 0) {
        snprintf(path, sizeof path, "/api/v1/accounts");
        body = json_pack("{s:s}", "name", pos[1]);
    } else {
        snprintf(path, sizeof path, "/api/v1/accounts/%s/%s", pos[1], action->name);
        if (action->args == 2) { /* a key of its own: a retry of this request (a lost answer) credits once */
            unsigned char nonce[12];
            char ref[32];
            randombytes_buf(nonce, sizeof nonce);
            sodium_bin2hex(ref, sizeof ref, nonce, sizeof nonce);
            body = json_pack("{s:s,s:s}", "amount", pos[2], "ref", ref);
        }
    }
    cli_reply_t reply;
    ret = cli_http_json(http, method, path, body, &reply);
    json_decref(body);
    if (ret < 0)
        cli_fail_reply(&reply, "no such account", "account %s%s%s", action->name, action->args ? " " : "",
                       action->args ? pos[1] : "");
    else if (json)
        cli_print_json(reply.json);
    else if (strcmp(action->name, "list") == 0)
        print_list(reply.json);
    else if (strcmp(action->name, "add") == 0)
        printf("account %s added; its token (shown once, keep it secret):\n%s\n", pos[1],
               cli_json_str(reply.json, "token", "?"));
    else if (strcmp(action->name, "revoke") == 0)
        printf("account %s revoked: its tokens no longer work\n", pos[1]);
    else {
        char amount[32];
        ts_amount_format(units, amount, sizeof amount);
        printf("account %s credited %s tokens\n", pos[1], amount);
    }
    json_decref(reply.json);
    cli_http_free(&http);
    return ret;
}
