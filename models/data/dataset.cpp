// Subsets, index-range parsing and listing image files in natural order.
#include "models/data/dataset.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace engine::data {
namespace {

class SubsetDataset final : public Dataset {
public:
    SubsetDataset(DatasetPtr base, std::vector<int64_t> indices)
        : base_(std::move(base)), indices_(std::move(indices)) {
        ENGINE_CHECK(base_ != nullptr, "subset: null dataset");
        for (int64_t i : indices_)
            ENGINE_CHECK(i >= 0 && i < base_->size(), "subset: index ", i, " out of range for a dataset of ",
                         base_->size(), " samples");
    }
    int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
    Sample get(int64_t index) const override { return base_->get(at(index)); }
    std::string source(int64_t index) const override { return base_->source(at(index)); }
    TargetKind target_kind() const override { return base_->target_kind(); }
    const std::vector<std::string>& class_names() const override { return base_->class_names(); }
    int64_t ignore_index() const override { return base_->ignore_index(); }

private:
    int64_t at(int64_t index) const {
        ENGINE_CHECK(index >= 0 && index < size(), "subset: index ", index, " out of range for ", size(), " samples");
        return indices_[static_cast<size_t>(index)];
    }
    DatasetPtr base_;
    std::vector<int64_t> indices_;
};

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool parse_index(const std::string& text, int64_t& out) {
    if (text.empty() || text.size() > 18) return false;
    out = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + (c - '0');
    }
    return true;
}

}  // namespace

DatasetPtr subset(DatasetPtr base, std::vector<int64_t> indices) {
    return std::make_shared<SubsetDataset>(std::move(base), std::move(indices));
}

std::vector<int64_t> parse_index_ranges(const std::string& spec, int64_t size) {
    std::vector<int64_t> out;
    size_t start = 0;
    while (start <= spec.size()) {
        size_t comma = spec.find(',', start);
        if (comma == std::string::npos) comma = spec.size();
        std::string part = spec.substr(start, comma - start);
        part.erase(std::remove_if(part.begin(), part.end(), [](unsigned char c) { return std::isspace(c); }),
                   part.end());
        const size_t dash = part.find('-');
        int64_t lo = 0, hi = 0;
        const bool ok = dash == std::string::npos
                            ? parse_index(part, lo) && (hi = lo, true)
                            : parse_index(part.substr(0, dash), lo) && parse_index(part.substr(dash + 1), hi);
        ENGINE_CHECK(ok && lo <= hi, "index ranges \"", spec, "\": cannot read \"", part, "\" (expected e.g. 0-24,27)");
        ENGINE_CHECK(hi < size, "index ranges \"", spec, "\": index ", hi, " out of range for ", size, " items");
        for (int64_t i = lo; i <= hi; ++i) out.push_back(i);
        start = comma + 1;
    }
    return out;
}

bool natural_less(const std::string& a, const std::string& b) {
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        const bool da = std::isdigit(static_cast<unsigned char>(a[i])),
                   db = std::isdigit(static_cast<unsigned char>(b[j]));
        if (da && db) {
            size_t ei = i, ej = j;
            while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei]))) ++ei;
            while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej]))) ++ej;
            // Compare the numbers without converting them (they may be long): strip leading zeros, then
            // the longer number is larger, then digit by digit.
            size_t zi = i, zj = j;
            while (zi + 1 < ei && a[zi] == '0') ++zi;
            while (zj + 1 < ej && b[zj] == '0') ++zj;
            if (ei - zi != ej - zj) return ei - zi < ej - zj;
            const int cmp = a.compare(zi, ei - zi, b, zj, ej - zj);
            if (cmp != 0) return cmp < 0;
            if (ei - i != ej - j) return ei - i < ej - j;  // "01" after "1": fewer leading zeros first
            i = ei;
            j = ej;
        } else {
            if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
            ++i;
            ++j;
        }
    }
    return a.size() - i < b.size() - j;
}

bool is_image_file(const std::string& name) {
    const size_t dot = name.find_last_of('.');
    if (dot == std::string::npos) return false;
    const std::string ext = lower(name.substr(dot + 1));
    return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "bmp";
}

std::vector<std::string> list_image_files(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    ENGINE_CHECK(fs::exists(dir, ec), "data: ", dir, ": no such folder");
    ENGINE_CHECK(fs::is_directory(dir, ec), "data: ", dir, ": not a folder");
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        // Hidden files (macOS "._x.png" forks, editor backups) are not data.
        if (name[0] != '.' && is_image_file(name) && it->is_regular_file(ec)) names.push_back(name);
    }
    ENGINE_CHECK(!ec, "data: ", dir, ": cannot list (", ec.message(), ")");
    ENGINE_CHECK(!names.empty(), "data: ", dir, ": no image files (.png, .jpg, .jpeg, .bmp)");
    std::sort(names.begin(), names.end(), natural_less);
    std::vector<std::string> paths;
    paths.reserve(names.size());
    for (const std::string& name : names) paths.push_back((fs::path(dir) / name).string());
    return paths;
}

}  // namespace engine::data
