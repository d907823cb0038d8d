// Pipeline: checks and sizes every call from the graph, then hands NHWC
// buffers to a backend. The AOT backend calls a generated library through
// the registry, choosing its x86 variant (cpu_isa.h) or its CUDA build;
// Halide's errors come back through the hooks in halide_hooks.cpp.
#include "convpipe/pipeline.h"

#include <HalideRuntime.h>
#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "convpipe/layout.h"
#include "cpu_isa.h"
#include "halide_buffers.h"
#include "registry_table.h"

namespace convpipe {

const char *device_name(Device d) {
    switch (d) {
    case Device::Auto: return "auto";
    case Device::CPU: return "cpu";
    case Device::CUDA: return "cuda";
    }
    return "?";
}

namespace {

std::atomic<int> g_threads{0};

// --- CUDA -------------------------------------------------------------------
// Asks the driver directly (no toolkit needed), the way Halide's runtime will.
bool cuda_device_present() {
    static const bool present = [] {
        void *lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
        if (!lib) return false;
        using InitFn = int (*)(unsigned);
        using CountFn = int (*)(int *);
        auto init = reinterpret_cast<InitFn>(dlsym(lib, "cuInit"));
        auto count = reinterpret_cast<CountFn>(dlsym(lib, "cuDeviceGetCount"));
        int n = 0;
        bool ok = init && count && init(0) == 0 && count(&n) == 0 && n > 0;
        return ok;
    }();
    return present;
}

// --- the AOT backend ----------------------------------------------------------
class AotBackend : public Backend {
public:
    // variants: for the CPU, the x86 variants of the library, best first;
    // for CUDA, the one CUDA variant.
    AotBackend(const detail::Registration *reg, std::vector<const detail::Variant *> variants, Device device,
               size_t call_inputs)
        : reg_(reg), variants_(std::move(variants)), device_(device) {
        for (const detail::Variant *v : variants_) {
            layouts_.emplace_back(v->input_layouts, v->input_layouts + call_inputs);
            isa_levels_.push_back(detail::isa_level(v->isa));
        }
    }

    Device device() const override { return device_; }

    std::string description() const override {
        std::string targets;
        for (const detail::Variant *v : variants_) targets += (targets.empty() ? "" : ", ") + std::string(v->targets);
        return std::string("AOT ") + (device_ == Device::CUDA ? "cuda" : "x86") + " [" + targets + "], schedule: " +
               reg_->schedule_origin;
    }

    int choose_variant() const override {
        if (device_ == Device::CUDA) return 0;
        int allowed = detail::choose_isa_level();
        for (size_t i = 0; i < variants_.size(); i++) {
            if (isa_levels_[i] <= allowed) {
                detail::record_isa_level(isa_levels_[i]);
                return static_cast<int>(i);
            }
        }
        throw Error("pipeline '" + std::string(reg_->name) + "' has no x86 variant this CPU can run");
    }

    const std::vector<graph::KernelLayout> &input_layouts(int variant) const override { return layouts_.at(variant); }

