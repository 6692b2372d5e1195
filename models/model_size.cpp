// Parameter counts from a model config, without building the model: the formulas mirror the constructors in
// unet.cpp, lenet.cpp, vgg.cpp and fcn.cpp (tests/models/model_names_test.cpp checks them against
// num_parameters() of built models).
#include "models/model.h"
#include "models/vgg.h"

namespace engine::models {
namespace {

double conv(double in, double out, double k, bool bias = true) { return in * out * k * k + (bias ? out : 0); }
double linear(double in, double out) { return in * out + out; }
double batch_norm(double channels) { return 2 * channels; }  // weight and bias; running stats are buffers

double unet(const ModelConfig& c) {
    const double w = static_cast<double>(c.width);
    auto block = [](double in, double out) { return conv(in, out, 3) + batch_norm(out) + conv(out, out, 3) + batch_norm(out); };
    auto up = [](double in, double out) { return conv(in, out, 3); };  // ConvTranspose2d: the same count
    return block(static_cast<double>(c.in_channels), w) + block(w, 2 * w) + block(2 * w, 4 * w) +
           block(4 * w, 8 * w) + block(8 * w, 16 * w) + up(16 * w, 8 * w) + block(16 * w, 8 * w) + up(8 * w, 4 * w) +
           block(8 * w, 4 * w) + up(4 * w, 2 * w) + block(4 * w, 2 * w) + up(2 * w, w) + block(2 * w, w) +
           conv(w, static_cast<double>(c.num_classes), 3);
}

double lenet(const ModelConfig& c) {
    return conv(static_cast<double>(c.in_channels), 6, 5) + conv(6, 16, 5) + linear(256, 120) + linear(120, 84) +
           linear(84, static_cast<double>(c.num_classes));
}

double vgg_features(int64_t depth, bool bn, int64_t in_channels) {
    double total = 0, channels = static_cast<double>(in_channels);
    for (int64_t width : vgg_layer_widths(depth)) {
        if (width == 0) continue;
        total += conv(channels, static_cast<double>(width), 3) + (bn ? batch_norm(static_cast<double>(width)) : 0);
        channels = static_cast<double>(width);
    }
    return total;
}

double vgg(const ModelConfig& c) {
    const double flat = 512.0 * static_cast<double>(c.pool_size) * static_cast<double>(c.pool_size);
    const double hidden = static_cast<double>(c.classifier_width);
    return vgg_features(std::stoll(c.name.substr(3, 2)), c.name.size() > 5, c.in_channels) + linear(flat, hidden) +
           linear(hidden, hidden) + linear(hidden, static_cast<double>(c.num_classes));
}

double fcn32s(const ModelConfig& c) {
    const double hw = static_cast<double>(c.head_width), classes = static_cast<double>(c.num_classes);
    return vgg_features(16, false, c.in_channels) + conv(512, hw, 7) + conv(hw, hw, 1) + conv(hw, classes, 1) +
           conv(classes, classes, 64, false);
}

}  // namespace

double parameter_count(const ModelConfig& config) {
    const ModelConfig c = config.resolved();
    if (c.name == "unet") return unet(c);
    if (c.name == "lenet") return lenet(c);
    if (c.name == "fcn32s") return fcn32s(c);
    return vgg(c);  // resolved() accepts no other name
}

}  // namespace engine::models
