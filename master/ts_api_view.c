/* ts_api_view: the mosaic's routes for the artists' app: path parsing, the store's views, tiles and finished frames
   re-encoded as 8-bit sRGB PNGs by the master (see ts_api_view.h). */
#include "master/ts_api_view.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "master/ts_store_view.h"
#include "splitter/ts_image.h"
#include "splitter/ts_sheet.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRAME_DIGITS_MAX 9               /* a frame number's digits (Blender's frames are within +-1,048,574) */
#define TILE_PREVIEW_PIXELS_MAX (4 << 20) /* a tile re-encoded whole: its float pixels are held at once (64 MiB) */
#define PNG_MAX (256u << 20)             /* a preview read back (a 4096 x 4096 RGB PNG is at most ~50 MiB) */
#define HTTP_OK 200
#define HTTP_NOT_FOUND 404
#define HTTP_CONFLICT 409
#define HTTP_BAD 400
#define HTTP_ERROR 500

/* A whole decimal number of at most digits digits (a '-' first when negative is allowed) at the start of *p; moves
   *p past it. -1 when there is none, it has a leading zero or too many digits. */
static int number(const char **p, bool negative, int digits, int *out)
{
    const char *s = *p;
    bool minus = negative && *s == '-';
    s += minus;
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > (size_t)digits || (n > 1 && s[0] == '0'))
        return -1;
    long v = strtol(s, NULL, 10);
    *out = (int)(minus ? -v : v);
    *p = s + n;
    return 0;
}

int ts_view_parse(const char *rest, const char *max, ts_view_request_t *req)
{
    memset(req, 0, sizeof *req);
    if (strncmp(rest, "/frames", 7) != 0 || (rest[7] != '\0' && rest[7] != '/'))
        return 0;
    const char *p = rest + 7;
    if (*p == '\0') {
        req->route = TS_VIEW_FRAMES;
        return 1;
    }
    p++;
    if (number(&p, true, FRAME_DIGITS_MAX, &req->frame) < 0)
        return ts_error_set("frame '%.32s': not a frame number", rest + 8);
    if (*p == '\0') {
        req->route = TS_VIEW_FRAME;
        return 1;
    }
    if (strcmp(p, "/preview.png") == 0) {
        req->route = TS_VIEW_PREVIEW_PNG;
        req->max = TS_VIEW_DEFAULT_SIDE;
        if (max) {
            const char *m = max;
            if (number(&m, false, 4, &req->max) < 0 || *m || req->max < 1 || req->max > TS_VIEW_MAX_SIDE)
                return ts_error_set("parameter max '%.32s': a preview's side in pixels, 1 to %d", max,
                                    TS_VIEW_MAX_SIDE);
        }
        return 1;
    }
    if (strncmp(p, "/tiles/", 7) == 0) {
        p += 7;
        if (number(&p, false, 4, &req->tile) < 0 || strcmp(p, ".png") != 0)
            return ts_error_set("tile '%.32s': not a tile's PNG (tiles/N.png)", p);
        req->route = TS_VIEW_TILE_PNG;
        return 1;
    }
    return ts_error_set("'%.64s': no such view of a frame (tiles/N.png, preview.png)", p);
}

static void reply_error(ts_view_reply_t *reply, unsigned status, const char *msg)
{
    reply->status = status;
    reply->json = json_pack("{s:s}", "error", msg);
}

static void reply_json(ts_view_reply_t *reply, json_t *json)
{
    if (!json) {
        reply_error(reply, HTTP_ERROR, ts_error());
        return;
    }
    reply->status = HTTP_OK;
    reply->json = json;
}

/* Temporary files for one preview, in the blob store's tmp folder (cleared at the master's start). */
typedef struct {
    char base[PATH_MAX], exr[PATH_MAX + 8], png[PATH_MAX + 8];
} scratch_t;

static int scratch_new(const ts_blobs_t *blobs, scratch_t *s)
{
    int fd = ts_blobs_tmp(blobs, s->base, sizeof s->base);
    if (fd < 0)
        return -1;
    close(fd);
    snprintf(s->exr, sizeof s->exr, "%s.exr", s->base);
    snprintf(s->png, sizeof s->png, "%s.png", s->base);
    return 0;
}

