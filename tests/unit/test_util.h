// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_TEST_UTIL_H
#define PHONEPROV_TEST_UTIL_H

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <stdlib.h>

#ifndef PHONEPROV_SOURCE_DIR
#error "PHONEPROV_SOURCE_DIR must name the source tree"
#endif

namespace phoneprov {
namespace test {

/// @brief The source tree (for profiles/ and tests/data/).
inline std::string sourceDir() {
    return (PHONEPROV_SOURCE_DIR);
}

/// @brief The shipped vendor profiles.
inline std::string profilesDir() {
    return (sourceDir() + "/profiles");
}

/// @brief A folder made with mkdtemp, removed (without following symlinks) at scope exit.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl = std::string(base && *base ? base : "/tmp") + "/phoneprov-ut-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (::mkdtemp(buf.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = buf.data();
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return (path_); }
    std::string operator/(const std::string& rel) const { return (path_ + "/" + rel); }

private:
    std::string path_;
};

/// @brief Writes a whole file (creating parent folders).
inline void writeFile(const std::string& path, const std::string& content) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}

/// @brief Reads a whole file; "" when absent.
inline std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return (ss.str());
}

/// @brief Names of the entries of a folder (without . and ..), sorted.
inline std::vector<std::string> listDir(const std::string& path) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
        out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return (out);
}

/// @brief Undoes C escapes: \0, \n, \r, \t, \\, \", \xHH, \ooo.
inline std::string cUnescape(const std::string& in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\' || i + 1 == in.size()) {
            out.push_back(in[i]);
            continue;
        }
        char c = in[++i];
        switch (c) {
        case 'n':
            out.push_back('\n');
            break;
        case 'r':
            out.push_back('\r');
            break;
        case 't':
            out.push_back('\t');
            break;
        case 'x': {
            size_t n = 0;
            int v = 0;
            while (n < 2 && i + 1 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1]))) {
                v = v * 16 + std::stoi(std::string(1, in[++i]), nullptr, 16);
                ++n;
            }
            out.push_back(static_cast<char>(v));
            break;
        }
        default:
            if (c >= '0' && c <= '7') {
                int v = c - '0';
                for (int n = 0; n < 2 && i + 1 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '7'; ++n) {
                    v = v * 8 + (in[++i] - '0');
                }
                out.push_back(static_cast<char>(v));
            } else {
                out.push_back(c);
            }
        }
    }
    return (out);
}

/// @brief One row of a test data table.
struct TsvRow {
    int line_;
    std::vector<std::string> fields;  ///< without the trailing "# comment" field
    std::string comment;
};

/// @brief Reads a TAB-separated table; blank lines and lines starting with '#' are skipped.
inline std::vector<TsvRow> readTsv(const std::string& path) {
    std::vector<TsvRow> rows;
    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty() || line[0] == '#') {
            continue;
        }
        TsvRow row{n, {}, ""};
        std::stringstream ss(line);
        std::string field;
        while (std::getline(ss, field, '\t')) {
            if (!field.empty() && field[0] == '#') {
                row.comment = field;
                break;
            }
            row.fields.push_back(field);
        }
        rows.push_back(std::move(row));
    }
    return (rows);
}

/// @brief Counts the occurrences of a needle in a haystack.
inline size_t countOf(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) {
        ++n;
    }
    return (n);
}

}  // namespace test
}  // namespace phoneprov

#endif  // PHONEPROV_TEST_UTIL_H
