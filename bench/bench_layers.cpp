// bench_layers: the Conv2D layer suite (bench/layers/*.json), each layer run
// by convpipe and by oneDNN side by side in one process, set against this
// CPU's measured FMA peak.
//
//   bench_layers [--threads 1|2|1,2] [--layers SUBSTRING[,SUBSTRING...]]
//                [--layer "NxHxWxC->F KHxKW [sS] [dD] [gG|dw] [valid] [linear]"]...
//                [--layer-file FILE]...
//                [--spec FILE.json [--schedule FILE.json]]... [--seconds S] [--attempts N]
//                [--isa auto|avx512|avx2] [--json]
//
// --layer and --spec add layers outside the suite (any shape, compiled in
// process by the JIT with the same heuristic schedules); given alone they
// replace the suite, with --layers too they add to the layers it picks.
// --layer-file reads --layer values from a file, one per line ('#' starts a
// comment; bench/shapes.txt holds the shapes outside the suite that
// docs/benchmarks.md reports).
// --schedule after a --spec compiles that spec with a schedule file instead
// of the heuristic (the same spec twice, with and without, compares them).
// --seconds: measuring time per layer and thread count; --attempts: how often
// a layer is measured again when the CPU was busy with other work around it.
//
// Both libraries get the same random input, kernel and bias, the same thread
// count and NHWC f32 activations. oneDNN runs convolution_forward with bias and
// an eltwise_relu post-op; its weights are reordered once, outside the timed
// loop, into the layout its primitive prefers (format_tag::any), and
// convpipe's are bound once (Pipeline::bind), which packs them likewise.
// Every buffer is allocated once and reused: fresh pages cost about 2 ms/MB on this kind of
// machine, more than most of these layers. Measurements alternate between the
// two libraries so that noise from a shared machine (neighbours, clock
// changes) falls on both alike; the table shows medians.
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"
#include "convpipe/error.h"
#include "convpipe/notation.h"
#include "fma_peak.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace graph = convpipe::graph;

// Relative error above which the two libraries are said to disagree: far
// above float rounding of a few thousand-term dot products (~1e-6).
constexpr double kMaxRelativeError = 1e-4;
// A layer counts as measured on a quiet machine when FMA probes around it
// reach this share of the peak.
constexpr double kQuietFraction = 0.9;

struct Options {
    std::vector<int> threads{1, 2};
    std::vector<std::string> layer_filters;
    std::vector<std::string> extra_layers;   // --layer descriptions
    std::vector<std::string> extra_layer_schedules;   // per --layer: its --schedule file, or ""
    std::vector<std::string> extra_specs;    // --spec files
    std::vector<std::string> extra_schedules;   // per --spec: its --schedule file, or ""
    double seconds = 2.0;
    int attempts = 3;          // per layer, while the machine is busy
    int rounds = 1;            // measurements of every layer, order reversed every other round
    std::string isa = "auto";
    bool json = false;
};

std::vector<std::string> split(const std::string &text, char sep) {
    std::vector<std::string> parts;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, sep))
        if (!part.empty()) parts.push_back(part);
    return parts;
}

[[noreturn]] void usage_error(const std::string &message) {
    std::cerr << "bench_layers: " << message << "\n"
              << "usage: bench_layers [--threads 1|2|1,2] [--layers SUBSTRING[,...]]\n"
              << "                    [--layer \"NxHxWxC->F KHxKW [sS] [dD] [gG|dw] [valid] [linear]\" [--schedule FILE.json]]...\n"
              << "                    [--layer-file FILE]...\n"
              << "                    [--spec FILE.json [--schedule FILE.json]]... [--seconds S] [--attempts N]\n"
              << "                    [--rounds N] [--isa auto|avx512|avx2] [--json]\n"
              << "e.g. bench_layers --layer \"1x28x28x96->160 3x3 s2\" --layer \"1x56x56x48->48 5x5 dw\"\n";
    std::exit(2);
}

