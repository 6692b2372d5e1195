// The Dataset interface every loader implements (a sample is a float image plus a target), subsets by index,
// and the file-listing helpers the folder datasets share.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace engine::data {

// What Sample::target holds.
enum class TargetKind {
    Class,     // int64 scalar (shape []): the class id; batches stack it to (N)
    Mask,      // int64 (H,W) of class ids in [0, num_classes) or ignore_index(); batches stack it to (N,H,W)
    MultiHot,  // float32 (K) of 0/1, K = num_classes; batches stack it to (N,K)
};

struct Sample {
    Tensor image;   // float32 (C,H,W), values in [0, 1] as loaded (transforms may normalise them)
    Tensor target;  // see TargetKind
};

class Dataset {
public:
    virtual ~Dataset() = default;
    virtual int64_t size() const = 0;
    // Sample `index` in [0, size()). Safe to call from several threads at once. Errors (a corrupt file, a label
    // out of range) are one engine::Error line naming the file.
    virtual Sample get(int64_t index) const = 0;
    // Where sample `index` comes from (a file name, or "file[k]"), for messages and reports.
    virtual std::string source(int64_t index) const = 0;
    virtual TargetKind target_kind() const = 0;
    // Class names in class-id order; for Mask targets the classes a pixel can take (not the ignore value).
    virtual const std::vector<std::string>& class_names() const = 0;
    // Mask targets: the value of pixels that belong to no class (use it as cross_entropy's ignore_index);
    // -1 when the dataset never produces one.
    virtual int64_t ignore_index() const { return -1; }

    int64_t num_classes() const { return static_cast<int64_t>(class_names().size()); }
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// The samples of `base` at `indices` (in that order; repeats allowed), e.g. ISBI slices 0-24 for training.
// Throws when an index is outside [0, base->size()).
DatasetPtr subset(DatasetPtr base, std::vector<int64_t> indices);

// "0-24", "25-29", "0-9,12,20-22": inclusive ranges and single indices, in the order written. Throws naming
// the spec when it is malformed or names an index outside [0, size).
std::vector<int64_t> parse_index_ranges(const std::string& spec, int64_t size);

// a < b with runs of digits compared as numbers: "2.png" < "10.png" < "10a.png".
bool natural_less(const std::string& a, const std::string& b);
// True for names ending in .png, .jpg, .jpeg or .bmp (any case).
bool is_image_file(const std::string& name);
// Full paths of the image files directly in `dir` (hidden ones, starting with '.', skipped), in natural
// order. Throws "data: DIR: ..." when the folder is missing, is not a folder, or holds no image file.
std::vector<std::string> list_image_files(const std::string& dir);

}  // namespace engine::data
