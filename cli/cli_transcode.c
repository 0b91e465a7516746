/* cli_transcode: `tessera submit transcode`: checks the options, uploads the video, creates the job. */
#include "cli/cli.h"
#include "cli/cli_http.h"
#include "lib/ts_error.h"
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define TRANSCODE_POSITIONALS 2 /* transcode INPUT */
#define BITRATE_UNSET 0          /* --bitrate's value when it is not given */

static const char *const TRANSCODE_SYNOPSIS =
    "submit transcode INPUT [--vcodec libx264] [--crf N | --bitrate BITS] [--preset P] [--size WxH]\n"
    "       [--container mp4|mkv] [--segment SECONDS] [--threads N] [--priority N] [--json]\n"
    "       [--wait [--out FILE] [--timeout SECONDS]]";
static const char *const TRANSCODE_SUMMARY =
    "Uploads the video INPUT and queues a transcode: the master cuts it at keyframes into segments of\n"
    "about SECONDS, slaves encode them with the same pinned settings, the master joins them and copies\n"
    "the audio back. Prints the job id and returns at once; with --wait it waits and writes FILE.";

/* The container from --container, else from the --out file's extension, else mp4. */
static const char *container_for(const char *container, const char *out)
{
    if (container)
        return container;
    const char *dot = out ? strrchr(out, '.') : NULL;
    if (dot && strcasecmp(dot, ".mkv") == 0)
        return "mkv";
    return "mp4";
}

int cli_encode_fill(ts_request_encode_t *e, const char *vcodec_option, const char *vcodec, long crf,
                    const char *preset, const char *container)
{
    ts_request_encode_init(e);
    if (ts_request_vcodec_check(vcodec) < 0) {
        ts_error_prefix("--%s", vcodec_option);
        return cli_keep(CLI_EXIT_USAGE);
    }
    if (preset && strlen(preset) >= sizeof e->preset)
        return cli_fail(CLI_EXIT_USAGE, "--preset: too long (at most %zu characters)", sizeof e->preset - 1);
    if (container && ts_request_container_check(container) < 0) {
        ts_error_prefix("--container");
        return cli_keep(CLI_EXIT_USAGE);
    }
    snprintf(e->vcodec, sizeof e->vcodec, "%s", vcodec);
    snprintf(e->preset, sizeof e->preset, "%s", preset ? preset : "");
    if (container)
        snprintf(e->container, sizeof e->container, "%s", container);
    e->crf = crf == CLI_CRF_UNSET ? TS_REQUEST_UNSET : crf;
    return 0;
}

int cli_encode_check(ts_request_encode_t *e)
{
    return ts_request_encode_check(e, TS_REQUEST_OPTIONS) < 0 ? cli_keep(CLI_EXIT_USAGE) : 0;
}

