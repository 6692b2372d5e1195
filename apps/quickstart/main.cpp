// quickstart: trains LeNet (the Grad-CAM tutorial's layout) on Fashion-MNIST with the engine's raw ops and
// autograd, evaluates it on the test split, and writes a JSON report plus the weights. It is the README's
// main job until the training and explanation apps arrive.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "apps/common/flags.h"
#include "autograd/ops.h"
#include "runtime/idx.h"
#include "runtime/parallel.h"
#include "runtime/safetensors.h"

using namespace engine;

namespace {

constexpr double kFashionMean = 0.2860, kFashionStd = 0.3530;

struct Parameter {
    std::string name;
    Tensor value, exp_avg, exp_avg_sq, max_exp_avg_sq;
};

// PyTorch's default init for conv and linear layers: kaiming_uniform(a=sqrt(5)) for the weight, which is
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias.
void add_layer(std::vector<Parameter>& params, const std::string& name, const Shape& weight_shape,
               Generator& gen) {
    int64_t fan_in = 1;
    for (size_t i = 1; i < weight_shape.size(); ++i) fan_in *= weight_shape[i];
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    for (auto [suffix, shape] : {std::pair<const char*, Shape>{".weight", weight_shape}, {".bias", {weight_shape[0]}}}) {
        Tensor value = uniform(shape, -bound, bound, gen);
        value.requires_grad_(true);
        params.push_back({name + suffix, value, zeros(shape), zeros(shape), Tensor()});
    }
}

class LeNet {
public:
    explicit LeNet(uint64_t seed) {
        Generator gen(seed);
        add_layer(params_, "conv.0", {6, 1, 5, 5}, gen);
        add_layer(params_, "conv.3", {16, 6, 5, 5}, gen);
        add_layer(params_, "fc.0", {120, 256}, gen);
        add_layer(params_, "fc.2", {84, 120}, gen);
        add_layer(params_, "fc.4", {10, 84}, gen);
    }

    Tensor forward(const Tensor& x) const {
        Pool2dParams pool;  // 2x2, stride 2
        Tensor h = max_pool2d(relu(conv2d(x, w(0), w(1), {})), pool);
        h = max_pool2d(relu(conv2d(h, w(2), w(3), {})), pool);
        h = h.flatten(1);
        h = relu(linear(h, w(4), w(5)));
        h = relu(linear(h, w(6), w(7)));
        return linear(h, w(8), w(9));
    }

