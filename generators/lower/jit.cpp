// In-process compilation: the graph lowered and scheduled exactly as the
// Generator does it, compiled with Halide's JIT for this machine.
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <utility>

#include "convpipe/compiler.h"
#include "convpipe/layout.h"
#include "convpipe/lower.h"
#include "convpipe/schedule.h"
#include "halide_buffers.h"

namespace convpipe {

namespace {

using namespace Halide;

// Collects Halide's error text for one call.
struct CallContext : JITUserContext {
    std::string errors;
    static void on_error(JITUserContext *ctx, const char *msg) {
        auto *self = static_cast<CallContext *>(ctx);
        if (!self->errors.empty()) self->errors += "; ";
        self->errors += msg;
        while (!self->errors.empty() && self->errors.back() == '\n') self->errors.pop_back();
    }
};

// This CPU's features, as Halide's JIT finds them (or HL_JIT_TARGET), but
// without its instruction scheduling tuned for this processor: the libraries
// the build makes are tuned for none, and what the JIT runs and times (convpipe
// bench SPEC, bench_layers --layer) should be what the build will link.
// (Zen 3: 3x3 56x56x64 2.42 ms tuned for it vs 2.57 generic, same schedule.)
Target jit_target() {
    Target t = get_jit_target_from_environment();
    if (!std::getenv("HL_JIT_TARGET")) t.processor_tune = Target::ProcessorGeneric;
    return t;
}

// A Callable takes its arguments as a parameter pack: one caller per
// buffer count, chosen at run time.
using Caller = int (*)(const Callable &, JITUserContext *, halide_buffer_t *const *);

template <size_t... I>
int call_with(const Callable &f, JITUserContext *ctx, halide_buffer_t *const *b, std::index_sequence<I...>) {
    return f(ctx, b[I]...);
}

template <size_t N>
int call_n(const Callable &f, JITUserContext *ctx, halide_buffer_t *const *b) {
    return call_with(f, ctx, b, std::make_index_sequence<N>{});
}

template <size_t... N>
constexpr std::array<Caller, sizeof...(N)> callers(std::index_sequence<N...>) {
    return {&call_n<N>...};
}

constexpr std::array<Caller, detail::BufferSet::kMaxBuffers + 1> kCallers =
    callers(std::make_index_sequence<detail::BufferSet::kMaxBuffers + 1>{});

class JitBackend : public Backend {
public:
    JitBackend(const graph::Graph &g, const CompileOptions &options) : name_(g.name) {
        target_ = jit_target();
        std::unique_ptr<schedule::ScheduleFile> file;
        if (!options.schedule_file.empty())
            file = std::make_unique<schedule::ScheduleFile>(schedule::load_schedule_file(options.schedule_file, g));
        origin_ = file ? file->path : "heuristic";
        // Parameters first: they decide the layout run-time kernels arrive in.
        schedule::GraphParams params = schedule::choose_params(g, file.get(), target_);
        lower::KernelLayouts layouts = schedule::kernel_layouts(g, params, target_);
        std::vector<graph::Value> call = g.call_inputs();
        std::vector<lower::InputBinding> bindings;
        for (const graph::Value &v : call) {
            Shape stored = lower::storage_shape(v, layouts);
            params_.emplace_back(Float(32), static_cast<int>(stored.size()), graph::argument_identifier(v.name));
            bindings.push_back(lower::bind_input(params_.back(), stored));
            input_layouts_.push_back(lower::call_input_layout(v, layouts));
        }
        // Halide's own errors (a schedule it refuses while scheduling or
        // compiling) are not std::exceptions: they come back as ours.
        try {
            compile(g, params, layouts, bindings);
        } catch (const Halide::Error &e) {
            throw Error(g.name + ": Halide could not compile the pipeline: " + e.what());
        }
    }

    void compile(const graph::Graph &g, const schedule::GraphParams &params, const lower::KernelLayouts &layouts,
                 const std::vector<lower::InputBinding> &bindings) {
        lower::LoweredGraph lowered = lower::lower_graph(g, bindings, layouts, schedule::sum_forms(g, params, target_));
        const lower::Dims &d = lower::dims();
        std::map<std::string, Func> outputs;
        std::vector<Func> funcs;
        for (const graph::Value &v : g.output_values()) {
            Func f(v.name + "_output");
            f(d.c, d.x, d.y, d.n) = lowered.values.at(v.name)(d.c, d.x, d.y, d.n);
            lower::constrain_output(f.output_buffer(), v.shape);
            outputs[v.name] = f;
            funcs.push_back(f);
        }
        schedule::schedule_graph(lowered, g, outputs, params, target_);
        // A Callable, as an AOT library's entry point: a call passes raw
        // buffers built on the stack, where Pipeline::realize() allocates
        // and re-derives its argument list every time (1x1 2x2x8->8: 1.2
        // us a call with realize(), 0.7 with the Callable, 0.4 once
        // BufferSet stopped zeroing slots it does not fill).
        std::vector<Argument> arguments(params_.begin(), params_.end());
        callable_ = Halide::Pipeline(funcs).compile_to_callable(arguments, target_);
    }

