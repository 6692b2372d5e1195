// Errors raised by the engine. Every precondition check stays on in Release builds: a wrong shape or an
// out-of-range index from user data must become an exception naming the op, never undefined behaviour.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace engine {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown when a device (e.g. CUDA) is asked for but absent or unusable.
class DeviceError : public Error {
public:
    using Error::Error;
};

// Thrown by backward() for graph misuse: a freed graph, a tensor that does not require grad, ...
class AutogradError : public Error {
public:
    using Error::Error;
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <class T, class... Rest>
void append_all(std::ostringstream& os, const T& first, const Rest&... rest) {
    os << first;
    append_all(os, rest...);
}
template <class... Args>
std::string concat(const Args&... args) {
    std::ostringstream os;
    append_all(os, args...);
    return os.str();
}
}  // namespace detail

// "[2, 3, 4]": used in every shape error message.
std::string shape_str(const std::vector<int64_t>& shape);

}  // namespace engine

#define ENGINE_CHECK(cond, ...)                                                     \
    do {                                                                            \
        if (!(cond)) throw ::engine::Error(::engine::detail::concat(__VA_ARGS__)); \
    } while (0)

#define ENGINE_CHECK_T(ExceptionType, cond, ...)                                  \
    do {                                                                          \
        if (!(cond)) throw ExceptionType(::engine::detail::concat(__VA_ARGS__)); \
    } while (0)
