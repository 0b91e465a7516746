/* ts_opts: option tables (name, help, type, default, bounds) that drive parsing, --help and validation. */
#ifndef TS_OPTS_H
#define TS_OPTS_H

#include <stdbool.h>
#include <stdio.h>

typedef enum { TS_OPT_STRING, TS_OPT_INT, TS_OPT_DOUBLE, TS_OPT_FLAG } ts_opt_type_t;

typedef struct {
    const char *name;    /* long name without dashes: "listen" */
    ts_opt_type_t type;
    const char *def;     /* default as text; NULL: none (strings stay NULL, numbers 0) */
    double min, max;     /* bounds for INT and DOUBLE (ignored when min > max) */
    void *target;        /* char ** / long * / double * / bool * */
    const char *help;
} ts_opt_t;

/* Table terminator. */
#define TS_OPT_END {NULL, TS_OPT_FLAG, NULL, 0, 0, NULL, NULL}

/* Sets defaults, then parses argv[0..argc) ("--name value", "--name=value", flags "--name").
   Arguments that are not options are collected, in order, into positional[] (at most max_positional).
   "--help" sets *help (when help is not NULL). Returns the count of positionals, or -1 with ts_error()
   naming the option and what is wrong with its value. String targets point into argv or static text. */
int ts_opts_parse(const ts_opt_t *table, int argc, char **argv, char **positional, int max_positional,
                  bool *help);

/* Prints one line per option: --name VALUE  help (default: D; min..max). */
void ts_opts_usage(FILE *out, const ts_opt_t *table);

#endif
