/* ts_segplan: keyframe index of a video, segment plan by presentation time, packet-copy cut into NUT files. */
#include "splitter/ts_segplan.h"
#include "lib/ts_error.h"
#include "lib/ts_file.h"
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
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

/* ---------------------------------------------------------------------------------------------------- */
/* Test support: synthetic clips, a stand-in slave, packet listings.                                    */

#define CLIP_FPS 25            /* CFR clips: 25 frames per second in any time base that is a multiple */
#define CLIP_SAMPLE_RATE 48000
#define CLIP_PCM_FRAME 1024    /* samples per frame for encoders without a frame size (PCM) */
#define CLIP_BIT_RATE 400000
#define CLIP_AUDIO_BIT_RATE 128000
#define STANDIN_GOP 12
#define STANDIN_B_FRAMES 2

/* Presentation time of frame i in 1/tb_den: 25 fps, or 40/20/100 ms steps for VFR. */
static int64_t clip_pts(const ts_segplan_clip_t *c, int i)
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

int ts_segplan_test_clip(const char *path, const ts_segplan_clip_t *c)
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

int ts_segplan_test_encode(const ts_segplan_t *plan, int index, const char *cut_path, const char *out_path,
                           int width, int height, int64_t **pts, int *count)
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
        if ((rc = avformat_alloc_output_context2(&s.oc, NULL, SEGMENT_FORMAT, out_path)) < 0)
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

