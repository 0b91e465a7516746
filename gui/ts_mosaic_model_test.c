/* ts_mosaic_model_test: replays a recorded event stream of a real farm (gui/testdata/mosaic-replay.sse: the master's
   GET /api/v1/events for one 2x2 render on two slaves, with the frame's view as the app fetched it after the plan
   recorded as `event: view`) through the model, and checks the tiles it ends with against the stream itself: each
   tile follows the newest task of its tile, ends done with its node, the frame finished. Then the edges the stream
   may not hold: a view older than an event never takes a tile back to an older task, a requeued tile loses its
   picture, another job's events and another frame's are told apart. */
#include "gui/ts_mosaic_model.h"
#include "lib/ts_sse.h"
#include "tests/ts_test.h"
#include <jansson.h>
#include <string.h>

#define REPLAY "gui/testdata/mosaic-replay.sse"
#define TILES_MAX 64

typedef struct {
    TsMosaicModel *model;
    gint64 job;           /* the stream's render job */
    int frame;
    int views, events;
    /* the stream's own account of each tile: its newest task, that task's last state and node */
    gint64 task[TILES_MAX];
    char state[TILES_MAX][16], node[TILES_MAX][65];
    int ntiles;
    int failures;
} replay_t;

static void on_event(void *ud, const char *type, const char *data, const char *id)
{
    replay_t *r = ud;
    json_t *o = json_loads(data, 0, NULL);
    if (!o)
        return;
    if (strcmp(type, "view") == 0) {
        if (r->job == 0) { /* the first view says which job and frame the app shows */
            r->job = json_integer_value(json_object_get(o, "job"));
            r->frame = (int)json_integer_value(json_object_get(o, "frame"));
            ts_mosaic_model_show(r->model, r->job, r->frame);
        }
        r->ntiles = (int)json_array_size(json_object_get(o, "tiles"));
        ts_mosaic_model_apply_view(r->model, o);
        r->views++;
    } else if (r->job) {
        ts_mosaic_model_apply_event(r->model, o);
        r->events++;
        const char *kind = json_string_value(json_object_get(o, "kind"));
        json_int_t tile = json_integer_value(json_object_get(o, "tile")), task = json_integer_value(json_object_get(o, "task"));
        if (kind && strcmp(kind, "tile") == 0 && json_integer_value(json_object_get(o, "job")) == r->job &&
            json_integer_value(json_object_get(o, "frame")) == r->frame &&
            !json_integer_value(json_object_get(o, "check_of")) && tile >= 0 && tile < TILES_MAX && task >= r->task[tile]) {
            r->task[tile] = task;
            g_strlcpy(r->state[tile], json_string_value(json_object_get(o, "to")), sizeof r->state[tile]);
            const char *node = json_string_value(json_object_get(o, "node"));
            if (node && node[0])
                g_strlcpy(r->node[tile], node, sizeof r->node[tile]);
        }
    }
    json_decref(o);
}

