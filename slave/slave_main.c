/* tessera-slave: renders a tessera master's tasks on this PC with a persistent Blender process. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_opts.h"
#include "lib/ts_version.h"
#include "slave/ts_gpu.h"
#include "slave/ts_segenc.h"
#include "lib/ts_conf.h"
#include "slave/ts_ctl.h"
#include "slave/ts_encoder.h"
#include "slave/ts_fetch.h"
#include "slave/ts_slave.h"
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_SCRIPT_NAME "tessera-worker.py"

static volatile sig_atomic_t s_stop;

static void on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static char **s_conf_args; /* the config file's settings as arguments (ts_conf_load) */

static void free_conf_args(void)
{
    free(s_conf_args);
}

/* `tessera-slave ctl pause|resume|status [--work DIR | --ctl SOCKET] [--json]`: the PC's owner talks to its slave. */
static int ctl_main(int argc, char **argv)
{
    const char *work = NULL, *ctl = NULL;
    bool json = false, help = false;
    const ts_opt_t table[] = {
        {"work", TS_OPT_STRING, NULL, 0, -1, &work, "the slave's work directory (its control socket is WORK/ctl.sock)"},
        {"ctl", TS_OPT_STRING, NULL, 0, -1, &ctl, "the control socket itself"},
        {"json", TS_OPT_FLAG, NULL, 0, -1, &json, "print the slave's answer as JSON"},
        TS_OPT_END,
    };
    char *pos[2];
    int npos = ts_opts_parse(table, argc - 1, argv + 1, pos, 2, &help);
    if (npos < 0 || help || npos != 1 || (strcmp(pos[0], "pause") && strcmp(pos[0], "resume") && strcmp(pos[0], "status"))) {
        fprintf(help ? stdout : stderr, "%s%susage: tessera-slave ctl pause|resume|status [--work DIR | --ctl SOCKET] [--json]\n",
                npos < 0 ? ts_error() : "", npos < 0 ? "\n" : "");
        if (help)
            ts_opts_usage(stdout, table);
        return help ? 0 : 2;
    }
    char path[PATH_MAX];
    if (!ctl && !work) {
        fprintf(stderr, "tessera-slave ctl: which slave? give --work DIR (or --ctl SOCKET)\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s%s", ctl ? ctl : work, ctl ? "" : "/ctl.sock");
    json_t *reply = NULL;
    if (ts_ctl_request(path, pos[0], &reply) < 0) {
        fprintf(stderr, "tessera-slave ctl: %s\n", ts_error());
        return 1;
    }
    if (json) {
        char *text = json_dumps(reply, JSON_INDENT(2));
        printf("%s\n", text ? text : "{}");
        free(text);
    } else {
        const char *reason = json_string_value(json_object_get(reply, "reason"));
        json_t *task = json_object_get(reply, "task");
        printf("state: %s%s%s%s\n", json_string_value(json_object_get(reply, "state")), reason && reason[0] ? " (" : "",
               reason && reason[0] ? reason : "", reason && reason[0] ? ")" : "");
        if (json_is_integer(task))
            printf("task: %lld\n", (long long)json_integer_value(task));
        const char *today = json_string_value(json_object_get(reply, "tokens_today")),
                   *total = json_string_value(json_object_get(reply, "tokens_total"));
        if (today && total)
            printf("earned: %s tokens today, %s in all\n", today, total);
        printf("today: %lld task(s), %lld preemption(s), %.0f s paused\nworks: %s\nconnected: %s\n",
               (long long)json_integer_value(json_object_get(reply, "tasks_today")),
               (long long)json_integer_value(json_object_get(reply, "preemptions_today")),
               json_number_value(json_object_get(reply, "paused_today_s")),
               json_string_value(json_object_get(reply, "watching")),
               json_is_true(json_object_get(reply, "connected")) ? "yes" : "no");
    }
    json_decref(reply);
    return 0;
}

/* --list-devices: the Vulkan devices, each marked as --gpus (o.gpus) would lend it; the Cycles match is made when
   the slave starts. */
static int print_devices(const char *spec, bool json)
{
    ts_gpu_t gpus[TS_GPU_MAX];
    int n = ts_gpu_list(gpus, TS_GPU_MAX);
    bool named;
    if (ts_gpu_choose(gpus, n, spec, &named) < 0) {
        fprintf(stderr, "tessera-slave: %s\n", ts_error());
        return 2;
    }
    if (json) {
        json_t *a = ts_gpu_json(gpus, n);
        char *text = json_dumps(a, JSON_INDENT(2));
        printf("%s\n", text ? text : "[]");
        free(text);
        json_decref(a);
        return 0;
    }
    if (n == 0)
        printf("no Vulkan devices (install the GPU's Vulkan driver; mesa-vulkan-drivers has lavapipe)\n");
    for (int i = 0; i < n; i++)
        printf("%d  %-40s %-10s %-8s %-10s %7lld MB  %s  %s  %s\n", gpus[i].index, gpus[i].name, gpus[i].type,
               gpus[i].vendor, gpus[i].driver, (long long)gpus[i].memory_mb, gpus[i].uuid,
               gpus[i].pci[0] ? gpus[i].pci : "-", gpus[i].enabled ? "lent" : "not lent");
    return 0;
}

int main(int argc, char **argv)
{
    ts_slave_options_t o = {0};
    const char *log_level = NULL, *ca_file = NULL, *config = NULL;
    bool help = false, version = false, print_config = false, list_devices = false, json = false;
    const ts_opt_t table[] = {
        {"master", TS_OPT_STRING, "tcp://127.0.0.1:5555", 0, -1, &o.master, "the master's ZeroMQ endpoint"},
        {"master-cert", TS_OPT_STRING, NULL, 0, -1, &o.master_cert, "the master's certificate file (master.cert in its state directory)"},
        {"work", TS_OPT_STRING, NULL, 0, -1, &o.work, "work directory: identity key, cache, logs"},
        {"name", TS_OPT_STRING, NULL, 0, -1, &o.name, "node name shown to the farm (default: host name)"},
        {"blender", TS_OPT_STRING, "blender", 0, -1, &o.blender, "the Blender executable"},
        {"worker-script", TS_OPT_STRING, NULL, 0, -1, &o.worker_script, "the Blender worker script (default: beside this program)"},
        {"slots", TS_OPT_INT, "2", 1, 16, &o.slots, "tasks queued on this node at once"},
        {"threads", TS_OPT_INT, "0", 0, 1024, &o.threads, "render threads (0: all cores)"},
        {"max-threads", TS_OPT_INT, "0", 0, 1024, &o.max_threads, "the owner's cap on render threads, whatever --threads says (0: none)"},
        {"max-memory-mb", TS_OPT_INT, "0", 0, 16777216, &o.max_memory_mb, "the owner's cap on a renderer's memory: a hard limit on Blender's data, and jobs whose renders needed more are not taken (0: none)"},
        {"task-timeout", TS_OPT_INT, "3600", 1, 604800, &o.task_timeout_s, "seconds before a silent Blender counts as hung and is restarted"},
        {"handshake-timeout", TS_OPT_INT, "10", 1, 86400, &o.handshake_timeout_s, "seconds of refused CURVE handshakes (wrong certificate) before giving up"},
        {"cache-mb", TS_OPT_INT, "20480", 1, 1 << 24, &o.cache_mb, "size bound of the input cache; least recently used inputs go first"},
        {"torrent-listen", TS_OPT_STRING, "0.0.0.0:0", 0, -1, &o.torrent_listen, "ADDRESS:PORT for fetching and seeding inputs by BitTorrent (port 0: any free port; the master tells peers)"},
        {"no-torrent", TS_OPT_FLAG, NULL, 0, -1, &o.no_torrent, "fetch inputs over HTTP only"},
        {"no-lsd", TS_OPT_FLAG, NULL, 0, -1, &o.no_lsd, "turn local service discovery (finding peers on this LAN) off"},
        {"ca-file", TS_OPT_STRING, NULL, 0, -1, &ca_file, "PEM certificate(s) to trust when the master serves inputs over https (its own certificate; default: the system's CAs)"},
        {"web-seed-after", TS_OPT_INT, "10", 0, 3600, &o.web_seed_after_s, "seconds without progress from peers before fetching from the master's web seed"},
        {"payout-key", TS_OPT_STRING, NULL, 0, -1, &o.payout_key, "a secp256k1 key file (64 hex digits) whose address this node is paid at when the farm pays through a contract; the slave signs its claim on the address with it, and the master takes no address without that proof"},
        {"cheat-share", TS_OPT_DOUBLE, "0", 0, 1, &o.cheat_share, "testing: share of this node's tile and segment tasks done dishonestly (cheaper content, honest-looking results), evenly spread: task n when floor(n*F) > floor((n-1)*F)"},
        {"cheat-samples", TS_OPT_INT, "1", 1, 1000000, &o.cheat_samples, "testing: Cycles samples of a dishonest tile"},
        {"cheat-crf", TS_OPT_INT, "40", 0, 63, &o.cheat_crf, "testing: crf of a dishonest segment, replacing the job's crf or bitrate (clamped into the encoder's range)"},
        {"cheat-preset", TS_OPT_STRING, "ultrafast", 0, -1, &o.cheat_preset, "testing: x264/x265 preset of a dishonest segment"},
        {"idle-after", TS_OPT_DOUBLE, "0", 0, 604800, &o.idle_after, "a café PC: work only after this many seconds without keyboard or mouse input, and stop the moment it returns (0: work whenever the slave runs; 300 suits a café)"},
        {"idle-source", TS_OPT_STRING, "auto", 0, -1, &o.idle_source, "where input is watched: auto, x11[:DISPLAY], logind[:SEAT], input (/dev/input, the input group), file:PATH (its age)"},
        {"display", TS_OPT_STRING, NULL, 0, -1, &o.display, "the X display whose input counts (default: $DISPLAY)"},
        {"busy-file", TS_OPT_STRING, NULL, 0, -1, &o.busy_file, "billing software's hook: while this file exists a customer session is on and the slave does no work"},
        {"pause-while", TS_OPT_STRING, NULL, 0, -1, &o.pause_while, "programs (games) whose running pauses the slave, comma-separated process names as in /proc/PID/comm"},
        {"hours", TS_OPT_STRING, NULL, 0, -1, &o.hours, "work only in these windows of local time, e.g. 22:00-09:00,12:00-13:00 (overnight windows wrap)"},
        {"gpus", TS_OPT_STRING, NULL, 0, -1, &o.gpus, "the GPUs lent to renderers: all, none, or indexes and UUIDs from --list-devices, comma-separated (default: every discrete and integrated GPU; never a CPU Vulkan device)"},
        {"list-devices", TS_OPT_FLAG, NULL, 0, -1, &list_devices, "print this machine's GPUs (the Vulkan loader's devices) and exit"},
        {"json", TS_OPT_FLAG, NULL, 0, -1, &json, "with --list-devices: print them as JSON"},
        {"no-sandbox", TS_OPT_FLAG, NULL, 0, -1, &o.no_sandbox, "run renderers and encoders unconfined, with this user's rights (unsafe: a hostile scene could read this node's key and reach the network; the farm is shown it)"},
        {"bwrap", TS_OPT_STRING, NULL, 0, -1, &o.bwrap, "the bubblewrap executable the sandbox runs with (default: bwrap on PATH)"},
        {"tag", TS_OPT_STRING, NULL, 0, -1, &o.tags, "its pools, comma-separated (studio,gpu24): a job submitted with --pool TAG runs only on nodes with that tag"},
        {"ctl", TS_OPT_STRING, NULL, 0, -1, &o.ctl, "the control socket for `tessera-slave ctl` (default: WORK/ctl.sock)"},
        {"config", TS_OPT_STRING, NULL, 0, -1, &config, "read options from this file first (key = value lines, the options' names; the command line wins)"},
        {"print-config", TS_OPT_FLAG, NULL, 0, -1, &print_config, "print the options in effect as a config file and exit"},
        {"log-level", TS_OPT_STRING, "info", 0, -1, &log_level, "debug, info, warn or error"},
        {"version", TS_OPT_FLAG, NULL, 0, -1, &version, "print the version and exit"},
        TS_OPT_END,
    };
    static const char *const CLI_ONLY[] = {"config", "print-config", "version", "list-devices", "json", NULL};
    if (argc > 1 && strcmp(argv[1], "ctl") == 0)
        return ctl_main(argc - 1, argv + 1);
    if (argc == 2 && strcmp(argv[1], TS_ENCODER_COMMAND) == 0) /* the slave's own encoder child, in the box */
        return ts_encoder_main();
    /* --config is read before anything else: the file's settings come first, the command line's after them */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config = argv[i] + 9;
    char **args = NULL;
    int nargs = config ? ts_conf_load(config, false, table, CLI_ONLY, argc - 1, argv + 1, &args) : argc - 1;
    if (nargs < 0) {
        fprintf(stderr, "tessera-slave: --config %s\n", ts_error());
        return 2;
    }
    char *pos[1];
    if (ts_opts_parse(table, nargs, args ? args : argv + 1, pos, 0, &help) < 0) {
        fprintf(stderr, "tessera-slave: %s\n", ts_error());
        return 2;
    }
    s_conf_args = args; /* the options point into it until the program ends */
    atexit(free_conf_args);
    if (help) {
        printf("usage: tessera-slave --master-cert FILE --work DIR [options]\n"
               "       tessera-slave ctl pause|resume|status [--work DIR | --ctl SOCKET]\n\n");
        ts_opts_usage(stdout, table);
        return 0;
    }
    if (print_config) {
        ts_conf_print(stdout, table, CLI_ONLY);
        return 0;
    }
    if (version) {
        printf("tessera-slave %s\n", TS_VERSION);
        return 0;
    }
    if (list_devices)
        return print_devices(o.gpus, json);
    ts_log_level_t level;
    if (ts_log_level_parse(log_level, &level) < 0) {
        fprintf(stderr, "tessera-slave: option --log-level: unknown level '%s'\n", log_level);
        return 2;
    }
    if (!o.master_cert || !o.work) {
        fprintf(stderr, "tessera-slave: options --master-cert and --work are required\n");
        return 2;
    }
    if (!ts_segenc_preset_known(o.cheat_preset)) {
        fprintf(stderr, "tessera-slave: option --cheat-preset: '%s' is not an x264/x265 preset (ultrafast .. placebo)\n",
                o.cheat_preset);
        return 2;
    }
    if (ca_file && access(ca_file, R_OK) != 0) {
        fprintf(stderr, "tessera-slave: option --ca-file %s: %s\n", ca_file, strerror(errno));
        return 2;
    }
    ts_fetch_set_ca_file(ca_file);
    char script[PATH_MAX];
    if (!o.worker_script) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        snprintf(script, sizeof script, "%s/%s", dirname(exe), WORKER_SCRIPT_NAME);
        o.worker_script = script;
    }
    if (access(o.worker_script, R_OK) != 0) {
        fprintf(stderr, "tessera-slave: worker script %s: not readable\n", o.worker_script);
        return 2;
    }
    char name[64];
    snprintf(name, sizeof name, "slave%s%s", o.name ? " " : "", o.name ? o.name : "");
    ts_log_init(name, level);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return ts_slave_run(&o, &s_stop);
}
