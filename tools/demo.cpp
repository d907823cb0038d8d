// convpipe demo: the seed notebook replayed on a bundled photo.
//
// The notebook convolves 1-D arrays with numpy, then a photo with scipy and
// Keras filters, and looks at every result as a picture. Here the 1-D part
// runs through convpipe::convolve and every image filter is a spec in
// pipelines/ compiled ahead of time; each result becomes a PNG, and
// index.html puts them side by side with the input and a caption.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>
#include <sstream>

#include "commands.h"
#include "convpipe/classic.h"

namespace fs = std::filesystem;

namespace convpipe::cli {

namespace {

// How a result is drawn. Like matplotlib's imshow with automatic limits:
// Greys_r maps the minimum to black and the maximum to white (light on
// dark); Greys is the reverse (dark on light).
enum class Colormap { GreysR, Greys };

struct Panel {
    std::string file;      // PNG in the output folder
    std::string title;
    std::string caption;   // HTML
};

struct Section {
    std::string title;
    std::string text;      // HTML
    std::vector<Panel> panels;
};

std::string format_values(const Tensor &t) {
    std::ostringstream o;
    o << "[";
    for (int64_t i = 0; i < t.size(); i++) o << (i ? " " : "") << t.data()[i];
    o << "]";
    return o.str();
}

std::string html_escape(const std::string &s) {
    std::string out;
    for (char c : s) {
        if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '&') out += "&amp;";
        else out += c;
    }
    return out;
}

class Demo {
public:
    explicit Demo(fs::path dir) : dir_(std::move(dir)) {}

    // Writes one result as a PNG and returns its panel.
    Panel picture(const Tensor &t, const std::string &file, const std::string &title, const std::string &caption,
                  Colormap map = Colormap::GreysR) {
        Tensor shown = t;
        if (map == Colormap::Greys)
            for (float &v : shown.values()) v = -v;   // MinMax of -v: the maximum becomes black
        save_image(shown, (dir_ / file).string(), Scale::MinMax);
        std::cout << "   wrote " << (dir_ / file).string() << "\n";
        pictures_++;
        return {file, title, caption};
    }

    int pictures() const { return pictures_; }
    void add(Section s) { sections_.push_back(std::move(s)); }

    void write_index(const std::string &input_file, const std::string &intro) const {
        std::ofstream f(dir_ / "index.html");
        f << "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          << "<title>convpipe demo: the convolution notebook, compiled</title>\n<style>\n"
          << "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1500px;padding:0 1em;color:#222}\n"
          << "h1{margin-bottom:.2em} section{margin:2.2em 0} h2{border-bottom:1px solid #ccc;padding-bottom:.2em}\n"
          << ".row{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}\n"
          << "figure{margin:0;flex:1 1 300px;max-width:400px} figure img{width:100%;border:1px solid #bbb;"
          << "image-rendering:auto} figcaption{font-size:.88em;line-height:1.35;margin-top:.3em}\n"
          << "figcaption b{display:block;font-size:1.05em} figure.input figcaption b{color:#555}\n"
          << "code,pre{background:#f4f4f4;border-radius:3px} code{padding:0 .25em} pre{padding:.6em;overflow:auto}\n"
          << "</style></head><body>\n<h1>convpipe demo</h1>\n<p>" << intro << "</p>\n";
        for (const Section &s : sections_) {
            f << "<section>\n<h2>" << s.title << "</h2>\n<p>" << s.text << "</p>\n";
            if (!s.panels.empty()) {
                f << "<div class=\"row\">\n<figure class=\"input\"><img src=\"" << input_for(s) << "\" alt=\"input\">"
                  << "<figcaption><b>input</b>" << (input_for(s) == input_file ? "the photo" : "the grayscale photo")
                  << "</figcaption></figure>\n";
                for (const Panel &p : s.panels)
                    f << "<figure><img src=\"" << p.file << "\" alt=\"" << p.title << "\"><figcaption><b>" << p.title
                      << "</b>" << p.caption << "</figcaption></figure>\n";
                f << "</div>\n";
            }
            f << "</section>\n";
        }
        f << "</body></html>\n";
        if (!f) throw Error((dir_ / "index.html").string() + ": cannot write");
    }

