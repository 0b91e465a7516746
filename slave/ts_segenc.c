/* ts_segenc: decodes one keyframe-aligned video segment and encodes it with pinned, reproducible settings.
   DESIGN: every packet of the segment file is decoded (postroll included) and only the frames the task owns
   (start <= pts < end) are encoded, so a source's segments encode each frame exactly once. The encoder is
   set up as plain `ffmpeg -i IN -c:v ENC OUT` sets it up (libavcodec's encoder defaults, the preset, the
   source's pixel format when the encoder has it, else libavfilter's best match, the frame's colour
   properties and aspect ratio, framerate = av_guess_frame_rate) except: the encoder time base is the
   source stream's, so pts pass through unchanged instead of being put on ffmpeg's 1/fps grid (libvpx gets
   ticks_per_frame = one frame, as it takes frame durations from it; an encoder that refuses the time base,
   e.g. mpeg4 with 1/90000, gets 1/fps); threads are pinned (x264 also cpu-independent=1, which costs
   about 0.2% size here); the decoder is single-threaded; swscale is bit-exact. Frames lose their decoded
   picture type, which x264 and libvpx would obey. NUT stores no dts: dts handed to the muxer are made
   non-negative so libavformat never shifts the pts. Output goes to a temporary name, renamed when done. */
#include "slave/ts_segenc.h"
#include "lib/ts_error.h"
#include "lib/ts_log.h"
#include "lib/ts_request.h"
#include <errno.h>
#include <fcntl.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_THREADS TS_REQUEST_THREADS_DEFAULT
#define DECODER_THREADS 1
#define FALLBACK_FPS 25          /* ffmpeg's default when a stream has no frame rate */
#define SWS_FLAGS (SWS_BICUBIC | SWS_ACCURATE_RND | SWS_BITEXACT)
#define X264_PARAMS "cpu-independent=1"
#define X265_FRAME_THREADS 1
#define X265_LOG_LEVEL "error"
#define VP9_DEADLINE "good"
#define VP9_ROW_MT "0"
#define OUT_FORMAT "nut"
#define TMP_SUFFIX ".tmp-%d-%u" /* pid, sequence */
#define TMP_TRIES 100
#define TMP_MODE 0666 /* less the umask, as for any created file */

/* NUT stores pts only and cannot hold a negative timestamp, so libavformat would shift the whole file when
   the first dts is negative (an encoder's B-frame delay before a first pts of 0). Instead the dts given to
   the muxer is made non-negative and strictly increasing (it only orders the muxer's work); pts stay.
   *last starts at -1. */
static int fix_dts(AVPacket *p, int64_t *last)
{
    if (p->dts == AV_NOPTS_VALUE)
        return 0;
    if (p->dts <= *last)
        p->dts = *last + 1;
    *last = p->dts;
    return p->pts == AV_NOPTS_VALUE || p->dts <= p->pts ? 0 : -1;
}

static const char *averr(int err, char *buf, size_t cap)
{
    av_strerror(err, buf, cap);
    return buf;
}
#define AVERR(e) averr((e), (char[AV_ERROR_MAX_STRING_SIZE]){0}, AV_ERROR_MAX_STRING_SIZE)

static bool is_vp9(const char *name)
{
    return strcmp(name, "libvpx-vp9") == 0;
}

/* The request's rules (lib/ts_request), named as the settings' fields; then what only the encode needs. */
int ts_segenc_check(const ts_encode_settings_t *s)
{
    if (ts_request_vcodec_check(s->vcodec) < 0)
        return ts_error_prefix("vcodec");
    if (s->crf < -1)
        return ts_error_set("crf: %d is negative", s->crf);
    if (s->bitrate != 0 && ts_request_bitrate_check(s->bitrate) < 0) /* 0: not set */
        return ts_error_prefix("bitrate");
    if (ts_request_rate_check(s->vcodec, s->crf >= 0, s->bitrate > 0) < 0)
        return ts_error_prefix("crf and bitrate");
    if (s->crf >= 0 && ts_request_crf_check(s->vcodec, s->crf) < 0)
        return ts_error_prefix("crf");
    if (s->preset && ts_request_preset_check(s->vcodec, s->preset) < 0)
        return ts_error_prefix("preset");
    if (ts_request_size_check(s->width, s->height) < 0)
        return -1; /* the message names width or height */
    if (s->threads != 0 && ts_request_threads_check(s->threads) < 0) /* 0: DEFAULT_THREADS */
        return ts_error_prefix("threads");
    if (s->fps_num < 0 || s->fps_den < 0 || (s->fps_num == 0) != (s->fps_den == 0))
        return ts_error_set("fps: %d/%d is not a frame rate", s->fps_num, s->fps_den);
    return 0;
}

/* ---- the encode ---- */

