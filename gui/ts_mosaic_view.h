/* ts_mosaic_view: draws a TsMosaicModel: the frame filling in tile by tile (the master's PNG of each verified tile),
   tiles in flight outlined, tiles under a spot check marked, the finished frame whole; a click selects a tile. */
#ifndef TS_MOSAIC_VIEW_H
#define TS_MOSAIC_VIEW_H

#include "gui/ts_mosaic_model.h"
#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TS_TYPE_MOSAIC_VIEW (ts_mosaic_view_get_type())
G_DECLARE_FINAL_TYPE(TsMosaicView, ts_mosaic_view, TS, MOSAIC_VIEW, GtkWidget)

/* Signal "tile-selected" (int index, -1 for none). */
void ts_mosaic_view_set_model(TsMosaicView *self, TsMosaicModel *model);
int ts_mosaic_view_get_selected(TsMosaicView *self);
void ts_mosaic_view_select(TsMosaicView *self, int index);

G_END_DECLS

#endif
