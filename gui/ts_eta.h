/* ts_eta: a running job's time left, estimated from its own pace so far (tasks done over the seconds since it
   started), and how the jobs list writes it. No display needed. */
#ifndef TS_ETA_H
#define TS_ETA_H

#include <glib.h>

G_BEGIN_DECLS

/* Seconds left for done of total tasks done since started (unix time; <= 0: not started) at now, at the pace so
   far; -1 when not known (nothing done yet, no start, more done than planned, a clock behind the start). */
double ts_eta_seconds(int done, int total, double started, double now);
/* "—" (not known), "< 1 min", "12 min", "2 h 05 min"; g_free it. */
char *ts_eta_text(double seconds);

int ts_eta_test(gboolean verbose);

G_END_DECLS

#endif
