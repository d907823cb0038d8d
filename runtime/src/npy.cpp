// NumPy .npy reading and writing. Format:
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "convpipe/error.h"
#include "convpipe/io.h"

namespace convpipe {
namespace {

const char kMagic[] = "\x93NUMPY";
const size_t kMagicSize = 6;

bool host_is_little_endian() {
    const uint16_t one = 1;
    unsigned char first;
    std::memcpy(&first, &one, 1);
    return first == 1;
}

using FilePtr = std::unique_ptr<std::FILE, int (*)(std::FILE *)>;

FilePtr open_for_reading(const std::string &path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw Error(path + ": cannot open: is a directory");
    }
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) throw Error(path + ": cannot open: " + std::strerror(errno));
    return FilePtr(f, &std::fclose);
}

// Size in bytes, or an Error for things such as pipes that cannot seek.
uint64_t file_size(std::FILE *f, const std::string &path) {
    if (std::fseek(f, 0, SEEK_END) != 0) {
        throw Error(path + ": cannot determine file size (not a regular file?)");
    }
    long size = std::ftell(f);
    if (size < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
        throw Error(path + ": cannot determine file size (not a regular file?)");
    }
    return static_cast<uint64_t>(size);
}

void read_exact(std::FILE *f, void *dst, size_t n, const std::string &path) {
    if (n > 0 && std::fread(dst, 1, n, f) != n) {
        throw Error(path + ": read error: file ended early or could not be read");
    }
}

// ---- header dictionary ----------------------------------------------------

// The header is a Python dict literal, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// This is a tiny parser for exactly the literals that can appear in it.
struct Value {
    enum Kind { String, Bool, Tuple, Other } kind = Other;
    std::string text;
    bool flag = false;
    Shape tuple;
};

struct Header {
    std::string descr;
    bool fortran_order = false;
    Shape shape;
};

class HeaderParser {
public:
    HeaderParser(const std::string &text, const std::string &path) : s_(text), path_(path) {}

    Header parse() {
        Header h;
        bool have_descr = false, have_order = false, have_shape = false;
        skip_space();
        expect('{');
        while (true) {
            skip_space();
            if (peek() == '}') {
                ++pos_;
                break;
            }
            std::string key = parse_string();
            skip_space();
            expect(':');
            skip_space();
            Value v = parse_value();
            if (key == "descr") {
                if (v.kind != Value::String) {
                    fail("unsupported dtype (structured dtypes are not supported; expected "
                         "float32, float64 or uint8)");
                }
                h.descr = v.text;
                have_descr = true;
            } else if (key == "fortran_order") {
                if (v.kind != Value::Bool) fail("'fortran_order' must be True or False");
                h.fortran_order = v.flag;
                have_order = true;
            } else if (key == "shape") {
                if (v.kind != Value::Tuple) fail("'shape' must be a tuple of integers");
                h.shape = v.tuple;
                have_shape = true;
            }
            // Other keys are ignored: NumPy never writes any, and they do
            // not affect how the data is laid out.
            skip_space();
            if (peek() == ',') {
                ++pos_;
            } else if (peek() != '}') {
                fail("expected ',' or '}'");
            }
        }
        skip_space();
        if (pos_ != s_.size()) fail("unexpected text after the dictionary");
        if (!have_descr) fail("missing 'descr'");
        if (!have_order) fail("missing 'fortran_order'");
        if (!have_shape) fail("missing 'shape'");
        return h;
    }

private:
    [[noreturn]] void fail(const std::string &what) const {
        throw Error(path_ + ": bad .npy header: " + what);
    }
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    void skip_space() {
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' ||
                                    s_[pos_] == '\r')) {
            ++pos_;
        }
    }
    void expect(char c) {
        if (peek() != c) fail(std::string("expected '") + c + "'");
        ++pos_;
    }
    bool starts_with(const char *word) const { return s_.compare(pos_, std::strlen(word), word) == 0; }

    std::string parse_string() {
        char quote = peek();
        if (quote != '\'' && quote != '"') fail("expected a quoted key or string");
        ++pos_;
        std::string out;
        while (pos_ < s_.size() && s_[pos_] != quote) {
            if (s_[pos_] == '\\') fail("escape sequences are not supported in strings");
            out += s_[pos_++];
        }
        if (pos_ >= s_.size()) fail("unterminated string");
        ++pos_;
        return out;
    }

    int64_t parse_int() {
        if (peek() == '-') fail("negative dimension in 'shape'");
        if (peek() < '0' || peek() > '9') fail("expected an integer in 'shape'");
        int64_t v = 0;
        while (peek() >= '0' && peek() <= '9') {
            int digit = peek() - '0';
            if (v > (std::numeric_limits<int64_t>::max() - digit) / 10) fail("dimension too large");
            v = v * 10 + digit;
            ++pos_;
        }
        if (peek() == 'L') ++pos_;  // Python 2 long suffix
        return v;
    }

    Value parse_value() {
        Value v;
        char c = peek();
        if (c == '\'' || c == '"') {
            v.kind = Value::String;
            v.text = parse_string();
        } else if (starts_with("True")) {
            v.kind = Value::Bool;
            v.flag = true;
            pos_ += 4;
        } else if (starts_with("False")) {
            v.kind = Value::Bool;
            pos_ += 5;
        } else if (c == '(') {
            v.kind = Value::Tuple;
            ++pos_;
            skip_space();
            while (peek() != ')') {
                v.tuple.push_back(parse_int());
                skip_space();
                if (peek() == ',') {
                    ++pos_;
                    skip_space();
                } else if (peek() != ')') {
                    fail("expected ',' or ')' in 'shape'");
                }
            }
            ++pos_;
        } else if (c == '[' || c == '{') {
            skip_brackets();  // e.g. a structured dtype's field list
        } else {
            fail("unexpected value");
        }
        return v;
    }

    // Skips a bracketed value, honouring nesting and quoted strings.
    void skip_brackets() {
        int depth = 0;
        do {
            char c = peek();
            if (c == '\0') fail("unterminated bracket");
            if (c == '\'' || c == '"') {
                parse_string();
                continue;
            }
            if (c == '[' || c == '{' || c == '(') ++depth;
            if (c == ']' || c == '}' || c == ')') --depth;
            ++pos_;
        } while (depth > 0);
    }

    const std::string &s_;
    const std::string &path_;
    size_t pos_ = 0;
};

