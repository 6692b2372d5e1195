// A non-owning reference to a callable, like std::function without allocation or copies: what lets a loop driver
// (parallel_for, the elementwise row iterator) be compiled once instead of once per lambda it is given. The
// callable must outlive the call it is passed to.
#pragma once

#include <type_traits>
#include <utility>

namespace engine {

template <class Signature>
class FunctionRef;

template <class R, class... Args>
class FunctionRef<R(Args...)> {
public:
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
    FunctionRef(const F& f) : object_(static_cast<const void*>(&f)), call_(&call_as<F>) {}  // NOLINT: implicit

    R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

private:
    template <class F>
    static R call_as(const void* object, Args... args) {
        return (*static_cast<const F*>(object))(std::forward<Args>(args)...);
    }

    const void* object_;
    R (*call_)(const void*, Args...);
};

}  // namespace engine
