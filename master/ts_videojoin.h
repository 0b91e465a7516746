/* ts_videojoin: a job's encoded segments joined into its video (a transcode's output, the end of a render that
   ends in an encode), shared by those job types. */
#ifndef TS_VIDEOJOIN_H
#define TS_VIDEOJOIN_H

#include "master/ts_jobtype.h"

/* Joins the accepted segments of the job's `frame` in order into one `container` file, with the audio of the job's
   input when with_source_audio, and stores it as the frame's output. */
int ts_videojoin(const ts_jobtype_ctx_t *ctx, const ts_job_t *job, int frame, const char *container,
                 bool with_source_audio);

#endif
