/* ts_filmstrip_model: the last finished frames of the shown job, with their small previews (see the header). */
#include "gui/ts_filmstrip_model.h"
#include <jansson.h>

/* ---- one frame ---- */

struct _TsFrameThumb {
    GObject parent;
    int frame;
    GdkTexture *picture;
};

enum { THUMB_PROP_0, THUMB_PROP_FRAME, THUMB_PROP_PICTURE, THUMB_N_PROPS };
static GParamSpec *thumb_props[THUMB_N_PROPS];

G_DEFINE_FINAL_TYPE(TsFrameThumb, ts_frame_thumb, G_TYPE_OBJECT)

static void thumb_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    TsFrameThumb *self = TS_FRAME_THUMB(object);
    switch (id) {
    case THUMB_PROP_FRAME: g_value_set_int(value, self->frame); break;
    case THUMB_PROP_PICTURE: g_value_set_object(value, self->picture); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void thumb_dispose(GObject *object)
{
    g_clear_object(&TS_FRAME_THUMB(object)->picture);
    G_OBJECT_CLASS(ts_frame_thumb_parent_class)->dispose(object);
}

static void ts_frame_thumb_class_init(TsFrameThumbClass *klass)
{
    GObjectClass *oc = G_OBJECT_CLASS(klass);
    oc->get_property = thumb_get_property;
    oc->dispose = thumb_dispose;
    GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
    thumb_props[THUMB_PROP_FRAME] = g_param_spec_int("frame", NULL, NULL, G_MININT, G_MAXINT, 0, ro);
    thumb_props[THUMB_PROP_PICTURE] = g_param_spec_object("picture", NULL, NULL, GDK_TYPE_TEXTURE, ro);
    g_object_class_install_properties(oc, THUMB_N_PROPS, thumb_props);
}

static void ts_frame_thumb_init(TsFrameThumb *self)
{
}

int ts_frame_thumb_get_frame(TsFrameThumb *self) { return self->frame; }
GdkTexture *ts_frame_thumb_get_picture(TsFrameThumb *self) { return self->picture; }

/* ---- the strip ---- */

struct _TsFilmstripModel {
    GObject parent;
    gint64 job;
    GPtrArray *thumbs; /* TsFrameThumb, by frame ascending */
};

static GType get_item_type(GListModel *m) { return TS_TYPE_FRAME_THUMB; }
static guint get_n_items(GListModel *m) { return TS_FILMSTRIP_MODEL(m)->thumbs->len; }
static gpointer get_item(GListModel *m, guint i)
{
    TsFilmstripModel *self = TS_FILMSTRIP_MODEL(m);
    return i < self->thumbs->len ? g_object_ref(g_ptr_array_index(self->thumbs, i)) : NULL;
}

static void model_init(GListModelInterface *iface)
{
    iface->get_item_type = get_item_type;
    iface->get_n_items = get_n_items;
    iface->get_item = get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE(TsFilmstripModel, ts_filmstrip_model, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, model_init))

static void dispose(GObject *object)
{
    g_clear_pointer(&TS_FILMSTRIP_MODEL(object)->thumbs, g_ptr_array_unref);
    G_OBJECT_CLASS(ts_filmstrip_model_parent_class)->dispose(object);
}

static void ts_filmstrip_model_class_init(TsFilmstripModelClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
}

static void ts_filmstrip_model_init(TsFilmstripModel *self)
{
    self->thumbs = g_ptr_array_new_with_free_func(g_object_unref);
}

TsFilmstripModel *ts_filmstrip_model_new(void)
{
    return g_object_new(TS_TYPE_FILMSTRIP_MODEL, NULL);
}

gint64 ts_filmstrip_model_get_job(TsFilmstripModel *self) { return self->job; }

static TsFrameThumb *find(TsFilmstripModel *self, int frame)
{
    for (guint i = 0; i < self->thumbs->len; i++) {
        TsFrameThumb *t = g_ptr_array_index(self->thumbs, i);
        if (t->frame == frame)
            return t;
    }
    return NULL;
}

static int by_frame(gconstpointer a, gconstpointer b)
{
    int fa = GPOINTER_TO_INT(*(gpointer const *)a), fb = GPOINTER_TO_INT(*(gpointer const *)b);
    return (fa > fb) - (fa < fb);
}

void ts_filmstrip_model_apply(TsFilmstripModel *self, gint64 job, const void *frames)
{
    guint before = self->thumbs->len;
    if (job != self->job) {
        self->job = job;
        g_ptr_array_set_size(self->thumbs, 0);
    }
    /* the finished frames, ascending; the window is the last of them */
    g_autoptr(GPtrArray) done = g_ptr_array_new();
    size_t i;
    const json_t *f;
    json_array_foreach((const json_t *)frames, i, f) {
        if (g_strcmp0(json_string_value(json_object_get(f, "state")), "done") == 0)
            g_ptr_array_add(done, GINT_TO_POINTER((int)json_integer_value(json_object_get(f, "frame"))));
    }
    g_ptr_array_sort(done, by_frame);
    guint first = done->len > TS_FILMSTRIP_WINDOW ? done->len - TS_FILMSTRIP_WINDOW : 0;
    gboolean same = done->len - first == self->thumbs->len && before == self->thumbs->len;
    for (guint k = first; same && k < done->len; k++)
        same = ((TsFrameThumb *)g_ptr_array_index(self->thumbs, k - first))->frame ==
               GPOINTER_TO_INT(g_ptr_array_index(done, k));
    if (same)
        return;
    GPtrArray *next = g_ptr_array_new_with_free_func(g_object_unref);
    for (guint k = first; k < done->len; k++) {
        int frame = GPOINTER_TO_INT(g_ptr_array_index(done, k));
        TsFrameThumb *kept = find(self, frame); /* keeps its picture */
        TsFrameThumb *t = kept ? g_object_ref(kept) : g_object_new(TS_TYPE_FRAME_THUMB, NULL);
        t->frame = frame;
        g_ptr_array_add(next, t);
    }
    g_ptr_array_unref(self->thumbs);
    self->thumbs = next;
    g_list_model_items_changed(G_LIST_MODEL(self), 0, before, next->len);
}

void ts_filmstrip_model_set_picture(TsFilmstripModel *self, gint64 job, int frame, GdkTexture *picture)
{
    TsFrameThumb *t = job == self->job ? find(self, frame) : NULL;
    if (!t || !g_set_object(&t->picture, picture))
        return;
    g_object_notify_by_pspec(G_OBJECT(t), thumb_props[THUMB_PROP_PICTURE]);
}

int ts_filmstrip_model_wanted(TsFilmstripModel *self, GHashTable *skip)
{
    for (guint i = self->thumbs->len; i-- > 0;) {
        TsFrameThumb *t = g_ptr_array_index(self->thumbs, i);
        if (!t->picture && !(skip && g_hash_table_contains(skip, GINT_TO_POINTER(t->frame))))
            return t->frame;
    }
    return -1;
}