Options parse_options(int argc, char **argv) {
    Options o;
    std::vector<std::string> *last_schedules = nullptr;   // of the last --layer or --spec given
    for (int i = 1; i < argc; i++) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--threads") {
            o.threads.clear();
            for (const std::string &t : split(value(), ',')) {
                char *end = nullptr;
                long n = std::strtol(t.c_str(), &end, 10);
                if (*end || n < 1 || n > 256) usage_error("--threads: expected positive counts, got '" + t + "'");
                o.threads.push_back(int(n));
            }
            if (o.threads.empty()) usage_error("--threads: expected at least one count");
        } else if (arg == "--layers") {
            o.layer_filters = split(value(), ',');
        } else if (arg == "--layer") {
            o.extra_layers.push_back(value());
            o.extra_layer_schedules.emplace_back();
            last_schedules = &o.extra_layer_schedules;
        } else if (arg == "--layer-file") {
            // One layer per line, as --layer takes it; '#' starts a comment.
            const std::string file = value();
            std::ifstream in(file);
            if (!in) usage_error("--layer-file: cannot read '" + file + "'");
            std::string line;
            while (std::getline(in, line)) {
                line = line.substr(0, line.find('#'));
                const size_t first = line.find_first_not_of(" \t\r");
                if (first == std::string::npos) continue;
                o.extra_layers.push_back(line.substr(first, line.find_last_not_of(" \t\r") - first + 1));
                o.extra_layer_schedules.emplace_back();
            }
            last_schedules = nullptr;
        } else if (arg == "--spec") {
            o.extra_specs.push_back(value());
            o.extra_schedules.emplace_back();
            last_schedules = &o.extra_schedules;
        } else if (arg == "--schedule") {
            if (!last_schedules || !last_schedules->back().empty())
                usage_error("--schedule: give it after the --layer or --spec it applies to, once for each");
            last_schedules->back() = value();
        } else if (arg == "--seconds") {
            const std::string v = value();
            char *end = nullptr;
            o.seconds = std::strtod(v.c_str(), &end);
            if (*end || !(o.seconds > 0) || o.seconds > 600) usage_error("--seconds: expected a time from 0 to 600");
        } else if (arg == "--attempts") {
            const std::string v = value();
            char *end = nullptr;
            o.attempts = int(std::strtol(v.c_str(), &end, 10));
            if (*end || o.attempts < 1 || o.attempts > 100) usage_error("--attempts: expected 1 to 100");
        } else if (arg == "--rounds") {
            const std::string v = value();
            char *end = nullptr;
            o.rounds = int(std::strtol(v.c_str(), &end, 10));
            if (*end || o.rounds < 1 || o.rounds > 100) usage_error("--rounds: expected 1 to 100");
        } else if (arg == "--isa") {
            o.isa = value();
            if (o.isa != "auto" && o.isa != "avx512" && o.isa != "avx2")
                usage_error("--isa: expected auto, avx512 or avx2, got '" + o.isa + "'");
        } else if (arg == "--json") {
            o.json = true;
        } else if (arg == "-h" || arg == "--help") {
            usage_error("side-by-side Conv2D benchmark against oneDNN");
        } else {
            usage_error("unknown argument '" + arg + "'");
        }
    }
    return o;
}

// Debian's oneDNN uses OpenMP. By default OpenMP worker threads spin for a
// while after each parallel region and would take the cores away from
// Halide's thread pool in the alternating measurements. libgomp reads
// OMP_WAIT_POLICY once, when it is loaded (before main), so setenv() here
// would be too late: set it and re-execute this program. An explicit setting
// from the caller is kept.
void ensure_passive_openmp(char **argv) {
    if (std::getenv("OMP_WAIT_POLICY")) return;
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
    std::cerr << "bench_layers: could not re-execute with OMP_WAIT_POLICY=passive (" << std::strerror(errno)
              << "); export it before running for fair numbers\n";
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

// The 1-minute load average: on a shared machine, a figure well above 0 means
// other work competed for the cores during the run.
std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    return in >> one ? one : "unknown";
}

std::string cpu_features() {
    __builtin_cpu_init();
    std::string s;
    auto add = [&s](bool has, const char *name) {
        if (has) s += (s.empty() ? "" : " ") + std::string(name);
    };
    add(__builtin_cpu_supports("sse4.1"), "sse4.1");
    add(__builtin_cpu_supports("avx2"), "avx2");
    add(__builtin_cpu_supports("fma"), "fma");
    add(__builtin_cpu_supports("avx512f"), "avx512f");
    if (!__builtin_cpu_supports("avx512f")) s += " (no avx512)";
    return s;
}

// ---------------------------------------------------------------------------
// One layer of the suite: the linked convpipe pipeline and its random inputs.

// convpipe's call buffers: x alone (kernel and bias are bound) and the
// outputs run_into reuses. Layers of one input and output shape share them,
// so that two schedules of a layer run on the same memory: where a buffer
// lies moved 3x3 depthwise 7x7x1024 (pixels 4 KB apart) by tens of percent,
// and of two identical layers the second then measured faster.
struct CallBuffers {
    std::vector<convpipe::Tensor> data;
    std::vector<convpipe::Tensor> outputs;
};

