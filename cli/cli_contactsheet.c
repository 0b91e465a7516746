/* cli_contactsheet: `tessera submit contactsheet`: uploads the images and queues a contact sheet of them. */
#include "cli/cli.h"
#include "lib/ts_error.h"
#include "lib/ts_request.h"
#include <string.h>

#define SHEET_POSITIONALS (1 + TS_REQUEST_INPUTS_MAX) /* contactsheet IMAGE... */

static const char *const SHEET_SYNOPSIS =
    "submit contactsheet IMAGE... [--columns N] [--cell WxH] [--priority N] [--json]\n"
    "       [--wait [--out FILE] [--timeout SECONDS]]";
static const char *const SHEET_SUMMARY =
    "Uploads the images (PNG, JPEG, OpenEXR or TIFF; a render's frames, say) and queues a contact sheet:\n"
    "slaves scale each image into a WxH cell, the master lays the cells out in rows of N, in the order\n"
    "given, into one PNG. Prints the job id and returns at once; with --wait it waits and writes FILE.\n"
    "The master checks the bounds (columns, cell size, sheet size) and names what is out of range.";

int cli_cmd_submit_contactsheet(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *cell = NULL, *out = NULL, *master = NULL, *budget = NULL, *requester = NULL;
    cli_queue_opts_t queue = {0};
    long columns = 0, priority = 0;
    double timeout = 0;
    bool wait = false, json = false;
    ts_opt_t table[] = {
        {"columns", TS_OPT_INT, "4", 1, 0, &columns, "cells per row"},
        {"cell", TS_OPT_STRING, "320x180", 1, 0, &cell, "each image is scaled to fit WxH pixels, centred"},
        {"priority", TS_OPT_INT, "0", -TS_REQUEST_PRIORITY_MAX, TS_REQUEST_PRIORITY_MAX, &priority, "higher runs first"},
        {"budget", TS_OPT_STRING, NULL, 1, 0, &budget, "tokens locked for the job, e.g. 12.5 (default: the master's, 10)"},
        {"requester", TS_OPT_STRING, NULL, 1, 0, &requester, "the account that pays (default: the master's, \"default\")"},
        CLI_OPTS_QUEUE(&queue),
        {"wait", TS_OPT_FLAG, NULL, 1, 0, &wait, "then wait for the job, as `tessera wait`"},
        {"out", TS_OPT_STRING, NULL, 1, 0, &out, "with --wait: write the sheet (PNG) to FILE"},
        {"timeout", TS_OPT_DOUBLE, "0", 0, CLI_WAIT_TIMEOUT_MAX, &timeout,
         "with --wait: give up after SECONDS (exit 5); 0 waits forever"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print the job as JSON instead of its id"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    static char *pos[SHEET_POSITIONALS];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, SHEET_POSITIONALS, &npos, SHEET_SYNOPSIS, SHEET_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    if (npos < 2)
        return cli_fail(CLI_EXIT_USAGE, "submit: which images? (usage: %s submit contactsheet IMAGE... --out FILE --wait)",
                        CLI_PROG);
    for (int i = 1; i < npos; i++) /* a manifest lists each name once: the sheet's cells are told apart by it */
        for (int j = 1; j < i; j++)
            if (strcmp(cli_basename(pos[i]), cli_basename(pos[j])) == 0)
                return cli_fail(CLI_EXIT_USAGE, "%s and %s: two images with one file name", pos[j], pos[i]);
    json_t *request = json_pack("{s:s, s:I, s:s, s:I}", "type", "contactsheet", "columns", (json_int_t)columns, "cell",
                                cell, "priority", (json_int_t)priority);
    if (request && (cli_add_payment(request, budget, requester) < 0 || cli_add_queue(request, &queue) < 0)) {
        json_decref(request);
        return -1;
    }
    if (!request)
        return cli_fail(CLI_EXIT_USAGE, "--cell '%s': cannot build the request (not valid UTF-8?)", cell);
    cli_wait_opts_t opts = {.out = out, .timeout = timeout, .json = json};
    return cli_submit_and_wait(ctx, master, (const char *const *)pos + 1, npos - 1, NULL, request, wait, &opts);
}
