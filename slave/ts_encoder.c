/* ts_encoder: the slave's persistent encoder process, run in the renderers' box (`tessera-slave encoder`).
   DESIGN: a segment's video and a contact sheet's image come from strangers and libavcodec's and OpenImageIO's
   readers are large, so the slave decodes and encodes in a child in the same box as Blender (no network, no view of
   the slave's key or cache; slave/ts_sandbox.h), never in its own process. The child lives across tasks, as the
   persistent Blender does: no start per segment, and the encoder's buffers stay in its heap (see keep_memory). An
   abort or preemption kills it; the next task starts another. */
#include "slave/ts_encoder.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "lib/ts_request.h"
#include "slave/ts_segenc.h"
#include "splitter/ts_sheet.h"
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1 << 20)
#define CHEAT_BITRATE_DIVISOR 8 /* a dishonest segment of an encoder without crf gets this much less bitrate */
#define CHEAT_BITRATE_MIN 16000 /* bits/s */

/* Each segment opens and closes an encoder. glibc hands its big buffers (x264's frames and lookahead) to mmap and
   back to the kernel on close, so every segment paid first-touch page faults again: 15% of a slave's CPU on a
   640x360 transcode in 2 s segments (perf, bench/bench_trust.py). Served from the heap and kept there, the next
   segment reuses them; what is kept is about one encoder's working set. */
static void keep_memory(void)
{
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* glibc's largest: 32 MiB on 64-bit */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

/* A dishonest segment (testing): the cheat's crf (in the encoder's range) replaces the job's crf or bitrate and
   x264/x265 get its preset; an encoder without crf gets a fraction of the job's bitrate instead. */
static void cheapen(const json_t *cheat, ts_encode_settings_t *s)
{
    int crf = ts_request_crf_clamp(s->vcodec, (int)json_integer_value(json_object_get(cheat, "crf")));
    if (crf >= 0) {
        s->crf = crf;
        s->bitrate = 0;
    } else if (s->bitrate > 0) {
        s->bitrate = s->bitrate / CHEAT_BITRATE_DIVISOR > CHEAT_BITRATE_MIN ? s->bitrate / CHEAT_BITRATE_DIVISOR
                                                                            : CHEAT_BITRATE_MIN;
    }
    if (ts_request_is_x26x(s->vcodec))
        s->preset = json_string_value(json_object_get(cheat, "preset"));
}

static json_t *failed(const char *error, bool input_error)
{
    return json_pack("{s:b,s:s,s:b}", "ok", 0, "error", error, "input_error", input_error);
}

/* Encodes a video segment with the job's pinned settings (cheaper ones when cheating). */
static json_t *op_segment(const json_t *req)
{
    const json_t *p = json_object_get(req, "params");
    const char *in = json_string_value(json_object_get(req, "in")), *out = json_string_value(json_object_get(req, "out"));
    if (!json_is_object(p) || !in || !out)
        return failed("a segment request needs in, out and params", false);
    json_t *crf = json_object_get(p, "crf");
    ts_encode_settings_t s = {
        .vcodec = json_string_value(json_object_get(p, "vcodec")),
        .crf = json_is_integer(crf) ? (int)json_integer_value(crf) : -1,
        .bitrate = json_integer_value(json_object_get(p, "bitrate")),
        .preset = json_string_value(json_object_get(p, "preset")),
        .width = (int)json_integer_value(json_object_get(p, "width")),
        .height = (int)json_integer_value(json_object_get(p, "height")),
        .threads = (int)json_integer_value(json_object_get(p, "threads")),
        .fps_num = (int)json_integer_value(json_object_get(p, "fps_num")),
        .fps_den = (int)json_integer_value(json_object_get(p, "fps_den")),
        .tb_num = (int)json_integer_value(json_object_get(p, "tb_num")),
        .tb_den = (int)json_integer_value(json_object_get(p, "tb_den")),
    };
    if (s.preset && !s.preset[0])
        s.preset = NULL;
    const json_t *cheat = json_object_get(req, "cheat");
    if (json_is_object(cheat) && s.vcodec)
        cheapen(cheat, &s);
    int64_t frames = 0;
    int rc = s.vcodec ? ts_segenc_check(&s) : ts_error_set("encoder settings name no codec");
    if (rc == 0)
        rc = ts_segenc_encode(in, json_integer_value(json_object_get(req, "start")),
                              json_integer_value(json_object_get(req, "end")), &s, out, &frames, NULL);
    return rc == 0 ? json_pack("{s:b,s:I}", "ok", 1, "frames", (json_int_t)frames) : failed(ts_error(), false);
}

/* Scales an image into a contact sheet's cell; a damaged image is the input's fault. */
static json_t *op_thumb(const json_t *req)
{
    const char *in = json_string_value(json_object_get(req, "in")), *out = json_string_value(json_object_get(req, "out"));
    if (!in || !out)
        return failed("a thumb request needs in and out", false);
    int rc = ts_sheet_thumb(in, (int)json_integer_value(json_object_get(req, "w")),
                            (int)json_integer_value(json_object_get(req, "h")), out);
    return rc == 0 ? json_pack("{s:b}", "ok", 1) : failed(ts_error(), rc == TS_SHEET_INPUT_BAD);
}

/* The encoder's operations, one line each. */
static const struct {
    const char *op;
    json_t *(*run)(const json_t *req);
} OPS[] = {
    {"segment", op_segment},
    {"thumb", op_thumb},
};

static json_t *serve(const char *line)
{
    json_error_t jerr;
    json_t *req = json_loads(line, 0, &jerr);
    if (!json_is_object(req)) {
        json_decref(req);
        return failed("the request is not a JSON object", false);
    }
    const char *op = json_string_value(json_object_get(req, "op"));
    json_t *reply = NULL;
    for (size_t i = 0; op && i < sizeof OPS / sizeof OPS[0] && !reply; i++)
        if (strcmp(OPS[i].op, op) == 0)
            reply = OPS[i].run(req);
    json_decref(req);
    return reply ? reply : failed("unknown encoder operation", false);
}

int ts_encoder_main(void)
{
    keep_memory();
    char *buf = malloc(LINE_MAX_BYTES);
    size_t len = 0;
    for (;;) {
        char *nl = buf ? memchr(buf, '\n', len) : NULL;
        if (!nl) {
            if (!buf || len == LINE_MAX_BYTES)
                break; /* no line fits: the slave is not speaking this protocol */
            ssize_t r = read(TS_ENCODER_CMD_FD, buf + len, LINE_MAX_BYTES - len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break; /* the slave closed the pipe: done */
            len += (size_t)r;
            continue;
        }
        *nl = '\0';
        json_t *reply = serve(buf);
        size_t used = (size_t)(nl - buf) + 1;
        memmove(buf, nl + 1, len - used);
        len -= used;
        char *text = json_dumps(reply, JSON_COMPACT);
        json_decref(reply);
        int wrc = text ? ts_file_write_fd(TS_ENCODER_REPLY_FD, text, strlen(text)) : -1;
        wrc = wrc < 0 ? wrc : ts_file_write_fd(TS_ENCODER_REPLY_FD, "\n", 1);
        free(text);
        if (wrc < 0)
            break;
    }
    free(buf);
    return 0;
}
