/* ts_concat: joins encoded video segments by stream copy into MP4/MKV and muxes the source's audio back in. */
#include "splitter/ts_concat.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include "splitter/ts_segplan.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libswresample/swresample.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MP4_MUXER "mp4"                /* libavformat muxer of the "mp4" container */
#define AAC_ENCODER "aac"              /* libavcodec's native AAC encoder */
#define AAC_BIT_RATE_PER_CHANNEL 64000
#define AAC_FALLBACK_RATE 48000        /* when the source's sample rate is not one AAC has */
#define AAC_FALLBACK_CHANNELS 2        /* when the source's channel layout is not one the encoder has */

/* Container names accepted, and the libavformat muxer of each. */
static const struct {
    const char *name, *muxer;
} s_containers[] = { { "mp4", MP4_MUXER }, { "mkv", "matroska" } };

/* ---------------------------------------------------------------------------------------------------- */
/* Decode timestamps of the joined stream.                                                              */

/* Rebuilds dts[0..n) (AV_NOPTS_VALUE where unknown) for packets in decode order with the given pts: each becomes
   max(dts, previous + 1) (unknown: previous + 1, or its bound for the first), capped by the bound
   U[k] = min(pts[k], U[k+1] - 1). Returns the index of a packet that cannot be given one, -1 when all could, -2
   when out of memory. With the bound looking ahead a dts always exists; the check guards the int64 range. */
