// The chained-setter style of layer options (as LibTorch's): Conv2dOptions(3, 64, 3).stride(2).padding(1).
// ENGINE_NN_OPTION(Type, name) = default; declares a private field name_ with a setter name(value) that
// returns the options object and a getter name().
#pragma once

#define ENGINE_NN_OPTION(Type, name)             \
public:                                          \
    auto& name(const Type& value) {              \
        name##_ = value;                         \
        return *this;                            \
    }                                            \
    const Type& name() const { return name##_; } \
                                                 \
private:                                         \
    Type name##_
