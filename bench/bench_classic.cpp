// bench_classic: convpipe::convolve2d against cv::filter2D and
// scipy.signal.convolve2d on the notebook's sizes, side by side in one run.
//
//   bench_classic [--threads N] [--seconds S] [--scipy PYTHON|none]
//
// Each case is 'same' mode with zero fill (OpenCV: BORDER_CONSTANT, the kernel
// flipped and anchored so its output equals scipy's). Buffers are allocated
// once and reused: fresh pages cost more than these convolutions on this kind
// of machine. Each library is warmed up, then timed call by call; the table
// shows medians and convpipe's speed-up (other's time / convpipe's time).
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "convpipe/classic.h"
#include "convpipe/pipeline.h"
#include "convpipe/pipeline.h"

#ifdef CONVPIPE_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace {

using Clock = std::chrono::steady_clock;

struct Case {
    std::string name;     // "278x493:edge2x2", as bench_scipy.py takes it
    int64_t height, width;
    std::string kernel;
};

convpipe::Tensor make_kernel(const std::string &name) {
    if (name == "edge2x2") return convpipe::Tensor({2, 2}, {-1, -1, 1, 1});
    if (name == "random3x3") {
        std::mt19937 gen(3);
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        convpipe::Tensor k({3, 3});
        for (float &v : k.values()) v = dist(gen);
        return k;
    }
    return convpipe::Tensor({10, 10}, std::vector<float>(100, 0.01f));   // box10x10
}

