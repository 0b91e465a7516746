/* ts_videojoin: joins a job's encoded segments (stream copy, splitter/ts_concat) into its stored video output. */
#include "master/ts_videojoin.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "splitter/ts_concat.h"
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

int ts_videojoin(const ts_jobtype_ctx_t *ctx, const ts_job_t *job, int frame, const char *container,
                 bool with_source_audio)
{
    int count = ts_store_piece_count(ctx->store, job->id, frame, TS_KIND_SEGMENT);
    if (count <= 0)
        return ts_error_set("no segments");
    char (*hashes)[TS_HASH_HEX] = calloc((size_t)count, sizeof *hashes);
    char **paths = calloc((size_t)count, sizeof *paths);
    char input[PATH_MAX], out[PATH_MAX] = "";
    int64_t frames = 0;
    int rc = hashes && paths ? ts_store_frame_tiles(ctx->store, job->id, frame, TS_KIND_SEGMENT, hashes, count)
                             : ts_error_set("out of memory");
    for (int i = 0; rc == 0 && i < count; i++) {
        if (!(paths[i] = malloc(PATH_MAX)))
            rc = ts_error_set("out of memory");
        else
            ts_blobs_path(ctx->blobs, hashes[i], paths[i], PATH_MAX);
    }
    ts_blobs_path(ctx->blobs, job->scene, input, sizeof input);
    if (rc == 0)
        rc = ts_jobtype_tmp_path(ctx->blobs, out, sizeof out, container);
    if (rc == 0)
        rc = ts_concat((const char *const *)paths, count, with_source_audio ? input : NULL, container, out, &frames);
    if (rc == 0)
        rc = ts_jobtype_store_output(ctx, job->id, frame, out);
    if (rc == 0)
        ts_info("job %lld assembled: %d segments, %lld frames", (long long)job->id, count, (long long)frames);
    else if (out[0])
        unlink(out);
    for (int i = 0; paths && i < count; i++)
        free(paths[i]);
    free(paths);
    free(hashes);
    return rc;
}
