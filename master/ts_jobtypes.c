/* ts_jobtypes: the table of job types (one line each) and the helpers their files share. */
#include "master/ts_jobtype.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "tests/ts_test.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const ts_jobtype_t ts_job_render, ts_job_transcode, ts_job_contactsheet, ts_job_synthetic;

static const ts_jobtype_t *const TYPES[] = {
    &ts_job_render,
    &ts_job_transcode,
    &ts_job_contactsheet,
    &ts_job_synthetic,
};

#define NTYPES (sizeof TYPES / sizeof TYPES[0])

const ts_jobtype_t *ts_jobtype_find(const char *name)
{
    for (size_t i = 0; name && i < NTYPES; i++)
        if (strcmp(TYPES[i]->name, name) == 0)
            return TYPES[i];
    return NULL;
}

const char *ts_jobtype_names(void)
{
    static char names[256];
    if (!names[0])
        for (size_t i = 0; i < NTYPES; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", TYPES[i]->name);
    return names;
}

void ts_jobtype_output_name(const ts_job_t *job, int frame, char *name, size_t cap)
{
    const ts_jobtype_t *type = ts_jobtype_find(job->type);
    if (type)
        type->output_name(job, frame, name, cap);
    else
        snprintf(name, cap, "output_%d", frame);
}

bool ts_jobtype_blob_is_blend(ts_blobs_t *blobs, const char *hash)
{
    char path[PATH_MAX];
    ts_blobs_path(blobs, hash, path, sizeof path);
    return ts_file_is_blend(path);
}

int ts_jobtype_tmp_path(ts_blobs_t *blobs, char *out, size_t cap, const char *ext)
{
    if (cap < strlen(ext) + 3)
        return ts_error_set("no room for a temporary file name");
    int fd = ts_blobs_tmp(blobs, out, cap - strlen(ext) - 2);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(out);
    strcat(out, ".");
    strcat(out, ext);
    return 0;
}

char **ts_jobtype_blob_paths(ts_blobs_t *blobs, const char (*hashes)[TS_HASH_HEX], int count)
{
    char **paths = calloc(count > 0 ? (size_t)count : 1, sizeof *paths);
    for (int i = 0; paths && i < count; i++) {
        if (!(paths[i] = malloc(PATH_MAX))) {
            ts_jobtype_paths_free(paths, i);
            paths = NULL;
        } else {
            ts_blobs_path(blobs, hashes[i], paths[i], PATH_MAX);
        }
    }
    if (!paths)
        ts_error_set("out of memory");
    return paths;
}

char **ts_jobtype_piece_paths(const ts_jobtype_ctx_t *ctx, int64_t job, int frame, int kind, int *count)
{
    *count = ts_store_piece_count(ctx->store, job, frame, kind);
    if (*count <= 0) {
        if (*count == 0)
            ts_error_set("frame %d has no %s pieces", frame, ts_kind_name(kind));
        return NULL;
    }
    char (*hashes)[TS_HASH_HEX] = calloc((size_t)*count, sizeof *hashes);
    char **paths = NULL;
    if (!hashes)
        ts_error_set("out of memory");
    else if (ts_store_frame_tiles(ctx->store, job, frame, kind, hashes, *count) == 0)
        paths = ts_jobtype_blob_paths(ctx->blobs, (const char (*)[TS_HASH_HEX])hashes, *count);
    free(hashes);
    return paths;
}

void ts_jobtype_paths_free(char **paths, int count)
{
    for (int i = 0; paths && i < count; i++)
        free(paths[i]);
    free(paths);
}

int ts_jobtype_store_output(const ts_jobtype_ctx_t *ctx, int64_t job, int frame, const char *path)
{
    char hash[TS_HASH_HEX], stored[PATH_MAX];
    if (ts_blobs_put_file(ctx->blobs, path, NULL, hash) < 0)
        return -1;
    ts_blobs_path(ctx->blobs, hash, stored, sizeof stored);
    struct stat st;
    if (stat(stored, &st) < 0)
        return ts_error_set("%s: %s", stored, strerror(errno));
    return ts_store_frame_output(ctx->store, job, frame, hash, (int64_t)st.st_size);
}

int ts_jobtype_test(bool verbose)
{
    int failures = 0;
    for (size_t i = 0; i < NTYPES; i++) {
        const ts_jobtype_t *t = TYPES[i];
        TS_TEST_CHECK(t->name && t->summary && t->parse && t->create && t->join && t->output_name,
                      "type %zu lacks a part", i);
        TS_TEST_CHECK(ts_jobtype_find(t->name) == t, "type %s is not found by its name", t->name);
        for (size_t j = i + 1; j < NTYPES; j++)
            TS_TEST_CHECK(strcmp(t->name, TYPES[j]->name) != 0, "two types are called %s", t->name);
    }
    TS_TEST_CHECK(!ts_jobtype_find("video") && !ts_jobtype_find(NULL) && !ts_jobtype_find(""), "unknown types");
    TS_TEST_CHECK(strcmp(ts_jobtype_names(), "render, transcode, contactsheet, synthetic") == 0, "names: %s", ts_jobtype_names());
    /* output names: a render's frames and its video, a transcode's file, a contact sheet's sheet, a stranger's */
    static const struct {
        const char *type, *ext, *params;
        int frame;
        const char *want;
    } names[] = {
        {"render", "png", "{}", 7, "frame_0007.png"},
        {"render", "exr", "{}", -3, "frame_-003.exr"},
        {"render", "png", "{\"container\":\"mkv\"}", TS_VIDEO_FRAME, "video.mkv"},
        {"render", "png", "{}", TS_VIDEO_FRAME, "video.mp4"},
        {"transcode", "mkv", "{}", 0, "output.mkv"},
        {"contactsheet", "png", "{}", 0, "sheet.png"},
        {"from-a-newer-master", "png", "{}", 4, "output_4"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ts_job_t job = {0};
        snprintf(job.type, sizeof job.type, "%s", names[i].type);
        snprintf(job.ext, sizeof job.ext, "%s", names[i].ext);
        snprintf(job.params, sizeof job.params, "%s", names[i].params);
        char name[64];
        ts_jobtype_output_name(&job, names[i].frame, name, sizeof name);
        TS_TEST_CHECK(strcmp(name, names[i].want) == 0, "%s frame %d: '%s', wanted '%s'", names[i].type,
                      names[i].frame, name, names[i].want);
    }
    TS_TEST_CHECK(ts_jobtype_find("transcode")->single_output && ts_jobtype_find("contactsheet")->single_output &&
                      !ts_jobtype_find("render")->single_output,
                  "single outputs");
    if (verbose)
        printf("  jobtype: %zu types: %s\n", NTYPES, ts_jobtype_names());
    return failures ? -1 : 0;
}
