#pragma once
// Shared by the test suites: where the data is, and how outputs are compared.
#include <filesystem>
#include <string>
#include <vector>

#include "convpipe/graph.h"
#include "convpipe/tensor.h"

namespace convpipe::tests {

std::filesystem::path source_dir();           // the repository root
std::filesystem::path golden_root();          // tests/golden
std::filesystem::path specs_root();           // tests/specs

// Case folders under tests/golden, sorted.
std::vector<std::string> golden_cases();
// expected.npy, or expected_0.npy, expected_1.npy, ... for several outputs.
std::vector<Tensor> load_expected(const std::filesystem::path &dir);

// Max abs error <= rel * max(1, max|expected|); names the worst element.
void expect_close(const Tensor &actual, const Tensor &expected, const std::string &what, double rel = 1e-4);

// Random data inputs (NHWC, given shape) followed by random run-time weights,
// in g.call_inputs() order.
std::vector<Tensor> random_call_inputs(const graph::Graph &g, const Shape &data_shape, uint32_t seed);

// The smallest H (and W) for which every layer of g has at least one output.
int64_t smallest_valid_size(const graph::Graph &g);

// Runs `program args` through the shell, stdout and stderr together.
struct CommandResult {
    int status = -1;      // exit status, -1 when it did not exit normally
    std::string output;
};
CommandResult run_command(const std::string &program, const std::string &args);

}  // namespace convpipe::tests
