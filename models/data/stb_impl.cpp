// The one translation unit that compiles stb_image and stb_image_write. Only the PNG, JPEG and BMP decoders
// are built (the others have a history of memory-safety bugs we do not need), no stdio entry points (files
// are read by image.cpp with a size cap), and images larger than kMaxImageSide on either side are refused by
// the decoders themselves.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS 16384
// stb's internal asserts are off in every build type, as they are in Release: its JPEG Huffman decoder asserts
// on some corrupt files (found by .ci/fuzz) and then rejects them through a bounds check, so a Debug or
// sanitizer build must not abort where the product returns an error.
#define STBI_ASSERT(x) ((void)sizeof(x))
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

#include "models/data/image.h"

static_assert(STBI_MAX_DIMENSIONS == engine::data::kMaxImageSide, "keep stb's limit and ours in step");
