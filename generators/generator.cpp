// The one generic Generator: it reads a spec (GeneratorParam "spec"),
// declares one input per call argument and one output per graph output, and
// builds the pipeline with the shared lowering and the x86 schedules.
//
//   convpipe_generator -g convpipe -f NAME_avx2 -o DIR -e static_library,c_header \
//       target=x86-64-linux-avx2-fma-f16c-no_runtime-user_context spec=S.json [schedule=F.json]
//   convpipe_generator glue --spec S.json --name NAME --variants avx512_sapphirerapids,avx512,avx2,sse41[,cuda] \
//       --targets T1,T2,...(one per variant) [--schedule F.json] --output NAME_registration.cpp
//
// The second form writes the C++ source that registers the library with the
// runtime (see runtime/include/convpipe/registry.h).
#include <Halide.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "convpipe/error.h"
#include "convpipe/graph.h"
#include "convpipe/lower.h"
#include "convpipe/schedule.h"

namespace {

using namespace Halide;
using convpipe::graph::Graph;

class ConvpipeGenerator : public Generator<ConvpipeGenerator> {
public:
    GeneratorParam<std::string> spec{"spec", ""};
    GeneratorParam<std::string> schedule_file{"schedule", ""};

    void configure() {
        if (spec.value().empty()) throw convpipe::SpecError("convpipe generator: the spec=FILE parameter is required");
        graph_ = convpipe::graph::load_spec(spec);
        // Parameters first: they decide the layout run-time kernels arrive in.
        std::unique_ptr<convpipe::schedule::ScheduleFile> file;
        if (!schedule_file.value().empty())
            file = std::make_unique<convpipe::schedule::ScheduleFile>(
                convpipe::schedule::load_schedule_file(schedule_file, graph_));
        params_ = convpipe::schedule::choose_params(graph_, file.get(), get_target());
        layouts_ = convpipe::schedule::kernel_layouts(graph_, params_, get_target());
        for (const auto &v : graph_.call_inputs())
            inputs_.push_back(add_input<Buffer<>>(convpipe::graph::argument_identifier(v.name), Float(32),
                                                  static_cast<int>(convpipe::lower::storage_shape(v, layouts_).size())));
        for (const auto &v : graph_.output_values())
            outputs_.push_back(add_output<Buffer<>>(v.name, Float(32), 4));
    }

    void generate() {
        namespace lower = convpipe::lower;
        const lower::Dims &d = lower::dims();
        std::vector<convpipe::graph::Value> call = graph_.call_inputs();
        std::vector<lower::InputBinding> bindings;
        for (size_t i = 0; i < call.size(); i++)
            bindings.push_back(lower::bind_input(*inputs_[i], lower::storage_shape(call[i], layouts_)));
        lowered_ = lower::lower_graph(graph_, bindings, layouts_,
                                      convpipe::schedule::sum_forms(graph_, params_, get_target()));
        std::vector<convpipe::graph::Value> outs = graph_.output_values();
        for (size_t i = 0; i < outs.size(); i++) {
            auto *out = outputs_[i];
            (*out)(d.c, d.x, d.y, d.n) = lowered_.values.at(outs[i].name)(d.c, d.x, d.y, d.n);
            lower::constrain_output(Func(*out).output_buffer(), outs[i].shape);
            output_funcs_[outs[i].name] = Func(*out);
        }
    }

