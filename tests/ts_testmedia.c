/* ts_testmedia: the self-tests' media (ts_selftest only): synthetic clips, a stand-in slave encoder, packet lists. */
#include "tests/ts_testmedia.h"
#include "lib/ts_error.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------------- */
/* Synthetic clips.                                                                                     */

#define CLIP_FPS 25            /* CFR clips: 25 frames per second in any time base that is a multiple */
#define CLIP_SAMPLE_RATE 48000
#define CLIP_PCM_FRAME 1024    /* samples per frame for encoders without a frame size (PCM) */
#define CLIP_BIT_RATE 400000
#define CLIP_AUDIO_BIT_RATE 128000
#define STANDIN_GOP 12
#define STANDIN_B_FRAMES 2
#define STANDIN_FORMAT "nut"   /* the stand-in's output container, as slaves return segments */

/* Presentation time of frame i in 1/tb_den: 25 fps, or 40/20/100 ms steps for VFR. */
static int64_t clip_pts(const ts_testmedia_clip_t *c, int i)
{
    if (!c->vfr)
        return (int64_t)i * (c->tb_den / CLIP_FPS);
    int64_t ms = i < 30 ? i * 40 : i < 60 ? 1200 + (i - 30) * 20 : 1800 + (int64_t)(i - 60) * 100;
    return ms * c->tb_den / 1000;
}

/* Sends a frame (NULL: flush) to an encoder and writes what comes out to stream st of oc. */
static int encode_write(AVFormatContext *oc, AVCodecContext *enc, AVStream *st, const AVFrame *frame)
{
    int rc = avcodec_send_frame(enc, frame);
    if (rc < 0)
        return rc;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return AVERROR(ENOMEM);
    while ((rc = avcodec_receive_packet(enc, pkt)) >= 0) {
        av_packet_rescale_ts(pkt, enc->time_base, st->time_base);
        pkt->stream_index = st->index;
        if ((rc = av_interleaved_write_frame(oc, pkt)) < 0)
            break;
    }
    av_packet_free(&pkt);
    return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? 0 : rc;
}

static void fill_picture(AVFrame *f, int i)
{
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++)
            f->data[0][y * f->linesize[0] + x] = (uint8_t)(x * 3 + y * 2 + i * 5 + ((x / 16 + y / 16 + i / 8) % 2) * 64);
    for (int y = 0; y < f->height / 2; y++)
        for (int x = 0; x < f->width / 2; x++) {
            f->data[1][y * f->linesize[1] + x] = (uint8_t)(128 + x - i);
            f->data[2][y * f->linesize[2] + x] = (uint8_t)(64 + y + i * 2);
        }
}

static void fill_sound(AVFrame *f, int64_t first_sample)
{
    int ch = f->ch_layout.nb_channels;
    for (int s = 0; s < f->nb_samples; s++) {
        double v = 0.3 * sin(2 * M_PI * 440.0 * (double)(first_sample + s) / f->sample_rate);
        for (int c = 0; c < ch; c++) {
            switch (f->format) {
            case AV_SAMPLE_FMT_S16: ((int16_t *)f->data[0])[s * ch + c] = (int16_t)(v * 32767); break;
            case AV_SAMPLE_FMT_S16P: ((int16_t *)f->data[c])[s] = (int16_t)(v * 32767); break;
            case AV_SAMPLE_FMT_FLT: ((float *)f->data[0])[s * ch + c] = (float)v; break;
            case AV_SAMPLE_FMT_FLTP: ((float *)f->data[c])[s] = (float)v; break;
            default: break;
            }
        }
    }
}

