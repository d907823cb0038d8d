// Tensor, .npy and PNG/JPEG I/O. Fixture values come from
// scripts/make_io_fixtures.py; each is a simple formula of the flat index i,
// recomputed here.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "convpipe/error.h"
#include "convpipe/io.h"
#include "convpipe/tensor.h"

namespace convpipe {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string data_path(const std::string &name) {
    return std::string(CONVPIPE_SOURCE_DIR) + "/tests/data/io/" + name;
}

std::string coffee_path() { return std::string(CONVPIPE_SOURCE_DIR) + "/pipelines/images/coffee.png"; }

// Scratch files live under one directory per process (tests may run as
// parallel processes), removed when the run ends.
const std::filesystem::path &scratch_root() {
    static const std::filesystem::path root = std::filesystem::path(::testing::TempDir()) /
                                              ("convpipe_test_io_" + std::to_string(std::random_device{}()));
    return root;
}

class RemoveScratch : public ::testing::Environment {
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(scratch_root(), ec);
    }
};
::testing::Environment *const remove_scratch = ::testing::AddGlobalTestEnvironment(new RemoveScratch);

// A path in a fresh scratch directory for the current test.
std::string temp_path(const std::string &name) {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::filesystem::path dir =
        scratch_root() / (std::string(info->test_suite_name()) + "_" + info->name());
    std::filesystem::create_directories(dir);
    return (dir / name).string();
}

