// PNG (libpng) and JPEG (libjpeg) reading and writing, plus the
// extension-based load_tensor/save_tensor.
//
// Both libraries report errors through callbacks that must not return. C++
// exceptions cannot safely cross their C frames, so the callbacks longjmp back
// to a setjmp in a small decode/encode function. Those functions keep every
// object that changes after setjmp in a caller-owned context struct (reached
// through a pointer), and create no C++ objects with destructors in between,
// so longjmp skips nothing that needs cleaning up.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "convpipe/error.h"
#include "convpipe/io.h"

namespace convpipe {
namespace {

bool host_is_little_endian() {
    const uint16_t one = 1;
    unsigned char first;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

std::vector<unsigned char> read_file(const std::string &path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw Error(path + ": cannot open: is a directory");
    }
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
    std::vector<unsigned char> bytes;
    unsigned char chunk[65536];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    if (failed) throw Error(path + ": read error");
    return bytes;
}

void write_file(const std::string &path, const std::vector<unsigned char> &bytes) {
    std::FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error(path + ": cannot open for writing: " + std::strerror(errno));
    errno = 0;
    bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = (std::fclose(f) == 0) && ok;  // fclose flushes, so it can fail too (disk full)
    if (!ok) throw Error(path + ": cannot write: " + std::strerror(errno ? errno : EIO));
}

std::string lower_extension(const std::string &path) {
    const size_t slash = path.find_last_of("/\\");
    const size_t dot = path.rfind('.');
    if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
    std::string ext = path.substr(dot);
    for (char &c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

// Decoded pixels, interleaved, rows top to bottom.
struct Pixels {
    size_t width = 0, height = 0, channels = 0;  // channels: 1 (gray) or 3 (RGB)
    int bits = 8;                                // 8, or 16 stored in host byte order
    std::vector<unsigned char> data;
};

// A file whose header claims an enormous image is corrupt or hostile; these
// bounds reject it before anything large is allocated. Deflate expands at
// most 1032:1, so a PNG's raw image data cannot exceed ~1032x the file size.
// JPEG has no such hard limit; 16384 pixels per byte is far beyond what real
// encoders produce (a flat baseline JPEG is ~100 pixels per byte).
const uint64_t kSlackBytes = 1 << 24;
bool png_size_plausible(uint64_t raw_bytes, uint64_t file_size) {
    return raw_bytes <= 1032 * file_size + kSlackBytes;
}
bool jpeg_size_plausible(uint64_t pixels, uint64_t file_size) {
    return pixels <= 16384 * file_size + kSlackBytes;
}

// ---- PNG ------------------------------------------------------------------

struct PngContext {
    const unsigned char *input = nullptr;
    size_t input_size = 0, input_pos = 0;
    std::vector<unsigned char> *output = nullptr;
    std::vector<png_bytep> rows;
    char error[256] = "";
};

void png_on_error(png_structp png, png_const_charp message) {
    auto *ctx = static_cast<PngContext *>(png_get_error_ptr(png));
    std::snprintf(ctx->error, sizeof ctx->error, "%s", message);
    png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {
    // Warnings (e.g. about an sRGB profile) do not affect the pixels.
}

void png_read_memory(png_structp png, png_bytep out, size_t n) {
    auto *ctx = static_cast<PngContext *>(png_get_io_ptr(png));
    if (n > ctx->input_size - ctx->input_pos) png_error(png, "truncated: file ends early");
    std::memcpy(out, ctx->input + ctx->input_pos, n);
    ctx->input_pos += n;
}

void png_write_memory(png_structp png, png_bytep data, size_t n) {
    auto *ctx = static_cast<PngContext *>(png_get_io_ptr(png));
    bool failed = false;
    try {
        ctx->output->insert(ctx->output->end(), data, data + n);
    } catch (...) {
        failed = true;
    }
    if (failed) png_error(png, "out of memory");
}

void png_flush_memory(png_structp) {}

bool decode_png(PngContext *ctx, Pixels *out) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, ctx, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!info) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        std::snprintf(ctx->error, sizeof ctx->error, "out of memory");
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_read_fn(png, ctx, png_read_memory);
    png_read_info(png, info);

    const png_uint_32 width = png_get_image_width(png, info);
    const png_uint_32 height = png_get_image_height(png, info);
    const uint64_t raw_bytes = (static_cast<uint64_t>(png_get_rowbytes(png, info)) + 1) * height;
    if (!png_size_plausible(raw_bytes, ctx->input_size)) {
        std::snprintf(ctx->error, sizeof ctx->error,
                      "header claims %ux%u pixels, implausibly large for a %zu-byte file", width,
                      height, ctx->input_size);
        png_longjmp(png, 1);
    }

    // Normalise to 8/16-bit gray or RGB: palettes become RGB, low bit depths
    // become 8 bits, alpha is dropped (transparency in tRNS is ignored).
    const int color_type = png_get_color_type(png, info);
    const int bit_depth = png_get_bit_depth(png, info);
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    if (bit_depth == 16 && host_is_little_endian()) png_set_swap(png);  // PNG is big-endian
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    out->width = width;
    out->height = height;
    out->channels = png_get_channels(png, info);
    out->bits = png_get_bit_depth(png, info);
    const size_t row_bytes = png_get_rowbytes(png, info);
    if ((out->channels != 1 && out->channels != 3) || (out->bits != 8 && out->bits != 16) ||
        row_bytes != width * out->channels * (out->bits / 8)) {
        std::snprintf(ctx->error, sizeof ctx->error, "unexpected pixel layout after conversion");
        png_longjmp(png, 1);
    }
    out->data.resize(row_bytes * height);
    ctx->rows.resize(height);
    for (size_t y = 0; y < height; ++y) ctx->rows[y] = out->data.data() + y * row_bytes;
    png_read_image(png, ctx->rows.data());
    // No png_read_end: the pixels are complete and checked (CRC, zlib
    // checksum) by now; what follows is ancillary chunks and IEND, whose
    // absence or damage should not reject an image, as in most viewers.
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

bool encode_png(PngContext *ctx, const Pixels &in) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    if (!info) {
        png_destroy_write_struct(&png, nullptr);
        std::snprintf(ctx->error, sizeof ctx->error, "out of memory");
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_set_write_fn(png, ctx, png_write_memory, png_flush_memory);
    png_set_user_limits(png, 0x7FFFFFFF, 0x7FFFFFFF);  // PNG's own limit, not libpng's 1e6 default
    const int color_type = in.channels == 1   ? PNG_COLOR_TYPE_GRAY
                           : in.channels == 3 ? PNG_COLOR_TYPE_RGB
                                              : PNG_COLOR_TYPE_RGB_ALPHA;
    png_set_IHDR(png, info, static_cast<png_uint_32>(in.width), static_cast<png_uint_32>(in.height),
                 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, ctx->rows.data());
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    return true;
}

// ---- JPEG -----------------------------------------------------------------

struct JpegErrorManager {
    jpeg_error_mgr pub;  // first, so cinfo->err can be cast back
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jpeg_on_error(j_common_ptr cinfo) {
    auto *err = reinterpret_cast<JpegErrorManager *>(cinfo->err);
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
}

void jpeg_on_message(j_common_ptr cinfo, int level) {
    // libjpeg only warns about truncated data and pads the image with gray;
    // treat that as an error so a damaged file is not silently accepted.
    // (Its Huffman decoder reads ahead, so even a file missing just the final
    // EOI marker lands here; such files are rare and rejected too.) Other
    // warnings (e.g. stray bytes between markers) and trace messages are
    // dropped, as most decoders do.
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_on_error(cinfo);
    if (level < 0) cinfo->err->num_warnings++;
}

struct JpegDecodeContext {
    jpeg_decompress_struct cinfo;
    JpegErrorManager err;
    const unsigned char *input = nullptr;
    size_t input_size = 0;
};

bool decode_jpeg(JpegDecodeContext *ctx, Pixels *out) {
    std::memset(&ctx->cinfo, 0, sizeof ctx->cinfo);  // so destroy is safe if create fails
    ctx->cinfo.err = jpeg_std_error(&ctx->err.pub);
    ctx->err.pub.error_exit = jpeg_on_error;
    ctx->err.pub.emit_message = jpeg_on_message;
    if (setjmp(ctx->err.jump)) {
        jpeg_destroy_decompress(&ctx->cinfo);
        return false;
    }
    jpeg_create_decompress(&ctx->cinfo);
    jpeg_mem_src(&ctx->cinfo, ctx->input, static_cast<unsigned long>(ctx->input_size));
    jpeg_read_header(&ctx->cinfo, TRUE);
    switch (ctx->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: ctx->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr:
    case JCS_RGB: ctx->cinfo.out_color_space = JCS_RGB; break;
    default:
        std::snprintf(ctx->err.message, sizeof ctx->err.message,
                      "unsupported JPEG colour space (CMYK/YCCK); convert it to RGB first");
        std::longjmp(ctx->err.jump, 1);
    }
    const uint64_t pixels = static_cast<uint64_t>(ctx->cinfo.image_width) * ctx->cinfo.image_height;
    if (!jpeg_size_plausible(pixels, ctx->input_size)) {
        std::snprintf(ctx->err.message, sizeof ctx->err.message,
                      "header claims %ux%u pixels, implausibly large for a %zu-byte file",
                      ctx->cinfo.image_width, ctx->cinfo.image_height, ctx->input_size);
        std::longjmp(ctx->err.jump, 1);
    }
    jpeg_start_decompress(&ctx->cinfo);
    out->width = ctx->cinfo.output_width;
    out->height = ctx->cinfo.output_height;
    out->channels = static_cast<size_t>(ctx->cinfo.output_components);
    out->bits = 8;
    const size_t row_bytes = out->width * out->channels;
    out->data.resize(row_bytes * out->height);
    while (ctx->cinfo.output_scanline < ctx->cinfo.output_height) {
        JSAMPROW row = out->data.data() + ctx->cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&ctx->cinfo, &row, 1);
    }
    jpeg_finish_decompress(&ctx->cinfo);
    jpeg_destroy_decompress(&ctx->cinfo);
    return true;
}

// A libjpeg destination that appends to a std::vector.
struct JpegVectorDest {
    jpeg_destination_mgr pub;  // first, so cinfo->dest can be cast back
    std::vector<unsigned char> *output = nullptr;
    std::vector<JOCTET> buffer;
    bool out_of_memory = false;
};

void jpeg_dest_append(j_compress_ptr cinfo, size_t n) {
    auto *dest = reinterpret_cast<JpegVectorDest *>(cinfo->dest);
    try {
        dest->output->insert(dest->output->end(), dest->buffer.data(), dest->buffer.data() + n);
    } catch (...) {
        dest->out_of_memory = true;
    }
    if (dest->out_of_memory) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
}

void jpeg_dest_init(j_compress_ptr cinfo) {
    auto *dest = reinterpret_cast<JpegVectorDest *>(cinfo->dest);
    dest->pub.next_output_byte = dest->buffer.data();
    dest->pub.free_in_buffer = dest->buffer.size();
}

boolean jpeg_dest_empty(j_compress_ptr cinfo) {
    auto *dest = reinterpret_cast<JpegVectorDest *>(cinfo->dest);
    jpeg_dest_append(cinfo, dest->buffer.size());  // libjpeg says: flush the whole buffer
    jpeg_dest_init(cinfo);
    return TRUE;
}

void jpeg_dest_term(j_compress_ptr cinfo) {
    auto *dest = reinterpret_cast<JpegVectorDest *>(cinfo->dest);
    jpeg_dest_append(cinfo, dest->buffer.size() - dest->pub.free_in_buffer);
}

struct JpegEncodeContext {
    jpeg_compress_struct cinfo;
    JpegErrorManager err;
    JpegVectorDest dest;
};

bool encode_jpeg(JpegEncodeContext *ctx, const Pixels &in, int quality) {
    std::memset(&ctx->cinfo, 0, sizeof ctx->cinfo);
    ctx->cinfo.err = jpeg_std_error(&ctx->err.pub);
    ctx->err.pub.error_exit = jpeg_on_error;
    ctx->err.pub.emit_message = jpeg_on_message;
    if (setjmp(ctx->err.jump)) {
        jpeg_destroy_compress(&ctx->cinfo);
        return false;
    }
    jpeg_create_compress(&ctx->cinfo);
    ctx->dest.pub.init_destination = jpeg_dest_init;
    ctx->dest.pub.empty_output_buffer = jpeg_dest_empty;
    ctx->dest.pub.term_destination = jpeg_dest_term;
    ctx->cinfo.dest = &ctx->dest.pub;
    ctx->cinfo.image_width = static_cast<JDIMENSION>(in.width);
    ctx->cinfo.image_height = static_cast<JDIMENSION>(in.height);
    ctx->cinfo.input_components = static_cast<int>(in.channels);
    ctx->cinfo.in_color_space = in.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&ctx->cinfo);
    jpeg_set_quality(&ctx->cinfo, quality, TRUE);
    jpeg_start_compress(&ctx->cinfo, TRUE);
    const size_t row_bytes = in.width * in.channels;
    while (ctx->cinfo.next_scanline < ctx->cinfo.image_height) {
        // libjpeg's API takes non-const rows but only reads them.
        JSAMPROW row = const_cast<JSAMPLE *>(in.data.data()) + ctx->cinfo.next_scanline * row_bytes;
        jpeg_write_scanlines(&ctx->cinfo, &row, 1);
    }
    jpeg_finish_compress(&ctx->cinfo);
    jpeg_destroy_compress(&ctx->cinfo);
    return true;
}

// ---- conversions ----------------------------------------------------------

Tensor pixels_to_tensor(const Pixels &px, Color color) {
    const size_t count = px.width * px.height * px.channels;
    std::vector<float> v(count);
    if (px.bits == 16) {
        for (size_t i = 0; i < count; ++i) {
            uint16_t s;
            std::memcpy(&s, px.data.data() + 2 * i, 2);
            v[i] = static_cast<float>(s) / 65535.0f;
        }
    } else {
        for (size_t i = 0; i < count; ++i) v[i] = static_cast<float>(px.data[i]) / 255.0f;
    }
    const int64_t h = static_cast<int64_t>(px.height), w = static_cast<int64_t>(px.width);
    const size_t n = px.width * px.height;
    if (color == Color::Gray && px.channels == 3) {
        std::vector<float> gray(n);
        for (size_t i = 0; i < n; ++i) gray[i] = (v[3 * i] + v[3 * i + 1] + v[3 * i + 2]) / 3.0f;
        return Tensor({h, w, 1}, std::move(gray));
    }
    if (color == Color::RGB && px.channels == 1) {
        std::vector<float> rgb(3 * n);
        for (size_t i = 0; i < n; ++i) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v[i];
        return Tensor({h, w, 3}, std::move(rgb));
    }
    return Tensor({h, w, static_cast<int64_t>(px.channels)}, std::move(v));
}

}  // namespace

Tensor load_image(const std::string &path, Color color) {
    const std::vector<unsigned char> bytes = read_file(path);
    if (bytes.empty()) throw Error(path + ": empty file (expected a PNG or JPEG image)");
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    Pixels px;
    if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_magic, 8) == 0) {
        PngContext ctx;
        ctx.input = bytes.data();
        ctx.input_size = bytes.size();
        if (!decode_png(&ctx, &px)) throw Error(path + ": invalid PNG: " + ctx.error);
    } else if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
        JpegDecodeContext ctx;
        ctx.input = bytes.data();
        ctx.input_size = bytes.size();
        if (!decode_jpeg(&ctx, &px)) throw Error(path + ": invalid JPEG: " + ctx.err.message);
    } else {
        throw Error(path + ": not a PNG or JPEG image (unrecognised file content)");
    }
    return pixels_to_tensor(px, color);
}