struct Suite {
    std::string name;
    convpipe::Pipeline pipeline;
    const graph::Layer *conv = nullptr;
    convpipe::Shape input_shape, output_shape;
    std::vector<convpipe::Tensor> inputs;    // x, kernel, bias: call order
    std::shared_ptr<CallBuffers> call;
    double flops = 0;
    bool jit = false;   // compiled in process (--layer, --spec)
};

// The call buffers of layers of these shapes, made on first use.
std::shared_ptr<CallBuffers> call_buffers(const convpipe::Shape &input, const convpipe::Shape &output,
                                          const convpipe::Tensor &x) {
    static std::map<std::pair<convpipe::Shape, convpipe::Shape>, std::shared_ptr<CallBuffers>> made;
    std::shared_ptr<CallBuffers> &b = made[{input, output}];
    if (!b) b = std::make_shared<CallBuffers>(CallBuffers{{x}, {}});
    return b;
}

convpipe::Tensor random_tensor(const convpipe::Shape &shape, float scale, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(-scale, scale);
    convpipe::Tensor t(shape);
    for (float &v : t.values()) v = uniform(rng);
    return t;
}

// `pipeline` must hold one Conv2D layer whose input shape is fully given and
// whose kernel and bias are call inputs; `jit`: compiled in process.
Suite open_layer(const std::string &name, convpipe::Pipeline pipeline, bool jit) {
    Suite s{name, std::move(pipeline)};
    s.jit = jit;
    const graph::Graph &g = s.pipeline.graph();
    if (g.layers.size() != 1 || g.layers[0].kind != graph::OpKind::Conv2D)
        throw convpipe::Error(name + ": bench_layers expects a single Conv2D layer");
    s.conv = &g.layers[0];
    const graph::Conv2D &c = s.conv->conv;
    if (c.activation != graph::Activation::Relu && c.activation != graph::Activation::Linear)
        throw convpipe::Error(name + ": bench_layers compares relu or linear layers only");
    std::vector<graph::Value> call = g.call_inputs();
    if (call.size() != (c.use_bias ? 3u : 2u))
        throw convpipe::Error(name + ": kernel and bias must be given at run time");
    s.input_shape = call[0].shape;
    for (int64_t d : s.input_shape)
        if (d <= 0) throw convpipe::Error(name + ": the input shape must be fully given");
    // Weights scaled by 1/sqrt(fan-in) keep outputs near 1, so the relative
    // error below means the same thing for every layer.
    const double fan_in = double(c.kernel_h) * c.kernel_w * (s.conv->in_channels / c.groups);
    s.inputs.push_back(random_tensor(s.input_shape, 1.0f, 11));
    s.inputs.push_back(random_tensor(call[1].shape, float(std::sqrt(3.0 / fan_in)), 12));
    if (c.use_bias) s.inputs.push_back(random_tensor(call[2].shape, 0.1f, 13));
    // Weights bound once (packed then), as oneDNN's are reordered once.
    for (size_t i = 1; i < call.size(); i++) s.pipeline.bind(call[i].name, s.inputs[i]);
    std::vector<convpipe::Shape> shapes;
    for (const convpipe::Tensor &t : s.inputs) shapes.push_back(t.shape());
    s.output_shape = g.infer_output_shapes(shapes).at(0);
    s.call = call_buffers(s.input_shape, s.output_shape, s.inputs[0]);
    s.flops = g.flops(shapes);
    return s;
}

// A layer's label in the tables: its name, and its schedule file's if any.
std::string with_schedule_name(const std::string &name, const std::string &schedule_file) {
    if (schedule_file.empty()) return name;
    return name + "+" + schedule_file.substr(schedule_file.find_last_of('/') + 1);
}

// ---------------------------------------------------------------------------
// The same layer in oneDNN, reading the input convpipe reads, in place.

