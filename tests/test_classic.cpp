// numpy.convolve and scipy.signal.convolve2d/correlate2d parity.
//
// Three layers of evidence:
//  - the seed's printed numbers, exactly;
//  - golden data from numpy and scipy (tests/classic_golden, made by
//    scripts/make_classic_golden.py): every mode x boundary, odd and even
//    sizes, kernels larger than the input, fill values, correlation;
//  - a plain double-precision transcription of scipy's loop (checked against
//    the same golden data) as the oracle for randomised sizes that reach
//    every compiled variant and vector tail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "convpipe/classic.h"
#include "test_support.h"
#include "convpipe/error.h"
#include "convpipe/io.h"
#include "convpipe/pipeline.h"

namespace convpipe {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path &golden_dir() {
    static const fs::path dir = fs::path(CONVPIPE_SOURCE_DIR) / "tests" / "classic_golden";
    return dir;
}

// Max abs error within rel * max(1, max|expected|): float32 accumulation
// against numpy's and scipy's float64.
void expect_close(const Tensor &actual, const Tensor &expected, const std::string &what, double rel = 1e-5) {
    ASSERT_EQ(shape_to_string(actual.shape()), shape_to_string(expected.shape())) << what;
    double scale = 1.0, worst = 0.0;
    int64_t worst_at = 0;
    for (int64_t i = 0; i < expected.size(); i++) scale = std::max(scale, double(std::fabs(expected.data()[i])));
    for (int64_t i = 0; i < expected.size(); i++) {
        double err = std::fabs(double(actual.data()[i]) - double(expected.data()[i]));
        if (!(err <= worst)) {  // NaN counts as worst
            worst = err;
            worst_at = i;
        }
    }
    EXPECT_LE(worst, rel * scale) << what << ": worst error at flat index " << worst_at << " (got "
                                  << actual.data()[worst_at] << ", expected " << expected.data()[worst_at] << ")";
}

Tensor vec(std::vector<float> values) {
    const int64_t n = static_cast<int64_t>(values.size());
    return Tensor({n}, std::move(values));
}

Tensor random_tensor(Shape shape, uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    Tensor t(std::move(shape));
    for (float &v : t.values()) v = dist(gen);
    return t;
}

// --- the oracle ----------------------------------------------------------------
// scipy's _convolve2d loop (scipy/signal/_firfilter.c), in double: output
// (m, n) starts at image row new_m and walks the kernel backwards
// (convolution) or forwards (correlation); indices past an edge are read
// through the boundary rule, periodically for any distance.
int64_t extend(int64_t i, int64_t n, Boundary b, bool &outside) {
    outside = false;
    if (i >= 0 && i < n) return i;
    if (b == Boundary::Fill) {
        outside = true;
        return 0;
    }
    if (b == Boundary::Wrap) return ((i % n) + n) % n;
    int64_t p = ((i % (2 * n)) + 2 * n) % (2 * n);
    return p < n ? p : 2 * n - 1 - p;
}

Tensor reference_2d(const Tensor &a, const Tensor &b, Mode mode, Boundary boundary, double fill, bool convolve) {
    const Tensor *in = &a, *win = &b;
    bool swapped = false;
    if (mode == Mode::Valid && !(a.dim(0) >= b.dim(0) && a.dim(1) >= b.dim(1))) {
        std::swap(in, win);
        swapped = true;
    }
    const int64_t H = in->dim(0), W = in->dim(1), KH = win->dim(0), KW = win->dim(1);
    int64_t OH = H, OW = W;
    if (mode == Mode::Full) OH = H + KH - 1, OW = W + KW - 1;
    if (mode == Mode::Valid) OH = H - KH + 1, OW = W - KW + 1;
    auto start = [&](int64_t o, int64_t k) -> int64_t {
        switch (mode) {
        case Mode::Full: return convolve ? o : o - k + 1;
        case Mode::Same: return convolve ? o + ((k - 1) >> 1) : o - ((k - 1) >> 1);
        case Mode::Valid: return convolve ? o + k - 1 : o;
        }
        return 0;
    };
    Tensor out({OH, OW});
    for (int64_t m = 0; m < OH; m++)
        for (int64_t n = 0; n < OW; n++) {
            double sum = 0;
            for (int64_t j = 0; j < KH; j++)
                for (int64_t k = 0; k < KW; k++) {
                    bool out_y, out_x;
                    int64_t y = extend(convolve ? start(m, KH) - j : start(m, KH) + j, H, boundary, out_y);
                    int64_t x = extend(convolve ? start(n, KW) - k : start(n, KW) + k, W, boundary, out_x);
                    double v = out_y || out_x ? fill : in->data()[y * W + x];
                    sum += v * win->data()[j * KW + k];
                }
            out.data()[m * OW + n] = float(sum);
        }
    if (!convolve && swapped) std::reverse(out.values().begin(), out.values().end());
    return out;
}

// --- golden data --------------------------------------------------------------------
struct GoldenCase {
    std::string name, op, mode, boundary;
    float fillvalue = 0;
    std::string in1, in2;
};

std::vector<GoldenCase> golden_cases(const std::string &op) {
    std::ifstream f(golden_dir() / "manifest.tsv");
    EXPECT_TRUE(f) << "missing " << (golden_dir() / "manifest.tsv") << "; run scripts/make_classic_golden.sh";
    std::vector<GoldenCase> cases;
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        GoldenCase c;
        std::string fill;
        std::getline(fields, c.name, '\t');
        std::getline(fields, c.op, '\t');
        std::getline(fields, c.mode, '\t');
        std::getline(fields, c.boundary, '\t');
        std::getline(fields, fill, '\t');
        std::getline(fields, c.in1, '\t');
        std::getline(fields, c.in2, '\t');
        c.fillvalue = fill == "-" ? 0.0f : std::stof(fill);
        if (c.op == op) cases.push_back(c);
    }
    return cases;
}

