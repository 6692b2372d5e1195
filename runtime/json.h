// Reading and writing JSON text through one compiled copy of nlohmann's parser and serializer: both are templates
// that cost seconds of compile time in every file that calls them. Errors are nlohmann::json::exception as usual.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace engine {

nlohmann::json parse_json(std::string_view text);
// nlohmann::json::dump: compact without `indent`, else pretty-printed with that many spaces per level.
std::string dump_json(const nlohmann::json& value, int indent = -1);

}  // namespace engine