    // Sections on the colour photo show it as their input; the rest show
    // the grayscale image they were computed from.
    std::string input_for(const Section &s) const { return colour_sections_.count(s.title) ? "input.png" : "grayscale.png"; }
    void mark_colour_input(const std::string &title) { colour_sections_.insert(title); }

private:
    fs::path dir_;
    std::vector<Section> sections_;
    std::set<std::string> colour_sections_;
    int pictures_ = 0;
};

Tensor first_output(const std::string &pipeline, const Tensor &input) {
    return Pipeline::open(pipeline).run({input}).at(0);
}

int run_demo(const std::string &out_dir) {
    const auto start = std::chrono::steady_clock::now();
    fs::create_directories(out_dir);
    const fs::path dir(out_dir);
    Demo demo(dir);
    const std::string photo_path = (fs::path(images_dir()) / "coffee.png").string();

    // --- 1. numpy.convolve ------------------------------------------------------
    std::cout << "1. numpy.convolve on 1-D arrays (convpipe::convolve)\n";
    const Tensor x({7}, {0, 0, 1, 1, 1, 0, 0});
    const Tensor taps({3}, {1, 0, 1});
    std::ostringstream one_d;
    auto show = [&](const std::string &call, const Tensor &result) {
        std::cout << "   " << std::left << std::setw(24) << call << " = " << format_values(result) << "\n";
        one_d << std::left << std::setw(24) << call << " = " << format_values(result) << "\n";
    };
    std::cout << "   x = " << format_values(x) << "\n";
    one_d << "x = " << format_values(x) << "\n";
    show("convolve(x, x)", convolve(x, x, Mode::Full));
    show("convolve(x, x, 'same')", convolve(x, x, Mode::Same));
    show("convolve(x, [1, 0, 1])", convolve(x, taps, Mode::Full));
    demo.add({"1. Convolution in one dimension",
              "<code>numpy.convolve</code> slides the flipped filter along the signal and sums the products. "
              "<i>full</i> keeps every overlap (7 + 7 - 1 = 13 values), <i>same</i> keeps the centred 7; the "
              "filter <code>[1, 0, 1]</code> adds each sample's two neighbours, so the block of ones spreads out."
              "<pre>" + html_escape(one_d.str()) + "</pre>",
              {}});

    // --- 2. grayscale and normalisation -----------------------------------------
    std::cout << "2. grayscale (channel mean) and min-max normalisation (pipeline grayscale)\n";
    const Tensor photo = load_image(photo_path, Color::RGB);
    std::cout << "   photo " << photo_path << " " << shape_to_string(photo.shape()) << "\n";
    save_image(photo, (dir / "input.png").string(), Scale::Clamp);
    const Tensor gray = first_output("grayscale", photo);   // [1, H, W, 1] in [0, 1]
    const auto [lo, hi] = std::minmax_element(gray.values().begin(), gray.values().end());
    std::cout << "   grayscale " << shape_to_string(gray.shape()) << ", min " << *lo << ", max " << *hi << "\n";
    Section s2{"2. Grayscale and normalisation",
               "The colour photo becomes one channel, the mean of red, green and blue; min-max normalisation then "
               "stretches it to exactly [0, 1]. Every filter below works on this image.",
               {demo.picture(gray, "grayscale.png", "grayscale, normalised",
                             "<code>ChannelMean</code> then <code>MinMaxNormalization</code>: "
                             "(x - min) / (max - min)")}};
    demo.mark_colour_input(s2.title);
    demo.add(s2);

    // --- 3. edges, their magnitudes, a blur ---------------------------------------
    std::cout << "3. edge filters and a 10x10 box blur (pipelines edges_signed, edges_abs, edges_abs_sum, box_blur)\n";
    std::vector<Tensor> signed_edges = Pipeline::open("edges_signed").run({gray});
    std::vector<Tensor> abs_edges = Pipeline::open("edges_abs").run({gray});
    const Tensor abs_sum = first_output("edges_abs_sum", gray);
    const Tensor blur = first_output("box_blur", gray);
    demo.add({"3. Edges and blur",
              "2x2 kernels compare neighbouring pixels: flat regions give 0, edges give large values of either "
              "sign. Signed maps are drawn like matplotlib's <code>Greys_r</code>: most negative black, zero mid-grey, "
              "most positive white. Taking absolute values keeps edges of both signs; adding the two filters "
              "before <code>abs</code> finds diagonal structure too. A 10x10 box kernel averages instead of "
              "differencing, so it blurs.",
              {demo.picture(signed_edges[0], "edges_horizontal.png", "horizontal edges",
                            "kernel <code>[[-1, -1], [1, 1]]</code>: the row below minus this row"),
               demo.picture(signed_edges[1], "edges_vertical.png", "vertical edges",
                            "kernel <code>[[1, -1], [1, -1]]</code>: this column minus the one to the right"),
               demo.picture(abs_edges[0], "edges_horizontal_abs.png", "|horizontal edges|",
                            "<code>activation=\"abs\"</code> on the horizontal filter"),
               demo.picture(abs_edges[1], "edges_vertical_abs.png", "|vertical edges|",
                            "<code>activation=\"abs\"</code> on the vertical filter"),
               demo.picture(abs_sum, "edges_abs_sum.png", "|horizontal + vertical|",
                            "both filters, <code>Add</code>, then <code>Activation(\"abs\")</code>"),
               demo.picture(blur, "box_blur.png", "10x10 box blur", "kernel: 10x10 of <code>1/100</code>")}});

    // --- 4. Conv2D by hand, and the flip --------------------------------------------
    std::cout << "4. Conv2D 'same' 2x2 by hand, and convolve2d's flipped kernel\n";
    const int64_t H = gray.dim(1), W = gray.dim(2);
    const Tensor gray2d = gray.reshaped({H, W});
    const float kernel[2][2] = {{-1, -1}, {1, 1}};
    double by_hand = 0;
    std::ostringstream terms;
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < 2; k++) {
            by_hand += kernel[j][k] * gray2d.data()[j * W + k];
            terms << (j || k ? " + " : "") << "(" << kernel[j][k] << ")*" << gray2d.data()[j * W + k];
        }
    const float conv2d_first = signed_edges[0].data()[0];
    const Tensor scipy_valid = convolve2d(gray2d, Tensor({2, 2}, {-1, -1, 1, 1}), Mode::Valid);
    std::ostringstream four;
    four << std::setprecision(6);
    four << "Conv2D 'same' output[0, 0]               = " << conv2d_first << "\n"
         << "by hand: sum(window * kernel)            = " << terms.str() << " = " << by_hand << "\n"
         << "convolve2d(image, kernel, 'valid')[0, 0] = " << scipy_valid.data()[0]
         << "   (scipy semantics: same window, kernel flipped, so the sign changes)\n";
    std::istringstream four_lines(four.str());
    for (std::string line; std::getline(four_lines, line);) std::cout << "   " << line << "\n";
    demo.add({"4. What a Conv2D layer computes",
              "A Keras <code>Conv2D</code> layer with kernel <code>[[-1, -1], [1, 1]]</code> multiplies each 2x2 "
              "window of the image by the kernel and sums: its first output pixel equals the sum worked out by hand "
              "over the top-left window. <code>scipy.signal.convolve2d</code> flips the kernel first (true "
              "convolution), so on the same window it gives the same magnitude with the opposite sign; Keras's "
              "Conv2D, like most deep-learning libraries, does not flip (it is a correlation)."
              "<pre>" + html_escape(four.str()) + "</pre>",
              {}});

