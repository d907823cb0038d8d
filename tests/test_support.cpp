#include "test_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <sys/wait.h>
#include <cmath>

#include "convpipe/error.h"
#include "convpipe/io.h"
#include "reference/reference.h"

namespace fs = std::filesystem;

namespace convpipe::tests {

fs::path source_dir() { return fs::path(CONVPIPE_SOURCE_DIR); }
fs::path golden_root() { return source_dir() / "tests" / "golden"; }
fs::path specs_root() { return source_dir() / "tests" / "specs"; }

std::vector<std::string> golden_cases() {
    std::vector<std::string> names;
    if (fs::is_directory(golden_root()))
        for (const auto &entry : fs::directory_iterator(golden_root()))
            if (entry.is_directory() && fs::exists(entry.path() / "spec.json"))
                names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<Tensor> load_expected(const fs::path &dir) {
    if (fs::exists(dir / "expected.npy")) return {load_npy((dir / "expected.npy").string())};
    std::vector<Tensor> out;
    for (int i = 0; fs::exists(dir / ("expected_" + std::to_string(i) + ".npy")); ++i)
        out.push_back(load_npy((dir / ("expected_" + std::to_string(i) + ".npy")).string()));
    return out;
}

void expect_close(const Tensor &actual, const Tensor &expected, const std::string &what, double rel) {
    ASSERT_EQ(shape_to_string(actual.shape()), shape_to_string(expected.shape())) << what << ": shape";
    double max_expected = 0, max_err = 0;
    int64_t worst = 0;
    for (int64_t i = 0; i < expected.size(); ++i) {
        max_expected = std::max(max_expected, double(std::abs(expected.data()[i])));
        const double err = std::abs(double(actual.data()[i]) - expected.data()[i]);
        if (!(err <= max_err)) { max_err = err; worst = i; }  // NaN counts as worst
    }
    const double tolerance = rel * std::max(1.0, max_expected);
    EXPECT_LE(max_err, tolerance) << what << ": max abs error " << max_err << " at flat index " << worst
                                  << " (got " << actual.data()[worst] << ", expected " << expected.data()[worst]
                                  << ")";
}

std::vector<Tensor> random_call_inputs(const graph::Graph &g, const Shape &data_shape, uint32_t seed) {
    std::vector<Tensor> inputs;
    std::vector<graph::Value> call = g.call_inputs();
    for (size_t i = 0; i < call.size(); i++) {
        Shape s = i < g.inputs.size() ? Shape{data_shape[0], data_shape[1], data_shape[2], call[i].shape[3]}
                                      : call[i].shape;
        inputs.push_back(reference::random_tensor(s, seed + 101 * static_cast<uint32_t>(i)));
    }
    return inputs;
}

int64_t smallest_valid_size(const graph::Graph &g) {
    for (int64_t size = 1; size < 64; size++) {
        std::vector<Shape> shapes;
        for (const graph::Value &v : g.call_inputs())
            shapes.push_back(v.shape[0] == -1 || v.shape.size() == 4 && v.shape[1] == -1
                                 ? Shape{1, size, size, v.shape[3]}
                                 : v.shape);
        try {
            g.infer_output_shapes(shapes);
            return size;
        } catch (const Error &) {
        }
    }
    return 64;
}

CommandResult run_command(const std::string &program, const std::string &args) {
    std::string cmd = program + " " + args + " 2>&1";
    CommandResult r;
    FILE *pipe = popen(cmd.c_str(), "r");
    if (!pipe) return r;
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
    int status = pclose(pipe);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace convpipe::tests
