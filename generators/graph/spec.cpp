// Spec (JSON) -> graph IR. Every check happens here, before anything reaches
// Halide, and every message names the file and the JSON path of the problem.
#include <cctype>
#include <functional>
#include <map>
#include <tuple>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "convpipe/error.h"
#include "convpipe/graph.h"
#include "convpipe/io.h"

namespace convpipe::graph {

using nlohmann::json;

namespace {

enum class Mode { UserSpec, Embedded };

std::string brief(const json &j) {
    std::string s = j.dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Parsing context: where we are, for messages.
struct Ctx {
    std::string source;
    std::string base_dir;
    Mode mode;

    [[noreturn]] void fail(const std::string &path, const std::string &what) const {
        throw SpecError(source + ": " + (path.empty() ? "" : path + ": ") + what);
    }
    [[noreturn]] void expected(const std::string &path, const std::string &what, const json &got) const {
        fail(path, "expected " + what + ", got " + brief(got));
    }
};

bool is_identifier(const std::string &s) {
    if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    return true;
}

bool is_positive_int(const json &j) {
    return j.is_number_integer() && j.get<int64_t>() > 0 && j.get<int64_t>() < (int64_t(1) << 31);
}

const json &require(const Ctx &ctx, const json &obj, const std::string &path, const char *key) {
    auto it = obj.find(key);
    if (it == obj.end()) ctx.fail(path, std::string("missing required key '") + key + "'");
    return *it;
}

std::string identifier(const Ctx &ctx, const json &j, const std::string &path) {
    if (!j.is_string() || !is_identifier(j.get<std::string>()))
        ctx.expected(path, "a C identifier (letters, digits, '_')", j);
    return j.get<std::string>();
}

int64_t positive(const Ctx &ctx, const json &j, const std::string &path) {
    if (!is_positive_int(j)) ctx.expected(path, "a positive integer", j);
    return j.get<int64_t>();
}

// Keras accepts an int or a pair for kernel_size, strides and dilation_rate.
std::pair<int, int> int_pair(const Ctx &ctx, const json &j, const std::string &path) {
    if (is_positive_int(j)) return {j.get<int>(), j.get<int>()};
    if (j.is_array() && j.size() == 2 && is_positive_int(j[0]) && is_positive_int(j[1]))
        return {j[0].get<int>(), j[1].get<int>()};
    ctx.expected(path, "2 positive integers", j);
}

void check_keys(const Ctx &ctx, const json &obj, const std::string &path, const std::set<std::string> &known,
                const std::set<std::string> &ignored = {}) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (known.count(it.key()) || ignored.count(it.key())) continue;
        std::string list;
        for (const std::string &k : known) list += (list.empty() ? "" : ", ") + k;
        ctx.fail(path, "unknown key '" + it.key() + "' (known keys: " + list + ")");
    }
}

Value parse_input(const Ctx &ctx, const json &j, const std::string &path) {
    if (!j.is_object()) ctx.expected(path, "an object with \"name\" and \"shape\"", j);
    check_keys(ctx, j, path, {"name", "shape"});
    Value v;
    v.name = identifier(ctx, require(ctx, j, path, "name"), path + ".name");
    const json &shape = require(ctx, j, path, "shape");
    std::string sp = path + ".shape";
    if (!shape.is_array() || shape.size() != 4)
        ctx.expected(sp, "[N, H, W, C] (4 entries, null for sizes decided at run time)", shape);
    for (size_t d = 0; d < 4; d++) {
        if (shape[d].is_null() && d < 3) {
            v.shape.push_back(-1);
        } else if (is_positive_int(shape[d])) {
            v.shape.push_back(shape[d].get<int64_t>());
        } else {
            ctx.expected(sp + "[" + std::to_string(d) + "]",
                         d == 3 ? "a positive channel count (C is always fixed)" : "a positive integer or null",
                         shape[d]);
        }
    }
    return v;
}

// Reads a rectangular nested array of numbers of exactly `shape` into `out`.
void read_nested(const Ctx &ctx, const json &j, const Shape &shape, size_t depth, const std::string &path,
                 std::vector<float> &out) {
    if (depth == shape.size()) {
        if (!j.is_number()) ctx.expected(path, "a number", j);
        double v = j.get<double>();
        if (!std::isfinite(v)) ctx.expected(path, "a finite number", j);
        out.push_back(static_cast<float>(v));
        return;
    }
    if (!j.is_array() || static_cast<int64_t>(j.size()) != shape[depth])
        ctx.expected(path, "an array of " + std::to_string(shape[depth]) + " entries (weight shape " +
                               shape_to_string(shape) + ")",
                     j);
    for (size_t i = 0; i < j.size(); i++)
        read_nested(ctx, j[i], shape, depth + 1, path + "[" + std::to_string(i) + "]", out);
}

Weight parse_weight(const Ctx &ctx, const json &j, const Shape &shape, const std::string &path) {
    Weight w;
    w.shape = shape;
    w.baked = true;
    if (j.is_object() && ctx.mode == Mode::Embedded && j.contains("baked")) return w;
    if (j.is_object()) {
        check_keys(ctx, j, path, {"npy"});
        const json &file = require(ctx, j, path, "npy");
        if (!file.is_string()) ctx.expected(path + ".npy", "a file name", file);
        std::filesystem::path p = file.get<std::string>();
        if (p.is_relative()) p = std::filesystem::path(ctx.base_dir) / p;
        Tensor t;
        try {
            t = load_npy(p.string());
        } catch (const Error &e) {
            ctx.fail(path + ".npy", e.what());
        }
        if (t.shape() != shape)
            ctx.fail(path + ".npy", p.string() + " has shape " + shape_to_string(t.shape()) + ", expected " +
                                        shape_to_string(shape));
        for (float v : t.values())
            if (!std::isfinite(v)) ctx.fail(path + ".npy", p.string() + " holds a NaN or infinity");
        w.value = std::move(t);
        return w;
    }
    std::vector<float> values;
    read_nested(ctx, j, shape, 0, path, values);
    w.value = Tensor(shape, std::move(values));
    return w;
}

// "activation" (and leaky_relu's "alpha") of a Conv2D or Activation layer.
void parse_activation(const Ctx &ctx, const json &j, const std::string &path, Activation &activation, float &alpha) {
    if (j.contains("activation") && !j["activation"].is_null()) {
        const json &a = j["activation"];
        auto act = a.is_string() ? activation_from_name(a.get<std::string>()) : std::nullopt;
        if (!act) {
            std::string list;
            for (int i = 0; i <= static_cast<int>(Activation::Abs); i++)
                list += std::string(i ? ", " : "") + activation_name(static_cast<Activation>(i));
            ctx.fail(path + ".activation", "unknown activation " + brief(a) + " (known: " + list + ", silu)");
        }
        activation = *act;
    }
    if (j.contains("alpha")) {
        if (!j["alpha"].is_number() || !std::isfinite(j["alpha"].get<double>()))
            ctx.expected(path + ".alpha", "a number", j["alpha"]);
        if (activation != Activation::LeakyRelu) ctx.fail(path + ".alpha", "only leaky_relu takes alpha");
        alpha = j["alpha"].get<float>();
    }
}

// Keys Keras writes into a layer config that do not change inference.
const std::set<std::string> kKerasIgnored = {
    "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
    "activity_regularizer", "kernel_constraint", "bias_constraint", "trainable", "dtype"};

Layer parse_conv2d(const Ctx &ctx, const json &j, const std::string &path, const Value &in) {
    check_keys(ctx, j, path,
               {"type", "name", "inputs", "filters", "kernel_size", "strides", "padding", "dilation_rate",
                "groups", "activation", "alpha", "use_bias", "kernel", "bias", "data_format"},
               kKerasIgnored);
    Layer l;
    l.kind = OpKind::Conv2D;
    Conv2D &c = l.conv;
    c.filters = positive(ctx, require(ctx, j, path, "filters"), path + ".filters");
    std::tie(c.kernel_h, c.kernel_w) = int_pair(ctx, require(ctx, j, path, "kernel_size"), path + ".kernel_size");
    if (j.contains("strides")) std::tie(c.stride_h, c.stride_w) = int_pair(ctx, j["strides"], path + ".strides");
    if (j.contains("dilation_rate"))
        std::tie(c.dilation_h, c.dilation_w) = int_pair(ctx, j["dilation_rate"], path + ".dilation_rate");
    if ((c.stride_h > 1 || c.stride_w > 1) && (c.dilation_h > 1 || c.dilation_w > 1))
        ctx.fail(path, "strides > 1 together with dilation_rate > 1 is not supported (as in Keras)");
    if (j.contains("padding")) {
        const json &p = j["padding"];
        std::string s = p.is_string() ? p.get<std::string>() : "";
        for (char &ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (s == "valid") c.padding = Padding::Valid;
        else if (s == "same") c.padding = Padding::Same;
        else ctx.expected(path + ".padding", "\"valid\" or \"same\"", p);
    }
    if (j.contains("data_format") && j["data_format"] != "channels_last")
        ctx.expected(path + ".data_format", "\"channels_last\" (tensors are NHWC)", j["data_format"]);
    if (j.contains("groups")) c.groups = positive(ctx, j["groups"], path + ".groups");
    if (j.contains("use_bias")) {
        if (!j["use_bias"].is_boolean()) ctx.expected(path + ".use_bias", "true or false", j["use_bias"]);
        c.use_bias = j["use_bias"].get<bool>();
    }
    parse_activation(ctx, j, path, c.activation, c.alpha);

    l.in_channels = in.shape[3];
    if (l.in_channels % c.groups != 0 || c.filters % c.groups != 0)
        ctx.fail(path + ".groups", "groups (" + std::to_string(c.groups) + ") must divide both the input channels (" +
                                       std::to_string(l.in_channels) + ") and filters (" +
                                       std::to_string(c.filters) + ")");

    Shape kshape{c.kernel_h, c.kernel_w, l.in_channels / c.groups, c.filters};
    if (j.contains("kernel")) c.kernel = parse_weight(ctx, j["kernel"], kshape, path + ".kernel");
    else c.kernel.shape = kshape;
    if (c.use_bias) {
        if (j.contains("bias")) c.bias = parse_weight(ctx, j["bias"], {c.filters}, path + ".bias");
        else c.bias.shape = {c.filters};
    } else if (j.contains("bias")) {
        ctx.fail(path + ".bias", "given, but use_bias is false");
    }

    auto size = [&](int64_t n, SpatialWindow w) { return n < 0 ? int64_t(-1) : w.output_size(n); };
    SpatialWindow wh{c.kernel_h, c.stride_h, c.dilation_h, c.padding};
    SpatialWindow ww{c.kernel_w, c.stride_w, c.dilation_w, c.padding};
    l.output.shape = {in.shape[0], size(in.shape[1], wh), size(in.shape[2], ww), c.filters};
    if (l.output.shape[1] == 0 || l.output.shape[2] == 0)
        ctx.fail(path, "input '" + in.name + "' of shape " + shape_to_string(in.shape) + " is smaller than the " +
                           std::to_string(wh.extent()) + "x" + std::to_string(ww.extent()) + " 'valid' window");
    return l;
}

struct LayerType {
    const char *name;
    OpKind kind;
    const char *default_name;   // Keras's automatic name
};
const LayerType kLayerTypes[] = {
    {"Conv2D", OpKind::Conv2D, "conv2d"},
    {"Activation", OpKind::Activation, "activation"},
    {"Add", OpKind::Add, "add"},
    {"ChannelMean", OpKind::ChannelMean, "channel_mean"},
    {"MinMaxNormalization", OpKind::MinMaxNormalization, "min_max_normalization"},
};

Graph parse(const json &root, const Ctx &ctx) {
    if (!root.is_object()) ctx.expected("", "a JSON object with \"name\", \"input\" and \"layers\"", root);
    check_keys(ctx, root, "", {"name", "input", "inputs", "layers", "outputs"}, {"description"});
    Graph g;
    g.source = ctx.source;
    g.name = identifier(ctx, require(ctx, root, "", "name"), "name");

    if (root.contains("input") == root.contains("inputs"))
        ctx.fail("", "give exactly one of \"input\" (one object) or \"inputs\" (a list)");
    if (root.contains("input")) {
        g.inputs.push_back(parse_input(ctx, root["input"], "input"));
    } else {
        const json &ins = root["inputs"];
        if (!ins.is_array() || ins.empty()) ctx.expected("inputs", "a non-empty list of inputs", ins);
        for (size_t i = 0; i < ins.size(); i++)
            g.inputs.push_back(parse_input(ctx, ins[i], "inputs[" + std::to_string(i) + "]"));
    }

    std::set<std::string> names;
    for (const Value &v : g.inputs)
        if (!names.insert(v.name).second) ctx.fail("inputs", "duplicate name '" + v.name + "'");

    const json &layers = require(ctx, root, "", "layers");
    if (!layers.is_array() || layers.empty()) ctx.expected("layers", "a non-empty list of layers", layers);
    std::map<std::string, int> type_counts;
    for (size_t i = 0; i < layers.size(); i++) {
        std::string path = "layers[" + std::to_string(i) + "]";
        const json &lj = layers[i];
        if (!lj.is_object()) ctx.expected(path, "a layer object", lj);
        const json &type = require(ctx, lj, path, "type");
        const LayerType *lt = nullptr;
        for (const LayerType &t : kLayerTypes)
            if (type == t.name) lt = &t;
        if (!lt) {
            std::string list;
            for (const LayerType &t : kLayerTypes) list += std::string(list.empty() ? "" : ", ") + t.name;
            ctx.fail(path + ".type", "unknown layer type " + brief(type) + " (known: " + list + ")");
        }

        // Keras's automatic names: conv2d, conv2d_1, ...
        int n = type_counts[lt->default_name]++;
        std::string name = n == 0 ? lt->default_name : std::string(lt->default_name) + "_" + std::to_string(n);
        if (lj.contains("name")) name = identifier(ctx, lj["name"], path + ".name");
        if (names.count(name)) ctx.fail(path + ".name", "duplicate name '" + name + "'");

        std::vector<std::string> inputs;
        if (lj.contains("inputs")) {
            const json &li = lj["inputs"];
            bool ok = li.is_array() && !li.empty();
            for (size_t k = 0; ok && k < li.size(); k++) ok = li[k].is_string();
            if (!ok || (lt->kind == OpKind::Add ? li.size() < 2 : li.size() != 1))
                ctx.expected(path + ".inputs", lt->kind == OpKind::Add ? "a list of two or more input names"
                                                                        : std::string("a list with one input name (") +
                                                                              lt->name + " takes one input)",
                             li);
            for (size_t k = 0; k < li.size(); k++) {
                std::string src = li[k].get<std::string>();
                if (!names.count(src))
                    ctx.fail(path + ".inputs[" + std::to_string(k) + "]",
                             "'" + src + "' is not a graph input or an earlier layer");
                inputs.push_back(src);
            }
        } else if (lt->kind == OpKind::Add) {
            ctx.fail(path, "missing required key 'inputs' (Add takes two or more)");
        } else {
            inputs.push_back(g.layers.empty() ? g.inputs[0].name : g.layers.back().name);
        }
        names.insert(name);
        const Value &in = g.value(inputs[0]);
        Layer l;
        switch (lt->kind) {
        case OpKind::Conv2D: l = parse_conv2d(ctx, lj, path, in); break;
        case OpKind::Activation:
            check_keys(ctx, lj, path, {"type", "name", "inputs", "activation", "alpha"}, {"trainable", "dtype"});
            require(ctx, lj, path, "activation");
            parse_activation(ctx, lj, path, l.activation, l.alpha);
            l.output.shape = in.shape;
            break;
        case OpKind::Add:
            check_keys(ctx, lj, path, {"type", "name", "inputs"}, {"trainable", "dtype"});
            l.output.shape = in.shape;
            for (size_t k = 1; k < inputs.size(); k++) {
                const Shape &other = g.value(inputs[k]).shape;
                bool ok = other[3] == in.shape[3];
                for (int d = 0; d < 3; d++) ok = ok && (other[d] < 0 || in.shape[d] < 0 || other[d] == in.shape[d]);
                if (!ok)
                    ctx.fail(path + ".inputs", "'" + inputs[0] + "' has shape " + shape_to_string(in.shape) + " but '" +
                                                   inputs[k] + "' has " + shape_to_string(other) +
                                                   " (Add needs equal shapes)");
            }
            break;
        case OpKind::ChannelMean:
            check_keys(ctx, lj, path, {"type", "name", "inputs"});
            l.output.shape = {in.shape[0], in.shape[1], in.shape[2], 1};
            break;
        case OpKind::MinMaxNormalization:
            check_keys(ctx, lj, path, {"type", "name", "inputs"});
            l.output.shape = in.shape;
            break;
        }
        l.kind = lt->kind;
        l.input_shape = in.shape;
        l.in_channels = in.shape[3];
        l.name = name;
        l.inputs = inputs;
        l.output.name = name;
        g.layers.push_back(std::move(l));
    }

    if (root.contains("outputs")) {
        const json &outs = root["outputs"];
        if (!outs.is_array() || outs.empty()) ctx.expected("outputs", "a non-empty list of layer names", outs);
        std::set<std::string> seen;
        for (size_t i = 0; i < outs.size(); i++) {
            std::string path = "outputs[" + std::to_string(i) + "]";
            if (!outs[i].is_string() || !g.find_layer(outs[i].get<std::string>()))
                ctx.expected(path, "the name of a layer", outs[i]);
            if (!seen.insert(outs[i].get<std::string>()).second) ctx.fail(path, "listed twice");
            g.outputs.push_back(outs[i].get<std::string>());
        }
    } else {
        g.outputs.push_back(g.layers.back().name);
    }
    return g;
}

json parse_text(const std::string &text, const std::string &source) {
    try {
        return json::parse(text);
    } catch (const json::parse_error &e) {
        // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        std::string what = e.what();
        auto pos = what.find("] ");
        throw SpecError(source + ": invalid JSON: " + (pos == std::string::npos ? what : what.substr(pos + 2)));
    }
}

}  // namespace

Graph parse_spec(const std::string &text, const std::string &source, const std::string &base_dir) {
    return parse(parse_text(text, source), Ctx{source, base_dir, Mode::UserSpec});
}

Graph parse_embedded(const std::string &text, const std::string &source) {
    return parse(parse_text(text, source), Ctx{source, "", Mode::Embedded});
}

Graph load_spec(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw SpecError(path + ": cannot open spec file");
    if (std::filesystem::is_directory(path)) throw SpecError(path + ": is a directory, not a spec file");
    std::stringstream text;
    text << f.rdbuf();
    std::string base = std::filesystem::path(path).parent_path().string();
    return parse_spec(text.str(), std::filesystem::path(path).filename().string(), base.empty() ? "." : base);
}

namespace {

json weight_json(const Weight &w, bool include_weights) {
    if (!include_weights) return json{{"baked", true}};
    // Nested array in the weight's shape.
    const Values &v = w.value.values();
    size_t pos = 0;
    std::function<json(size_t)> nest = [&](size_t depth) -> json {
        if (depth == w.shape.size()) return v[pos++];
        json a = json::array();
        for (int64_t i = 0; i < w.shape[depth]; i++) a.push_back(nest(depth + 1));
        return a;
    };
    return nest(0);
}

}  // namespace

std::string to_json(const Graph &g, bool include_weights) {
    json root;
    root["name"] = g.name;
    json ins = json::array();
    for (const Value &v : g.inputs) {
        json shape = json::array();
        for (size_t d = 0; d < v.shape.size(); d++)
            shape.push_back(v.shape[d] < 0 ? json(nullptr) : json(v.shape[d]));
        ins.push_back({{"name", v.name}, {"shape", shape}});
    }
    root["inputs"] = ins;
    json layers = json::array();
    for (const Layer &l : g.layers) {
        const Conv2D &c = l.conv;
        if (l.kind != OpKind::Conv2D) {
            json lj = {{"type", op_name(l.kind)}, {"name", l.name}, {"inputs", l.inputs}};
            if (l.kind == OpKind::Activation) {
                lj["activation"] = activation_name(l.activation);
                if (l.activation == Activation::LeakyRelu) lj["alpha"] = l.alpha;
            }
            layers.push_back(lj);
            continue;
        }
        json lj = {{"type", op_name(l.kind)},
                   {"name", l.name},
                   {"inputs", l.inputs},
                   {"filters", c.filters},
                   {"kernel_size", {c.kernel_h, c.kernel_w}},
                   {"strides", {c.stride_h, c.stride_w}},
                   {"dilation_rate", {c.dilation_h, c.dilation_w}},
                   {"padding", c.padding == Padding::Same ? "same" : "valid"},
                   {"groups", c.groups},
                   {"use_bias", c.use_bias},
                   {"activation", activation_name(c.activation)}};
        if (c.activation == Activation::LeakyRelu) lj["alpha"] = c.alpha;
        if (c.kernel.baked) lj["kernel"] = weight_json(c.kernel, include_weights);
        if (c.use_bias && c.bias.baked) lj["bias"] = weight_json(c.bias, include_weights);
        layers.push_back(lj);
    }
    root["layers"] = layers;
    root["outputs"] = g.outputs;
    return root.dump();
}

}  // namespace convpipe::graph
