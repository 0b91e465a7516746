/* ts_api_view: the routes the artists' app draws a render job's mosaic from (below /api/v1/jobs/{id}):
     GET /frames                      the job's frames with their states and tiles done
     GET /frames/{frame}              one frame's tiles: rectangle, state, node, seconds, verdict, spot checks
     GET /frames/{frame}/tiles/{t}.png  a verified tile re-encoded by the master as an 8-bit sRGB PNG of its own pixels
     GET /frames/{frame}/preview.png  a finished frame's output re-encoded as an 8-bit sRGB PNG (?max=N: fitted
                                      inside N x N pixels)
   DESIGN: the app never decodes a slave's bytes: tiles are read here by the OpenEXR reader only (as the verifier
   reads them) after the verifier has decoded them, and outputs by the reader of the format their first bytes name
   (ts_sheet). Parsing the path is pure (ts_view_parse: the fuzzer runs it); answering reads the store and the blob
   store and returns the body, so the HTTP layer (ts_api.c) only sends it. */
#ifndef TS_API_VIEW_H
#define TS_API_VIEW_H

#include "lib/ts_blobs.h"
#include "master/ts_store.h"
#include <stddef.h>

#define TS_VIEW_MAX_SIDE 4096  /* the largest preview side asked for with ?max= */
#define TS_VIEW_DEFAULT_SIDE 1024 /* a preview's side without ?max= */

typedef enum { TS_VIEW_FRAMES, TS_VIEW_FRAME, TS_VIEW_TILE_PNG, TS_VIEW_PREVIEW_PNG } ts_view_route_t;

typedef struct {
    ts_view_route_t route;
    int frame;  /* may be negative, as Blender's frames */
    int tile;   /* TS_VIEW_TILE_PNG */
    int max;    /* TS_VIEW_PREVIEW_PNG: the preview fits inside max x max */
} ts_view_request_t;

/* The answer: JSON (an {"error": ...} when status is not 200), or PNG bytes. */
typedef struct {
    unsigned status;
    json_t *json;           /* NULL when png is set */
    unsigned char *png;     /* malloc'd */
    size_t png_len;
} ts_view_reply_t;

/* Parses what follows /api/v1/jobs/{id} (rest starts with "/frames") and the ?max= parameter (NULL when absent).
   1 a view route (req filled); 0 not one of these routes; -1 malformed (ts_error() names the part). */
int ts_view_parse(const char *rest, const char *max, ts_view_request_t *req);

/* Answers req for a job the caller may see (the API has checked). Never fails without a reply: errors are a JSON
   error with their status (404 no such frame or tile result yet, 409 not a render job, 500 the master's fault). */
void ts_view_answer(ts_store_t *store, const ts_blobs_t *blobs, const ts_job_t *job, const ts_view_request_t *req,
                    ts_view_reply_t *reply);
void ts_view_reply_free(ts_view_reply_t *reply);

#endif
