// One Conv2D layer in one line, as bench_layers' tables and --layer write it.
#include "convpipe/notation.h"

#include <cstdlib>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "convpipe/error.h"

namespace convpipe::graph {

namespace {

const char *const kNotation = "NxHxWxC->F KHxKW [sS] [dD] [gG|dw] [valid] [linear]";

nlohmann::json notation_spec(const std::string &notation, const std::string &name) {
    auto bad = [&notation](const std::string &why) -> void {
        throw SpecError("\"" + notation + "\": " + why + "; expected \"" + kNotation + "\"");
    };
    auto number = [&bad](const std::string &text) {
        char *end = nullptr;
        const long v = std::strtol(text.c_str(), &end, 10);
        if (text.empty() || *end || v < 1 || v > (1L << 20)) bad("'" + text + "' is not a positive size");
        return v;
    };
    std::istringstream words(notation);
    std::string shape, window;
    if (!(words >> shape >> window)) bad("too few fields");
    std::smatch m;
    const std::regex shape_form(R"(([^x]*)x([^x]*)x([^x]*)x([^x-]*)->(.*))"), window_form(R"(([^x]*)x([^x]*))");
    if (shape.find("->") == std::string::npos) bad("no '->F' after the input shape");
    if (!std::regex_match(shape, m, shape_form)) bad("the input shape needs four sizes, NxHxWxC");
    const long n = number(m[1]), h = number(m[2]), w = number(m[3]), c = number(m[4]), filters = number(m[5]);
    if (!std::regex_match(window, m, window_form)) bad("the window must be KHxKW");
    const long kh = number(m[1]), kw = number(m[2]);
    long stride = 1, dilation = 1, groups = 1;
    std::string padding = "same", activation = "relu";
    for (std::string t; words >> t;) {
        if (t == "dw") groups = c;
        else if (t == "valid") padding = "valid";
        else if (t == "linear") activation = "linear";
        else if (t.size() > 1 && t[0] == 's') stride = number(t.substr(1));
        else if (t.size() > 1 && t[0] == 'd') dilation = number(t.substr(1));
        else if (t.size() > 1 && t[0] == 'g') groups = number(t.substr(1));
        else bad("unknown field '" + t + "'");
    }
    const nlohmann::json conv = {{"type", "Conv2D"},
                                 {"name", "conv"},
                                 {"filters", filters},
                                 {"kernel_size", {kh, kw}},
                                 {"strides", {stride, stride}},
                                 {"dilation_rate", {dilation, dilation}},
                                 {"groups", groups},
                                 {"padding", padding},
                                 {"activation", activation}};
    return {{"name", name}, {"input", {{"name", "x"}, {"shape", {n, h, w, c}}}}, {"layers", {conv}}};
}

}  // namespace

Graph parse_conv_notation(const std::string &notation, const std::string &name) {
    // The spec parser checks what the notation cannot (groups dividing the
    // channels, a window that fits, ...).
    return parse_spec(notation_spec(notation, name).dump(), "\"" + notation + "\"", ".");
}

std::string conv_notation_spec(const std::string &notation, const std::string &name) {
    const std::string text = notation_spec(notation, name).dump(2);
    parse_spec(text, "\"" + notation + "\"", ".");
    return text;
}

std::string conv_notation(const Layer &conv, const Shape &input) {
    const Conv2D &c = conv.conv;
    std::ostringstream o;
    o << input.at(0) << "x" << input.at(1) << "x" << input.at(2) << "x" << input.at(3) << "->" << c.filters << " "
      << c.kernel_h << "x" << c.kernel_w;
    if (c.stride_h != 1 || c.stride_w != 1) o << " s" << c.stride_h;
    if (c.dilation_h != 1 || c.dilation_w != 1) o << " d" << c.dilation_h;
    if (c.groups != 1) o << (c.groups == conv.in_channels ? " dw" : " g" + std::to_string(c.groups));
    if (c.padding == Padding::Valid) o << " valid";
    if (c.activation == Activation::Linear) o << " linear";
    return o.str();
}

}  // namespace convpipe::graph