    void run(int variant_index, const std::vector<const Tensor *> &inputs, const std::vector<Shape> &input_shapes,
             std::vector<Tensor> &outputs) override {
        const detail::Variant *variant = variants_.at(variant_index);
        detail::BufferSet in(inputs, input_shapes);
        detail::BufferSet out(outputs);
        detail::ErrorSink sink;
        int rc = variant->entry(&sink, in.pointers(), out.pointers());
        if (device_ == Device::CUDA) {
            for (size_t i = 0; i < out.size(); i++)
                if (rc == 0) rc = halide_copy_to_host(&sink, out[i]);
            for (size_t i = 0; i < in.size(); i++) halide_device_free(&sink, in[i]);
            for (size_t i = 0; i < out.size(); i++) halide_device_free(&sink, out[i]);
        }
        if (rc != 0)
            throw Error("pipeline '" + std::string(reg_->name) + "' failed (Halide error " + std::to_string(rc) +
                        "): " + sink.text());
    }

private:
    const detail::Registration *reg_;
    std::vector<const detail::Variant *> variants_;
    std::vector<std::vector<graph::KernelLayout>> layouts_;   // per variant, per call input
    std::vector<int> isa_levels_;                              // per variant (cpu_isa.h)
    Device device_;
};

std::vector<const detail::Variant *> find_variants(const detail::Registration *reg, const char *family) {
    std::vector<const detail::Variant *> found;
    for (int i = 0; i < reg->variant_count; i++)
        if (std::string(reg->variants[i].family) == family) found.push_back(&reg->variants[i]);
    // Best ISA first.
    std::stable_sort(found.begin(), found.end(),
                     [](auto *a, auto *b) { return detail::isa_level(a->isa) > detail::isa_level(b->isa); });
    return found;
}

}  // namespace

Pipeline Pipeline::open(const std::string &name, Device device) {
    detail::link_halide_hooks();
    const detail::Registry::Entry *entry = detail::find_registration(name);
    if (!entry) {
        std::vector<std::string> names = detail::registered_names();
        std::sort(names.begin(), names.end());
        std::string known;
        for (const std::string &n : names) known += (known.empty() ? "" : ", ") + n;
        throw Error("unknown pipeline '" + name + "' (linked: " + (known.empty() ? "none" : known) +
                    "); link its library, made with convpipe_add_pipeline(" + name + " SPEC ...)");
    }
    const detail::Registration *reg = entry->reg;
    std::vector<const detail::Variant *> cuda = find_variants(reg, "cuda");
    std::vector<const detail::Variant *> x86 = find_variants(reg, "x86");
    const size_t n_in = entry->graph->call_inputs().size();
    if (device == Device::CUDA) {
        if (cuda.empty())
            throw Error("pipeline '" + name + "' has no CUDA build; add TARGETS x86 cuda to its convpipe_add_pipeline()");
        if (!cuda_device_present())
            throw Error("CUDA was requested for pipeline '" + name +
                        "', but no CUDA device is available (no driver, or no GPU visible)");
        return Pipeline(*entry->graph, std::make_shared<AotBackend>(reg, cuda, Device::CUDA, n_in));
    }
    if (device == Device::Auto && !cuda.empty() && cuda_device_present())
        return Pipeline(*entry->graph, std::make_shared<AotBackend>(reg, cuda, Device::CUDA, n_in));
    if (x86.empty()) throw Error("pipeline '" + name + "' has no CPU build");
    return Pipeline(*entry->graph, std::make_shared<AotBackend>(reg, x86, Device::CPU, n_in));
}

// Per-pipeline scratch for calls: the call signature, bound weights, packed
// kernels, and the shapes of the last call with their inferred outputs, so
// that a warm run_into with the same shapes allocates nothing.
struct Pipeline::CallState {
    std::mutex mutex;
    std::vector<graph::Value> call;
    std::vector<char> bound;             // per call input
    std::vector<Tensor> bound_values;    // per call input, as given to bind
    std::vector<Tensor> packed;          // per call input: its packed kernel
    std::vector<graph::KernelLayout> packed_layout;   // the layout `packed` holds for a bound value; Keras's: none yet
    std::vector<Shape> shapes, stored_shapes, last_shapes, out_shapes;
    std::vector<const Tensor *> pointers;
};

Pipeline::Pipeline(graph::Graph graph, std::shared_ptr<Backend> backend)
    : graph_(std::make_shared<const graph::Graph>(std::move(graph))), backend_(std::move(backend)),
      state_(std::make_shared<CallState>()) {
    CallState &st = *state_;
    st.call = graph_->call_inputs();
    size_t n = st.call.size();
    st.bound.assign(n, 0);
    st.bound_values.resize(n);
    st.packed.resize(n);
    st.packed_layout.assign(n, graph::KernelLayout{});
    st.shapes.resize(n);
    st.stored_shapes.resize(n);
    st.pointers.resize(n);
}

void Pipeline::bind(const std::string &input, const Tensor &value) {
    const graph::Graph &g = *graph_;
    CallState &st = *state_;
    std::lock_guard<std::mutex> lock(st.mutex);
    auto it = std::find_if(st.call.begin(), st.call.end(), [&](const graph::Value &v) { return v.name == input; });
    if (it == st.call.end()) {
        std::string weights;
        for (size_t i = g.inputs.size(); i < st.call.size(); i++)
            weights += (weights.empty() ? "" : ", ") + st.call[i].name;
        throw Error("pipeline '" + g.name + "' has no run-time weight '" + input + "' to bind (its run-time weights: " +
                    (weights.empty() ? "none" : weights) + ")");
    }
    size_t i = static_cast<size_t>(it - st.call.begin());
    if (i < g.inputs.size())
        throw Error("pipeline '" + g.name + "': '" + input + "' is a data input; only run-time weights can be bound");
    if (value.shape() != it->shape)
        throw Error("pipeline '" + g.name + "': weight '" + input + "' must have shape " + shape_to_string(it->shape) +
                    ", got " + shape_to_string(value.shape()));
    st.bound_values[i] = value;
    st.bound[i] = 1;
    st.packed_layout[i] = {};   // laid out again on the next call
}

std::vector<std::string> Pipeline::input_names() const {
    CallState &st = *state_;
    std::lock_guard<std::mutex> lock(st.mutex);
    std::vector<std::string> names;
    for (size_t i = 0; i < st.call.size(); i++)
        if (!st.bound[i]) names.push_back(st.call[i].name);
    return names;
}

std::vector<Tensor> Pipeline::run(const std::vector<Tensor> &inputs) {
    std::vector<Tensor> outputs;
    run_into(inputs, outputs);
    return outputs;
}

namespace {

// t's shape read as NHWC (HW -> 1,H,W,1; HWC -> 1,H,W,C), into `out`
// without allocating when out already has room.
void nhwc_into(const Tensor &t, Shape &out) {
    const Shape &s = t.shape();
    out.resize(4);
    out[0] = s.size() == 4 ? s[0] : 1;
    out[1] = s[s.size() == 4 ? 1 : 0];
    out[2] = s[s.size() == 4 ? 2 : 1];
    out[3] = s.size() == 2 ? 1 : s.back();
}

}  // namespace

void Pipeline::run_into(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs) {
    const graph::Graph &g = *graph_;
    CallState &st = *state_;
    std::lock_guard<std::mutex> lock(st.mutex);
    const std::vector<graph::Value> &call = st.call;
    size_t expected = 0;
    for (char b : st.bound) expected += b ? 0 : 1;
    if (inputs.size() != expected) {
        std::string names;
        for (size_t i = 0; i < call.size(); i++)
            if (!st.bound[i]) names += (names.empty() ? "" : ", ") + call[i].name;
        throw Error("pipeline '" + g.name + "' takes " + std::to_string(expected) + " input" +
                    (expected == 1 ? "" : "s") + " (" + names + "), got " + std::to_string(inputs.size()));
    }
    for (size_t i = 0, k = 0; i < call.size(); i++) {
        const Tensor &t = st.bound[i] ? st.bound_values[i] : inputs[k++];
        if (t.empty()) throw Error("pipeline '" + g.name + "': input '" + call[i].name + "' is empty");
        bool data = i < g.inputs.size();
        if (data && (t.rank() < 2 || t.rank() > 4))
            throw Error("pipeline '" + g.name + "': input '" + call[i].name + "' must be 2-D (HW), 3-D (HWC) or " +
                        "4-D (NHWC), got shape " + shape_to_string(t.shape()));
        if (data) nhwc_into(t, st.shapes[i]);
        else st.shapes[i] = t.shape();
        st.pointers[i] = &t;
    }
    if (st.shapes != st.last_shapes) {
        st.out_shapes = g.infer_output_shapes(st.shapes);
        st.last_shapes = st.shapes;
    }
    // Kernels the chosen variant reads laid out otherwise: bound ones are
    // laid out once per layout, the others on every call (into storage kept
    // for reuse).
    const int variant = backend_->choose_variant();
    const std::vector<graph::KernelLayout> &layouts = backend_->input_layouts(variant);
    for (size_t i = 0; i < call.size(); i++) {
        st.stored_shapes[i] = st.shapes[i];
        if (layouts[i].is_keras()) continue;
        graph::packed_kernel_shape(st.shapes[i], layouts[i], st.stored_shapes[i]);
        if (!(st.bound[i] && st.packed_layout[i] == layouts[i])) {
            st.packed[i].resize(st.stored_shapes[i]);
            graph::pack_kernel(*st.pointers[i], layouts[i], st.packed[i]);
            st.packed_layout[i] = st.bound[i] ? layouts[i] : graph::KernelLayout{};
        }
        st.pointers[i] = &st.packed[i];
    }
    outputs.resize(st.out_shapes.size());
    for (size_t i = 0; i < st.out_shapes.size(); i++) outputs[i].resize(st.out_shapes[i]);
    backend_->run(variant, st.pointers, st.stored_shapes, outputs);
}

void set_num_threads(int threads) {
    if (threads < 0) throw Error("set_num_threads: expected 0 (one per core) or a positive count, got " +
                                 std::to_string(threads));
    int n = threads == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : threads;
    halide_set_num_threads(n);
    g_threads = n;
}

int num_threads_setting() { return g_threads.load(); }

}  // namespace convpipe