/* The recorded stream, replayed in pieces of 7 bytes (as a network cuts it). */
static int replay_recording(gboolean verbose)
{
    int failures = 0;
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(REPLAY, &text, &len, NULL)) {
        fprintf(stderr, "ts_mosaic_model_test: %s: cannot read (run from the source tree's top)\n", REPLAY);
        return 1;
    }
    replay_t r = {.model = ts_mosaic_model_new()};
    ts_sse_reader_t *reader = ts_sse_reader_new(on_event, &r);
    for (gsize at = 0; at < len; at += 7)
        ts_sse_reader_feed(reader, text + at, MIN(7, len - at));
    ts_sse_reader_destroy(&reader);
    TS_TEST_CHECK(r.views >= 1 && r.events > 10 && r.ntiles == 4, "the recording: %d views, %d events, %d tiles",
                  r.views, r.events, r.ntiles);
    for (int i = 0; i < r.ntiles; i++) {
        const TsTileInfo *t = ts_tile_info(ts_mosaic_model_tile(r.model, i));
        TS_TEST_CHECK(t->task == r.task[i] && strcmp(t->state, r.state[i]) == 0 && strcmp(t->node, r.node[i]) == 0,
                      "tile %d: task %" G_GINT64_FORMAT " %s on %.8s, the stream says %" G_GINT64_FORMAT " %s on %.8s",
                      i, t->task, t->state, t->node, r.task[i], r.state[i], r.node[i]);
        TS_TEST_CHECK(strcmp(t->state, "done") == 0 && t->node[0] && !t->check_running, "tile %d ends done", i);
        TS_TEST_CHECK(t->node_name[0], "tile %d knows its node's name from the view", i);
    }
    TS_TEST_CHECK(ts_mosaic_model_frame_finished(r.model), "the frame is finished");
    TS_TEST_CHECK(ts_mosaic_model_count(r.model, TS_TILE_DONE) == 4, "4 tiles done");
    g_autofree char *summary = ts_mosaic_model_summary(r.model);
    TS_TEST_CHECK(strstr(summary, "finished"), "summary: %s", summary);
    if (verbose)
        printf("mosaic: replayed %d events and %d views: %s\n", r.events, r.views, summary);
    g_object_unref(r.model);
    return failures;
}

static json_t *tile_event(gint64 job, int frame, int tile, gint64 task, const char *from, const char *to,
                          const char *node, gint64 check_of)
{
    json_t *e = json_pack("{s:s,s:I,s:s,s:I,s:s,s:i,s:i,s:s,s:s}", "type", "task", "job", (json_int_t)job, "kind",
                          "tile", "task", (json_int_t)task, "to", to, "frame", frame, "tile", tile, "node", node, "from",
                          from);
    if (check_of)
        json_object_set_new(e, "check_of", json_integer(check_of));
    return e;
}

static json_t *view(gint64 job, int frame, gint64 task0, const char *state0, const char *verify0)
{
    return json_pack("{s:I,s:i,s:s,s:i,s:i,s:[{s:i,s:i,s:i,s:i,s:i,s:I,s:s,s:s,s:s,s:f,s:s,s:[]},"
                     "{s:i,s:i,s:i,s:i,s:i,s:I,s:s,s:s,s:s,s:n,s:s,s:[]}]}",
                     "job", (json_int_t)job, "frame", frame, "state", "rendering", "width", 8, "height", 4, "tiles",
                     "tile", 0, "x", 0, "y", 0, "width", 4, "height", 4, "task", (json_int_t)task0, "state", state0,
                     "node", "n1", "node_name", "one", "seconds", 1.5, "verify", verify0, "checks",
                     "tile", 1, "x", 4, "y", 0, "width", 4, "height", 4, "task", (json_int_t)11, "state", "queued",
                     "node", "", "node_name", "", "seconds", "verify", "", "checks");
}