// Median milliseconds of `fn` over at least 5 calls and about `seconds`,
// after warm-up calls.
double median_ms(const std::function<void()> &fn, double seconds) {
    for (int i = 0; i < 3; i++) fn();
    std::vector<double> times;
    const auto start = Clock::now();
    while (times.size() < 5 ||
           (std::chrono::duration<double>(Clock::now() - start).count() < seconds && times.size() < 20000)) {
        const auto t0 = Clock::now();
        fn();
        times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// scipy timings from bench_scipy.py, keyed by case name; empty if skipped.
std::map<std::string, double> scipy_medians(const std::string &python, const std::vector<Case> &cases,
                                            double seconds) {
    std::map<std::string, double> out;
    if (python == "none") return out;
    const std::string script = std::string(CONVPIPE_SOURCE_DIR) + "/bench/bench_scipy.py";
    std::ostringstream cmd;
    cmd << python << " " << script << " --seconds " << seconds;
    for (const Case &c : cases) cmd << " " << c.name;
    FILE *pipe = popen(cmd.str().c_str(), "r");
    if (!pipe) return out;
    std::array<char, 512> line;
    while (fgets(line.data(), line.size(), pipe)) {
        std::istringstream fields(line.data());
        std::string name;
        double ms = 0;
        if (fields >> name >> ms) out[name] = ms;
    }
    if (pclose(pipe) != 0) std::cerr << "bench_classic: " << cmd.str() << " failed; scipy column left empty\n";
    return out;
}

std::string cell(double ms) {
    if (!(ms > 0)) return "-";
    std::ostringstream o;
    o << std::fixed << std::setprecision(ms < 1 ? 4 : ms < 100 ? 3 : 1) << ms;
    return o.str();
}

std::string ratio(double other, double ours) {
    if (!(other > 0) || !(ours > 0)) return "-";
    std::ostringstream o;
    o << std::fixed << std::setprecision(other / ours < 10 ? 2 : 0) << other / ours << "x";
    return o.str();
}

}  // namespace

int main(int argc, char **argv) {
    int threads = 1;
    double seconds = 1.0;
    std::string python = std::string(CONVPIPE_SOURCE_DIR) + "/.deps/classic-venv/bin/python";
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "bench_classic: " << arg << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--threads") threads = std::stoi(value());
        else if (arg == "--seconds") seconds = std::stod(value());
        else if (arg == "--scipy") python = value();
        else {
            std::cerr << "usage: bench_classic [--threads N] [--seconds S] [--scipy PYTHON|none]\n";
            return 2;
        }
    }
    if (python != "none" && !std::filesystem::exists(python)) {
        std::cerr << "bench_classic: no " << python << " (scripts/setup-bench.sh makes it); skipping scipy\n";
        python = "none";
    }

    convpipe::set_num_threads(threads);
#ifdef CONVPIPE_HAVE_OPENCV
    cv::setNumThreads(threads);
#endif

    const std::vector<Case> cases = {{"278x493:edge2x2", 278, 493, "edge2x2"},
                                     {"1080x1920:random3x3", 1080, 1920, "random3x3"},
                                     {"1080x1920:box10x10", 1080, 1920, "box10x10"}};

    struct Row {
        std::string variant;
        double ours = 0, opencv = 0, max_diff = -1;
    };
    std::vector<Row> rows;
    for (const Case &c : cases) {
        convpipe::Tensor image({c.height, c.width});
        std::mt19937 gen(1);
        std::uniform_real_distribution<float> dist(0.0f, 1.0f);
        for (float &v : image.values()) v = dist(gen);
        const convpipe::Tensor kernel = make_kernel(c.kernel);
        convpipe::Tensor out;
        Row row;
        row.ours = median_ms([&] { convpipe::convolve2d_into(image, kernel, out, convpipe::Mode::Same); }, seconds);
        row.variant = convpipe::last_classic_variant();
#ifdef CONVPIPE_HAVE_OPENCV
        // filter2D correlates: flip the kernel, and anchor it so that output
        // (m, n) reads the same window as scipy's 'same' convolution.
        const int kh = int(kernel.dim(0)), kw = int(kernel.dim(1));
        cv::Mat flipped(kh, kw, CV_32F);
        for (int j = 0; j < kh; j++)
            for (int k = 0; k < kw; k++) flipped.at<float>(j, k) = kernel.data()[(kh - 1 - j) * kw + (kw - 1 - k)];
        const cv::Point anchor((kw - 1) - (kw - 1) / 2, (kh - 1) - (kh - 1) / 2);
        cv::Mat src(int(c.height), int(c.width), CV_32F, image.data());
        cv::Mat dst(int(c.height), int(c.width), CV_32F);
        row.opencv = median_ms([&] { cv::filter2D(src, dst, CV_32F, flipped, anchor, 0, cv::BORDER_CONSTANT); },
                               seconds);
        row.max_diff = 0;
        for (int64_t i = 0; i < out.size(); i++)
            row.max_diff = std::max(row.max_diff, double(std::fabs(out.data()[i] - dst.ptr<float>()[i])));
#endif
        rows.push_back(row);
    }
    std::map<std::string, double> scipy = scipy_medians(python, cases, 2.0 * seconds);

    std::cout << "convpipe::convolve2d (mode same, fill 0) vs cv::filter2D (float32, BORDER_CONSTANT) and "
                 "scipy.signal.convolve2d\n"
              << "threads: " << threads << " (convpipe and OpenCV; scipy is single-threaded), ISA: "
              << convpipe::last_cpu_isa() << ", medians in ms\n\n";
    std::cout << std::left << std::setw(22) << "case" << std::right << std::setw(10) << "variant" << std::setw(11)
              << "convpipe" << std::setw(11) << "OpenCV" << std::setw(11) << "scipy" << std::setw(12)
              << "vs OpenCV" << std::setw(11) << "vs scipy" << std::setw(13) << "|diff| cv\n";
    for (size_t i = 0; i < cases.size(); i++) {
        const Row &r = rows[i];
        const double s = scipy.count(cases[i].name) ? scipy[cases[i].name] : 0;
        std::ostringstream diff;
        if (r.max_diff >= 0) diff << std::scientific << std::setprecision(1) << r.max_diff;
        else diff << "-";
        std::cout << std::left << std::setw(22) << cases[i].name << std::right << std::setw(10) << r.variant
                  << std::setw(11) << cell(r.ours) << std::setw(11) << cell(r.opencv) << std::setw(11) << cell(s)
                  << std::setw(12) << ratio(r.opencv, r.ours) << std::setw(11) << ratio(s, r.ours) << std::setw(12)
                  << diff.str() << "\n";
    }
#ifndef CONVPIPE_HAVE_OPENCV
    std::cout << "\n(OpenCV not found at configure time: run scripts/setup-bench.sh and reconfigure)\n";
#endif
    return 0;
}
