/* ts_eta: a running job's time left at its pace so far (see the header). */
#include "gui/ts_eta.h"
#include <math.h>

double ts_eta_seconds(int done, int total, double started, double now)
{
    double elapsed = now - started;
    if (started <= 0 || done <= 0 || total <= 0 || done > total || elapsed <= 0)
        return -1;
    return elapsed / done * (total - done);
}

char *ts_eta_text(double seconds)
{
    if (seconds < 0 || !isfinite(seconds))
        return g_strdup("—");
    long minutes = lround(ceil(seconds / 60.0));
    if (seconds < 60)
        return g_strdup("< 1 min");
    if (minutes < 60)
        return g_strdup_printf("%ld min", minutes);
    return g_strdup_printf("%ld h %02ld min", minutes / 60, minutes % 60);
}