    // --- 5. relu: direction-selective edges ----------------------------------------
    std::cout << "5. direction-selective edges with relu (pipeline edges_relu)\n";
    std::vector<Tensor> relu_edges = Pipeline::open("edges_relu").run({gray});
    demo.add({"5. Direction-selective edges",
              "With <code>activation=\"relu\"</code> negative responses become 0, so each filter keeps one direction "
              "of change only; the flipped kernel finds the opposite edges.",
              {demo.picture(relu_edges[0], "edges_relu_dark_to_light.png", "dark above, light below",
                            "kernel <code>[[-1, -1], [1, 1]]</code>, relu"),
               demo.picture(relu_edges[1], "edges_relu_light_to_dark.png", "light above, dark below",
                            "kernel <code>[[1, 1], [-1, -1]]</code>, relu")}});

    // --- 6. colour detectors ---------------------------------------------------------
    std::cout << "6. red, green and blue detectors on the colour photo (pipeline color_detectors)\n";
    std::vector<Tensor> detectors = Pipeline::open("color_detectors").run({photo});
    const char *names[3] = {"red", "green", "blue"};
    Section s6{"6. Colour detectors",
               "Three Conv2D filters on the colour photo, each 3x3x3: -1.5 on every weight except +1.5 on its own "
               "channel, then a sigmoid. A pixel whose chosen channel outweighs the other two scores near 1 "
               "(drawn dark, matplotlib's <code>Greys</code>). The red cup and saucer, and the reddish-brown table and coffee, "
               "score high for red; nothing in the photo is green or blue enough to score high for those. Black "
               "pixels score 0.5 everywhere: all weights times 0.",
               {}};
    for (int c = 0; c < 3; c++)
        s6.panels.push_back(demo.picture(detectors[c], std::string(names[c]) + "_detector.png",
                                         std::string(names[c]) + " detector",
                                         std::string("+1.5 on the ") + names[c] +
                                             " channel, -1.5 on the others; sigmoid",
                                         Colormap::Greys));
    demo.mark_colour_input(s6.title);
    demo.add(s6);

    demo.write_index("input.png",
                     "The convolution notebook replayed with convpipe on <code>coffee.png</code>: every image filter "
                     "is a pipeline spec compiled ahead of time with Halide; the 1-D examples run through "
                     "<code>convpipe::convolve</code> (numpy.convolve semantics).");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "wrote " << (dir / "index.html").string() << " (open it in a browser), input.png and "
              << demo.pictures() << " result pictures in " << dir.string()
              << " (" << std::fixed << std::setprecision(2) << seconds << " s)\n";
    return 0;
}

}  // namespace

void add_demo_command(CLI::App &app, Commands &commands) {
    auto dir = std::make_shared<std::string>("demo-out");
    auto *demo = app.add_subcommand("demo", "Replay the convolution notebook on a bundled photo: pictures and index.html");
    demo->add_option("--output,-o", *dir, "folder for the pictures and index.html")->capture_default_str();
    demo->callback([&commands, dir] { commands.run = [dir] { return run_demo(*dir); }; });
}

}  // namespace convpipe::cli