int ts_testmedia_clip(const char *path, const ts_testmedia_clip_t *c)
{
    AVFormatContext *oc = NULL;
    AVCodecContext *ve = NULL, *ae = NULL;
    AVStream *vst = NULL, *ast = NULL;
    AVFrame *vf = NULL, *af = NULL;
    AVDictionary *opts = NULL;
    int rc = avformat_alloc_output_context2(&oc, NULL, c->format, path);
    if (rc < 0)
        goto done;
    bool global = (oc->oformat->flags & AVFMT_GLOBALHEADER) != 0;
    if (c->frames > 0) {
        ve = avcodec_alloc_context3(avcodec_find_encoder(AV_CODEC_ID_MPEG4));
        if (!ve || !(vst = avformat_new_stream(oc, NULL)) || !(vf = av_frame_alloc())) {
            rc = AVERROR(ENOMEM);
            goto done;
        }
        ve->width = c->width;
        ve->height = c->height;
        ve->pix_fmt = AV_PIX_FMT_YUV420P;
        ve->time_base = (AVRational){ 1, c->tb_den };
        ve->framerate = (AVRational){ CLIP_FPS, 1 };
        ve->gop_size = c->gop;
        ve->max_b_frames = c->max_b_frames;
        ve->bit_rate = CLIP_BIT_RATE;
        ve->thread_count = 1;
        if (global)
            ve->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        if ((rc = avcodec_open2(ve, NULL, NULL)) < 0 || (rc = avcodec_parameters_from_context(vst->codecpar, ve)) < 0)
            goto done;
        vst->time_base = ve->time_base;
        vf->format = ve->pix_fmt;
        vf->width = ve->width;
        vf->height = ve->height;
        if ((rc = av_frame_get_buffer(vf, 0)) < 0)
            goto done;
    }
    int64_t audio_total = 0;
    if (c->audio) {
        const AVCodec *codec = avcodec_find_encoder_by_name(c->audio);
        ae = codec ? avcodec_alloc_context3(codec) : NULL;
        if (!ae || !(ast = avformat_new_stream(oc, NULL)) || !(af = av_frame_alloc())) {
            rc = codec ? AVERROR(ENOMEM) : AVERROR_ENCODER_NOT_FOUND;
            goto done;
        }
        ae->sample_fmt = codec->sample_fmts ? codec->sample_fmts[0] : AV_SAMPLE_FMT_S16;
        ae->sample_rate = CLIP_SAMPLE_RATE;
        av_channel_layout_default(&ae->ch_layout, 2);
        ae->time_base = (AVRational){ 1, CLIP_SAMPLE_RATE };
        ae->bit_rate = CLIP_AUDIO_BIT_RATE;
        if (global)
            ae->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        if ((rc = avcodec_open2(ae, NULL, NULL)) < 0 || (rc = avcodec_parameters_from_context(ast->codecpar, ae)) < 0)
            goto done;
        ast->time_base = ae->time_base;
        af->format = ae->sample_fmt;
        af->sample_rate = ae->sample_rate;
        av_channel_layout_copy(&af->ch_layout, &ae->ch_layout);
        af->nb_samples = ae->frame_size > 0 ? ae->frame_size : CLIP_PCM_FRAME;
        if ((rc = av_frame_get_buffer(af, 0)) < 0)
            goto done;
        double seconds = c->audio_seconds > 0 ? c->audio_seconds : (double)c->frames / CLIP_FPS;
        audio_total = (int64_t)(seconds * CLIP_SAMPLE_RATE);
    }
    if ((rc = avio_open(&oc->pb, path, AVIO_FLAG_WRITE)) < 0)
        goto done;
    if (c->faststart)
        av_dict_set(&opts, "movflags", "faststart", 0);
    if ((rc = avformat_write_header(oc, &opts)) < 0)
        goto done;
    int i = 0;
    int64_t sent = 0;
    while (i < c->frames || sent < audio_total) {
        bool video = i < c->frames &&
                     (sent >= audio_total || av_compare_ts(clip_pts(c, i), ve->time_base, sent, ae->time_base) <= 0);
        if (video) {
            if ((rc = av_frame_make_writable(vf)) < 0)
                goto done;
            fill_picture(vf, i);
            vf->pts = clip_pts(c, i++);
            rc = encode_write(oc, ve, vst, vf);
        } else {
            if ((rc = av_frame_make_writable(af)) < 0)
                goto done;
            fill_sound(af, sent);
            af->pts = sent;
            sent += af->nb_samples;
            rc = encode_write(oc, ae, ast, af);
        }
        if (rc < 0)
            goto done;
    }
    if ((ve && (rc = encode_write(oc, ve, vst, NULL)) < 0) || (ae && (rc = encode_write(oc, ae, ast, NULL)) < 0))
        goto done;
    rc = av_write_trailer(oc);
done:
    av_dict_free(&opts);
    av_frame_free(&vf);
    av_frame_free(&af);
    avcodec_free_context(&ve);
    avcodec_free_context(&ae);
    if (oc)
        avio_closep(&oc->pb);
    avformat_free_context(oc);
    if (rc < 0)
        return ts_error_set("%s: writing the test clip: %s", path, av_err2str(rc));
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* A stand-in slave: decodes a cut file, keeps the owned frames, encodes them.                          */

typedef struct {
    const ts_segplan_t *plan;
    const ts_segment_t *seg;
    AVRational src_tb, in_tb;
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVFrame *canvas;    /* the frame handed to the encoder when its size differs from the decoder's */
    int64_t *pts;
    int n, cap;
} standin_t;

/* Keeps a decoded frame when the segment owns it, and encodes it. */
static int standin_frame(standin_t *s, AVFrame *f)
{
    int64_t t = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : f->pts;
    if (t == AV_NOPTS_VALUE)
        return AVERROR(EINVAL);
    int64_t p = av_rescale_q(t, s->in_tb, s->src_tb);
    if (p < s->seg->start_pts || p >= s->seg->end_pts)
        return 0;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        int64_t *np = realloc(s->pts, (size_t)cap * sizeof *np);
        if (!np)
            return AVERROR(ENOMEM);
        s->pts = np;
        s->cap = cap;
    }
    s->pts[s->n++] = p;
    if (!s->enc)
        return 0;
    AVFrame *in = f;
    if (s->canvas) {
        int rc = av_frame_make_writable(s->canvas);
        if (rc < 0)
            return rc;
        for (int plane = 0; plane < 3; plane++) {
            int sh = plane ? 1 : 0;
            int w = (s->canvas->width >> sh) < (f->width >> sh) ? s->canvas->width >> sh : f->width >> sh;
            for (int y = 0; y < (s->canvas->height >> sh); y++) {
                uint8_t *dst = s->canvas->data[plane] + y * s->canvas->linesize[plane];
                memset(dst, 128, (size_t)(s->canvas->width >> sh));
                if (y < (f->height >> sh))
                    memcpy(dst, f->data[plane] + y * f->linesize[plane], (size_t)w);
            }
        }
        in = s->canvas;
    }
    in->pts = p;
    in->pict_type = AV_PICTURE_TYPE_NONE;
    return encode_write(s->oc, s->enc, s->oc->streams[0], in);
}