    Device device() const override { return Device::CPU; }
    std::string description() const override {
        return "JIT [" + target_.to_string() + "], schedule: " + origin_;
    }

    const std::vector<graph::KernelLayout> &input_layouts(int) const override { return input_layouts_; }

    void run(int, const std::vector<const Tensor *> &inputs, const std::vector<Shape> &shapes,
             std::vector<Tensor> &outputs) override {
        detail::BufferSet in(inputs, shapes), out(outputs);
        apply_thread_count();
        CallContext ctx;
        ctx.handlers.custom_error = &CallContext::on_error;
        // Intermediate buffers come from the same cache of blocks as in the
        // built libraries (runtime/src/halide_hooks.cpp): the JIT's own
        // allocator hands large blocks back, and faulting fresh pages in on
        // every call cost a MobileNet v2 block with its layers apart 2.8 ms
        // instead of 0.6 (bench/fusion/mobilenet_v2_block.json).
        ctx.handlers.custom_malloc = [](Halide::JITUserContext *, size_t size) { return halide_malloc(nullptr, size); };
        ctx.handlers.custom_free = [](Halide::JITUserContext *, void *p) { halide_free(nullptr, p); };
        const size_t n = in.size() + out.size();
        if (n >= kCallers.size())
            throw Error("pipeline '" + name_ + "': a call is limited to " + std::to_string(kCallers.size() - 1) +
                        " buffers, inputs and outputs together");
        std::array<halide_buffer_t *, kCallers.size() - 1> args{};
        std::copy(in.pointers(), in.pointers() + in.size(), args.begin());
        std::copy(out.pointers(), out.pointers() + out.size(), args.begin() + in.size());
        int status = 0;
        try {
            status = kCallers[n](callable_, &ctx, args.data());
        } catch (const Halide::Error &e) {
            throw Error("pipeline '" + name_ + "' failed: " + (ctx.errors.empty() ? e.what() : ctx.errors));
        }
        if (status != 0 || !ctx.errors.empty())
            throw Error("pipeline '" + name_ + "' failed: " +
                        (ctx.errors.empty() ? "Halide error " + std::to_string(status) : ctx.errors));
    }

private:
    // The JIT's thread pool is libHalide's own, not the AOT runtime's that
    // set_num_threads() sets: pass the setting on when it has changed.
    static void apply_thread_count() {
        static std::atomic<int> applied{-1};
        const int n = num_threads_setting();
        if (applied.exchange(n) != n) Halide::Internal::JITSharedRuntime::set_num_threads(n);
    }

    std::string name_, origin_;
    Target target_;
    std::vector<ImageParam> params_;
    std::vector<graph::KernelLayout> input_layouts_;   // per call input (convpipe/layout.h)
    Callable callable_;
};

}  // namespace

Pipeline compile_graph(const graph::Graph &g, const CompileOptions &options) {
    if (options.device == Device::CUDA)
        throw Error(g.name + ": in-process compilation targets the CPU only; build the pipeline with "
                             "convpipe_add_pipeline(... TARGETS x86 cuda) to run it with CUDA");
    return Pipeline(g, std::make_shared<JitBackend>(g, options));
}

std::string describe_schedule(const graph::Graph &g, const std::string &schedule_file) {
    Target target = jit_target();
    std::unique_ptr<schedule::ScheduleFile> file;
    if (!schedule_file.empty())
        file = std::make_unique<schedule::ScheduleFile>(schedule::load_schedule_file(schedule_file, g));
    std::string out;
    schedule::GraphParams params = schedule::choose_params(g, file.get(), target);
    const lower::KernelLayouts layouts = schedule::kernel_layouts(g, params, target);
    for (const graph::Layer &l : g.layers) {
        if (l.kind != graph::OpKind::Conv2D) continue;
        bool from_file = file && file->layers.contains(l.name);
        std::string origin = from_file ? "schedule file" : "heuristic";
        auto found = layouts.find(l.name);
        const graph::KernelLayout layout = found == layouts.end() ? graph::KernelLayout{} : found->second;
        if (layout.pads_groups()) origin += "; filters of each group padded to " + std::to_string(layout.group_filters);
        if (const int b = layout.block) {
            origin += "; kernel stored in blocks of " + std::to_string(b) + " filters";
            const int64_t stored = layout.pads_groups() ? int64_t(layout.groups) * layout.group_filters : l.conv.filters;
            const int64_t padded = (stored + b - 1) / b * b;
            if (padded != stored) origin += ", zero filters up to " + std::to_string(padded);
        }
        if (layout.rotated_group > 0) origin += "; sums over rotated groups of " + std::to_string(layout.rotated_group);
        const bool rows = schedule::skips_padding_rows(l, params.at(l.name), target);
        const bool columns = schedule::skips_padding_columns(l, params.at(l.name), target);
        if (rows || columns)
            origin += std::string("; skips window ") + (rows && columns ? "rows and columns" : rows ? "rows" : "columns") +
                      " over the padding";
        out += l.name + ": " + params.at(l.name).to_json().dump() + "  (" + origin + ")\n";
    }
    return out;
}

Pipeline compile_spec(const std::string &path, const CompileOptions &options) {
    return compile_graph(graph::load_spec(path), options);
}

}  // namespace convpipe
