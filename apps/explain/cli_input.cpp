// Model loading, preprocessing rules, class names and image reading for the explain command.
#include "apps/explain/cli_input.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "apps/common/app_main.h"
#include "models/data/dataset.h"
#include "models/data/datasets.h"
#include "runtime/idx.h"
#include "runtime/safetensors.h"
#include "runtime/json.h"

namespace engine::explain::cli {

namespace fs = std::filesystem;
using apps::UsageError;

namespace {

bool is_segmentation_model(const std::string& name) { return name == "unet" || name == "fcn32s"; }

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::vector<double> parse_list(const std::string& text, const std::string& flag) {
    std::vector<double> out;
    std::string item;
    std::stringstream in(text);
    while (std::getline(in, item, ',')) {
        try {
            size_t used = 0;
            out.push_back(std::stod(item, &used));
            if (used != item.size()) throw std::invalid_argument(item);
        } catch (const std::exception&) {
            throw UsageError(flag + ": '" + item + "' is not a number");
        }
    }
    if (out.empty()) throw UsageError(flag + ": expected numbers, got '" + text + "'");
    return out;
}

std::vector<double> per_channel(std::vector<double> v, int64_t channels, const std::string& what) {
    if (v.size() == 1) v.assign(static_cast<size_t>(channels), v[0]);
    if (static_cast<int64_t>(v.size()) != channels)
        throw UsageError(what + ": " + std::to_string(v.size()) + " values for a model with " +
                         std::to_string(channels) + " input channels");
    return v;
}

bool fashion_source(const ExplainOptions& o) {
    return !o.idx.empty() && lower(fs::path(o.idx).lexically_normal().string()).find("fashion") != std::string::npos;
}

std::string describe(const std::vector<double>& mean, const std::vector<double>& std) {
    auto join = [](const std::vector<double>& v) {
        std::string s;
        for (double x : v) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%g", x);
            s += (s.empty() ? "" : ",") + std::string(buf);
        }
        return s;
    };
    return "mean " + join(mean) + ", std " + join(std);
}

// The sibling labels file of an IDX images file (X-images-idx3-ubyte[.gz] -> X-labels-idx1-ubyte[.gz]).
std::string sibling_labels(const std::string& images) {
    const fs::path p(images);
    std::string name = p.filename().string();
    const size_t at = name.find("images-idx3");
    if (at == std::string::npos) return "";
    name.replace(at, 11, "labels-idx1");
    std::error_code ec;
    for (const std::string& candidate :
         {name, name + ".gz",
          name.size() > 3 && name.substr(name.size() - 3) == ".gz" ? name.substr(0, name.size() - 3) : name}) {
        const fs::path q = p.parent_path() / candidate;
        if (fs::is_regular_file(q, ec)) return q.string();
    }
    return "";
}

std::string safe_stem(const std::string& text) {
    std::string out;
    for (char c : text) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    if (out.size() > 40) out = out.substr(0, 40);
    return out.empty() ? "image" : out;
}

// The image in the model's channel count under the policy; notes what was done.
data::Image convert_for_model(const data::Image& image, const Preprocessing& prep, const std::string& name,
                              std::vector<std::string>& notes) {
    const bool colour = image.channels >= 3;
    const int64_t have = colour ? 3 : 1;
    if (image.channels == 2 || image.channels == 4) notes.push_back("alpha channel dropped");
    if (have == prep.channels) return data::convert_channels(image, prep.channels);
    if (prep.channel_policy == "strict")
        throw Error("image " + name + " has " + std::to_string(have) + " colour channel(s), the model takes " +
                    std::to_string(prep.channels) + " (--channel-policy strict converts nothing)");
    if (prep.channels == 3) {
        notes.push_back("gray image replicated to RGB");
        return data::convert_channels(image, 3);
    }
    bool gray = true;
    for (int64_t i = 0; i < image.height * image.width && gray; ++i) {
        const uint8_t* p = image.pixels.data() + i * image.channels;
        gray = p[0] == p[1] && p[1] == p[2];
    }
    if (gray) {
        notes.push_back("RGB image with equal channels read as gray");
    } else if (prep.channel_policy == "luma") {
        notes.push_back("colour image converted to gray (luma, --channel-policy luma)");
    } else {
        throw Error("image " + name +
                    " is a colour image but the model takes 1 channel; pass --channel-policy luma "
                    "to convert it to gray");
    }
    return data::convert_channels(image, 1);
}

// The photo (left half) of a photo | label pair file, as the Cityscapes pairs dataset splits it for training.
data::Image pair_photo(const data::Image& pair) {
    data::Image photo(pair.height, pair.width / 2, pair.channels);
    const size_t row_bytes = static_cast<size_t>(photo.width * photo.channels);
    for (int64_t y = 0; y < pair.height; ++y) std::copy_n(pair.pixel(y, 0), row_bytes, photo.pixel(y, 0));
    return photo;
}

InputImage finish_input(data::Image image, const Preprocessing& prep, const std::string& name) {
    InputImage in;
    in.name = name;
    in.source_height = image.height;
    in.source_width = image.width;
    in.source_channels = image.channels;
    if (prep.pair_photo) {
        const bool is_pair = image.width == 2 * image.height;
        if (!is_pair && prep.pair_photo_forced) {
            throw Error("--pairs photo: " + name + " is " + std::to_string(image.width) + "x" +
                        std::to_string(image.height) + " (width x height), not a photo | label pair twice as wide "
                        "as high");
        }
        if (is_pair) {
            image = pair_photo(image);
            in.notes.push_back("the photo (left half) of a photo | label pair; the label half is not used");
        }
    }
    image = convert_for_model(image, prep, name, in.notes);
    int64_t h = prep.height, w = prep.width;
    if (h == 0) {
        auto round_to = [&](int64_t v) {
            const int64_t m = prep.size_multiple;
            return std::max(prep.min_side, std::max<int64_t>(m, (v + m / 2) / m * m));
        };
        h = round_to(image.height);
        w = round_to(image.width);
    }
    if (h != image.height || w != image.width) {
        in.notes.push_back("resized from " + std::to_string(image.height) + "x" + std::to_string(image.width) + " to " +
                           std::to_string(h) + "x" + std::to_string(w) + " (bilinear)");
        image = data::resize_bilinear(image, h, w);
    }
    in.display = image;
    in.x = data::normalize(data::image_to_tensor(image, prep.channels), prep.mean, prep.std).unsqueeze(0);
    return in;
}

// --model with --model-config (JSON; its name, when given, must be --model's).
models::ModelConfig config_from_flags(const ExplainOptions& o) {
    nlohmann::json j = nlohmann::json::object();
    if (!o.model_config.empty()) {
        try {
            j = parse_json(o.model_config);
        } catch (const nlohmann::json::exception&) {
            throw UsageError("--model-config: not JSON: " + o.model_config);
        }
        if (!j.is_object()) throw UsageError("--model-config: expected a JSON object, got " + o.model_config);
    }
    if (j.contains("name") && j["name"] != o.model)
        throw UsageError("--model-config names " + dump_json(j["name"]) + " but --model is " + o.model);
    j["name"] = o.model;
    try {
        return models::ModelConfig::from_json(dump_json(j));
    } catch (const Error& e) {
        throw UsageError(std::string("--model-config: ") + e.what());
    }
}

}  // namespace

