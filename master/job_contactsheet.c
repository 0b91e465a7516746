/* job_contactsheet: the contact sheet job type: images (a finished render's frames, a shoot's stills) scaled into
   thumbnails by the slaves and laid out in one sheet by the master, for a studio's dailies and reviews.
   DESIGN: every image is one task (TS_KIND_THUMB) with its own input, planned at submit: the master reads each
   image's header (splitter/ts_sheet: by its format's reader only) and refuses what is not a PNG, JPEG, OpenEXR or
   TIFF image with a 400 naming the file. A thumbnail is an image of exactly the cell's size, so the verifier checks
   it as a frame of the job (the job's width and height are the cell's) and spot checks compare two by their pixels.
   The sheet is joined on the master from the accepted thumbnails, in the manifest's order. */
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_request.h"
#include "master/ts_jobtype.h"
#include "splitter/ts_sheet.h"
#include "tests/ts_test.h"
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COLUMNS_DEFAULT 4
#define COLUMNS_MAX 64
#define CELL_DEFAULT "320x180"
#define CELL_MIN 16
#define CELL_MAX 2048
#define SHEET_MAX 16384      /* pixels a side of the whole sheet */
#define SHEET_FORMAT "png"

/* "WxH" with whole numbers in CELL_MIN..CELL_MAX. */
static int parse_cell(const char *text, int *w, int *h)
{
    long v[2] = {0, 0};
    const char *p = text;
    for (int i = 0; i < 2; i++) {
        if (!isdigit((unsigned char)*p))
            return ts_error_set("'%s': expected WIDTHxHEIGHT in pixels, such as %s", text, CELL_DEFAULT);
        for (; isdigit((unsigned char)*p); p++) /* saturates above the bound: the range check names it */
            v[i] = v[i] > CELL_MAX ? v[i] : v[i] * 10 + (*p - '0');
        if (i == 0 && *p++ != 'x')
            return ts_error_set("'%s': expected WIDTHxHEIGHT in pixels, such as %s", text, CELL_DEFAULT);
    }
    if (*p)
        return ts_error_set("'%s': expected WIDTHxHEIGHT in pixels, such as %s", text, CELL_DEFAULT);
    if (v[0] < CELL_MIN || v[0] > CELL_MAX || v[1] < CELL_MIN || v[1] > CELL_MAX)
        return ts_error_set("'%s': a cell is %d..%d pixels a side", text, CELL_MIN, CELL_MAX);
    *w = (int)v[0];
    *h = (int)v[1];
    return 0;
}

static int parse(json_t *o, ts_job_request_t *req)
{
    if (req->ninputs == 0)
        return ts_error_set("field 'inputs' is required: the images, [{\"name\", \"hash\"}]");
    char cell[32];
    int w = 0, h = 0;
    long long columns = COLUMNS_DEFAULT;
    json_t *c = json_object_get(o, "columns");
    if (c && !json_is_null(c)) {
        if (!json_is_integer(c))
            return ts_error_set("field 'columns' must be a whole number");
        columns = json_integer_value(c);
    }
    if (columns < 1 || columns > COLUMNS_MAX)
        return ts_error_set("field 'columns': %lld is out of range 1..%d", columns, COLUMNS_MAX);
    if (ts_request_json_string(o, "cell", CELL_DEFAULT, cell, sizeof cell) < 0)
        return -1;
    if (parse_cell(cell, &w, &h) < 0)
        return ts_error_prefix("field 'cell'");
    long long cols = columns < req->ninputs ? columns : req->ninputs, rows = (req->ninputs + columns - 1) / columns;
    if (cols * w > SHEET_MAX || rows * h > SHEET_MAX)
        return ts_error_set("field 'cell': %d images of %dx%d in %lld columns make a sheet of %lldx%lld pixels, more "
                            "than %d a side", req->ninputs, w, h, columns, cols * w, rows * h, SHEET_MAX);
    req->tiles_x = (int)cols;
    req->tiles_y = (int)rows;
    req->out_width = w;
    req->out_height = h;
    snprintf(req->settings, sizeof req->settings, "{\"columns\":%d,\"cell_width\":%d,\"cell_height\":%d}", req->tiles_x,
             w, h);
    snprintf(req->scene, sizeof req->scene, "%s", req->inputs[0].hash);
    snprintf(req->scene_name, sizeof req->scene_name, "a contact sheet of %d image%s", req->ninputs,
             req->ninputs == 1 ? "" : "s");
    return 0;
}

static int64_t create(const ts_jobtype_ctx_t *ctx, const ts_job_request_t *req, bool *input_error)
{
    ts_store_segment_t *pieces = calloc((size_t)req->ninputs, sizeof *pieces);
    *input_error = true;
    int rc = pieces ? 0 : ts_error_set("out of memory");
    for (int i = 0; rc == 0 && i < req->ninputs; i++) {
        char path[PATH_MAX];
        int w, h;
        ts_blobs_path(ctx->blobs, req->inputs[i].hash, path, sizeof path);
        rc = ts_sheet_probe(path, req->inputs[i].name, &w, &h);
        snprintf(pieces[i].hash, sizeof pieces[i].hash, "%s", req->inputs[i].hash);
    }
    int64_t id = rc;
    if (rc == 0) {
        ts_store_pieces_job_t job = {.type = "contactsheet", .kind = TS_KIND_THUMB, .width = req->out_width,
                                     .height = req->out_height, .tiles_x = req->tiles_x, .tiles_y = req->tiles_y,
                                     .format = SHEET_FORMAT, .ext = SHEET_FORMAT, .params = req->settings};
        id = ts_store_job_create_pieces(ctx->store, req, &job, pieces, req->ninputs);
        *input_error = id == TS_STORE_REFUSED;
    }
    if (id > 0)
        ts_info("job %lld submitted: %s, %dx%d cells in %d columns", (long long)id, req->scene_name, req->out_width,
                req->out_height, req->tiles_x);
    free(pieces);
    return id;
}

/* Every thumbnail is accepted: they become the sheet, in the manifest's order. */
static int join(const ts_jobtype_ctx_t *ctx, const ts_job_t *job, int frame)
{
    int count = 0;
    char **paths = ts_jobtype_piece_paths(ctx, job->id, frame, TS_KIND_THUMB, &count);
    char out[PATH_MAX] = "";
    int rc = paths ? 0 : -1;
    if (rc == 0)
        rc = ts_jobtype_tmp_path(ctx->blobs, out, sizeof out, SHEET_FORMAT);
    if (rc == 0)
        rc = ts_sheet_compose((const char *const *)paths, count, job->tiles_x, job->width, job->height, out);
    if (rc == 0)
        rc = ts_jobtype_store_output(ctx, job->id, frame, out);
    if (rc == 0)
        ts_info("job %lld: contact sheet of %d images", (long long)job->id, count);
    else if (out[0])
        unlink(out);
    ts_jobtype_paths_free(paths, count);
    return rc;
}

static void output_name(const ts_job_t *job, int frame, char *name, size_t cap)
{
    snprintf(name, cap, "sheet.%s", job->ext);
}

const ts_jobtype_t ts_job_contactsheet = {
    .name = "contactsheet",
    .summary = "images (a render's frames) scaled into thumbnails by the slaves and laid out in one sheet",
    .parse = parse,
    .create = create,
    .join = join,
    .output_name = output_name,
    .single_output = true,
};
