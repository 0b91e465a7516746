/* ts_concat: joins encoded video segments by stream copy into MP4/MKV and muxes the source's audio back in. */
#include "splitter/ts_concat.h"
#include "lib/ts_error.h"
#include "splitter/ts_segplan.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libswresample/swresample.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
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

/* assign_dts for the self-test (ts_concat.h). */
int64_t ts_concat_assign_dts(const int64_t *pts, int64_t *dts, int64_t n)
{
    return assign_dts(pts, dts, n);
}