Tensor golden_input(const std::string &name) { return load_npy((golden_dir() / "inputs" / (name + ".npy")).string()); }
Tensor golden_expected(const std::string &name) {
    return load_npy((golden_dir() / "expected" / (name + ".npy")).string());
}

Tensor run_case(const GoldenCase &c) {
    Tensor a = golden_input(c.in1), b = golden_input(c.in2);
    if (c.op == "convolve") return convolve(a, b, mode_from_name(c.mode));
    Boundary boundary = boundary_from_name(c.boundary);
    if (c.op == "convolve2d") return convolve2d(a, b, mode_from_name(c.mode), boundary, c.fillvalue);
    return correlate2d(a, b, mode_from_name(c.mode), boundary, c.fillvalue);
}

// --- the seed's numbers ------------------------------------------------------------
TEST(ClassicSeed, NumpyConvolveFull) {
    Tensor x = vec({0, 0, 1, 1, 1, 0, 0});
    EXPECT_EQ(convolve(x, x).values(), (Values{0, 0, 0, 0, 1, 2, 3, 2, 1, 0, 0, 0, 0}));
}

TEST(ClassicSeed, NumpyConvolveSame) {
    Tensor x = vec({0, 0, 1, 1, 1, 0, 0});
    EXPECT_EQ(convolve(x, x, Mode::Same).values(), (Values{0, 1, 2, 3, 2, 1, 0}));
}

TEST(ClassicSeed, NumpyConvolveWith101) {
    Tensor x = vec({0, 0, 1, 1, 1, 0, 0});
    EXPECT_EQ(convolve(x, vec({1, 0, 1})).values(), (Values{0, 0, 1, 1, 2, 1, 1, 0, 0}));
}

// --- against numpy and scipy -----------------------------------------------------------
void check_golden(const std::string &op) {
    std::vector<GoldenCase> cases = golden_cases(op);
    ASSERT_GT(cases.size(), 10u) << op;
    for (const GoldenCase &c : cases) {
        SCOPED_TRACE(c.name);
        Tensor expected = golden_expected(c.name);
        expect_close(run_case(c), expected, c.name);
        if (op == "convolve") continue;
        // The oracle agrees with scipy too, so it can stand in for it below.
        Tensor a = golden_input(c.in1), b = golden_input(c.in2);
        expect_close(reference_2d(a, b, mode_from_name(c.mode), boundary_from_name(c.boundary), c.fillvalue,
                                  op == "convolve2d"),
                     expected, c.name + " (reference)");
    }
}

TEST(ClassicGolden, NumpyConvolve) { check_golden("convolve"); }
TEST(ClassicGolden, ScipyConvolve2d) { check_golden("convolve2d"); }
TEST(ClassicGolden, ScipyCorrelate2d) { check_golden("correlate2d"); }

TEST(ClassicGolden, SeedCasesMatchExactly) {
    for (const GoldenCase &c : golden_cases("convolve")) {
        if (c.name.rfind("seed_", 0) != 0) continue;
        SCOPED_TRACE(c.name);
        Tensor expected = golden_expected(c.name);
        Tensor actual = run_case(c);
        ASSERT_EQ(actual.shape(), expected.shape());
        EXPECT_EQ(actual.values(), expected.values());
    }
}

