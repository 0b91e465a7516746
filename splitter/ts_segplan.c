/* ts_segplan: keyframe index of a video, segment plan by presentation time, packet-copy cut into NUT files. */
#include "splitter/ts_segplan.h"
#include "lib/ts_error.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEGMENT_FORMAT "nut"          /* container of the segment files */
#define TRUNCATED_SLACK_SECONDS 1.0   /* packets may end this much before the declared duration, or ... */
#define TRUNCATED_SLACK_RATIO 0.05    /* ... this fraction of it, before the file counts as truncated */
#define MAX_POSTROLL 1024             /* most leading packets after a keyframe for it to be a boundary */
#define MAX_DTS_RUN 256               /* most packets in a row without a usable dts */
#define INDEX_INITIAL 4096            /* first allocation of the packet index */

/* ---------------------------------------------------------------------------------------------------- */
/* Opening an input.                                                                                    */

typedef struct {
    AVFormatContext *ic;
    AVStream *video;
    const AVCodec *decoder;
} input_t;

static void input_close(input_t *in)
{
    avformat_close_input(&in->ic);
    in->video = NULL;
}

/* Codecs that libavformat produces for plain text files (the "tty" demuxer and friends). */
static bool is_text_art(enum AVCodecID id)
{
    return id == AV_CODEC_ID_ANSI || id == AV_CODEC_ID_BINTEXT || id == AV_CODEC_ID_XBIN ||
           id == AV_CODEC_ID_IDF;
}

/* Opens `path` and finds its first video stream (cover art excluded) and its decoder. */
static int input_open(const char *path, input_t *in)
{
    memset(in, 0, sizeof *in);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return ts_error_set("%s: no such file", path);
        return ts_error_set("%s: %s", path, strerror(errno));
    }
    if (S_ISDIR(sb.st_mode))
        return ts_error_set("%s: is a directory, not a media file", path);
    if (!S_ISREG(sb.st_mode))
        return ts_error_set("%s: not a regular file", path);
    if (sb.st_size == 0)
        return ts_error_set("%s: empty file (0 bytes), not a media file", path);
    int rc = avformat_open_input(&in->ic, path, NULL, NULL);
    if (rc < 0)
        return ts_error_set("%s: not a media file, or damaged (%s)", path, av_err2str(rc));
    rc = avformat_find_stream_info(in->ic, NULL);
    if (rc < 0) {
        input_close(in);
        return ts_error_set("%s: cannot read its streams (%s): damaged or truncated", path, av_err2str(rc));
    }
    unsigned audio = 0;
    for (unsigned i = 0; i < in->ic->nb_streams; i++) {
        AVStream *st = in->ic->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
            audio++;
        if (!in->video && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            in->video = st;
    }
    if (!in->video) {
        unsigned n = in->ic->nb_streams;
        input_close(in);
        return ts_error_set("%s: no video stream (%u stream(s), %u of them audio)", path, n, audio);
    }
    enum AVCodecID id = in->video->codecpar->codec_id;
    if (is_text_art(id)) {
        input_close(in);
        return ts_error_set("%s: a text file (libavformat reads it as \"%s\" text art), not a video", path,
                            avcodec_get_name(id));
    }
    in->decoder = avcodec_find_decoder(id);
    if (!in->decoder) {
        input_close(in);
        return ts_error_set("%s: no decoder for its video codec \"%s\"", path, avcodec_get_name(id));
    }
    /* Missing pts are generated from later dts where libavformat can (B-frame streams in AVI and the like). */
    in->ic->flags |= AVFMT_FLAG_GENPTS;
    return 0;
}