std::pair<int64_t, int64_t> parse_size(const std::string& text, const std::string& flag) {
    const size_t x = text.find_first_of("xX");
    try {
        size_t used = 0;
        const int64_t h = std::stoll(text.substr(0, x), &used);
        if (used != (x == std::string::npos ? text.size() : x)) throw std::invalid_argument(text);
        int64_t w = h;
        if (x != std::string::npos) {
            w = std::stoll(text.substr(x + 1), &used);
            if (used != text.size() - x - 1) throw std::invalid_argument(text);
        }
        if (h < 1 || w < 1 || h > data::kMaxImageSide || w > data::kMaxImageSide) throw std::out_of_range(text);
        return {h, w};
    } catch (const std::exception&) {
        throw UsageError(flag + ": expected HxW or N with sides in [1, " + std::to_string(data::kMaxImageSide) +
                         "], got '" + text + "'");
    }
}

LoadedModel load_model(const ExplainOptions& o) {
    LoadedModel out;
    if (!o.model.empty()) {
        const auto& names = models::model_names();
        if (std::find(names.begin(), names.end(), o.model) == names.end()) {
            std::string valid;
            for (const std::string& n : names) valid += (valid.empty() ? "" : ", ") + n;
            throw UsageError("--model " + o.model + ": unknown model (valid: " + valid + ")");
        }
    }
    if (o.weights.empty()) {
        if (o.list_layers && !o.model.empty()) {
            out.model = models::make_model(config_from_flags(o));
            out.name = out.model->config().name;
            out.segmentation = is_segmentation_model(out.name);
            out.source = "fresh weights (no --weights)";
            return out;
        }
        throw UsageError("--weights is required (an engine checkpoint, or a weight file with --model)");
    }
    std::error_code ec;
    ENGINE_CHECK(fs::is_regular_file(o.weights, ec), "--weights ", o.weights, ": no such file");
    // The header alone tells a checkpoint from a plain weight file: the tensors are read once, below.
    const safetensors::Header header = safetensors::read_header(o.weights);
    const auto format = header.metadata.find("format");
    if (format != header.metadata.end() && format->second == checkpoint::kFormat) {
        const checkpoint::Info info = checkpoint::read_info(o.weights);
        ENGINE_CHECK(!info.model_config.empty(), "--weights ", o.weights,
                     ": the checkpoint has no model config (pass a weight file with --model instead)");
        const models::ModelConfig stored = models::ModelConfig::from_json(info.model_config);
        if (!o.model.empty() && o.model != stored.name)
            throw UsageError("--model " + o.model + " disagrees with --weights " + o.weights + ", which holds a " +
                             stored.name);
        out.model = checkpoint::load_model(o.weights);
        out.metadata = info.extra;
        out.source =
            "engine checkpoint (epoch " + std::to_string(info.epoch) + ", step " + std::to_string(info.step) + ")";
        const auto value = [&](const char* key) {
            const auto it = info.extra.find(key);
            return it == info.extra.end() ? std::string() : it->second;
        };
        out.multilabel = value(checkpoint::keys::kTask) == "multilabel";
        const std::string kind = value(checkpoint::keys::kDatasetKind), path = value(checkpoint::keys::kDatasetPath);
        out.training_data = kind + (kind.empty() || path.empty() ? "" : " ") + path;
    } else {
        if (o.model.empty())
            throw UsageError("--weights " + o.weights +
                             " is a plain weight file without a model config: name the "
                             "model with --model (and --model-config for non-default sizes)");
        out.model = models::make_model(config_from_flags(o));
        checkpoint::load_weights(o.weights, *out.model, true);
        out.source = "weight file";
    }
    out.name = out.model->config().name;
    out.segmentation = is_segmentation_model(out.name);
    out.model->eval();
    return out;
}

