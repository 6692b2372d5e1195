// libFuzzer's entry point: the target named by $FUZZ_TARGET (image, idx, safetensors, model_config). Built and
// run by .ci/fuzz with clang's -fsanitize=fuzzer,address,undefined.
#include <cstdio>
#include <cstdlib>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const engine::fuzz::Target* target = [] {
        const char* name = std::getenv("FUZZ_TARGET");
        const engine::fuzz::Target* t = name ? engine::fuzz::find_target(name) : nullptr;
        if (t == nullptr) {
            std::fprintf(stderr, "fuzz: set FUZZ_TARGET to one of image, idx, safetensors, model_config\n");
            std::abort();
        }
        return t;
    }();
    target->run(data, size);
    return 0;
}