// --- randomised, against the oracle -------------------------------------------------
// Sizes around every vector width and tile (4, 8, 16 lanes; 2 and 4 vectors;
// 256-column separable tiles), kernels of every variant, every mode and rule.
TEST(ClassicRandom, EveryVariantModeAndBoundary) {
    std::mt19937 gen(7);
    const std::vector<std::array<int64_t, 2>> images = {{1, 1},  {3, 40},  {17, 31},  {9, 64},
                                                        {33, 65}, {20, 257}, {5, 300}, {40, 129}};
    const std::vector<std::array<int64_t, 2>> kernels = {{2, 2}, {3, 3}, {1, 4}, {5, 5}, {6, 4}, {10, 10}, {7, 2}};
    uint32_t seed = 1;
    for (auto [h, w] : images)
        for (auto [kh, kw] : kernels)
            for (Mode mode : {Mode::Full, Mode::Same, Mode::Valid})
                for (Boundary boundary : {Boundary::Fill, Boundary::Wrap, Boundary::Symm}) {
                    if (mode == Mode::Valid && (h < kh || w < kw)) continue;
                    Tensor image = random_tensor({h, w}, seed++);
                    Tensor kernel = random_tensor({kh, kw}, seed++);
                    // Half the kernels rank 1, to take the separable path.
                    if (gen() % 2) {
                        Tensor col = random_tensor({kh}, seed++), row = random_tensor({kw}, seed++);
                        for (int64_t j = 0; j < kh; j++)
                            for (int64_t k = 0; k < kw; k++) kernel.data()[j * kw + k] = col.data()[j] * row.data()[k];
                    }
                    float fill = boundary == Boundary::Fill ? 0.25f : 0.0f;
                    std::string what = "image " + shape_to_string(image.shape()) + " kernel " +
                                       shape_to_string(kernel.shape()) + " " + mode_name(mode) + " " +
                                       boundary_name(boundary);
                    expect_close(convolve2d(image, kernel, mode, boundary, fill),
                                 reference_2d(image, kernel, mode, boundary, fill, true), "convolve2d " + what);
                    expect_close(correlate2d(image, kernel, mode, boundary, fill),
                                 reference_2d(image, kernel, mode, boundary, fill, false), "correlate2d " + what);
                }
}

TEST(ClassicRandom, LongOneDimensionalSignals) {
    for (auto [n, m] : std::vector<std::array<int64_t, 2>>{{1000, 1}, {1000, 7}, {999, 64}, {70, 1000}, {513, 513}}) {
        Tensor a = random_tensor({n}, uint32_t(n)), v = random_tensor({m}, uint32_t(m + 1));
        for (Mode mode : {Mode::Full, Mode::Same, Mode::Valid}) {
            // numpy.convolve is scipy's 1-row 'fill' convolution of the
            // longer with the shorter, centred on the longer for 'same'.
            const Tensor &longer = n >= m ? a : v, &shorter = n >= m ? v : a;
            Tensor expected =
                reference_2d(longer.reshaped({1, longer.size()}), shorter.reshaped({1, shorter.size()}), mode,
                             Boundary::Fill, 0.0, true);
            Tensor actual = convolve(a, v, mode);
            expect_close(actual.reshaped({1, actual.size()}), expected,
                         "convolve " + std::to_string(n) + "x" + std::to_string(m) + " " + mode_name(mode));
        }
    }
}

// --- fast paths --------------------------------------------------------------------
TEST(ClassicVariants, SmallKernelsUseTheirUnrolledLoops) {
    Tensor image = random_tensor({50, 70}, 3);
    convolve2d(image, random_tensor({2, 2}, 4), Mode::Same);
    EXPECT_STREQ(last_classic_variant(), "2x2");
    convolve2d(image, random_tensor({3, 3}, 5), Mode::Same);
    EXPECT_STREQ(last_classic_variant(), "3x3");
    convolve2d(image, random_tensor({5, 5}, 6), Mode::Same);
    EXPECT_STREQ(last_classic_variant(), "general");
}

TEST(ClassicVariants, BoxBlurRunsAsTwoPassesAndMatchesDirectSum) {
    Tensor image = random_tensor({64, 300}, 8);
    Tensor box({10, 10}, std::vector<float>(100, 0.01f));
    Tensor fast = convolve2d(image, box, Mode::Same);
    EXPECT_STREQ(last_classic_variant(), "separable");
    expect_close(fast, reference_2d(image, box, Mode::Same, Boundary::Fill, 0.0, true), "10x10 box");
}

