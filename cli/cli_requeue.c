/* cli_requeue: `tessera requeue JOB`: chosen or failed frames of an ended render job rendered again, paid as new work. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "escrow/escrow.h"
#include "lib/ts_error.h"
#include <stdio.h>
#include <string.h>

#define FRAMES_SHOWN 12 /* frames the summary line lists */

static const char *const REQUEUE_SYNOPSIS =
    "requeue JOB [--frames LIST] [--failed] [--wait [--out DIR] [--timeout SECONDS]] [--json]";
static const char *const REQUEUE_SUMMARY =
    "Renders frames of a render job that has ended (done or failed) again: --frames LIST (3,5-7), --failed (the\n"
    "frames that did not finish; a failed job's must be among those requeued), or both. Their old tiles are set\n"
    "aside and a video at the end is made again. The job's requester pays for the new work as the plan priced it\n"
    "(the old work's payments stand). Exit 0: queued (with --wait: done); 1: with --wait, the job failed; 2: refused\n"
    "(the master says why: a frame outside the job, a job that cannot be requeued, a balance that cannot pay);\n"
    "3: no such job.";

/* "job 5: frames 1, 3 requeued (4 tiles and the video; paid 0.4)" from the master's answer. */
static void print_summary(FILE *out, long id, const json_t *requeued)
{
    json_t *frames = json_object_get(requeued, "frames");
    size_t n = json_array_size(frames);
    bool video = json_is_true(json_object_get(requeued, "video"));
    char paid[32];
    ts_amount_format(cli_json_int(requeued, "price"), paid, sizeof paid);
    fprintf(out, "job %ld: ", id);
    if (n == 0) {
        fprintf(out, "the video requeued (paid %s)\n", paid);
        return;
    }
    fprintf(out, "frame%s ", n == 1 ? "" : "s");
    for (size_t i = 0; i < n && i < FRAMES_SHOWN; i++)
        fprintf(out, "%s%lld", i ? ", " : "", (long long)json_integer_value(json_array_get(frames, i)));
    if (n > FRAMES_SHOWN)
        fprintf(out, " and %zu more", n - FRAMES_SHOWN);
    fprintf(out, " requeued (%ld tiles%s; paid %s)\n", cli_json_int(requeued, "tiles"), video ? " and the video" : "",
            paid);
}

int cli_cmd_requeue(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *frames_text = NULL, *out = NULL, *master = NULL;
    bool failed = false, wait = false, json = false;
    double timeout = 0;
    ts_opt_t table[] = {
        {"frames", TS_OPT_STRING, NULL, 1, 0, &frames_text, "frames to render again: N, A-B, or a list (3,5-7)"},
        {"failed", TS_OPT_FLAG, NULL, 1, 0, &failed, "the frames that did not finish when the job failed"},
        {"wait", TS_OPT_FLAG, NULL, 1, 0, &wait, "then wait for the job, as `tessera wait`"},
        {"out", TS_OPT_STRING, NULL, 1, 0, &out, "with --wait: download the output frames into DIR"},
        {"timeout", TS_OPT_DOUBLE, "0", 0, CLI_WAIT_TIMEOUT_MAX, &timeout,
         "with --wait: give up after SECONDS (exit 5); 0 waits forever"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print the job as JSON (with what was requeued)"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    char *pos[1];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, 1, &npos, REQUEUE_SYNOPSIS, REQUEUE_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    long id;
    if (npos < 1)
        return cli_fail(CLI_EXIT_USAGE, "requeue: which job? (usage: %s %s)", CLI_PROG, REQUEUE_SYNOPSIS);
    if (cli_parse_job_id(pos[0], &id) < 0)
        return cli_keep(CLI_EXIT_USAGE);
    if (!frames_text && !failed)
        return cli_fail(CLI_EXIT_USAGE, "requeue: which frames? give --frames LIST (e.g. 3,5-7) or --failed");
    if (!wait && (out || timeout > 0))
        return cli_fail(CLI_EXIT_USAGE, "requeue: --%s only applies with --wait", out ? "out" : "timeout");
    if (out && !*out)
        return cli_fail(CLI_EXIT_USAGE, "--out '': the name is empty");
    json_t *body = json_object();
    if (failed)
        json_object_set_new(body, "failed", json_true());
    if (frames_text) {
        json_t *frames = json_array();
        json_object_set_new(body, "frames", frames);
        if (cli_parse_frame_list(frames_text, frames) < 0) {
            json_decref(body);
            return cli_keep(CLI_EXIT_USAGE);
        }
    }
    cli_ctx_override(ctx, master);
    cli_http_t *http = cli_http_new(ctx);
    if (!http) {
        json_decref(body);
        return -1;
    }
    char path[64];
    snprintf(path, sizeof path, "/api/v1/jobs/%ld/requeue", id);
    cli_reply_t reply;
    int ret = cli_http_json(http, "POST", path, body, &reply);
    json_decref(body);
    if (ret < 0) {
        cli_fail_reply(&reply, "no such job", "job %ld", id);
    } else if (wait) {
        print_summary(stderr, id, json_object_get(reply.json, "requeued"));
        cli_wait_opts_t opts = {.out = out, .timeout = timeout, .json = json};
        ret = cli_wait_job(http, id, &opts);
    } else if (json) {
        cli_print_json(reply.json);
    } else {
        print_summary(stdout, id, json_object_get(reply.json, "requeued"));
    }
    json_decref(reply.json);
    cli_http_free(&http);
    return ret;
}
