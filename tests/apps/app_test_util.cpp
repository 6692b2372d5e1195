// Helpers of the app tests (see app_test_util.h).
#include "app_test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace engine::apps::test {

namespace fs = std::filesystem;

TempDir::TempDir() {
    std::string pattern = (fs::temp_directory_path() / "engine_apps_test_XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    if (!made) throw std::runtime_error("mkdtemp failed");
    path_ = made;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::vector<std::string> AppResult::err_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(err);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

namespace {

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace

AppResult run_app(const std::string& binary, const std::vector<std::string>& args) {
    TempDir capture;
    std::string command = quote(binary);
    for (const std::string& a : args) command += " " + quote(a);
    command += " </dev/null >" + quote(capture / "out") + " 2>" + quote(capture / "err");
    const int status = std::system(command.c_str());
    AppResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_text(capture / "out");
    r.err = read_text(capture / "err");
    return r;
}

RunningApp::RunningApp(const std::string& binary, const std::vector<std::string>& args) {
    std::vector<std::string> strings{binary};
    strings.insert(strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    const std::string out = capture_ / "out", err = capture_ / "err";
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {  // only async-signal-safe calls until exec
        const int in_fd = ::open("/dev/null", O_RDONLY);
        const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(126);
        ::dup2(in_fd, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
}

RunningApp::~RunningApp() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
}

bool RunningApp::wait_for_output(const std::string& text, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        if (read_text(capture_ / "out").find(text) != std::string::npos) return true;
        int status = 0;
        if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;  // exited on its own; wait() must not wait again
            exit_status_ = status;
            return read_text(capture_ / "out").find(text) != std::string::npos;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

void RunningApp::send(int signal) {
    if (pid_ > 0) ::kill(pid_, signal);
}

AppResult RunningApp::wait() {
    int status = exit_status_;
    if (pid_ > 0) {
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
    }
    AppResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    r.out = read_text(capture_ / "out");
    r.err = read_text(capture_ / "err");
    return r;
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

void expect_one_error_line(const AppResult& r, const std::string& what, int code) {
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    const std::vector<std::string> lines = r.err_lines();
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_EQ(lines[0].rfind("error: ", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find(what), std::string::npos) << lines[0];
}

std::vector<double> step_losses(const std::string& out_dir) {
    return read_json(out_dir + "/metrics.json").at("loss").at("step_loss").get<std::vector<double>>();
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

void truncate_file(const std::string& path, size_t bytes) { fs::resize_file(path, bytes); }

void write_segmentation_folder(const std::string& root, int count, int64_t size, uint64_t seed) {
    fs::create_directories(root + "/image");
    fs::create_directories(root + "/label");
    std::mt19937_64 rng(seed);
    for (int k = 0; k < count; ++k) {
        data::Image image(size, size, 1), label(size, size, 1);
        const double cy = static_cast<double>(rng() % size), cx = static_cast<double>(rng() % size);
        const double r = static_cast<double>(size) / 4.0;
        for (int64_t y = 0; y < size; ++y)
            for (int64_t x = 0; x < size; ++x) {
                const double d = std::hypot(static_cast<double>(y) - cy, static_cast<double>(x) - cx);
                const bool ring = std::abs(d - r) < 2.0 || (x + y) % 11 == 0;  // "membranes"
                *label.pixel(y, x) = ring ? 0 : 255;
                *image.pixel(y, x) = static_cast<uint8_t>((ring ? 60 : 190) + static_cast<int>(rng() % 40));
            }
        data::write_png(root + "/image/" + std::to_string(k) + ".png", image);
        data::write_png(root + "/label/" + std::to_string(k) + ".png", label);
    }
}

data::Image make_cityscapes_pair(uint64_t seed, int64_t width, int64_t height) {
    // road (128,64,128), building (70,70,70), sky (70,130,180), car (0,0,142), vegetation (107,142,35)
    const uint8_t colors[5][3] = {{128, 64, 128}, {70, 70, 70}, {70, 130, 180}, {0, 0, 142}, {107, 142, 35}};
    std::mt19937_64 rng(seed);
    data::Image image(height, width, 3);
    const int64_t half = width / 2;
    const int64_t horizon = height / 3 + static_cast<int64_t>(rng() % (height / 3));
    for (int64_t y = 0; y < height; ++y)
        for (int64_t x = 0; x < half; ++x) {
            int c = y < horizon / 2 ? 2 : y < horizon ? 1 : 0;
            if (y >= horizon && (x / 16 + static_cast<int64_t>(seed)) % 5 == 0) c = 3;
            if (y < horizon && y >= horizon / 2 && x % 40 < 8) c = 4;
            uint8_t* photo = image.pixel(y, x);
            uint8_t* label = image.pixel(y, x + half);
            for (int k = 0; k < 3; ++k) {
                label[k] = colors[c][k];
                photo[k] = static_cast<uint8_t>(std::min(255, colors[c][k] / 2 + 60 + static_cast<int>(rng() % 30)));
            }
        }
    return image;
}

std::string encode_jpeg(const data::Image& image) {
    std::string out;
    auto sink = [](void* context, void* bytes, int size) {
        static_cast<std::string*>(context)->append(static_cast<const char*>(bytes), static_cast<size_t>(size));
    };
    stbi_write_jpg_to_func(sink, &out, static_cast<int>(image.width), static_cast<int>(image.height),
                           static_cast<int>(image.channels), image.pixels.data(), 90);
    return out;
}

void write_cityscapes_pairs(const std::string& dir, int count, bool jpeg, uint64_t seed) {
    fs::create_directories(dir);
    for (int k = 0; k < count; ++k) {
        const data::Image pair = make_cityscapes_pair(seed * 1000 + static_cast<uint64_t>(k));
        const std::string name = dir + "/" + std::to_string(k + 1);
        if (jpeg)
            write_text(name + ".jpg", encode_jpeg(pair));
        else
            data::write_png(name + ".png", pair);
    }
}

namespace {

void put_be32(std::string& s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

void write_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t n, int64_t classes,
                    std::mt19937_64& rng) {
    std::string images, labels;
    put_be32(images, 0x803);
    put_be32(images, static_cast<uint32_t>(n));
    put_be32(images, 28);
    put_be32(images, 28);
    put_be32(labels, 0x801);
    put_be32(labels, static_cast<uint32_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t c = static_cast<int64_t>(rng() % static_cast<uint64_t>(classes));
        labels.push_back(static_cast<char>(c));
        for (int64_t y = 0; y < 28; ++y)
            for (int64_t x = 0; x < 28; ++x) {
                // Class c lights up horizontal band c; noise elsewhere.
                const bool on = y / (28 / classes) == c;
                images.push_back(static_cast<char>(on ? 200 + rng() % 50 : rng() % 60));
            }
    }
    write_text(images_path, images);
    write_text(labels_path, labels);
}

}  // namespace

void write_idx_set(const std::string& dir, int64_t train, int64_t test, int64_t classes, uint64_t seed) {
    std::mt19937_64 rng(seed);
    write_idx_pair(dir + "/train-images-idx3-ubyte", dir + "/train-labels-idx1-ubyte", train, classes, rng);
    write_idx_pair(dir + "/t10k-images-idx3-ubyte", dir + "/t10k-labels-idx1-ubyte", test, classes, rng);
}

void write_image_folder(const std::string& root, const std::vector<std::string>& splits, int classes, int per_class,
                        int64_t size) {
    std::mt19937_64 rng(7);
    for (const std::string& split : splits)
        for (int c = 0; c < classes; ++c) {
            const std::string dir = root + "/" + split + "/class" + std::to_string(c);
            fs::create_directories(dir);
            for (int k = 0; k < per_class; ++k) {
                data::Image image(size, size, 3);
                for (auto& v : image.pixels) v = static_cast<uint8_t>(rng() % 50);
                for (int64_t y = 0; y < size; ++y)
                    for (int64_t x = 0; x < size; ++x) image.pixel(y, x)[c % 3] = 200;
                data::write_png(dir + "/" + std::to_string(k) + ".png", image);
            }
        }
}

void write_multilabel_csv(const std::string& root, int count, int64_t size) {
    fs::create_directories(root + "/images");
    std::mt19937_64 rng(5);
    const char* names[3] = {"red", "green", "blue"};
    std::string csv = "image,labels\n";
    for (int k = 0; k < count; ++k) {
        const unsigned mask = static_cast<unsigned>(rng() % 8);
        data::Image image(size, size, 3);
        for (int64_t y = 0; y < size; ++y)
            for (int64_t x = 0; x < size; ++x)
                for (int c = 0; c < 3; ++c)
                    image.pixel(y, x)[c] = (mask >> c & 1u) && (x / 4 + y / 4 + c) % 3 == 0 ? 230 : 20;
        const std::string name = "images/" + std::to_string(k) + ".png";
        data::write_png(root + "/" + name, image);
        std::string labels;
        for (int c = 0; c < 3; ++c)
            if (mask >> c & 1u) labels += (labels.empty() ? "" : " ") + std::string(names[c]);
        csv += name + "," + labels + "\n";
    }
    write_text(root + "/labels.csv", csv);
}

}  // namespace engine::apps::test