class OneDnnConv {
public:
    // Built after omp_set_num_threads(): oneDNN splits the work for the thread
    // count it sees when the primitive is created.
    OneDnnConv(const Suite &s, const dnnl::engine &engine, dnnl::stream &stream) {
        using dt = dnnl::memory::data_type;
        using tag = dnnl::memory::format_tag;
        using dims = dnnl::memory::dims;
        const graph::Conv2D &c = s.conv->conv;
        const convpipe::Shape &in = s.input_shape, &out = s.output_shape;
        const int64_t groups = c.groups, cin_g = s.conv->in_channels / groups, cout_g = c.filters / groups;

        // Activations: NHWC, the layout convpipe uses (oneDNN's dims are NCHW order).
        dnnl::memory::desc src_md({in[0], in[3], in[1], in[2]}, dt::f32, tag::nhwc);
        dnnl::memory::desc dst_md({out[0], out[3], out[1], out[2]}, dt::f32, tag::nhwc);
        dnnl::memory::desc bias_md({c.filters}, dt::f32, tag::x);

        // The Keras kernel (KH, KW, Cin/groups, F), described by strides: the
        // element for (group g, output o, input i, h, w) sits at
        // ((h*KW + w)*Cin_g + i)*F + g*F/groups + o.
        const int64_t F = c.filters;
        dnnl::memory::desc keras_md = groups == 1
            ? dnnl::memory::desc(dims{F, cin_g, c.kernel_h, c.kernel_w}, dt::f32,
                                 dims{1, F, c.kernel_w * cin_g * F, cin_g * F})
            : dnnl::memory::desc(dims{groups, cout_g, cin_g, c.kernel_h, c.kernel_w}, dt::f32,
                                 dims{cout_g, 1, F, c.kernel_w * cin_g * F, cin_g * F});
        dnnl::memory::desc any_weights_md(keras_md.dims(), dt::f32, tag::any);

        // TensorFlow 'same' padding: the smaller half before, the rest after.
        auto pads = [](int64_t size, int64_t out_size, int k, int stride, int dilation, graph::Padding p) {
            graph::SpatialWindow w{k, stride, dilation, p};
            const int64_t before = w.pad_before(size);
            const int64_t after = std::max<int64_t>((out_size - 1) * stride + w.extent() - size - before, 0);
            return std::make_pair(before, after);
        };
        auto ph = pads(in[1], out[1], c.kernel_h, c.stride_h, c.dilation_h, c.padding);
        auto pw = pads(in[2], out[2], c.kernel_w, c.stride_w, c.dilation_w, c.padding);

        dnnl::post_ops ops;
        if (c.activation == graph::Activation::Relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
        dnnl::primitive_attr attr;
        attr.set_post_ops(ops);
        // Scratchpad owned here, allocated once, instead of by the library.
        attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

        const dims strides{c.stride_h, c.stride_w}, dilates{c.dilation_h - 1, c.dilation_w - 1};
        const dims pad_l{ph.first, pw.first}, pad_r{ph.second, pw.second};
        auto desc = c.use_bias
            ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                              src_md, any_weights_md, bias_md, dst_md, strides, dilates, pad_l, pad_r)
            : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                              src_md, any_weights_md, dst_md, strides, dilates, pad_l, pad_r);
        pd_ = dnnl::convolution_forward::primitive_desc(desc, attr, engine);
        conv_ = dnnl::convolution_forward(pd_);

        // The same input buffer convpipe reads (CallBuffers).
        auto *x = const_cast<float *>(s.call->data.at(0).data());
        auto *kernel = const_cast<float *>(s.inputs[1].data());
        src_ = dnnl::memory(src_md, engine, x);
        dst_ = dnnl::memory(pd_.dst_desc(), engine);
        weights_ = dnnl::memory(pd_.weights_desc(), engine);
        scratchpad_ = dnnl::memory(pd_.scratchpad_desc(), engine);
        // Weights reordered once, here, never in the timed loop.
        dnnl::memory keras_weights(keras_md, engine, kernel);
        dnnl::reorder(keras_weights, weights_).execute(stream, keras_weights, weights_);
        args_ = {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, dst_},
                 {DNNL_ARG_SCRATCHPAD, scratchpad_}};
        if (c.use_bias) {
            bias_ = dnnl::memory(bias_md, engine, const_cast<float *>(s.inputs[2].data()));
            args_[DNNL_ARG_BIAS] = bias_;
        }
        stream.wait();
    }

    void run(dnnl::stream &stream) {
        conv_.execute(stream, args_);
        stream.wait();
    }
    const float *output() const { return static_cast<const float *>(dst_.get_data_handle()); }
    std::string implementation() const { return pd_.impl_info_str(); }

private:
    dnnl::convolution_forward::primitive_desc pd_;
    dnnl::convolution_forward conv_;
    dnnl::memory src_, weights_, bias_, dst_, scratchpad_;
    std::unordered_map<int, dnnl::memory> args_;
};

// ---------------------------------------------------------------------------
// Alternating measurement.