static int64_t assign_dts(const int64_t *pts, int64_t *dts, int64_t n)
{
    if (n <= 0)
        return -1;
    int64_t *bound = malloc((size_t)n * sizeof *bound);
    if (!bound)
        return -2;
    bound[n - 1] = pts[n - 1];
    for (int64_t k = n - 1; k-- > 0;) {
        int64_t next = bound[k + 1] == INT64_MIN ? INT64_MIN : bound[k + 1] - 1;
        bound[k] = pts[k] < next ? pts[k] : next;
    }
    int64_t bad = -1, last = AV_NOPTS_VALUE;
    for (int64_t k = 0; k < n; k++) {
        int64_t d = dts[k];
        if (last != AV_NOPTS_VALUE && (d == AV_NOPTS_VALUE || d <= last))
            d = last + 1;
        if (d == AV_NOPTS_VALUE || d > bound[k])
            d = bound[k];
        if (d == AV_NOPTS_VALUE || (last != AV_NOPTS_VALUE && d <= last)) {
            bad = k;
            break;
        }
        dts[k] = last = d;
    }
    free(bound);
    return bad;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Audio: stream copy, or decode + AAC encode.                                                          */

typedef struct {
    const char *path;
    AVFormatContext *ic;
    AVStream *ist, *ost;
    /* re-encoding */
    AVCodecContext *dec, *enc;
    SwrContext *swr;
    AVAudioFifo *fifo;
    AVFrame *frame, *chunk, *converted;
    AVPacket *in;
    int64_t next_pts; /* encoder time base; AV_NOPTS_VALUE until the first decoded frame */
    bool in_eof, dec_eof, enc_flushed;
} audio_t;

static void audio_close(audio_t *a)
{
    avformat_close_input(&a->ic);
    avcodec_free_context(&a->dec);
    avcodec_free_context(&a->enc);
    swr_free(&a->swr);
    if (a->fifo)
        av_audio_fifo_free(a->fifo);
    a->fifo = NULL;
    av_frame_free(&a->frame);
    av_frame_free(&a->chunk);
    av_frame_free(&a->converted);
    av_packet_free(&a->in);
}

/* Opens the audio source and finds its first audio stream; a->ist stays NULL when it has none. */
static int audio_open(audio_t *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->path = path;
    a->next_pts = AV_NOPTS_VALUE;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ts_error_set("%s: audio source: %s", path, errno == ENOENT ? "no such file" : strerror(errno));
    int rc = avformat_open_input(&a->ic, path, NULL, NULL);
    if (rc < 0 || (rc = avformat_find_stream_info(a->ic, NULL)) < 0)
        return ts_error_set("%s: audio source: not readable as media (%s)", path, av_err2str(rc));
    for (unsigned i = 0; !a->ist && i < a->ic->nb_streams; i++)
        if (a->ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
            a->ist = a->ic->streams[i];
    for (unsigned i = 0; i < a->ic->nb_streams; i++)
        if (a->ic->streams[i] != a->ist)
            a->ic->streams[i]->discard = AVDISCARD_ALL;
    return 0;
}

/* Picks the sample rate of the AAC encoder: the source's when AAC has it. */
static int aac_rate(const AVCodec *codec, int want)
{
    for (const int *r = codec->supported_samplerates; r && *r; r++)
        if (*r == want)
            return want;
    return AAC_FALLBACK_RATE;
}

/* Sets up decoding and AAC encoding into a new stream of oc. */
static int audio_setup_encode(audio_t *a, AVFormatContext *oc)
{
    const AVCodec *dc = avcodec_find_decoder(a->ist->codecpar->codec_id);
    const AVCodec *ec = avcodec_find_encoder_by_name(AAC_ENCODER);
    if (!dc)
        return ts_error_set("%s: no decoder for its audio codec \"%s\"", a->path,
                            avcodec_get_name(a->ist->codecpar->codec_id));
    if (!ec)
        return ts_error_set("%s: its audio (%s) needs re-encoding and there is no AAC encoder", a->path,
                            avcodec_get_name(a->ist->codecpar->codec_id));
    int rc;
    a->dec = avcodec_alloc_context3(dc);
    a->enc = avcodec_alloc_context3(ec);
    a->frame = av_frame_alloc();
    a->chunk = av_frame_alloc();
    a->converted = av_frame_alloc();
    a->in = av_packet_alloc();
    if (!a->dec || !a->enc || !a->frame || !a->chunk || !a->converted || !a->in)
        return ts_error_set("%s: out of memory", a->path);
    if ((rc = avcodec_parameters_to_context(a->dec, a->ist->codecpar)) < 0)
        goto fail;
    a->dec->pkt_timebase = a->ist->time_base;
    if ((rc = avcodec_open2(a->dec, dc, NULL)) < 0)
        goto fail;
    if (a->dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
        av_channel_layout_default(&a->dec->ch_layout, a->dec->ch_layout.nb_channels);
    AVCodecContext *e = a->enc;
    e->sample_fmt = AV_SAMPLE_FMT_FLTP;
    e->sample_rate = aac_rate(ec, a->dec->sample_rate);
    av_channel_layout_default(&e->ch_layout, AAC_FALLBACK_CHANNELS);
    for (const AVChannelLayout *l = ec->ch_layouts; l && l->nb_channels; l++)
        if (av_channel_layout_compare(l, &a->dec->ch_layout) == 0) {
            av_channel_layout_uninit(&e->ch_layout);
            av_channel_layout_copy(&e->ch_layout, &a->dec->ch_layout);
            break;
        }
    e->bit_rate = (int64_t)AAC_BIT_RATE_PER_CHANNEL * e->ch_layout.nb_channels;
    e->time_base = (AVRational){ 1, e->sample_rate };
    if (oc->oformat->flags & AVFMT_GLOBALHEADER)
        e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((rc = avcodec_open2(e, ec, NULL)) < 0)
        goto fail;
    if ((rc = swr_alloc_set_opts2(&a->swr, &e->ch_layout, e->sample_fmt, e->sample_rate, &a->dec->ch_layout,
                                  a->dec->sample_fmt, a->dec->sample_rate, 0, NULL)) < 0 ||
        (rc = swr_init(a->swr)) < 0)
        goto fail;
    if (!(a->fifo = av_audio_fifo_alloc(e->sample_fmt, e->ch_layout.nb_channels, e->frame_size * 2))) {
        rc = AVERROR(ENOMEM);
        goto fail;
    }
    if (!(a->ost = avformat_new_stream(oc, NULL))) {
        rc = AVERROR(ENOMEM);
        goto fail;
    }
    if ((rc = avcodec_parameters_from_context(a->ost->codecpar, e)) < 0)
        goto fail;
    a->ost->time_base = e->time_base;
    return 0;
fail:
    return ts_error_set("%s: setting up the AAC re-encode of its audio: %s", a->path, av_err2str(rc));
}

/* Converts a decoded frame (NULL: what the resampler still holds) into the FIFO. */
static int audio_convert(audio_t *a, const AVFrame *f)
{
    AVCodecContext *e = a->enc;
    int room = swr_get_out_samples(a->swr, f ? f->nb_samples : 0);
    if (room <= 0)
        return 0;
    AVFrame *c = a->converted;
    av_frame_unref(c);
    c->format = e->sample_fmt;
    c->sample_rate = e->sample_rate;
    c->nb_samples = room;
    int rc = av_channel_layout_copy(&c->ch_layout, &e->ch_layout);
    if (rc < 0 || (rc = av_frame_get_buffer(c, 0)) < 0)
        return rc;
    int n = swr_convert(a->swr, c->data, room, f ? (const uint8_t **)f->extended_data : NULL, f ? f->nb_samples : 0);
    if (n < 0)
        return n;
    return av_audio_fifo_write(a->fifo, (void **)c->data, n) < n ? AVERROR(ENOMEM) : 0;
}

/* Next encoded packet (encoder time base), 0 or AVERROR_EOF or an error. */
static int audio_encode_next(audio_t *a, AVPacket *out)
{
    AVCodecContext *e = a->enc;
    for (;;) {
        int rc = avcodec_receive_packet(e, out);
        if (rc != AVERROR(EAGAIN))
            return rc;
        int have = av_audio_fifo_size(a->fifo);
        if (have >= e->frame_size || (a->dec_eof && have > 0)) {
            AVFrame *c = a->chunk;
            av_frame_unref(c);
            c->format = e->sample_fmt;
            c->sample_rate = e->sample_rate;
            c->nb_samples = have < e->frame_size ? have : e->frame_size;
            if ((rc = av_channel_layout_copy(&c->ch_layout, &e->ch_layout)) < 0 || (rc = av_frame_get_buffer(c, 0)) < 0)
                return rc;
            if (av_audio_fifo_read(a->fifo, (void **)c->data, c->nb_samples) < c->nb_samples)
                return AVERROR(EIO);
            c->pts = a->next_pts;
            a->next_pts += c->nb_samples;
            if ((rc = avcodec_send_frame(e, c)) < 0)
                return rc;
            continue;
        }
        if (a->dec_eof) {
            if (a->enc_flushed)
                return AVERROR_EOF;
            a->enc_flushed = true;
            if ((rc = avcodec_send_frame(e, NULL)) < 0)
                return rc;
            continue;
        }
        rc = avcodec_receive_frame(a->dec, a->frame);
        if (rc == 0) {
            if (a->next_pts == AV_NOPTS_VALUE) {
                int64_t t = a->frame->best_effort_timestamp;
                a->next_pts = t == AV_NOPTS_VALUE ? 0 : av_rescale_q(t, a->ist->time_base, e->time_base);
            }
            rc = audio_convert(a, a->frame);
            av_frame_unref(a->frame);
            if (rc < 0)
                return rc;
            continue;
        }
        if (rc == AVERROR_EOF) {
            if (a->next_pts == AV_NOPTS_VALUE)
                a->next_pts = 0;
            if ((rc = audio_convert(a, NULL)) < 0)
                return rc;
            a->dec_eof = true;
            continue;
        }
        if (rc != AVERROR(EAGAIN))
            return rc;
        rc = av_read_frame(a->ic, a->in);
        if (rc == AVERROR_EOF) {
            if ((rc = avcodec_send_packet(a->dec, NULL)) < 0)
                return rc;
            continue;
        }
        if (rc < 0)
            return rc;
        if (a->in->stream_index == a->ist->index)
            rc = avcodec_send_packet(a->dec, a->in);
        av_packet_unref(a->in);
        if (rc < 0 && rc != AVERROR_INVALIDDATA) /* a damaged packet is skipped, as ffmpeg does */
            return rc;
    }
}

/* Next audio packet for the output (output stream time base and index): 0, AVERROR_EOF, or -1 with a message. */
static int audio_next(audio_t *a, AVPacket *out)
{
    int rc;
    if (a->enc) {
        rc = audio_encode_next(a, out);
        if (rc == 0)
            av_packet_rescale_ts(out, a->enc->time_base, a->ost->time_base);
    } else {
        while ((rc = av_read_frame(a->ic, out)) >= 0 && out->stream_index != a->ist->index)
            av_packet_unref(out);
        if (rc == 0) {
            if (out->dts == AV_NOPTS_VALUE)
                out->dts = out->pts;
            av_packet_rescale_ts(out, a->ist->time_base, a->ost->time_base);
        }
    }
    if (rc == AVERROR_EOF)
        return rc;
    if (rc < 0)
        return ts_error_set("%s: reading its audio: %s", a->path, av_err2str(rc));
    out->stream_index = a->ost->index;
    out->pos = -1;
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Segments.                                                                                            */

typedef struct {
    const char *const *paths;
    int count;
    const char *out_path;
    AVCodecParameters *par;   /* the first segment's */
    AVRational first_tb;
    int64_t *first, *packets; /* per segment: index of its first packet in the arrays, number of packets */
    AVRational *tb;           /* per segment: stream time base */
    int64_t *pts, *dts;       /* every packet, decode order; segment time base in pass 1, output's after */
    int64_t n, cap;
} join_t;

static void join_free(join_t *j)
{
    avcodec_parameters_free(&j->par);
    free(j->first);
    free(j->packets);
    free(j->tb);
    free(j->pts);
    free(j->dts);
}

/* Opens segment i and returns its video stream. */
static int segment_open(const join_t *j, int i, AVFormatContext **ic, AVStream **vs)
{
    const char *path = j->paths[i];
    *ic = NULL;
    *vs = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return ts_error_set("%s: segment %d: %s", path, i, errno == ENOENT ? "no such file" : strerror(errno));
    if (sb.st_size == 0)
        return ts_error_set("%s: segment %d: empty file", path, i);
    int rc = avformat_open_input(ic, path, NULL, NULL);
    if (rc < 0 || (rc = avformat_find_stream_info(*ic, NULL)) < 0) {
        avformat_close_input(ic);
        return ts_error_set("%s: segment %d: not readable as media (%s)", path, i, av_err2str(rc));
    }
    for (unsigned s = 0; !*vs && s < (*ic)->nb_streams; s++)
        if ((*ic)->streams[s]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO)
            *vs = (*ic)->streams[s];
    if (!*vs) {
        avformat_close_input(ic);
        return ts_error_set("%s: segment %d: no video stream", path, i);
    }
    for (unsigned s = 0; s < (*ic)->nb_streams; s++)
        if ((*ic)->streams[s] != *vs)
            (*ic)->streams[s]->discard = AVDISCARD_ALL;
    return 0;
}

/* The first difference between a segment's codec parameters and the first segment's; NULL when none. */
static const char *par_differs(const AVCodecParameters *a, const AVCodecParameters *b)
{
    if (a->codec_id != b->codec_id)
        return "codec";
    if (a->width != b->width || a->height != b->height)
        return "frame size";
    if (a->extradata_size != b->extradata_size ||
        (a->extradata_size > 0 && memcmp(a->extradata, b->extradata, (size_t)a->extradata_size) != 0))
        return "extradata (codec headers)";
    return NULL;
}

static int push_ts(join_t *j, int64_t pts, int64_t dts)
{
    if (j->n == j->cap) {
        int64_t cap = j->cap ? 2 * j->cap : 4096;
        int64_t *p = realloc(j->pts, (size_t)cap * sizeof *p);
        if (p)
            j->pts = p;
        int64_t *d = realloc(j->dts, (size_t)cap * sizeof *d);
        if (d)
            j->dts = d;
        if (!p || !d)
            return -1;
        j->cap = cap;
    }
    j->pts[j->n] = pts;
    j->dts[j->n] = dts;
    j->n++;
    return 0;
}

/* Pass 1 over segment i: checks it against the first and collects its timestamps. */
static int scan_segment(join_t *j, int i)
{
    const char *path = j->paths[i];
    AVFormatContext *ic;
    AVStream *vs;
    if (segment_open(j, i, &ic, &vs) < 0)
        return -1;
    int rc = 0;
    const char *what;
    if (i == 0) {
        if (!(j->par = avcodec_parameters_alloc()) || avcodec_parameters_copy(j->par, vs->codecpar) < 0)
            rc = ts_error_set("%s: out of memory", path);
        j->first_tb = vs->time_base;
    } else if ((what = par_differs(vs->codecpar, j->par)) != NULL) {
        rc = ts_error_set("%s: segment %d: its %s differs from the first segment's (%s %dx%d, first %s %dx%d)", path,
                          i, what, avcodec_get_name(vs->codecpar->codec_id), vs->codecpar->width,
                          vs->codecpar->height, avcodec_get_name(j->par->codec_id), j->par->width, j->par->height);
    }
    j->tb[i] = vs->time_base;
    j->first[i] = j->n;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt && rc == 0)
        rc = ts_error_set("%s: out of memory", path);
    int64_t lo = INT64_MAX;
    while (rc == 0) {
        int e = av_read_frame(ic, pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0) {
            rc = ts_error_set("%s: segment %d: read error after %lld packets (%s): damaged or truncated", path, i,
                              (long long)(j->n - j->first[i]), av_err2str(e));
            break;
        }
        if (pkt->stream_index == vs->index) {
            int64_t k = j->n - j->first[i];
            if (pkt->pts == AV_NOPTS_VALUE)
                rc = ts_error_set("%s: segment %d: packet %lld has no pts", path, i, (long long)k);
            else if (k == 0 && !(pkt->flags & AV_PKT_FLAG_KEY))
                rc = ts_error_set("%s: segment %d: does not start with a keyframe", path, i);
            else if (push_ts(j, pkt->pts, pkt->dts) < 0)
                rc = ts_error_set("%s: out of memory", path);
            lo = pkt->pts < lo ? pkt->pts : lo;
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    j->packets[i] = j->n - j->first[i];
    if (rc == 0 && j->packets[i] == 0)
        rc = ts_error_set("%s: segment %d: no video packets", path, i);
    /* Its frames must all come after the previous segment's. */
    if (rc == 0 && i > 0) {
        int64_t hi = INT64_MIN;
        for (int64_t k = j->first[i - 1]; k < j->first[i]; k++)
            hi = j->pts[k] > hi ? j->pts[k] : hi;
        if (av_compare_ts(lo, j->tb[i], hi, j->tb[i - 1]) <= 0)
            rc = ts_error_set("%s: segment %d: its frames start at %.3f s, not after the last frame of segment %d "
                              "(%s) at %.3f s: segments overlap or are out of order", path, i,
                              lo * av_q2d(j->tb[i]), i - 1, j->paths[i - 1], hi * av_q2d(j->tb[i - 1]));
    }
    avformat_close_input(&ic);
    return rc;
}

/* Rescales every packet's timestamps to the output time base and rebuilds the dts. */
static int retime(join_t *j, AVRational out_tb)
{
    for (int i = 0; i < j->count; i++) {
        int64_t a = j->first[i], m = j->packets[i];
        for (int64_t k = a; k < a + m; k++) {
            j->pts[k] = av_rescale_q(j->pts[k], j->tb[i], out_tb);
            if (j->dts[k] != AV_NOPTS_VALUE)
                j->dts[k] = av_rescale_q(j->dts[k], j->tb[i], out_tb);
        }
        /* Missing dts within a segment (its first packets, from NUT) go just below its first known one. */
        if (ts_segplan_fill_dts(j->pts + a, j->dts + a, (size_t)m, AV_NOPTS_VALUE) < 0)
            for (int64_t k = a; k < a + m; k++)
                j->dts[k] = AV_NOPTS_VALUE;
    }
    int64_t bad = assign_dts(j->pts, j->dts, j->n);
    if (bad == -2)
        return ts_error_set("%s: out of memory", j->out_path);
    if (bad >= 0) {
        int i = 0;
        while (i + 1 < j->count && j->first[i + 1] <= bad)
            i++;
        return ts_error_set("%s: segment %d: cannot give packet %lld (pts %lld) a decode timestamp in the output's "
                            "time base %d/%d", j->paths[i], i, (long long)(bad - j->first[i]),
                            (long long)j->pts[bad], out_tb.num, out_tb.den);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Output.                                                                                              */

typedef struct {
    join_t j;
    audio_t a;
    bool audio;            /* an audio stream is muxed */
    AVFormatContext *oc;
    AVStream *vst;
    AVPacket *apkt;        /* the next audio packet, when have_audio */
    bool have_audio;
    char *tmp;
    int64_t written;
} concat_t;

/* Writes the audio packets due before a video packet at dts `until` (video time base); INT64_MAX: all. */
static int write_audio_until(concat_t *c, int64_t until)
{
    while (c->audio) {
        if (!c->have_audio) {
            int rc = audio_next(&c->a, c->apkt);
            if (rc == AVERROR_EOF) {
                c->audio = false;
                break;
            }
            if (rc < 0)
                return -1;
            c->have_audio = true;
        }
        if (until != INT64_MAX && av_compare_ts(c->apkt->dts, c->a.ost->time_base, until, c->vst->time_base) > 0)
            break;
        c->have_audio = false;
        int rc = av_interleaved_write_frame(c->oc, c->apkt);
        if (rc < 0)
            return ts_error_set("%s: writing audio from %s: %s", c->j.out_path, c->a.path, av_err2str(rc));
    }
    return 0;
}

/* Pass 2: copies every segment's video packets with the rebuilt timestamps, audio interleaved. */
static int copy_segments(concat_t *c)
{
    join_t *j = &c->j;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return ts_error_set("%s: out of memory", j->out_path);
    int rc = 0;
    int64_t k = 0;
    for (int i = 0; rc == 0 && i < j->count; i++) {
        AVFormatContext *ic;
        AVStream *vs;
        if ((rc = segment_open(j, i, &ic, &vs)) < 0)
            break;
        int64_t got = 0;
        while (rc == 0) {
            int e = av_read_frame(ic, pkt);
            if (e == AVERROR_EOF)
                break;
            if (e < 0) {
                rc = ts_error_set("%s: segment %d: read error (%s)", j->paths[i], i, av_err2str(e));
                break;
            }
            if (pkt->stream_index != vs->index) {
                av_packet_unref(pkt);
                continue;
            }
            if (got++ >= j->packets[i]) {
                rc = ts_error_set("%s: segment %d: changed while it was being joined", j->paths[i], i);
                break;
            }
            pkt->duration = av_rescale_q(pkt->duration, vs->time_base, c->vst->time_base);
            pkt->pts = j->pts[k];
            pkt->dts = j->dts[k];
            pkt->stream_index = c->vst->index;
            pkt->pos = -1;
            k++;
            if ((rc = write_audio_until(c, pkt->dts)) < 0)
                break;
            if ((e = av_interleaved_write_frame(c->oc, pkt)) < 0)
                rc = ts_error_set("%s: writing video from %s: %s", j->out_path, j->paths[i], av_err2str(e));
            else
                c->written++;
        }
        av_packet_unref(pkt);
        if (rc == 0 && got != j->packets[i])
            rc = ts_error_set("%s: segment %d: changed while it was being joined", j->paths[i], i);
        avformat_close_input(&ic);
    }
    av_packet_free(&pkt);
    return rc < 0 ? -1 : write_audio_until(c, INT64_MAX);
}

/* Creates the output context with its video (and audio) stream and writes the header. */
static int open_output(concat_t *c, const char *muxer, const char *audio_source)
{
    join_t *j = &c->j;
    const char *out = j->out_path;
    size_t len = strlen(out) + sizeof ".tmp.XXXXXX";
    if (!(c->tmp = malloc(len)))
        return ts_error_set("%s: out of memory", out);
    snprintf(c->tmp, len, "%s.tmp.XXXXXX", out);
    int fd = mkstemp(c->tmp);
    if (fd < 0) {
        int e = errno;
        free(c->tmp);
        c->tmp = NULL;
        return ts_error_set("%s: cannot create a temporary file next to it: %s", out, strerror(e));
    }
    close(fd);
    int rc = avformat_alloc_output_context2(&c->oc, NULL, muxer, c->tmp);
    if (rc < 0 || !(c->vst = avformat_new_stream(c->oc, NULL)))
        return ts_error_set("%s: cannot set up the %s muxer", out, muxer);
    if (avformat_query_codec(c->oc->oformat, j->par->codec_id, FF_COMPLIANCE_NORMAL) == 0)
        return ts_error_set("%s: the %s container cannot hold %s video (from %s)", out, muxer,
                            avcodec_get_name(j->par->codec_id), j->paths[0]);
    if ((rc = avcodec_parameters_copy(c->vst->codecpar, j->par)) < 0)
        return ts_error_set("%s: %s", out, av_err2str(rc));
    c->vst->codecpar->codec_tag = 0;
    c->vst->time_base = j->first_tb;
    if (audio_source) {
        if (audio_open(&c->a, audio_source) < 0)
            return -1;
        if (c->a.ist) {
            enum AVCodecID id = c->a.ist->codecpar->codec_id;
            if (avformat_query_codec(c->oc->oformat, id, FF_COMPLIANCE_NORMAL) == 0) {
                if (audio_setup_encode(&c->a, c->oc) < 0)
                    return -1;
            } else {
                if (!(c->a.ost = avformat_new_stream(c->oc, NULL)))
                    return ts_error_set("%s: out of memory", out);
                if ((rc = avcodec_parameters_copy(c->a.ost->codecpar, c->a.ist->codecpar)) < 0)
                    return ts_error_set("%s: %s", out, av_err2str(rc));
                c->a.ost->codecpar->codec_tag = 0;
                c->a.ost->time_base = c->a.ist->time_base;
            }
            c->audio = true;
            if (!(c->apkt = av_packet_alloc()))
                return ts_error_set("%s: out of memory", out);
        }
    }
    if ((rc = avio_open(&c->oc->pb, c->tmp, AVIO_FLAG_WRITE)) < 0)
        return ts_error_set("%s: %s", out, av_err2str(rc));
    /* MP4 keeps a track's start delay as an edit in the movie time scale (1/1000 by default): in samples of
       the audio instead, so the audio starts exactly where the source's does. */
    AVDictionary *opts = NULL;
    if (c->audio && strcmp(muxer, MP4_MUXER) == 0 && c->a.ost->codecpar->sample_rate > 0)
        av_dict_set_int(&opts, "movie_timescale", c->a.ost->codecpar->sample_rate, 0);
    rc = avformat_write_header(c->oc, &opts);
    av_dict_free(&opts);
    if (rc < 0)
        return ts_error_set("%s: writing the %s header: %s", out, muxer, av_err2str(rc));
    return 0;
}

int ts_concat(const char *const *segment_paths, int count, const char *audio_source, const char *container,
              const char *out_path, int64_t *frames_out)
{
    assert(out_path);
    if (frames_out)
        *frames_out = 0;
    const char *muxer = NULL;
    for (size_t i = 0; container && i < sizeof s_containers / sizeof s_containers[0]; i++)
        if (strcmp(container, s_containers[i].name) == 0)
            muxer = s_containers[i].muxer;
    if (!muxer)
        return ts_error_set("%s: unknown container \"%s\" (mp4 or mkv)", out_path, container ? container : "");
    if (count < 1 || !segment_paths)
        return ts_error_set("%s: no segments to join", out_path);
    for (int i = 0; i < count; i++)
        if (!segment_paths[i] || !*segment_paths[i])
            return ts_error_set("%s: segment %d has no path", out_path, i);

    concat_t c = { .j = { .paths = segment_paths, .count = count, .out_path = out_path } };
    join_t *j = &c.j;
    int rc = 0;
    j->first = calloc((size_t)count, sizeof *j->first);
    j->packets = calloc((size_t)count, sizeof *j->packets);
    j->tb = calloc((size_t)count, sizeof *j->tb);
    if (!j->first || !j->packets || !j->tb)
        rc = ts_error_set("%s: out of memory", out_path);
    for (int i = 0; rc == 0 && i < count; i++)
        rc = scan_segment(j, i);
    if (rc == 0)
        rc = open_output(&c, muxer, audio_source);
    if (rc == 0)
        rc = retime(j, c.vst->time_base);
    if (rc == 0)
        rc = copy_segments(&c);
    if (rc == 0) {
        int e = av_write_trailer(c.oc);
        if (e < 0)
            rc = ts_error_set("%s: finishing the file: %s", out_path, av_err2str(e));
    }
    if (c.oc) {
        int e = avio_closep(&c.oc->pb);
        if (rc == 0 && e < 0)
            rc = ts_error_set("%s: %s", out_path, av_err2str(e));
        avformat_free_context(c.oc);
    }
    if (rc == 0 && rename(c.tmp, out_path) != 0)
        rc = ts_error_set("%s: %s", out_path, strerror(errno));
    if (rc != 0 && c.tmp)
        unlink(c.tmp);
    if (rc == 0 && frames_out)
        *frames_out = c.written;
    free(c.tmp);
    av_packet_free(&c.apkt);
    audio_close(&c.a);
    join_free(j);
    return rc < 0 ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Self-test.                                                                                           */

#define TEST_SEGMENT_SECONDS 0.5
#define TEST_AAC_FRAME 1024

static int s_failures;

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            if (s_failures++ < 30) {                                                                       \
                fprintf(stderr, "ts_concat: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);       \
                fprintf(stderr, __VA_ARGS__);                                                              \
                fprintf(stderr, "\n");                                                                     \
            }                                                                                              \
        }                                                                                                  \
    } while (0)

static void check_assign(const char *what, const int64_t *pts, const int64_t *in, int64_t n, const int64_t *want)
{
    int64_t d[16];
    memcpy(d, in, (size_t)n * sizeof *d);
    int64_t bad = assign_dts(pts, d, n);
    CHECK(bad == -1, "%s: failed at %lld", what, (long long)bad);
    for (int64_t k = 0; bad == -1 && k < n; k++)
        CHECK(d[k] == want[k], "%s: dts[%lld] %lld, want %lld", what, (long long)k, (long long)d[k],
              (long long)want[k]);
}

static void test_assign(void)
{
    const int64_t N = AV_NOPTS_VALUE;
    /* Segment 2's B-frame delay reaches back into segment 1's dts: pushed up one by one. */
    int64_t p1[] = { 0, 3, 1, 2, 4, 7, 5, 6 };
    check_assign("join", p1, (int64_t[]){ -1, 0, 1, 2, 2, 3, 4, 5 }, 8, (int64_t[]){ -1, 0, 1, 2, 3, 4, 5, 6 });
    /* Pushing up alone would give the B-frame pts 4 a dts of 5: the earlier dts are lowered to make room. */
    int64_t p2[] = { 0, 1, 2, 3, 5, 4 };
    check_assign("room", p2, (int64_t[]){ 0, 1, 2, 2, 3, 4 }, 6, (int64_t[]){ -1, 0, 1, 2, 3, 4 });
    /* Unknown dts: after the previous, or the bound for the first. */
    int64_t p3[] = { 0, 3, 1, 2 };
    check_assign("unknown", p3, (int64_t[]){ N, N, 0, 1 }, 4, (int64_t[]){ -1, 0, 1, 2 });
    check_assign("untouched", p3, (int64_t[]){ -3, -2, 0, 1 }, 4, (int64_t[]){ -3, -2, 0, 1 });
    /* Equal pts (a time base too coarse) still get distinct dts. */
    int64_t p4[] = { 10, 10, 10 };
    check_assign("coarse", p4, (int64_t[]){ 10, 10, 10 }, 3, (int64_t[]){ 8, 9, 10 });
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *name;
    ts_segplan_clip_t clip;
    bool reencoded_in_mp4; /* its audio cannot be stored in MP4 */
} test_clip_t;

/* Checks a joined file against the source: every frame once (pts set), dts valid, audio complete and in sync. */
static void check_output(const char *src, const char *out, const ts_segplan_t *plan, bool audio_copied,
                         bool audio_expected, int64_t frames_out)
{
    ts_segplan_tpkt_t *iv = NULL, *ov = NULL, *ia = NULL, *oa = NULL;
    int niv = 0, nov = 0, nia = 0, noa = 0;
    int rc = ts_segplan_test_packets(src, 'v', 0, 0, &iv, &niv);
    CHECK(rc == 0, "%s", ts_error());
    rc = rc == 0 ? ts_segplan_test_packets(out, 'v', 0, 0, &ov, &nov) : rc;
    CHECK(rc == 0, "%s", ts_error());
    AVFormatContext *ic = NULL;
    AVRational vtb = { 0, 1 }, atb = { 0, 1 };
    if (rc == 0 && avformat_open_input(&ic, out, NULL, NULL) == 0 && avformat_find_stream_info(ic, NULL) >= 0) {
        for (unsigned i = 0; i < ic->nb_streams; i++) {
            if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && vtb.num == 0)
                vtb = ic->streams[i]->time_base;
            if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && atb.num == 0)
                atb = ic->streams[i]->time_base;
        }
    }
    avformat_close_input(&ic);
    if (rc != 0 || vtb.num == 0) {
        CHECK(0, "%s: unreadable", out);
        goto done;
    }
    AVRational stb = { plan->tb_num, plan->tb_den };
    int64_t *want = malloc((size_t)niv * sizeof *want), *got = malloc((size_t)nov * sizeof *got);
    int nwant = 0;
    for (int k = 0; want && k < niv; k++)
        if (!iv[k].discard) /* frames an edit list drops are no frames */
            want[nwant++] = av_rescale_q(iv[k].pts, stb, vtb);
    niv = nwant;
    CHECK(nov == niv && frames_out == niv && plan->frames == niv, "%s: %d frames (%lld reported), source %d", out,
          nov, (long long)frames_out, niv);
    /* MP4 stores dts (MKV does not: its demuxer guesses them). */
    size_t len = strlen(out);
    bool has_dts = len > 4 && strcmp(out + len - 4, ".mp4") == 0;
    for (int k = 0; got && k < nov; k++) {
        got[k] = ov[k].pts;
        CHECK(!has_dts || (ov[k].dts != INT64_MIN && ov[k].dts <= ov[k].pts), "%s: packet %d dts %lld pts %lld", out,
              k, (long long)ov[k].dts, (long long)ov[k].pts);
        CHECK(!has_dts || k == 0 || ov[k].dts > ov[k - 1].dts, "%s: packet %d dts %lld after %lld", out, k,
              (long long)ov[k].dts, (long long)ov[k - 1].dts);
    }
    int64_t shift = 0; /* the container may move the whole timeline (MKV makes dts >= 0) */
    if (want && got && nov == niv && nov > 0) {
        qsort(want, (size_t)niv, sizeof *want, cmp_i64);
        qsort(got, (size_t)nov, sizeof *got, cmp_i64);
        shift = got[0] - want[0];
        for (int k = 0; k < nov; k++)
            if (got[k] - shift != want[k]) {
                CHECK(0, "%s: frame %d at pts %lld, source %lld (shift %lld)", out, k, (long long)got[k],
                      (long long)want[k], (long long)shift);
                break;
            }
    }
    free(want);
    free(got);
    if (!audio_expected) {
        CHECK(atb.num == 0, "%s: has audio", out);
        goto done;
    }
    CHECK(atb.num != 0, "%s: no audio", out);
    if (atb.num == 0 || ts_segplan_test_packets(src, 'a', 0, 0, &ia, &nia) < 0 ||
        ts_segplan_test_packets(out, 'a', 0, 0, &oa, &noa) < 0) {
        CHECK(0, "%s: audio unreadable: %s", out, ts_error());
        goto done;
    }
    AVRational src_atb = { 0, 1 };
    if (avformat_open_input(&ic, src, NULL, NULL) == 0 && avformat_find_stream_info(ic, NULL) >= 0)
        for (unsigned i = 0; i < ic->nb_streams && src_atb.num == 0; i++)
            if (ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
                src_atb = ic->streams[i]->time_base;
    avformat_close_input(&ic);
    int64_t ashift = av_rescale_q(shift, vtb, atb); /* the same shift, in the audio time base */
    if (audio_copied) {
        CHECK(noa == nia, "%s: %d audio packets, source %d", out, noa, nia);
        for (int k = 0; k < noa && k < nia; k++)
            if (llabs(oa[k].pts - ashift - av_rescale_q(ia[k].pts, src_atb, atb)) > 1) {
                CHECK(0, "%s: audio packet %d at %lld, source %lld, shift %lld (video %lld in %d/%d): out of sync", out,
                      k, (long long)oa[k].pts, (long long)av_rescale_q(ia[k].pts, src_atb, atb), (long long)ashift,
                      (long long)shift, vtb.num, vtb.den);
                break;
            }
    } else {
        /* Re-encoded: the same span of time, starting where the source's does (AAC priming aside). */
        double s_first = ia[0].pts * av_q2d(src_atb), s_last = ia[nia - 1].pts * av_q2d(src_atb);
        double o_first = (oa[0].pts - ashift) * av_q2d(atb), o_last = (oa[noa - 1].pts - ashift) * av_q2d(atb);
        double frame = (double)TEST_AAC_FRAME / 48000;
        CHECK(fabs(o_first + frame - s_first) <= 0.002 || fabs(o_first - s_first) <= 0.002,
              "%s: AAC audio starts at %.4f s, source %.4f s", out, o_first, s_first);
        CHECK(fabs(o_last - s_last) <= 3 * frame, "%s: AAC audio ends at %.4f s, source %.4f s", out, o_last, s_last);
    }
done:
    free(iv);
    free(ov);
    free(ia);
    free(oa);
}

/* Plans and cuts a clip, encodes every segment with the stand-in slave, joins into MP4 and MKV and checks. */
static void check_round_trip(const char *dir, const test_clip_t *t, bool verbose)
{
    char src[PATH_MAX];
    snprintf(src, sizeof src, "%s/%s", dir, t->name);
    int rc = ts_segplan_test_clip(src, &t->clip);
    CHECK(rc == 0, "%s", ts_error());
    ts_segplan_t *plan = NULL;
    if (rc != 0 || ts_segplan_make(src, TEST_SEGMENT_SECONDS, &plan) < 0) {
        CHECK(0, "%s: %s", src, ts_error());
        return;
    }
    int n = plan->count;
    CHECK(n >= 3, "%s: only %d segments", src, n);
    char **cut = calloc((size_t)n, sizeof *cut), **enc = calloc((size_t)n, sizeof *enc);
    for (int i = 0; cut && enc && i < n; i++) {
        if (asprintf(&cut[i], "%s/%s-cut-%d.nut", dir, t->name, i) < 0)
            cut[i] = NULL;
        if (asprintf(&enc[i], "%s/%s-enc-%d.nut", dir, t->name, i) < 0)
            enc[i] = NULL;
    }
    rc = ts_segplan_cut(plan, src, (const char *const *)cut);
    CHECK(rc == 0, "%s: %s", src, ts_error());
    int64_t total = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        int kept = 0;
        rc = ts_segplan_test_encode(plan, i, cut[i], enc[i], 0, 0, NULL, &kept);
        CHECK(rc == 0, "%s", ts_error());
        total += kept;
    }
    CHECK(rc != 0 || total == plan->frames, "%s: segments encode %lld frames of %lld", src, (long long)total,
          (long long)plan->frames);
    const char *containers[] = { "mp4", "mkv" };
    for (int c = 0; rc == 0 && c < 2; c++) {
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/%s-joined.%s", dir, t->name, containers[c]);
        int64_t frames = -1;
        int r = ts_concat((const char *const *)enc, n, t->clip.audio ? src : NULL, containers[c], out, &frames);
        CHECK(r == 0, "%s: %s", out, ts_error());
        if (r == 0) {
            bool copied = !(t->reencoded_in_mp4 && c == 0);
            check_output(src, out, plan, copied, t->clip.audio != NULL, frames);
            if (verbose)
                fprintf(stderr, "ts_concat: %s: %d segments, %lld frames, audio %s\n", out, n, (long long)frames,
                        !t->clip.audio ? "none" : copied ? "copied" : "re-encoded to AAC");
        }
        unlink(out);
    }
    /* Joined without an audio source: video only. */
    if (rc == 0 && t->clip.audio) {
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/%s-mute.mkv", dir, t->name);
        int64_t frames = -1;
        int r = ts_concat((const char *const *)enc, n, NULL, "mkv", out, &frames);
        CHECK(r == 0, "%s: %s", out, ts_error());
        if (r == 0)
            check_output(src, out, plan, true, false, frames);
        unlink(out);
    }
    for (int i = 0; cut && enc && i < n; i++) {
        if (cut[i])
            unlink(cut[i]);
        if (enc[i])
            unlink(enc[i]);
        free(cut[i]);
        free(enc[i]);
    }
    free(cut);
    free(enc);
    ts_segplan_destroy(&plan);
}

static void expect_fails(const char *what, const char *const *paths, int count, const char *audio,
                         const char *container, const char *out, const char *needle1, const char *needle2)
{
    int64_t frames = 7;
    int rc = ts_concat(paths, count, audio, container, out, &frames);
    const char *m = ts_error();
    CHECK(rc == -1, "%s: accepted", what);
    CHECK(rc == 0 || (strstr(m, needle1) && (!needle2 || strstr(m, needle2))),
          "%s: message \"%s\" lacks \"%s\" / \"%s\"", what, m, needle1, needle2 ? needle2 : "");
    CHECK(access(out, F_OK) != 0, "%s: %s written", what, out);
    CHECK(frames == 0, "%s: frames_out %lld", what, (long long)frames);
}

static void test_errors(const char *dir, bool verbose)
{
    char src[PATH_MAX], out[PATH_MAX], missing[PATH_MAX], text[PATH_MAX];
    snprintf(src, sizeof src, "%s/err.nut", dir);
    snprintf(out, sizeof out, "%s/err-out.mp4", dir);
    snprintf(missing, sizeof missing, "%s/missing.nut", dir);
    snprintf(text, sizeof text, "%s/notes.nut", dir);
    ts_segplan_clip_t clip = { .format = "nut", .frames = 60, .width = 96, .height = 64, .tb_den = 25, .gop = 12,
                               .max_b_frames = 2, .audio = "mp2" };
    ts_segplan_t *plan = NULL;
    if (ts_segplan_test_clip(src, &clip) < 0 || ts_segplan_make(src, TEST_SEGMENT_SECONDS, &plan) < 0 ||
        plan->count < 3) {
        CHECK(0, "%s: %s", src, ts_error());
        ts_segplan_destroy(&plan);
        return;
    }
    char cut[3][PATH_MAX], enc[3][PATH_MAX], wide[PATH_MAX];
    const char *cuts[64];
    char cutbuf[64][PATH_MAX];
    int n = plan->count < 64 ? plan->count : 64;
    for (int i = 0; i < n; i++) {
        snprintf(cutbuf[i], sizeof cutbuf[i], "%s/err-cut-%d.nut", dir, i);
        cuts[i] = cutbuf[i];
    }
    int rc = plan->count <= 64 ? ts_segplan_cut(plan, src, cuts) : -1;
    CHECK(rc == 0, "%s: %s", src, ts_error());
    for (int i = 0; rc == 0 && i < 3; i++) {
        snprintf(cut[i], sizeof cut[i], "%s", cuts[i]);
        snprintf(enc[i], sizeof enc[i], "%s/err-enc-%d.nut", dir, i);
        rc = ts_segplan_test_encode(plan, i, cut[i], enc[i], 0, 0, NULL, NULL);
        CHECK(rc == 0, "%s", ts_error());
    }
    snprintf(wide, sizeof wide, "%s/err-wide-1.nut", dir);
    if (rc == 0) {
        rc = ts_segplan_test_encode(plan, 1, cut[1], wide, plan->width + 16, plan->height, NULL, NULL);
        CHECK(rc == 0, "%s", ts_error());
    }
    FILE *f = fopen(text, "w");
    CHECK(f && fputs("not a video\n", f) >= 0 && fclose(f) == 0, "%s", text);
    if (rc == 0) {
        const char *good[] = { enc[0], enc[1], enc[2] };
        const char *mism[] = { enc[0], wide, enc[2] };
        const char *miss[] = { enc[0], missing, enc[2] };
        const char *twice[] = { enc[0], enc[1], enc[1] };
        const char *order[] = { enc[0], enc[2], enc[1] };
        const char *texts[] = { enc[0], text };
        const char *raw[] = { cut[0], cut[1] }; /* the cut files overlap: postroll */
        expect_fails("size mismatch", mism, 3, NULL, "mkv", out, wide, "frame size");
        expect_fails("missing segment", miss, 3, NULL, "mp4", out, missing, "no such file");
        expect_fails("segment twice", twice, 3, NULL, "mp4", out, enc[1], "overlap");
        expect_fails("out of order", order, 3, NULL, "mp4", out, enc[1], "out of order");
        expect_fails("text segment", texts, 2, NULL, "mp4", out, text, NULL);
        expect_fails("unjoined cut files", raw, 2, NULL, "mkv", out, cut[1], "overlap");
        expect_fails("unknown container", good, 3, NULL, "avi", out, "avi", NULL);
        expect_fails("no container", good, 3, NULL, NULL, out, out, NULL);
        expect_fails("no segments", good, 0, NULL, "mp4", out, out, NULL);
        expect_fails("missing audio source", good, 3, missing, "mp4", out, missing, NULL);
        expect_fails("text audio source", good, 3, text, "mp4", out, text, NULL);
        snprintf(missing, sizeof missing, "%s/no-such-dir/out.mp4", dir);
        expect_fails("unwritable output", good, 3, src, "mp4", missing, missing, NULL);
        /* A prefix of the segments joins fine (the plan is the caller's business). */
        int64_t frames = 0;
        rc = ts_concat(good, 2, src, "mp4", out, &frames);
        CHECK(rc == 0 && frames == plan->segments[0].frames + plan->segments[1].frames, "prefix: %s",
              rc ? ts_error() : "wrong frame count");
        unlink(out);
    }
    if (verbose)
        fprintf(stderr, "ts_concat: error cases done\n");
    ts_segplan_destroy(&plan);
}

/* Removes the test's directory; a temporary file left in it is a failure. */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    int tmp = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        tmp += strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    ts_file_remove_dir(dir);
    CHECK(tmp == 0, "%s: %d temporary files left behind", dir, tmp);
}

int ts_concat_test(bool verbose)
{
    s_failures = 0;
    int level = av_log_get_level();
    if (!verbose)
        av_log_set_level(AV_LOG_QUIET);
    test_assign();
    char dir[] = "/tmp/ts_concat_test.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ts_concat: mkdtemp: %s\n", strerror(errno));
        av_log_set_level(level);
        return -1;
    }
    static const test_clip_t clips[] = {
        { "open.nut", { .format = "nut", .frames = 80, .width = 160, .height = 120, .tb_den = 25, .gop = 12,
                        .max_b_frames = 2, .audio = "mp2" }, false },
        { "vfr.mkv", { .format = "matroska", .frames = 90, .width = 128, .height = 96, .tb_den = 1000, .vfr = true,
                       .gop = 10, .max_b_frames = 2 }, false },
        { "aac.mp4", { .format = "mp4", .frames = 60, .width = 160, .height = 112, .tb_den = 12800, .gop = 9,
                       .max_b_frames = 1, .audio = "aac", .audio_seconds = 2.7 }, false },
        { "pcm.mkv", { .format = "matroska", .frames = 50, .width = 96, .height = 64, .tb_den = 1000, .gop = 6,
                       .max_b_frames = 2, .audio = "pcm_s16le" }, true },
    };
    for (size_t i = 0; i < sizeof clips / sizeof clips[0]; i++)
        check_round_trip(dir, &clips[i], verbose);
    test_errors(dir, verbose);
    remove_dir(dir);
    av_log_set_level(level);
    if (verbose)
        fprintf(stderr, "ts_concat: %d failures\n", s_failures);
    return s_failures ? -1 : 0;
}