TEST(ClassicVariants, NearlyRankOneKernelTakesTheGeneralPath) {
    Tensor image = random_tensor({30, 90}, 9);
    Tensor kernel({4, 4}, std::vector<float>(16, 1.0f));
    kernel.data()[5] = 1.001f;  // rank 2: two passes would be wrong
    Tensor out = convolve2d(image, kernel, Mode::Full);
    EXPECT_STREQ(last_classic_variant(), "general");
    expect_close(out, reference_2d(image, kernel, Mode::Full, Boundary::Fill, 0.0, true), "near rank 1");
}

TEST(ClassicVariants, NanTapsStayWhereTheDirectSumPutsThem) {
    // A rank-1 kernel but for one NaN tap takes the direct path (factors
    // would carry NaN into other taps).
    Tensor image = random_tensor({20, 300}, 10);
    Tensor kernel({4, 4}, std::vector<float>(16, 0.5f));
    kernel.data()[5] = std::nanf("");
    Tensor out = convolve2d(image, kernel, Mode::Full);
    EXPECT_STREQ(last_classic_variant(), "general");
    Tensor expected = reference_2d(image, kernel, Mode::Full, Boundary::Fill, 0.0, true);
    ASSERT_EQ(out.shape(), expected.shape());
    int64_t nans = 0;
    for (int64_t i = 0; i < out.size(); i++) {
        ASSERT_EQ(std::isnan(out.data()[i]), std::isnan(expected.data()[i])) << "flat index " << i;
        nans += std::isnan(out.data()[i]);
    }
    EXPECT_EQ(nans, out.size());   // 0 * NaN is NaN too: every output, as in scipy
}

TEST(ClassicVariants, IntoReusesTheOutput) {
    Tensor image = random_tensor({40, 80}, 10), kernel = random_tensor({3, 3}, 11);
    Tensor out;
    convolve2d_into(image, kernel, out, Mode::Same, Boundary::Symm);
    const float *storage = out.data();
    convolve2d_into(image, kernel, out, Mode::Same, Boundary::Symm);
    EXPECT_EQ(out.data(), storage);
    expect_close(out, reference_2d(image, kernel, Mode::Same, Boundary::Symm, 0.0, true), "into");
}

TEST(ClassicVariants, EveryInstructionSetVariantMatches) {
    // The libraries hold AVX-512, AVX2 and SSE4.1 code; limit dispatch to
    // each in turn (asking for more than the CPU has runs the best it has).
    Tensor image = random_tensor({37, 300}, 14);
    const std::vector<Tensor> kernels = {random_tensor({2, 2}, 15), random_tensor({3, 3}, 16),
                                         random_tensor({5, 4}, 17), Tensor({10, 10}, std::vector<float>(100, 0.01f))};
    std::set<std::string> ran;
    for (const char *isa : {"sse41", "avx2", "avx512"}) {
        set_cpu_isa_limit(isa);
        for (const Tensor &k : kernels)
            for (Boundary b : {Boundary::Fill, Boundary::Wrap, Boundary::Symm}) {
                expect_close(convolve2d(image, k, Mode::Same, b, 0.5f),
                             reference_2d(image, k, Mode::Same, b, 0.5, true),
                             std::string(isa) + " " + shape_to_string(k.shape()) + " " + boundary_name(b));
                ran.insert(last_cpu_isa());
            }
    }
    // This CPU's best level and every level below it each ran.
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512cd");
    EXPECT_TRUE(ran.count("sse41"));
    EXPECT_EQ(ran.count("avx2"), avx2 ? 1u : 0u);
    EXPECT_EQ(ran.count("avx512"), avx512 ? 1u : 0u);
    set_cpu_isa_limit("auto");
}

TEST(ClassicVariants, SameResultOnTwoThreads) {
    Tensor image = random_tensor({300, 200}, 12), kernel = random_tensor({3, 3}, 13);
    set_num_threads(1);
    Tensor one = convolve2d(image, kernel, Mode::Same);
    set_num_threads(2);
    Tensor two = convolve2d(image, kernel, Mode::Same);
    set_num_threads(0);
    EXPECT_EQ(one.values(), two.values());
}

// --- errors ------------------------------------------------------------------------
template <typename F>
std::string error_of(F f) {
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    }
    return "(no error)";
}

