/* ts_mosaic_model: one frame's tiles, from the master's views and task events (see ts_mosaic_model.h). */
#include "gui/ts_mosaic_model.h"
#include <jansson.h>
#include <string.h>

struct _TsMosaicModel {
    GObject parent;
    gint64 job;
    int frame;
    int width, height;
    char frame_state[16];
    GPtrArray *tiles;        /* TsTile by index */
    GHashTable *node_names;  /* node id -> name, learnt from views (events name nodes by id) */
    GdkTexture *frame_picture;
};

enum { SIGNAL_FRAME_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static GType get_item_type(GListModel *m) { return TS_TYPE_TILE; }
static guint get_n_items(GListModel *m) { return TS_MOSAIC_MODEL(m)->tiles->len; }
static gpointer get_item(GListModel *m, guint i)
{
    TsMosaicModel *self = TS_MOSAIC_MODEL(m);
    return i < self->tiles->len ? g_object_ref(g_ptr_array_index(self->tiles, i)) : NULL;
}

static void model_init(GListModelInterface *iface)
{
    iface->get_item_type = get_item_type;
    iface->get_n_items = get_n_items;
    iface->get_item = get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE(TsMosaicModel, ts_mosaic_model, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, model_init))

static void dispose(GObject *object)
{
    TsMosaicModel *self = TS_MOSAIC_MODEL(object);
    g_clear_pointer(&self->tiles, g_ptr_array_unref);
    g_clear_pointer(&self->node_names, g_hash_table_unref);
    g_clear_object(&self->frame_picture);
    G_OBJECT_CLASS(ts_mosaic_model_parent_class)->dispose(object);
}

static void ts_mosaic_model_class_init(TsMosaicModelClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
    /* the frame's state, size or picture changed (tiles change through items-changed) */
    signals[SIGNAL_FRAME_CHANGED] = g_signal_new("frame-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                 NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void ts_mosaic_model_init(TsMosaicModel *self)
{
    self->tiles = g_ptr_array_new_with_free_func(g_object_unref);
    self->node_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

TsMosaicModel *ts_mosaic_model_new(void)
{
    return g_object_new(TS_TYPE_MOSAIC_MODEL, NULL);
}

/* The tiles become count fresh ones. */
static void set_count(TsMosaicModel *self, guint count)
{
    guint old = self->tiles->len;
    if (old == count)
        return;
    g_ptr_array_set_size(self->tiles, 0);
    for (guint i = 0; i < count; i++)
        g_ptr_array_add(self->tiles, ts_tile_new((int)i));
    g_list_model_items_changed(G_LIST_MODEL(self), 0, old, count);
}

void ts_mosaic_model_show(TsMosaicModel *self, gint64 job, int frame)
{
    if (self->job == job && self->frame == frame)
        return;
    self->job = job;
    self->frame = frame;
    self->width = self->height = 0;
    self->frame_state[0] = '\0';
    g_clear_object(&self->frame_picture);
    set_count(self, 0);
    g_signal_emit(self, signals[SIGNAL_FRAME_CHANGED], 0);
}

gint64 ts_mosaic_model_get_job(TsMosaicModel *self) { return self->job; }
int ts_mosaic_model_get_frame(TsMosaicModel *self) { return self->frame; }
int ts_mosaic_model_get_width(TsMosaicModel *self) { return self->width; }
int ts_mosaic_model_get_height(TsMosaicModel *self) { return self->height; }
const char *ts_mosaic_model_get_frame_state(TsMosaicModel *self) { return self->frame_state; }
GdkTexture *ts_mosaic_model_get_frame_picture(TsMosaicModel *self) { return self->frame_picture; }

gboolean ts_mosaic_model_frame_finished(TsMosaicModel *self)
{
    return strcmp(self->frame_state, "done") == 0;
}

TsTile *ts_mosaic_model_tile(TsMosaicModel *self, int index)
{
    return index >= 0 && (guint)index < self->tiles->len ? g_ptr_array_index(self->tiles, index) : NULL;
}

int ts_mosaic_model_count(TsMosaicModel *self, TsTileLook look)
{
    int n = 0;
    for (guint i = 0; i < self->tiles->len; i++)
        n += ts_tile_look(g_ptr_array_index(self->tiles, i)) == look;
    return n;
}

static void copy_str(char *dst, size_t cap, const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    g_strlcpy(dst, v ? v : "", cap);
}

static gboolean in_flight(const char *state)
{
    return strcmp(state, "queued") == 0 || strcmp(state, "assigned") == 0 || strcmp(state, "verifying") == 0;
}

/* A tile's picture goes when the tile no longer shows a verified result of the task it was fetched for. */
static void drop_stale_picture(TsTile *tile)
{
    TsTileLook look = ts_tile_look(tile);
    if (ts_tile_get_picture(tile) &&
        (ts_tile_get_picture_task(tile) != ts_tile_info(tile)->task || (look != TS_TILE_DONE && look != TS_TILE_CHECKING)))
        ts_tile_set_picture(tile, NULL, 0);
}

/* A tile from its entry in the master's view; TRUE when it changed. */
static gboolean tile_from_view(TsMosaicModel *self, TsTile *tile, const json_t *t)
{
    TsTileInfo *info = ts_tile_info_mut(tile), before = *info;
    gint64 task = json_integer_value(json_object_get(t, "task"));
    if (task < info->task)
        return FALSE; /* an event told of a newer task since this view was read */
    info->x = (int)json_integer_value(json_object_get(t, "x"));
    info->y = (int)json_integer_value(json_object_get(t, "y"));
    info->width = (int)json_integer_value(json_object_get(t, "width"));
    info->height = (int)json_integer_value(json_object_get(t, "height"));
    info->task = task;
    copy_str(info->state, sizeof info->state, t, "state");
    copy_str(info->node, sizeof info->node, t, "node");
    copy_str(info->node_name, sizeof info->node_name, t, "node_name");
    copy_str(info->verify, sizeof info->verify, t, "verify");
    const json_t *secs = json_object_get(t, "seconds");
    info->seconds = json_is_number(secs) ? json_number_value(secs) : -1;
    if (info->node[0] && info->node_name[0])
        g_hash_table_replace(self->node_names, g_strdup(info->node), g_strdup(info->node_name));
    info->check_running = FALSE;
    info->check_node_name[0] = info->check_verify[0] = '\0';
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(t, "checks"), i, c) {
        char state[16];
        copy_str(state, sizeof state, c, "state");
        info->check_running = in_flight(state); /* the last check decides: a tie-break follows a first check */
        copy_str(info->check_node_name, sizeof info->check_node_name, c, "node_name");
        copy_str(info->check_verify, sizeof info->check_verify, c, "verify");
    }
    drop_stale_picture(tile);
    return memcmp(&before, info, sizeof before) != 0;
}

TsMosaicChange ts_mosaic_model_apply_view(TsMosaicModel *self, const void *view_json)
{
    const json_t *view = view_json;
    if (!json_is_object(view) || json_integer_value(json_object_get(view, "job")) != self->job || self->job == 0 ||
        json_integer_value(json_object_get(view, "frame")) != self->frame)
        return TS_MOSAIC_NOTHING;
    TsMosaicChange change = TS_MOSAIC_NOTHING;
    int w = (int)json_integer_value(json_object_get(view, "width")), h = (int)json_integer_value(json_object_get(view, "height"));
    const char *state = json_string_value(json_object_get(view, "state"));
    if (w != self->width || h != self->height || (state && strcmp(state, self->frame_state) != 0)) {
        self->width = w;
        self->height = h;
        g_strlcpy(self->frame_state, state ? state : "", sizeof self->frame_state);
        change |= TS_MOSAIC_FRAME;
    }
    const json_t *tiles = json_object_get(view, "tiles");
    if (json_array_size(tiles) != self->tiles->len) {
        set_count(self, (guint)json_array_size(tiles));
        change |= TS_MOSAIC_TILES;
    }
    for (guint i = 0; i < self->tiles->len; i++)
        if (tile_from_view(self, g_ptr_array_index(self->tiles, i), json_array_get(tiles, i))) {
            g_list_model_items_changed(G_LIST_MODEL(self), i, 1, 1);
            change |= TS_MOSAIC_TILES;
        }
    if (change & TS_MOSAIC_FRAME)
        g_signal_emit(self, signals[SIGNAL_FRAME_CHANGED], 0);
    return change;
}

/* A spot check's event: the tile whose task it checks shows it running or over. */
static TsMosaicChange check_event(TsMosaicModel *self, gint64 check_of, const char *to)
{
    for (guint i = 0; i < self->tiles->len; i++) {
        TsTile *tile = g_ptr_array_index(self->tiles, i);
        TsTileInfo *info = ts_tile_info_mut(tile);
        if (info->task != check_of)
            continue;
        info->check_running = in_flight(to);
        g_list_model_items_changed(G_LIST_MODEL(self), i, 1, 1);
        /* the verdict (and the checker's name) come with the next view */
        return TS_MOSAIC_TILES | (info->check_running ? 0 : TS_MOSAIC_REFETCH);
    }
    return TS_MOSAIC_REFETCH;
}

static TsMosaicChange tile_event(TsMosaicModel *self, const json_t *ev, const char *to)
{
    json_int_t index = json_integer_value(json_object_get(ev, "tile"));
    gint64 task = json_integer_value(json_object_get(ev, "task"));
    TsTile *tile = ts_mosaic_model_tile(self, (int)index);
    if (!tile)
        return TS_MOSAIC_REFETCH; /* no view yet, or a plan the model does not know */
    TsTileInfo *info = ts_tile_info_mut(tile);
    if (task < info->task)
        return TS_MOSAIC_NOTHING; /* an older task of the tile (superseded) */
    if (task > info->task) {      /* a new task renders the tile: nothing of the old one holds */
        info->task = task;
        info->node[0] = info->node_name[0] = info->verify[0] = '\0';
        info->check_node_name[0] = info->check_verify[0] = '\0';
        info->check_running = FALSE;
        info->seconds = -1;
    }
    g_strlcpy(info->state, strcmp(to, "superseded") == 0 ? "queued" : to, sizeof info->state);
    const char *node = json_string_value(json_object_get(ev, "node"));
    if (node && node[0] && strcmp(node, info->node) != 0) {
        const char *name = g_hash_table_lookup(self->node_names, node);
        g_strlcpy(info->node, node, sizeof info->node);
        g_strlcpy(info->node_name, name ? name : "", sizeof info->node_name);
    }
    if (strcmp(to, "queued") == 0 || strcmp(to, "assigned") == 0)
        info->seconds = -1;
    drop_stale_picture(tile);
    g_list_model_items_changed(G_LIST_MODEL(self), (guint)index, 1, 1);
    /* the node's time and the verifier's word come with the next view */
    return TS_MOSAIC_TILES | (in_flight(to) ? 0 : TS_MOSAIC_REFETCH);
}

TsMosaicChange ts_mosaic_model_apply_event(TsMosaicModel *self, const void *event)
{
    const json_t *ev = event;
    if (self->job == 0 || json_integer_value(json_object_get(ev, "job")) != self->job)
        return TS_MOSAIC_NOTHING;
    const char *type = json_string_value(json_object_get(ev, "type")), *to = json_string_value(json_object_get(ev, "to"));
    if (!type || !to)
        return TS_MOSAIC_NOTHING;
    if (strcmp(type, "job") == 0)
        return TS_MOSAIC_REFETCH; /* the job ended, was paused or requeued: the view says what it means here */
    const char *kind = json_string_value(json_object_get(ev, "kind"));
    int frame = (int)json_integer_value(json_object_get(ev, "frame"));
    if (!kind || (strcmp(kind, "tile") != 0 && strcmp(kind, "finish") != 0))
        return TS_MOSAIC_NOTHING;
    if (frame != self->frame)
        return TS_MOSAIC_OTHER_FRAME;
    if (strcmp(kind, "finish") == 0) {
        if (json_integer_value(json_object_get(ev, "check_of")) != 0)
            return TS_MOSAIC_NOTHING; /* a finish's spot check: the frame is finished by its own finish */
        const char *state = strcmp(to, "done") == 0 ? "done" : in_flight(to) ? "finishing" : NULL;
        if (!state || strcmp(self->frame_state, state) == 0)
            return state ? TS_MOSAIC_NOTHING : TS_MOSAIC_REFETCH;
        g_strlcpy(self->frame_state, state, sizeof self->frame_state);
        g_signal_emit(self, signals[SIGNAL_FRAME_CHANGED], 0);
        return TS_MOSAIC_FRAME;
    }
    gint64 check_of = json_integer_value(json_object_get(ev, "check_of"));
    return check_of ? check_event(self, check_of, to) : tile_event(self, ev, to);
}

void ts_mosaic_model_set_frame_picture(TsMosaicModel *self, gint64 job, int frame, GdkTexture *picture)
{
    if (job != self->job || frame != self->frame)
        return;
    g_set_object(&self->frame_picture, picture);
    g_signal_emit(self, signals[SIGNAL_FRAME_CHANGED], 0);
}

void ts_mosaic_model_set_tile_picture(TsMosaicModel *self, gint64 job, int frame, int index, gint64 task,
                                      GdkTexture *picture)
{
    TsTile *tile = job == self->job && frame == self->frame ? ts_mosaic_model_tile(self, index) : NULL;
    if (!tile || ts_tile_info(tile)->task != task)
        return; /* the tile has moved on since the picture was asked for */
    ts_tile_set_picture(tile, picture, task);
    drop_stale_picture(tile);
    g_list_model_items_changed(G_LIST_MODEL(self), (guint)index, 1, 1);
}

char *ts_mosaic_model_summary(TsMosaicModel *self)
{
    if (self->job == 0)
        return g_strdup("no job shown");
    if (self->tiles->len == 0)
        return g_strdup_printf("job %" G_GINT64_FORMAT ", frame %d: waiting for its plan", self->job, self->frame);
    int n = (int)self->tiles->len, done = ts_mosaic_model_count(self, TS_TILE_DONE),
        checking = ts_mosaic_model_count(self, TS_TILE_CHECKING),
        flying = ts_mosaic_model_count(self, TS_TILE_RENDERING) + ts_mosaic_model_count(self, TS_TILE_VERIFYING);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "job %" G_GINT64_FORMAT ", frame %d: ", self->job, self->frame);
    if (ts_mosaic_model_frame_finished(self))
        g_string_append_printf(s, "finished (%d tiles)", n);
    else
        g_string_append_printf(s, "%d of %d tiles rendered, %d rendering, %d under a spot check%s", done + checking, n,
                               flying, checking, strcmp(self->frame_state, "finishing") == 0 ? ", finishing" : "");
    return g_string_free(s, FALSE);
}
