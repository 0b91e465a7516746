/* ts_sql: binding a SQLite statement's parameters from a format: 't' text, 'i' int64, 'd' double. */
#ifndef TS_SQL_H
#define TS_SQL_H

#include <sqlite3.h>
#include <stdarg.h>

/* Binds parameters 1..strlen(fmt) from ap, in order. */
void ts_sql_bindv(sqlite3_stmt *st, const char *fmt, va_list ap);

#endif