typedef struct {
    const char *in_path, *out_path;
    const ts_encode_settings_t *s;
    int64_t start_pts, end_pts;
    volatile int *stop;
    AVFormatContext *ifmt;
    AVStream *ist;
    AVCodecContext *dec;
    const AVCodec *codec;
    AVCodecContext *enc;
    AVFormatContext *ofmt;
    AVStream *ost;
    struct SwsContext *sws;
    AVFrame *frame, *scaled;
    AVPacket *pkt;
    AVRational fps, enc_tb;
    enum AVPixelFormat src_fmt;
    char tmp[PATH_MAX];
    bool tmp_made;
    int64_t last_pts; /* of the last frame sent to the encoder, encoder time base */
    int64_t last_dts; /* of the last packet written, output time base */
    int64_t frames, dropped, decode_errors;
} segenc_t;

static int fail(segenc_t *e, const char *what, int err)
{
    return ts_error_set("%s: %s: %s", e->in_path, what, AVERR(err));
}

static int open_input(segenc_t *e)
{
    int ret = avformat_open_input(&e->ifmt, e->in_path, NULL, NULL);
    if (ret < 0)
        return ts_error_set("%s: cannot open as a video: %s", e->in_path, AVERR(ret));
    if ((ret = avformat_find_stream_info(e->ifmt, NULL)) < 0)
        return fail(e, "cannot read the stream parameters", ret);
    const AVCodec *dc = NULL;
    ret = av_find_best_stream(e->ifmt, AVMEDIA_TYPE_VIDEO, -1, -1, &dc, 0);
    if (ret == AVERROR_STREAM_NOT_FOUND)
        return ts_error_set("%s: has no video stream", e->in_path);
    if (ret < 0 || !dc)
        return ts_error_set("%s: no decoder for its video stream", e->in_path);
    e->ist = e->ifmt->streams[ret];
    for (unsigned i = 0; i < e->ifmt->nb_streams; i++)
        if (e->ifmt->streams[i] != e->ist)
            e->ifmt->streams[i]->discard = AVDISCARD_ALL;
    if (!(e->dec = avcodec_alloc_context3(dc)))
        return ts_error_set("%s: out of memory", e->in_path);
    if ((ret = avcodec_parameters_to_context(e->dec, e->ist->codecpar)) < 0)
        return fail(e, "bad codec parameters", ret);
    e->dec->pkt_timebase = e->ist->time_base;
    e->dec->thread_count = DECODER_THREADS;
    /* After a non-IDR keyframe the H.264 decoder would hold back pictures it thinks "not recovered"; the frames a
       segment owns are all decodable from its own packets, and the ones that are not are outside its range. */
    e->dec->flags2 |= AV_CODEC_FLAG2_SHOW_ALL;
    if ((ret = avcodec_open2(e->dec, dc, NULL)) < 0)
        return fail(e, "cannot open the decoder", ret);
    if (e->s->fps_num > 0)
        e->fps = (AVRational){e->s->fps_num, e->s->fps_den};
    else
        e->fps = av_guess_frame_rate(e->ifmt, e->ist, NULL);
    if (e->fps.num <= 0 || e->fps.den <= 0) {
        ts_warn("%s: no frame rate known: %d fps assumed, as ffmpeg does", e->in_path, FALLBACK_FPS);
        e->fps = (AVRational){FALLBACK_FPS, 1};
    }
    e->src_fmt = e->ist->codecpar->format;
    return 0;
}

/* The source's format when the encoder takes it, else the best match as libavfilter's format negotiation
   picks it (av_find_best_pix_fmt_of_2 against the source, alpha when the source has an even number of components). */
static enum AVPixelFormat choose_pix_fmt(const AVCodec *codec, enum AVPixelFormat src)
{
    if (!codec->pix_fmts)
        return src;
    for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++)
        if (*p == src)
            return src;
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(src);
    int has_alpha = d ? d->nb_components % 2 == 0 : 0;
    enum AVPixelFormat best = AV_PIX_FMT_NONE;
    for (const enum AVPixelFormat *p = codec->pix_fmts; *p != AV_PIX_FMT_NONE; p++) {
        /* ffmpeg's format negotiation never converts into the deprecated full-range yuvj* formats */
        const char *name = av_get_pix_fmt_name(*p);
        if (name && strncmp(name, "yuvj", 4) == 0)
            continue;
        best = av_find_best_pix_fmt_of_2(best, *p, src, has_alpha, NULL);
    }
    return best;
}

