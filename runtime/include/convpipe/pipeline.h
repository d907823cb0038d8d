#pragma once
// One C++ API over every pipeline: those linked ahead of time (found by name
// in the registry) and those compiled in-process from a spec (see
// convpipe/compiler.h).
#include <memory>
#include <string>
#include <vector>

#include "convpipe/cpu.h"
#include "convpipe/error.h"
#include "convpipe/graph.h"
#include "convpipe/layout.h"
#include "convpipe/tensor.h"

namespace convpipe {

enum class Device { Auto, CPU, CUDA };
const char *device_name(Device device);

// What runs a pipeline: an AOT library's entry point or a JIT-compiled one.
// Inputs and outputs are NHWC, already checked and sized by Pipeline; packed
// kernels (convpipe/layout.h) are laid out already, as input_layouts gave
// for the variant run is called with.
class Backend {
public:
    virtual ~Backend() = default;
    virtual Device device() const = 0;
    virtual std::string description() const = 0;   // "AOT x86 (avx2, schedule: tuned)"
    // The variant the next call runs (an x86 ISA level; 0 when there is one).
    virtual int choose_variant() const { return 0; }
    // Per call input: the layout that variant reads its kernel in (Keras's
    // for an input it takes as given).
    virtual const std::vector<graph::KernelLayout> &input_layouts(int variant) const = 0;
    virtual void run(int variant, const std::vector<const Tensor *> &inputs,
                     const std::vector<Shape> &input_shapes, std::vector<Tensor> &outputs) = 0;
};

class Pipeline {
public:
    // A linked pipeline by name. Throws Error listing the known names when
    // there is none, or when CUDA is asked for and cannot be used.
    static Pipeline open(const std::string &name, Device device = Device::Auto);

    Pipeline(graph::Graph graph, std::shared_ptr<Backend> backend);

    // Inputs in input_names() order (graph().call_inputs() less any bound);
    // 2-D and 3-D tensors are read as NHWC with N=1 (and C=1 for 2-D). Output
    // shapes are inferred.
    std::vector<Tensor> run(const std::vector<Tensor> &inputs);
    // Writes into `outputs`, reusing their storage when shapes already match;
    // warm calls with unchanged shapes do no heap allocation. Calls on one
    // Pipeline (and its copies) are serialised.
    void run_into(const std::vector<Tensor> &inputs, std::vector<Tensor> &outputs);

    // Fixes a run-time weight input ("conv.kernel", "conv.bias") to `value`
    // for every later call on this Pipeline and its copies. The pipeline
    // keeps its own copy, rearranged once into the layout its kernels read
    // (unbound weights are rearranged on every call), so bind weights that
    // stay the same across calls. Binding again replaces the value.
    void bind(const std::string &input, const Tensor &value);
    // The inputs run takes, in order: the call inputs not bound.
    std::vector<std::string> input_names() const;

    const std::string &name() const { return graph_->name; }
    const graph::Graph &graph() const { return *graph_; }
    Device device() const { return backend_->device(); }
    std::string description() const { return backend_->description(); }

private:
    struct CallState;
    std::shared_ptr<const graph::Graph> graph_;
    std::shared_ptr<Backend> backend_;
    std::shared_ptr<CallState> state_;
};

// Number of worker threads pipelines use (0 = one per core).
void set_num_threads(int threads);
// The count last given to set_num_threads (0 if never called).
int num_threads_setting();

// Linked pipelines, for listing.
struct LinkedPipeline {
    std::string name;
    std::vector<std::string> targets;      // "x86", "cuda"
    std::string schedule_origin;           // "heuristic" or the schedule file it was built with
};
std::vector<LinkedPipeline> linked_pipelines();

}  // namespace convpipe

