/* ts_mosaic_view: the mosaic's drawing: tiles as the master encoded them, outlines for work in flight and spot checks,
   the finished frame whole; selection by click or arrow keys (see ts_mosaic_view.h). */
#include "gui/ts_mosaic_view.h"
#include <math.h>

#define OUTLINE 2.0f   /* px: in flight, under a check, selected */
#define BADGE 8.0f     /* px: the spot check's corner mark */

struct _TsMosaicView {
    GtkWidget parent;
    TsMosaicModel *model;
    int selected;
};

enum { SIGNAL_TILE_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(TsMosaicView, ts_mosaic_view, GTK_TYPE_WIDGET)

/* Colours: a tile without a picture yet by what it waits for, and the outlines. */
static const GdkRGBA BACKDROP = {0.09f, 0.09f, 0.10f, 1.0f};
static const GdkRGBA WAITING = {0.17f, 0.17f, 0.19f, 1.0f};
static const GdkRGBA RENDERING = {0.26f, 0.21f, 0.12f, 1.0f};
static const GdkRGBA FAILED = {0.40f, 0.12f, 0.12f, 1.0f};
static const GdkRGBA FETCHING = {0.30f, 0.32f, 0.35f, 1.0f}; /* rendered, its picture on the way */
static const GdkRGBA GRID = {1.0f, 1.0f, 1.0f, 0.12f};
static const GdkRGBA IN_FLIGHT = {0.96f, 0.65f, 0.14f, 1.0f};
static const GdkRGBA CHECK = {0.83f, 0.21f, 0.51f, 1.0f};
static const GdkRGBA SELECTED = {1.0f, 1.0f, 1.0f, 1.0f};

/* Where the frame lies in the widget: scale and offset (fitted, centred). FALSE when there is nothing to draw. */
static gboolean placement(TsMosaicView *self, float *scale, float *ox, float *oy)
{
    int fw = self->model ? ts_mosaic_model_get_width(self->model) : 0;
    int fh = self->model ? ts_mosaic_model_get_height(self->model) : 0;
    float w = (float)gtk_widget_get_width(GTK_WIDGET(self)), h = (float)gtk_widget_get_height(GTK_WIDGET(self));
    if (fw <= 0 || fh <= 0 || w <= 0 || h <= 0)
        return FALSE;
    *scale = MIN(w / fw, h / fh);
    *ox = (w - fw * *scale) / 2;
    *oy = (h - fh * *scale) / 2;
    return TRUE;
}

static void outline(GtkSnapshot *s, const graphene_rect_t *r, float width, const GdkRGBA *color)
{
    GskRoundedRect rr;
    gsk_rounded_rect_init_from_rect(&rr, r, 0);
    float widths[4] = {width, width, width, width};
    GdkRGBA colors[4] = {*color, *color, *color, *color};
    gtk_snapshot_append_border(s, &rr, widths, colors);
}

static void draw_tile(TsMosaicView *self, GtkSnapshot *s, TsTile *tile, const graphene_rect_t *r, gboolean whole)
{
    TsTileLook look = ts_tile_look(tile);
    GdkTexture *picture = ts_tile_get_picture(tile);
    if (!whole) {
        if (picture)
            gtk_snapshot_append_texture(s, picture, r);
        else
            gtk_snapshot_append_color(s, look == TS_TILE_FAILED                                 ? &FAILED
                                         : look == TS_TILE_RENDERING || look == TS_TILE_VERIFYING ? &RENDERING
                                         : look == TS_TILE_DONE || look == TS_TILE_CHECKING       ? &FETCHING
                                                                                                  : &WAITING,
                                      r);
    }
    outline(s, r, 1.0f, &GRID);
    if (look == TS_TILE_RENDERING || look == TS_TILE_VERIFYING)
        outline(s, r, OUTLINE, &IN_FLIGHT);
    if (look == TS_TILE_CHECKING) {
        outline(s, r, OUTLINE, &CHECK);
        float b = MIN(BADGE, MIN(r->size.width, r->size.height) / 2);
        gtk_snapshot_append_color(s, &CHECK, &GRAPHENE_RECT_INIT(r->origin.x + r->size.width - b, r->origin.y, b, b));
    }
    if (ts_tile_info(tile)->index == self->selected)
        outline(s, r, OUTLINE, &SELECTED);
}

static void snapshot(GtkWidget *widget, GtkSnapshot *s)
{
    TsMosaicView *self = TS_MOSAIC_VIEW(widget);
    float scale, ox, oy;
    gtk_snapshot_append_color(s, &BACKDROP, &GRAPHENE_RECT_INIT(0, 0, gtk_widget_get_width(widget),
                                                                  gtk_widget_get_height(widget)));
    if (!placement(self, &scale, &ox, &oy))
        return;
    int fw = ts_mosaic_model_get_width(self->model), fh = ts_mosaic_model_get_height(self->model);
    GdkTexture *frame = ts_mosaic_model_get_frame_picture(self->model);
    if (frame)
        gtk_snapshot_append_texture(s, frame, &GRAPHENE_RECT_INIT(ox, oy, fw * scale, fh * scale));
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->model));
    for (guint i = 0; i < n; i++) {
        TsTile *tile = ts_mosaic_model_tile(self->model, (int)i);
        const TsTileInfo *t = ts_tile_info(tile);
        graphene_rect_t r = GRAPHENE_RECT_INIT(ox + t->x * scale, oy + t->y * scale, t->width * scale, t->height * scale);
        draw_tile(self, s, tile, &r, frame != NULL);
    }
}

