// PyTorch-style printing: values with a shared format per tensor, long dims summarised with "...".
#include <cmath>
#include <iomanip>
#include <sstream>

#include "runtime/tensor.h"

namespace engine {
namespace {

constexpr int64_t kSummarizeAbove = 1000;  // elements
constexpr int64_t kEdgeItems = 3;

struct Printer {
    const std::vector<double>& values;
    const Shape& shape;
    const Strides& strides;
    bool floating;
    bool summarize;
    int precision;

    void print(std::ostringstream& os, size_t dim, int64_t base, int indent) const {
        if (dim == shape.size()) {
            print_value(os, values[base]);
            return;
        }
        os << '[';
        const int64_t n = shape[dim];
        for (int64_t i = 0; i < n; ++i) {
            if (summarize && n > 2 * kEdgeItems && i == kEdgeItems) {
                os << (dim + 1 == shape.size() ? "..., " : "...,\n" + std::string(indent + 1, ' '));
                i = n - kEdgeItems;
            }
            print(os, dim + 1, base + i * strides[dim], indent + 1);
            if (i + 1 < n) os << (dim + 1 == shape.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
        }
        os << ']';
    }

    void print_value(std::ostringstream& os, double v) const {
        if (!floating) {
            os << static_cast<int64_t>(v);
        } else if (std::isnan(v)) {
            os << "nan";
        } else if (std::isinf(v)) {
            os << (v > 0 ? "inf" : "-inf");
        } else {
            os << std::fixed << std::setprecision(precision) << v;
        }
    }
};

}  // namespace

std::string Tensor::str() const {
    if (!defined()) return "tensor(undefined)";
    const Tensor host = detach().to(Device::cpu()).to(DType::Float64).contiguous();
    const std::vector<double> values = host.to_vector<double>();
    std::ostringstream os;
    os << "tensor(";
    Printer printer{values, host.shape(), host.strides(), is_floating(dtype()), numel() > kSummarizeAbove, 4};
    if (numel() == 0) {
        os << "[]";
    } else {
        printer.print(os, 0, 0, 7);
    }
    os << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype());
    if (!device().is_cpu()) os << ", device=" << device().str();
    if (requires_grad()) os << ", requires_grad=true";
    os << ')';
    return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace engine
