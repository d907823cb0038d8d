#pragma once
// The subcommands of the convpipe tool: each registers its options on the
// CLI11 app and sets `run` to what it does.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "convpipe/convpipe.h"

namespace convpipe::cli {

struct Commands {
    std::function<int()> run;
};

void add_commands(CLI::App &app, Commands &commands);

// Shared helpers.
// NAME of a linked pipeline, or a path to a spec (compiled in-process).
Pipeline open_pipeline(const std::string &name_or_spec, Device device, const std::string &schedule_file);
Device parse_device(const std::string &text);
// "N,H,W,C" -> a shape; SpecError (exit 2) when it is not four positive sizes.
Shape parse_shape(const std::string &text);
// A folder with the bundled photos (pipelines/images), found next to the
// installed binary or in the source tree it was built from.
std::string images_dir();

void add_demo_command(CLI::App &app, Commands &commands);
void add_convolve_command(CLI::App &app, Commands &commands);
void add_bench_command(CLI::App &app, Commands &commands);

}  // namespace convpipe::cli
