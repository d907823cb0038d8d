// The registry of linked pipelines. Generated libraries register from static
// initialisers, so the table is a function-local static (initialised on first
// use, whatever the order of initialisers).
#include "registry_table.h"

#include <algorithm>
#include <mutex>

namespace convpipe::detail {

Registry &registry() {
    static Registry r;
    return r;
}

bool register_pipeline(const Registration &reg) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.entries.push_back(Registry::Entry{&reg, nullptr});
    return true;
}

const Registry::Entry *find_registration(const std::string &name) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (auto &e : r.entries)
        if (name == e.reg->name) {
            // The graph is parsed once, on first use.
            if (!e.graph) e.graph = std::make_shared<const graph::Graph>(
                              graph::parse_embedded(e.reg->graph_json, std::string("pipeline '") + name + "'"));
            return &e;
        }
    return nullptr;
}

std::vector<std::string> registered_names() {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    std::vector<std::string> names;
    for (auto &e : r.entries) names.push_back(e.reg->name);
    return names;
}

}  // namespace convpipe::detail

namespace convpipe {

std::vector<LinkedPipeline> linked_pipelines() {
    detail::Registry &r = detail::registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    std::vector<LinkedPipeline> out;
    for (auto &e : r.entries) {
        LinkedPipeline lp;
        lp.name = e.reg->name;
        for (int i = 0; i < e.reg->variant_count; i++) {
            std::string family = e.reg->variants[i].family;
            if (std::find(lp.targets.begin(), lp.targets.end(), family) == lp.targets.end()) lp.targets.push_back(family);
        }
        lp.schedule_origin = e.reg->schedule_origin;
        out.push_back(lp);
    }
    return out;
}

}  // namespace convpipe