static int set_options(segenc_t *e, AVDictionary **opts)
{
    const ts_encode_settings_t *s = e->s;
    const char *name = e->codec->name;
    int threads = s->threads > 0 ? s->threads : DEFAULT_THREADS;
    char buf[128];
    int rc = 0;
    if (s->crf >= 0)
        rc |= av_dict_set_int(opts, "crf", s->crf, 0);
    if (strcmp(name, "libx264") == 0 || strcmp(name, "libx264rgb") == 0) {
        rc |= av_dict_set(opts, "x264-params", X264_PARAMS, 0);
        if (s->preset)
            rc |= av_dict_set(opts, "preset", s->preset, 0);
    } else if (strcmp(name, "libx265") == 0) {
        snprintf(buf, sizeof buf, "pools=%d:frame-threads=%d:log-level=%s", threads, X265_FRAME_THREADS,
                 X265_LOG_LEVEL);
        rc |= av_dict_set(opts, "x265-params", buf, 0);
        if (s->preset)
            rc |= av_dict_set(opts, "preset", s->preset, 0);
    } else if (is_vp9(name)) {
        rc |= av_dict_set(opts, "deadline", VP9_DEADLINE, 0);
        rc |= av_dict_set(opts, "row-mt", VP9_ROW_MT, 0);
        if (s->preset)
            rc |= av_dict_set_int(opts, "cpu-used", ts_request_vp9_cpu_used(s->preset), 0);
    } else if (s->preset) {
        rc |= av_dict_set(opts, "preset", s->preset, 0);
    }
    return rc < 0 ? ts_error_set("%s: out of memory", e->in_path) : 0;
}

/* Allocates and opens the encoder for the first owned frame; tb is the encoder time base to try. */
static int open_encoder_tb(segenc_t *e, const AVFrame *f, AVRational tb)
{
    const ts_encode_settings_t *s = e->s;
    avcodec_free_context(&e->enc);
    AVCodecContext *c = e->enc = avcodec_alloc_context3(e->codec);
    if (!c)
        return ts_error_set("%s: out of memory", e->in_path);
    c->width = s->width ? s->width : f->width;
    c->height = s->height ? s->height : f->height;
    c->pix_fmt = choose_pix_fmt(e->codec, e->src_fmt != AV_PIX_FMT_NONE ? e->src_fmt : f->format);
    AVRational sar = f->sample_aspect_ratio;
    if (sar.num && (c->width != f->width || c->height != f->height))
        av_reduce(&sar.num, &sar.den, (int64_t)sar.num * c->height * f->width,
                  (int64_t)sar.den * c->width * f->height, INT_MAX);
    c->sample_aspect_ratio = sar;
    /* An RGB source converted to YUV comes out limited range, as ffmpeg's scale filter makes it; a YUV source
       keeps its own range. */
    const AVPixFmtDescriptor *fd = av_pix_fmt_desc_get(f->format);
    bool rgb_to_yuv = fd && (fd->flags & AV_PIX_FMT_FLAG_RGB) && !(av_pix_fmt_desc_get(c->pix_fmt)->flags & AV_PIX_FMT_FLAG_RGB);
    c->color_range = rgb_to_yuv ? AVCOL_RANGE_MPEG : f->color_range;
    c->color_primaries = f->color_primaries;
    c->color_trc = f->color_trc;
    c->colorspace = f->colorspace;
    c->chroma_sample_location = f->chroma_location;
    c->time_base = tb;
    c->framerate = e->fps;
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    c->thread_count = s->threads > 0 ? s->threads : DEFAULT_THREADS;
    c->bit_rate = s->bitrate;
    if (is_vp9(e->codec->name)) {
        /* libvpx takes ticks_per_frame as every frame's duration for its rate control. */
        int64_t ticks = av_rescale_q(1, av_inv_q(e->fps), tb);
        c->ticks_per_frame = ticks > 0 && ticks <= INT_MAX / tb.num ? (int)ticks : 1;
    }
    AVDictionary *opts = NULL;
    if (set_options(e, &opts) < 0) {
        av_dict_free(&opts);
        return -1;
    }
    int ret = avcodec_open2(c, e->codec, &opts);
    const AVDictionaryEntry *left = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX);
    char unused[64] = "";
    if (left)
        snprintf(unused, sizeof unused, "%s", left->key);
    av_dict_free(&opts);
    if (ret < 0)
        return ts_error_set("%s: cannot open encoder %s (%dx%d %s, time base %d/%d): %s", e->in_path,
                            e->codec->name, c->width, c->height, av_get_pix_fmt_name(c->pix_fmt), tb.num, tb.den,
                            AVERR(ret));
    if (unused[0])
        return ts_error_set("%s: encoder %s has no option '%s'", e->in_path, e->codec->name, unused);
    return 0;
}

