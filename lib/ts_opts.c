/* ts_opts: table-driven command-line options with defaults, bounds and --help text. */
#include "lib/ts_opts.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int set_value(const ts_opt_t *o, const char *text)
{
    switch (o->type) {
    case TS_OPT_STRING:
        *(const char **)o->target = text;
        return 0;
    case TS_OPT_FLAG:
        *(bool *)o->target = text != NULL && strcmp(text, "0") != 0 && strcmp(text, "false") != 0;
        return 0;
    case TS_OPT_INT: {
        char *end;
        errno = 0;
        long v = strtol(text, &end, 10);
        if (errno || end == text || *end)
            return ts_error_set("option --%s: '%s' is not a whole number", o->name, text);
        if (o->min <= o->max && (v < o->min || v > o->max))
            return ts_error_set("option --%s: %ld is out of range %.0f..%.0f", o->name, v, o->min, o->max);
        *(long *)o->target = v;
        return 0;
    }
    case TS_OPT_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(text, &end);
        if (errno || end == text || *end || !isfinite(v))
            return ts_error_set("option --%s: '%s' is not a number", o->name, text);
        if (o->min <= o->max && (v < o->min || v > o->max))
            return ts_error_set("option --%s: %g is out of range %g..%g", o->name, v, o->min, o->max);
        *(double *)o->target = v;
        return 0;
    }
    }
    return ts_error_set("option --%s: unknown option type", o->name);
}

static const ts_opt_t *find(const ts_opt_t *table, const char *name, size_t len)
{
    for (const ts_opt_t *o = table; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

int ts_opts_parse(const ts_opt_t *table, int argc, char **argv, char **positional, int max_positional,
                  bool *help)
{
    for (const ts_opt_t *o = table; o->name; o++) {
        if (o->type == TS_OPT_STRING)
            *(const char **)o->target = o->def;
        else if (o->type == TS_OPT_FLAG)
            *(bool *)o->target = false;
        else if (o->type == TS_OPT_INT)
            *(long *)o->target = 0;
        else
            *(double *)o->target = 0;
        if (o->def && o->type != TS_OPT_STRING && set_value(o, o->def) < 0)
            return -1;
    }
    if (help)
        *help = false;
    int npos = 0;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        char *arg = argv[i];
        if (options_done || strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (!options_done && strcmp(arg, "--") == 0) {
                options_done = true;
                continue;
            }
            if (npos >= max_positional)
                return ts_error_set("unexpected argument '%s'", arg);
            positional[npos++] = arg;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        if (help && len == 4 && strncmp(name, "help", 4) == 0) {
            *help = true;
            continue;
        }
        const ts_opt_t *o = find(table, name, len);
        if (!o)
            return ts_error_set("unknown option --%.*s (see --help)", (int)len, name);
        const char *value;
        if (eq)
            value = eq + 1;
        else if (o->type == TS_OPT_FLAG)
            value = "1";
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return ts_error_set("option --%s needs a value", o->name);
        if (set_value(o, value) < 0)
            return -1;
    }
    return npos;
}

void ts_opts_usage(FILE *out, const ts_opt_t *table)
{
    static const char *const kinds[] = {"TEXT", "N", "X", ""};
    for (const ts_opt_t *o = table; o->name; o++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s %s", o->name, kinds[o->type]);
        fprintf(out, "  %-26s %s", lhs, o->help);
        if (o->def && o->type != TS_OPT_FLAG)
            fprintf(out, " (default: %s)", o->def);
        if ((o->type == TS_OPT_INT || o->type == TS_OPT_DOUBLE) && o->min <= o->max)
            fprintf(out, " [%g..%g]", o->min, o->max);
        fputc('\n', out);
    }
}
