/* ts_framevid: PNG frame files to one PNG-in-NUT video stream (stream copy: every packet is one file, a keyframe). */
#include "splitter/ts_framevid.h"
#include "lib/ts_error.h"
#include <errno.h>
#include <libavformat/avformat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PNG_MAGIC "\x89PNG\r\n\x1a\n"
#define PNG_MAGIC_LEN 8

static int read_all(const char *path, uint8_t **data, int *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ts_error_set("%s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || ftell(f) <= 0 || ftell(f) > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE) {
        fclose(f);
        return ts_error_set("%s: empty or unreadable", path);
    }
    *len = (int)ftell(f);
    rewind(f);
    *data = av_malloc((size_t)*len + AV_INPUT_BUFFER_PADDING_SIZE);
    size_t got = *data ? fread(*data, 1, (size_t)*len, f) : 0;
    fclose(f);
    if (got != (size_t)*len) {
        av_freep(data);
        return ts_error_set("%s: short read", path);
    }
    memset(*data + *len, 0, AV_INPUT_BUFFER_PADDING_SIZE);
    if (*len < PNG_MAGIC_LEN || memcmp(*data, PNG_MAGIC, PNG_MAGIC_LEN) != 0) {
        av_freep(data);
        return ts_error_set("%s: not a PNG file (a render that ends in an encode needs PNG frames)", path);
    }
    return 0;
}

int ts_framevid_write(const char *const *paths, int count, int width, int height, int fps_num, int fps_den,
                      const char *out_path)
{
    if (count <= 0 || width <= 0 || height <= 0 || fps_num <= 0 || fps_den <= 0)
        return ts_error_set("%s: nothing to write (%d frames, %dx%d, %d/%d fps)", out_path, count, width, height,
                            fps_num, fps_den);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.nut", out_path);
    AVFormatContext *oc = NULL;
    int ret = avformat_alloc_output_context2(&oc, NULL, "nut", tmp);
    if (ret < 0 || !oc)
        return ts_error_set("%s: %s", out_path, av_err2str(ret));
    AVStream *st = avformat_new_stream(oc, NULL);
    int rc = st ? 0 : ts_error_set("%s: out of memory", out_path);
    if (rc == 0) {
        st->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
        st->codecpar->codec_id = AV_CODEC_ID_PNG;
        st->codecpar->width = width;
        st->codecpar->height = height;
        st->time_base = (AVRational){fps_den, fps_num};
        st->avg_frame_rate = st->r_frame_rate = (AVRational){fps_num, fps_den};
        if ((ret = avio_open(&oc->pb, tmp, AVIO_FLAG_WRITE)) < 0 || (ret = avformat_write_header(oc, NULL)) < 0)
            rc = ts_error_set("%s: %s", tmp, av_err2str(ret));
    }
    AVRational tb = {fps_den, fps_num};
    for (int i = 0; rc == 0 && i < count; i++) {
        uint8_t *data = NULL;
        int len = 0;
        if (read_all(paths[i], &data, &len) < 0) {
            rc = -1;
            break;
        }
        AVPacket *pkt = av_packet_alloc();
        if (!pkt || av_packet_from_data(pkt, data, len) < 0) {
            av_free(data);
            av_packet_free(&pkt);
            rc = ts_error_set("%s: out of memory", out_path);
            break;
        }
        pkt->pts = pkt->dts = i;
        pkt->duration = 1;
        pkt->flags |= AV_PKT_FLAG_KEY;
        pkt->stream_index = st->index;
        av_packet_rescale_ts(pkt, tb, st->time_base);
        if ((ret = av_interleaved_write_frame(oc, pkt)) < 0)
            rc = ts_error_set("%s: %s", tmp, av_err2str(ret));
        av_packet_free(&pkt);
    }
    if (rc == 0 && (ret = av_write_trailer(oc)) < 0)
        rc = ts_error_set("%s: %s", tmp, av_err2str(ret));
    if (oc->pb)
        avio_closep(&oc->pb);
    avformat_free_context(oc);
    if (rc == 0 && rename(tmp, out_path) != 0)
        rc = ts_error_set("%s: %s", out_path, strerror(errno));
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int ts_framevid_test(bool verbose)
{
    /* Refusals first (not a PNG, nothing to write), then three copies of a minimal PNG read back as three keyframe
       packets of a PNG stream. */
    char dir[] = "/tmp/ts_framevid_test.XXXXXX";
    if (!mkdtemp(dir))
        return -1;
    char a[256], out[256];
    snprintf(a, sizeof a, "%s/a.png", dir);
    snprintf(out, sizeof out, "%s/v.nut", dir);
    int failures = 0;
    FILE *f = fopen(a, "wb");
    fputs("not a png", f);
    fclose(f);
    const char *paths[] = {a};
    if (ts_framevid_write(paths, 1, 4, 4, 25, 1, out) != -1 || !strstr(ts_error(), "not a PNG") ||
        access(out, F_OK) == 0)
        failures++;
    if (ts_framevid_write(paths, 0, 4, 4, 25, 1, out) != -1)
        failures++;
    /* A minimal valid 1x1 PNG (signature, IHDR, IDAT, IEND). */
    static const unsigned char png[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00,
        0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01,
        0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
        0x82};
    f = fopen(a, "wb");
    fwrite(png, 1, sizeof png, f);
    fclose(f);
    const char *three[] = {a, a, a};
    AVFormatContext *ic = NULL;
    int packets = 0;
    if (ts_framevid_write(three, 3, 1, 1, 24000, 1001, out) != 0 || avformat_open_input(&ic, out, NULL, NULL) < 0 ||
        avformat_find_stream_info(ic, NULL) < 0)
        failures++;
    else {
        AVPacket *p = av_packet_alloc();
        while (av_read_frame(ic, p) >= 0) {
            packets += (p->flags & AV_PKT_FLAG_KEY) && p->size == (int)sizeof png;
            av_packet_unref(p);
        }
        av_packet_free(&p);
        if (packets != 3 || ic->streams[0]->codecpar->codec_id != AV_CODEC_ID_PNG)
            failures++;
    }
    avformat_close_input(&ic);
    unlink(a);
    unlink(out);
    rmdir(dir);
    if (verbose || failures)
        fprintf(failures ? stderr : stdout, "ts_framevid: %s (%d packets)\n", failures ? "FAILED" : "ok", packets);
    return failures ? -1 : 0;
}