static void changed(TsMosaicView *self)
{
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void items_changed(GListModel *model, guint pos, guint removed, guint added, TsMosaicView *self)
{
    if (self->selected >= (int)g_list_model_get_n_items(model))
        ts_mosaic_view_select(self, -1);
    changed(self);
}

void ts_mosaic_view_select(TsMosaicView *self, int index)
{
    if (self->selected == index)
        return;
    self->selected = index;
    changed(self);
    g_signal_emit(self, signals[SIGNAL_TILE_SELECTED], 0, index);
}

int ts_mosaic_view_get_selected(TsMosaicView *self)
{
    return self->selected;
}

static void on_click(GtkGestureClick *gesture, int n_press, double x, double y, TsMosaicView *self)
{
    float scale, ox, oy;
    gtk_widget_grab_focus(GTK_WIDGET(self));
    if (!placement(self, &scale, &ox, &oy))
        return;
    double fx = (x - ox) / scale, fy = (y - oy) / scale;
    int hit = -1;
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->model));
    for (guint i = 0; i < n && hit < 0; i++) {
        const TsTileInfo *t = ts_tile_info(ts_mosaic_model_tile(self->model, (int)i));
        if (fx >= t->x && fx < t->x + t->width && fy >= t->y && fy < t->y + t->height)
            hit = (int)i;
    }
    ts_mosaic_view_select(self, hit);
}

/* The tile beside the selected one in a direction (dx, dy), by the centres of their rectangles. */
static int neighbour(TsMosaicView *self, int dx, int dy)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->model));
    if (n == 0)
        return -1;
    if (self->selected < 0)
        return 0;
    const TsTileInfo *from = ts_tile_info(ts_mosaic_model_tile(self->model, self->selected));
    double cx = from->x + from->width / 2.0, cy = from->y + from->height / 2.0, best_d = G_MAXDOUBLE;
    int best = self->selected;
    for (guint i = 0; i < n; i++) {
        const TsTileInfo *t = ts_tile_info(ts_mosaic_model_tile(self->model, (int)i));
        double tx = t->x + t->width / 2.0 - cx, ty = t->y + t->height / 2.0 - cy;
        double along = tx * dx + ty * dy, across = fabs(tx * dy) + fabs(ty * dx);
        if (along > 0 && along + 2 * across < best_d) {
            best_d = along + 2 * across;
            best = (int)i;
        }
    }
    return best;
}

static gboolean on_key(GtkEventControllerKey *key, guint keyval, guint code, GdkModifierType state,
                       TsMosaicView *self)
{
    int dx = 0, dy = 0;
    switch (keyval) {
    case GDK_KEY_Left: dx = -1; break;
    case GDK_KEY_Right: dx = 1; break;
    case GDK_KEY_Up: dy = -1; break;
    case GDK_KEY_Down: dy = 1; break;
    case GDK_KEY_Escape: ts_mosaic_view_select(self, -1); return TRUE;
    default: return FALSE;
    }
    if (self->model)
        ts_mosaic_view_select(self, neighbour(self, dx, dy));
    return TRUE;
}

void ts_mosaic_view_set_model(TsMosaicView *self, TsMosaicModel *model)
{
    if (self->model) {
        g_signal_handlers_disconnect_by_data(self->model, self);
        g_clear_object(&self->model);
    }
    if (model) {
        self->model = g_object_ref(model);
        g_signal_connect(model, "items-changed", G_CALLBACK(items_changed), self);
        g_signal_connect_swapped(model, "frame-changed", G_CALLBACK(changed), self);
    }
    self->selected = -1;
    changed(self);
}

static void dispose(GObject *object)
{
    TsMosaicView *self = TS_MOSAIC_VIEW(object);
    ts_mosaic_view_set_model(self, NULL);
    gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_MOSAIC_VIEW);
    G_OBJECT_CLASS(ts_mosaic_view_parent_class)->dispose(object);
}

static void ts_mosaic_view_class_init(TsMosaicViewClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    wc->snapshot = snapshot;
    gtk_widget_class_set_template_from_resource(wc, "/org/tessera/gui/ts-mosaic-view.ui");
    gtk_widget_class_bind_template_callback(wc, on_click);
    gtk_widget_class_bind_template_callback(wc, on_key);
    gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
    gtk_widget_class_set_css_name(wc, "mosaic");
    signals[SIGNAL_TILE_SELECTED] = g_signal_new("tile-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                 NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void ts_mosaic_view_init(TsMosaicView *self)
{
    self->selected = -1;
    gtk_widget_init_template(GTK_WIDGET(self));
}
