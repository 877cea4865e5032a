// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_TOOLS_ARGS_H
#define PHONEPROV_TOOLS_ARGS_H

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace phoneprov {
namespace tools {

/// @brief A usage error (exit code 1).
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief `--name value` and `--flag` arguments, checked against what a command takes.
class Args {
public:
    /// @param withValue options that take a value; @param flags options that do not.
    Args(int argc, char** argv, const std::set<std::string>& withValue,
         const std::set<std::string>& flags) {
        for (int i = 1; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) != 0) {
                positional_.push_back(a);
                continue;
            }
            std::string name = a.substr(2);
            std::string value;
            size_t eq = name.find('=');
            bool hasValue = false;
            if (eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                hasValue = true;
            }
            if (flags.count(name)) {
                values_[name] = "1";
            } else if (withValue.count(name)) {
                if (!hasValue) {
                    if (i + 1 >= argc) {
                        throw UsageError("--" + name + " needs a value");
                    }
                    value = argv[++i];
                }
                values_[name] = value;
            } else {
                throw UsageError("unknown option --" + name);
            }
        }
    }
    bool has(const std::string& n) const { return (values_.count(n) != 0); }
    std::string get(const std::string& n, const std::string& def = "") const {
        auto it = values_.find(n);
        return (it == values_.end() ? def : it->second);
    }
    const std::vector<std::string>& positional() const { return (positional_); }

private:
    std::map<std::string, std::string> values_;
    std::vector<std::string> positional_;
};

}  // namespace tools
}  // namespace phoneprov

#endif  // PHONEPROV_TOOLS_ARGS_H
