// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Replays a fuzz target's stored corpus without libFuzzer (for ctest with gcc):
// every file in the folders given on the command line goes through the target once.
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
    size_t count = 0;
    for (int i = 1; i < argc; ++i) {
        DIR* d = opendir(argv[i]);
        if (!d) {
            std::fprintf(stderr, "cannot open %s\n", argv[i]);
            return (1);
        }
        while (dirent* e = readdir(d)) {
            std::string name = e->d_name;
            if (name == "." || name == "..") {
                continue;
            }
            std::ifstream in(std::string(argv[i]) + "/" + name, std::ios::binary);
            std::vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
            ++count;
        }
        closedir(d);
    }
    std::printf("replayed %zu inputs\n", count);
    return (count ? 0 : 1);
}