/* The checks every video packet passes, in planning and in cutting alike. */
static int check_packet(const char *path, const AVPacket *pkt, int64_t index, AVRational tb)
{
    if (pkt->flags & AV_PKT_FLAG_CORRUPT)
        return ts_error_set("%s: video packet %lld is corrupt: the file is damaged or truncated", path,
                            (long long)index);
    if (pkt->pts == AV_NOPTS_VALUE)
        return ts_error_set("%s: video packet %lld has no presentation timestamp (a raw elementary stream, or AVI "
                            "with B-frames?): segments are cut by pts; remux it into MKV or MP4 first", path,
                            (long long)index);
    if (pkt->pts < 0)
        return ts_error_set("%s: video packet %lld has a negative pts (%.3f s), which the segment container cannot "
                            "store: remux with -avoid_negative_ts make_zero first", path, (long long)index,
                            pkt->pts * av_q2d(tb));
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Decode timestamps. A segment file needs a dts per packet (strictly increasing, <= pts). Known ones    */
/* that break those rules are dropped (relative to the last good known one), then each run of missing  */
/* dts is filled just below the next known dts (or the run's own pts at the end).                      */

/* True when dts (known) can be kept after the last kept known dts `last_known`. */
static bool dts_usable(int64_t pts, int64_t dts, int64_t last_known)
{
    return dts != AV_NOPTS_VALUE && dts <= pts && (last_known == AV_NOPTS_VALUE || dts > last_known);
}

/* Fills the missing entries of dts[0..n) (decode order), given the dts before the window (AV_NOPTS_VALUE:
   none); known entries are kept. Each run gets the largest values below the next known dts that keep
   dts <= pts and strictly increasing. Returns -1 when a run does not fit above what precedes it. */
static int cmp_pts(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The leading packets of a B-frame stream read back from NUT have no dts. An encoder's dts are the sorted pts
   moved back by a constant delay (dts[i] = S[i] - D), so the missing ones follow from the first known one:
   dts[j] = dts[b] - (S[b] - S[j]). This keeps the encoder's full delay (and so the stream's duration) instead of
   squeezing it into a few ticks. Returns 0 when it applied, -1 to fall back. */
static int fill_leading(const int64_t *pts, int64_t *dts, size_t n, size_t b)
{
    int64_t *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return -1;
    memcpy(sorted, pts, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_pts);
    int rc = 0;
    for (size_t j = 0; j < b && rc == 0; j++) {
        dts[j] = dts[b] - (sorted[b] - sorted[j]);
        if (dts[j] > pts[j] || (j > 0 && dts[j] <= dts[j - 1]) || dts[j] >= dts[b])
            rc = -1;
    }
    free(sorted);
    if (rc < 0)
        for (size_t j = 0; j < b; j++)
            dts[j] = AV_NOPTS_VALUE;
    return rc;
}

static int fill_dts(const int64_t *pts, int64_t *dts, size_t n, int64_t before)
{
    size_t a = 0;
    if (before == AV_NOPTS_VALUE && n > 0 && dts[0] == AV_NOPTS_VALUE) {
        size_t b = 0;
        while (b < n && dts[b] == AV_NOPTS_VALUE)
            b++;
        bool all_pts = true;
        for (size_t j = 0; j < n; j++)
            all_pts = all_pts && pts[j] != AV_NOPTS_VALUE;
        if (b < n && all_pts && fill_leading(pts, dts, n, b) == 0)
            a = b;
    }
    while (a < n) {
        if (dts[a] != AV_NOPTS_VALUE) {
            a++;
            continue;
        }
        size_t b = a;
        while (b < n && dts[b] == AV_NOPTS_VALUE)
            b++;
        int64_t limit = b < n ? dts[b] - 1 : INT64_MAX;
        for (size_t j = b; j-- > a;) {
            dts[j] = pts[j] < limit ? pts[j] : limit;
            if (dts[j] <= INT64_MIN + 1)
                return -1;
            limit = dts[j] - 1;
        }
        int64_t lower = a > 0 ? dts[a - 1] : before;
        if (lower != AV_NOPTS_VALUE && dts[a] <= lower)
            return -1;
        a = b;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Planning.                                                                                            */

/* Chooses the boundary pts of a stream given by pts[]/key[] in decode order (see the header's DESIGN):
   keyframe k is eligible when every earlier packet has pts < pts[k] and, after the run of at most
   MAX_POSTROLL packets below pts[k] that follows it, every packet has pts >= pts[k]. A segment ends at the
   first eligible keyframe whose pts is at least `seconds` after the segment's start (segment 0 starts at
   lo, the smallest pts of a frame) and at most hi (the largest pts of a frame), so no segment is empty.
   Sets *bounds (malloc'd, may be NULL when none) and *count. */
static int choose_bounds(const int64_t *pts, const bool *key, size_t n, int64_t lo, int64_t hi, AVRational tb,
                         double seconds, int64_t **bounds, int *count)
{
    *bounds = NULL;
    *count = 0;
    if (n == 0)
        return 0;
    int64_t *smin = malloc((n + 1) * sizeof *smin);
    if (!smin)
        return -1;
    smin[n] = INT64_MAX;
    for (size_t k = n; k-- > 0;)
        smin[k] = pts[k] < smin[k + 1] ? pts[k] : smin[k + 1];
    int64_t *b = NULL;
    int nb = 0, cap = 0;
    int64_t start = lo, pmax = INT64_MIN;
    for (size_t k = 0; k < n; k++) {
        int64_t p = pts[k];
        if (key[k] && pmax < p && p > start && p <= hi && (double)(p - start) * tb.num >= seconds * tb.den) {
            size_t r = k + 1;
            while (r < n && r - k <= MAX_POSTROLL && pts[r] < p)
                r++;
            if (r - k <= MAX_POSTROLL && smin[r] >= p) {
                if (nb == cap) {
                    cap = cap ? 2 * cap : 64;
                    int64_t *nbuf = realloc(b, (size_t)cap * sizeof *b);
                    if (!nbuf) {
                        free(b);
                        free(smin);
                        return -1;
                    }
                    b = nbuf;
                }
                b[nb++] = p;
                start = p;
            }
        }
        if (p > pmax)
            pmax = p;
    }
    free(smin);
    *bounds = b;
    *count = nb;
    return 0;
}

/* Index of the segment owning pts among count-1 sorted boundaries: the number of boundaries <= pts. */
static int owner(const int64_t *bounds, int nb, int64_t pts)
{
    int lo = 0, hi = nb;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (bounds[mid] <= pts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct {
    int64_t *pts, *dts;
    bool *key, *drop; /* drop: marked discard (outside the container's edit list) */
    size_t n, cap;
} index_t;

static void index_free(index_t *x)
{
    free(x->pts);
    free(x->dts);
    free(x->key);
    free(x->drop);
    memset(x, 0, sizeof *x);
}

static int index_push(index_t *x, int64_t pts, int64_t dts, bool key, bool drop)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : INDEX_INITIAL;
        int64_t *p = realloc(x->pts, cap * sizeof *p);
        if (p)
            x->pts = p;
        int64_t *d = realloc(x->dts, cap * sizeof *d);
        if (d)
            x->dts = d;
        bool *k = realloc(x->key, cap * sizeof *k);
        if (k)
            x->key = k;
        bool *g = realloc(x->drop, cap * sizeof *g);
        if (g)
            x->drop = g;
        if (!p || !d || !k || !g)
            return -1;
        x->cap = cap;
    }
    x->pts[x->n] = pts;
    x->dts[x->n] = dts;
    x->key[x->n] = key;
    x->drop[x->n] = drop;
    x->n++;
    return 0;
}

/* Reads every packet: the video ones into the index (checked), all of them for the end of the content. */
static int read_index(const char *path, input_t *in, index_t *x, double *content_end, int64_t *video_end)
{
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return ts_error_set("%s: out of memory", path);
    AVRational tb = in->video->time_base;
    int64_t last_known = AV_NOPTS_VALUE;
    *content_end = -INFINITY;
    *video_end = INT64_MIN;
    int rc = 0;
    for (;;) {
        int e = av_read_frame(in->ic, pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0) {
            rc = ts_error_set("%s: read error after %zu video packets (%s): the file is damaged or truncated", path,
                              x->n, av_err2str(e));
            break;
        }
        AVStream *st = in->ic->streams[pkt->stream_index];
        int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
        if (t != AV_NOPTS_VALUE) {
            double end = (t + (pkt->duration > 0 ? pkt->duration : 0)) * av_q2d(st->time_base);
            if (end > *content_end)
                *content_end = end;
        }
        if (st == in->video) {
            if (check_packet(path, pkt, (int64_t)x->n, tb) < 0) {
                rc = -1;
                break;
            }
            int64_t dts = dts_usable(pkt->pts, pkt->dts, last_known) ? pkt->dts : AV_NOPTS_VALUE;
            if (dts != AV_NOPTS_VALUE)
                last_known = dts;
            int64_t end = pkt->pts + (pkt->duration > 0 ? pkt->duration : 0);
            if (!(pkt->flags & AV_PKT_FLAG_DISCARD) && end > *video_end)
                *video_end = end;
            if (index_push(x, pkt->pts, dts, (pkt->flags & AV_PKT_FLAG_KEY) != 0,
                           (pkt->flags & AV_PKT_FLAG_DISCARD) != 0) < 0) {
                rc = ts_error_set("%s: out of memory indexing %zu video packets", path, x->n);
                break;
            }
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    return rc;
}

int ts_segplan_make(const char *input, double segment_seconds, ts_segplan_t **plan)
{
    assert(input && plan);
    *plan = NULL;
    if (!(segment_seconds > 0) || !isfinite(segment_seconds))
        return ts_error_set("%s: segment length %g s: must be a finite number of seconds > 0", input,
                            segment_seconds);
    input_t in;
    if (input_open(input, &in) < 0)
        return -1;
    AVStream *vs = in.video;
    AVRational tb = vs->time_base;
    index_t x = { 0 };
    double content_end = 0;
    int64_t video_end = 0;
    int64_t *bounds = NULL;
    int nb = 0;
    ts_segplan_t *p = NULL;
    if (read_index(input, &in, &x, &content_end, &video_end) < 0)
        goto fail;
    if (x.n == 0) {
        ts_error_set("%s: the video stream has no packets (empty or truncated)", input);
        goto fail;
    }
    size_t first_key = 0;
    while (first_key < x.n && !x.key[first_key])
        first_key++;
    if (first_key == x.n) {
        ts_error_set("%s: none of the %zu video packets is a keyframe: nothing can be decoded (truncated or "
                     "damaged)", input, x.n);
        goto fail;
    }
    AVFormatContext *ic = in.ic;
    if (ic->duration_estimation_method == AVFMT_DURATION_FROM_STREAM && ic->duration > 0) {
        double start = ic->start_time != AV_NOPTS_VALUE ? ic->start_time / (double)AV_TIME_BASE : 0;
        double declared = ic->duration / (double)AV_TIME_BASE;
        double slack = fmax(TRUNCATED_SLACK_SECONDS, TRUNCATED_SLACK_RATIO * declared);
        if (content_end < start + declared - slack) {
            ts_error_set("%s: truncated: its packets end at %.2f s but its header says it lasts %.2f s", input,
                         content_end - start, declared);
            goto fail;
        }
    }
    if (fill_dts(x.pts, x.dts, x.n, AV_NOPTS_VALUE) < 0) {
        ts_error_set("%s: the video decode timestamps are broken beyond repair (dts > pts or not increasing)",
                     input);
        goto fail;
    }
    /* Frames the container marks discard (outside its edit list) are owned by no segment: they must lie
       before or after all the others, and the outer segments' ranges then stop at the kept frames. */
    int64_t lo = INT64_MAX, hi = INT64_MIN, kept = 0;
    bool drop_before = false, drop_after = false;
    for (size_t k = 0; k < x.n; k++)
        if (!x.drop[k]) {
            lo = x.pts[k] < lo ? x.pts[k] : lo;
            hi = x.pts[k] > hi ? x.pts[k] : hi;
            kept++;
        }
    if (kept == 0) {
        ts_error_set("%s: all %zu video packets are marked to be discarded (an empty edit list?)", input, x.n);
        goto fail;
    }
    for (size_t k = 0; k < x.n; k++) {
        if (!x.drop[k])
            continue;
        if (x.pts[k] >= lo && x.pts[k] <= hi) {
            ts_error_set("%s: video packet %zu (%.3f s) is marked to be discarded but lies between frames that are "
                         "kept (an edit list with a gap?): not supported, remux or re-encode it first", input, k,
                         x.pts[k] * av_q2d(tb));
            goto fail;
        }
        drop_before = drop_before || x.pts[k] < lo;
        drop_after = drop_after || x.pts[k] > hi;
    }
    if (choose_bounds(x.pts, x.key, x.n, lo, hi, tb, segment_seconds, &bounds, &nb) < 0) {
        ts_error_set("%s: out of memory planning %zu packets", input, x.n);
        goto fail;
    }
    p = calloc(1, sizeof *p);
    if (p)
        p->segments = calloc((size_t)nb + 1, sizeof *p->segments);
    if (!p || !p->segments) {
        ts_error_set("%s: out of memory", input);
        goto fail;
    }
    for (size_t k = 0; k < x.n; k++)
        if (!x.drop[k])
            p->segments[owner(bounds, nb, x.pts[k])].frames++;
    double sec = av_q2d(tb);
    double first = lo * sec;
    double last_end = video_end > hi ? video_end * sec : hi * sec;
    if (video_end <= hi && kept > 1) /* no packet durations: add one average frame */
        last_end = hi * sec + (double)(hi - lo) * sec / (double)(kept - 1);
    p->video_stream = vs->index;
    p->tb_num = tb.num;
    p->tb_den = tb.den;
    p->width = vs->codecpar->width;
    p->height = vs->codecpar->height;
    AVRational fps = av_guess_frame_rate(ic, vs, NULL);
    p->fps_num = fps.num > 0 && fps.den > 0 ? fps.num : 0;
    p->fps_den = fps.num > 0 && fps.den > 0 ? fps.den : 1;
    snprintf(p->codec, sizeof p->codec, "%s", in.decoder->name);
    for (unsigned i = 0; i < ic->nb_streams; i++)
        p->has_audio = p->has_audio || ic->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
    p->frames = kept;
    p->duration_seconds = last_end - first;
    p->count = nb + 1;
    for (int i = 0; i <= nb; i++) {
        ts_segment_t *s = &p->segments[i];
        s->index = i;
        s->start_pts = i > 0 ? bounds[i - 1] : drop_before ? lo : INT64_MIN;
        s->end_pts = i < nb ? bounds[i] : drop_after ? hi + 1 : INT64_MAX;
        s->start_seconds = i == 0 ? first : bounds[i - 1] * sec;
        s->end_seconds = i == nb ? last_end : bounds[i] * sec;
    }
    free(bounds);
    index_free(&x);
    input_close(&in);
    *plan = p;
    return 0;
fail:
    if (p)
        free(p->segments);
    free(p);
    free(bounds);
    index_free(&x);
    input_close(&in);
    return -1;
}

void ts_segplan_destroy(ts_segplan_t **plan)
{
    if (!plan || !*plan)
        return;
    free((*plan)->segments);
    free(*plan);
    *plan = NULL;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Cutting.                                                                                             */

typedef struct {
    AVFormatContext *oc;
    char *tmp;     /* temporary path while writing; NULL before opening */
    int64_t owned; /* packets written whose pts this segment owns */
    bool closed;
} writer_t;

typedef struct {
    const ts_segplan_t *plan;
    const char *input;
    const char *const *paths;
    AVStream *in;
    writer_t *w;
    int cur, post;                 /* segment receiving packets; segment in its postroll (-1: none) */
    int64_t packets;               /* video packets routed */
    AVPacket *queue[MAX_DTS_RUN + 1]; /* packets waiting for a dts */
    int64_t qpts[MAX_DTS_RUN + 1], qdts[MAX_DTS_RUN + 1];
    int queued;
    int64_t last_known, last_dts;  /* last good known dts of the input; last dts routed */
} cut_t;

static int writer_open(cut_t *c, int i)
{
    writer_t *w = &c->w[i];
    const char *path = c->paths[i];
    size_t len = strlen(path) + sizeof ".tmp.XXXXXX";
    w->tmp = malloc(len);
    if (!w->tmp)
        return ts_error_set("%s: out of memory", path);
    snprintf(w->tmp, len, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(w->tmp);
    if (fd < 0) {
        int e = errno;
        free(w->tmp);
        w->tmp = NULL;
        return ts_error_set("%s: segment %d of %s: cannot create a temporary file: %s", path, i, c->input,
                            strerror(e));
    }
    close(fd);
    int rc = avformat_alloc_output_context2(&w->oc, NULL, SEGMENT_FORMAT, w->tmp);
    AVStream *os = rc >= 0 ? avformat_new_stream(w->oc, NULL) : NULL;
    if (!os)
        return ts_error_set("%s: segment %d of %s: cannot set up the %s muxer", path, i, c->input, SEGMENT_FORMAT);
    if ((rc = avcodec_parameters_copy(os->codecpar, c->in->codecpar)) < 0)
        return ts_error_set("%s: segment %d of %s: %s", path, i, c->input, av_err2str(rc));
    os->codecpar->codec_tag = 0;
    os->time_base = c->in->time_base;
    w->oc->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED; /* keep the source's timestamps */
    if ((rc = avio_open(&w->oc->pb, w->tmp, AVIO_FLAG_WRITE)) < 0)
        return ts_error_set("%s: segment %d of %s: %s", path, i, c->input, av_err2str(rc));
    if ((rc = avformat_write_header(w->oc, NULL)) < 0)
        return ts_error_set("%s: segment %d of %s: writing the header: %s", path, i, c->input, av_err2str(rc));
    return 0;
}

static int writer_close(cut_t *c, int i)
{
    writer_t *w = &c->w[i];
    int rc = av_write_trailer(w->oc);
    int e = avio_closep(&w->oc->pb);
    avformat_free_context(w->oc);
    w->oc = NULL;
    w->closed = true;
    if (rc < 0 || e < 0)
        return ts_error_set("%s: segment %d of %s: finishing the file: %s", c->paths[i], i, c->input,
                            av_err2str(rc < 0 ? rc : e));
    return 0;
}

static void writer_discard(writer_t *w)
{
    if (w->oc) {
        avio_closep(&w->oc->pb);
        avformat_free_context(w->oc);
        w->oc = NULL;
    }
    if (w->tmp) {
        unlink(w->tmp);
        free(w->tmp);
        w->tmp = NULL;
    }
}

static int writer_put(cut_t *c, int i, const AVPacket *pkt)
{
    writer_t *w = &c->w[i];
    const ts_segment_t *s = &c->plan->segments[i];
    AVPacket *out = av_packet_clone(pkt);
    if (!out)
        return ts_error_set("%s: out of memory", c->input);
    out->stream_index = 0;
    out->pos = -1;
    av_packet_rescale_ts(out, c->in->time_base, w->oc->streams[0]->time_base);
    int rc = av_write_frame(w->oc, out);
    av_packet_free(&out);
    if (rc < 0)
        return ts_error_set("%s: segment %d of %s: writing the packet at pts %lld: %s", c->paths[i], i, c->input,
                            (long long)pkt->pts, av_err2str(rc));
    if (pkt->pts >= s->start_pts && pkt->pts < s->end_pts)
        w->owned++;
    return 0;
}

/* Sends one packet (with its dts) to the segment(s) it belongs to. */
static int route(cut_t *c, const AVPacket *pkt)
{
    const ts_segment_t *seg = c->plan->segments;
    c->packets++;
    if (c->post >= 0 && !(pkt->pts < seg[c->post].end_pts)) {
        if (writer_close(c, c->post) < 0)
            return -1;
        c->post = -1;
    }
    if (c->cur + 1 < c->plan->count && (pkt->flags & AV_PKT_FLAG_KEY) && pkt->pts == seg[c->cur].end_pts) {
        /* The end keyframe: the start of segment cur+1 and the first packet of cur's postroll. */
        if (writer_put(c, c->cur, pkt) < 0)
            return -1;
        c->post = c->cur++;
        if (writer_open(c, c->cur) < 0)
            return -1;
        return writer_put(c, c->cur, pkt);
    }
    if (c->post >= 0 && writer_put(c, c->post, pkt) < 0)
        return -1;
    return writer_put(c, c->cur, pkt);
}

/* Gives the queued packets their dts (see fill_dts) and routes them. */
static int flush_queue(cut_t *c)
{
    int64_t *pts = c->qpts, *dts = c->qdts;
    for (int i = 0; i < c->queued; i++) {
        pts[i] = c->queue[i]->pts;
        dts[i] = c->queue[i]->dts;
    }
    int rc = 0;
    if (fill_dts(pts, dts, (size_t)c->queued, c->last_dts) < 0)
        rc = ts_error_set("%s: the video decode timestamps are broken beyond repair near packet %lld", c->input,
                          (long long)c->packets);
    for (int i = 0; i < c->queued; i++) {
        if (rc == 0) {
            c->queue[i]->dts = dts[i];
            c->last_dts = dts[i];
            rc = route(c, c->queue[i]);
        }
        av_packet_free(&c->queue[i]);
    }
    c->queued = 0;
    return rc;
}

/* Takes a video packet of the input: checks it, queues it until its dts is settled. */
static int take(cut_t *c, AVPacket *pkt)
{
    AVRational tb = c->in->time_base;
    if (check_packet(c->input, pkt, c->packets + c->queued, tb) < 0)
        return -1;
    if (dts_usable(pkt->pts, pkt->dts, c->last_known))
        c->last_known = pkt->dts;
    else
        pkt->dts = AV_NOPTS_VALUE;
    if (c->queued == MAX_DTS_RUN)
        return ts_error_set("%s: more than %d video packets in a row without a usable decode timestamp", c->input,
                            MAX_DTS_RUN);
    c->queue[c->queued] = av_packet_clone(pkt);
    if (!c->queue[c->queued])
        return ts_error_set("%s: out of memory", c->input);
    c->queued++;
    return pkt->dts != AV_NOPTS_VALUE ? flush_queue(c) : 0;
}

static int cut_run(cut_t *c, input_t *in)
{
    const ts_segplan_t *plan = c->plan;
    AVRational tb = c->in->time_base;
    if (plan->video_stream != c->in->index || plan->tb_num != tb.num || plan->tb_den != tb.den)
        return ts_error_set("%s: its video stream (#%d, time base %d/%d) is not the one planned (#%d, %d/%d): the "
                            "input changed since it was planned", c->input, c->in->index, tb.num, tb.den,
                            plan->video_stream, plan->tb_num, plan->tb_den);
    for (unsigned i = 0; i < in->ic->nb_streams; i++)
        if (in->ic->streams[i] != c->in)
            in->ic->streams[i]->discard = AVDISCARD_ALL;
    if (writer_open(c, 0) < 0)
        return -1;
    AVPacket *pkt = av_packet_alloc();
    if (!pkt)
        return ts_error_set("%s: out of memory", c->input);
    int rc = 0;
    for (;;) {
        int e = av_read_frame(in->ic, pkt);
        if (e == AVERROR_EOF)
            break;
        if (e < 0) {
            rc = ts_error_set("%s: read error after %lld video packets (%s): the file is damaged or truncated",
                              c->input, (long long)c->packets, av_err2str(e));
            break;
        }
        if (pkt->stream_index == c->in->index && (rc = take(c, pkt)) < 0)
            break;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    if (rc < 0 || flush_queue(c) < 0)
        return -1;
    if (c->post >= 0 && writer_close(c, c->post) < 0)
        return -1;
    c->post = -1;
    if (writer_close(c, c->cur) < 0)
        return -1;
    if (c->cur != plan->count - 1) {
        const ts_segment_t *s = &plan->segments[c->cur];
        return ts_error_set("%s: the keyframe ending segment %d (pts %lld, %.3f s) was not found: the input changed "
                            "since it was planned", c->input, c->cur, (long long)s->end_pts, s->end_seconds);
    }
    for (int i = 0; i < plan->count; i++)
        if (c->w[i].owned != plan->segments[i].frames)
            return ts_error_set("%s: segment %d got %lld frames, the plan says %lld: the input changed since it was "
                                "planned", c->input, i, (long long)c->w[i].owned,
                                (long long)plan->segments[i].frames);
    return 0;
}

int ts_segplan_cut(const ts_segplan_t *plan, const char *input, const char *const *out_paths)
{
    assert(plan && input && out_paths);
    if (plan->count < 1 || !plan->segments)
        return ts_error_set("%s: empty segment plan", input);
    for (int i = 0; i < plan->count; i++)
        if (!out_paths[i] || !*out_paths[i])
            return ts_error_set("%s: no output path for segment %d", input, i);
    input_t in;
    if (input_open(input, &in) < 0)
        return -1;
    cut_t c = { .plan = plan, .input = input, .paths = out_paths, .in = in.video, .post = -1,
                .last_known = AV_NOPTS_VALUE, .last_dts = AV_NOPTS_VALUE };
    c.w = calloc((size_t)plan->count, sizeof *c.w);
    int rc = c.w ? cut_run(&c, &in) : ts_error_set("%s: out of memory", input);
    for (int i = 0; i < c.queued; i++)
        av_packet_free(&c.queue[i]);
    input_close(&in);
    for (int i = 0; rc == 0 && i < plan->count; i++) {
        if (rename(c.w[i].tmp, out_paths[i]) != 0) {
            rc = ts_error_set("%s: segment %d of %s: %s", out_paths[i], i, input, strerror(errno));
            while (i-- > 0) /* all or none */
                unlink(out_paths[i]);
            break;
        }
        free(c.w[i].tmp);
        c.w[i].tmp = NULL;
    }
    for (int i = 0; c.w && i < plan->count; i++)
        writer_discard(&c.w[i]);
    free(c.w);
    return rc;
}

int ts_segplan_fill_dts(const int64_t *pts, int64_t *dts, size_t n, int64_t before)
{
    return fill_dts(pts, dts, n, before);
}

int ts_segplan_choose_bounds(const int64_t *pts, const bool *key, size_t n, int64_t lo, int64_t hi, int tb_num,
                             int tb_den, double seconds, int64_t **bounds, int *count)
{
    return choose_bounds(pts, key, n, lo, hi, (AVRational){ tb_num, tb_den }, seconds, bounds, count);
}