Preprocessing resolve_preprocessing(const ExplainOptions& o, const LoadedModel& m) {
    namespace keys = checkpoint::keys;
    const auto stored = [&](const char* key) {
        const auto it = m.metadata.find(key);
        return it == m.metadata.end() ? std::optional<std::string>() : std::optional<std::string>(it->second);
    };
    const std::string bad_metadata = "--weights " + o.weights + ": metadata ";
    Preprocessing p;
    const models::ModelConfig& config = m.model->config();
    p.channels = config.in_channels;
    if (const auto channels = stored(keys::kInputChannels))
        ENGINE_CHECK(*channels == std::to_string(p.channels), bad_metadata, "input_channels '", *channels,
                     "' disagrees with the model's ", p.channels, " input channel(s)");
    p.channel_policy = o.channel_policy;
    if (o.pairs != "auto" && o.pairs != "photo" && o.pairs != "whole")
        throw UsageError("--pairs: expected auto, photo or whole, got '" + o.pairs + "'");
    const bool trained_on_pairs = stored(keys::kDatasetKind).value_or("") == "cityscapes-pairs";
    p.pair_photo_forced = o.pairs == "photo";
    p.pair_photo = p.pair_photo_forced || (o.pairs == "auto" && trained_on_pairs);
    p.pairs_rule = p.pair_photo_forced ? "photo half (--pairs photo)"
                   : p.pair_photo      ? "photo half of images twice as wide as high (trained on cityscapes-pairs)"
                                       : "whole images";
    if (p.channel_policy != "safe" && p.channel_policy != "luma" && p.channel_policy != "strict")
        throw UsageError("--channel-policy: expected safe, luma or strict, got '" + p.channel_policy + "'");
    // Size: the flag, else the checkpoint's input_size (unless the model trained on crops at the images' own
    // scale: then each image keeps its size, as in validation), else the model's rule.
    const std::string resize = stored(keys::kResize).value_or("resize");
    ENGINE_CHECK(resize == "resize" || resize == "crop", bad_metadata, "resize '", resize,
                 "' is neither resize nor crop");
    std::string size = o.size;
    std::string origin = "--size", crop_note;
    if (size.empty()) {
        if (const auto trained = stored(keys::kInputSize)) {
            if (resize == "crop") {
                crop_note = "; trained on " + *trained + " crops at the images' scale";
            } else {
                size = *trained;
                origin = "checkpoint metadata";
            }
        }
    }
    if (!size.empty()) {
        std::tie(p.height, p.width) = parse_size(size, origin == "--size" ? "--size" : "checkpoint input_size");
        p.size_rule = std::to_string(p.height) + "x" + std::to_string(p.width) + " (" + origin + ")";
    } else if (m.name == "lenet") {
        p.height = p.width = 28;
        p.size_rule = "28x28 (LeNet)";
    } else if (m.name.rfind("vgg", 0) == 0) {
        p.height = p.width = config.pool_size >= 7 ? 224 : 32;
        p.size_rule = std::to_string(p.height) + "x" + std::to_string(p.width) + " (VGG with pool_size " +
                      std::to_string(config.pool_size) + ")";
    } else {
        p.size_multiple = m.name == "unet" ? 16 : 32;
        p.min_side = p.size_multiple;
        p.size_rule = "each image's size, rounded to the nearest multiple of " + std::to_string(p.size_multiple);
    }
    p.size_rule += crop_note;
    if (m.name == "lenet" && (p.height != 28 || p.width != 28))
        throw UsageError("--size: LeNet takes 28x28 inputs, got " + size);
    // Normalisation: the flag, else the checkpoint's "normalize" metadata, else what the training apps use.
    std::string spec = o.normalize, auto_note;
    const std::optional<std::string> stored_normalize =
        spec == "auto" ? stored(keys::kNormalize) : std::optional<std::string>();
    if (stored_normalize) {
        try {
            const nlohmann::json j = parse_json(*stored_normalize);
            const nlohmann::json mean = j.is_array() ? j.at(0) : j.at("mean");
            const nlohmann::json sd = j.is_array() ? j.at(1) : j.at("std");
            p.mean = per_channel(
                mean.is_array() ? mean.get<std::vector<double>>() : std::vector<double>{mean.get<double>()},
                p.channels, "checkpoint normalize");
            p.std = per_channel(sd.is_array() ? sd.get<std::vector<double>>() : std::vector<double>{sd.get<double>()},
                                p.channels, "checkpoint normalize");
        } catch (const nlohmann::json::exception&) {
            throw Error(bad_metadata + "'normalize' is not [mean, std]: " + *stored_normalize);
        } catch (const UsageError& e) {  // a checkpoint's fault, not the command line's
            throw Error(bad_metadata + e.what());
        }
        for (double s : p.std)
            ENGINE_CHECK(s > 0, bad_metadata, "'normalize' has a std <= 0: ", *stored_normalize);
        p.normalize_rule = "checkpoint metadata: " + describe(p.mean, p.std);
        return p;
    }
    if (spec == "auto") {
        if (p.channels == 3) {
            spec = "imagenet";
            auto_note = "default for RGB models, as the training apps";
        } else if (!o.idx.empty()) {
            spec = fashion_source(o) ? "fashion-mnist" : "mnist";
            auto_note = "default for IDX input, as train_classifier";
        } else {
            spec = m.segmentation ? "0.5/0.2" : "0.5/0.5";
            auto_note = m.segmentation ? "train_unet's default for gray images"
                                       : "train_classifier's default for gray image folders";
        }
    }
    std::string name = spec;
    if (spec == "none") {
        p.mean.assign(static_cast<size_t>(p.channels), 0.0);
        p.std.assign(static_cast<size_t>(p.channels), 1.0);
    } else if (spec == "imagenet") {
        if (p.channels != 3) throw UsageError("--normalize imagenet needs a 3-channel model");
        p.mean = {0.485, 0.456, 0.406};
        p.std = {0.229, 0.224, 0.225};
    } else if (spec == "fashion-mnist") {
        p.mean = per_channel({0.2860}, p.channels, "--normalize");
        p.std = per_channel({0.3530}, p.channels, "--normalize");
    } else if (spec == "mnist") {
        p.mean = per_channel({0.1307}, p.channels, "--normalize");
        p.std = per_channel({0.3081}, p.channels, "--normalize");
    } else {
        const size_t slash = spec.find('/');
        if (slash == std::string::npos)
            throw UsageError("--normalize: expected auto, none, imagenet, mnist, fashion-mnist or MEAN/STD, got '" +
                             spec + "'");
        p.mean = per_channel(parse_list(spec.substr(0, slash), "--normalize"), p.channels, "--normalize");
        p.std = per_channel(parse_list(spec.substr(slash + 1), "--normalize"), p.channels, "--normalize");
        name = auto_note.empty() ? "custom" : spec;
    }
    for (double s : p.std)
        if (!(s > 0)) throw UsageError("--normalize: every std must be > 0");
    p.normalize_rule = name + ": " + describe(p.mean, p.std) + (auto_note.empty() ? "" : " (" + auto_note + ")");
    return p;
}

