/* ts_tile: one tile of the mosaic: rectangle, task state, node, time, verdict and the master's PNG of it. */
#include "gui/ts_tile.h"
#include <string.h>

struct _TsTile {
    GObject parent;
    TsTileInfo info;
    GdkTexture *picture;
    gint64 picture_task;
};

G_DEFINE_FINAL_TYPE(TsTile, ts_tile, G_TYPE_OBJECT)

static void dispose(GObject *object)
{
    g_clear_object(&TS_TILE(object)->picture);
    G_OBJECT_CLASS(ts_tile_parent_class)->dispose(object);
}

static void ts_tile_class_init(TsTileClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
}

static void ts_tile_init(TsTile *self)
{
    self->info.seconds = -1;
    g_strlcpy(self->info.state, "planned", sizeof self->info.state);
}

TsTile *ts_tile_new(int index)
{
    TsTile *self = g_object_new(TS_TYPE_TILE, NULL);
    self->info.index = index;
    return self;
}

const TsTileInfo *ts_tile_info(TsTile *self) { return &self->info; }
TsTileInfo *ts_tile_info_mut(TsTile *self) { return &self->info; }
GdkTexture *ts_tile_get_picture(TsTile *self) { return self->picture; }
gint64 ts_tile_get_picture_task(TsTile *self) { return self->picture_task; }

void ts_tile_set_picture(TsTile *self, GdkTexture *picture, gint64 task)
{
    g_set_object(&self->picture, picture);
    self->picture_task = picture ? task : 0;
}

TsTileLook ts_tile_look(TsTile *self)
{
    const char *s = self->info.state;
    if (strcmp(s, "assigned") == 0)
        return TS_TILE_RENDERING;
    if (strcmp(s, "verifying") == 0)
        return TS_TILE_VERIFYING;
    if (strcmp(s, "checking") == 0 || (strcmp(s, "done") == 0 && self->info.check_running))
        return TS_TILE_CHECKING;
    if (strcmp(s, "done") == 0)
        return TS_TILE_DONE;
    if (strcmp(s, "failed") == 0 || strcmp(s, "cancelled") == 0)
        return TS_TILE_FAILED;
    return TS_TILE_WAITING;
}

const char *ts_tile_look_name(TsTileLook look)
{
    static const char *const NAMES[] = {"waiting", "rendering", "verifying", "checking", "done", "failed"};
    return look <= TS_TILE_FAILED ? NAMES[look] : "?";
}

gboolean ts_tile_wants_picture(TsTile *self)
{
    TsTileLook look = ts_tile_look(self);
    return self->info.task > 0 && (look == TS_TILE_DONE || look == TS_TILE_CHECKING) &&
           (!self->picture || self->picture_task != self->info.task);
}

/* The verifier's word for people. */
static const char *verdict(const TsTileInfo *t)
{
    const char *v = t->verify;
    if (t->check_running || strcmp(v, "pending") == 0)
        return "spot check running";
    if (strcmp(v, "tiebreak") == 0)
        return "checks disagreed: a third node decides";
    if (strcmp(v, "passed") == 0)
        return "spot check passed";
    if (strcmp(v, "unchecked") == 0)
        return "verified (decoded, not re-rendered)";
    if (strcmp(v, "disputed") == 0 || strcmp(v, "unresolved") == 0)
        return "disputed, unresolved (the longer-trusted node's result kept)";
    if (strcmp(t->state, "done") == 0)
        return "verified";
    if (strcmp(t->state, "verifying") == 0)
        return "being verified";
    return "not verified yet";
}

char *ts_tile_describe(TsTile *self)
{
    const TsTileInfo *t = &self->info;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "Tile %d (%dx%d at %d,%d): %s", t->index, t->width, t->height, t->x, t->y,
                           ts_tile_look_name(ts_tile_look(self)));
    if (t->node_name[0] || t->node[0]) {
        const char *who = t->node_name[0] ? t->node_name : t->node;
        if (strcmp(t->state, "assigned") == 0)
            g_string_append_printf(s, " · on node %s", who);
        else
            g_string_append_printf(s, " · rendered by node %s", who);
    }
    if (t->seconds >= 0)
        g_string_append_printf(s, t->seconds < 10 ? " in %.2f s" : " in %.0f s", t->seconds);
    g_string_append_printf(s, " · %s", verdict(t));
    if (t->check_node_name[0])
        g_string_append_printf(s, " (checked by node %s%s)", t->check_node_name,
                               strcmp(t->check_verify, "check") == 0 ? ", agreed" : "");
    return g_string_free(s, FALSE);
}
