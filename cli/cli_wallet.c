/* cli_wallet: `tessera wallet [ACCOUNT]`: every account's balance, stake and locked funds, or one account's history;
   and the budget options of `tessera submit`. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WALLET_SYNOPSIS "wallet [ACCOUNT] [--json]"
#define WALLET_SUMMARY                                                                                              \
    "Without ACCOUNT: every account (requesters, nodes, the farm's own) with its balance, stake and locked\n"     \
    "funds, in tokens. With ACCOUNT (a requester's name, a node id or its prefix, or farm): its transactions,\n" \
    "newest first. --json prints the master's JSON (amounts in the token's smallest unit, 10^-6)."
#define WALLET_PATH_MAX 512
#define AMOUNT_TEXT 32
#define ACCOUNT_SHOWN 16

int cli_add_payment(json_t *request, const char *budget, const char *requester)
{
    if (budget) {
        int64_t units;
        if (ts_amount_parse(budget, &units) < 0)
            return cli_fail(CLI_EXIT_USAGE, "--budget %s", ts_error());
        if (units <= 0)
            return cli_fail(CLI_EXIT_USAGE, "--budget %s: a job's budget must be above 0", budget);
        json_object_set_new(request, "budget", json_string(budget));
    }
    if (requester)
        json_object_set_new(request, "requester", json_string(requester));
    return 0;
}

static const char *tokens(const json_t *o, const char *key, char *buf)
{
    ts_amount_format((int64_t)json_integer_value(json_object_get(o, key)), buf, AMOUNT_TEXT);
    return buf;
}

static void print_wallet(const json_t *w)
{
    char b[AMOUNT_TEXT], s[AMOUNT_TEXT], l[AMOUNT_TEXT];
    printf("%-*s %-9s %14s %14s %14s\n", ACCOUNT_SHOWN, "ACCOUNT", "KIND", "BALANCE", "STAKE", "LOCKED");
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(w, "accounts"), i, a)
        printf("%-*.*s %-9s %14s %14s %14s\n", ACCOUNT_SHOWN, ACCOUNT_SHOWN, cli_json_str(a, "account", "?"),
               cli_json_str(a, "kind", "?"), tokens(a, "balance", b), tokens(a, "stake", s), tokens(a, "locked", l));
    if (json_object_get(w, "minted"))
        printf("minted %s, held %s (%s)\n", tokens(w, "minted", b), tokens(w, "held", s),
               cli_json_str(w, "backend", "?"));
}

static void print_history(const json_t *h)
{
    char amount[AMOUNT_TEXT];
    printf("account %s\n%-20s %-8s %-7s %-7s %-7s %14s  %s\n", cli_json_str(h, "account", "?"), "WHEN", "KIND", "JOB",
           "TASK", "BUCKET", "AMOUNT", "MEMO");
    size_t i;
    const json_t *x;
    json_array_foreach(json_object_get(h, "history"), i, x) {
        time_t at = (time_t)cli_json_num(x, "at");
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&at));
        printf("%-20s %-8s %-7ld %-7ld %-7s %14s  %s\n", when, cli_json_str(x, "kind", "?"), cli_json_int(x, "job"),
               cli_json_int(x, "task"), cli_json_str(x, "bucket", "?"), tokens(x, "amount", amount),
               cli_json_str(x, "memo", ""));
    }
}

int cli_cmd_wallet(cli_ctx_t *ctx, int argc, char **argv)
{
    bool json = false;
    char *pos[1];
    int npos;
    cli_http_t *http = NULL;
    int ready = cli_http_command(ctx, argc, argv, WALLET_SYNOPSIS, WALLET_SUMMARY, pos, 0, 1, &npos, "account", &json,
                                 &http);
    if (ready != 0)
        return ready > 0 ? 0 : -1;
    char path[WALLET_PATH_MAX] = "/api/v1/wallet";
    if (npos == 1) {
        char *escaped = curl_easy_escape(NULL, pos[0], 0);
        snprintf(path, sizeof path, "/api/v1/wallet/%s", escaped ? escaped : "");
        curl_free(escaped);
    }
    cli_reply_t reply;
    int ret = cli_http_json(http, "GET", path, NULL, &reply);
    if (ret < 0)
        cli_fail_reply(&reply, "no such account", "wallet%s%s", npos ? " " : "", npos ? pos[0] : "");
    else if (json)
        cli_print_json(reply.json);
    else if (npos == 1)
        print_history(reply.json);
    else
        print_wallet(reply.json);
    json_decref(reply.json);
    cli_http_free(&http);
    return ret;
}