// ---- dtypes ---------------------------------------------------------------

enum class DType { Float32, Float64, UInt8 };

struct TypeInfo {
    DType type;
    size_t item_size;
    bool little_endian;
};

TypeInfo parse_descr(const std::string &descr, const std::string &path) {
    auto unsupported = [&]() {
        return Error(path + ": unsupported dtype '" + descr +
                     "' (expected float32, float64 or uint8)");
    };
    std::string code = descr;
    bool little = host_is_little_endian();
    if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
        if (code[0] == '<') little = true;
        if (code[0] == '>') little = false;
        code = code.substr(1);
    }
    if (code == "f4") return {DType::Float32, 4, little};
    if (code == "f8") return {DType::Float64, 8, little};
    if (code == "u1") return {DType::UInt8, 1, little};
    throw unsupported();
}

// Reverses byte order of each item in place when the file's order differs
// from the host's.
void to_host_order(unsigned char *bytes, size_t count, size_t item_size, bool file_little) {
    if (item_size == 1 || file_little == host_is_little_endian()) return;
    for (size_t i = 0; i < count; ++i) {
        unsigned char *p = bytes + i * item_size;
        for (size_t a = 0, b = item_size - 1; a < b; ++a, --b) std::swap(p[a], p[b]);
    }
}

// Fortran (column-major) data to C (row-major) order.
std::vector<float> fortran_to_c(const std::vector<float> &f, const Shape &shape) {
    std::vector<float> c(f.size());
    if (f.empty()) return c;
    size_t rank = shape.size();
    std::vector<int64_t> stride(rank), index(rank, 0);
    int64_t s = 1;
    for (size_t k = 0; k < rank; ++k) {
        stride[k] = s;
        s *= shape[k];
    }
    // Walk the C-order positions, keeping the matching Fortran offset.
    int64_t foff = 0;
    for (size_t i = 0; i < c.size(); ++i) {
        c[i] = f[static_cast<size_t>(foff)];
        for (size_t k = rank; k-- > 0;) {
            foff += stride[k];
            if (++index[k] < shape[k]) break;
            foff -= stride[k] * shape[k];
            index[k] = 0;
        }
    }
    return c;
}

uint32_t read_le(const unsigned char *p, size_t n) {
    uint32_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

}  // namespace