    void schedule() { convpipe::schedule::schedule_graph(lowered_, graph_, output_funcs_, params_, get_target()); }

private:
    Graph graph_;
    std::vector<GeneratorInput<Buffer<>> *> inputs_;
    std::vector<GeneratorOutput<Buffer<>> *> outputs_;
    convpipe::schedule::GraphParams params_;
    convpipe::lower::KernelLayouts layouts_;
    convpipe::lower::LoweredGraph lowered_;
    std::map<std::string, Func> output_funcs_;
};

// --- glue --------------------------------------------------------------------

int write_glue(int argc, char **argv) {
    std::string spec, name, variant_list = "avx512_sapphirerapids,avx512,avx2,sse41", target_list, schedule, output;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--spec") spec = v;
        else if (k == "--name") name = v;
        else if (k == "--variants") variant_list = v;
        else if (k == "--targets") target_list = v;
        else if (k == "--schedule") schedule = v;
        else if (k == "--output") output = v;
        else {
            std::cerr << "convpipe_generator glue: unknown option " << k << "\n";
            return 2;
        }
    }
    if (spec.empty() || name.empty() || output.empty()) {
        std::cerr << "convpipe_generator glue: --spec, --name and --output are required\n";
        return 2;
    }
    Graph g = convpipe::graph::load_spec(spec);
    if (g.name != name)
        throw convpipe::SpecError(spec + ": name: the spec is named '" + g.name + "' but the library is '" + name +
                                  "' (they must agree)");
    std::string json = convpipe::graph::to_json(g, false);
    // Variants: the x86 ISA levels, best first, and "cuda"; one target each.
    auto split = [](const std::string &list) {
        std::vector<std::string> parts;
        for (size_t s = 0; s <= list.size();) {
            size_t e = list.find(',', s);
            if (e == std::string::npos) e = list.size();
            if (e > s) parts.push_back(list.substr(s, e - s));
            s = e + 1;
        }
        return parts;
    };
    std::vector<std::string> variants = split(variant_list), targets = split(target_list);
    if (targets.size() != variants.size()) {
        std::cerr << "convpipe_generator glue: --targets needs one Halide target per variant\n";
        return 2;
    }
    std::unique_ptr<convpipe::schedule::ScheduleFile> file;
    if (!schedule.empty())
        file = std::make_unique<convpipe::schedule::ScheduleFile>(convpipe::schedule::load_schedule_file(schedule, g));
    std::vector<convpipe::graph::Value> call = g.call_inputs();
    size_t n_in = call.size(), n_out = g.outputs.size();
    std::string origin = schedule.empty() ? "heuristic" : std::filesystem::path(schedule).filename().string();

    std::ofstream f(output);
    f << "// Generated by convpipe_generator from " << std::filesystem::path(spec).filename().string()
      << ". Do not edit.\n";
    f << "#include <convpipe/registry.h>\n";
    for (const std::string &v : variants) f << "#include \"" << name << "_" << v << ".h\"\n";
    f << "\nnamespace {\n\n";
    for (const std::string &v : variants) {
        std::string fn = name + "_" + v;
        f << "int call_" << v << "(void *uc, halide_buffer_t **in, halide_buffer_t **out) {\n"
          << "    return " << fn << "(uc";
        for (size_t i = 0; i < n_in; i++) f << ", in[" << i << "]";
        for (size_t i = 0; i < n_out; i++) f << ", out[" << i << "]";
        f << ");\n}\n\n";
    }
    f << "const char kGraph[] = R\"convpipe_graph(" << json << ")convpipe_graph\";\n\n";
    // Per variant and call input: the layout its kernel is stored in, as
    // the generator chose it for that target (convpipe/layout.h).
    for (size_t v = 0; v < variants.size(); v++) {
        Target t(targets[v]);
        auto layouts = convpipe::schedule::kernel_layouts(g, convpipe::schedule::choose_params(g, file.get(), t), t);
        f << "const convpipe::graph::KernelLayout kLayouts_" << variants[v] << "[] = {";
        for (size_t i = 0; i < n_in; i++) {
            const convpipe::graph::KernelLayout l = convpipe::lower::call_input_layout(call[i], layouts);
            f << (i ? ", " : "") << "{" << l.block << ", " << l.rotated_group << ", " << l.groups << ", "
              << l.group_filters << "}";
        }
        f << (n_in ? "" : "{}") << "};\n";
    }
    f << "\n";
    f << "const convpipe::detail::Variant kVariants[] = {\n";
    for (const std::string &v : variants)
        f << "    {\"" << (v == "cuda" ? "cuda" : "x86") << "\", \"" << (v == "cuda" ? "" : v) << "\", &call_" << v
          << ", CONVPIPE_TARGET_" << v << ", kLayouts_" << v << "},\n";
    f << "};\n\n";
    f << "const convpipe::detail::Registration kRegistration{\"" << name << "\", kGraph, kVariants, "
      << variants.size() << ", \"" << origin << "\"};\n";
    f << "const bool kRegistered = convpipe::detail::register_pipeline(kRegistration);\n\n";
    f << "}  // namespace\n\n";
    // Referenced by the application's link through the OBJECT library, but
    // give it an external name too so it is easy to force in from elsewhere.
    f << "extern \"C\" const void *convpipe_pipeline_" << name << "() { return &kRegistered; }\n";
    if (!f) throw convpipe::Error(output + ": cannot write");
    return 0;
}

}  // namespace

HALIDE_REGISTER_GENERATOR(ConvpipeGenerator, convpipe)

int main(int argc, char **argv) {
    try {
        if (argc > 1 && std::strcmp(argv[1], "glue") == 0) return write_glue(argc, argv);
        return Halide::Internal::generate_filter_main(argc, argv);
    } catch (const convpipe::SpecError &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception &e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
