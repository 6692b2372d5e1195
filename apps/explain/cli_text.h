// Small text helpers of the explain command: joining lists for messages, splitting flag lists, lower case.
#pragma once

#include <string>
#include <vector>

namespace engine::explain::cli {

// "a, b, c".
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");
// The non-empty items of "a,b,,c" split at `sep`.
std::vector<std::string> split(const std::string& text, char sep);
std::string lower(std::string s);

}  // namespace engine::explain::cli
