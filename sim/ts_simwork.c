/* ts_simwork: how long a simulated slave works on a task: a fixed time ("MS") or one drawn uniformly ("uniform:A-B"). */
#include "sim/ts_simwork.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define UNIFORM "uniform:"
#define MAX_MS 86400000L /* a day */

/* One whole number of milliseconds at *p, 0..MAX_MS; *p moves past it. */
static int parse_ms(const char **p, long *ms)
{
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (errno || end == *p || **p == '-' || **p == '+' || v < 0 || v > MAX_MS)
        return -1;
    *ms = v;
    *p = end;
    return 0;
}

int ts_simwork_parse(const char *text, ts_simwork_t *work)
{
    const char *p = text;
    if (strncmp(p, UNIFORM, strlen(UNIFORM)) == 0) {
        p += strlen(UNIFORM);
        if (parse_ms(&p, &work->lo_ms) < 0 || *p++ != '-' || parse_ms(&p, &work->hi_ms) < 0 || *p ||
            work->lo_ms > work->hi_ms)
            return ts_error_set("'%s' is not uniform:A-B (whole milliseconds, 0 <= A <= B <= %ld)", text, MAX_MS);
        return 0;
    }
    if (parse_ms(&p, &work->lo_ms) < 0 || *p)
        return ts_error_set("'%s' is neither MS (0..%ld) nor uniform:A-B", text, MAX_MS);
    work->hi_ms = work->lo_ms;
    return 0;
}

double ts_simwork_draw(const ts_simwork_t *work)
{
    long span = work->hi_ms - work->lo_ms;
    long ms = work->lo_ms + (span > 0 ? (long)randombytes_uniform((uint32_t)span + 1) : 0);
    return (double)ms / 1000.0;
}