struct Timing {
    double a_ms = 0, b_ms = 0;         // medians
    double a_best_ms = 0, b_best_ms = 0;
    int samples = 0;                    // per library
    int runs_per_sample = 1;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Samples A, B, A, B, ... A sample of a layer that takes well under
// kSampleSeconds is a burst of several runs, preceded by one untimed run so
// the burst starts with that library's data in cache (the other library just
// ran) and measures steady state. Long layers are timed run by run.
Timing alternate(const std::function<void()> &a, const std::function<void()> &b, double seconds) {
    constexpr double kSampleSeconds = 0.004;
    constexpr int kMinSamples = 11, kMaxSamples = 5000;
    auto one_run = [](const std::function<void()> &f) {
        double best = 1e9;
        for (int i = 0; i < 3; i++) {
            const auto t0 = Clock::now();
            f();
            best = std::min(best, seconds_since(t0));
        }
        return best;
    };
    for (int i = 0; i < 2; i++) a(), b();   // warm up: first calls allocate and page in
    const double shorter = std::min(one_run(a), one_run(b));
    const int runs = std::clamp(int(kSampleSeconds / std::max(shorter, 1e-7)), 1, 1000);

    auto sample = [runs](const std::function<void()> &f) {
        if (runs > 1) f();
        const auto t0 = Clock::now();
        for (int i = 0; i < runs; i++) f();
        return seconds_since(t0) * 1e3 / runs;
    };
    std::vector<double> ta, tb;
    const auto start = Clock::now();
    while (int(ta.size()) < kMinSamples || (seconds_since(start) < seconds && int(ta.size()) < kMaxSamples)) {
        ta.push_back(sample(a));
        tb.push_back(sample(b));
    }
    std::sort(ta.begin(), ta.end());
    std::sort(tb.begin(), tb.end());
    Timing t;
    t.a_ms = ta[ta.size() / 2];
    t.b_ms = tb[tb.size() / 2];
    t.a_best_ms = ta.front();
    t.b_best_ms = tb.front();
    t.samples = int(ta.size());
    t.runs_per_sample = runs;
    return t;
}

// max |ours - theirs| over max |theirs|: error relative to the output's scale.
double relative_error(const float *ours, const float *theirs, int64_t n) {
    double max_diff = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        max_diff = std::max(max_diff, std::fabs(double(ours[i]) - double(theirs[i])));
        scale = std::max(scale, std::fabs(double(theirs[i])));
    }
    if (!std::isfinite(max_diff)) return INFINITY;
    return max_diff / std::max(scale, 1e-30);
}

// ---------------------------------------------------------------------------
// Results and their presentation.

struct Result {
    std::string layer, shape, convpipe_isa, onednn_impl;
    int threads = 0;
    double flops = 0, peak_gflops = 0;
    Timing timing;   // a = convpipe, b = oneDNN
    double error = 0;
    double available_gflops = 0;   // the lower FMA probe around the kept attempt
    int attempts = 1;

    double convpipe_gflops() const { return flops / timing.a_ms / 1e6; }
    double onednn_gflops() const { return flops / timing.b_ms / 1e6; }
    double ratio() const { return timing.b_ms / timing.a_ms; }   // convpipe speed / oneDNN speed
    double convpipe_peak() const { return convpipe_gflops() / peak_gflops; }
    double onednn_peak() const { return onednn_gflops() / peak_gflops; }
    double available() const { return available_gflops / peak_gflops; }   // share of the CPU that was ours
};

// One layer's rounds as one result: the medians of the rounds' medians,
// the best single runs, the least free CPU and the largest error seen.
Result median_of_rounds(const std::vector<Result> &rounds) {
    Result r = rounds.back();
    auto median = [&](double Timing::*field) {
        std::vector<double> v;
        for (const Result &x : rounds) v.push_back(x.timing.*field);
        std::sort(v.begin(), v.end());
        return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
    };
    r.timing.a_ms = median(&Timing::a_ms);
    r.timing.b_ms = median(&Timing::b_ms);
    for (const Result &x : rounds) {
        r.timing.a_best_ms = std::min(r.timing.a_best_ms, x.timing.a_best_ms);
        r.timing.b_best_ms = std::min(r.timing.b_best_ms, x.timing.b_best_ms);
        r.available_gflops = std::min(r.available_gflops, x.available_gflops);
        r.error = std::max(r.error, x.error);
        r.attempts = std::max(r.attempts, x.attempts);
    }
    r.timing.samples = 0;
    for (const Result &x : rounds) r.timing.samples += x.timing.samples;
    return r;
}