static int open_output(segenc_t *e)
{
    /* Unique per process and call; O_EXCL so that nothing else's file is ever truncated. */
    static atomic_uint s_seq;
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < TMP_TRIES; tries++) {
        if (snprintf(e->tmp, sizeof e->tmp, "%s" TMP_SUFFIX, e->out_path, (int)getpid(),
                     atomic_fetch_add(&s_seq, 1)) >= (int)sizeof e->tmp)
            return ts_error_set("%s: path too long", e->out_path);
        fd = open(e->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, TMP_MODE);
        if (fd < 0 && errno != EEXIST)
            return ts_error_set("%s: cannot create %s: %s", e->out_path, e->tmp, strerror(errno));
    }
    if (fd < 0)
        return ts_error_set("%s: cannot create a temporary file beside it", e->out_path);
    close(fd);
    e->tmp_made = true;
    int ret = avformat_alloc_output_context2(&e->ofmt, NULL, OUT_FORMAT, e->tmp);
    if (ret < 0)
        return ts_error_set("%s: %s", e->out_path, AVERR(ret));
    e->ofmt->flags |= AVFMT_FLAG_BITEXACT;
    e->ofmt->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED; /* negative source pts fail instead of shifting */
    if (!(e->ost = avformat_new_stream(e->ofmt, NULL)))
        return ts_error_set("%s: out of memory", e->out_path);
    if ((ret = avcodec_parameters_from_context(e->ost->codecpar, e->enc)) < 0)
        return ts_error_set("%s: %s", e->out_path, AVERR(ret));
    e->ost->time_base = e->ist->time_base;
    e->ost->sample_aspect_ratio = e->enc->sample_aspect_ratio;
    e->ost->avg_frame_rate = e->fps;
    if ((ret = avio_open(&e->ofmt->pb, e->tmp, AVIO_FLAG_WRITE)) < 0)
        return ts_error_set("%s: %s", e->out_path, AVERR(ret));
    if ((ret = avformat_write_header(e->ofmt, NULL)) < 0)
        return ts_error_set("%s: cannot write the header: %s", e->out_path, AVERR(ret));
    return 0;
}

static int open_encoder(segenc_t *e, const AVFrame *f)
{
    AVRational src_tb = e->ist->time_base, grid = av_inv_q(e->fps);
    if (open_encoder_tb(e, f, src_tb) < 0) {
        if (av_cmp_q(src_tb, grid) == 0)
            return -1;
        ts_debug("%s: %s; trying time base %d/%d", e->in_path, ts_error(), grid.num, grid.den);
        if (open_encoder_tb(e, f, grid) < 0)
            return -1;
    }
    e->enc_tb = e->enc->time_base;
    if (!(e->scaled = av_frame_alloc()))
        return ts_error_set("%s: out of memory", e->in_path);
    return open_output(e);
}

/* Drains the encoder's packets into the output (frame NULL: flushes). */
static int encode(segenc_t *e, const AVFrame *frame)
{
    int ret = avcodec_send_frame(e->enc, frame);
    if (ret < 0)
        return ts_error_set("%s: encoding: %s", e->in_path, AVERR(ret));
    for (;;) {
        ret = avcodec_receive_packet(e->enc, e->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return ts_error_set("%s: encoding: %s", e->in_path, AVERR(ret));
        e->pkt->stream_index = 0;
        av_packet_rescale_ts(e->pkt, e->enc_tb, e->ost->time_base);
        if (fix_dts(e->pkt, &e->last_dts) < 0)
            return ts_error_set("%s: packet pts %lld is too close to the start for its decoding delay", e->out_path,
                                (long long)e->pkt->pts);
        if ((ret = av_interleaved_write_frame(e->ofmt, e->pkt)) < 0)
            return ts_error_set("%s: writing: %s", e->out_path, AVERR(ret));
    }
}

/* One decoded frame: dropped when not owned, else scaled when needed and encoded. */
static int take_frame(segenc_t *e, AVFrame *f)
{
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE)
        return ts_error_set("%s: a decoded frame has no timestamp", e->in_path);
    AVRational rtb = e->s->tb_num > 0 && e->s->tb_den > 0 ? (AVRational){e->s->tb_num, e->s->tb_den}
                                                          : e->ist->time_base;
    if ((e->start_pts != INT64_MIN && av_compare_ts(pts, e->ist->time_base, e->start_pts, rtb) < 0) ||
        (e->end_pts != INT64_MAX && av_compare_ts(pts, e->ist->time_base, e->end_pts, rtb) >= 0))
        return 0;
    if (!e->enc && open_encoder(e, f) < 0)
        return -1;
    int64_t epts = av_rescale_q(pts, e->ist->time_base, e->enc_tb);
    if (e->frames > 0 && epts <= e->last_pts) {
        e->dropped++;
        ts_debug("%s: frame at pts %lld dropped: not after the previous one", e->in_path, (long long)pts);
        return 0;
    }
    AVFrame *in = f;
    AVCodecContext *c = e->enc;
    if (f->width != c->width || f->height != c->height || f->format != c->pix_fmt) {
        e->sws = sws_getCachedContext(e->sws, f->width, f->height, f->format, c->width, c->height, c->pix_fmt,
                                      SWS_FLAGS, NULL, NULL, NULL);
        if (!e->sws)
            return ts_error_set("%s: cannot convert %dx%d %s to %dx%d %s", e->in_path, f->width, f->height,
                                av_get_pix_fmt_name(f->format), c->width, c->height,
                                av_get_pix_fmt_name(c->pix_fmt));
        /* A fresh buffer per frame: the encoder may still hold a reference to the previous one. */
        av_frame_unref(e->scaled);
        e->scaled->width = c->width;
        e->scaled->height = c->height;
        e->scaled->format = c->pix_fmt;
        int ret = av_frame_get_buffer(e->scaled, 0);
        if (ret < 0 || (ret = av_frame_copy_props(e->scaled, f)) < 0)
            return ts_error_set("%s: %s", e->in_path, AVERR(ret));
        if (sws_scale(e->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, e->scaled->data,
                      e->scaled->linesize) <= 0)
            return ts_error_set("%s: scaling failed", e->in_path);
        e->scaled->sample_aspect_ratio = c->sample_aspect_ratio;
        in = e->scaled;
    }
    in->pts = epts;
    in->pict_type = AV_PICTURE_TYPE_NONE;
    e->last_pts = epts;
    e->frames++;
    int rc = encode(e, in);
    if (in == e->scaled)
        av_frame_unref(e->scaled);
    return rc;
}