TEST(ClassicErrors, EmptyInputsAreRefusedLikeNumpy) {
    EXPECT_THAT(error_of([] { convolve(Tensor({0}), vec({1})); }), HasSubstr("a cannot be empty"));
    EXPECT_THAT(error_of([] { convolve(vec({1}), Tensor({0})); }), HasSubstr("v cannot be empty"));
    EXPECT_THAT(error_of([] { convolve(Tensor(), vec({1})); }), HasSubstr("a cannot be empty"));
    EXPECT_THAT(error_of([] { convolve2d(Tensor({0, 3}), Tensor({2, 2})); }), HasSubstr("must not be empty"));
}

TEST(ClassicErrors, WrongRanks) {
    EXPECT_THAT(error_of([] { convolve(Tensor({2, 2}), vec({1})); }), HasSubstr("a must be 1-D, got shape [2, 2]"));
    EXPECT_THAT(error_of([] { convolve2d(vec({1, 2}), Tensor({2, 2})); }),
                HasSubstr("inputs must both be 2-D arrays, got shapes [2] and [2, 2]"));
    EXPECT_THAT(error_of([] { correlate2d(Tensor({2, 2}), Tensor({1, 2, 2})); }),
                HasSubstr("correlate2d: inputs must both be 2-D arrays"));
}

TEST(ClassicErrors, ValidNeedsOneInputToContainTheOther) {
    std::string msg = error_of([] { convolve2d(Tensor({3, 5}), Tensor({4, 2}), Mode::Valid); });
    EXPECT_THAT(msg, HasSubstr("for 'valid' mode, one input must be at least as large as the other in every dimension"));
    EXPECT_THAT(msg, HasSubstr("[3, 5] and [4, 2]"));
    EXPECT_THAT(error_of([] { correlate2d(Tensor({3, 5}), Tensor({4, 2}), Mode::Valid); }),
                HasSubstr("correlate2d: for 'valid' mode"));
    // Full and same accept any sizes, as scipy does.
    EXPECT_EQ(convolve2d(Tensor({3, 5}), Tensor({4, 2}), Mode::Same).shape(), (Shape{3, 5}));
}

TEST(ClassicErrors, UnknownNames) {
    EXPECT_THAT(error_of([] { mode_from_name("sme"); }), HasSubstr("unknown mode 'sme' (expected full, same or valid)"));
    EXPECT_THAT(error_of([] { boundary_from_name("reflect"); }),
                HasSubstr("unknown boundary 'reflect' (expected fill, wrap or symm)"));
    EXPECT_EQ(boundary_from_name("symmetric"), Boundary::Symm);
    EXPECT_EQ(boundary_from_name("circular"), Boundary::Wrap);
}

// --- the command line ---------------------------------------------------------------
using CliResult = tests::CommandResult;
CliResult cli(const std::string &args) { return tests::run_command(CONVPIPE_CLI, args); }

fs::path scratch(const std::string &name) {
    fs::path dir = fs::path(::testing::TempDir()) / ("convpipe_classic_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir / name;
}

std::string input_path(const std::string &name) { return (golden_dir() / "inputs" / (name + ".npy")).string(); }

TEST(ClassicCli, ConvolveMatchesGoldenForEveryOp) {
    // One case of each kind, through files, as a user runs it.
    for (const char *op : {"convolve", "convolve2d", "correlate2d"}) {
        std::vector<GoldenCase> cases = golden_cases(op);
        for (size_t i = 0; i < cases.size(); i += cases.size() / 4 + 1) {
            const GoldenCase &c = cases[i];
            SCOPED_TRACE(c.name);
            std::string out = scratch(c.name + ".npy").string();
            std::string args = "convolve " + input_path(c.in1) + " " + input_path(c.in2) + " --mode " + c.mode +
                               " --output " + out;
            if (c.op != "convolve") {
                std::ostringstream fill;
                fill << c.fillvalue;
                args += " --boundary " + c.boundary + " --fillvalue " + fill.str();
            }
            if (c.op == "correlate2d") args += " --correlate";
            CliResult r = cli(args);
            ASSERT_EQ(r.status, 0) << r.output;
            expect_close(load_npy(out), golden_expected(c.name), c.name + " via the CLI");
        }
    }
}

TEST(ClassicCli, BadUsageExitsTwo) {
    std::string a1 = input_path("seed_x"), a2 = input_path("img5x7"), k = input_path("k3x3");
    std::string out = scratch("bad.npy").string();
    CliResult r = cli("convolve " + a1 + " " + a1 + " --mode full --boundary wrap --output " + out);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("--boundary"));
    r = cli("convolve " + a1 + " " + a1 + " --mode full --correlate --output " + out);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("--correlate"));
    r = cli("convolve " + a1 + " " + k + " --mode full --output " + out);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_THAT(r.output, HasSubstr("both 1-D or both 2-D"));
    r = cli("convolve " + a2 + " " + k + " --mode sideways --output " + out);
    EXPECT_EQ(r.status, 2) << r.output;
    r = cli("convolve " + a2 + " " + k + " --mode same");
    EXPECT_EQ(r.status, 2) << r.output;   // --output is required
}