int ts_segplan_test_packets(const char *path, char type, int tb_num, int tb_den, ts_segplan_tpkt_t **pkts,
                            int *count)
{
    *pkts = NULL;
    *count = 0;
    AVFormatContext *ic = NULL;
    AVPacket *pkt = av_packet_alloc();
    ts_segplan_tpkt_t *v = NULL;
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
                ts_segplan_tpkt_t *nv = realloc(v, (size_t)cap * sizeof *nv);
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

/* ---------------------------------------------------------------------------------------------------- */
/* Self-test.                                                                                           */

#define TEST_LENGTHS { 0.3, 1.0, 1.7, 1000.0 } /* segment lengths every clip is planned with */
#define TEST_NOPTS INT64_MIN

static int s_failures;

#define CHECK(cond, ...)                                                                                   \
    do {                                                                                                   \
        if (!(cond)) {                                                                                     \
            if (s_failures++ < 30) {                                                                       \
                fprintf(stderr, "ts_segplan: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);      \
                fprintf(stderr, __VA_ARGS__);                                                              \
                fprintf(stderr, "\n");                                                                     \
            }                                                                                              \
        }                                                                                                  \
    } while (0)

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* choose_bounds on a synthetic stream: pts in decode order, keys marked by a non-zero entry of key[]. */
static void check_bounds(const char *what, const int64_t *pts, const int *key, size_t n, double seconds,
                         const int64_t *want, int nwant)
{
    bool k[64];
    for (size_t i = 0; i < n; i++)
        k[i] = key[i] != 0;
    int64_t *b = NULL;
    int nb = -1;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        lo = pts[i] < lo ? pts[i] : lo;
        hi = pts[i] > hi ? pts[i] : hi;
    }
    int rc = choose_bounds(pts, k, n, lo, hi, (AVRational){ 1, 1 }, seconds, &b, &nb);
    CHECK(rc == 0 && nb == nwant, "%s: %d boundaries, want %d", what, nb, nwant);
    for (int i = 0; rc == 0 && i < nb && i < nwant; i++)
        CHECK(b[i] == want[i], "%s: boundary %d at %lld, want %lld", what, i, (long long)b[i], (long long)want[i]);
    free(b);
}

static void test_bounds(void)
{
    /* Closed GOPs, no reordering. */
    int64_t p1[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    int k1[] = { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0 };
    check_bounds("closed", p1, k1, 10, 3, (int64_t[]){ 4, 8 }, 2);
    check_bounds("closed, long", p1, k1, 10, 5, (int64_t[]){ 8 }, 1);
    check_bounds("closed, longer than the clip", p1, k1, 10, 100, NULL, 0);
    check_bounds("closed, tiny length", p1, k1, 10, 1e-9, (int64_t[]){ 4, 8 }, 2);
    /* Open GOP: I0 P3 B1 B2 I6 B4 B5 P9 B7 B8; I6's leading B4 B5 follow it. */
    int64_t p2[] = { 0, 3, 1, 2, 6, 4, 5, 9, 7, 8 };
    int k2[] = { 1, 0, 0, 0, 1, 0, 0, 0, 0, 0 };
    check_bounds("open", p2, k2, 10, 1, (int64_t[]){ 6 }, 1);
    /* Keyframe 3 comes after a packet with pts 5: not a boundary; 7 is. */
    int64_t p3[] = { 0, 5, 1, 2, 3, 4, 6, 7, 8 };
    int k3[] = { 1, 0, 0, 0, 1, 0, 0, 1, 0 };
    check_bounds("reordered across a keyframe", p3, k3, 9, 1, (int64_t[]){ 7 }, 1);
    /* Keyframe 5: after its leading run (3) comes 6, then 4 < 5: not a boundary. */
    int64_t p4[] = { 0, 1, 2, 5, 3, 6, 4, 7 };
    int k4[] = { 1, 0, 0, 1, 0, 0, 0, 0 };
    check_bounds("late packet below a keyframe", p4, k4, 8, 1, NULL, 0);
    /* A keyframe repeating the segment's start pts never ends it (no empty segment). */
    int64_t p5[] = { 0, 1, 2, 3 };
    int k5[] = { 1, 1, 1, 1 };
    check_bounds("every packet a keyframe", p5, k5, 4, 2, (int64_t[]){ 2 }, 1);
    int64_t p6[] = { 0, 0, 1 };
    int k6[] = { 1, 1, 1 };
    check_bounds("duplicate keyframe pts", p6, k6, 3, 1e-9, (int64_t[]){ 1 }, 1);
    /* Segment 0 starts at the smallest pts even when the first packet is not it. */
    int64_t p7[] = { 4, 2, 3, 8, 6, 7, 12 };
    int k7[] = { 1, 0, 0, 1, 0, 0, 1 };
    check_bounds("open start", p7, k7, 7, 6, (int64_t[]){ 8 }, 1);
}

static void check_fill(const char *what, const int64_t *pts, const int64_t *in, size_t n, int64_t before,
                       const int64_t *want)
{
    int64_t d[16];
    if (n > 0)
        memcpy(d, in, n * sizeof *d);
    int rc = fill_dts(pts, d, n, before);
    if (!want) {
        CHECK(rc == -1, "%s: filled", what);
        return;
    }
    CHECK(rc == 0, "%s: not filled", what);
    for (size_t i = 0; rc == 0 && i < n; i++)
        CHECK(d[i] == want[i], "%s: dts[%zu] %lld, want %lld", what, i, (long long)d[i], (long long)want[i]);
}

static void test_fill(void)
{
    const int64_t N = TEST_NOPTS;
    int64_t p1[] = { 0, 3, 1, 2, 6, 4, 5 };
    check_fill("leading run", p1, (int64_t[]){ N, N, 0, 1, 2, 3, 4 }, 7, N, (int64_t[]){ -2, -1, 0, 1, 2, 3, 4 });
    check_fill("all known", p1, (int64_t[]){ -2, -1, 0, 1, 2, 3, 4 }, 7, N, (int64_t[]){ -2, -1, 0, 1, 2, 3, 4 });
    check_fill("middle run", p1, (int64_t[]){ -2, -1, 0, N, N, 3, 4 }, 7, N, (int64_t[]){ -2, -1, 0, 1, 2, 3, 4 });
    check_fill("trailing run", (int64_t[]){ 0, 1, 2 }, (int64_t[]){ 0, N, N }, 3, N, (int64_t[]){ 0, 1, 2 });
    check_fill("trailing run, no room", (int64_t[]){ 0, 2, 1 }, (int64_t[]){ 0, N, N }, 3, N, NULL);
    check_fill("before, no room", (int64_t[]){ 5, 6 }, (int64_t[]){ N, N }, 2, 5, NULL);
    check_fill("before, room", (int64_t[]){ 5, 6 }, (int64_t[]){ N, N }, 2, 4, (int64_t[]){ 5, 6 });
    check_fill("empty", NULL, NULL, 0, N, (int64_t[]){ 0 });
}

/* Index of the first packet of v[0..n) that is a keyframe with pts p; n when none. */
static int find_key(const ts_segplan_tpkt_t *v, int n, int64_t p)
{
    for (int i = 0; i < n; i++)
        if (v[i].key && v[i].pts == p)
            return i;
    return n;
}

/* Plans, cuts and decodes a clip; checks ownership, boundaries, the cut files' packets and decoded frames. */
static void check_clip(const char *dir, const char *path, double seconds, bool verbose)
{
    ts_segplan_t *plan = NULL;
    ts_segplan_tpkt_t *v = NULL;
    int n = 0;
    int rc = ts_segplan_make(path, seconds, &plan);
    CHECK(rc == 0, "%s at %g s: %s", path, seconds, ts_error());
    if (rc != 0)
        return;
    rc = ts_segplan_test_packets(path, 'v', 0, 0, &v, &n);
    CHECK(rc == 0 && n > 0, "%s: %s", path, ts_error());
    if (rc != 0) {
        ts_segplan_destroy(&plan);
        return;
    }
    AVRational tb = { plan->tb_num, plan->tb_den };
    if (verbose)
        fprintf(stderr, "ts_segplan: %s at %g s: %d segments, %lld frames, %.2f s, codec %s %dx%d, audio %d\n", path,
                seconds, plan->count, (long long)plan->frames, plan->duration_seconds, plan->codec, plan->width,
                plan->height, plan->has_audio);
    int64_t min_pts = INT64_MAX, max_pts = INT64_MIN, sum = 0, kept = 0;
    bool drop_before = false, drop_after = false;
    for (int k = 0; k < n; k++)
        if (!v[k].discard) {
            min_pts = v[k].pts < min_pts ? v[k].pts : min_pts;
            max_pts = v[k].pts > max_pts ? v[k].pts : max_pts;
            kept++;
        }
    for (int k = 0; k < n; k++) {
        drop_before = drop_before || (v[k].discard && v[k].pts < min_pts);
        drop_after = drop_after || (v[k].discard && v[k].pts > max_pts);
    }
    CHECK(plan->frames == kept, "%s: plan has %lld frames, file %lld kept packets", path, (long long)plan->frames,
          (long long)kept);
    CHECK(plan->count >= 1 && (drop_before || plan->segments[0].start_pts == INT64_MIN) &&
              (drop_after || plan->segments[plan->count - 1].end_pts == INT64_MAX), "%s: open ends", path);
    if (verbose && (drop_before || drop_after))
        fprintf(stderr, "ts_segplan: %s: discarded frames before %d, after %d\n", path, drop_before, drop_after);
    /* Discarded frames are owned by nobody. */
    for (int k = 0; k < n; k++)
        CHECK(!v[k].discard || v[k].pts < plan->segments[0].start_pts ||
                  v[k].pts >= plan->segments[plan->count - 1].end_pts, "%s: discarded packet %d owned", path, k);
    for (int i = 0; i < plan->count; i++) {
        const ts_segment_t *s = &plan->segments[i];
        int64_t owned = 0;
        for (int k = 0; k < n; k++)
            owned += !v[k].discard && v[k].pts >= s->start_pts && v[k].pts < s->end_pts;
        CHECK(s->index == i && s->frames == owned && owned > 0, "%s: segment %d owns %lld frames, plan says %lld",
              path, i, (long long)owned, (long long)s->frames);
        CHECK(s->start_seconds < s->end_seconds, "%s: segment %d seconds %.3f..%.3f", path, i, s->start_seconds,
              s->end_seconds);
        sum += s->frames;
        if (i + 1 < plan->count) {
            CHECK(s->end_pts == plan->segments[i + 1].start_pts, "%s: segments %d and %d not contiguous", path, i,
                  i + 1);
            CHECK(find_key(v, n, s->end_pts) < n, "%s: segment %d ends at pts %lld, not a keyframe", path, i,
                  (long long)s->end_pts);
            int64_t start = i == 0 ? min_pts : s->start_pts;
            CHECK((double)(s->end_pts - start) * tb.num >= seconds * tb.den, "%s: segment %d shorter than %g s", path,
                  i, seconds);
            /* The FIRST keyframe far enough (every keyframe of these clips is eligible). */
            for (int k = 0; k < n; k++)
                CHECK(!(v[k].key && v[k].pts < s->end_pts && v[k].pts > start &&
                        (double)(v[k].pts - start) * tb.num >= seconds * tb.den),
                      "%s: segment %d could have ended at keyframe pts %lld", path, i, (long long)v[k].pts);
        }
    }
    CHECK(sum == kept, "%s: segments own %lld frames of %lld", path, (long long)sum, (long long)kept);

    /* Cut, then look at every file. */
    char **paths = calloc((size_t)plan->count, sizeof *paths);
    for (int i = 0; paths && i < plan->count; i++)
        if (asprintf(&paths[i], "%s/seg-%d.nut", dir, i) < 0)
            paths[i] = NULL;
    rc = ts_segplan_cut(plan, path, (const char *const *)paths);
    CHECK(rc == 0, "%s: cut at %g s: %s", path, seconds, ts_error());
    for (int i = 0; rc == 0 && i < plan->count; i++) {
        const ts_segment_t *s = &plan->segments[i];
        ts_segplan_tpkt_t *c = NULL;
        int cn = 0;
        int r = ts_segplan_test_packets(paths[i], 'v', tb.num, tb.den, &c, &cn);
        CHECK(r == 0, "%s: %s", paths[i], ts_error());
        /* Expected: input packets from the start keyframe through the end keyframe and its leading run. */
        int a = i == 0 ? 0 : find_key(v, n, s->start_pts);
        int b = i + 1 == plan->count ? n : find_key(v, n, s->end_pts) + 1;
        while (i + 1 < plan->count && b < n && v[b].pts < s->end_pts)
            b++;
        CHECK(r != 0 || cn == b - a, "%s: %d packets, want %d", paths[i], cn, b - a);
        for (int k = 0; r == 0 && k < cn && k < b - a; k++)
            CHECK(c[k].pts == v[a + k].pts && c[k].key == v[a + k].key, "%s: packet %d pts %lld key %d, want %lld %d",
                  paths[i], k, (long long)c[k].pts, c[k].key, (long long)v[a + k].pts, v[a + k].key);
        CHECK(r != 0 || (cn > 0 && c[0].key), "%s: does not start with a keyframe", paths[i]);
        free(c);
        /* Decoded, it yields exactly the frames the segment owns. */
        int64_t *got = NULL;
        int gn = 0;
        r = ts_segplan_test_encode(plan, i, paths[i], NULL, 0, 0, &got, &gn);
        CHECK(r == 0, "%s: %s", paths[i], ts_error());
        int64_t *want = malloc((size_t)n * sizeof *want);
        int wn = 0;
        for (int k = 0; want && k < n; k++)
            if (!v[k].discard && v[k].pts >= s->start_pts && v[k].pts < s->end_pts)
                want[wn++] = v[k].pts;
        if (r == 0 && want) {
            qsort(want, (size_t)wn, sizeof *want, cmp_i64);
            qsort(got, (size_t)gn, sizeof *got, cmp_i64);
            CHECK(gn == wn, "%s: decodes to %d owned frames, want %d", paths[i], gn, wn);
            for (int k = 0; k < gn && k < wn; k++)
                CHECK(got[k] == want[k], "%s: owned frame %d pts %lld, want %lld", paths[i], k, (long long)got[k],
                      (long long)want[k]);
        }
        free(want);
        free(got);
    }
    for (int i = 0; paths && i < plan->count; i++) {
        if (paths[i])
            unlink(paths[i]);
        free(paths[i]);
    }
    free(paths);
    free(v);
    ts_segplan_destroy(&plan);
}

static void expect_make_fails(const char *path, double seconds, const char *needle1, const char *needle2)
{
    ts_segplan_t *plan = (ts_segplan_t *)&plan; /* not NULL: must be reset */
    int rc = ts_segplan_make(path, seconds, &plan);
    CHECK(rc == -1 && plan == NULL, "%s at %g s: accepted", path, seconds);
    const char *m = ts_error();
    CHECK(strstr(m, path) && (strstr(m, needle1) || (needle2 && strstr(m, needle2))),
          "%s at %g s: message \"%s\" lacks \"%s\"", path, seconds, m, needle1);
    if (rc == 0)
        ts_segplan_destroy(&plan);
}

int ts_segplan_test_copy_prefix(const char *from, const char *to, double fraction)
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

static bool dir_has_tmp(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s", dir);
    bool found = false;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        found = found || strstr(e->d_name, ".tmp.") != NULL;
    if (d)
        closedir(d);
    return found;
}

static void test_errors(const char *dir, const char *good, const char *good_mp4, const char *good_mkv)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/missing.mkv", dir);
    expect_make_fails(path, 1, "no such file", NULL);
    expect_make_fails(dir, 1, "directory", NULL);
    snprintf(path, sizeof path, "%s/empty.mp4", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f && fclose(f) == 0, "%s: cannot create", path);
    expect_make_fails(path, 1, "empty", NULL);
    /* Text: short ones are no media at all; long .txt files are "tty" text art to libavformat. */
    snprintf(path, sizeof path, "%s/notes.txt", dir);
    f = fopen(path, "w");
    for (int i = 0; f && i < 200; i++)
        fprintf(f, "line %d: this is a plain text file, not a video at all.\n", i);
    CHECK(f && fclose(f) == 0, "%s: cannot create", path);
    expect_make_fails(path, 1, "text file", "not a media file");
    snprintf(path, sizeof path, "%s/short.txt", dir);
    f = fopen(path, "w");
    CHECK(f && fputs("hello\n", f) >= 0 && fclose(f) == 0, "%s: cannot create", path);
    expect_make_fails(path, 1, "text file", "not a media file");
    snprintf(path, sizeof path, "%s/audio.nut", dir);
    ts_segplan_clip_t audio = { .format = "nut", .audio = "mp2", .audio_seconds = 2 };
    CHECK(ts_segplan_test_clip(path, &audio) == 0, "%s", ts_error());
    expect_make_fails(path, 1, "no video stream", NULL);
    snprintf(path, sizeof path, "%s/trunc.mp4", dir);
    CHECK(ts_segplan_test_copy_prefix(good_mp4, path, 0.5) == 0, "%s: cannot write", path);
    expect_make_fails(path, 1, "truncated", "damaged");
    snprintf(path, sizeof path, "%s/trunc.mkv", dir);
    CHECK(ts_segplan_test_copy_prefix(good_mkv, path, 0.5) == 0, "%s: cannot write", path);
    expect_make_fails(path, 1, "truncated", "damaged");
    snprintf(path, sizeof path, "%s/head.mkv", dir);
    CHECK(ts_segplan_test_copy_prefix(good_mkv, path, 0.02) == 0, "%s: cannot write", path);
    expect_make_fails(path, 1, "truncated", "damaged");
    expect_make_fails(good, 0, "segment length", NULL);
    expect_make_fails(good, -1, "segment length", NULL);
    expect_make_fails(good, NAN, "segment length", NULL);
    expect_make_fails(good, INFINITY, "segment length", NULL);

    /* Cutting a different input than the one planned fails and leaves no file behind. */
    ts_segplan_t *plan = NULL;
    int rc = ts_segplan_make(good, 1, &plan);
    CHECK(rc == 0, "%s: %s", good, ts_error());
    if (rc == 0) {
        char **paths = calloc((size_t)plan->count, sizeof *paths);
        for (int i = 0; paths && i < plan->count; i++)
            if (asprintf(&paths[i], "%s/bad-%d.nut", dir, i) < 0)
                paths[i] = NULL;
        rc = ts_segplan_cut(plan, good_mkv, (const char *const *)paths);
        CHECK(rc == -1 && strstr(ts_error(), good_mkv) && strstr(ts_error(), "changed"), "cut of another file: %s",
              rc == 0 ? "accepted" : ts_error());
        for (int i = 0; paths && i < plan->count; i++) {
            CHECK(!paths[i] || access(paths[i], F_OK) != 0, "%s left behind", paths[i]);
            free(paths[i]);
        }
        free(paths);
        /* A plan tampered with (a boundary that is no keyframe) is caught as well. */
        if (plan->count > 1) {
            plan->segments[0].end_pts++;
            plan->segments[1].start_pts++;
            char *one[64] = { 0 };
            for (int i = 0; i < plan->count && i < 64; i++)
                if (asprintf(&one[i], "%s/bad-%d.nut", dir, i) < 0)
                    one[i] = NULL;
            rc = plan->count <= 64 ? ts_segplan_cut(plan, good, (const char *const *)one) : -1;
            CHECK(rc == -1 && strstr(ts_error(), "changed"), "cut with a bad plan: %s",
                  rc == 0 ? "accepted" : ts_error());
            for (int i = 0; i < 64; i++) {
                CHECK(!one[i] || access(one[i], F_OK) != 0, "%s left behind", one[i]);
                free(one[i]);
            }
        }
        ts_segplan_destroy(&plan);
    }
    CHECK(!dir_has_tmp(dir), "%s: temporary files left behind", dir);
}

int ts_segplan_test(bool verbose)
{
    s_failures = 0;
    int level = av_log_get_level();
    if (!verbose)
        av_log_set_level(AV_LOG_QUIET);
    test_bounds();
    test_fill();

    char dir[] = "/tmp/ts_segplan_test.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "ts_segplan: mkdtemp: %s\n", strerror(errno));
        av_log_set_level(level);
        return -1;
    }
    static const struct {
        const char *name;
        ts_segplan_clip_t clip;
    } clips[] = {
        { "open.nut", { .format = "nut", .frames = 100, .width = 160, .height = 120, .tb_den = 25, .gop = 12,
                        .max_b_frames = 2, .audio = "mp2" } },
        { "vfr.mkv", { .format = "matroska", .frames = 90, .width = 128, .height = 96, .tb_den = 1000, .vfr = true,
                       .gop = 10, .max_b_frames = 2 } },
        { "cfr.mp4", { .format = "mp4", .frames = 75, .width = 160, .height = 112, .tb_den = 12800, .gop = 15,
                       .max_b_frames = 1, .audio = "aac", .faststart = true } },
        { "closed.nut", { .format = "nut", .frames = 40, .width = 96, .height = 64, .tb_den = 25, .gop = 5 } },
    };
    char paths[4][PATH_MAX];
    const double lengths[] = TEST_LENGTHS;
    for (int c = 0; c < 4; c++) {
        snprintf(paths[c], sizeof paths[c], "%s/%s", dir, clips[c].name);
        int rc = ts_segplan_test_clip(paths[c], &clips[c].clip);
        CHECK(rc == 0, "%s", ts_error());
        for (size_t l = 0; rc == 0 && l < sizeof lengths / sizeof lengths[0]; l++)
            check_clip(dir, paths[c], lengths[l], verbose);
    }
    test_errors(dir, paths[0], paths[2], paths[1]);
    ts_file_remove_dir(dir);
    av_log_set_level(level);
    if (verbose)
        fprintf(stderr, "ts_segplan: %d failures\n", s_failures);
    return s_failures ? -1 : 0;
}
