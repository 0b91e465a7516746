/* cli_util: shared CLI helpers: errors that carry an exit code, per-command option parsing and usage. */
#include "cli/cli.h"
#include "lib/ts_error.h"

static int s_exit_code = CLI_EXIT_USAGE;

int cli_fail(int exit_code, const char *fmt, ...)
{
    char msg[CLI_MSG_MAX]; /* formatted apart: the arguments may point into ts_error() itself */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ts_error_set("%s", msg);
    s_exit_code = exit_code;
    return -1;
}

int cli_keep(int exit_code)
{
    s_exit_code = exit_code;
    return -1;
}

int cli_exit_code(void)
{
    return s_exit_code;
}

void cli_usage(FILE *out, const char *synopsis, const char *summary, const ts_opt_t *table)
{
    fprintf(out, "usage: %s %s\n\n%s\n\noptions:\n", CLI_PROG, synopsis, summary);
    ts_opts_usage(out, table);
    fprintf(out, "  %-26s %s\n", "--help", "show this help");
}

int cli_parse_opts(const ts_opt_t *table, int argc, char **argv, char **pos, int max_pos, int *npos,
                   const char *synopsis, const char *summary)
{
    bool help = false;
    int n = ts_opts_parse(table, argc, argv, pos, max_pos, &help);
    if (help) {
        cli_usage(stdout, synopsis, summary, table);
        return 1;
    }
    if (n < 0)
        return cli_keep(CLI_EXIT_USAGE);
    *npos = n;
    return 0;
}

void cli_ctx_override(cli_ctx_t *ctx, const char *master)
{
    if (master) {
        ctx->master = master;
        ctx->source = "--master";
    }
}
