#include "runtime/device.h"

#include "runtime/error.h"

namespace engine {

Device Device::parse(const std::string& text) {
    if (text == "cpu") return cpu();
    if (text == "cuda") return cuda(0);
    if (text.rfind("cuda:", 0) == 0) {
        const std::string digits = text.substr(5);
        ENGINE_CHECK(!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
                         digits.size() < 4,
                     "device: cannot parse '", text, "' (expected cpu, cuda or cuda:N)");
        return cuda(std::stoi(digits));
    }
    throw Error(detail::concat("device: cannot parse '", text, "' (expected cpu, cuda or cuda:N)"));
}

std::string Device::str() const {
    if (type == DeviceType::CPU) return "cpu";
    return "cuda:" + std::to_string(index);
}

}  // namespace engine
