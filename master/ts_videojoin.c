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
    int count = 0;
    char **paths = ts_jobtype_piece_paths(ctx, job->id, frame, TS_KIND_SEGMENT, &count);
    char input[PATH_MAX], out[PATH_MAX] = "";
    int64_t frames = 0;
    int rc = paths ? 0 : -1;
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
    ts_jobtype_paths_free(paths, count);
    return rc;
}