struct Geomean {
    double ratio = 1, convpipe_peak = 1, onednn_peak = 1;
};

Geomean geomeans(const std::vector<Result> &rs) {
    Geomean g;
    if (rs.empty()) return g;
    double r = 0, cp = 0, dp = 0;
    for (const Result &x : rs) {
        r += std::log(x.ratio());
        cp += std::log(x.convpipe_peak());
        dp += std::log(x.onednn_peak());
    }
    const double n = double(rs.size());
    return {std::exp(r / n), std::exp(cp / n), std::exp(dp / n)};
}

std::string fixed(double v, int digits) {
    std::ostringstream o;
    o << std::fixed << std::setprecision(digits) << v;
    return o.str();
}

std::string ms_cell(double ms) { return fixed(ms, ms < 1 ? 4 : ms < 100 ? 3 : 1); }

std::string json_string(const std::string &s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    return out + "\"";
}

void print_table(int threads, const bench::FmaPeak &peak, const std::vector<Result> &rs) {
    std::cout << "\n" << threads << " thread" << (threads == 1 ? "" : "s") << ", FMA peak " << fixed(peak.gflops, 1)
              << " GFLOP/s (" << peak.isa << ")\n";
    std::cout << std::left << std::setw(27) << "layer" << std::setw(21) << "shape" << std::right << std::setw(11)
              << "convpipe ms" << std::setw(11) << "oneDNN ms" << std::setw(10) << "cp GF/s" << std::setw(10)
              << "dnnl GF/s" << std::setw(8) << "ratio" << std::setw(9) << "cp %pk" << std::setw(9) << "dnnl %pk"
              << std::setw(10) << "rel err" << std::setw(6) << "free" << "  oneDNN impl\n";
    for (const Result &r : rs) {
        std::cout << std::left << std::setw(27) << r.layer << std::setw(21) << r.shape << std::right << std::setw(11)
                  << ms_cell(r.timing.a_ms) << std::setw(11) << ms_cell(r.timing.b_ms) << std::setw(10)
                  << fixed(r.convpipe_gflops(), 1) << std::setw(10) << fixed(r.onednn_gflops(), 1) << std::setw(7)
                  << fixed(r.ratio(), 2) << "x" << std::setw(8) << fixed(100 * r.convpipe_peak(), 1) << "%"
                  << std::setw(8) << fixed(100 * r.onednn_peak(), 1) << "%";
        std::ostringstream err;
        err << std::scientific << std::setprecision(1) << r.error;
        std::cout << std::setw(10) << err.str() << std::setw(5) << fixed(100 * r.available(), 0) << "%  "
                  << r.onednn_impl << (r.error > kMaxRelativeError ? "  MISMATCH" : "")
                  << (r.available() < kQuietFraction ? "  BUSY" : "") << "\n";
    }
    const Geomean g = geomeans(rs);
    std::cout << std::left << std::setw(27 + 21 + 11 + 11 + 10 + 10) << "geometric mean" << std::right
              << std::setw(7) << fixed(g.ratio, 2) << "x" << std::setw(8) << fixed(100 * g.convpipe_peak, 1) << "%"
              << std::setw(8) << fixed(100 * g.onednn_peak, 1) << "%\n";
}

