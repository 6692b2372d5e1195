// Checks of encoded images before stb_image decodes them (see image_checks.h for why each exists).
#include "models/data/image_checks.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "models/data/image.h"

namespace engine::data::detail {
namespace {

// Where a JPEG's data starts after its SOI marker, or 0 when the bytes are not a JPEG to stb_image (which
// accepts any number of 0xFF bytes before the D8).
size_t jpeg_start(const std::string& bytes) {
    size_t pos = 0;
    if (bytes.empty() || static_cast<uint8_t>(bytes[0]) != 0xFF) return 0;
    while (pos < bytes.size() && static_cast<uint8_t>(bytes[pos]) == 0xFF) ++pos;
    return pos < bytes.size() && static_cast<uint8_t>(bytes[pos]) == 0xD8 ? pos + 1 : 0;
}

bool is_png(const std::string& bytes) {
    return bytes.size() >= 8 && std::memcmp(bytes.data(), "\x89PNG\r\n\x1a\n", 8) == 0;
}

// PNG's big-endian 32-bit fields: the declared size, chunk lengths.
uint32_t big_endian32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string too_large(uint64_t height, uint64_t width) {
    return "declared size " + std::to_string(height) + "x" + std::to_string(width) + " over the limit of " +
           std::to_string(kMaxImageSide) + " pixels on a side";
}

// PNG and BMP headers declare the size at fixed places; stb's own check would be reported as "unknown image
// type" (stbi_info tries every format and keeps the last reason).
std::string header_problem(const std::string& bytes) {
    const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
    if (bytes.size() >= 24 && is_png(bytes)) {
        const uint64_t w = big_endian32(b + 16), h = big_endian32(b + 20);
        if (h > static_cast<uint64_t>(kMaxImageSide) || w > static_cast<uint64_t>(kMaxImageSide))
            return too_large(h, w);
    }
    if (bytes.size() >= 26 && b[0] == 'B' && b[1] == 'M') {
        int32_t w = 0, h = 0;
        std::memcpy(&w, b + 18, 4);  // little-endian, as the format (and x86)
        std::memcpy(&h, b + 22, 4);
        const int64_t aw = std::abs(int64_t{w}), ah = std::abs(int64_t{h});
        if (ah > kMaxImageSide || aw > kMaxImageSide)
            return too_large(static_cast<uint64_t>(ah), static_cast<uint64_t>(aw));
    }
    return "";
}

// A scan header (SOS, `pos` at its length) that selects a Huffman table no DHT has defined, in the tables
// stb decodes that scan with: a baseline scan uses each component's DC and AC tables; a progressive scan its
// DC tables when it starts at coefficient 0 (and is not a refinement, which reads raw bits), else AC tables.
std::string scan_table_problem(const uint8_t* b, size_t n, size_t pos, bool progressive,
                               const bool (&defined)[2][4]) {
    auto at = [&](size_t i) -> uint32_t { return i < n ? b[i] : 0u; };
    const uint32_t components = at(pos + 2);
    const size_t after = pos + 3 + 2 * size_t{components};  // spectral start, end, successive approximation
    const bool dc_scan = at(after) == 0, refinement = (at(after + 2) >> 4) != 0;
    const bool uses_dc = !progressive || (dc_scan && !refinement), uses_ac = !progressive || !dc_scan;
    for (uint32_t c = 0; c < components; ++c) {
        const uint32_t tables = at(pos + 4 + 2 * size_t{c}), dc = tables >> 4, ac = tables & 15;
        if (dc > 3 || ac > 3) continue;  // stb rejects the scan itself
        const bool missing_dc = uses_dc && !defined[0][dc], missing_ac = uses_ac && !defined[1][ac];
        if (missing_dc || missing_ac)
            return std::string("corrupt JPEG (a scan uses Huffman table ") + (missing_dc ? "DC " : "AC ") +
                   std::to_string(missing_dc ? dc : ac) + ", which no DHT segment defines)";
    }
    return "";
}

// Walks a JPEG's markers the way stb_image does (segments by their length, entropy-coded data after each
// scan up to the next marker) and returns what is wrong with it, or "" when stb may decode it:
//  - every Huffman table (DHT) must hold at most 256 symbols: Debian's stb_image 2.27 writes past its tables
//    otherwise (nothings/stb#1289, fixed upstream in 2.28), so such a file must never reach it;
//  - every Huffman table a scan decodes with must have been defined by a DHT before it: stb 2.27 leaves the
//    tables of its (uninitialised) decoder state as they are and indexes its symbol array with whatever they
//    hold (an out-of-bounds read the fuzzer found; upstream 2.28 bounds-checks the index instead);
//  - the file must have an end-of-image marker after its last scan: stb pads a truncated JPEG's missing
//    data with zeros and reports success.
std::string jpeg_problem(const std::string& bytes, size_t start) {
    const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t n = bytes.size();
    auto at = [&](size_t i) -> uint32_t { return i < n ? b[i] : 0u; };  // stb reads zeros past the end
    bool scanned = false, progressive = false;
    bool defined[2][4] = {};  // [DC, AC][table] defined by a DHT so far
    size_t pos = start;
    while (true) {
        while (pos < n && b[pos] != 0xFF) ++pos;  // stb skips padding between segments
        while (pos < n && b[pos] == 0xFF) ++pos;  // fill bytes
        if (pos >= n) return "truncated JPEG (no end-of-image marker)";
        const uint8_t marker = b[pos++];
        if (marker == 0xD9) return scanned ? "" : "corrupt JPEG (end of image before any scan)";
        if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no segment
        const size_t length = (at(pos) << 8) | at(pos + 1);
        if (length < 2 || pos + length > n) return "truncated or corrupt JPEG (segment overruns the file)";
        const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (frame) {  // SOFn: precision, height, width
            const uint32_t h = (at(pos + 3) << 8) | at(pos + 4), w = (at(pos + 5) << 8) | at(pos + 6);
            if (h > kMaxImageSide || w > kMaxImageSide) return too_large(h, w);
            progressive = marker == 0xC2;
        }
        if (marker == 0xC4) {
            int64_t left = static_cast<int64_t>(length) - 2;
            size_t p = pos + 2;
            while (left > 0) {
                const uint32_t q = at(p);
                if ((q >> 4) > 1 || (q & 15) > 3) break;  // stb rejects the table itself
                int64_t symbols = 0;
                for (size_t i = 1; i <= 16; ++i) symbols += at(p + i);
                if (symbols > 256)
                    return "corrupt JPEG (Huffman table of " + std::to_string(symbols) + " symbols, at most 256)";
                defined[q >> 4][q & 15] = true;
                p += 17 + static_cast<size_t>(symbols);
                left -= 17 + symbols;
            }
        }
        if (marker == 0xDA) {
            if (std::string problem = scan_table_problem(b, n, pos, progressive, defined); !problem.empty())
                return problem;
        }
        pos += length;
        if (marker == 0xDA) {  // entropy-coded data: 0xFF is stuffed as FF 00; RSTn markers stay inside it
            scanned = true;
            while (pos < n) {
                if (b[pos] != 0xFF) {
                    ++pos;
                    continue;
                }
                size_t q = pos + 1;
                while (q < n && b[q] == 0xFF) ++q;
                if (q < n && (b[q] == 0x00 || (b[q] >= 0xD0 && b[q] <= 0xD7))) {
                    pos = q + 1;
                    continue;
                }
                break;  // the marker that ends the scan
            }
        }
    }
}

// PNG: the chunk sequence up to IEND, each chunk complete, and no critical chunk stb does not know.
std::string png_problem(const std::string& bytes) {
    const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
    const size_t n = bytes.size();
    size_t pos = 8;
    while (true) {
        if (pos + 8 > n) return "truncated PNG (no IEND chunk)";
        const uint64_t length = big_endian32(b + pos);
        std::string type(bytes, pos + 4, 4);
        for (char& c : type)
            if (!std::isalpha(static_cast<unsigned char>(c))) c = '?';
        if (length > 0x7FFFFFFFu) return "corrupt PNG (chunk " + type + " of " + std::to_string(length) + " bytes)";
        if (pos + 12 + length > n) return "truncated PNG (chunk " + type + " runs past the end of the file)";
        if (type == "IEND") return "";
        const bool critical = !(b[pos + 4] & 0x20);
        if (critical && type != "IHDR" && type != "PLTE" && type != "IDAT" && type != "CgBI")
            return "corrupt PNG (unknown critical chunk " + type + ")";
        pos += 12 + length;
    }
}

}  // namespace

std::string encoded_image_problem(const std::string& bytes) {
    if (const size_t start = jpeg_start(bytes)) return jpeg_problem(bytes, start);
    if (std::string problem = header_problem(bytes); !problem.empty()) return problem;
    if (is_png(bytes)) return png_problem(bytes);
    return "";
}

std::optional<std::string> png_without_empty_idat(const std::string& bytes) {
    if (!is_png(bytes)) return std::nullopt;
    const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
    std::string kept(bytes, 0, 8);
    bool dropped = false;
    size_t pos = 8;
    while (pos + 12 <= bytes.size()) {  // png_problem has checked the chunk sequence up to IEND
        const size_t length = big_endian32(b + pos);
        const bool empty_idat = length == 0 && std::memcmp(b + pos + 4, "IDAT", 4) == 0;
        if (empty_idat) {
            dropped = true;
        } else {
            kept.append(bytes, pos, 12 + length);
        }
        const bool end = std::memcmp(b + pos + 4, "IEND", 4) == 0;
        pos += 12 + length;
        if (end) break;
    }
    if (!dropped) return std::nullopt;
    kept.append(bytes, std::min(pos, bytes.size()), std::string::npos);
    return kept;
}

}  // namespace engine::data::detail