Tensor load_npy(const std::string &path) {
    FilePtr file = open_for_reading(path);
    std::FILE *f = file.get();
    const uint64_t size = file_size(f, path);
    if (size == 0) throw Error(path + ": empty file (expected a .npy file)");

    unsigned char prefix[12] = {};
    const size_t prefix_read = static_cast<size_t>(std::min<uint64_t>(size, sizeof prefix));
    read_exact(f, prefix, prefix_read, path);
    if (prefix_read < kMagicSize || std::memcmp(prefix, kMagic, kMagicSize) != 0) {
        throw Error(path + ": not a .npy file (missing the \\x93NUMPY magic bytes)");
    }
    if (prefix_read < 10) throw Error(path + ": truncated: file ends inside the .npy preamble");
    const int major = prefix[6], minor = prefix[7];
    size_t len_bytes;
    if (major == 1 && minor == 0) {
        len_bytes = 2;
    } else if ((major == 2 || major == 3) && minor == 0) {
        len_bytes = 4;
    } else {
        throw Error(path + ": unsupported .npy format version " + std::to_string(major) + "." +
                    std::to_string(minor) + " (expected 1.0, 2.0 or 3.0)");
    }
    if (prefix_read < 8 + len_bytes) throw Error(path + ": truncated: file ends inside the .npy preamble");
    const uint64_t header_len = read_le(prefix + 8, len_bytes);
    const uint64_t data_offset = 8 + len_bytes + header_len;
    if (data_offset > size) {
        throw Error(path + ": truncated: header length " + std::to_string(header_len) +
                    " bytes exceeds the file size " + std::to_string(size));
    }

    std::string header_text(static_cast<size_t>(header_len), '\0');
    if (std::fseek(f, static_cast<long>(8 + len_bytes), SEEK_SET) != 0) {
        throw Error(path + ": read error: cannot seek to the header");
    }
    read_exact(f, header_text.data(), header_text.size(), path);
    Header header = HeaderParser(header_text, path).parse();
    TypeInfo type = parse_descr(header.descr, path);

    int64_t count = 1;
    for (int64_t d : header.shape) {
        if (d != 0 && count > std::numeric_limits<int64_t>::max() / d) {
            throw Error(path + ": shape " + shape_to_string(header.shape) + " is too large");
        }
        count *= d;
    }
    // Compare against the bytes actually present before allocating anything.
    const uint64_t held = (size - data_offset) / type.item_size;
    if (static_cast<uint64_t>(count) > held) {
        throw Error(path + ": truncated: header says " + std::to_string(count) +
                    " values, file holds " + std::to_string(held));
    }

    const size_t n = static_cast<size_t>(count);
    std::vector<float> values(n);
    if (type.type == DType::Float32 && type.little_endian == host_is_little_endian()) {
        read_exact(f, values.data(), n * 4, path);  // the common case: no conversion
    } else {
        std::vector<unsigned char> raw(n * type.item_size);
        read_exact(f, raw.data(), raw.size(), path);
        to_host_order(raw.data(), n, type.item_size, type.little_endian);
        for (size_t i = 0; i < n; ++i) {
            const unsigned char *p = raw.data() + i * type.item_size;
            if (type.type == DType::Float32) {
                float v;
                std::memcpy(&v, p, 4);
                values[i] = v;
            } else if (type.type == DType::Float64) {
                double v;
                std::memcpy(&v, p, 8);
                values[i] = static_cast<float>(v);
            } else {
                values[i] = static_cast<float>(*p);
            }
        }
    }
    if (header.fortran_order && header.shape.size() > 1) values = fortran_to_c(values, header.shape);
    return Tensor(header.shape, std::move(values));
}

void save_npy(const Tensor &tensor, const std::string &path) {
    const Shape &shape = tensor.shape();
    const int64_t expected = shape_elements(shape);
    if (expected != tensor.size()) {
        throw Error(path + ": cannot save: tensor of shape " + shape_to_string(shape) + " holds " +
                    std::to_string(tensor.size()) + " values, expected " +
                    std::to_string(expected));
    }

    // Python tuple syntax: (), (3,), (3, 4).
    std::string dims = "(";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) dims += ", ";
        dims += std::to_string(shape[i]);
    }
    if (shape.size() == 1) dims += ",";
    dims += ")";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + dims + ", }";

    // Pad with spaces and end with '\n' so the data starts 64-byte aligned.
    size_t len_bytes = 2;
    size_t preamble = 8 + len_bytes;
    size_t total = preamble + header.size() + 1;
    if ((total + 63) / 64 * 64 - preamble > 0xFFFF) {  // only for absurd ranks
        len_bytes = 4;
        preamble = 8 + len_bytes;
        total = preamble + header.size() + 1;
    }
    total = (total + 63) / 64 * 64;
    header.append(total - preamble - header.size() - 1, ' ');
    header += '\n';

    std::string out(kMagic, kMagicSize);
    out += static_cast<char>(len_bytes == 2 ? 1 : 2);
    out += '\0';
    const size_t hlen = header.size();
    for (size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((hlen >> (8 * i)) & 0xFF);
    out += header;

    Values data = tensor.values();
    to_host_order(reinterpret_cast<unsigned char *>(data.data()), data.size(), 4, true);

    std::FILE *f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error(path + ": cannot open for writing: " + std::strerror(errno));
    errno = 0;
    bool ok = std::fwrite(out.data(), 1, out.size(), f) == out.size();
    ok = ok && (data.empty() || std::fwrite(data.data(), 4, data.size(), f) == data.size());
    ok = (std::fclose(f) == 0) && ok;  // fclose flushes, so it can fail too (disk full)
    if (!ok) throw Error(path + ": cannot write: " + std::strerror(errno ? errno : EIO));
}

}  // namespace convpipe
