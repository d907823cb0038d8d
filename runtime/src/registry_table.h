#pragma once
// Internal: the registry's table (runtime/src only).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "convpipe/graph.h"
#include "convpipe/pipeline.h"
#include "convpipe/registry.h"

namespace convpipe::detail {

struct Registry {
    struct Entry {
        const Registration *reg;
        std::shared_ptr<const graph::Graph> graph;
    };
    std::mutex mutex;
    std::vector<Entry> entries;
};

Registry &registry();
const Registry::Entry *find_registration(const std::string &name);
std::vector<std::string> registered_names();

}  // namespace convpipe::detail
