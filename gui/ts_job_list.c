/* ts_job_list: the artist's jobs, newest first, as a GListModel kept in step with the master's snapshots. */
#include "gui/ts_job_list.h"
#include <jansson.h>
#include <string.h>

struct _TsJobList {
    GObject parent;
    GPtrArray *jobs; /* TsJob, by id descending */
};

static GType get_item_type(GListModel *m) { return TS_TYPE_JOB; }
static guint get_n_items(GListModel *m) { return TS_JOB_LIST(m)->jobs->len; }
static gpointer get_item(GListModel *m, guint i)
{
    TsJobList *self = TS_JOB_LIST(m);
    return i < self->jobs->len ? g_object_ref(g_ptr_array_index(self->jobs, i)) : NULL;
}

static void model_init(GListModelInterface *iface)
{
    iface->get_item_type = get_item_type;
    iface->get_n_items = get_n_items;
    iface->get_item = get_item;
}

enum { SIG_JOB_ENDED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE_WITH_CODE(TsJobList, ts_job_list, G_TYPE_OBJECT,
                              G_IMPLEMENT_INTERFACE(G_TYPE_LIST_MODEL, model_init))

static void dispose(GObject *object)
{
    g_clear_pointer(&TS_JOB_LIST(object)->jobs, g_ptr_array_unref);
    G_OBJECT_CLASS(ts_job_list_parent_class)->dispose(object);
}

static void ts_job_list_class_init(TsJobListClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
    signals[SIG_JOB_ENDED] = g_signal_new("job-ended", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 1, TS_TYPE_JOB);
}

static void ts_job_list_init(TsJobList *self)
{
    self->jobs = g_ptr_array_new_with_free_func(g_object_unref);
}

TsJobList *ts_job_list_new(void)
{
    return g_object_new(TS_TYPE_JOB_LIST, NULL);
}

static const json_t *find_json(const json_t *jobs, gint64 id)
{
    size_t i;
    const json_t *j;
    json_array_foreach(jobs, i, j) if (json_integer_value(json_object_get(j, "id")) == id) return j;
    return NULL;
}

void ts_job_list_apply(TsJobList *self, const void *jobs_json)
{
    const json_t *jobs = jobs_json;
    if (!json_is_array(jobs))
        return;
    for (guint i = self->jobs->len; i-- > 0;) { /* gone from the master's list (another token, pruned) */
        TsJob *job = g_ptr_array_index(self->jobs, i);
        const json_t *j = find_json(jobs, ts_job_get_id(job));
        if (j) {
            gboolean was_open = ts_job_get_state(job)[0] && !ts_job_has_ended(job);
            ts_job_update(job, j);
            if (was_open && ts_job_has_ended(job))
                g_signal_emit(self, signals[SIG_JOB_ENDED], 0, job);
            continue;
        }
        g_ptr_array_remove_index(self->jobs, i);
        g_list_model_items_changed(G_LIST_MODEL(self), i, 1, 0);
    }
    size_t k;
    const json_t *j;
    json_array_foreach(jobs, k, j) {
        gint64 id = json_integer_value(json_object_get(j, "id"));
        if (id <= 0 || ts_job_list_find(self, id))
            continue;
        guint at = 0;
        while (at < self->jobs->len && ts_job_get_id(g_ptr_array_index(self->jobs, at)) > id)
            at++;
        g_ptr_array_insert(self->jobs, (gint)at, ts_job_new_from_json(j));
        g_list_model_items_changed(G_LIST_MODEL(self), at, 0, 1);
    }
}

TsJob *ts_job_list_find(TsJobList *self, gint64 id)
{
    for (guint i = 0; i < self->jobs->len; i++)
        if (ts_job_get_id(g_ptr_array_index(self->jobs, i)) == id)
            return g_ptr_array_index(self->jobs, i);
    return NULL;
}

TsJob *ts_job_list_newest_shown(TsJobList *self)
{
    TsJob *newest = NULL;
    for (guint i = 0; i < self->jobs->len; i++) {
        TsJob *job = g_ptr_array_index(self->jobs, i);
        if (strcmp(ts_job_get_kind(job), "render") != 0)
            continue;
        if (ts_job_is_running(job))
            return job;
        if (!newest)
            newest = job;
    }
    return newest;
}
