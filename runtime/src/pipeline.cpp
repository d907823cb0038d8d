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
    AotBackend(const detail::Registration *reg, std::vector<const detail::Variant *> variants, Device device)
        : reg_(reg), variants_(std::move(variants)), device_(device) {}

    Device device() const override { return device_; }

    std::string description() const override {
        std::string targets;
        for (const detail::Variant *v : variants_) targets += (targets.empty() ? "" : ", ") + std::string(v->targets);
        return std::string("AOT ") + (device_ == Device::CUDA ? "cuda" : "x86") + " [" + targets + "], schedule: " +
               reg_->schedule_origin;
    }

    void run(const std::vector<const Tensor *> &inputs, const std::vector<Shape> &input_shapes,
             std::vector<Tensor> &outputs) override {
        const detail::Variant *variant = choose();
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
    const detail::Variant *choose() const {
        if (device_ == Device::CUDA) return variants_.front();
        int allowed = detail::choose_isa_level();
        for (const detail::Variant *v : variants_)
            if (detail::isa_level(v->isa) <= allowed) return v;
        throw Error("pipeline '" + std::string(reg_->name) + "' has no x86 variant this CPU can run");
    }

    const detail::Registration *reg_;
    std::vector<const detail::Variant *> variants_;
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
    if (device == Device::CUDA) {
        if (cuda.empty())
            throw Error("pipeline '" + name + "' has no CUDA build; add TARGETS x86 cuda to its convpipe_add_pipeline()");
        if (!cuda_device_present())
            throw Error("CUDA was requested for pipeline '" + name +
                        "', but no CUDA device is available (no driver, or no GPU visible)");
        return Pipeline(*entry->graph, std::make_shared<AotBackend>(reg, cuda, Device::CUDA));
    }
    if (device == Device::Auto && !cuda.empty() && cuda_device_present())
        return Pipeline(*entry->graph, std::make_shared<AotBackend>(reg, cuda, Device::CUDA));
    if (x86.empty()) throw Error("pipeline '" + name + "' has no CPU build");
    return Pipeline(*entry->graph, std::make_shared<AotBackend>(reg, x86, Device::CPU));
}

// Per-pipeline scratch for calls: the call signature, and the shapes of the
// last call with their inferred outputs, so that a warm run_into with the
// same shapes allocates nothing.
struct Pipeline::CallState {
    std::mutex mutex;
    std::vector<graph::Value> call;
    std::vector<Shape> shapes, last_shapes, out_shapes;
    std::vector<const Tensor *> pointers;
};

Pipeline::Pipeline(graph::Graph graph, std::shared_ptr<Backend> backend)
    : graph_(std::make_shared<const graph::Graph>(std::move(graph))), backend_(std::move(backend)),
      state_(std::make_shared<CallState>()) {
    state_->call = graph_->call_inputs();
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
    if (inputs.size() != call.size()) {
        std::string names;
        for (const graph::Value &v : call) names += (names.empty() ? "" : ", ") + v.name;
        throw Error("pipeline '" + g.name + "' takes " + std::to_string(call.size()) + " input" +
                    (call.size() == 1 ? "" : "s") + " (" + names + "), got " + std::to_string(inputs.size()));
    }
    st.shapes.resize(inputs.size());
    st.pointers.resize(inputs.size());
    for (size_t i = 0; i < inputs.size(); i++) {
        if (inputs[i].empty()) throw Error("pipeline '" + g.name + "': input '" + call[i].name + "' is empty");
        bool data = i < g.inputs.size();
        if (data && (inputs[i].rank() < 2 || inputs[i].rank() > 4))
            throw Error("pipeline '" + g.name + "': input '" + call[i].name + "' must be 2-D (HW), 3-D (HWC) or " +
                        "4-D (NHWC), got shape " + shape_to_string(inputs[i].shape()));
        if (data) nhwc_into(inputs[i], st.shapes[i]);
        else st.shapes[i] = inputs[i].shape();
        st.pointers[i] = &inputs[i];
    }
    if (st.shapes != st.last_shapes) {
        st.out_shapes = g.infer_output_shapes(st.shapes);
        st.last_shapes = st.shapes;
    }
    outputs.resize(st.out_shapes.size());
    for (size_t i = 0; i < st.out_shapes.size(); i++) outputs[i].resize(st.out_shapes[i]);
    backend_->run(st.pointers, st.shapes, outputs);
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