/* Sends one packet (NULL: flush) to the decoder and handles the frames that come out. Damaged data is
   skipped as ffmpeg skips it (counted, logged at the end). */
static int decode(segenc_t *e, const AVPacket *pkt)
{
    int ret = avcodec_send_packet(e->dec, pkt);
    if (ret == AVERROR_INVALIDDATA)
        e->decode_errors++;
    else if (ret < 0)
        return fail(e, "decoding", ret);
    for (;;) {
        ret = avcodec_receive_frame(e->dec, e->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret == AVERROR_INVALIDDATA) {
            e->decode_errors++;
            continue;
        }
        if (ret < 0)
            return fail(e, "decoding", ret);
        int rc = take_frame(e, e->frame);
        av_frame_unref(e->frame);
        if (rc < 0)
            return -1;
    }
}

static int run(segenc_t *e)
{
    if (!(e->frame = av_frame_alloc()) || !(e->pkt = av_packet_alloc()))
        return ts_error_set("%s: out of memory", e->in_path);
    if (open_input(e) < 0)
        return -1;
    int ret;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return ts_error_set("%s: out of memory", e->in_path);
    while ((ret = av_read_frame(e->ifmt, pkt)) >= 0) {
        int rc = 0;
        if (e->stop && *e->stop)
            rc = ts_error_set("%s: encoding stopped", e->in_path);
        else if (pkt->stream_index == e->ist->index)
            rc = decode(e, pkt);
        av_packet_unref(pkt);
        if (rc < 0) {
            av_packet_free(&pkt);
            return -1;
        }
    }
    av_packet_free(&pkt);
    if (ret != AVERROR_EOF)
        return fail(e, "reading", ret);
    if (decode(e, NULL) < 0)
        return -1;
    if (e->stop && *e->stop)
        return ts_error_set("%s: encoding stopped", e->in_path);
    if (!e->enc)
        return ts_error_set("%s: no frame with pts in [%lld, %lld)", e->in_path, (long long)e->start_pts,
                            (long long)e->end_pts);
    if (encode(e, NULL) < 0)
        return -1;
    if ((ret = av_write_trailer(e->ofmt)) < 0)
        return ts_error_set("%s: cannot finish: %s", e->out_path, AVERR(ret));
    if ((ret = avio_closep(&e->ofmt->pb)) < 0)
        return ts_error_set("%s: cannot write: %s", e->out_path, AVERR(ret));
    int fd = open(e->tmp, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return ts_error_set("%s: cannot sync: %s", e->out_path, strerror(err));
    }
    close(fd);
    if (rename(e->tmp, e->out_path) != 0)
        return ts_error_set("%s: cannot rename into place: %s", e->out_path, strerror(errno));
    e->tmp_made = false;
    if (e->decode_errors || e->dropped)
        ts_warn("%s: %lld damaged packets skipped, %lld frames with repeated timestamps dropped", e->in_path,
                (long long)e->decode_errors, (long long)e->dropped);
    return 0;
}

static void cleanup(segenc_t *e)
{
    if (e->ofmt) {
        avio_closep(&e->ofmt->pb);
        avformat_free_context(e->ofmt);
    }
    if (e->tmp_made)
        unlink(e->tmp);
    avcodec_free_context(&e->enc);
    avcodec_free_context(&e->dec);
    avformat_close_input(&e->ifmt);
    sws_freeContext(e->sws);
    av_frame_free(&e->frame);
    av_frame_free(&e->scaled);
    av_packet_free(&e->pkt);
}

int ts_segenc_encode(const char *in_path, int64_t start_pts, int64_t end_pts, const ts_encode_settings_t *s,
                     const char *out_path, int64_t *frames_out, volatile int *stop)
{
    if (ts_segenc_check(s) < 0)
        return ts_error_prefix("%s", in_path);
    if (start_pts >= end_pts)
        return ts_error_set("%s: empty range [%lld, %lld)", in_path, (long long)start_pts, (long long)end_pts);
    segenc_t e = {.in_path = in_path, .out_path = out_path, .s = s, .start_pts = start_pts, .end_pts = end_pts,
                  .stop = stop, .codec = avcodec_find_encoder_by_name(s->vcodec), .src_fmt = AV_PIX_FMT_NONE,
                  .last_dts = -1};
    int rc = run(&e);
    if (rc == 0 && frames_out)
        *frames_out = e.frames;
    cleanup(&e);
    return rc;
}

