// libFuzzer target for the image decoding path (our structural checks, then stb_image). Not part of the CMake
// build; run it by hand after touching models/data/image*.cpp or upgrading stb (libclang-rt-14-dev):
//   D=/tmp/decode_fuzz && mkdir -p $D/corpus && cd /path/to/repo && F="-g -O1 -std=c++17 -I. \
//     -fsanitize=fuzzer,address,undefined -fno-sanitize=shift-base,shift-exponent,nonnull-attribute"
//   clang++ $F tests/datasets/fuzz/decode_image_fuzzer.cpp models/data/image.cpp models/data/image_checks.cpp \
//     models/data/stb_impl.cpp build/libengine.a -fopenmp -lz -ldnnl -o $D/fuzz
//   ENGINE_FUZZ_SEEDS=$D/corpus $D/fuzz $D/corpus -max_total_time=600   (the variable: write seed files first)
// Any crash, sanitizer report or error message with a newline is a finding. The excluded UBSan checks are
// known, memory-safe stb 2.27 behaviour on corrupt data: shifts of negative values and by a negative bit
// count in the JPEG bit reader (garbage bits, no memory access), memcpy(NULL, ..., 0) for empty PNG chunks.
#include <stb/stb_image_write.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "models/data/image.h"
#include "runtime/settings.h"

// Small PNG, JPEG and BMP files of every channel count, written to $ENGINE_FUZZ_SEEDS when it is set.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const std::string dir = engine::setting(&engine::Settings::fuzz_seeds);
    if (dir.empty()) return 0;
    auto append = [](void* context, void* data, int size) {
        static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
    };
    int k = 0;
    for (int channels = 1; channels <= 4; ++channels)
        for (int side : {1, 7, 33}) {
            engine::data::Image image(side, side + 3, channels);
            for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>((i * 7919) >> 3);
            std::string files[3];
            files[0] = engine::data::encode_png(image);
            stbi_write_jpg_to_func(append, &files[1], side + 3, side, channels, image.pixels.data(),
                                   50 + 10 * channels);
            stbi_write_bmp_to_func(append, &files[2], side + 3, side, channels, image.pixels.data());
            for (const std::string& bytes : files) {
                const std::string path = dir + "/seed" + std::to_string(k++);
                if (FILE* f = std::fopen(path.c_str(), "wb")) {
                    std::fwrite(bytes.data(), 1, bytes.size(), f);
                    std::fclose(f);
                }
            }
        }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    try {
        const engine::data::Image image = engine::data::decode_image(bytes, "fuzz", static_cast<int64_t>(size % 5));
        if (image.pixels.size() != static_cast<size_t>(image.height * image.width * image.channels)) std::abort();
    } catch (const engine::Error& e) {
        if (std::strchr(e.what(), '\n') != nullptr) std::abort();
    }
    return 0;
}