std::vector<std::string> resolve_class_names(const ExplainOptions& o, const LoadedModel& m,
                                             const std::vector<std::string>& palette_names) {
    const int64_t k = m.model->config().num_classes;
    std::vector<std::string> names;
    if (!o.class_names.empty()) {
        std::error_code ec;
        ENGINE_CHECK(fs::is_regular_file(o.class_names, ec), "--class-names ", o.class_names, ": no such file");
        ENGINE_CHECK(fs::file_size(o.class_names, ec) <= (4u << 20), "--class-names ", o.class_names,
                     ": larger than 4 MiB");
        std::ifstream in(o.class_names);
        ENGINE_CHECK(in, "--class-names ", o.class_names, ": cannot read the file");
        std::string line;
        while (std::getline(in, line)) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
            if (!line.empty()) names.push_back(line);
        }
        ENGINE_CHECK(static_cast<int64_t>(names.size()) == k, "--class-names ", o.class_names, ": ", names.size(),
                     " names for a model with ", k, " classes");
        return names;
    }
    const auto it = m.metadata.find(checkpoint::keys::kClassNames);
    if (it != m.metadata.end()) {
        try {
            names = parse_json(it->second).get<std::vector<std::string>>();
        } catch (const nlohmann::json::exception&) {
            throw Error("--weights " + o.weights + ": metadata 'class_names' is not a JSON list of strings");
        }
        ENGINE_CHECK(static_cast<int64_t>(names.size()) == k, "--weights ", o.weights, ": metadata class_names has ",
                     names.size(), " names for ", k, " classes");
        return names;
    }
    if (fashion_source(o) && k == 10) return data::fashion_mnist_classes();
    if (m.segmentation) return palette_names;
    for (int64_t c = 0; c < k; ++c) names.push_back(std::to_string(c));
    return names;
}

