/* fuzz_slaveconf: libFuzzer target for the slave's own settings: the --hours windows and a config file (slave.conf)
   parsed against a table of each option type, then printed and read back to the same values. */
#include "lib/ts_conf.h"
#include "lib/ts_hours.h"
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *text, *unset;
    long count;
    double share;
    bool flag, cli;
} values_t;

static void make_table(ts_opt_t t[7], values_t *v)
{
    const ts_opt_t rows[7] = {
        {"text", TS_OPT_STRING, "default text", 0, -1, &v->text, "a text"},
        {"unset", TS_OPT_STRING, NULL, 0, -1, &v->unset, "a text without a default"},
        {"count", TS_OPT_INT, "2", -5, 1000000, &v->count, "a bounded whole number"},
        {"share", TS_OPT_DOUBLE, "0.5", 1, 0, &v->share, "a number without bounds"},
        {"flag", TS_OPT_FLAG, NULL, 0, -1, &v->flag, "a flag"},
        {"version", TS_OPT_FLAG, NULL, 0, -1, &v->cli, "for the command line only"},
        TS_OPT_END,
    };
    memcpy(t, rows, sizeof rows);
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Whether the state really holds until the change next_change reports, and flips there. */
static void check_hours(const ts_hours_t *h, int m)
{
    int d = ts_hours_next_change(h, m);
    bool now = ts_hours_open(h, m);
    if (d == 0 || d < -1 || d > TS_HOURS_DAY)
        abort();
    int until = d < 0 ? TS_HOURS_DAY : d;
    for (int k = 1; k < until; k++)
        if (ts_hours_open(h, m + k) != now)
            abort();
    if (d > 0 && ts_hours_open(h, m + d) == now)
        abort();
}

static void check_conf(const uint8_t *data, size_t size)
{
    static const char *const cli_only[] = {"version", NULL};
    ts_opt_t ta[7], tb[7];
    values_t a, b;
    make_table(ta, &a);
    make_table(tb, &b);
    char **args_a = NULL, **args_b = NULL;
    int n = ts_conf_parse_text((const char *)data, size, "fuzz.conf", ta, cli_only, 0, NULL, &args_a);
    if (n < 0) {
        if (args_a)
            abort();
        return;
    }
    if (ts_opts_parse(ta, n, args_a, NULL, 0, NULL) != 0 || a.cli) /* every value was checked while parsing */
        abort();
    char *printed = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&printed, &len);
    if (!mem)
        abort();
    ts_conf_print(mem, ta, cli_only);
    fclose(mem);
    n = ts_conf_parse_text(printed, len, "printed.conf", tb, cli_only, 0, NULL, &args_b);
    if (n < 0 || ts_opts_parse(tb, n, args_b, NULL, 0, NULL) != 0)
        abort();
    if (!same_text(a.text, b.text) || !same_text(a.unset, b.unset) || a.count != b.count || a.share != b.share ||
        a.flag != b.flag)
        abort();
    free(printed);
    free(args_a);
    free(args_b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* --hours is a C string from argv or a config value */
    ts_hours_t h;
    if (ts_hours_parse(text, &h) == 0) {
        if (h.count < 1 || h.count > TS_HOURS_MAX)
            abort();
        check_hours(&h, 0);
        check_hours(&h, size > 0 ? data[0] * 6 : 719);
    }
    free(text);
    check_conf(data, size);
    return 0;
}