TEST(ClassicCli, ScipyRefusalExitsOne) {
    Tensor a({3, 5}), b({4, 2});
    save_npy(a, scratch("a35.npy").string());
    save_npy(b, scratch("b42.npy").string());
    CliResult r = cli("convolve " + scratch("a35.npy").string() + " " + scratch("b42.npy").string() +
                      " --mode valid --output " + scratch("never.npy").string());
    EXPECT_EQ(r.status, 1) << r.output;
    EXPECT_THAT(r.output, HasSubstr("at least as large as the other in every dimension"));
    EXPECT_FALSE(fs::exists(scratch("never.npy")));
}

TEST(ClassicCli, DemoWritesEveryPictureAndTheContactSheet) {
    fs::path dir = scratch("demo");
    CliResult r = cli("demo --output " + dir.string());
    ASSERT_EQ(r.status, 0) << r.output;
    // The seed's 1-D numbers, printed.
    EXPECT_THAT(r.output, HasSubstr("[0 0 0 0 1 2 3 2 1 0 0 0 0]"));
    EXPECT_THAT(r.output, HasSubstr("[0 1 2 3 2 1 0]"));
    EXPECT_THAT(r.output, HasSubstr("[0 0 1 1 2 1 1 0 0]"));
    EXPECT_THAT(r.output, HasSubstr(dir.string()));
    std::ifstream html(dir / "index.html");
    std::stringstream page;
    page << html.rdbuf();
    for (const char *png : {"input.png", "grayscale.png", "edges_horizontal.png", "edges_vertical.png",
                            "edges_horizontal_abs.png", "edges_vertical_abs.png", "edges_abs_sum.png", "box_blur.png",
                            "edges_relu_dark_to_light.png", "edges_relu_light_to_dark.png", "red_detector.png",
                            "green_detector.png", "blue_detector.png"}) {
        EXPECT_TRUE(fs::exists(dir / png)) << png;
        EXPECT_THAT(page.str(), HasSubstr(std::string("src=\"") + png + "\"")) << png;
        Tensor picture = load_image((dir / png).string());
        EXPECT_EQ(picture.dim(0), 400) << png;
        EXPECT_EQ(picture.dim(1), 600) << png;
    }
}

TEST(ClassicCli, DemoConv2DFirstPixelIsTheHandSumAndConvolve2dFlipsIt) {
    CliResult r = cli("demo --output " + scratch("demo2").string());
    ASSERT_EQ(r.status, 0) << r.output;
    // "Conv2D ... = A", "by hand: ... = B", "convolve2d(...) = C": A == B == -C.
    auto value_after = [&](const std::string &label) {
        size_t at = r.output.find(label);
        EXPECT_NE(at, std::string::npos) << label;
        size_t line_end = r.output.find('\n', at);
        std::string line = r.output.substr(at, line_end - at);
        size_t eq = line.rfind("= ");
        return std::stod(line.substr(eq + 2));
    };
    double conv2d = value_after("Conv2D 'same' output[0, 0]");
    std::string hand_line = r.output.substr(r.output.find("by hand:"));
    hand_line = hand_line.substr(0, hand_line.find('\n'));
    double by_hand = std::stod(hand_line.substr(hand_line.rfind("= ") + 2));
    size_t flipped_at = r.output.find("convolve2d(image, kernel, 'valid')[0, 0] = ");
    ASSERT_NE(flipped_at, std::string::npos) << r.output;
    double flipped = std::stod(r.output.substr(flipped_at + std::string("convolve2d(image, kernel, 'valid')[0, 0] = ").size()));
    EXPECT_NEAR(conv2d, by_hand, 1e-6);
    EXPECT_NEAR(conv2d, -flipped, 1e-6);
    EXPECT_NE(conv2d, 0.0);
}

}  // namespace
}  // namespace convpipe