void print_json(const Options &o, const std::string &load_at_start, const std::vector<int> &threads,
                const std::vector<bench::FmaPeak> &peaks, const std::vector<std::vector<Result>> &results) {
    const dnnl::version_t *v = dnnl::version();
    std::cout << std::setprecision(6) << "{\"cpu\": " << json_string(cpu_model())
              << ", \"cpu_features\": " << json_string(cpu_features()) << ", \"onednn_version\": \"" << v->major
              << "." << v->minor << "." << v->patch << "\", \"omp_wait_policy\": "
              << json_string(std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "")
              << ", \"load_average_at_start\": " << json_string(load_at_start)
              << ", \"seconds_per_layer\": " << o.seconds << ", \"rounds\": " << o.rounds << ", \"isa_limit\": " << json_string(o.isa)
              << ", \"runs\": [";
    for (size_t i = 0; i < threads.size(); i++) {
        const Geomean g = geomeans(results[i]);
        std::cout << (i ? ", " : "") << "{\"threads\": " << threads[i] << ", \"fma_peak_gflops\": " << peaks[i].gflops
                  << ", \"fma_peak_isa\": " << json_string(peaks[i].isa) << ", \"layers\": [";
        for (size_t j = 0; j < results[i].size(); j++) {
            const Result &r = results[i][j];
            std::cout << (j ? ", " : "") << "{\"layer\": " << json_string(r.layer)
                      << ", \"shape\": " << json_string(r.shape) << ", \"flops\": " << r.flops
                      << ", \"convpipe_ms\": " << r.timing.a_ms << ", \"onednn_ms\": " << r.timing.b_ms
                      << ", \"convpipe_best_ms\": " << r.timing.a_best_ms
                      << ", \"onednn_best_ms\": " << r.timing.b_best_ms
                      << ", \"convpipe_gflops\": " << r.convpipe_gflops()
                      << ", \"onednn_gflops\": " << r.onednn_gflops() << ", \"ratio\": " << r.ratio()
                      << ", \"convpipe_peak_fraction\": " << r.convpipe_peak()
                      << ", \"onednn_peak_fraction\": " << r.onednn_peak() << ", \"max_rel_error\": " << r.error
                      << ", \"cpu_free_fraction\": " << r.available() << ", \"attempts\": " << r.attempts
                      << ", \"samples\": " << r.timing.samples << ", \"runs_per_sample\": " << r.timing.runs_per_sample
                      << ", \"convpipe_isa\": " << json_string(r.convpipe_isa)
                      << ", \"onednn_impl\": " << json_string(r.onednn_impl) << "}";
        }
        std::cout << "], \"geomean\": {\"ratio\": " << g.ratio << ", \"convpipe_peak_fraction\": " << g.convpipe_peak
                  << ", \"onednn_peak_fraction\": " << g.onednn_peak << "}}";
    }
    std::cout << "]}\n";
}

}  // namespace