/* ---- self-test ---- */

#define TEST_W 320
#define TEST_H 240
#define TEST_FRAMES 60
#define TEST_GOP 24
#define TEST_BFRAMES 3
#define TEST_TB_DEN 90000
#define TEST_FPS 25
#define TEST_SCALED_W 160
#define TEST_SCALED_H 120
#define TEST_MPEG4_BITRATE 500000

/* Writes TEST_FRAMES moving-pattern frames as H.264 with B-frames and fixed keyframes into NUT. */
static int make_source(const char *path)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
        return ts_error_set("libx264 is missing");
    AVCodecContext *c = avcodec_alloc_context3(codec);
    AVFormatContext *o = NULL;
    AVFrame *f = av_frame_alloc();
    AVPacket *p = av_packet_alloc();
    AVDictionary *opts = NULL;
    int ret = -1;
    if (!c || !f || !p || avformat_alloc_output_context2(&o, NULL, OUT_FORMAT, path) < 0)
        goto out;
    c->width = TEST_W;
    c->height = TEST_H;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, TEST_TB_DEN};
    c->framerate = (AVRational){TEST_FPS, 1};
    c->gop_size = TEST_GOP;
    c->max_b_frames = TEST_BFRAMES;
    c->thread_count = 1;
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_dict_set(&opts, "preset", "veryfast", 0);
    av_dict_set(&opts, "x264-params", "scenecut=0:keyint-min=1", 0);
    AVStream *st = avformat_new_stream(o, NULL);
    if (!st || avcodec_open2(c, codec, &opts) < 0 || avcodec_parameters_from_context(st->codecpar, c) < 0)
        goto out;
    st->time_base = c->time_base;
    o->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    if (avio_open(&o->pb, path, AVIO_FLAG_WRITE) < 0 || avformat_write_header(o, NULL) < 0)
        goto out;
    int64_t last_dts = -1;
    f->width = TEST_W;
    f->height = TEST_H;
    f->format = AV_PIX_FMT_YUV420P;
    if (av_frame_get_buffer(f, 0) < 0)
        goto out;
    for (int i = 0; i <= TEST_FRAMES; i++) {
        if (i < TEST_FRAMES) {
            if (av_frame_make_writable(f) < 0)
                goto out;
            for (int y = 0; y < TEST_H; y++)
                for (int x = 0; x < TEST_W; x++)
                    f->data[0][y * f->linesize[0] + x] = (uint8_t)(x + 3 * i + ((x / 32 + y / 32 + i / 8) % 2) * 64);
            for (int y = 0; y < TEST_H / 2; y++)
                for (int x = 0; x < TEST_W / 2; x++) {
                    f->data[1][y * f->linesize[1] + x] = (uint8_t)(128 + y - 2 * i);
                    f->data[2][y * f->linesize[2] + x] = (uint8_t)(64 + x + i);
                }
            f->pts = (int64_t)i * TEST_TB_DEN / TEST_FPS;
        }
        if (avcodec_send_frame(c, i < TEST_FRAMES ? f : NULL) < 0)
            goto out;
        while (avcodec_receive_packet(c, p) == 0) {
            av_packet_rescale_ts(p, c->time_base, st->time_base);
            p->stream_index = 0;
            if (fix_dts(p, &last_dts) < 0 || av_interleaved_write_frame(o, p) < 0)
                goto out;
        }
    }
    ret = av_write_trailer(o) < 0 ? -1 : 0;
out:
    if (o) {
        avio_closep(&o->pb);
        avformat_free_context(o);
    }
    av_dict_free(&opts);
    avcodec_free_context(&c);
    av_frame_free(&f);
    av_packet_free(&p);
    return ret < 0 ? ts_error_set("%s: cannot write the test source", path) : 0;
}

typedef struct {
    int64_t pts[TEST_FRAMES * 2];
    int nframes, npackets, width, height;
    bool first_key;
    AVRational tb;
    uint8_t extradata[256];
    int extradata_size;
} probe_t;

