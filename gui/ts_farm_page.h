/* ts_farm_page: the Farm page: the farm's nodes (name, state, GPUs, sandbox, reputation and checks), read-only,
   fetched (GET /api/v1/nodes, off the main thread) every TS_FARM_POLL_MS while the page is shown and when the
   session reconnects. */
#ifndef TS_FARM_PAGE_H
#define TS_FARM_PAGE_H

#include "gui/ts_session.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_FARM_POLL_MS 3000

#define TS_TYPE_FARM_PAGE (ts_farm_page_get_type())
G_DECLARE_FINAL_TYPE(TsFarmPage, ts_farm_page, TS, FARM_PAGE, GtkBox)

/* The session the page asks (a reference is kept); set once, before the page is shown. */
void ts_farm_page_set_session(TsFarmPage *self, TsSession *session);

G_END_DECLS

#endif