static int standin_drain(standin_t *s, AVCodecContext *dec, AVFrame *f)
{
    int rc;
    while ((rc = avcodec_receive_frame(dec, f)) >= 0) {
        rc = standin_frame(s, f);
        av_frame_unref(f);
        if (rc < 0)
            return rc;
    }
    return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? 0 : rc;
}

int ts_testmedia_encode(const ts_segplan_t *plan, int index, const char *cut_path, const char *out_path, int width,
                        int height, int64_t **pts, int *count)
{
    standin_t s = { .plan = plan, .seg = &plan->segments[index], .src_tb = { plan->tb_num, plan->tb_den } };
    AVFormatContext *ic = NULL;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int rc = pkt && f ? 0 : AVERROR(ENOMEM);
    if (rc < 0 || (rc = avformat_open_input(&ic, cut_path, NULL, NULL)) < 0 ||
        (rc = avformat_find_stream_info(ic, NULL)) < 0)
        goto done;
    AVStream *st = ic->streams[0];
    s.in_tb = st->time_base;
    dec = avcodec_alloc_context3(avcodec_find_decoder(st->codecpar->codec_id));
    if (!dec) {
        rc = AVERROR_DECODER_NOT_FOUND;
        goto done;
    }
    if ((rc = avcodec_parameters_to_context(dec, st->codecpar)) < 0)
        goto done;
    dec->pkt_timebase = st->time_base;
    dec->thread_count = 1;
    /* After a non-IDR keyframe (open GOP) the H.264 decoder may consider pictures "not recovered" and drop them
       (seen at the flush of a short last segment) unless told to show all; frames with missing references are
       outside the segment's range anyway. Segment 0 starts where the source does: decoded as plain ffmpeg
       decodes it. */
    if (index > 0)
        dec->flags2 |= AV_CODEC_FLAG2_SHOW_ALL;
    if ((rc = avcodec_open2(dec, NULL, NULL)) < 0)
        goto done;
    if (out_path) {
        int w = width > 0 ? width : plan->width, h = height > 0 ? height : plan->height;
        AVStream *os;
        if ((rc = avformat_alloc_output_context2(&s.oc, NULL, STANDIN_FORMAT, out_path)) < 0)
            goto done;
        s.enc = avcodec_alloc_context3(avcodec_find_encoder(AV_CODEC_ID_MPEG4));
        if (!s.enc || !(os = avformat_new_stream(s.oc, NULL))) {
            rc = AVERROR(ENOMEM);
            goto done;
        }
        s.enc->width = w;
        s.enc->height = h;
        s.enc->pix_fmt = AV_PIX_FMT_YUV420P;
        s.enc->time_base = s.src_tb;
        s.enc->gop_size = STANDIN_GOP;
        s.enc->max_b_frames = STANDIN_B_FRAMES;
        s.enc->bit_rate = CLIP_BIT_RATE;
        s.enc->thread_count = 1;
        s.enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
        if ((rc = avcodec_open2(s.enc, NULL, NULL)) < 0 ||
            (rc = avcodec_parameters_from_context(os->codecpar, s.enc)) < 0)
            goto done;
        os->time_base = s.src_tb;
        s.oc->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
        if (w != plan->width || h != plan->height) {
            if (!(s.canvas = av_frame_alloc())) {
                rc = AVERROR(ENOMEM);
                goto done;
            }
            s.canvas->format = AV_PIX_FMT_YUV420P;
            s.canvas->width = w;
            s.canvas->height = h;
            if ((rc = av_frame_get_buffer(s.canvas, 0)) < 0)
                goto done;
        }
        if ((rc = avio_open(&s.oc->pb, out_path, AVIO_FLAG_WRITE)) < 0 ||
            (rc = avformat_write_header(s.oc, NULL)) < 0)
            goto done;
    }
    while ((rc = av_read_frame(ic, pkt)) >= 0) {
        if (pkt->stream_index == 0)
            rc = avcodec_send_packet(dec, pkt);
        av_packet_unref(pkt);
        if (rc < 0 || (rc = standin_drain(&s, dec, f)) < 0)
            goto done;
    }
    if (rc != AVERROR_EOF)
        goto done;
    if ((rc = avcodec_send_packet(dec, NULL)) < 0 || (rc = standin_drain(&s, dec, f)) < 0)
        goto done;
    if (s.enc && ((rc = encode_write(s.oc, s.enc, s.oc->streams[0], NULL)) < 0 || (rc = av_write_trailer(s.oc)) < 0))
        goto done;
    rc = 0;
done:
    av_packet_free(&pkt);
    av_frame_free(&f);
    av_frame_free(&s.canvas);
    avcodec_free_context(&dec);
    avcodec_free_context(&s.enc);
    avformat_close_input(&ic);
    if (s.oc)
        avio_closep(&s.oc->pb);
    avformat_free_context(s.oc);
    if (rc < 0) {
        free(s.pts);
        return ts_error_set("%s: test encode of segment %d: %s", cut_path, index, av_err2str(rc));
    }
    if (pts)
        *pts = s.pts;
    else
        free(s.pts);
    if (count)
        *count = s.n;
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Packet listings and truncated copies.                                                                */

int ts_testmedia_packets(const char *path, char type, int tb_num, int tb_den, ts_testmedia_pkt_t **pkts,
                         int *count)
{
    *pkts = NULL;
    *count = 0;
    AVFormatContext *ic = NULL;
    AVPacket *pkt = av_packet_alloc();
    ts_testmedia_pkt_t *v = NULL;
    int n = 0, cap = 0;
    int rc = pkt ? avformat_open_input(&ic, path, NULL, NULL) : AVERROR(ENOMEM);
    if (rc < 0 || (rc = avformat_find_stream_info(ic, NULL)) < 0)
        goto done;
    enum AVMediaType want = type == 'a' ? AVMEDIA_TYPE_AUDIO : AVMEDIA_TYPE_VIDEO;
    int si = -1;
    for (unsigned i = 0; si < 0 && i < ic->nb_streams; i++)
        if (ic->streams[i]->codecpar->codec_type == want)
            si = (int)i;
    if (si < 0) {
        rc = AVERROR_STREAM_NOT_FOUND;
        goto done;
    }
    AVRational from = ic->streams[si]->time_base, to = tb_num > 0 ? (AVRational){ tb_num, tb_den } : from;
    while ((rc = av_read_frame(ic, pkt)) >= 0) {
        if (pkt->stream_index == si) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                ts_testmedia_pkt_t *nv = realloc(v, (size_t)cap * sizeof *nv);
                if (!nv) {
                    rc = AVERROR(ENOMEM);
                    goto done;
                }
                v = nv;
            }
            v[n].pts = pkt->pts == AV_NOPTS_VALUE ? INT64_MIN : av_rescale_q(pkt->pts, from, to);
            v[n].dts = pkt->dts == AV_NOPTS_VALUE ? INT64_MIN : av_rescale_q(pkt->dts, from, to);
            v[n].key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
            v[n].discard = (pkt->flags & AV_PKT_FLAG_DISCARD) != 0;
            n++;
        }
        av_packet_unref(pkt);
    }
    rc = rc == AVERROR_EOF ? 0 : rc;
done:
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    if (rc < 0) {
        free(v);
        return ts_error_set("%s: listing packets: %s", path, av_err2str(rc));
    }
    *pkts = v;
    *count = n;
    return 0;
}

int ts_testmedia_copy_prefix(const char *from, const char *to, double fraction)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int rc = in && out ? 0 : -1;
    if (rc == 0 && fseek(in, 0, SEEK_END) == 0) {
        long size = (long)(ftell(in) * fraction);
        rewind(in);
        for (long i = 0; i < size; i++) {
            int ch = fgetc(in);
            if (ch == EOF || fputc(ch, out) == EOF) {
                rc = -1;
                break;
            }
        }
    }
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}