/* Decodes an output file: frame pts (in the file's time base), packet count, first-packet key flag. */
static int probe(const char *path, probe_t *r)
{
    memset(r, 0, sizeof *r);
    AVFormatContext *ic = NULL;
    AVCodecContext *d = NULL;
    AVPacket *p = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int ret = -1;
    if (!p || !f || avformat_open_input(&ic, path, NULL, NULL) < 0 || avformat_find_stream_info(ic, NULL) < 0 ||
        ic->nb_streams != 1)
        goto out;
    AVStream *st = ic->streams[0];
    const AVCodec *dc = avcodec_find_decoder(st->codecpar->codec_id);
    if (!dc || !(d = avcodec_alloc_context3(dc)) || avcodec_parameters_to_context(d, st->codecpar) < 0)
        goto out;
    d->pkt_timebase = st->time_base;
    if (avcodec_open2(d, dc, NULL) < 0)
        goto out;
    r->tb = st->time_base;
    r->width = st->codecpar->width;
    r->height = st->codecpar->height;
    if (st->codecpar->extradata_size > (int)sizeof r->extradata)
        goto out;
    r->extradata_size = st->codecpar->extradata_size;
    memcpy(r->extradata, st->codecpar->extradata, (size_t)r->extradata_size);
    for (bool eof = false; !eof;) {
        eof = av_read_frame(ic, p) < 0;
        if (!eof && r->npackets++ == 0)
            r->first_key = p->flags & AV_PKT_FLAG_KEY;
        if (avcodec_send_packet(d, eof ? NULL : p) < 0)
            goto out;
        av_packet_unref(p);
        while (avcodec_receive_frame(d, f) == 0) {
            if (r->nframes < TEST_FRAMES * 2)
                r->pts[r->nframes] = f->best_effort_timestamp;
            r->nframes++;
            av_frame_unref(f);
        }
    }
    ret = 0;
out:
    avcodec_free_context(&d);
    avformat_close_input(&ic);
    av_packet_free(&p);
    av_frame_free(&f);
    return ret < 0 ? ts_error_set("%s: cannot probe", path) : 0;
}

