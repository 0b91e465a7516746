/* ts_filmstrip_model_test: only finished frames are items, at most the last TS_FILMSTRIP_WINDOW of a long job;
   pictures stay with their frames across snapshots, leave with them, and never land on another job. */
#include "gui/ts_filmstrip_model.h"
#include "tests/ts_test.h"
#include <jansson.h>

/* The master's "frames" of a job of n frames, 1..n, the first done ones "done", the rest "rendering". */
static json_t *frames_json(int n, int done)
{
    json_t *arr = json_array();
    for (int f = n; f >= 1; f--) /* any order: the model sorts */
        json_array_append_new(arr, json_pack("{s:i,s:s}", "frame", f, "state", f <= done ? "done" : "rendering"));
    return arr;
}

static int frame_at(TsFilmstripModel *m, guint i)
{
    g_autoptr(TsFrameThumb) t = g_list_model_get_item(G_LIST_MODEL(m), i);
    return t ? ts_frame_thumb_get_frame(t) : -1;
}

static guint pictures(TsFilmstripModel *m)
{
    guint n = 0;
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(m)); i++) {
        g_autoptr(TsFrameThumb) t = g_list_model_get_item(G_LIST_MODEL(m), i);
        n += ts_frame_thumb_get_picture(t) != NULL;
    }
    return n;
}

int ts_filmstrip_model_test(gboolean verbose)
{
    int failures = 0;
    static const guchar black[3] = {0};
    g_autoptr(GBytes) px = g_bytes_new_static(black, sizeof black);
    g_autoptr(GdkTexture) pic = gdk_memory_texture_new(1, 1, GDK_MEMORY_R8G8B8, px, 3);
    g_autoptr(TsFilmstripModel) m = ts_filmstrip_model_new();
    GListModel *lm = G_LIST_MODEL(m);

    json_t *a = frames_json(10, 3);
    ts_filmstrip_model_apply(m, 7, a);
    TS_TEST_CHECK(g_list_model_get_n_items(lm) == 3 && frame_at(m, 0) == 1 && frame_at(m, 2) == 3,
                  "three done frames of ten, in order: %u items", g_list_model_get_n_items(lm));
    TS_TEST_CHECK(ts_filmstrip_model_wanted(m, NULL) == 3, "the newest frame is fetched first");
    g_autoptr(GHashTable) skip = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_hash_table_add(skip, GINT_TO_POINTER(3));
    TS_TEST_CHECK(ts_filmstrip_model_wanted(m, skip) == 2, "a frame on its way is not asked again");
    ts_filmstrip_model_set_picture(m, 7, 2, pic);
    ts_filmstrip_model_set_picture(m, 8, 1, pic); /* another job's: ignored */
    TS_TEST_CHECK(pictures(m) == 1, "one picture, for job 7's frame 2: %u", pictures(m));

    json_t *b = frames_json(10, 4);
    ts_filmstrip_model_apply(m, 7, b);
    TS_TEST_CHECK(g_list_model_get_n_items(lm) == 4 && pictures(m) == 1, "frame 4 joins, frame 2 keeps its picture");

    json_t *big = frames_json(500, 500);
    ts_filmstrip_model_apply(m, 7, big);
    TS_TEST_CHECK(g_list_model_get_n_items(lm) == TS_FILMSTRIP_WINDOW && frame_at(m, 0) == 500 - TS_FILMSTRIP_WINDOW + 1 &&
                  frame_at(m, TS_FILMSTRIP_WINDOW - 1) == 500, "a 500-frame job: the last %d frames (%u, from %d)",
                  TS_FILMSTRIP_WINDOW, g_list_model_get_n_items(lm), frame_at(m, 0));
    TS_TEST_CHECK(pictures(m) == 0, "frame 2 left the window with its picture");
    for (int f = 1; f <= 500; f++)
        ts_filmstrip_model_set_picture(m, 7, f, pic);
    TS_TEST_CHECK(pictures(m) == TS_FILMSTRIP_WINDOW, "pictures held: %u, at most the window", pictures(m));
    TS_TEST_CHECK(ts_filmstrip_model_wanted(m, NULL) == -1, "nothing more to fetch");

    ts_filmstrip_model_apply(m, 9, a);
    TS_TEST_CHECK(g_list_model_get_n_items(lm) == 3 && pictures(m) == 0 && ts_filmstrip_model_get_job(m) == 9,
                  "another job: its own frames, no pictures of the last");
    ts_filmstrip_model_apply(m, 9, NULL);
    TS_TEST_CHECK(g_list_model_get_n_items(lm) == 0, "no frames: an empty strip");
    json_decref(a);
    json_decref(b);
    json_decref(big);
    if (verbose)
        printf("filmstrip: ok\n");
    return failures ? -1 : 0;
}
