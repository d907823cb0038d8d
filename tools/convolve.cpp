// convpipe convolve A.npy V.npy --mode full|same|valid [--boundary fill|wrap|symm]
//                   [--fillvalue X] [--correlate] --output OUT.npy
//
// 1-D arrays follow numpy.convolve; 2-D arrays follow scipy.signal.convolve2d
// (--correlate: correlate2d). Options that numpy.convolve has no equivalent
// for are refused for 1-D arrays rather than silently ignored.
#include <iostream>
#include <memory>

#include "commands.h"
#include "convpipe/classic.h"

namespace convpipe::cli {

namespace {

struct ConvolveArgs {
    std::string first, second, output;
    std::string mode = "full";
    std::string boundary = "fill";
    float fillvalue = 0.0f;
    bool correlate = false;
};

int run_convolve(const ConvolveArgs &args, bool boundary_given, bool fillvalue_given) {
    const Mode mode = mode_from_name(args.mode);
    const Boundary boundary = boundary_from_name(args.boundary);
    const Tensor a = load_npy(args.first);
    const Tensor v = load_npy(args.second);
    auto is_1d = [](const Tensor &t) { return t.rank() <= 1; };

    Tensor out;
    if (is_1d(a) && is_1d(v)) {
        if (boundary_given || fillvalue_given)
            throw SpecError("--boundary and --fillvalue apply to 2-D arrays (scipy.signal.convolve2d); "
                            "1-D arrays follow numpy.convolve, which pads with zeros");
        if (args.correlate)
            throw SpecError("--correlate applies to 2-D arrays (scipy.signal.correlate2d); "
                            "for 1-D arrays reverse the second array instead");
        out = convolve(a, v, mode);
    } else if (a.rank() == 2 && v.rank() == 2) {
        if (fillvalue_given && boundary != Boundary::Fill)
            throw SpecError("--fillvalue applies only to --boundary fill");
        out = args.correlate ? correlate2d(a, v, mode, boundary, args.fillvalue)
                             : convolve2d(a, v, mode, boundary, args.fillvalue);
    } else {
        throw SpecError("the arrays must be both 1-D or both 2-D, got shapes " + shape_to_string(a.shape()) + " (" +
                        args.first + ") and " + shape_to_string(v.shape()) + " (" + args.second + ")");
    }
    save_npy(out, args.output);
    std::cout << "wrote " << args.output << " " << shape_to_string(out.shape()) << "\n";
    return 0;
}

}  // namespace

void add_convolve_command(CLI::App &app, Commands &commands) {
    auto args = std::make_shared<ConvolveArgs>();
    auto *cmd = app.add_subcommand(
        "convolve", "numpy.convolve (1-D arrays) or scipy.signal.convolve2d/correlate2d (2-D arrays) on .npy files");
    cmd->add_option("a", args->first, "first array (.npy): the signal or image")->required();
    cmd->add_option("v", args->second, "second array (.npy): the filter")->required();
    cmd->add_option("--mode", args->mode, "full, same or valid")->capture_default_str();
    auto *boundary = cmd->add_option("--boundary", args->boundary, "fill, wrap or symm (2-D only)")
                         ->capture_default_str();
    auto *fillvalue = cmd->add_option("--fillvalue", args->fillvalue, "value past the edges with --boundary fill (2-D only)")
                          ->capture_default_str();
    cmd->add_flag("--correlate", args->correlate, "scipy.signal.correlate2d instead of convolve2d (2-D only)");
    cmd->add_option("--output,-o", args->output, "result (.npy, float32)")->required();
    cmd->callback([&commands, args, boundary, fillvalue] {
        const bool boundary_given = boundary->count() > 0, fillvalue_given = fillvalue->count() > 0;
        commands.run = [args, boundary_given, fillvalue_given] {
            return run_convolve(*args, boundary_given, fillvalue_given);
        };
    });
}

}  // namespace convpipe::cli
