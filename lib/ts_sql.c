/* ts_sql: binding a SQLite statement's parameters from a format (see ts_sql.h). */
#include "lib/ts_sql.h"
#include <stdint.h>

void ts_sql_bindv(sqlite3_stmt *st, const char *fmt, va_list ap)
{
    for (int i = 0; fmt && fmt[i]; i++) {
        if (fmt[i] == 't')
            sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
        else if (fmt[i] == 'i')
            sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
        else
            sqlite3_bind_double(st, i + 1, va_arg(ap, double));
    }
}
