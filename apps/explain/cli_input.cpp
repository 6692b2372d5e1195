// Image reading and class names for the explain command.
#include "apps/explain/cli_input.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apps/common/app_main.h"
#include "models/checkpoint.h"
#include "models/data/dataset.h"
#include "models/data/datasets.h"
#include "runtime/idx.h"
#include "runtime/json.h"

namespace engine::explain::cli {

namespace fs = std::filesystem;
using apps::UsageError;

namespace {

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
    if (prep.channel_policy == ChannelPolicy::Strict)
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
    } else if (prep.channel_policy == ChannelPolicy::Luma) {
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

}  // namespace

std::vector<std::string> resolve_class_names(const InputPlan& inputs, const std::string& weights, const LoadedModel& m,
                                             const std::vector<std::string>& palette_names) {
    const int64_t k = m.model->config().num_classes;
    std::vector<std::string> names;
    if (!inputs.class_names.empty()) {
        std::error_code ec;
        ENGINE_CHECK(fs::is_regular_file(inputs.class_names, ec), "--class-names ", inputs.class_names,
                     ": no such file");
        ENGINE_CHECK(fs::file_size(inputs.class_names, ec) <= (4u << 20), "--class-names ", inputs.class_names,
                     ": larger than 4 MiB");
        std::ifstream in(inputs.class_names);
        ENGINE_CHECK(in, "--class-names ", inputs.class_names, ": cannot read the file");
        std::string line;
        while (std::getline(in, line)) {
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
            if (!line.empty()) names.push_back(line);
        }
        ENGINE_CHECK(static_cast<int64_t>(names.size()) == k, "--class-names ", inputs.class_names, ": ", names.size(),
                     " names for a model with ", k, " classes");
        return names;
    }
    const auto it = m.metadata.find(checkpoint::keys::kClassNames);
    if (it != m.metadata.end()) {
        try {
            names = parse_json(it->second).get<std::vector<std::string>>();
        } catch (const nlohmann::json::exception&) {
            throw Error("--weights " + weights + ": metadata 'class_names' is not a JSON list of strings");
        }
        ENGINE_CHECK(static_cast<int64_t>(names.size()) == k, "--weights ", weights, ": metadata class_names has ",
                     names.size(), " names for ", k, " classes");
        return names;
    }
    if (fashion_source(inputs) && k == 10) return data::fashion_mnist_classes();
    if (m.segmentation) return palette_names;
    for (int64_t c = 0; c < k; ++c) names.push_back(std::to_string(c));
    return names;
}

InputImage read_image_input(const std::string& path, const Preprocessing& prep, const std::string& what) {
    std::error_code ec;
    ENGINE_CHECK(fs::exists(path, ec), what, " ", path, ": no such file");
    return finish_input(data::read_image(path), prep, path);
}

std::vector<InputImage> read_inputs(const InputPlan& inputs, const Preprocessing& prep) {
    std::vector<InputImage> out;
    for (const std::string& item : inputs.images) {
        std::error_code ec;
        ENGINE_CHECK(fs::exists(item, ec), "--image ", item, ": no such file or folder");
        const std::vector<std::string> files =
            fs::is_directory(item, ec) ? data::list_image_files(item) : std::vector<std::string>{item};
        for (const std::string& f : files) {
            try {
                InputImage in = finish_input(data::read_image(f), prep, f);
                in.stem = safe_stem(fs::path(f).stem().string());
                out.push_back(std::move(in));
            } catch (const Error& e) {
                if (!inputs.skip_bad || dynamic_cast<const UsageError*>(&e) != nullptr) throw;
                std::fprintf(stderr, "warning: --skip-bad: skipped %s: %s\n", f.c_str(), e.what());
            }
        }
    }
    if (!inputs.idx.empty()) {
        std::error_code ec;
        ENGINE_CHECK(fs::is_regular_file(inputs.idx, ec), "--idx ", inputs.idx, ": no such file");
        const Tensor images = idx::read_images(inputs.idx);
        const std::vector<int64_t> picks = data::parse_index_ranges(inputs.index, images.size(0));
        Tensor labels;
        const std::string labels_path = inputs.idx_labels.empty() ? sibling_labels(inputs.idx) : inputs.idx_labels;
        if (!labels_path.empty()) {
            labels = idx::read_labels(labels_path);
            ENGINE_CHECK(labels.size(0) == images.size(0), "--idx-labels ", labels_path, " holds ", labels.size(0),
                         " labels for ", images.size(0), " images");
        }
        const int64_t h = images.size(1), w = images.size(2);
        for (int64_t i : picks) {
            data::Image image(h, w, 1);
            std::copy_n(images.data<uint8_t>() + i * h * w, h * w, image.pixels.data());
            const std::string name = fs::path(inputs.idx).filename().string() + "[" + std::to_string(i) + "]";
            InputImage in = finish_input(image, prep, name);
            in.stem = "idx" + std::to_string(i);
            if (labels.defined()) in.label = labels.data<int64_t>()[i];
            out.push_back(std::move(in));
        }
    }
    if (out.empty() && inputs.skip_bad) throw Error("--skip-bad: every input was skipped");
    if (out.empty()) throw UsageError("no input: give --image PATH|DIR or --idx FILE --index N");
    // Unique stems, prefixed by the position so that files sort in input order.
    for (size_t i = 0; i < out.size(); ++i) out[i].stem = std::to_string(i) + "-" + out[i].stem;
    return out;
}

}  // namespace engine::explain::cli
