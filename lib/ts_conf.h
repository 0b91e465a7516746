/* ts_conf: a daemon's config file (/etc/tessera/slave.conf): its option table's options as `key = value` lines,
   turned into "--key=value" arguments put before the command line's, so the command line wins. */
#ifndef TS_CONF_H
#define TS_CONF_H

#include "lib/ts_opts.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The format, one setting a line:
     key = value          a key is an option's table name ("task-timeout"); each key at most once
     key = "a value"      quoted: keeps spaces and '#'; escapes \\ \" \n \t \r
     no-torrent = true    a flag: true or false
     # a comment          a whole line, or after a value: a '#' after a space or tab (or after the closing quote)
   Blank lines are skipped, spaces around keys and values ignored, CRLF line ends accepted. Every value is checked
   against the table's type and bounds here (by ts_opts), so errors carry the file and line. */

/* Parses text (len bytes; name stands for it in messages, e.g. the path) against table. cli_only: NULL-terminated
   names the file may not set (--config, --print-config, --version; NULL: none). On success *args is a NULL-terminated
   vector: one "--key=value" per setting, in file order, then argv[0..argc) (pointed to, not copied); returns its
   count, for ts_opts_parse(table, count, *args, ...). *args is one malloc'd block that also holds the file's text:
   the caller free()s it once no option set from it is used any more (string targets point into it).
   -1 with ts_error() "<name>:<line>: <what is wrong>", e.g. "slave.conf:7: unknown key 'idle_afer'". */
int ts_conf_parse_text(const char *text, size_t len, const char *name, const ts_opt_t *table,
                       const char *const *cli_only, int argc, char **argv, char ***args);
/* The same for the file at path (at most 1 MiB). A missing file is an error naming the path, unless optional is true:
   then *args holds argv alone. */
int ts_conf_load(const char *path, bool optional, const ts_opt_t *table, const char *const *cli_only, int argc,
                 char **argv, char ***args);
/* Writes the current value of every option but the cli_only ones as a config file that reads back to the same values:
   each under its help as a comment, texts quoted when needed, an unset (NULL) text as "# key =". */
void ts_conf_print(FILE *out, const ts_opt_t *table, const char *const *cli_only);

int ts_conf_test(bool verbose);

#endif