    std::vector<Parameter>& params() { return params_; }

private:
    const Tensor& w(size_t i) const { return params_[i].value; }
    std::vector<Parameter> params_;
};

// uint8 images (N,28,28) -> normalised float32 (N,1,28,28).
Tensor to_input(const Tensor& images) {
    Tensor x = images.to(DType::Float32).unsqueeze(1);
    return (x * (1.0 / 255.0) - kFashionMean) * (1.0 / kFashionStd);
}

double accuracy(LeNet& model, const Tensor& images, const Tensor& labels, int64_t batch) {
    NoGradGuard no_grad;
    int64_t correct = 0;
    for (int64_t start = 0; start < images.size(0); start += batch) {
        const int64_t n = std::min(batch, images.size(0) - start);
        const Tensor predicted = argmax(model.forward(to_input(images.narrow(0, start, n))), 1);
        correct += sum(eq(predicted, labels.narrow(0, start, n)).to(DType::Int64)).item<int64_t>();
    }
    return static_cast<double>(correct) / static_cast<double>(images.size(0));
}

struct Options {
    std::string data_dir = "/usr/share/datasets/fashion-mnist";
    std::string out_dir = "out/quickstart";
    int epochs = 1, batch = 32, threads = 0;
    double lr = 1e-3;
    uint64_t seed = 1;
    int64_t limit = 0;
};

void add_flags(CLI::App& app, Options& o) {
    app.add_option("--data", o.data_dir, "Folder with the four Fashion-MNIST IDX files (.gz or raw)")
        ->capture_default_str();
    app.add_option("--out", o.out_dir, "Output folder for the report and the weights")->capture_default_str();
    app.add_option("--epochs", o.epochs, "Passes over the training set")
        ->capture_default_str()
        ->check(apps::positive_number());
    app.add_option("--batch", o.batch, "Batch size")->capture_default_str()->check(apps::positive_number());
    app.add_option("--lr", o.lr, "Adam learning rate")->capture_default_str()->check(apps::positive_number());
    app.add_option("--seed", o.seed, "Seed for initialisation and shuffling")
        ->capture_default_str()
        ->check(apps::non_negative_integer());
    app.add_option("--limit", o.limit, "Use only the first N training images (0 = all)")
        ->capture_default_str()
        ->check(apps::non_negative_number());
    app.add_option("--threads", o.threads, "CPU threads (0 = all cores)")->capture_default_str()->check(apps::thread_count());
}

struct FashionMnist {
    Tensor train_images, train_labels, test_images, test_labels;
};

// The four IDX files (.gz or raw), the training split cut to --limit.
FashionMnist load_data(const Options& o) {
    auto file = [&](const char* stem) {
        const std::string gz = o.data_dir + "/" + stem + ".gz";
        return std::filesystem::exists(gz) ? gz : o.data_dir + "/" + stem;
    };
    FashionMnist d;
    d.train_images = idx::read_images(file("train-images-idx3-ubyte"));
    d.train_labels = idx::read_labels(file("train-labels-idx1-ubyte"));
    d.test_images = idx::read_images(file("t10k-images-idx3-ubyte"));
    d.test_labels = idx::read_labels(file("t10k-labels-idx1-ubyte"));
    ENGINE_CHECK(d.train_images.size(0) == d.train_labels.size(0), "quickstart: ", d.train_images.size(0),
                 " training images but ", d.train_labels.size(0), " labels");
    ENGINE_CHECK(d.train_images.size(1) == 28 && d.train_images.size(2) == 28,
                 "quickstart: expected 28x28 images, got ", shape_str(d.train_images.shape()));
    if (o.limit > 0 && o.limit < d.train_images.size(0)) {
        d.train_images = d.train_images.narrow(0, 0, o.limit);
        d.train_labels = d.train_labels.narrow(0, 0, o.limit);
    }
    return d;
}

// One pass over the training set in `order`, Adam step by step (`step` counts on); returns the mean loss.
double train_epoch(LeNet& model, const FashionMnist& data, const std::vector<int64_t>& order, const Options& o,
                   const AdamParams& adam, int64_t& step) {
    const int64_t n_train = data.train_images.size(0);
    const Tensor permutation = from_vector<int64_t>(order, {n_train});
    double loss_sum = 0;
    int64_t batches = 0;
    for (int64_t first = 0; first < n_train; first += o.batch) {
        const int64_t n = std::min<int64_t>(o.batch, n_train - first);
        const Tensor index = permutation.narrow(0, first, n);
        const Tensor x = to_input(index_select(data.train_images, 0, index));
        const Tensor y = index_select(data.train_labels, 0, index);
        Tensor loss = cross_entropy(model.forward(x), y);
        const double loss_value = loss.item<double>();
        ENGINE_CHECK(std::isfinite(loss_value), "quickstart: the loss became ", loss_value, " at step ", step + 1,
                     "; lower --lr");
        for (Parameter& p : model.params()) p.value.set_grad(Tensor());
        loss.backward();
        ++step;
        NoGradGuard no_grad;
        for (Parameter& p : model.params())
            adam_step(p.value, p.value.grad(), p.exp_avg, p.exp_avg_sq, p.max_exp_avg_sq, step, adam);
        loss_sum += loss_value;
        ++batches;
    }
    return loss_sum / static_cast<double>(batches);
}

// OUT/lenet.safetensors and OUT/report.json.
void write_outputs(const Options& o, LeNet& model, int64_t n_train, const nlohmann::json& history,
                   double seconds_total) {
    std::filesystem::create_directories(o.out_dir);
    std::vector<std::pair<std::string, Tensor>> weights;
    for (const Parameter& p : model.params()) weights.emplace_back(p.name, p.value);
    safetensors::save(o.out_dir + "/lenet.safetensors", weights,
                      {{"model", "lenet"}, {"epochs", std::to_string(o.epochs)}});
    const nlohmann::json report = {{"model", "lenet"},
                                   {"data", o.data_dir},
                                   {"train_images", n_train},
                                   {"batch", o.batch},
                                   {"lr", o.lr},
                                   {"threads", num_threads()},
                                   {"epochs", history},
                                   {"train_seconds", seconds_total},
                                   {"test_accuracy", history.back()["test_accuracy"]}};
    safetensors::write_file_atomically(o.out_dir + "/report.json", report.dump(2) + "\n");
    std::printf("wrote %s/report.json and %s/lenet.safetensors\n", o.out_dir.c_str(), o.out_dir.c_str());
}

int run(int argc, char** argv) {
    CLI::App app{"Train LeNet on Fashion-MNIST with the engine and report test accuracy."};
    Options o;
    add_flags(app, o);
    CLI11_PARSE(app, argc, argv);
    if (o.threads > 0) set_num_threads(o.threads);
    const FashionMnist data = load_data(o);
    const int64_t n_train = data.train_images.size(0);
    std::printf("Fashion-MNIST: %lld training and %lld test images; LeNet, batch %d, Adam lr %g, %d thread(s)\n",
                static_cast<long long>(n_train), static_cast<long long>(data.test_images.size(0)), o.batch, o.lr,
                num_threads());

    LeNet model(o.seed);
    AdamParams adam;
    adam.lr = o.lr;
    std::mt19937_64 shuffle_rng(o.seed);
    std::vector<int64_t> order(n_train);
    std::iota(order.begin(), order.end(), 0);
    nlohmann::json history = nlohmann::json::array();
    int64_t step = 0;
    double seconds_total = 0;
    for (int epoch = 1; epoch <= o.epochs; ++epoch) {
        std::shuffle(order.begin(), order.end(), shuffle_rng);
        const auto start = std::chrono::steady_clock::now();
        const double train_loss = train_epoch(model, data, order, o, adam, step);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        seconds_total += seconds;
        const double test_acc = accuracy(model, data.test_images, data.test_labels, 1000);
        std::printf("epoch %d/%d: train loss %.4f, test accuracy %.2f%%, %.1f s (%.0f images/s)\n", epoch, o.epochs,
                    train_loss, 100.0 * test_acc, seconds, static_cast<double>(n_train) / seconds);
        std::fflush(stdout);
        history.push_back(
            {{"epoch", epoch}, {"train_loss", train_loss}, {"test_accuracy", test_acc}, {"seconds", seconds}});
    }
    write_outputs(o, model, n_train, history, seconds_total);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