int main(int argc, char **argv) {
    ensure_passive_openmp(argv);
    const Options o = parse_options(argc, argv);
    const std::string load_at_start = load_average();
    try {
        convpipe::set_cpu_isa_limit(o.isa);
        if (o.isa == "avx2") dnnl::set_max_cpu_isa(dnnl::cpu_isa::avx2);

        // The suite, in the order bench/CMakeLists.txt lists it.
        std::vector<Suite> suite;
        const bool extras = !o.extra_layers.empty() || !o.extra_specs.empty();
        if (!extras || !o.layer_filters.empty()) {
            for (const std::string &name : split(CONVPIPE_BENCH_LAYERS, ',')) {
                bool wanted = o.layer_filters.empty();
                for (const std::string &f : o.layer_filters) wanted = wanted || name.find(f) != std::string::npos;
                if (wanted) suite.push_back(open_layer(name, convpipe::Pipeline::open(name, convpipe::Device::CPU), false));
            }
            if (suite.empty()) usage_error("--layers: no layer of the suite matches");
        }
        // Layers outside the suite, compiled in process for this CPU (or its
        // AVX2 subset under --isa avx2).
        if (extras && o.isa == "avx2" && !std::getenv("HL_JIT_TARGET"))
            setenv("HL_JIT_TARGET", "x86-64-linux-avx-avx2-f16c-fma-sse41", 1);
        for (size_t i = 0; i < o.extra_layers.size(); i++) {
            const std::string &desc = o.extra_layers[i];
            graph::Graph g;
            try {
                g = graph::parse_conv_notation(desc, "layer" + std::to_string(i + 1));
            } catch (const convpipe::SpecError &e) {
                usage_error(std::string("--layer ") + e.what());
            }
            convpipe::CompileOptions options;
            options.schedule_file = o.extra_layer_schedules[i];
            suite.push_back(open_layer(with_schedule_name(g.name, options.schedule_file),
                                       convpipe::compile_graph(g, options), true));
        }
        for (size_t i = 0; i < o.extra_specs.size(); i++) {
            convpipe::CompileOptions options;
            options.schedule_file = o.extra_schedules[i];
            convpipe::Pipeline p = convpipe::compile_spec(o.extra_specs[i], options);
            const std::string label = with_schedule_name(p.name(), options.schedule_file);
            suite.push_back(open_layer(label, std::move(p), true));
        }

        if (!o.json) {
            const dnnl::version_t *v = dnnl::version();
            std::cout << "bench_layers: Conv2D + bias + relu, convpipe vs oneDNN " << v->major << "." << v->minor
                      << "." << v->patch << " (f32, NHWC), medians of alternating samples, ~" << o.seconds
                      << " s per layer"
                      << (o.rounds > 1 ? " and round, medians of " + std::to_string(o.rounds) + " rounds" : std::string())
                      << "\nCPU: " << cpu_model() << "; " << cpu_features()
                      << "; OMP_WAIT_POLICY=" << (std::getenv("OMP_WAIT_POLICY") ? std::getenv("OMP_WAIT_POLICY") : "")
                      << "; load average " << load_at_start << " at start\n"
                      << "ratio = convpipe speed / oneDNN speed (> 1: convpipe faster); %pk = share of the "
                         "measured FMA peak at that thread count;\nfree = share of that peak that FMA probes just "
                         "before and after the layer got (BUSY: other work held the CPU)\n";
        }

        dnnl::engine engine(dnnl::engine::kind::cpu, 0);
        dnnl::stream stream(engine);
        std::vector<bench::FmaPeak> peaks;
        std::vector<std::vector<Result>> results;
        bool all_agree = true;
        for (int threads : o.threads) {
            convpipe::set_num_threads(threads);
            omp_set_num_threads(threads);
            bench::FmaPeak peak = bench::measure_fma_peak(threads, o.isa);
            // Each round measures every layer; odd rounds go through the list
            // backwards, so whatever a neighbour leaves behind (cache, clock)
            // falls on both sides of a comparison of two layers. Each layer
            // reports the medians of its rounds.
            std::vector<std::vector<Result>> rounds(suite.size());
            for (int round = 0; round < o.rounds; round++) {
                for (size_t k = 0; k < suite.size(); k++) {
                    const size_t index = round % 2 == 0 ? k : suite.size() - 1 - k;
                    Suite &s = suite[index];
                    OneDnnConv dnnl_conv(s, engine, stream);
                    // On a shared machine another tenant can hold a core for
                    // seconds. Short FMA probes just before and after a layer
                    // show how much of the CPU was ours; a layer whose probes
                    // fall below kQuietFraction of the peak is measured again,
                    // and the attempt with the best probes is kept.
                    Result r;
                    for (int attempt = 0; attempt < o.attempts; attempt++) {
                        const double before = bench::measure_fma_peak(threads, o.isa, 1, 0.05).gflops;
                        const Timing t = alternate([&] { s.pipeline.run_into(s.call->data, s.call->outputs); },
                                                   [&] { dnnl_conv.run(stream); }, o.seconds);
                        const double after = bench::measure_fma_peak(threads, o.isa, 1, 0.05).gflops;
                        peak.gflops = std::max({peak.gflops, before, after});
                        const double available = std::min(before, after);
                        if (attempt == 0 || available > r.available_gflops) {
                            r.timing = t;
                            r.available_gflops = available;
                            r.attempts = attempt + 1;
                        }
                        if (r.available_gflops >= kQuietFraction * peak.gflops) break;
                    }
                    r.layer = s.name;
                    r.shape = graph::conv_notation(*s.conv, s.input_shape);
                    r.threads = threads;
                    r.flops = s.flops;
                    r.onednn_impl = dnnl_conv.implementation();
                    r.convpipe_isa = s.jit ? "jit" : convpipe::last_cpu_isa();
                    r.error = relative_error(s.call->outputs.at(0).data(), dnnl_conv.output(), s.call->outputs.at(0).size());
                    all_agree = all_agree && r.error <= kMaxRelativeError;
                    rounds[index].push_back(r);
                }
            }
            results.emplace_back();
            for (const std::vector<Result> &rs : rounds) results.back().push_back(median_of_rounds(rs));
            // Fractions of peak use the best peak seen at this thread count:
            // noise only ever lowers a measurement.
            peak = std::max(peak, bench::measure_fma_peak(threads, o.isa),
                            [](const bench::FmaPeak &a, const bench::FmaPeak &b) { return a.gflops < b.gflops; });
            for (Result &r : results.back()) r.peak_gflops = peak.gflops;
            peaks.push_back(peak);
            if (!o.json) print_table(threads, peaks.back(), results.back());
        }
        if (o.json) print_json(o, load_at_start, o.threads, peaks, results);
        else if (!suite.front().jit || !suite.back().jit)
            std::cout << "\nconvpipe's linked layers ran their " << convpipe::last_cpu_isa() << " variant\n";
        if (!all_agree) {
            std::cerr << "bench_layers: convpipe and oneDNN disagree (relative error above " << kMaxRelativeError
                      << ") on a layer marked MISMATCH\n";
            return 1;
        }
    } catch (const dnnl::error &e) {
        std::cerr << "bench_layers: oneDNN: " << e.what() << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "bench_layers: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
