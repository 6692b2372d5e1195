// KernelElem<T>: the element type the kernels of both backends compute on for a tensor of T. Bool is handled as
// uint8 (the same bytes), which keeps std::vector<bool> out of reduction accumulators, keeps scatter_add's +=
// well defined and gives warp shuffles an arithmetic type.
#pragma once

#include <cstdint>
#include <type_traits>

namespace engine {

template <class T>
using KernelElem = std::conditional_t<std::is_same_v<T, bool>, uint8_t, T>;

}  // namespace engine
