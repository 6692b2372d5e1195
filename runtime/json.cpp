#include "runtime/json.h"

namespace engine {

nlohmann::json parse_json(std::string_view text) { return nlohmann::json::parse(text.begin(), text.end()); }

std::string dump_json(const nlohmann::json& value, int indent) { return value.dump(indent); }

}  // namespace engine