std::string read_bytes(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_bytes(const std::string &path, const std::string &bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The message of the convpipe::Error that f throws, or a failure.
std::string error_of(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "expected convpipe::Error, got another exception: " << e.what();
        return "";
    }
    ADD_FAILURE() << "expected convpipe::Error, nothing was thrown";
    return "";
}

// Runs f, accepting success or convpipe::Error, failing on anything else.
void loads_or_errors(const std::function<void()> &f, const std::string &what) {
    try {
        f();
    } catch (const Error &) {
    } catch (const std::exception &e) {
        ADD_FAILURE() << what << ": unexpected exception " << e.what();
    }
}

// A .npy file from a header dict and raw data, padded like NumPy does.
std::string make_npy(const std::string &dict, const std::string &data, int major = 1) {
    const size_t len_bytes = major == 1 ? 2 : 4;
    std::string header = dict;
    while ((8 + len_bytes + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    for (size_t i = 0; i < len_bytes; ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    return out + header + data;
}

std::string float_bytes(const std::vector<float> &v) {
    return std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(float));
}

// ---- Tensor ---------------------------------------------------------------

TEST(Tensor, ShapeToString) {
    EXPECT_EQ(shape_to_string({1, 278, 493, 1}), "[1, 278, 493, 1]");
    EXPECT_EQ(shape_to_string({7}), "[7]");
    EXPECT_EQ(shape_to_string({}), "[]");
}

TEST(Tensor, ShapeElements) {
    EXPECT_EQ(shape_elements({2, 3, 4}), 24);
    EXPECT_EQ(shape_elements({}), 1);
    EXPECT_EQ(shape_elements({5, 0, 3}), 0);
    EXPECT_THAT(error_of([] { shape_elements({2, -1}); }), HasSubstr("must not be negative"));
    EXPECT_THAT(error_of([] { shape_elements({int64_t(1) << 40, int64_t(1) << 40}); }),
                HasSubstr("overflows"));
}

TEST(Tensor, ConstructorsCheckShapes) {
    Tensor z({2, 3});
    EXPECT_EQ(z.size(), 6);
    EXPECT_EQ(z.rank(), 2);
    for (float v : z.values()) EXPECT_EQ(v, 0.0f);

    Tensor t({2, 2}, {1, 2, 3, 4});
    EXPECT_EQ(t.values(), (Values{1, 2, 3, 4}));
    EXPECT_THAT(error_of([] { Tensor({2, 2}, {1, 2, 3}); }),
                AllOf(HasSubstr("[2, 2]"), HasSubstr("needs 4 values, got 3")));
    EXPECT_THAT(error_of([] { Tensor({3, -2}); }), HasSubstr("[3, -2]"));
    EXPECT_THAT(error_of([] { Tensor({int64_t(1) << 62, 4}); }), HasSubstr("[4611686018427387904, 4]"));

    Tensor empty;
    EXPECT_TRUE(empty.empty());
    EXPECT_EQ(empty.rank(), 0);
}

TEST(Tensor, DimCountsFromTheEnd) {
    Tensor t({2, 3, 4});
    EXPECT_EQ(t.dim(0), 2);
    EXPECT_EQ(t.dim(2), 4);
    EXPECT_EQ(t.dim(-1), 4);
    EXPECT_EQ(t.dim(-3), 2);
    EXPECT_THAT(error_of([&] { t.dim(3); }), HasSubstr("dimension 3 out of range"));
    EXPECT_THAT(error_of([&] { t.dim(-4); }), HasSubstr("dimension -4 out of range"));
}

TEST(Tensor, AtIsRowMajorAndBoundsChecked) {
    Tensor t({2, 3}, {0, 1, 2, 3, 4, 5});
    EXPECT_EQ(t.at({0, 2}), 2.0f);
    EXPECT_EQ(t.at({1, 0}), 3.0f);
    EXPECT_EQ(t.at({1, 2}), 5.0f);
    t.at({1, 1}) = 42.0f;
    EXPECT_EQ(t.values()[4], 42.0f);

    const Tensor &c = t;
    EXPECT_EQ(c.at({1, 1}), 42.0f);
    EXPECT_THAT(error_of([&] { c.at({2, 0}); }),
                AllOf(HasSubstr("index [2, 0] out of bounds"), HasSubstr("[2, 3]")));
    EXPECT_THAT(error_of([&] { t.at({0, -1}); }), HasSubstr("out of bounds"));
    EXPECT_THAT(error_of([&] { t.at({1}); }), HasSubstr("index has 1 components"));

    Tensor scalar({}, {9.0f});
    EXPECT_EQ(scalar.at({}), 9.0f);
}

TEST(Tensor, Reshaped) {
    Tensor t({2, 3}, {0, 1, 2, 3, 4, 5});
    Tensor r = t.reshaped({3, 2});
    EXPECT_EQ(r.shape(), (Shape{3, 2}));
    EXPECT_EQ(r.values(), t.values());
    EXPECT_EQ(r.at({2, 1}), 5.0f);
    EXPECT_THAT(error_of([&] { t.reshaped({4, 2}); }),
                AllOf(HasSubstr("cannot reshape"), HasSubstr("[2, 3]"), HasSubstr("[4, 2]")));
}

TEST(Tensor, ResizeReusesStorage) {
    Tensor t({4, 5});
    const float *before = t.data();
    t.resize({2, 3});
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    EXPECT_EQ(t.size(), 6);
    EXPECT_EQ(t.data(), before);
    t.resize({5, 4});  // back within the original capacity
    EXPECT_EQ(t.size(), 20);
    EXPECT_EQ(t.data(), before);
    EXPECT_THAT(error_of([&] { t.resize({-1}); }), HasSubstr("must not be negative"));
    EXPECT_EQ(t.shape(), (Shape{5, 4}));  // unchanged after a failed resize
}

// Every tensor's values start on a cache line, small or large (a large
// block from malloc starts 16 bytes past a page), however made: the
// kernels' 64-byte vectors then never straddle two lines.
TEST(Tensor, ValuesStartOnACacheLine) {
    auto aligned = [](const Tensor &t) { return reinterpret_cast<uintptr_t>(t.data()) % 64 == 0; };
    for (int64_t n : {1, 3, 17, 1000, 300 * 1000, 4 * 1000 * 1000}) {
        Tensor t({n});
        EXPECT_TRUE(aligned(t)) << n << " values";
        EXPECT_TRUE(aligned(Tensor({n}, std::vector<float>(static_cast<size_t>(n), 1.0f)))) << n << " values";
        EXPECT_TRUE(aligned(t.reshaped({1, n}))) << n << " values, reshaped";
        Tensor grown({1});
        grown.resize({n});
        EXPECT_TRUE(aligned(grown)) << n << " values, resized";
    }
}

TEST(Tensor, NhwcShape) {
    EXPECT_EQ(Tensor({5, 7}).nhwc_shape(), (Shape{1, 5, 7, 1}));
    EXPECT_EQ(Tensor({5, 7, 3}).nhwc_shape(), (Shape{1, 5, 7, 3}));
    EXPECT_EQ(Tensor({2, 5, 7, 3}).nhwc_shape(), (Shape{2, 5, 7, 3}));
    EXPECT_THAT(error_of([] { Tensor({5}).nhwc_shape(); }), HasSubstr("got shape [5]"));
    EXPECT_THAT(error_of([] { Tensor({1, 1, 1, 1, 1}).nhwc_shape(); }), HasSubstr("[1, 1, 1, 1, 1]"));
}

// ---- .npy fixtures --------------------------------------------------------

TEST(Npy, Float32TwoD) {
    Tensor t = load_npy(data_path("f32_2d.npy"));
    ASSERT_EQ(t.shape(), (Shape{3, 4}));
    for (int i = 0; i < 12; ++i) EXPECT_EQ(t.values()[i], i * 0.5f - 3.0f) << "i=" << i;
    EXPECT_EQ(t.at({2, 3}), 2.5f);
}

TEST(Npy, Float64ThreeD) {
    Tensor t = load_npy(data_path("f64_3d.npy"));
    ASSERT_EQ(t.shape(), (Shape{2, 3, 2}));
    for (int i = 0; i < 12; ++i) EXPECT_EQ(t.values()[i], i * 0.125f - 1.0f) << "i=" << i;
}

TEST(Npy, UInt8FourDKeepsValues) {
    Tensor t = load_npy(data_path("u8_4d.npy"));
    ASSERT_EQ(t.shape(), (Shape{1, 2, 3, 2}));
    for (int i = 0; i < 12; ++i) EXPECT_EQ(t.values()[i], 255.0f - 20.0f * i) << "i=" << i;
    EXPECT_EQ(t.values()[0], 255.0f);
}

TEST(Npy, FortranOrderIsTransposed) {
    Tensor t = load_npy(data_path("fortran_3d.npy"));
    ASSERT_EQ(t.shape(), (Shape{2, 3, 4}));
    for (int64_t a = 0; a < 2; ++a)
        for (int64_t b = 0; b < 3; ++b)
            for (int64_t c = 0; c < 4; ++c)
                EXPECT_EQ(t.at({a, b, c}), 100.0f * a + 10.0f * b + c) << a << "," << b << "," << c;
}

TEST(Npy, BigEndianIsSwapped) {
    Tensor f = load_npy(data_path("f32_be_1d.npy"));
    ASSERT_EQ(f.shape(), (Shape{5}));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(f.values()[i], i * 1.5f + 0.25f) << "i=" << i;
    Tensor d = load_npy(data_path("f64_be_2d.npy"));
    ASSERT_EQ(d.shape(), (Shape{2, 2}));
    for (int i = 0; i < 4; ++i) EXPECT_EQ(d.values()[i], i * -2.0f + 0.5f) << "i=" << i;
}

TEST(Npy, ZeroDAndEmpty) {
    Tensor s = load_npy(data_path("f32_0d.npy"));
    EXPECT_EQ(s.rank(), 0);
    ASSERT_EQ(s.size(), 1);
    EXPECT_EQ(s.values()[0], 7.5f);

    Tensor e = load_npy(data_path("f32_empty.npy"));
    EXPECT_EQ(e.shape(), (Shape{0, 3}));
    EXPECT_EQ(e.size(), 0);
}

TEST(Npy, Versions2And3) {
    for (const char *name : {"f32_v2.npy", "f32_v3.npy"}) {
        Tensor t = load_npy(data_path(name));
        ASSERT_EQ(t.shape(), (Shape{2, 3})) << name;
        for (int i = 0; i < 6; ++i) EXPECT_EQ(t.values()[i], i * 0.5f - 3.0f) << name << " i=" << i;
    }
}

TEST(Npy, Int64IsRejected) {
    const std::string path = data_path("i64.npy");
    EXPECT_THAT(
        error_of([&] { load_npy(path); }),
        AllOf(HasSubstr(path), HasSubstr("unsupported dtype '<i8' (expected float32, float64 or uint8)")));
}

// ---- .npy writing ---------------------------------------------------------

TEST(Npy, SaveLoadRoundTrip) {
    std::vector<float> v(24);
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.7f * i) * 1000.0f - 3.25f;
    v[5] = -0.0f;
    v[7] = 1e-30f;
    Tensor t({2, 3, 4}, v);
    const std::string path = temp_path("round.npy");
    save_npy(t, path);
    Tensor back = load_npy(path);
    EXPECT_EQ(back.shape(), t.shape());
    EXPECT_EQ(0, std::memcmp(back.data(), t.data(), v.size() * sizeof(float)));  // bit-exact
}

TEST(Npy, SavedFileFollowsTheSpec) {
    const std::string path = temp_path("spec.npy");
    save_npy(Tensor({4}, {1, 2, 3, 4}), path);
    const std::string bytes = read_bytes(path);
    ASSERT_GE(bytes.size(), 10u);
    EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
    EXPECT_EQ(bytes[6], 1);  // version 1.0
    EXPECT_EQ(bytes[7], 0);
    const size_t hlen = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    EXPECT_EQ((10 + hlen) % 64, 0u);
    ASSERT_EQ(bytes.size(), 10 + hlen + 16);
    const std::string header = bytes.substr(10, hlen);
    EXPECT_THAT(header, HasSubstr("'descr': '<f4'"));
    EXPECT_THAT(header, HasSubstr("'fortran_order': False"));
    EXPECT_THAT(header, HasSubstr("'shape': (4,)"));
    EXPECT_EQ(header.back(), '\n');
    EXPECT_EQ(bytes.substr(10 + hlen), float_bytes({1, 2, 3, 4}));  // little-endian host
}

TEST(Npy, SaveZeroDAndEmpty) {
    const std::string p0 = temp_path("s.npy");
    save_npy(Tensor({}, {3.5f}), p0);
    EXPECT_THAT(read_bytes(p0), HasSubstr("'shape': ()"));
    Tensor s = load_npy(p0);
    EXPECT_EQ(s.rank(), 0);
    EXPECT_EQ(s.values(), Values{3.5f});

    const std::string pe = temp_path("e.npy");
    save_npy(Tensor({0, 5}), pe);
    EXPECT_EQ(load_npy(pe).shape(), (Shape{0, 5}));
}

TEST(Npy, SaveRejectsInconsistentTensor) {
    Tensor t({2, 2});
    t.values().push_back(1.0f);  // values no longer match the shape
    EXPECT_THAT(error_of([&] { save_npy(t, temp_path("bad.npy")); }),
                HasSubstr("holds 5 values, expected 4"));
}

TEST(Npy, SaveToMissingDirectory) {
    const std::string path = temp_path("no_such_dir/x.npy");
    EXPECT_THAT(error_of([&] { save_npy(Tensor({1}), path); }),
                AllOf(HasSubstr(path), HasSubstr("cannot open for writing: No such file or directory")));
}

// ---- .npy error paths -----------------------------------------------------

TEST(NpyErrors, MissingFile) {
    const std::string path = temp_path("missing.npy");
    EXPECT_EQ(error_of([&] { load_npy(path); }), path + ": cannot open: No such file or directory");
}

TEST(NpyErrors, Directory) {
    const std::string path = temp_path("");
    EXPECT_THAT(error_of([&] { load_npy(path); }), HasSubstr("is a directory"));
}

TEST(NpyErrors, EmptyFile) {
    const std::string path = temp_path("empty.npy");
    write_bytes(path, "");
    EXPECT_THAT(error_of([&] { load_npy(path); }), AllOf(HasSubstr(path), HasSubstr("empty file")));
}

TEST(NpyErrors, Garbage) {
    const std::string path = temp_path("garbage.npy");
    write_bytes(path, "this is not a numpy file at all, just text\n");
    EXPECT_THAT(error_of([&] { load_npy(path); }), AllOf(HasSubstr(path), HasSubstr("not a .npy file")));
}

TEST(NpyErrors, TruncatedData) {
    const std::string full = read_bytes(data_path("f32_2d.npy"));
    ASSERT_EQ(full.size(), 128u + 12 * 4);
    const std::string path = temp_path("x.npy");
    write_bytes(path, full.substr(0, 128 + 7 * 4 + 2));  // 7 whole values and a bit
    EXPECT_EQ(error_of([&] { load_npy(path); }), path + ": truncated: header says 12 values, file holds 7");
}

TEST(NpyErrors, EveryPrefixIsAnError) {
    const std::string full = read_bytes(data_path("f64_3d.npy"));
    const std::string path = temp_path("prefix.npy");
    for (size_t n = 0; n < full.size(); ++n) {
        write_bytes(path, full.substr(0, n));
        EXPECT_THAT(error_of([&] { load_npy(path); }), HasSubstr(path)) << "prefix of " << n << " bytes";
    }
}

TEST(NpyErrors, HeaderLongerThanFile) {
    std::string bytes =
        make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", float_bytes({1}));
    bytes[8] = '\xff';
    bytes[9] = '\x7f';
    const std::string path = temp_path("h.npy");
    write_bytes(path, bytes);
    EXPECT_THAT(error_of([&] { load_npy(path); }),
                HasSubstr("header length 32767 bytes exceeds the file size"));
}

TEST(NpyErrors, BadHeaders) {
    const std::string path = temp_path("bad.npy");
    struct Case {
        std::string dict, expect;
    };
    const std::vector<Case> cases = {
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", "bad .npy header: unexpected value"},
        {"{'descr': '<f4', 'fortran_order': False, }", "missing 'shape'"},
        {"{'fortran_order': False, 'shape': (1,), }", "missing 'descr'"},
        {"{'descr': '<f4', 'shape': (1,), }", "missing 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", "negative dimension"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1, x), }", "expected an integer"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': 3, }", "unexpected value"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': '3', }", "'shape' must be a tuple"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "expected ',' or '}'"},
        {"{'descr: '<f4'}", "expected ':'"},
        {"['descr', '<f4']", "expected '{'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
         "dimension too large"},
        {"{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
         "structured dtypes are not supported"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype '<c8'"},
        {"{'descr': '', 'fortran_order': False, 'shape': (1,), }", "unsupported dtype ''"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } trailing", "unexpected text"},
    };
    for (const Case &c : cases) {
        write_bytes(path, make_npy(c.dict, float_bytes({1, 2, 3, 4})));
        EXPECT_THAT(error_of([&] { load_npy(path); }), AllOf(HasSubstr(path), HasSubstr(c.expect)))
            << c.dict;
    }
}

TEST(NpyErrors, AbsurdShapesFailBeforeAllocating) {
    const std::string path = temp_path("huge.npy");
    write_bytes(path, make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", ""));
    EXPECT_THAT(error_of([&] { load_npy(path); }),
                HasSubstr("truncated: header says 1000000000000 values, file holds 0"));
    write_bytes(
        path, make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", ""));
    EXPECT_THAT(error_of([&] { load_npy(path); }), HasSubstr("is too large"));
}

TEST(NpyErrors, UnsupportedVersion) {
    std::string bytes =
        make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", float_bytes({1}));
    bytes[6] = 9;
    const std::string path = temp_path("v9.npy");
    write_bytes(path, bytes);
    EXPECT_THAT(error_of([&] { load_npy(path); }), HasSubstr("unsupported .npy format version 9.0"));
}

TEST(NpyErrors, HandWrittenHeadersAreParsedLeniently) {
    // Double quotes, no trailing comma, other key order, extra spaces, v2.0.
    const std::string path = temp_path("lenient.npy");
    write_bytes(path, make_npy("{ \"shape\" : ( 2 , 2 ) , \"fortran_order\": True, \"descr\": \"<f4\" }",
                               float_bytes({1, 2, 3, 4}), 2));
    Tensor t = load_npy(path);
    ASSERT_EQ(t.shape(), (Shape{2, 2}));
    EXPECT_EQ(t.values(), (Values{1, 3, 2, 4}));  // column-major on disk
}

TEST(NpyErrors, CorruptedHeadersNeverCrash) {
    const std::string full = read_bytes(data_path("fortran_3d.npy"));
    const std::string path = temp_path("fuzz.npy");
    std::mt19937 rng(1234);
    for (int trial = 0; trial < 200; ++trial) {
        std::string bytes = full;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) bytes[rng() % 128] = static_cast<char>(rng() % 256);
        write_bytes(path, bytes);
        loads_or_errors([&] { load_npy(path); }, "trial " + std::to_string(trial));
    }
}

// ---- images: fixtures -----------------------------------------------------

TEST(Image, Gray16) {
    Tensor t = load_image(data_path("gray16.png"));
    ASSERT_EQ(t.shape(), (Shape{2, 3, 1}));
    for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(t.values()[i], (12345 * i + 7) / 65535.0f) << "i=" << i;
}

TEST(Image, Gray1BitExpands) {
    Tensor t = load_image(data_path("gray1.png"));
    ASSERT_EQ(t.shape(), (Shape{2, 3, 1}));
    for (int i = 0; i < 6; ++i) EXPECT_EQ(t.values()[i], static_cast<float>(i % 2)) << "i=" << i;
}

TEST(Image, GrayAlphaDropsAlpha) {
    Tensor t = load_image(data_path("gray_alpha8.png"));
    ASSERT_EQ(t.shape(), (Shape{2, 3, 1}));
    for (int i = 0; i < 6; ++i) EXPECT_FLOAT_EQ(t.values()[i], 40 * i / 255.0f) << "i=" << i;
}

TEST(Image, RgbaDropsAlpha) {
    Tensor t = load_image(data_path("rgba8.png"));
    ASSERT_EQ(t.shape(), (Shape{2, 3, 3}));
    for (int i = 0; i < 6; ++i)
        for (int k = 0; k < 3; ++k)
            EXPECT_FLOAT_EQ(t.values()[3 * i + k], (10 * i + k) / 255.0f) << "i=" << i << " k=" << k;
}

TEST(Image, Rgb16) {
    Tensor t = load_image(data_path("rgb16.png"));
    ASSERT_EQ(t.shape(), (Shape{2, 3, 3}));
    for (int i = 0; i < 6; ++i) {
        EXPECT_FLOAT_EQ(t.values()[3 * i + 0], 1000 * i / 65535.0f) << "i=" << i;
        EXPECT_FLOAT_EQ(t.values()[3 * i + 1], (65535 - 1000 * i) / 65535.0f) << "i=" << i;
        EXPECT_FLOAT_EQ(t.values()[3 * i + 2], 30000 / 65535.0f) << "i=" << i;
    }
}

TEST(Image, PaletteBecomesRgb) {
    const float palette[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    Tensor t = load_image(data_path("palette2.png"));
    ASSERT_EQ(t.shape(), (Shape{2, 3, 3}));
    for (int i = 0; i < 6; ++i)
        for (int k = 0; k < 3; ++k)
            EXPECT_FLOAT_EQ(t.values()[3 * i + k], palette[i % 4][k] / 255.0f) << "i=" << i << " k=" << k;
}

TEST(Image, Interlaced) {
    Tensor t = load_image(data_path("rgb8_interlaced.png"));
    ASSERT_EQ(t.shape(), (Shape{5, 5, 3}));
    for (int i = 0; i < 25; ++i) {
        EXPECT_FLOAT_EQ(t.values()[3 * i + 0], i / 255.0f) << "i=" << i;
        EXPECT_FLOAT_EQ(t.values()[3 * i + 1], 2 * i / 255.0f) << "i=" << i;
        EXPECT_FLOAT_EQ(t.values()[3 * i + 2], (255 - i) / 255.0f) << "i=" << i;
    }
}

TEST(Image, ColorConversions) {
    Tensor gray_as_rgb = load_image(data_path("gray16.png"), Color::RGB);
    ASSERT_EQ(gray_as_rgb.shape(), (Shape{2, 3, 3}));
    for (int i = 0; i < 6; ++i)
        for (int k = 0; k < 3; ++k)
            EXPECT_FLOAT_EQ(gray_as_rgb.values()[3 * i + k], (12345 * i + 7) / 65535.0f);

    Tensor rgba_as_gray = load_image(data_path("rgba8.png"), Color::Gray);
    ASSERT_EQ(rgba_as_gray.shape(), (Shape{2, 3, 1}));
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(rgba_as_gray.values()[i], (10 * i + 1) / 255.0f, 1e-6f);

    EXPECT_EQ(load_image(data_path("gray1.png"), Color::Gray).shape(), (Shape{2, 3, 1}));
}

TEST(Image, Coffee) {
    Tensor keep = load_image(coffee_path());
    ASSERT_EQ(keep.shape(), (Shape{400, 600, 3}));
    double sum = 0;
    for (float v : keep.values()) {
        ASSERT_GE(v, 0.0f);
        ASSERT_LE(v, 1.0f);
        sum += v;
    }
    EXPECT_NEAR(sum / keep.size(), 0.38673, 1e-4);
    // Pixels read independently with Python's zlib.
    EXPECT_FLOAT_EQ(keep.at({0, 0, 0}), 21 / 255.0f);
    EXPECT_FLOAT_EQ(keep.at({0, 0, 2}), 8 / 255.0f);
    EXPECT_FLOAT_EQ(keep.at({123, 456, 0}), 185 / 255.0f);
    EXPECT_FLOAT_EQ(keep.at({123, 456, 1}), 105 / 255.0f);
    EXPECT_FLOAT_EQ(keep.at({399, 599, 1}), 60 / 255.0f);

    Tensor gray = load_image(coffee_path(), Color::Gray);
    ASSERT_EQ(gray.shape(), (Shape{400, 600, 1}));
    for (int64_t y = 0; y < 400; y += 7)
        for (int64_t x = 0; x < 600; x += 11) {
            const float mean = (keep.at({y, x, 0}) + keep.at({y, x, 1}) + keep.at({y, x, 2})) / 3.0f;
            ASSERT_NEAR(gray.at({y, x, 0}), mean, 1e-6f) << y << "," << x;
        }
    EXPECT_EQ(load_image(coffee_path(), Color::RGB).values(), keep.values());
}

// ---- images: writing ------------------------------------------------------

Tensor ramp(Shape shape, float scale = 1.0f) {
    Tensor t(shape);
    const size_t n = t.values().size();
    for (size_t i = 0; i < n; ++i) t.values()[i] = scale * std::fmod(0.37f * i, 1.0f);
    return t;
}

TEST(ImageSave, PngRoundTripWithinHalfStep) {
    for (int64_t c : {1, 3}) {
        Tensor t = ramp({5, 7, c});
        const std::string path = temp_path("rt" + std::to_string(c) + ".png");
        save_image(t, path);
        Tensor back = load_image(path);
        ASSERT_EQ(back.shape(), t.shape());
        for (size_t i = 0; i < t.values().size(); ++i)
            ASSERT_NEAR(back.values()[i], t.values()[i], 0.5f / 255 + 1e-6f) << "c=" << c << " i=" << i;
    }
}

TEST(ImageSave, AcceptedShapes) {
    const std::string path = temp_path("shape.png");
    save_image(ramp({4, 6}), path);
    EXPECT_EQ(load_image(path).shape(), (Shape{4, 6, 1}));
    save_image(ramp({1, 4, 6, 3}), path);
    EXPECT_EQ(load_image(path).shape(), (Shape{4, 6, 3}));

    Tensor rgba = ramp({3, 2, 4});
    save_image(rgba, path);
    Tensor back = load_image(path);  // alpha is written but dropped on load
    ASSERT_EQ(back.shape(), (Shape{3, 2, 3}));
    for (int64_t y = 0; y < 3; ++y)
        for (int64_t x = 0; x < 2; ++x)
            for (int64_t k = 0; k < 3; ++k)
                EXPECT_NEAR(back.at({y, x, k}), rgba.at({y, x, k}), 0.5f / 255 + 1e-6f);
}

TEST(ImageSave, RoundsToNearestAndClamps) {
    const std::string path = temp_path("clamp.png");
    const float nan = std::nanf("");
    save_image(Tensor({1, 6}, {0.5f, 0.2f, -0.5f, 1.7f, nan, 1.0f / 510}), path, Scale::Clamp);
    Tensor back = load_image(path);
    ASSERT_EQ(back.size(), 6);
    EXPECT_EQ(back.values()[0] * 255, 128.0f);  // 127.5 rounds up
    EXPECT_EQ(back.values()[1] * 255, 51.0f);
    EXPECT_EQ(back.values()[2], 0.0f);
    EXPECT_EQ(back.values()[3], 1.0f);
    EXPECT_EQ(back.values()[4], 0.0f);  // NaN -> 0
    EXPECT_EQ(back.values()[5] * 255, 1.0f);  // 0.5 rounds up
}

TEST(ImageSave, MinMax) {
    const std::string path = temp_path("minmax.png");
    const float nan = std::nanf("");
    save_image(Tensor({1, 5}, {2.0f, 4.0f, 6.0f, nan, 3.0f}), path, Scale::MinMax);
    Tensor back = load_image(path);
    ASSERT_EQ(back.size(), 5);
    EXPECT_EQ(back.values()[0], 0.0f);
    EXPECT_EQ(back.values()[1] * 255, 128.0f);  // 0.5
    EXPECT_EQ(back.values()[2], 1.0f);
    EXPECT_EQ(back.values()[3], 0.0f);          // NaN -> 0
    EXPECT_EQ(back.values()[4] * 255, 64.0f);   // 0.25 -> 63.75

    save_image(Tensor({2, 2}, {-7.0f, -7.0f, -7.0f, -7.0f}), path, Scale::MinMax);
    const Tensor flat = load_image(path);
    for (float v : flat.values()) EXPECT_EQ(v, 0.0f);  // constant -> 0
}

TEST(ImageSave, JpegRoundTripIsClose) {
    Tensor t({32, 48, 3});
    for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 48; ++x) {
            t.at({y, x, 0}) = x / 47.0f;
            t.at({y, x, 1}) = y / 31.0f;
            t.at({y, x, 2}) = 0.5f;
        }
    const std::string path = temp_path("photo.JPG");  // extension is case-insensitive
    save_image(t, path);
    EXPECT_EQ(read_bytes(path).substr(0, 3), "\xFF\xD8\xFF");
    Tensor back = load_image(path);
    ASSERT_EQ(back.shape(), t.shape());
    double err = 0;
    for (size_t i = 0; i < t.values().size(); ++i) err += std::fabs(back.values()[i] - t.values()[i]);
    EXPECT_LT(err / t.size(), 0.01);

    Tensor gray = ramp({16, 16, 1});
    save_image(gray, temp_path("gray.jpeg"));
    EXPECT_EQ(load_image(temp_path("gray.jpeg")).shape(), (Shape{16, 16, 1}));
}

TEST(ImageSave, FormatIsDetectedByContent) {
    const std::string jpeg = temp_path("real.jpg");
    save_image(ramp({8, 8, 3}), jpeg);
    const std::string misnamed = temp_path("misnamed.png");
    write_bytes(misnamed, read_bytes(jpeg));
    EXPECT_EQ(load_image(misnamed).shape(), (Shape{8, 8, 3}));
    EXPECT_EQ(load_tensor(misnamed).shape(), (Shape{8, 8, 3}));
}

TEST(ImageSave, SaveTensorChoosesByExtension) {
    Tensor t({2, 3}, {10, 20, 30, 40, 50, 60});
    save_tensor(t, temp_path("t.npy"));
    EXPECT_EQ(load_tensor(temp_path("t.npy")).values(), t.values());
    save_tensor(t, temp_path("t.png"));  // MinMax by default
    Tensor img = load_tensor(temp_path("t.png"));
    ASSERT_EQ(img.shape(), (Shape{2, 3, 1}));
    EXPECT_EQ(img.values()[0], 0.0f);
    EXPECT_EQ(img.values()[5], 1.0f);
    EXPECT_EQ(img.values()[1] * 255, 51.0f);
    save_tensor(Tensor({2, 3}), temp_path("t.jpeg"));
    EXPECT_EQ(load_tensor(temp_path("t.jpeg")).shape(), (Shape{2, 3, 1}));
}

// ---- image error paths ----------------------------------------------------

TEST(ImageErrors, MissingFile) {
    const std::string path = temp_path("photo.png");
    EXPECT_EQ(error_of([&] { load_image(path); }), path + ": cannot open: No such file or directory");
}

TEST(ImageErrors, EmptyAndGarbage) {
    const std::string path = temp_path("x.png");
    write_bytes(path, "");
    EXPECT_THAT(error_of([&] { load_image(path); }), AllOf(HasSubstr(path), HasSubstr("empty file")));
    write_bytes(path, "GIF89a and then some");
    EXPECT_THAT(error_of([&] { load_image(path); }),
                AllOf(HasSubstr(path), HasSubstr("not a PNG or JPEG image")));
    write_bytes(path, "\x89PNG\r\n\x1a\n garbage after the signature");
    EXPECT_THAT(error_of([&] { load_image(path); }), AllOf(HasSubstr(path), HasSubstr("invalid PNG")));
    write_bytes(path, "\xFF\xD8\xFF garbage after the signature");
    EXPECT_THAT(error_of([&] { load_image(path); }), AllOf(HasSubstr(path), HasSubstr("invalid JPEG")));
}

TEST(ImageErrors, TruncatedPng) {
    const std::string full = read_bytes(coffee_path());
    const std::string path = temp_path("half.png");
    write_bytes(path, full.substr(0, full.size() / 2));
    EXPECT_THAT(error_of([&] { load_image(path); }),
                AllOf(HasSubstr(path), HasSubstr("invalid PNG"), HasSubstr("truncated")));
}

TEST(ImageErrors, TruncatedJpeg) {
    const std::string jpeg = temp_path("full.jpg");
    save_image(ramp({64, 64, 3}), jpeg);
    const std::string full = read_bytes(jpeg);
    const std::string path = temp_path("half.jpg");
    write_bytes(path, full.substr(0, full.size() / 2));
    EXPECT_THAT(error_of([&] { load_image(path); }),
                AllOf(HasSubstr(path), HasSubstr("invalid JPEG"), HasSubstr("Premature end")));
}

TEST(ImageErrors, EveryPrefixIsAnError) {
    // A PNG cut anywhere before its pixel data ends is an error; only the
    // final IEND chunk (12 bytes) may be missing. Any cut JPEG is an error.
    const std::string path = temp_path("prefix.img");
    const std::string png = read_bytes(data_path("rgba8.png"));
    for (size_t n = 0; n < png.size() - 12; ++n) {
        write_bytes(path, png.substr(0, n));
        EXPECT_THAT(error_of([&] { load_image(path); }), HasSubstr(path)) << "PNG prefix of " << n;
    }
    write_bytes(path, png.substr(0, png.size() - 12));
    EXPECT_EQ(load_image(path).values(), load_image(data_path("rgba8.png")).values());

    const std::string jpeg_path = temp_path("p.jpg");
    save_image(ramp({9, 9, 1}), jpeg_path);
    const std::string jpeg = read_bytes(jpeg_path);
    std::vector<size_t> lengths;
    for (size_t n = 0; n < jpeg.size(); n += 3) lengths.push_back(n);
    lengths.push_back(jpeg.size() - 1);  // just the last marker byte missing
    for (size_t n : lengths) {
        write_bytes(path, jpeg.substr(0, n));
        EXPECT_THAT(error_of([&] { load_image(path); }), HasSubstr(path)) << "JPEG prefix of " << n;
    }
}

TEST(ImageErrors, HugeDimensionsFailBeforeAllocating) {
    EXPECT_THAT(error_of([] { load_image(data_path("huge_ihdr.png")); }),
                AllOf(HasSubstr("100000x100000"), HasSubstr("implausibly large")));

    // Patch a small JPEG's frame header (SOF0) to claim 65000x65000 pixels.
    const std::string jpeg_path = temp_path("small.jpg");
    save_image(ramp({8, 8, 3}), jpeg_path);
    std::string bytes = read_bytes(jpeg_path);
    const size_t sof = bytes.find("\xFF\xC0");
    ASSERT_NE(sof, std::string::npos);
    bytes[sof + 5] = bytes[sof + 7] = static_cast<char>(0xFD);  // 65000 = 0xFDE8
    bytes[sof + 6] = bytes[sof + 8] = static_cast<char>(0xE8);
    const std::string path = temp_path("huge.jpg");
    write_bytes(path, bytes);
    EXPECT_THAT(error_of([&] { load_image(path); }),
                AllOf(HasSubstr("65000x65000"), HasSubstr("implausibly large")));
}

TEST(ImageErrors, CorruptedFilesNeverCrash) {
    std::mt19937 rng(99);
    const std::string jpeg_path = temp_path("c.jpg");
    save_image(ramp({16, 16, 3}), jpeg_path);
    const std::vector<std::string> originals = {read_bytes(data_path("palette2.png")), read_bytes(jpeg_path)};
    const std::string path = temp_path("fuzz.img");
    for (const std::string &original : originals) {
        for (int trial = 0; trial < 150; ++trial) {
            std::string bytes = original;
            const int flips = 1 + static_cast<int>(rng() % 4);
            for (int k = 0; k < flips; ++k)
                bytes[3 + rng() % (bytes.size() - 3)] = static_cast<char>(rng() % 256);
            write_bytes(path, bytes);
            loads_or_errors([&] { load_image(path); }, "trial " + std::to_string(trial));
        }
    }
}

TEST(ImageErrors, BadShapesForSave) {
    const std::string path = temp_path("bad.png");
    const std::string expected = "(expected [H,W], [H,W,C] or [1,H,W,C] with C = 1, 3 or 4)";
    EXPECT_THAT(error_of([&] { save_image(Tensor({5}), path); }),
                AllOf(HasSubstr(path), HasSubstr("cannot save tensor of shape [5]"), HasSubstr(expected)));
    EXPECT_THAT(error_of([&] { save_image(Tensor({2, 3, 3, 3}), path); }), HasSubstr("[2, 3, 3, 3]"));
    EXPECT_THAT(error_of([&] { save_image(Tensor({3, 3, 2}), path); }), HasSubstr("[3, 3, 2]"));
    EXPECT_THAT(error_of([&] { save_image(Tensor({1, 1, 1, 1, 1}), path); }), HasSubstr("[1, 1, 1, 1, 1]"));
    EXPECT_THAT(error_of([&] { save_image(Tensor({0, 3}), path); }), HasSubstr("empty image"));
    EXPECT_THAT(error_of([&] { save_image(Tensor({3, 3, 4}), temp_path("a.jpg")); }),
                HasSubstr("JPEG cannot store 4 channels"));
    EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ImageErrors, SaveToMissingDirectory) {
    const std::string path = temp_path("nope/x.png");
    EXPECT_THAT(error_of([&] { save_image(Tensor({2, 2}), path); }),
                AllOf(HasSubstr(path), HasSubstr("cannot open for writing: No such file or directory")));
}

TEST(ImageErrors, UnknownExtension) {
    EXPECT_EQ(error_of([] { load_tensor("data/x.txt"); }),
              "data/x.txt: unsupported file extension '.txt' (expected .npy, .png, .jpg or .jpeg)");
    EXPECT_THAT(error_of([] { save_tensor(Tensor({2, 2}), "out.bmp"); }),
                HasSubstr("out.bmp: unsupported file extension '.bmp' (expected .npy, .png, .jpg or .jpeg)"));
    EXPECT_THAT(error_of([] { load_tensor("dir.d/noext"); }), HasSubstr("unsupported file extension (none)"));
}

}  // namespace
}  // namespace convpipe