static void scratch_remove(const scratch_t *s)
{
    unlink(s->exr);
    unlink(s->png);
    unlink(s->base);
}

/* The PNG written at path into the reply. */
static int png_reply(const char *path, ts_view_reply_t *reply)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (ts_file_read(path, PNG_MAX, 0, &data, &len) < 0)
        return -1;
    reply->status = HTTP_OK;
    reply->png = data;
    reply->png_len = len;
    return 0;
}

/* Channel i of the file as R, G, B, A (by the names "R" or "<layer>.R"...); -1 when a colour is not named. */
static void rgba_order(const ts_image_reader_t *r, int nch, int order[4])
{
    static const char WANT[] = "RGBA";
    for (int k = 0; k < 4; k++) {
        order[k] = k; /* unnamed: the file's order */
        for (int i = 0; i < nch; i++) {
            const char *n = ts_image_reader_channel(r, i);
            size_t len = strlen(n);
            if (len >= 1 && n[len - 1] == WANT[k] && (len == 1 || n[len - 2] == '.'))
                order[k] = i;
        }
    }
}

/* A verified tile result (float RGBA OpenEXR of its render rectangle) cropped to the tile's own pixels and written
   as an 8-bit sRGB PNG at s->png, through ts_sheet_thumb at the tile's own size (1:1). */
static int tile_png(const char *blob, const ts_store_rect_t *render, const ts_store_rect_t *own, const scratch_t *s)
{
    int rw = render->x1 - render->x0, rh = render->y1 - render->y0;
    int ow = own->x1 - own->x0, oh = own->y1 - own->y0;
    if ((long long)ow * oh > TILE_PREVIEW_PIXELS_MAX)
        return ts_error_set("the tile is %dx%d pixels: previews are made of tiles up to %d pixels (ask for the "
                            "frame's preview once it is finished)", ow, oh, TILE_PREVIEW_PIXELS_MAX);
    ts_image_reader_t *r = ts_image_reader_open_as(blob, "openexr");
    if (!r)
        return -1;
    int w, h, nch, order[4];
    ts_image_reader_size(r, &w, &h, &nch);
    if (w != rw || h != rh || nch != 4 || own->x0 < render->x0 || own->x1 > render->x1 || own->y0 < render->y0 ||
        own->y1 > render->y1) {
        ts_image_reader_destroy(&r);
        return ts_error_set("the tile's result is %dx%d with %d channels, not its %dx%d RGBA rectangle", w, h, nch,
                            rw, rh);
    }
    rgba_order(r, nch, order);
    float *rows = malloc((size_t)w * oh * 4 * sizeof *rows), *out = malloc((size_t)ow * oh * 4 * sizeof *out);
    int top = render->y1 - own->y1; /* the file's row 0 is the rectangle's top row */
    int rc = rows && out ? ts_image_reader_rows(r, top, top + oh, rows) : ts_error_set("out of memory");
    ts_image_reader_destroy(&r);
    for (int y = 0; rc == 0 && y < oh; y++)
        for (int x = 0; x < ow; x++)
            for (int k = 0; k < 4; k++)
                out[((size_t)y * ow + x) * 4 + k] = rows[((size_t)y * w + (own->x0 - render->x0) + x) * 4 + order[k]];
    free(rows);
    if (rc == 0)
        rc = ts_image_write(s->exr, ow, oh, 4, out);
    free(out);
    return rc == 0 ? ts_sheet_thumb(s->exr, ow, oh, s->png) : -1;
}

