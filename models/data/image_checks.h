// Structural checks of encoded images that run before stb_image sees the bytes (internal to models/data).
#pragma once

#include <optional>
#include <string>

namespace engine::data::detail {

// "" when stb_image may be given `bytes`, else the reason (one line, no source name). Checks the declared
// size of PNG, BMP and JPEG files against kMaxImageSide, walks PNG chunks and JPEG markers as stb does, and
// refuses what stb_image 2.27 would mishandle: JPEG Huffman tables of more than 256 symbols (an
// out-of-bounds write, nothings/stb#1289), JPEGs without their end-of-image marker (stb pads the missing
// data with zeros and reports success), PNGs cut before their IEND chunk, and unknown critical PNG chunks
// (stb reports those through a static buffer that concurrent decoders would race on).
std::string encoded_image_problem(const std::string& bytes);

// A PNG (that encoded_image_problem accepted) without its zero-length IDAT chunks, or nullopt when it has none.
// They carry no data and are legal, but stb_image 2.27 copies a zero-length IDAT that comes first through a
// null buffer (memcpy(NULL, p, 0): undefined behaviour that UBSan reports).
std::optional<std::string> png_without_empty_idat(const std::string& bytes);

}  // namespace engine::data::detail
