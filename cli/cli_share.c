/* cli_share: `tessera share`: requesters' fair shares of node time, their limits, and the node time they used. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "lib/ts_account.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHARE_SYNOPSIS "share [REQUESTER [WEIGHT]] [--max-running N] [--json]"
#define SHARE_SUMMARY                                                                                              \
    "Without a requester: every requester's weight, limit, tasks running and queued, and node time used\n"       \
    "recently (halved every hour). With one (the operator's token): sets its weight (its share of node\n"         \
    "time is its weight over the weights of everyone with work; 1 when never set) and/or --max-running\n"        \
    "(how many of its tasks may run at once; 0: any number). Priority orders a requester's own jobs;\n"           \
    "the master's --schedule priority turns fair share off."

static void print_shares(const json_t *shares)
{
    if (json_array_size(shares) == 0) {
        printf("no requesters with work or a share set\n");
        return;
    }
    printf("%-24s %8s %8s %8s %8s %12s\n", "REQUESTER", "WEIGHT", "LIMIT", "RUNNING", "QUEUED", "NODE-SECONDS");
    size_t i;
    const json_t *s;
    json_array_foreach(shares, i, s) {
        char limit[24] = "-";
        if (cli_json_int(s, "max_running") > 0)
            snprintf(limit, sizeof limit, "%ld", cli_json_int(s, "max_running"));
        printf("%-24s %8g %8s %8ld %8ld %12.1f\n", cli_json_str(s, "requester", "?"), cli_json_num(s, "weight"), limit,
               cli_json_int(s, "running"), cli_json_int(s, "queued"), cli_json_num(s, "node_seconds"));
    }
}

int cli_cmd_share(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *master = NULL;
    bool json = false;
    long max_running = -1;
    char *pos[2];
    int npos = 0;
    ts_opt_t table[] = {
        {"max-running", TS_OPT_INT, "-1", -1, TS_ACCOUNT_MAX_RUNNING, &max_running,
         "how many of the requester's tasks may run at once (0: any number)"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print the master's JSON instead of text"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    int parsed = cli_parse_opts(table, argc, argv, pos, 2, &npos, SHARE_SYNOPSIS, SHARE_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    double weight = 0;
    char *end = NULL;
    if (npos >= 1 && ts_account_name_check("requester", pos[0]) < 0)
        return cli_fail(CLI_EXIT_USAGE, "%s", ts_error());
    if (npos == 2 && ((weight = strtod(pos[1], &end)), *end || end == pos[1] || !(weight > 0) ||
                      weight > TS_ACCOUNT_WEIGHT_MAX))
        return cli_fail(CLI_EXIT_USAGE, "share: weight '%s': a number above 0 and at most %.0f", pos[1],
                        TS_ACCOUNT_WEIGHT_MAX);
    if (npos == 1 && max_running < 0)
        return cli_fail(CLI_EXIT_USAGE, "share %s: give a WEIGHT, --max-running N, or both (usage: %s %s)", pos[0],
                        CLI_PROG, SHARE_SYNOPSIS);
    if (npos == 0 && max_running >= 0)
        return cli_fail(CLI_EXIT_USAGE, "share: --max-running for which requester? (usage: %s %s)", CLI_PROG,
                        SHARE_SYNOPSIS);
    cli_ctx_override(ctx, master);
    cli_http_t *http = cli_http_new(ctx);
    if (!http)
        return -1;
    cli_reply_t reply;
    int ret;
    if (npos == 0) {
        ret = cli_http_json(http, "GET", "/api/v1/shares", NULL, &reply);
        if (ret < 0)
            cli_fail_reply(&reply, "no such endpoint", "shares");
        else if (json)
            cli_print_json(reply.json);
        else
            print_shares(json_object_get(reply.json, "shares"));
    } else {
        char path[128];
        snprintf(path, sizeof path, "/api/v1/shares/%s", pos[0]);
        json_t *body = json_object();
        if (weight > 0)
            json_object_set_new(body, "weight", json_real(weight));
        if (max_running >= 0)
            json_object_set_new(body, "max_running", json_integer(max_running));
        ret = cli_http_json(http, "POST", path, body, &reply);
        json_decref(body);
        if (ret < 0)
            cli_fail_reply(&reply, "no such endpoint", "share %s", pos[0]);
        else if (json)
            cli_print_json(reply.json);
        else {
            json_t *one = json_pack("[O]", reply.json);
            print_shares(one);
            json_decref(one);
        }
    }
    json_decref(reply.json);
    cli_http_free(&http);
    return ret;
}