void save_image(const Tensor &tensor, const std::string &path, Scale scale) {
    const Shape &s = tensor.shape();
    const bool ok_rank = s.size() == 2 || s.size() == 3 || (s.size() == 4 && s[0] == 1);
    const int64_t channels = s.size() == 2 ? 1 : ok_rank ? s.back() : 0;
    if (!ok_rank || (channels != 1 && channels != 3 && channels != 4)) {
        throw Error(path + ": cannot save tensor of shape " + shape_to_string(s) +
                    " as an image (expected [H,W], [H,W,C] or [1,H,W,C] with C = 1, 3 or 4)");
    }
    const int64_t h = s[s.size() == 4 ? 1 : 0], w = s[s.size() == 4 ? 2 : 1];
    if (h < 1 || w < 1) throw Error(path + ": cannot save an empty image of shape " + shape_to_string(s));
    if (h > 0x7FFFFFFF || w > 0x7FFFFFFF) {
        throw Error(path + ": image of shape " + shape_to_string(s) + " is too large to save");
    }
    if (tensor.size() != shape_elements(s)) {
        throw Error(path + ": tensor of shape " + shape_to_string(s) + " holds " +
                    std::to_string(tensor.size()) + " values, expected " +
                    std::to_string(shape_elements(s)));
    }
    const std::string ext = lower_extension(path);
    const bool jpeg = ext == ".jpg" || ext == ".jpeg";
    if (jpeg && channels == 4) {
        throw Error(path + ": JPEG cannot store 4 channels (alpha); save as .png, or drop the alpha channel");
    }

    // Map to [0,1]. MinMax ignores non-finite values when finding the range.
    float lo = 0.0f, hi = 1.0f;
    if (scale == Scale::MinMax) {
        bool any = false;
        for (float v : tensor.values()) {
            if (!std::isfinite(v)) continue;
            lo = any ? std::min(lo, v) : v;
            hi = any ? std::max(hi, v) : v;
            any = true;
        }
        if (!any) lo = hi = 0.0f;
    }
    const float range = hi - lo;
    Pixels px;
    px.width = static_cast<size_t>(w);
    px.height = static_cast<size_t>(h);
    px.channels = static_cast<size_t>(channels);
    px.data.resize(static_cast<size_t>(tensor.size()));
    for (size_t i = 0; i < px.data.size(); ++i) {
        float v = tensor.values()[i];
        if (std::isnan(v)) {
            v = 0.0f;
        } else if (scale == Scale::MinMax) {
            v = range > 0.0f ? (v - lo) / range : 0.0f;  // a constant maps to 0
        }
        v = std::min(std::max(v, 0.0f), 1.0f);
        px.data[i] = static_cast<unsigned char>(std::lround(v * 255.0f));
    }

    std::vector<unsigned char> encoded;
    if (jpeg) {
        if (h > JPEG_MAX_DIMENSION || w > JPEG_MAX_DIMENSION) {
            throw Error(path + ": image of shape " + shape_to_string(s) + " exceeds JPEG's " +
                        std::to_string(JPEG_MAX_DIMENSION) + " pixel limit; save as .png");
        }
        auto ctx = std::make_unique<JpegEncodeContext>();  // holds a 64 KiB buffer
        ctx->dest.output = &encoded;
        ctx->dest.buffer.resize(65536);
        if (!encode_jpeg(ctx.get(), px, 95)) throw Error(path + ": cannot encode JPEG: " + ctx->err.message);
    } else {
        PngContext ctx;
        ctx.output = &encoded;
        const size_t row_bytes = px.width * px.channels;
        ctx.rows.resize(px.height);
        for (size_t y = 0; y < px.height; ++y) ctx.rows[y] = px.data.data() + y * row_bytes;
        if (!encode_png(&ctx, px)) throw Error(path + ": cannot encode PNG: " + ctx.error);
    }
    write_file(path, encoded);
}

static const char kSupported[] = "expected .npy, .png, .jpg or .jpeg";

Tensor load_tensor(const std::string &path) {
    const std::string ext = lower_extension(path);
    if (ext == ".npy") return load_npy(path);
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") return load_image(path);
    throw Error(path + ": unsupported file extension " + (ext.empty() ? "(none)" : "'" + ext + "'") +
                " (" + kSupported + ")");
}

void save_tensor(const Tensor &tensor, const std::string &path, Scale scale) {
    const std::string ext = lower_extension(path);
    if (ext == ".npy") return save_npy(tensor, path);
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") return save_image(tensor, path, scale);
    throw Error(path + ": unsupported file extension " + (ext.empty() ? "(none)" : "'" + ext + "'") +
                " (" + kSupported + ")");
}

}  // namespace convpipe
