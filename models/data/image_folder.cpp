// Classification from class sub-folders, and multi-label classification from a CSV list.
#include <algorithm>
#include <filesystem>
#include <map>

#include "kernels/factories.h"
#include "models/data/datasets.h"
#include "models/data/detail.h"

namespace engine::data {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxCsvBytes = 64ull << 20;

struct Item {
    std::string path;
    int64_t class_id = 0;         // ImageFolder
    std::vector<int64_t> labels;  // CSV
};

// Both datasets decode `path` as an image; they differ only in the target.
class ListDataset final : public Dataset {
public:
    ListDataset(std::vector<Item> items, std::vector<std::string> class_names, int64_t channels, TargetKind kind)
        : items_(std::move(items)), class_names_(std::move(class_names)), channels_(channels), kind_(kind) {}
    int64_t size() const override { return static_cast<int64_t>(items_.size()); }
    Sample get(int64_t index) const override {
        ENGINE_CHECK(index >= 0 && index < size(), "data: index ", index, " out of range for ", size(), " samples");
        const Item& item = items_[static_cast<size_t>(index)];
        Sample sample;
        sample.image = image_to_tensor(read_image(item.path, channels_));
        if (kind_ == TargetKind::Class) {
            sample.target = detail::class_scalar(item.class_id);
        } else {
            sample.target = zeros({num_classes()}, DType::Float32);
            for (int64_t label : item.labels) sample.target.data<float>()[label] = 1.0f;
        }
        return sample;
    }
    std::string source(int64_t index) const override { return items_.at(static_cast<size_t>(index)).path; }
    TargetKind target_kind() const override { return kind_; }
    const std::vector<std::string>& class_names() const override { return class_names_; }

private:
    std::vector<Item> items_;
    std::vector<std::string> class_names_;
    int64_t channels_;
    TargetKind kind_;
};

void check_channels(int64_t channels, const std::string& what) {
    ENGINE_CHECK(channels == 1 || channels == 3, "data: ", what, ": channels must be 1 or 3, got ", channels);
}

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// One CSV field starting at `pos` (quoted with "" escapes, or up to the next comma / end of line); moves pos
// past it and its comma. False on an unterminated quote.
bool read_field(const std::string& line, size_t& pos, std::string& out) {
    out.clear();
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    if (pos < line.size() && line[pos] == '"') {
        ++pos;
        while (true) {
            if (pos >= line.size()) return false;
            if (line[pos] == '"') {
                if (pos + 1 < line.size() && line[pos + 1] == '"') {
                    out += '"';
                    pos += 2;
                    continue;
                }
                ++pos;
                break;
            }
            out += line[pos++];
        }
        while (pos < line.size() && line[pos] != ',') ++pos;
    } else {
        const size_t comma = std::min(line.find(',', pos), line.size());
        out = trim(line.substr(pos, comma - pos));
        pos = comma;
    }
    if (pos < line.size()) ++pos;  // the comma
    return true;
}

}  // namespace

std::shared_ptr<Dataset> image_folder(const std::string& root, int64_t channels) {
    check_channels(channels, root);
    std::error_code ec;
    ENGINE_CHECK(fs::exists(root, ec), "data: ", root, ": no such folder");
    ENGINE_CHECK(fs::is_directory(root, ec), "data: ", root, ": not a folder");
    std::vector<std::string> classes;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
        if (it->is_directory(ec) && it->path().filename().string()[0] != '.')  // .ipynb_checkpoints is no class
            classes.push_back(it->path().filename().string());
    ENGINE_CHECK(!ec, "data: ", root, ": cannot list (", ec.message(), ")");
    ENGINE_CHECK(!classes.empty(), "data: ", root, ": no class sub-folders");
    std::sort(classes.begin(), classes.end());
    std::vector<Item> items;
    for (size_t c = 0; c < classes.size(); ++c)
        for (const std::string& path : list_image_files((fs::path(root) / classes[c]).string()))
            items.push_back({path, static_cast<int64_t>(c), {}});
    return std::make_shared<ListDataset>(std::move(items), std::move(classes), channels, TargetKind::Class);
}

std::shared_ptr<Dataset> multilabel_csv(const std::string& csv_path, MultiLabelCsvOptions options) {
    check_channels(options.channels, csv_path);
    const std::string text = read_file(csv_path, kMaxCsvBytes);
    const std::string root =
        options.image_root.empty() ? fs::path(csv_path).parent_path().string() : options.image_root;
    struct Row {
        std::string image;
        std::vector<std::string> labels;
        int64_t line;
    };
    std::vector<Row> rows;
    size_t start = 0;
    for (int64_t line_no = 1; start < text.size(); ++line_no) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = trim(text.substr(start, end - start));
        start = end + 1;
        if (line.empty()) continue;
        const std::string where = csv_path + ":" + std::to_string(line_no);
        size_t pos = 0;
        std::string image, labels;
        ENGINE_CHECK(line.find(',') != std::string::npos && read_field(line, pos, image) &&
                         read_field(line, pos, labels) && pos >= line.size(),
                     "data: ", where, ": expected `image,labels` (labels separated by spaces), got \"", line, "\"");
        if (rows.empty() && image == "image") continue;  // header
        ENGINE_CHECK(!image.empty(), "data: ", where, ": empty image name");
        Row row{image, {}, line_no};
        for (size_t p = 0; p < labels.size();) {
            const size_t b = labels.find_first_not_of(" \t", p);
            if (b == std::string::npos) break;
            const size_t e = std::min(labels.find_first_of(" \t", b), labels.size());
            row.labels.push_back(labels.substr(b, e - b));
            p = e;
        }
        rows.push_back(std::move(row));
    }
    ENGINE_CHECK(!rows.empty(), "data: ", csv_path, ": no images listed");
    std::vector<std::string> classes = options.class_names;
    if (classes.empty()) {
        for (const Row& row : rows) classes.insert(classes.end(), row.labels.begin(), row.labels.end());
        std::sort(classes.begin(), classes.end());
        classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
        ENGINE_CHECK(!classes.empty(), "data: ", csv_path, ": no labels at all");
    }
    std::map<std::string, int64_t> id_of;
    for (size_t c = 0; c < classes.size(); ++c) id_of.emplace(classes[c], static_cast<int64_t>(c));
    std::vector<Item> items;
    for (const Row& row : rows) {
        const std::string where = csv_path + ":" + std::to_string(row.line);
        Item item;
        item.path = fs::path(row.image).is_absolute() ? row.image : (fs::path(root) / row.image).string();
        std::error_code ec;
        ENGINE_CHECK(fs::is_regular_file(item.path, ec), "data: ", where, ": image ", item.path, " not found");
        for (const std::string& label : row.labels) {
            const auto it = id_of.find(label);
            ENGINE_CHECK(it != id_of.end(), "data: ", where, ": unknown label \"", label, "\"");
            item.labels.push_back(it->second);
        }
        items.push_back(std::move(item));
    }
    return std::make_shared<ListDataset>(std::move(items), std::move(classes), options.channels, TargetKind::MultiHot);
}

}  // namespace engine::data