int cli_cmd_submit_transcode(cli_ctx_t *ctx, int argc, char **argv)
{
    const char *vcodec = NULL, *preset = NULL, *size = NULL, *container = NULL, *out = NULL, *master = NULL;
    const char *budget = NULL, *requester = NULL;
    cli_queue_opts_t queue = {0};
    long crf = CLI_CRF_UNSET, bitrate = BITRATE_UNSET, threads = TS_REQUEST_THREADS_DEFAULT, priority = 0;
    double segment = 0, timeout = 0;
    bool wait = false, json = false;
    ts_opt_t table[] = {
        {"vcodec", TS_OPT_STRING, TS_REQUEST_VCODEC_DEFAULT, 1, 0, &vcodec, "video encoder: libx264, libx265, libvpx-vp9, ..."},
        {"crf", TS_OPT_INT, CLI_CRF_UNSET_TEXT, 1, 0, &crf,
         "constant rate factor, within the encoder's range (" CLI_CRF_UNSET_TEXT ": the encoder's usual)"},
        {"bitrate", TS_OPT_INT, TS_REQUEST_TEXT(BITRATE_UNSET), 1, 0, &bitrate,
         "target bits per second instead of --crf (0: not given)"},
        {"preset", TS_OPT_STRING, NULL, 1, 0, &preset,
         "encoder preset (x264/x265/vp9: ultrafast ... placebo; default " TS_REQUEST_PRESET_DEFAULT " for those)"},
        {"size", TS_OPT_STRING, NULL, 1, 0, &size, "scale to WxH (even sizes); default: the input's"},
        {"container", TS_OPT_STRING, NULL, 1, 0, &container, "mp4 or mkv (default: from --out, else mp4)"},
        {"segment", TS_OPT_DOUBLE, TS_REQUEST_TEXT(TS_REQUEST_SEGMENT_DEFAULT), 1, 0, &segment,
         "about how many seconds each segment lasts (more than 0)"},
        {"threads", TS_OPT_INT, TS_REQUEST_TEXT(TS_REQUEST_THREADS_DEFAULT), TS_REQUEST_THREADS_MIN,
         TS_REQUEST_THREADS_MAX, &threads, "encoder threads per segment (pinned: same output on every slave)"},
        {"priority", TS_OPT_INT, "0", -TS_REQUEST_PRIORITY_MAX, TS_REQUEST_PRIORITY_MAX, &priority, "higher runs first"},
        {"budget", TS_OPT_STRING, NULL, 1, 0, &budget, "tokens locked for the job, e.g. 12.5 (default: the master's, 10)"},
        {"requester", TS_OPT_STRING, NULL, 1, 0, &requester, "the account that pays (default: the master's, \"default\")"},
        CLI_OPTS_QUEUE(&queue),
        {"wait", TS_OPT_FLAG, NULL, 1, 0, &wait, "then wait for the job, as `tessera wait`"},
        {"out", TS_OPT_STRING, NULL, 1, 0, &out, "with --wait: write the output video to FILE"},
        {"timeout", TS_OPT_DOUBLE, "0", 0, CLI_WAIT_TIMEOUT_MAX, &timeout,
         "with --wait: give up after SECONDS (exit 5); 0 waits forever"},
        {"json", TS_OPT_FLAG, NULL, 1, 0, &json, "print the job as JSON instead of its id"},
        CLI_OPTS_CONN(&master, ctx),
        TS_OPT_END,
    };
    char *pos[TRANSCODE_POSITIONALS];
    int npos = 0;
    int parsed = cli_parse_opts(table, argc, argv, pos, TRANSCODE_POSITIONALS, &npos, TRANSCODE_SYNOPSIS,
                                TRANSCODE_SUMMARY);
    if (parsed != 0)
        return parsed > 0 ? 0 : -1;
    if (npos != TRANSCODE_POSITIONALS)
        return cli_fail(CLI_EXIT_USAGE, "submit: which video? (usage: %s submit transcode INPUT --out FILE --wait)",
                        CLI_PROG);
    const char *input = pos[1];
    /* The settings by the request's rules, before anything is uploaded. */
    const char *cont = container_for(container, out);
    ts_request_encode_t settings;
    if (cli_encode_fill(&settings, "vcodec", vcodec, crf, preset, cont) < 0)
        return -1;
    if (bitrate != BITRATE_UNSET)
        settings.bitrate = bitrate;
    if (size && ts_request_size_parse(size, &settings.width, &settings.height) < 0) {
        ts_error_prefix("--size");
        return cli_keep(CLI_EXIT_USAGE);
    }
    settings.segment_seconds = segment;
    settings.threads = threads;
    if (cli_encode_check(&settings) < 0)
        return -1;
    json_t *request = json_pack("{s:s, s:s, s:s, s:s, s:f, s:I, s:I}", "type", "transcode", "input_name",
                                cli_basename(input), "vcodec", vcodec, "container", cont, "segment", segment,
                                "threads", (json_int_t)threads, "priority", (json_int_t)priority);
    if (request && (cli_add_payment(request, budget, requester) < 0 || cli_add_queue(request, &queue) < 0)) {
        json_decref(request);
        return -1;
    }
    if (!request)
        return cli_fail(CLI_EXIT_USAGE, "%s: cannot build the request (is the file name valid UTF-8?)", input);
    if (crf != CLI_CRF_UNSET)
        json_object_set_new(request, "crf", json_integer(crf));
    if (bitrate != BITRATE_UNSET)
        json_object_set_new(request, "bitrate", json_integer(bitrate));
    if (preset)
        json_object_set_new(request, "preset", json_string(preset));
    if (size)
        json_object_set_new(request, "size", json_string(size));

    cli_wait_opts_t opts = {.out = out, .timeout = timeout, .json = json};
    return cli_submit_and_wait(ctx, master, &input, 1, "input", request, wait, &opts);
}
