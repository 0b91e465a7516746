/* ts_check (master side): the verifier's facts about a task's result, from the store's rows and the blob store. */
#include "master/ts_check.h"
#include <jansson.h>
#include <libavcodec/avcodec.h>
#include <stdio.h>
#include <string.h>

#define TILE_FORMAT "exr" /* tiles are float RGBA OpenEXR (docs/blender-notes.md, "tile") */

int ts_task_facts(ts_blobs_t *blobs, const ts_job_t *j, const ts_task_t *t, ts_task_facts_t *f, char *why, size_t cap)
{
    memset(f, 0, sizeof *f);
    ts_result_facts_t *r = &f->facts;
    r->kind = t->kind;
    r->size = (long long)t->result_size;
    r->hash = t->result;
    r->dclass = t->dclass;
    if (ts_hash_valid(t->result)) {
        ts_blobs_path(blobs, t->result, f->path, sizeof f->path);
        r->path = f->path;
    }
    const ts_kind_t *kind = ts_kind_get(t->kind);
    ts_kind_result_t what = kind ? kind->result : TS_KIND_RESULT_NONE;
    if (what == TS_KIND_RESULT_TILE) {
        r->width = t->x1 - t->x0;
        r->height = t->y1 - t->y0;
        r->x = t->x0;
        r->y = t->y0;
        r->format = TILE_FORMAT;
    } else if (what == TS_KIND_RESULT_FRAME) {
        r->width = j->width;
        r->height = j->height;
        r->format = j->ext; /* the frame's file type: the job's format or the scene's own */
    } else if (what == TS_KIND_RESULT_VIDEO) {
        json_t *params = json_loads(t->params, 0, NULL);
        if (!params) {
            snprintf(why, cap, "task %lld has no encoder settings", (long long)t->id);
            return -1;
        }
        r->width = (int)json_integer_value(json_object_get(params, "width"));
        r->height = (int)json_integer_value(json_object_get(params, "height"));
        r->tb_num = (int)json_integer_value(json_object_get(params, "tb_num"));
        r->tb_den = (int)json_integer_value(json_object_get(params, "tb_den"));
        const char *vcodec = json_string_value(json_object_get(params, "vcodec"));
        const AVCodec *enc = vcodec ? avcodec_find_encoder_by_name(vcodec) : NULL;
        if (enc)
            snprintf(f->codec, sizeof f->codec, "%s", avcodec_get_name(enc->id));
        json_decref(params);
        r->codec = f->codec;
        ts_blobs_path(blobs, t->input_hash, f->input, sizeof f->input);
        r->input = f->input;
        r->start_pts = t->start_pts;
        r->end_pts = t->end_pts;
    }
    return 0;
}
