// convpipe demo: the seed notebook replayed on a bundled photo.
#include <filesystem>
#include <iostream>

#include "commands.h"

namespace fs = std::filesystem;

namespace convpipe::cli {

void add_demo_command(CLI::App &app, Commands &commands) {
    auto dir = std::make_shared<std::string>("demo-out");
    auto *demo = app.add_subcommand("demo", "Run the notebook's filters on a bundled photo and write pictures");
    demo->add_option("--output,-o", *dir, "folder for the pictures")->capture_default_str();
    demo->callback([&commands, dir] {
        commands.run = [dir] {
            fs::create_directories(*dir);
            std::string photo = (fs::path(images_dir()) / "coffee.png").string();
            Tensor gray = load_image(photo, Color::Gray);
            std::cout << "input " << photo << " " << shape_to_string(gray.shape()) << " (grayscale)\n";
            Pipeline edges = Pipeline::open("edges");
            Tensor out = edges.run({gray}).at(0);
            std::string path = (fs::path(*dir) / "edges_horizontal.png").string();
            save_image(out, path, Scale::MinMax);
            std::cout << "wrote " << path << " " << shape_to_string(out.shape()) << "\n";
            return 0;
        };
    });
}

}  // namespace convpipe::cli
