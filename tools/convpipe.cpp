// convpipe: the command line. Exit status 0 on success, 2 for bad usage or a
// bad spec, 1 for a failure at run time; messages go to stderr.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "commands.h"
#include "convpipe/compiler.h"
#include "convpipe/convpipe.h"

namespace fs = std::filesystem;

int main(int argc, char **argv) {
    CLI::App app{"convpipe: convolution pipelines compiled ahead of time with Halide"};
    app.require_subcommand(1);
    convpipe::cli::Commands commands;
    convpipe::cli::add_commands(app, commands);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    try {
        return commands.run();
    } catch (const convpipe::SpecError &e) {
        std::cerr << "convpipe: " << e.what() << "\n";
        return 2;
    } catch (const convpipe::Error &e) {
        std::cerr << "convpipe: " << e.what() << "\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "convpipe: " << e.what() << "\n";
        return 1;
    }
}