InputImage read_image_input(const std::string& path, const Preprocessing& prep, const std::string& what) {
    std::error_code ec;
    ENGINE_CHECK(fs::exists(path, ec), what, " ", path, ": no such file");
    return finish_input(data::read_image(path), prep, path);
}

std::vector<InputImage> read_inputs(const ExplainOptions& o, const Preprocessing& prep) {
    std::vector<InputImage> out;
    for (const std::string& item : o.images) {
        std::error_code ec;
        ENGINE_CHECK(fs::exists(item, ec), "--image ", item, ": no such file or folder");
        const std::vector<std::string> files =
            fs::is_directory(item, ec) ? data::list_image_files(item) : std::vector<std::string>{item};
        for (const std::string& f : files) {
            InputImage in = finish_input(data::read_image(f), prep, f);
            in.stem = safe_stem(fs::path(f).stem().string());
            out.push_back(std::move(in));
        }
    }
    if (!o.idx.empty()) {
        std::error_code ec;
        ENGINE_CHECK(fs::is_regular_file(o.idx, ec), "--idx ", o.idx, ": no such file");
        const Tensor images = idx::read_images(o.idx);
        const std::vector<int64_t> picks = data::parse_index_ranges(o.index, images.size(0));
        Tensor labels;
        const std::string labels_path = o.idx_labels.empty() ? sibling_labels(o.idx) : o.idx_labels;
        if (!labels_path.empty()) {
            labels = idx::read_labels(labels_path);
            ENGINE_CHECK(labels.size(0) == images.size(0), "--idx-labels ", labels_path, " holds ", labels.size(0),
                         " labels for ", images.size(0), " images");
        }
        const int64_t h = images.size(1), w = images.size(2);
        for (int64_t i : picks) {
            data::Image image(h, w, 1);
            std::copy_n(images.data<uint8_t>() + i * h * w, h * w, image.pixels.data());
            const std::string name = fs::path(o.idx).filename().string() + "[" + std::to_string(i) + "]";
            InputImage in = finish_input(image, prep, name);
            in.stem = "idx" + std::to_string(i);
            if (labels.defined()) in.label = labels.data<int64_t>()[i];
            out.push_back(std::move(in));
        }
    }
    if (out.empty()) throw UsageError("no input: give --image PATH|DIR or --idx FILE --index N");
    // Unique stems, prefixed by the position so that files sort in input order.
    for (size_t i = 0; i < out.size(); ++i) out[i].stem = std::to_string(i) + "-" + out[i].stem;
    return out;
}

}  // namespace engine::explain::cli
