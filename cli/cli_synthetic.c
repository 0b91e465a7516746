/* cli_synthetic: `tessera submit synthetic --tasks N`: a benchmark's job of N pieces with no input (master/job_synthetic.c). */
#include "cli/cli.h"
#include "lib/ts_error.h"
#include "lib/ts_request.h"

#define SYNTHETIC_TASKS_MAX 1000000

static const char *const SYNTHETIC_SYNOPSIS =
    "submit synthetic --tasks N [--priority N] [--budget TOKENS] [--json] [--wait [--out FILE] [--timeout SECONDS]]";
static const char *const SYNTHETIC_SUMMARY =
    "A benchmark tool: queues N pieces that need no input and return 32 bytes each, through the whole path a\n"
    "real piece takes (assignment, a signed result, spot checks, the ledger), to measure the scheduler with\n"
    "tessera-slavesim (bench/bench_scheduler.py). The output is one line over every piece's bytes.";

int cli_cmd_submit_synthetic(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *out = NULL, *master = NULL, *budget = NULL, *requester = NULL;
    long tasks = 0, priority = 0;
    double timeout = 0;
    bool wait = false, json = false;
    ts_opt_t table[] = {
        {"tasks", TS_OPT_INT, NULL, 1, SYNTHETIC_TASKS_MAX, &tasks, "how many pieces"},
        {"priority", TS_OPT_INT, "0", -TS_REQUEST_PRIORITY_MAX, TS_REQUEST_PRIORITY_MAX, &priority, "higher runs first"},
        {"budget", TS_OPT_STRING, NULL, 1, 0, &budget, "tokens locked for the job (default: the master's, 10)"},
        {"requester", TS_OPT_STRING, NULL, 1, 0, &requester, "the account that pays (default: the master's)"},
        {"wait", TS_OPT_FLAG, NULL, 1, 0, &wait, "then wait for the job, as `tessera wait`"},
        {"out", TS_OPT_STRING, NULL, 1, 0, &out, "with --wait: write the output line to FILE"},
        {"timeout", TS_OPT_DOUBLE, "0", 0, CLI_WAIT_TIMEOUT_MAX, &timeout,
         "with --wait: give up after SECONDS (exit 5); 0 waits forever"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print the job as JSON instead of its id"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    static char *pos[2];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, 2, &npos, SYNTHETIC_SYNOPSIS, SYNTHETIC_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    if (npos > 1)
        return cli_fail(CLI_EXIT_USAGE, "submit synthetic takes no files ('%s')", pos[1]);
    if (tasks < 1)
        return cli_fail(CLI_EXIT_USAGE, "submit synthetic: how many pieces? (usage: %s %s)", CLI_PROG,
                        SYNTHETIC_SYNOPSIS);
    json_t *request = json_pack("{s:s, s:I, s:I}", "type", "synthetic", "tasks", (json_int_t)tasks, "priority",
                                (json_int_t)priority);
    if (request && cli_add_payment(request, budget, requester) < 0) {
        json_decref(request);
        return -1;
    }
    cli_wait_opts_t opts = {.out = out, .timeout = timeout, .json = json};
    return cli_submit_and_wait(ctx, master, NULL, 0, NULL, request, wait, &opts);
}
