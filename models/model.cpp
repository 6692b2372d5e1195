// ModelConfig (defaults, validation, JSON) and the make_model factory.
#include "models/model.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "models/fcn.h"
#include "models/lenet.h"
#include "models/unet.h"
#include "models/vgg.h"
#include "runtime/allocator.h"
#include "runtime/json.h"

namespace engine::models {
namespace {

using nlohmann::json;

enum class Family { UNet, LeNet, VGG, FCN };

// A name or key from the user's JSON, quoted for a one-line message: control characters escaped.
std::string quoted(const std::string& text) {
    std::string out = "'";
    for (unsigned char c : text) {
        if (c >= 0x20 && c != 0x7f) {
            out += static_cast<char>(c);
        } else {
            static const char* hex = "0123456789abcdef";
            out += c == '\n' ? std::string("\\n") : std::string("\\x") + hex[c >> 4] + hex[c & 15];
        }
    }
    return out + "'";
}

Family family_of(const std::string& name) {
    if (name == "unet") return Family::UNet;
    if (name == "lenet") return Family::LeNet;
    if (name == "fcn32s") return Family::FCN;
    for (const std::string& n : model_names())
        if (n == name && name.compare(0, 3, "vgg") == 0) return Family::VGG;
    std::string known;
    for (const std::string& n : model_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("ModelConfig: unknown model " + quoted(name) + " (known: " + known + ")");
}

// The integer fields each family reads (besides name and dropout).
struct FieldUse {
    bool width = false, classifier_width = false, pool_size = false, head_width = false, dropout = false;
};

FieldUse uses(Family f) {
    FieldUse u;
    u.width = f == Family::UNet;
    u.classifier_width = u.pool_size = f == Family::VGG;
    u.head_width = f == Family::FCN;
    u.dropout = f == Family::VGG || f == Family::FCN;
    return u;
}

void resolve_int(int64_t& field, const char* key, bool used, int64_t fallback, const std::string& name) {
    if (!used) {
        ENGINE_CHECK(field == 0, "ModelConfig: '", key, "' does not apply to ", name);
        return;
    }
    if (field == 0) field = fallback;
    ENGINE_CHECK(field > 0, "ModelConfig: '", key, "' must be positive, got ", field, " (for ", name, ")");
}

}  // namespace

const std::vector<std::string>& model_names() {
    static const std::vector<std::string> names{"unet",     "lenet",    "vgg11",    "vgg13",    "vgg16", "vgg19",
                                                "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn", "fcn32s"};
    return names;
}

ModelConfig ModelConfig::resolved() const {
    ENGINE_CHECK(!name.empty(), "ModelConfig: no model name");
    const Family f = family_of(name);
    const FieldUse u = uses(f);
    ModelConfig c = *this;
    const int64_t default_classes = f == Family::VGG ? 1000 : f == Family::FCN ? 21 : 10;
    resolve_int(c.in_channels, "in_channels", true, f == Family::LeNet ? 1 : 3, name);
    resolve_int(c.num_classes, "num_classes", true, default_classes, name);
    resolve_int(c.width, "width", u.width, 64, name);
    resolve_int(c.classifier_width, "classifier_width", u.classifier_width, 4096, name);
    resolve_int(c.pool_size, "pool_size", u.pool_size, 7, name);
    resolve_int(c.head_width, "head_width", u.head_width, 4096, name);
    if (u.dropout) {
        if (c.dropout < 0) c.dropout = 0.5;
        ENGINE_CHECK(c.dropout <= 1.0, "ModelConfig: 'dropout' must be in [0, 1], got ", c.dropout);
    } else {
        ENGINE_CHECK(c.dropout < 0, "ModelConfig: 'dropout' does not apply to ", name);
    }
    return c;
}

std::string ModelConfig::to_json() const {
    const ModelConfig c = resolved();
    const FieldUse u = uses(family_of(c.name));
    json j = {{"name", c.name}, {"in_channels", c.in_channels}, {"num_classes", c.num_classes}};
    if (u.width) j["width"] = c.width;
    if (u.classifier_width) j["classifier_width"] = c.classifier_width;
    if (u.pool_size) j["pool_size"] = c.pool_size;
    if (u.head_width) j["head_width"] = c.head_width;
    if (u.dropout) j["dropout"] = c.dropout;
    return dump_json(j);
}

ModelConfig ModelConfig::from_json(const std::string& text) {
    json j;
    try {
        j = parse_json(text);
    } catch (const json::exception& e) {
        throw Error(std::string("ModelConfig: not valid JSON (") + e.what() + ")");
    }
    ENGINE_CHECK(j.is_object(), "ModelConfig: expected a JSON object, got ", dump_json(j));
    ModelConfig c;
    const std::vector<std::pair<const char*, int64_t*>> ints{
        {"in_channels", &c.in_channels},           {"num_classes", &c.num_classes}, {"width", &c.width},
        {"classifier_width", &c.classifier_width}, {"pool_size", &c.pool_size},     {"head_width", &c.head_width}};
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string& key = it.key();
        const json& value = it.value();
        if (key == "name") {
            ENGINE_CHECK(value.is_string(), "ModelConfig: 'name' must be a string, got ", dump_json(value));
            c.name = value.get<std::string>();
            continue;
        }
        if (key == "dropout") {
            ENGINE_CHECK(value.is_number() && value.get<double>() >= 0, "ModelConfig: 'dropout' must be a number ",
                         "in [0, 1], got ", dump_json(value));
            c.dropout = value.get<double>();
            continue;
        }
        bool known = false;
        for (const auto& [name, field] : ints) {
            if (key != name) continue;
            ENGINE_CHECK(value.is_number_integer() && value.get<int64_t>() > 0, "ModelConfig: '", key,
                         "' must be a positive integer, got ", dump_json(value));
            *field = value.get<int64_t>();
            known = true;
        }
        ENGINE_CHECK(known, "ModelConfig: unknown key ", quoted(key), " (known: name, in_channels, num_classes, width, ",
                     "classifier_width, pool_size, head_width, dropout)");
    }
    return c.resolved();
}

ModelConfig Model::checked_name(ModelConfig config, const std::vector<std::string>& allowed, const char* type) {
    if (config.name.empty()) config.name = allowed.front();
    bool ok = false;
    for (const std::string& name : allowed) ok = ok || name == config.name;
    ENGINE_CHECK(ok, type, ": cannot be built from a config of model '", config.name, "'");
    return config;
}

namespace {

// A config whose float32 weights alone exceed the machine's memory (num_classes 1e8, say) is refused before
// the constructor allocates tens of GB and fails inside the allocator without naming the config.
void check_fits_in_memory(const ModelConfig& c) {
    const double bytes = 4.0 * parameter_count(c), memory = static_cast<double>(physical_memory_bytes());
    if (memory <= 0 || bytes <= memory) return;
    std::ostringstream out;
    out.precision(3);
    out << "ModelConfig " << c.to_json() << ": " << bytes / 4.0 << " parameters (" << bytes / 1e9
        << " GB of float32 weights), more than this machine's " << memory / 1e9 << " GB of memory";
    throw Error(out.str());
}

}  // namespace

std::shared_ptr<Model> make_model(const ModelConfig& config, Generator& gen) {
    const ModelConfig c = config.resolved();
    check_fits_in_memory(c);
    switch (family_of(c.name)) {
        case Family::UNet:
            return std::make_shared<UNet>(c, gen);
        case Family::LeNet:
            return std::make_shared<LeNet>(c, gen);
        case Family::VGG:
            return std::make_shared<VGG>(c, gen);
        case Family::FCN:
            return std::make_shared<FCN32s>(c, gen);
    }
    throw Error("make_model: unreachable");
}

std::shared_ptr<Model> make_model(const std::string& name, ModelConfig options, Generator& gen) {
    ENGINE_CHECK(options.name.empty() || options.name == name, "make_model: asked for '", name, "' with a config of '",
                 options.name, "'");
    options.name = name;
    return make_model(options, gen);
}

}  // namespace engine::models
