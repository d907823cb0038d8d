// list, info, run.
#include "commands.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "convpipe/compiler.h"
#include "convpipe/notation.h"

namespace fs = std::filesystem;

namespace convpipe::cli {

Device parse_device(const std::string &text) {
    if (text == "auto") return Device::Auto;
    if (text == "cpu") return Device::CPU;
    if (text == "cuda") return Device::CUDA;
    throw SpecError("--device: expected auto, cpu or cuda, got '" + text + "'");
}

namespace {

bool looks_like_spec(const std::string &s) {
    return s.size() > 5 && s.substr(s.size() - 5) == ".json";
}

}  // namespace

Pipeline open_pipeline(const std::string &name_or_spec, Device device, const std::string &schedule_file) {
    if (looks_like_spec(name_or_spec) || name_or_spec.find('/') != std::string::npos) {
        CompileOptions options;
        options.schedule_file = schedule_file;
        options.device = device == Device::CUDA ? Device::CUDA : Device::CPU;
        return compile_spec(name_or_spec, options);
    }
    if (!schedule_file.empty())
        throw SpecError("--schedule applies to a spec file; linked pipeline '" + name_or_spec +
                        "' was built with its schedule");
    return Pipeline::open(name_or_spec, device);
}

Shape parse_shape(const std::string &text) {
    Shape s;
    std::stringstream ss(text);
    std::string part;
    while (std::getline(ss, part, ',')) {
        try {
            size_t used = 0;
            long long v = std::stoll(part, &used);
            if (used != part.size() || v <= 0) throw std::invalid_argument("");
            s.push_back(v);
        } catch (const std::exception &) {
            throw SpecError("--shape: expected N,H,W,C positive integers, got '" + text + "'");
        }
    }
    if (s.size() != 4) throw SpecError("--shape: expected N,H,W,C (4 sizes), got '" + text + "'");
    return s;
}

std::string images_dir() {
    std::vector<fs::path> candidates;
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share" / "convpipe" / "images");
#ifdef CONVPIPE_SOURCE_IMAGES
    candidates.push_back(CONVPIPE_SOURCE_IMAGES);
#endif
    for (const fs::path &c : candidates)
        if (fs::exists(c / "coffee.png")) return c.string();
    throw Error("cannot find the bundled photos (looked in share/convpipe/images next to the binary)");
}

namespace {

std::string shape_text(const Shape &s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
    return out + "]";
}

std::string describe_layer(const graph::Layer &l) {
    const graph::Conv2D &c = l.conv;
    std::ostringstream o;
    if (l.kind == graph::OpKind::Activation) return graph::activation_name(l.activation);
    if (l.kind != graph::OpKind::Conv2D) {
        for (size_t i = 0; i < l.inputs.size(); i++) o << (i ? ", " : "of ") << l.inputs[i];
        return o.str();
    }
    o << c.kernel_h << "x" << c.kernel_w;
    if (c.stride_h > 1 || c.stride_w > 1) o << "/" << c.stride_h << "x" << c.stride_w;
    if (c.dilation_h > 1 || c.dilation_w > 1) o << " dil " << c.dilation_h << "x" << c.dilation_w;
    o << " " << (c.padding == graph::Padding::Same ? "same" : "valid");
    if (c.groups > 1) o << " groups " << c.groups;
    o << " " << graph::activation_name(c.activation);
    if (!c.use_bias) o << " no-bias";
    if (c.kernel.at_run_time()) o << " (weights at run time)";
    return o.str();
}


void print_info(const Pipeline &p, const std::string &shape_text_arg) {
    const graph::Graph &g = p.graph();
    std::cout << "pipeline " << g.name << "  (" << p.description() << ")\n";
    for (const graph::Value &v : g.call_inputs()) std::cout << "  input  " << v.name << " " << shape_text(v.shape) << "\n";
    for (const graph::Layer &l : g.layers)
        std::cout << "  layer  " << std::left << std::setw(16) << l.name << " " << graph::op_name(l.kind) << " "
                  << l.in_channels << "->" << l.output.shape[3] << " " << describe_layer(l) << "  out "
                  << shape_text(l.output.shape) << "\n";
    for (const std::string &o : g.outputs) std::cout << "  output " << o << "\n";
    std::cout << "  parameters " << g.parameter_count() << "\n";
    if (!shape_text_arg.empty()) {
        Shape in = parse_shape(shape_text_arg);
        std::vector<Shape> shapes{in};
        for (size_t i = g.inputs.size(); i < g.call_inputs().size(); i++) shapes.push_back(g.call_inputs()[i].shape);
        auto outs = g.infer_output_shapes(shapes);
        std::cout << "  at input " << shape_text(in) << ": " << std::fixed << std::setprecision(3)
                  << g.flops(shapes) / 1e9 << " GFLOP";
        for (size_t i = 0; i < outs.size(); i++) std::cout << ", " << g.outputs[i] << " " << shape_text(outs[i]);
        std::cout << "\n";
    }
}

// Inputs of `run`: images are read in the colour the pipeline's input wants
// (gray for one channel, RGB for three).
std::vector<Tensor> load_inputs(const Pipeline &p, const std::vector<std::string> &paths) {
    std::vector<graph::Value> call = p.graph().call_inputs();
    std::vector<Tensor> out;
    for (size_t i = 0; i < paths.size(); i++) {
        std::string ext = fs::path(paths[i]).extension().string();
        for (char &c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        bool image = ext == ".png" || ext == ".jpg" || ext == ".jpeg";
        if (image && i < call.size() && call[i].shape.size() == 4) {
            int64_t channels = call[i].shape[3];
            out.push_back(load_image(paths[i], channels == 1 ? Color::Gray : channels == 3 ? Color::RGB : Color::Keep));
        } else {
            out.push_back(load_tensor(paths[i]));
        }
    }
    return out;
}

void save_outputs(const Pipeline &p, const std::vector<Tensor> &outs, const std::string &dest) {
    if (outs.size() == 1 && !fs::is_directory(dest)) {
        save_tensor(outs[0], dest);
        std::cout << "wrote " << dest << " " << shape_to_string(outs[0].shape()) << "\n";
        return;
    }
    // Several outputs: OUT is a folder, one .npy per output.
    fs::create_directories(dest);
    for (size_t i = 0; i < outs.size(); i++) {
        std::string path = (fs::path(dest) / (p.graph().outputs[i] + ".npy")).string();
        save_npy(outs[i], path);
        std::cout << "wrote " << path << " " << shape_to_string(outs[i].shape()) << "\n";
    }
}

}  // namespace

void add_commands(CLI::App &app, Commands &commands) {
    auto *list = app.add_subcommand("list", "Linked pipelines, their targets and schedule origin");
    list->callback([&commands] {
        commands.run = [] {
            auto all = linked_pipelines();
            std::sort(all.begin(), all.end(), [](auto &a, auto &b) { return a.name < b.name; });
            for (const LinkedPipeline &lp : all) {
                std::string targets;
                for (const std::string &t : lp.targets) targets += (targets.empty() ? "" : ",") + t;
                std::cout << std::left << std::setw(24) << lp.name << " " << std::setw(10) << targets
                          << " schedule: " << lp.schedule_origin << "\n";
            }
            return 0;
        };
    });

    struct SpecArgs { std::string notation, name = "layer"; };
    auto spec_args = std::make_shared<SpecArgs>();
    auto *spec = app.add_subcommand("spec", "Print the spec of one Conv2D layer written in one line, e.g. "
                                            "\"1x56x56x64->64 3x3\" or \"1x112x112x32->32 3x3 s2 dw\"");
    spec->add_option("layer", spec_args->notation,
                     "\"NxHxWxC->F KHxKW [sS] [dD] [gG|dw] [valid] [linear]\" (bench_layers' --layer)")
        ->required();
    spec->add_option("--name", spec_args->name, "the pipeline's name (default: layer)");
    spec->callback([&commands, spec_args] {
        commands.run = [spec_args] {
            std::cout << graph::conv_notation_spec(spec_args->notation, spec_args->name) << "\n";
            return 0;
        };
    });

    struct InfoArgs { std::string target, shape, schedule; };
    auto info_args = std::make_shared<InfoArgs>();
    auto *info = app.add_subcommand("info", "Layers, shapes, FLOPs, parameters and schedule of a pipeline");
    info->add_option("pipeline", info_args->target, "NAME of a linked pipeline, or SPEC.json")->required();
    info->add_option("--shape", info_args->shape, "N,H,W,C input shape for FLOPs and output shapes");
    info->add_option("--schedule", info_args->schedule, "schedule file (spec only)");
    info->callback([&commands, info_args] {
        commands.run = [info_args] {
            Pipeline p = open_pipeline(info_args->target, Device::CPU, info_args->schedule);
            print_info(p, info_args->shape);
            std::string sched = describe_schedule(p.graph(), info_args->schedule);
            if (!sched.empty()) {
                std::cout << "  schedule on this CPU (" << (info_args->schedule.empty() ? "heuristic defaults" : info_args->schedule)
                          << "):\n";
                std::istringstream lines(sched);
                for (std::string line; std::getline(lines, line);) std::cout << "    " << line << "\n";
            }
            return 0;
        };
    });

    struct RunArgs {
        std::string target, output, device = "auto", schedule;
        std::vector<std::string> inputs;
        int threads = 0;
    };
    auto run_args = std::make_shared<RunArgs>();
    auto *run = app.add_subcommand("run", "Run a pipeline on .npy or image inputs");
    run->add_option("pipeline", run_args->target, "NAME of a linked pipeline, or SPEC.json (compiled in-process)")
        ->required();
    run->add_option("--input,-i", run_args->inputs, "input file (.npy, .png, .jpg); repeat for several inputs")
        ->required();
    run->add_option("--output,-o", run_args->output, "output file (.npy, .png, .jpg), or a folder for several outputs")
        ->required();
    run->add_option("--device", run_args->device, "auto, cpu or cuda")->capture_default_str();
    run->add_option("--schedule", run_args->schedule, "schedule file to use instead of the heuristic (spec only)");
    run->add_option("--threads", run_args->threads, "worker threads (0: one per core)")->capture_default_str();
    run->callback([&commands, run_args] {
        commands.run = [run_args] {
            Device device = parse_device(run_args->device);
            if (run_args->threads < 0) throw SpecError("--threads: expected 0 or more");
            set_num_threads(run_args->threads);
            Pipeline p = open_pipeline(run_args->target, device, run_args->schedule);
            std::vector<Tensor> inputs = load_inputs(p, run_args->inputs);
            std::vector<Tensor> outs = p.run(inputs);
            save_outputs(p, outs, run_args->output);
            return 0;
        };
    });

    add_convolve_command(app, commands);
    add_demo_command(app, commands);
    add_bench_command(app, commands);
}

}  // namespace convpipe::cli