static int same_files(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int rc = fa && fb ? 0 : -1;
    while (rc == 0) {
        int ca = getc(fa), cb = getc(fb);
        if (ca != cb)
            rc = -1;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    return rc;
}

/* Checks an encoded range against the source: frame count, pts (exactly, in the source time base), key. */
static int check_range(const char *path, int64_t start, int64_t end, int64_t frames_out, probe_t *r, bool verbose)
{
    if (probe(path, r) < 0)
        return -1;
    int expect = 0;
    for (int i = 0; i < TEST_FRAMES; i++) {
        int64_t pts = (int64_t)i * TEST_TB_DEN / TEST_FPS;
        if (pts < start || pts >= end)
            continue;
        if (expect >= r->nframes || av_compare_ts(r->pts[expect], r->tb, pts, (AVRational){1, TEST_TB_DEN}) != 0 ||
            av_rescale_q(r->pts[expect], r->tb, (AVRational){1, TEST_TB_DEN}) != pts)
            return ts_error_set("%s: frame %d: pts %lld (%d/%d), expected %lld", path, expect,
                                expect < r->nframes ? (long long)r->pts[expect] : -1LL, r->tb.num, r->tb.den,
                                (long long)pts);
        expect++;
    }
    if (r->nframes != expect || frames_out != expect || r->npackets != expect)
        return ts_error_set("%s: %d frames decoded, %d packets, %lld reported, %d expected", path, r->nframes,
                            r->npackets, (long long)frames_out, expect);
    if (!r->first_key)
        return ts_error_set("%s: the first packet is not a keyframe", path);
    if (verbose)
        printf("  %s: %d frames, pts ok, key first, tb %d/%d\n", path, expect, r->tb.num, r->tb.den);
    return 0;
}

static int expect_error(int rc, const char *needle, const char *what, bool verbose)
{
    if (rc == 0)
        return ts_error_set("%s: accepted", what);
    if (!strstr(ts_error(), needle))
        return ts_error_set("%s: message '%s' does not name '%s'", what, ts_error(), needle);
    if (verbose)
        printf("  %s -> %s\n", what, ts_error());
    return 0;
}

static int run_test(const char *dir, bool verbose)
{
    char src[PATH_MAX], a[PATH_MAX], b[PATH_MAX], c[PATH_MAX], d[PATH_MAX], txt[PATH_MAX], missing[PATH_MAX];
    snprintf(src, sizeof src, "%s/src.nut", dir);
    snprintf(a, sizeof a, "%s/a.nut", dir);
    snprintf(b, sizeof b, "%s/b.nut", dir);
    snprintf(c, sizeof c, "%s/c.nut", dir);
    snprintf(d, sizeof d, "%s/d.nut", dir);
    snprintf(txt, sizeof txt, "%s/notes.txt", dir);
    snprintf(missing, sizeof missing, "%s/missing.nut", dir);
    if (make_source(src) < 0)
        return -1;
    const int64_t kf1 = (int64_t)TEST_GOP * TEST_TB_DEN / TEST_FPS, kf2 = 2 * kf1;
    ts_encode_settings_t s = {.vcodec = "libx264", .crf = 23, .preset = "veryfast", .threads = 1};
    int64_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
    probe_t ra, rc, rd;
    if (ts_segenc_encode(src, kf1, kf2, &s, a, &n1, NULL) < 0 ||
        ts_segenc_encode(src, kf1, kf2, &s, b, &n2, NULL) < 0)
        return -1;
    if (same_files(a, b) < 0)
        return ts_error_set("two encodes of the same segment differ");
    if (check_range(a, kf1, kf2, n1, &ra, verbose) < 0)
        return -1;
    /* The last segment keeps its final B-frames; segments share their extradata. */
    if (ts_segenc_encode(src, kf2, INT64_MAX, &s, c, &n3, NULL) < 0 ||
        check_range(c, kf2, INT64_MAX, n3, &rc, verbose) < 0)
        return -1;
    if (ra.extradata_size == 0 || ra.extradata_size != rc.extradata_size ||
        memcmp(ra.extradata, rc.extradata, (size_t)ra.extradata_size) != 0)
        return ts_error_set("the segments' extradata differ or are missing");
    /* An open start, a range not on keyframes, and scaling. */
    ts_encode_settings_t sc = s;
    sc.width = TEST_SCALED_W;
    sc.height = TEST_SCALED_H;
    if (ts_segenc_encode(src, INT64_MIN, kf1 + 1, &sc, d, &n4, NULL) < 0 ||
        check_range(d, INT64_MIN, kf1 + 1, n4, &rd, verbose) < 0)
        return -1;
    if (rd.width != TEST_SCALED_W || rd.height != TEST_SCALED_H)
        return ts_error_set("%s: %dx%d, expected %dx%d", d, rd.width, rd.height, TEST_SCALED_W, TEST_SCALED_H);

    /* An encoder that refuses the source time base (mpeg4: 1/90000) encodes on the 1/fps grid; the
       source's pts lie on it, so they still come back exactly. */
    ts_encode_settings_t m4 = {.vcodec = "mpeg4", .crf = -1, .bitrate = TEST_MPEG4_BITRATE};
    if (ts_segenc_encode(src, kf1, kf2, &m4, b, &n2, NULL) < 0 || check_range(b, kf1, kf2, n2, &rd, verbose) < 0)
        return -1;

    /* Bad settings, named. */
    ts_encode_settings_t bad = s;
    bad.vcodec = "foo";
    if (expect_error(ts_segenc_check(&bad), "unknown video codec 'foo'", "vcodec foo", verbose) < 0)
        return -1;
    bad.vcodec = "aac";
    if (expect_error(ts_segenc_check(&bad), "vcodec", "vcodec aac", verbose) < 0)
        return -1;
    bad = s;
    bad.crf = 99;
    if (expect_error(ts_segenc_check(&bad), "crf", "crf 99", verbose) < 0)
        return -1;
    bad = s;
    bad.bitrate = 1000000;
    if (expect_error(ts_segenc_check(&bad), "bitrate", "crf and bitrate", verbose) < 0)
        return -1;
    bad = s;
    bad.preset = "warp";
    if (expect_error(ts_segenc_check(&bad), "preset", "preset warp", verbose) < 0)
        return -1;
    bad = s;
    bad.width = 17;
    bad.height = 16;
    if (expect_error(ts_segenc_check(&bad), "width", "width 17", verbose) < 0)
        return -1;
    bad = s;
    bad.vcodec = "mpeg4";
    bad.crf = -1;
    if (expect_error(ts_segenc_check(&bad), "bitrate", "mpeg4 without a rate", verbose) < 0)
        return -1;
    bad.crf = 20;
    if (expect_error(ts_segenc_check(&bad), "crf", "mpeg4 with crf", verbose) < 0)
        return -1;
    bad = s;
    bad.crf = -1;
    bad.preset = NULL;
    bad.vcodec = "libvpx-vp9";
    if (ts_segenc_check(&bad) < 0)
        return ts_error_prefix("vp9 with its default quality");

    /* Bad inputs: the message names the file, nothing is left at the output path. */
    FILE *t = fopen(txt, "w");
    if (!t)
        return ts_error_set("%s: %s", txt, strerror(errno));
    fputs("this is not a video\n", t);
    fclose(t);
    int64_t n = 0;
    if (expect_error(ts_segenc_encode(missing, 0, 1, &s, c, &n, NULL), missing, "missing input", verbose) < 0 ||
        expect_error(ts_segenc_encode(txt, 0, 1, &s, c, &n, NULL), txt, "text input", verbose) < 0)
        return -1;
    volatile int stop = 1;
    unlink(b);
    if (expect_error(ts_segenc_encode(src, kf1, kf2, &s, b, &n, &stop), "stopped", "stop", verbose) < 0)
        return -1;
    if (access(b, F_OK) == 0)
        return ts_error_set("%s: left behind by a stopped encode", b);
    if (expect_error(ts_segenc_encode(src, TEST_FRAMES * (int64_t)TEST_TB_DEN, INT64_MAX, &s, b, &n, NULL), src,
                     "range past the end", verbose) < 0)
        return -1;
    if (access(b, F_OK) == 0)
        return ts_error_set("%s: left behind by a failed encode", b);
    return 0;
}

int ts_segenc_test(bool verbose)
{
    char dir[] = "/tmp/ts_segenc_test_XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "segenc: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    int level = av_log_get_level();
    if (!verbose)
        av_log_set_level(AV_LOG_QUIET);
    int rc = run_test(dir, verbose);
    av_log_set_level(level);
    if (rc < 0)
        fprintf(stderr, "segenc: %s\n", ts_error());
    const char *names[] = {"src.nut", "a.nut", "b.nut", "c.nut", "d.nut", "notes.txt"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    return rc;
}