static void answer_tile(ts_store_t *store, const ts_blobs_t *blobs, const ts_job_t *job, const ts_view_request_t *req,
                        ts_view_reply_t *reply)
{
    char hash[TS_HASH_HEX], blob[PATH_MAX], msg[512];
    ts_store_rect_t render, own;
    int found = ts_store_view_tile_result(store, job, req->frame, req->tile, hash, &render, &own);
    if (found != 1) {
        snprintf(msg, sizeof msg, "job %lld frame %d tile %d: %s", (long long)job->id, req->frame, req->tile,
                 found < 0 ? ts_error() : "no verified result yet");
        reply_error(reply, found < 0 ? HTTP_ERROR : HTTP_NOT_FOUND, msg);
        return;
    }
    ts_blobs_path(blobs, hash, blob, sizeof blob);
    scratch_t s;
    int rc = scratch_new(blobs, &s);
    if (rc == 0) {
        rc = tile_png(blob, &render, &own, &s);
        rc = rc == 0 ? png_reply(s.png, reply) : rc;
        scratch_remove(&s);
    }
    if (rc < 0) {
        snprintf(msg, sizeof msg, "job %lld frame %d tile %d: %s", (long long)job->id, req->frame, req->tile,
                 ts_error());
        reply_error(reply, HTTP_ERROR, msg);
    }
}

/* The largest size of the image's aspect inside max x max, never larger than the image. */
static void fit_inside(int w, int h, int max, int *fw, int *fh)
{
    double scale = fmin(1.0, fmin((double)max / w, (double)max / h));
    *fw = (int)fmax(1.0, lround(w * scale));
    *fh = (int)fmax(1.0, lround(h * scale));
}

static void answer_preview(ts_store_t *store, const ts_blobs_t *blobs, const ts_job_t *job,
                           const ts_view_request_t *req, ts_view_reply_t *reply)
{
    char hash[TS_HASH_HEX], blob[PATH_MAX], msg[512], name[64];
    int found = ts_store_output(store, job->id, req->frame, hash);
    if (found != 1) {
        snprintf(msg, sizeof msg, "job %lld frame %d: %s", (long long)job->id, req->frame,
                 found < 0 ? ts_error() : "not finished");
        reply_error(reply, found < 0 ? HTTP_ERROR : HTTP_NOT_FOUND, msg);
        return;
    }
    ts_blobs_path(blobs, hash, blob, sizeof blob);
    snprintf(name, sizeof name, "frame %d's output", req->frame);
    int w, h, fw, fh;
    scratch_t s;
    int rc = ts_sheet_probe(blob, name, &w, &h);
    if (rc == 0 && (rc = scratch_new(blobs, &s)) == 0) {
        fit_inside(w, h, req->max, &fw, &fh);
        rc = ts_sheet_thumb(blob, fw, fh, s.png) == 0 ? png_reply(s.png, reply) : -1;
        scratch_remove(&s);
    }
    if (rc < 0) {
        snprintf(msg, sizeof msg, "job %lld frame %d: preview: %s", (long long)job->id, req->frame, ts_error());
        reply_error(reply, HTTP_ERROR, msg);
    }
}

void ts_view_answer(ts_store_t *store, const ts_blobs_t *blobs, const ts_job_t *job, const ts_view_request_t *req,
                    ts_view_reply_t *reply)
{
    char msg[256];
    memset(reply, 0, sizeof *reply);
    if (strcmp(job->type, "render") != 0) {
        snprintf(msg, sizeof msg, "job %lld is a %s job: frames and tiles are a render's", (long long)job->id,
                 job->type);
        reply_error(reply, HTTP_CONFLICT, msg);
        return;
    }
    json_t *view = NULL;
    int found;
    switch (req->route) {
    case TS_VIEW_FRAMES:
        reply_json(reply, ts_store_view_frames(store, job));
        return;
    case TS_VIEW_FRAME:
        found = ts_store_view_frame(store, job, req->frame, &view);
        if (found == 1) {
            reply_json(reply, view);
            return;
        }
        snprintf(msg, sizeof msg, "job %lld: %s", (long long)job->id,
                 found < 0 ? ts_error() : job->width > 0 ? "no such frame" : "not planned yet (its probe runs first)");
        reply_error(reply, found < 0 ? HTTP_ERROR : HTTP_NOT_FOUND, msg);
        return;
    case TS_VIEW_TILE_PNG:
        answer_tile(store, blobs, job, req, reply);
        return;
    case TS_VIEW_PREVIEW_PNG:
        answer_preview(store, blobs, job, req, reply);
        return;
    }
    reply_error(reply, HTTP_BAD, "unknown view");
}

void ts_view_reply_free(ts_view_reply_t *reply)
{
    json_decref(reply->json);
    free(reply->png);
    memset(reply, 0, sizeof *reply);
}
