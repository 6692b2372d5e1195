// The datasets the apps train on: IDX files (MNIST, Fashion-MNIST), segmentation folders (image/ + label/
// PNGs, e.g. the ISBI 2012 membranes), Cityscapes image pairs (photo | colour label map in one JPEG), image
// folders with one sub-folder per class, and a CSV of multi-label images. All are read-only after
// construction, so get() may run on several loader threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/data/dataset.h"
#include "models/data/palette.h"

namespace engine::data {

// ---------------------------------------------------------------- IDX (models/data/idx_dataset.cpp)
// Images (N,H,W) uint8 and labels (N) from two IDX files (raw or .gz). Samples are float32 (1,H,W) in [0, 1]
// with an int64 class id. Throws when the counts differ or a label is >= the number of class names.
class IdxDataset final : public Dataset {
public:
    // class_names empty: "0" .. "9".
    IdxDataset(const std::string& images_path, const std::string& labels_path,
               std::vector<std::string> class_names = {});
    int64_t size() const override { return images_.size(0); }
    Sample get(int64_t index) const override;
    std::string source(int64_t index) const override;
    TargetKind target_kind() const override { return TargetKind::Class; }
    const std::vector<std::string>& class_names() const override { return class_names_; }
    // The whole set, for fast evaluation loops: uint8 (N,H,W) and int64 (N).
    const Tensor& images() const { return images_; }
    const Tensor& labels() const { return labels_; }

private:
    std::string images_path_;
    Tensor images_, labels_;
    std::vector<std::string> class_names_;
};

// "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot".
const std::vector<std::string>& fashion_mnist_classes();
// DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte, each with or without .gz (e.g.
// /usr/share/datasets/fashion-mnist). mnist() is the same layout with digit class names.
std::shared_ptr<IdxDataset> fashion_mnist(const std::string& dir, bool train);
std::shared_ptr<IdxDataset> mnist(const std::string& dir, bool train);

// ---------------------------------------------------------------- segmentation folders (segmentation_folder.cpp)
enum class MaskEncoding {
    Indexed,  // gray label PNGs whose values are class ids (ignore_index passes through; others are errors)
    Binary,   // gray masks thresholded at 128: dark -> class 0, bright -> class 1 (swapped by invert_binary)
    Color,    // RGB label images mapped by color_map (e.g. ColorMapper(voc palette, 0) for VOC-style labels)
};

struct SegmentationFolderOptions {
    std::string image_subdir = "image";
    std::string label_subdir = "label";
    int64_t channels = 1;  // of the image tensors: 1 gray, 3 RGB
    MaskEncoding encoding = MaskEncoding::Indexed;
    bool invert_binary = false;
    // Indexed and Color: required (the number of classes); Binary: default {"background", "foreground"}.
    std::vector<std::string> class_names;
    int64_t ignore_index = 255;
    std::shared_ptr<const ColorMapper> color_map;  // Color only
    // Which image files, as positions in natural name order; empty = all.
    std::vector<int64_t> indices;
    bool preload = false;  // decode every selected file once, at construction
};

// ROOT/image_subdir holds the images; ROOT/label_subdir a label of the same size per image, with the same file
// name (or the same stem with .png). Samples: float32 (channels,H,W) and an int64 (H,W) mask. Errors name
// the file: a missing label, a size mismatch, a 16-bit label, a class id out of range.
class SegmentationFolder final : public Dataset {
public:
    SegmentationFolder(const std::string& root, SegmentationFolderOptions options);
    int64_t size() const override { return static_cast<int64_t>(images_.size()); }
    Sample get(int64_t index) const override;
    std::string source(int64_t index) const override { return images_.at(static_cast<size_t>(index)); }
    TargetKind target_kind() const override { return TargetKind::Mask; }
    const std::vector<std::string>& class_names() const override { return options_.class_names; }
    int64_t ignore_index() const override;

private:
    Sample load(size_t i) const;
    SegmentationFolderOptions options_;
    std::vector<std::string> images_, labels_;
    std::vector<Sample> preloaded_;
};

// The ISBI 2012 EM membrane set as in the U-Net paper: ROOT/image/N.png and ROOT/label/N.png (N = 0..29),
// gray 512x512. Classes {"cell", "membrane"}: label 255 (cell interior) -> class 0, label 0 (membrane) ->
// class 1, so "membrane IoU" is the IoU of class kIsbiMembraneClass. slices: e.g. parse_index_ranges("0-24",
// 30) for training and "25-29" for validation (neighbouring slices are correlated: split by slice).
constexpr int64_t kIsbiMembraneClass = 1;
std::shared_ptr<SegmentationFolder> isbi_membranes(const std::string& root, const std::vector<int64_t>& slices = {},
                                                   bool preload = true);

// ---------------------------------------------------------------- Cityscapes pairs (cityscapes.cpp)
// The Kaggle "cityscapes-image-pairs" files: DIR/*.jpg, each 256 high x 512 wide, the photo in the left half
// and the gtFine colour label map in the right. Label colours carry JPEG noise: each pixel takes the class of
// the nearest label colour within max_color_distance, else ignore_index. Samples: float32 (3,256,256) and an
// int64 (256,256) mask. Any file of another size, or not in colour, is an error naming it, raised by the
// constructor (which reads every selected file's header).
struct CityscapesPairsOptions {
    CityscapesClasses classes = CityscapesClasses::Categories;  // 8 classes, see palette.h
    // Or a class set of your own: label colours with their class ids (ignored ones with ignore_index) and the
    // class names; when `palette` is given, `classes` is not used.
    std::vector<PaletteEntry> palette;
    std::vector<std::string> class_names;
    // 40 keeps ~94% of label pixels (77% lie within 10 of a label colour); the rest are mostly blends at
    // class edges, which are better ignored than guessed.
    double max_color_distance = 40;
    int64_t ignore_index = 255;
    std::vector<int64_t> indices;  // positions in natural file order; empty = all
    bool preload = false;          // 256x512x3 bytes per file
};
constexpr int64_t kCityscapesPairHeight = 256, kCityscapesPairWidth = 512;

class CityscapesPairs final : public Dataset {
public:
    CityscapesPairs(const std::string& dir, CityscapesPairsOptions options = {});
    int64_t size() const override { return static_cast<int64_t>(files_.size()); }
    Sample get(int64_t index) const override;
    std::string source(int64_t index) const override { return files_.at(static_cast<size_t>(index)); }
    TargetKind target_kind() const override { return TargetKind::Mask; }
    const std::vector<std::string>& class_names() const override { return class_names_; }
    int64_t ignore_index() const override { return options_.ignore_index; }
    const ColorMapper& color_map() const { return mapper_; }

private:
    CityscapesPairsOptions options_;
    std::vector<std::string> files_, class_names_;
    ColorMapper mapper_;
    std::vector<Image> preloaded_;
};

// Splits one composite (RGB, 256x512) into the photo tensor and the mapped class map; `source` names it in errors.
Sample split_cityscapes_pair(const Image& composite, const ColorMapper& mapper, const std::string& source);

// ---------------------------------------------------------------- image folders and CSV lists (image_folder.cpp)
// ROOT/<class>/<image>: class names are the sub-folder names in sorted (byte) order, files within a class in
// natural order (torchvision's ImageFolder layout; hidden folders and files, starting with '.', are skipped). Samples:
// float32 (channels,H,W) and an int64 class id. Images of different sizes need a resize transform before batching. A
// class folder without images is an error.
std::shared_ptr<Dataset> image_folder(const std::string& root, int64_t channels = 3);

// A CSV with one line per image: `image,labels`, labels separated by spaces (none is allowed: all zeros),
// an optional header line `image,labels`, fields optionally in double quotes. Images are relative to
// image_root (default: the CSV's folder). Class names are the sorted distinct labels unless given (then an
// unknown label is an error naming the line). Samples: float32 (channels,H,W) and a float32 (K) multi-hot.
struct MultiLabelCsvOptions {
    std::string image_root;
    int64_t channels = 3;
    std::vector<std::string> class_names;
};
std::shared_ptr<Dataset> multilabel_csv(const std::string& csv_path, MultiLabelCsvOptions options = {});

}  // namespace engine::data
