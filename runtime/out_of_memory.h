// The error the CPU allocator throws when memory runs out, so that callers can name what was too large (an
// image, a --size) instead of passing on a bare byte count.
#pragma once

#include "runtime/error.h"

namespace engine {

class OutOfMemoryError : public Error {
public:
    using Error::Error;
};

}  // namespace engine
