#pragma once
// Every failure convpipe reports is a convpipe::Error whose message a user can
// act on. SpecError marks problems in a pipeline spec or in how a command was
// used (the CLI exits with 2 for those, 1 for every other Error).
#include <stdexcept>
#include <string>

namespace convpipe {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string &message) : std::runtime_error(message) {}
};

class SpecError : public Error {
public:
    explicit SpecError(const std::string &message) : Error(message) {}
};

}  // namespace convpipe