/* Views and events out of order, pictures, other jobs and frames. */
static int edges(void)
{
    int failures = 0;
    TsMosaicModel *m = ts_mosaic_model_new();
    ts_mosaic_model_show(m, 7, 3);
    json_t *v = view(7, 3, 10, "done", "unchecked");
    TS_TEST_CHECK(ts_mosaic_model_apply_view(m, v) & TS_MOSAIC_TILES, "the first view sets the tiles");
    json_decref(v);
    TsTile *t0 = ts_mosaic_model_tile(m, 0);
    TS_TEST_CHECK(ts_tile_wants_picture(t0), "a verified tile wants its picture");
    g_autoptr(GBytes) black = g_bytes_new_static("\0\0\0", 3);
    GdkTexture *pic = gdk_memory_texture_new(1, 1, GDK_MEMORY_R8G8B8, black, 3);
    ts_mosaic_model_set_tile_picture(m, 7, 3, 0, 10, pic);
    TS_TEST_CHECK(ts_tile_get_picture(t0) == pic && !ts_tile_wants_picture(t0), "the picture is kept");
    ts_mosaic_model_set_tile_picture(m, 7, 3, 1, 99, pic);
    TS_TEST_CHECK(!ts_tile_get_picture(ts_mosaic_model_tile(m, 1)), "a picture of another task is dropped");

    /* a spot check runs, then the tile is rendered again by a new task (its node failed a check) */
    json_t *e = tile_event(7, 3, 0, 12, "", "queued", "", 10);
    TS_TEST_CHECK(ts_mosaic_model_apply_event(m, e) == TS_MOSAIC_TILES && ts_tile_look(t0) == TS_TILE_CHECKING,
                  "a queued check marks its tile");
    json_decref(e);
    e = tile_event(7, 3, 0, 13, "", "queued", "", 0);
    ts_mosaic_model_apply_event(m, e);
    json_decref(e);
    TS_TEST_CHECK(ts_tile_info(t0)->task == 13 && ts_tile_look(t0) == TS_TILE_WAITING && !ts_tile_get_picture(t0) &&
                      !ts_tile_info(t0)->node[0],
                  "a new task: waiting, no picture, no node");
    e = tile_event(7, 3, 0, 13, "queued", "assigned", "n2", 0);
    TS_TEST_CHECK(ts_mosaic_model_apply_event(m, e) == TS_MOSAIC_TILES && ts_tile_look(t0) == TS_TILE_RENDERING,
                  "assigned: outlined in flight, no fetch needed");
    json_decref(e);
    TS_TEST_CHECK(strcmp(ts_tile_info(t0)->node_name, "") == 0, "n2's name is not known yet");

    /* a view read before those events arrives late: the tile keeps its newer task */
    v = view(7, 3, 10, "done", "passed");
    ts_mosaic_model_apply_view(m, v);
    json_decref(v);
    TS_TEST_CHECK(ts_tile_info(t0)->task == 13 && ts_tile_look(t0) == TS_TILE_RENDERING, "no step back to task 10");
    e = tile_event(7, 3, 0, 10, "done", "superseded", "n1", 0);
    TS_TEST_CHECK(ts_mosaic_model_apply_event(m, e) == TS_MOSAIC_NOTHING, "the old task's news is ignored");
    json_decref(e);

    e = tile_event(8, 3, 0, 50, "", "queued", "", 0);
    TS_TEST_CHECK(ts_mosaic_model_apply_event(m, e) == TS_MOSAIC_NOTHING, "another job's event");
    json_decref(e);
    e = tile_event(7, 4, 0, 51, "queued", "assigned", "n1", 0);
    TS_TEST_CHECK(ts_mosaic_model_apply_event(m, e) == TS_MOSAIC_OTHER_FRAME, "the next frame starts");
    json_decref(e);
    e = tile_event(7, 3, 5, 52, "", "queued", "", 0);
    TS_TEST_CHECK(ts_mosaic_model_apply_event(m, e) == TS_MOSAIC_REFETCH, "a tile the model does not know");
    json_decref(e);
    json_t *fin = json_pack("{s:s,s:I,s:s,s:I,s:s,s:i,s:i,s:s}", "type", "task", "job", (json_int_t)7, "kind", "finish",
                            "task", (json_int_t)60, "to", "done", "frame", 3, "tile", 0, "node", "n1");
    TS_TEST_CHECK(ts_mosaic_model_apply_event(m, fin) == TS_MOSAIC_FRAME && ts_mosaic_model_frame_finished(m),
                  "the finish done: the frame is finished");
    json_decref(fin);
    ts_mosaic_model_show(m, 9, 1);
    TS_TEST_CHECK(g_list_model_get_n_items(G_LIST_MODEL(m)) == 0 && !ts_mosaic_model_frame_finished(m),
                  "another job: nothing of the last one is held");
    g_object_unref(pic);
    g_object_unref(m);
    return failures;
}

int ts_mosaic_model_test(gboolean verbose)
{
    int failures = replay_recording(verbose);
    failures += edges();
    return failures ? -1 : 0;
}
