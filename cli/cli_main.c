/* cli_main: `tessera`, the studio CLI: global options, command dispatch, --help and --version. */
#include "cli/cli.h"
#include "lib/ts_error.h"
#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(cli_ctx_t *ctx, int argc, char **argv);
    const char *summary;
} command_t;

static const command_t COMMANDS[] = {
    {"submit", cli_cmd_submit, "upload a scene or a video and queue a render or transcode job (prints the job id)"},
    {"inspect", cli_cmd_inspect, "read a .blend with the artist's Blender: frames, size, samples, format, its files"},
    {"wait", cli_cmd_wait, "wait for a job with a progress line; --out DIR downloads its frames"},
    {"status", cli_cmd_status, "show one job"},
    {"cancel", cli_cmd_cancel, "cancel a job"},
    {"pause", cli_cmd_pause, "pause a job: running tasks finish, nothing new starts"},
    {"resume", cli_cmd_resume, "resume a paused job"},
    {"priority", cli_cmd_priority, "change a job's priority (higher runs first)"},
    {"requeue", cli_cmd_requeue, "render chosen or failed frames of an ended job again, paid as new work"},
    {"jobs", cli_cmd_jobs, "list the jobs, oldest first; --watch follows their changes as they happen"},
    {"nodes", cli_cmd_nodes, "list the render nodes"},
    {"lift", cli_cmd_lift, "end a node's quarantine"},
    {"escrow", cli_cmd_escrow, "deploy the token and escrow contracts on a chain, or stake for a node"},
    {"wallet", cli_cmd_wallet, "balances, stakes and locked funds of every account, or one account's history"},
    {"account", cli_cmd_account, "the operator's requester accounts: add (prints a token), list, revoke, credit"},
    {"share", cli_cmd_share, "requesters' fair shares of node time and limits: list, or set one (operator)"},
    {"stats", cli_cmd_stats, "show the master's counters (bytes uploaded to slaves)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out, const ts_opt_t *table)
{
    fprintf(out, "usage: %s [--master URL] COMMAND [ARGS] [--json] [--help]\n\n"
                 "The tessera render farm's command-line client.\n\ncommands:\n", CLI_PROG);
    for (const command_t *c = COMMANDS; c->name; c++)
        fprintf(out, "  %-8s %s\n", c->name, c->summary);
    fprintf(out, "\noptions (--master may also follow the command):\n");
    ts_opts_usage(out, table);
    fprintf(out, "  %-26s %s\n", "--help", "show this help; `" CLI_PROG " COMMAND --help` for a command's options");
    fprintf(out, "\nexit codes:\n"
                 "  0  success\n"
                 "  1  the job failed or was cancelled (its error is printed)\n"
                 "  2  usage error or input rejected: a bad option or value, HTTP 400/409 from the master\n"
                 "     (its error is printed), or a local file that cannot be read or written\n"
                 "  3  unknown job (HTTP 404)\n"
                 "  4  the master cannot be reached, or answered 5xx or something that is not JSON\n"
                 "  5  --timeout expired\n"
                 "  6  not allowed: no token or a wrong or revoked one (HTTP 401), a token without the right\n"
                 "     (HTTP 403), or too many wrong tokens from this address (HTTP 429)\n"
                 "\nenvironment:\n"
                 "  %-15s master URL when --master is not given (default: %s)\n"
                 "  %-15s API token when --token is not given (else the first line of ~/.config/%s)\n"
                 "  %-15s PEM certificate(s) to trust for an https master when --ca-file is not given\n",
            CLI_MASTER_ENV, CLI_DEFAULT_MASTER, CLI_TOKEN_ENV, CLI_TOKEN_FILE, CLI_CA_ENV);
}

/* Index in argv of the command: the first argument that is neither a global option nor its value. */
static int find_command(const ts_opt_t *table, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return i;
        if (strchr(arg, '='))
            continue;
        for (const ts_opt_t *o = table; o->name; o++)
            if (strcmp(arg + 2, o->name) == 0 && o->type != TS_OPT_FLAG)
                i++; /* its value */
    }
    return argc;
}

int main(int argc, char **argv)
{
    const char *master = NULL;
    bool version = false, help = false;
    cli_ctx_t ctx = {.master = CLI_DEFAULT_MASTER, .source = "default"}, before = {0};
    ts_opt_t table[] = {
        CLI_OPTS_CONN(&master, &before),
        {"version", TS_OPT_FLAG, NULL, 1, 0, &version, "print the version and exit"},
        TS_OPT_END,
    };
    int cmd = find_command(table, argc, argv);
    if (ts_opts_parse(table, cmd - 1, argv + 1, NULL, 0, &help) < 0) {
        fprintf(stderr, "%s: %s\n", CLI_PROG, ts_error());
        return CLI_EXIT_USAGE;
    }
    if (help) {
        usage(stdout, table);
        return CLI_EXIT_OK;
    }
    if (version) {
        printf("%s %s\n", CLI_PROG, CLI_VERSION);
        return CLI_EXIT_OK;
    }
    if (cmd >= argc) {
        usage(stderr, table);
        return CLI_EXIT_USAGE;
    }
    int cmd_argc = argc - cmd - 1;
    char **cmd_argv = argv + cmd + 1;
    const char *name = argv[cmd];
    static char help_arg[] = "--help";
    static char *help_argv[] = {help_arg, NULL};
    if (strcmp(name, "help") == 0) { /* `tessera help [COMMAND]` */
        if (cmd_argc == 0) {
            usage(stdout, table);
            return CLI_EXIT_OK;
        }
        name = cmd_argv[0];
        cmd_argc = 1;
        cmd_argv = help_argv;
    }
    const command_t *command = NULL;
    for (const command_t *c = COMMANDS; c->name; c++)
        if (strcmp(c->name, name) == 0)
            command = c;
    if (!command) {
        fprintf(stderr, "%s: unknown command '%s' (see %s --help)\n", CLI_PROG, name, CLI_PROG);
        return CLI_EXIT_USAGE;
    }

    ctx.token_before = before.token;
    ctx.ca_file_before = before.ca_file;
    const char *env = getenv(CLI_MASTER_ENV);
    if (env && *env) {
        ctx.master = env;
        ctx.source = "$" CLI_MASTER_ENV;
    }
    cli_ctx_override(&ctx, master);
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "%s: cannot initialise libsodium or libcurl\n", CLI_PROG);
        return CLI_EXIT_MASTER;
    }
    int ret = command->run(&ctx, cmd_argc, cmd_argv);
    curl_global_cleanup();
    if (fflush(stdout) != 0 && ret == 0)
        ret = cli_fail(CLI_EXIT_USAGE, "writing to stdout: %s", strerror(errno));
    if (ret < 0) {
        fprintf(stderr, "%s: %s\n", CLI_PROG, ts_error());
        return cli_exit_code();
    }
    return CLI_EXIT_OK;
}
