/* ts_sheet: thumbnails of strangers' images and the contact sheet composed of them, with OpenImageIO. */
#include "splitter/ts_sheet.h"
#include "splitter/ts_image.h"
extern "C" {
#include "lib/ts_error.h" /* a C header without extern "C" guards of its own */
}
#include "tests/ts_test.h"

#include <OpenImageIO/imagebuf.h>
#include <OpenImageIO/imagebufalgo.h>
#include <OpenImageIO/imageio.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using OIIO::ImageBuf;
using OIIO::ImageInput;
using OIIO::ImageOutput;
using OIIO::ImageSpec;
using OIIO::ROI;
using OIIO::TypeDesc;

#define SHEET_FILTER "lanczos3"       /* the resize filter: fixed, so one input gives one thumbnail */
#define SHEET_OUT_FORMAT "png"        /* thumbnails and sheets; also the only reader of thumbnails */
#define SHEET_TMP_SUFFIX ".tmp"       /* outputs are written beside their path, then renamed into place */
#define SHEET_READ_BYTES (16u << 20)  /* float bytes of input rows read at a time, at most */
#define SHEET_READ_ROWS 64            /* input rows read at a time, at most */

namespace {

/* A file's first bytes and the OpenImageIO format they announce. */
struct magic {
    const char *format;
    size_t len;
    unsigned char bytes[8];
};
const magic MAGICS[] = {
    { "png", 8, { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' } },
    { "jpeg", 3, { 0xff, 0xd8, 0xff } },
    { "openexr", 4, { 0x76, 0x2f, 0x31, 0x01 } },
    { "tiff", 4, { 'I', 'I', 42, 0 } }, /* little-endian */
    { "tiff", 4, { 'M', 'M', 0, 42 } }, /* big-endian */
    { "tiff", 4, { 'I', 'I', 43, 0 } }, /* BigTIFF, little-endian */
    { "tiff", 4, { 'M', 'M', 0, 43 } }, /* BigTIFF, big-endian */
};

struct reader_close {
    void operator()(ts_image_reader_t *r) const { ts_image_reader_destroy(&r); }
};
using reader_ptr = std::unique_ptr<ts_image_reader_t, reader_close>;

float clamp01(float v) { return v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; } /* NaN is 0 */

float srgb_encode(float v)
{
    return v <= 0.0031308f ? 12.92f * v : 1.055f * std::pow(v, 1.0f / 2.4f) - 0.055f;
}

float srgb_decode(float v)
{
    return v <= 0.04045f ? v / 12.92f : std::pow((v + 0.055f) / 1.055f, 2.4f);
}

uint8_t quantise(float v) { return (uint8_t)std::lround(clamp01(v) * 255.0f); }

const uint8_t BACKGROUND_8 = (uint8_t)std::lround(TS_SHEET_BACKGROUND * 255.0);

/* The format from the first bytes: 0 with *format NULL when none matches, -1 (why set) when unreadable. */
int sniff(const char *path, const char **format, std::string &why)
{
    *format = nullptr;
    unsigned char head[8] = { 0 };
    FILE *f = std::fopen(path, "rb");
    if (!f) {
        why = std::strerror(errno);
        return -1;
    }
    const size_t n = std::fread(head, 1, sizeof head, f);
    const bool failed = std::ferror(f);
    std::fclose(f);
    if (failed) {
        why = "read error";
        return -1;
    }
    for (const magic &m : MAGICS)
        if (n >= m.len && std::memcmp(head, m.bytes, m.len) == 0) {
            *format = m.format;
            break;
        }
    return 0;
}

/* ts_sheet_probe, also giving the format. */
int probe(const char *path, const char *name, const char **format, int *width, int *height)
{
    std::string why;
    if (sniff(path, format, why) != 0)
        return ts_error_set("%s: cannot read: %s", name, why.c_str());
    if (!*format)
        return ts_error_set("%s: not a PNG, JPEG, OpenEXR or TIFF image", name);
    int channels;
    if (ts_image_info_as(path, *format, width, height, &channels) != 0) {
        why = ts_error(); /* copied: the message is rewritten below */
        return ts_error_set("%s: unreadable %s image: %s", name, *format, why.c_str());
    }
    if (*width > TS_SHEET_INPUT_MAX || *height > TS_SHEET_INPUT_MAX)
        return ts_error_set("%s: %dx%d pixels, larger than %d a side", name, *width, *height, TS_SHEET_INPUT_MAX);
    return 0;
}

/* Whether the file holds linear light: OpenEXR, or floating-point samples (a float TIFF). Read by the format's
   reader only; the header alone. */
bool is_linear(const char *path, const char *format)
{
    if (std::strcmp(format, "openexr") == 0)
        return true;
    if (std::strcmp(format, "tiff") != 0)
        return false; /* PNG and JPEG hold integers, sRGB-encoded */
    auto in = ImageInput::create(format);
    ImageSpec spec;
    return in && in->open(path, spec) && spec.format.is_floating_point();
}

/* Which file channels give R, G, B and A (A -1: opaque). Named R, G, B (or "<layer>.R" ...), else Y (grey),
   else one channel is grey, two are grey and alpha, more give their first three non-alpha channels. */
struct channel_map {
    int c[4];
};

channel_map map_channels(const ts_image_reader_t *r, int nch)
{
    auto find = [&](char want) {
        for (int i = 0; i < nch; i++) {
            const char *n = ts_image_reader_channel(r, i);
            const size_t len = std::strlen(n);
            if (len >= 1 && n[len - 1] == want && (len == 1 || n[len - 2] == '.'))
                return i;
        }
        return -1;
    };
    const int red = find('R'), green = find('G'), blue = find('B'), grey = find('Y');
    int alpha = find('A');
    if (nch == 1)
        return { { 0, 0, 0, -1 } };
    if (red >= 0 && green >= 0 && blue >= 0)
        return { { red, green, blue, alpha } };
    if (grey >= 0)
        return { { grey, grey, grey, alpha } };
    if (nch == 2) {
        alpha = alpha >= 0 ? alpha : 1;
        return { { 1 - alpha, 1 - alpha, 1 - alpha, alpha } };
    }
    channel_map m = { { -1, -1, -1, alpha } };
    for (int i = 0, k = 0; i < nch && k < 3; i++)
        if (i != alpha)
            m.c[k++] = i;
    return m;
}

/* The largest w x h rectangle of the image's aspect ratio inside the cell, rounded to whole pixels. */
void fit(int w, int h, int cell_w, int cell_h, int *fit_w, int *fit_h)
{
    if ((int64_t)w * cell_h >= (int64_t)h * cell_w) { /* as wide as the cell */
        *fit_w = cell_w;
        *fit_h = (int)((2 * (int64_t)h * cell_w + w) / (2 * (int64_t)w));
    } else {
        *fit_h = cell_h;
        *fit_w = (int)((2 * (int64_t)w * cell_h + h) / (2 * (int64_t)h));
    }
    *fit_w = std::max(1, std::min(*fit_w, cell_w));
    *fit_h = std::max(1, std::min(*fit_h, cell_h));
}

/* Reads the w x h image (as probed) into `reduced`: mapped RGBA (premultiplied, clamped to 0..1), each pixel
   the mean of a factor x factor block (fewer at the right and bottom edges), in bands of rows so memory stays
   bounded. */
int read_reduced(const char *path, const char *format, int w, int h, int factor, ImageBuf &reduced)
{
    reader_ptr r(ts_image_reader_open_as(path, format));
    if (!r)
        return -1;
    int read_w, read_h, nch;
    ts_image_reader_size(r.get(), &read_w, &read_h, &nch);
    if (read_w != w || read_h != h)
        return ts_error_set("%s: %dx%d pixels when read, %dx%d when probed", path, read_w, read_h, w, h);
    const channel_map m = map_channels(r.get(), nch);
    const int rw = (w + factor - 1) / factor, rh = (h + factor - 1) / factor;
    reduced.reset(ImageSpec(rw, rh, 4, TypeDesc::FLOAT));
    const size_t row_values = (size_t)w * nch;
    const int band = (int)std::max<size_t>(1, std::min<size_t>(SHEET_READ_ROWS, SHEET_READ_BYTES / (row_values * 4)));
    std::vector<float> rows((size_t)band * row_values), out((size_t)rw * 4);
    std::vector<double> sums((size_t)rw * 4, 0.0); /* of the reduced row being summed */
    for (int y0 = 0; y0 < h; y0 += band) {
        const int y1 = std::min(h, y0 + band);
        if (ts_image_reader_rows(r.get(), y0, y1, rows.data()) != 0)
            return -1;
        for (int y = y0; y < y1; y++) {
            const float *px = rows.data() + (size_t)(y - y0) * row_values;
            for (int x = 0; x < w; x++, px += nch) {
                double *s = sums.data() + (size_t)(x / factor) * 4;
                for (int k = 0; k < 4; k++)
                    s[k] += m.c[k] >= 0 ? clamp01(px[m.c[k]]) : 1.0f;
            }
            if ((y + 1) % factor != 0 && y + 1 != h)
                continue;
            const int block_h = y % factor + 1;
            for (int rx = 0; rx < rw; rx++) {
                const int block_w = std::min(factor, w - rx * factor);
                for (int k = 0; k < 4; k++)
                    out[(size_t)rx * 4 + k] = (float)(sums[(size_t)rx * 4 + k] / ((double)block_w * block_h));
            }
            const int ry = y / factor;
            if (!reduced.set_pixels(ROI(0, rw, ry, ry + 1, 0, 1, 0, 4), TypeDesc::FLOAT, out.data()))
                return ts_error_set("%s: %s", path, reduced.geterror().c_str());
            std::fill(sums.begin(), sums.end(), 0.0);
        }
    }
    return 0;
}

/* An 8-bit RGB PNG written by rows to `path` + SHEET_TMP_SUFFIX and renamed into place by commit(); removed
   unless committed. */
class png_writer {
  public:
    explicit png_writer(const char *path) : path_(path), tmp_(std::string(path) + SHEET_TMP_SUFFIX) {}
    png_writer(const png_writer &) = delete;
    png_writer &operator=(const png_writer &) = delete;
    ~png_writer()
    {
        out_.reset(); /* closes the file before it goes */
        if (made_)
            std::remove(tmp_.c_str());
    }
    int open(int width, int height)
    {
        if (!(out_ = ImageOutput::create(SHEET_OUT_FORMAT)))
            return ts_error_set("writing %s: no PNG writer: %s", path_.c_str(), OIIO::geterror().c_str());
        made_ = true;
        if (!out_->open(tmp_, ImageSpec(width, height, 3, TypeDesc::UINT8)))
            return ts_error_set("writing %s: %s", path_.c_str(), out_->geterror().c_str());
        return 0;
    }
    /* Rows [y0, y1) of width x 3 bytes each. */
    int rows(int y0, int y1, const uint8_t *px)
    {
        if (!out_->write_scanlines(y0, y1, 0, TypeDesc::UINT8, px))
            return ts_error_set("writing %s: %s", path_.c_str(), out_->geterror().c_str());
        return 0;
    }
    int commit()
    {
        if (!out_->close())
            return ts_error_set("writing %s: %s", path_.c_str(), out_->geterror().c_str());
        if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
            return ts_error_set("writing %s: renaming %s into place: %s", path_.c_str(), tmp_.c_str(),
                                std::strerror(errno));
        made_ = false;
        return 0;
    }

  private:
    std::string path_, tmp_;
    std::unique_ptr<ImageOutput> out_;
    bool made_ = false;
};

bool cell_ok(int cell_w, int cell_h)
{
    return cell_w >= 1 && cell_w <= TS_SHEET_INPUT_MAX && cell_h >= 1 && cell_h <= TS_SHEET_INPUT_MAX;
}

int thumb(const char *in, int cell_w, int cell_h, const char *out_png)
{
    if (!cell_ok(cell_w, cell_h))
        return ts_error_set("thumbnail of %s: cell %dx%d: sides must be 1..%d", in, cell_w, cell_h,
                            TS_SHEET_INPUT_MAX);
    const char *format;
    int w, h, fit_w, fit_h;
    if (probe(in, in, &format, &w, &h) != 0)
        return ts_error_prefix("thumbnail"), TS_SHEET_INPUT_BAD;
    fit(w, h, cell_w, cell_h, &fit_w, &fit_h);
    /* Box-reduce to no less than twice the fitted size; the filter does the rest. */
    const int factor = std::max(1, std::min(w / fit_w, h / fit_h) / 2);
    ImageBuf reduced, fitted(ImageSpec(fit_w, fit_h, 4, TypeDesc::FLOAT));
    if (read_reduced(in, format, w, h, factor, reduced) != 0)
        return ts_error_prefix("thumbnail"), TS_SHEET_INPUT_BAD;
    if (!OIIO::ImageBufAlgo::resize(fitted, reduced, SHEET_FILTER, 0.0f, ROI(), 1))
        return ts_error_set("thumbnail of %s: resizing to %dx%d: %s", in, fit_w, fit_h, fitted.geterror().c_str());
    std::vector<float> px((size_t)fit_w * fit_h * 4);
    if (!fitted.get_pixels(ROI(0, fit_w, 0, fit_h, 0, 1, 0, 4), TypeDesc::FLOAT, px.data()))
        return ts_error_set("thumbnail of %s: %s", in, fitted.geterror().c_str());

    const bool linear = is_linear(in, format);
    const float bg = linear ? srgb_decode((float)TS_SHEET_BACKGROUND) : (float)TS_SHEET_BACKGROUND;
    const int x0 = (cell_w - fit_w) / 2, y0 = (cell_h - fit_h) / 2;
    std::vector<uint8_t> cell((size_t)cell_w * cell_h * 3, BACKGROUND_8);
    for (int y = 0; y < fit_h; y++)
        for (int x = 0; x < fit_w; x++) {
            const float *p = px.data() + ((size_t)y * fit_w + x) * 4;
            uint8_t *o = cell.data() + ((size_t)(y0 + y) * cell_w + x0 + x) * 3;
            const float cover = 1.0f - clamp01(p[3]);
            for (int k = 0; k < 3; k++) {
                const float v = clamp01(p[k]) + cover * bg; /* premultiplied colour over the background */
                o[k] = quantise(linear ? srgb_encode(clamp01(v)) : v);
            }
        }
    png_writer out(out_png);
    if (out.open(cell_w, cell_h) != 0 || out.rows(0, cell_h, cell.data()) != 0 || out.commit() != 0)
        return ts_error_prefix("thumbnail of %s", in);
    return 0;
}

/* Opens thumbnail i, read by the PNG reader only, and checks that it is an RGB cell. */
reader_ptr open_thumb(const char *out_png, const char *const *thumbs, int i, int cell_w, int cell_h)
{
    reader_ptr r(ts_image_reader_open_as(thumbs[i], SHEET_OUT_FORMAT));
    if (!r) {
        ts_error_prefix("sheet %s: thumbnail %d", out_png, i);
        return r;
    }
    int w, h, nch;
    ts_image_reader_size(r.get(), &w, &h, &nch);
    if (w != cell_w || h != cell_h || nch != 3) {
        ts_error_set("sheet %s: thumbnail %d: %s is %dx%d with %d channels, not a %dx%d RGB cell", out_png, i,
                     thumbs[i], w, h, nch, cell_w, cell_h);
        r.reset();
    }
    return r;
}

int compose(const char *const *thumbs, int count, int columns, int cell_w, int cell_h, const char *out_png)
{
    if (!cell_ok(cell_w, cell_h))
        return ts_error_set("sheet %s: cell %dx%d: sides must be 1..%d", out_png, cell_w, cell_h,
                            TS_SHEET_INPUT_MAX);
    if (count < 1 || columns < 1)
        return ts_error_set("sheet %s: %d thumbnails in %d columns: both must be at least 1", out_png, count,
                            columns);
    const int64_t rows = (count + (int64_t)columns - 1) / columns;
    const int64_t sheet_w = (int64_t)columns * cell_w, sheet_h = rows * cell_h;
    if (sheet_w > INT32_MAX || sheet_h > INT32_MAX)
        return ts_error_set("sheet %s: %lldx%lld pixels, too large", out_png, (long long)sheet_w,
                            (long long)sheet_h);

    /* Every thumbnail checked before anything is written. */
    for (int i = 0; i < count; i++)
        if (!open_thumb(out_png, thumbs, i, cell_w, cell_h))
            return -1;

    png_writer out(out_png);
    if (out.open((int)sheet_w, (int)sheet_h) != 0)
        return -1;
    const size_t cell_row = (size_t)cell_w * 3, sheet_row = (size_t)sheet_w * 3;
    std::vector<uint8_t> band((size_t)cell_h * sheet_row);
    std::vector<float> cell((size_t)cell_h * cell_w * 3);
    for (int row = 0; row < rows; row++) {
        std::fill(band.begin(), band.end(), BACKGROUND_8);
        for (int col = 0; col < columns && row * columns + col < count; col++) {
            const int i = row * columns + col;
            reader_ptr r = open_thumb(out_png, thumbs, i, cell_w, cell_h);
            if (!r)
                return -1;
            if (ts_image_reader_rows(r.get(), 0, cell_h, cell.data()) != 0)
                return ts_error_prefix("sheet %s: thumbnail %d", out_png, i);
            for (int y = 0; y < cell_h; y++) {
                uint8_t *o = band.data() + (size_t)y * sheet_row + (size_t)col * cell_row;
                const float *p = cell.data() + (size_t)y * cell_row;
                for (size_t k = 0; k < cell_row; k++)
                    o[k] = quantise(p[k]);
            }
        }
        if (out.rows(row * cell_h, (row + 1) * cell_h, band.data()) != 0)
            return -1;
    }
    return out.commit();
}

} // namespace

extern "C" const char *ts_sheet_format(const char *path)
{
    assert(path);
    const char *format;
    std::string why;
    if (sniff(path, &format, why) != 0) {
        ts_error_set("%s: cannot read: %s", path, why.c_str());
        return nullptr;
    }
    if (!format)
        ts_error_set("%s: not a PNG, JPEG, OpenEXR or TIFF image", path);
    return format;
}

extern "C" int ts_sheet_probe(const char *path, const char *name, int *width, int *height)
{
    assert(path && name && width && height);
    try {
        const char *format;
        return probe(path, name, &format, width, height);
    } catch (const std::exception &e) {
        return ts_error_set("%s: %s", name, e.what());
    } catch (...) {
        return ts_error_set("%s: unexpected exception", name);
    }
}

extern "C" int ts_sheet_thumb(const char *in, int cell_w, int cell_h, const char *out_png)
{
    assert(in && out_png);
    try {
        return thumb(in, cell_w, cell_h, out_png);
    } catch (const std::exception &e) {
        return ts_error_set("thumbnail of %s: %s", in, e.what());
    } catch (...) {
        return ts_error_set("thumbnail of %s: unexpected exception", in);
    }
}

extern "C" int ts_sheet_compose(const char *const *thumbs, int count, int columns, int cell_w, int cell_h,
                                const char *out_png)
{
    assert(out_png && (thumbs || count <= 0));
    try {
        return compose(thumbs, count, columns, cell_w, cell_h, out_png);
    } catch (const std::exception &e) {
        return ts_error_set("sheet %s: %s", out_png, e.what());
    } catch (...) {
        return ts_error_set("sheet %s: unexpected exception", out_png);
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* Self-test.                                                                                           */

namespace {

#define TEST_CELL 48 /* cell side of the self-test's thumbnails */

/* Writes top-down float pixels to `path` with the writer of `format`, stored as `type`; alpha as given
   (unassociated) when there is an alpha channel. */
bool write_test_image(const std::string &path, const char *format, int w, int h, int nch,
                      const std::vector<float> &px, TypeDesc type)
{
    auto out = ImageOutput::create(format);
    ImageSpec spec(w, h, nch, type);
    if (nch == 2 || nch == 4) {
        spec.alpha_channel = nch - 1;
        spec.attribute("oiio:UnassociatedAlpha", 1);
    }
    if (!out || !out->open(path, spec) || !out->write_image(TypeDesc::FLOAT, px.data()) || !out->close()) {
        std::fprintf(stderr, "ts_sheet: writing %s: %s\n", path.c_str(),
                     out ? out->geterror().c_str() : OIIO::geterror().c_str());
        return false;
    }
    return true;
}

/* An image made by colour(x, y) -> nch floats. */
template <typename F> std::vector<float> make_pixels(int w, int h, int nch, F colour)
{
    std::vector<float> px((size_t)w * h * nch);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            std::vector<float> c = colour(x, y);
            std::copy(c.begin(), c.end(), px.begin() + ((size_t)y * w + x) * nch);
        }
    return px;
}

/* A written PNG read back by any reader: what it is and its 8-bit pixels. */
struct png_image {
    std::string format;
    int w = 0, h = 0, nch = 0;
    TypeDesc type;
    std::vector<uint8_t> px;
    const uint8_t *at(int x, int y) const { return px.data() + ((size_t)y * w + x) * nch; }
};

bool read_png(const std::string &path, png_image &img)
{
    auto in = ImageInput::open(path);
    if (!in) {
        std::fprintf(stderr, "ts_sheet: reading %s: %s\n", path.c_str(), OIIO::geterror().c_str());
        return false;
    }
    const ImageSpec &spec = in->spec();
    img.format = in->format_name();
    img.w = spec.width;
    img.h = spec.height;
    img.nch = spec.nchannels;
    img.type = spec.format;
    img.px.resize((size_t)img.w * img.h * img.nch);
    return in->read_image(0, 0, 0, img.nch, TypeDesc::UINT8, img.px.data());
}

std::string file_bytes(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

bool write_bytes(const std::string &path, const std::string &bytes)
{
    std::ofstream f(path, std::ios::binary);
    f << bytes;
    return (bool)f;
}

/* Pixels of img in [x0, x1) x [y0, y1) within tol of rgb; reports the first that is not. */
int check_rect(const png_image &img, const char *what, int x0, int x1, int y0, int y1, int r, int g, int b, int tol)
{
    int failures = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const uint8_t *p = img.at(x, y);
            const int want[3] = { r, g, b };
            for (int k = 0; k < 3; k++)
                if (std::abs(p[k] - want[k]) > tol) {
                    TS_TEST_CHECK(false, "%s: pixel (%d, %d) is (%d, %d, %d), want (%d, %d, %d) +-%d", what, x, y,
                                  p[0], p[1], p[2], r, g, b, tol);
                    return failures;
                }
        }
    return failures;
}

/* A thumbnail is a TEST_CELL square 8-bit RGB PNG. */
int check_thumb_file(const std::string &path, png_image &img)
{
    int failures = 0;
    TS_TEST_CHECK(read_png(path, img) && img.format == "png" && img.w == TEST_CELL && img.h == TEST_CELL &&
                      img.nch == 3 && img.type == TypeDesc::UINT8,
                  "%s: %s %dx%d, %d channels, %s", path.c_str(), img.format.c_str(), img.w, img.h, img.nch,
                  img.type.c_str());
    if (img.w != TEST_CELL || img.h != TEST_CELL || img.nch != 3)
        img.px.assign((size_t)TEST_CELL * TEST_CELL * 3, 0), img.w = img.h = TEST_CELL, img.nch = 3;
    return failures;
}

bool has(const char *haystack, const std::string &needle) { return std::strstr(haystack, needle.c_str()); }

int test_sheet(const std::string &dir)
{
    int failures = 0;
    const int bg = (int)std::lround(TS_SHEET_BACKGROUND * 255.0), C = TEST_CELL;
    const int exr_want = (int)std::lround(255.0 * (1.055 * std::pow(0.5, 1.0 / 2.4) - 0.055)); /* linear 0.5 */
    auto red_blue = [](int w) {
        return [w](int x, int) { return x < w / 2 ? std::vector<float>{ 1, 0, 0 } : std::vector<float>{ 0, 0, 1 }; };
    };

    /* Inputs as content-hashed blobs: no extensions. */
    const std::string rb = dir + "/rb", big = dir + "/big", exr = dir + "/exr", tif = dir + "/tif",
                      grey = dir + "/grey", alpha = dir + "/alpha", jpg = dir + "/jpg", text = dir + "/text",
                      stub = dir + "/stub", cut = dir + "/cut", wide = dir + "/wide", missing = dir + "/missing";
    bool made = write_test_image(rb, "png", 64, 32, 3, make_pixels(64, 32, 3, red_blue(64)), TypeDesc::UINT8) &&
                write_test_image(big, "png", 1001, 501, 3, make_pixels(1001, 501, 3, red_blue(1000)),
                                 TypeDesc::UINT8) &&
                write_test_image(exr, "openexr", 16, 48, 3, std::vector<float>(16 * 48 * 3, 0.5f), TypeDesc::FLOAT) &&
                write_test_image(tif, "tiff", 30, 30, 3, std::vector<float>(30 * 30 * 3, 0.5f), TypeDesc::FLOAT) &&
                write_test_image(grey, "png", 24, 24, 1, std::vector<float>(24 * 24, 0.4f), TypeDesc::UINT8) &&
                write_test_image(alpha, "png", 32, 32, 4, make_pixels(32, 32, 4, [](int x, int) {
                                     return x < 16 ? std::vector<float>{ 1, 0, 0, 0 }  /* red under alpha 0 */
                                                   : std::vector<float>{ 0, 1, 0, 1 }; /* opaque green */
                                 }), TypeDesc::UINT8) &&
                write_test_image(jpg, "jpeg", 20, 10, 3, std::vector<float>(20 * 10 * 3, 0.5f), TypeDesc::UINT8) &&
                write_test_image(wide, "png", TS_SHEET_INPUT_MAX + 1, 1, 1,
                                 std::vector<float>(TS_SHEET_INPUT_MAX + 1, 0.0f), TypeDesc::UINT8);
    /* Noise does not compress: half the file cuts into the pixel data. */
    const std::string noisy = dir + "/noisy.png";
    made = made && write_test_image(noisy, "png", 64, 64, 3, make_pixels(64, 64, 3, [](int x, int y) {
                                         unsigned v = (unsigned)(x * 7919 + y * 104729) * 2654435761u;
                                         return std::vector<float>{ (v >> 24) / 255.0f, ((v >> 16) & 255) / 255.0f,
                                                                    ((v >> 8) & 255) / 255.0f };
                                     }), TypeDesc::UINT8);
    const std::string noisy_bytes = file_bytes(noisy);
    made = made && write_bytes(text, "holiday snaps, not an image\n") &&
           write_bytes(stub, file_bytes(rb).substr(0, 12)) &&
           write_bytes(cut, noisy_bytes.substr(0, noisy_bytes.size() / 2));
    TS_TEST_CHECK(made, "could not make the test images in %s", dir.c_str());
    if (!made)
        return failures;

    /* Formats from the first bytes. */
    const struct {
        const std::string &path;
        const char *format;
    } formats[] = { { rb, "png" },  { exr, "openexr" }, { tif, "tiff" }, { grey, "png" }, { alpha, "png" },
                    { jpg, "jpeg" }, { text, nullptr },  { stub, "png" }, { cut, "png" } };
    for (const auto &f : formats) {
        const char *got = ts_sheet_format(f.path.c_str());
        TS_TEST_CHECK(f.format ? got && std::strcmp(got, f.format) == 0 : got == nullptr, "format of %s: %s, want %s",
                      f.path.c_str(), got ? got : "NULL", f.format ? f.format : "NULL");
    }
    TS_TEST_CHECK(!ts_sheet_format(missing.c_str()) && has(ts_error(), missing), "missing file: %s", ts_error());

    /* Probe: sizes, and refusals naming the user's file name. */
    const struct {
        const std::string &path;
        int w, h;
    } sizes[] = { { rb, 64, 32 }, { big, 1001, 501 }, { exr, 16, 48 }, { tif, 30, 30 },
                  { grey, 24, 24 }, { alpha, 32, 32 }, { jpg, 20, 10 }, { cut, 64, 64 } };
    for (const auto &s : sizes) {
        int w = 0, h = 0;
        TS_TEST_CHECK(ts_sheet_probe(s.path.c_str(), "name.img", &w, &h) == 0 && w == s.w && h == s.h,
                      "probe %s: %dx%d, want %dx%d (%s)", s.path.c_str(), w, h, s.w, s.h, ts_error());
    }
    for (const std::string *bad : { &text, &stub, &wide, &missing }) {
        int w, h;
        TS_TEST_CHECK(ts_sheet_probe(bad->c_str(), "holiday.jpg", &w, &h) == -1 && has(ts_error(), "holiday.jpg"),
                      "probe of %s accepted or the message does not name the file: %s", bad->c_str(), ts_error());
    }
    int w, h;
    TS_TEST_CHECK(ts_sheet_probe(wide.c_str(), "wide.png", &w, &h) == -1 && has(ts_error(), "larger than"),
                  "oversized input: %s", ts_error());

    /* Thumbnails. */
    png_image img;
    const std::string t_rb = dir + "/t_rb", t_rb2 = dir + "/t_rb2.png", t_big = dir + "/t_big",
                      t_exr = dir + "/t_exr", t_tif = dir + "/t_tif", t_grey = dir + "/t_grey",
                      t_alpha = dir + "/t_alpha", t_jpg = dir + "/t_jpg", t_small = dir + "/t_small",
                      t_bad = dir + "/t_bad";
    /* 64x32 and 1001x501 (box-reduced by 10 while read, the last blocks partial) fit as 48x24, rows 12..35: red
       left, blue right. */
    for (const std::string *p : { &rb, &big }) {
        const std::string out = *p == rb ? t_rb : t_big;
        TS_TEST_CHECK(ts_sheet_thumb(p->c_str(), C, C, out.c_str()) == 0, "thumb %s: %s", p->c_str(), ts_error());
        failures += check_thumb_file(out, img);
        failures += check_rect(img, "top bar", 0, C, 0, 12, bg, bg, bg, 0);
        failures += check_rect(img, "bottom bar", 0, C, 36, C, bg, bg, bg, 0);
        failures += check_rect(img, "left (red)", 0, 20, 12, 36, 255, 0, 0, 2);
        failures += check_rect(img, "right (blue)", 28, C, 12, 36, 0, 0, 255, 2);
    }
    /* Linear 0.5, upscaled: EXR 16x48 fits as 16x48 in columns 16..31; float TIFF fills the cell. */
    TS_TEST_CHECK(ts_sheet_thumb(exr.c_str(), C, C, t_exr.c_str()) == 0, "thumb exr: %s", ts_error());
    failures += check_thumb_file(t_exr, img);
    failures += check_rect(img, "exr left bar", 0, 16, 0, C, bg, bg, bg, 0);
    failures += check_rect(img, "exr right bar", 32, C, 0, C, bg, bg, bg, 0);
    failures += check_rect(img, "exr as sRGB", 16, 32, 0, C, exr_want, exr_want, exr_want, 2);
    TS_TEST_CHECK(ts_sheet_thumb(tif.c_str(), C, C, t_tif.c_str()) == 0, "thumb tiff: %s", ts_error());
    failures += check_thumb_file(t_tif, img);
    failures += check_rect(img, "float tiff as sRGB", 0, C, 0, C, exr_want, exr_want, exr_want, 2);
    /* One channel is grey; 8-bit 0.4 is 102. */
    TS_TEST_CHECK(ts_sheet_thumb(grey.c_str(), C, C, t_grey.c_str()) == 0, "thumb grey: %s", ts_error());
    failures += check_thumb_file(t_grey, img);
    failures += check_rect(img, "grey", 0, C, 0, C, 102, 102, 102, 1);
    /* Red under alpha 0 is background; opaque green stays green. */
    TS_TEST_CHECK(ts_sheet_thumb(alpha.c_str(), C, C, t_alpha.c_str()) == 0, "thumb alpha: %s", ts_error());
    failures += check_thumb_file(t_alpha, img);
    failures += check_rect(img, "alpha 0", 0, 18, 0, C, bg, bg, bg, 1);
    failures += check_rect(img, "opaque", 30, C, 0, C, 0, 255, 0, 2);
    /* JPEG 20x10 fits as 48x24: mid grey, give or take the codec. */
    TS_TEST_CHECK(ts_sheet_thumb(jpg.c_str(), C, C, t_jpg.c_str()) == 0, "thumb jpeg: %s", ts_error());
    failures += check_thumb_file(t_jpg, img);
    failures += check_rect(img, "jpeg bar", 0, C, 0, 12, bg, bg, bg, 0);
    failures += check_rect(img, "jpeg", 0, C, 12, 36, 128, 128, 128, 3);
    /* Deterministic: the same input gives the same bytes. */
    TS_TEST_CHECK(ts_sheet_thumb(rb.c_str(), C, C, t_rb2.c_str()) == 0 && file_bytes(t_rb) == file_bytes(t_rb2) &&
                      !file_bytes(t_rb).empty(),
                  "two thumbnails of %s differ (%s)", rb.c_str(), ts_error());
    /* Refusals name the file and leave nothing behind. */
    for (const std::string *bad : { &text, &stub, &cut, &wide, &missing }) {
        TS_TEST_CHECK(ts_sheet_thumb(bad->c_str(), C, C, t_bad.c_str()) == TS_SHEET_INPUT_BAD && has(ts_error(), *bad),
                      "thumb of %s accepted, not blamed on the input, or the message does not name it: %s",
                      bad->c_str(), ts_error());
        TS_TEST_CHECK(!std::filesystem::exists(t_bad) && !std::filesystem::exists(t_bad + SHEET_TMP_SUFFIX),
                      "a refused thumbnail of %s left a file", bad->c_str());
    }
    /* A write that fails (the path is a folder) names the output and leaves no temporary file. */
    const std::string folder = dir + "/folder";
    std::filesystem::create_directory(folder);
    TS_TEST_CHECK(ts_sheet_thumb(rb.c_str(), C, C, folder.c_str()) == -1 && has(ts_error(), folder),
                  "thumbnail over a folder: %s", ts_error());
    TS_TEST_CHECK(!std::filesystem::exists(folder + SHEET_TMP_SUFFIX), "a failed write left %s%s", folder.c_str(),
                  SHEET_TMP_SUFFIX);
    TS_TEST_CHECK(ts_sheet_thumb(rb.c_str(), 0, C, t_bad.c_str()) == -1 && has(ts_error(), "cell"),
                  "empty cell accepted: %s", ts_error());

    /* Compose: five thumbnails in two columns make 2x3 cells, the sixth background. */
    const std::string sheet = dir + "/sheet", sheet_bad = dir + "/sheet_bad";
    const char *thumbs[] = { t_rb.c_str(), t_exr.c_str(), t_grey.c_str(), t_alpha.c_str(), t_tif.c_str() };
    TS_TEST_CHECK(ts_sheet_compose(thumbs, 5, 2, C, C, sheet.c_str()) == 0, "compose: %s", ts_error());
    png_image s;
    TS_TEST_CHECK(read_png(sheet, s) && s.format == "png" && s.w == 2 * C && s.h == 3 * C && s.nch == 3 &&
                      s.type == TypeDesc::UINT8,
                  "sheet: %s %dx%d, %d channels, %s", s.format.c_str(), s.w, s.h, s.nch, s.type.c_str());
    if (s.w == 2 * C && s.h == 3 * C && s.nch == 3) {
        for (int i = 0; i < 5; i++) {
            png_image t;
            bool same = read_png(thumbs[i], t) && t.w == C && t.h == C && t.nch == 3;
            for (int y = 0; same && y < C; y++)
                same = std::memcmp(s.at(i % 2 * C, i / 2 * C + y), t.at(0, y), (size_t)C * 3) == 0;
            TS_TEST_CHECK(same, "sheet cell %d differs from %s", i, thumbs[i]);
        }
        failures += check_rect(s, "empty cell", C, 2 * C, 2 * C, 3 * C, bg, bg, bg, 0);
    }
    /* One thumbnail in three columns: one row, two empty cells. */
    TS_TEST_CHECK(ts_sheet_compose(thumbs, 1, 3, C, C, sheet.c_str()) == 0 && read_png(sheet, s) && s.w == 3 * C &&
                      s.h == C,
                  "compose 1 in 3 columns: %dx%d (%s)", s.w, s.h, ts_error());
    if (s.w == 3 * C && s.h == C)
        failures += check_rect(s, "empty cells", C, 3 * C, 0, C, bg, bg, bg, 0);
    /* Refusals name the file: a thumbnail of another size, an EXR, a cut PNG, a missing file. */
    TS_TEST_CHECK(ts_sheet_thumb(rb.c_str(), C - 8, C, t_small.c_str()) == 0, "thumb 40x48: %s", ts_error());
    for (const std::string *bad : { &t_small, &exr, &cut, &missing }) {
        const char *list[] = { t_rb.c_str(), bad->c_str() };
        TS_TEST_CHECK(ts_sheet_compose(list, 2, 2, C, C, sheet_bad.c_str()) == -1 && has(ts_error(), *bad),
                      "compose with %s accepted or the message does not name it: %s", bad->c_str(), ts_error());
        TS_TEST_CHECK(!std::filesystem::exists(sheet_bad) && !std::filesystem::exists(sheet_bad + SHEET_TMP_SUFFIX),
                      "a refused sheet with %s left a file", bad->c_str());
    }
    TS_TEST_CHECK(ts_sheet_compose(thumbs, 5, 0, C, C, sheet_bad.c_str()) == -1 && has(ts_error(), "columns"),
                  "0 columns accepted: %s", ts_error());
    TS_TEST_CHECK(ts_sheet_compose(thumbs, 0, 2, C, C, sheet_bad.c_str()) == -1, "0 thumbnails accepted");
    return failures;
}

} // namespace

extern "C" int ts_sheet_test(bool verbose)
{
    int failures = 0;
    try {
        std::string base = (std::filesystem::temp_directory_path() / "ts_sheet_test.XXXXXX").string();
        std::vector<char> templ(base.begin(), base.end());
        templ.push_back('\0');
        if (!mkdtemp(templ.data())) {
            std::fprintf(stderr, "ts_sheet: cannot make a temporary folder %s\n", base.c_str());
            return -1;
        }
        std::string dir = templ.data();
        failures += test_sheet(dir);
        std::filesystem::remove_all(dir);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "ts_sheet: exception: %s\n", e.what());
        return -1;
    } catch (...) {
        std::fprintf(stderr, "ts_sheet: unexpected exception\n");
        return -1;
    }
    if (failures) {
        std::fprintf(stderr, "ts_sheet: %d check(s) failed\n", failures);
        return -1;
    }
    if (verbose)
        std::printf("ts_sheet: ok\n");
    return 0;
}
