// nn::Module: the base of every layer and model, with PyTorch's nn.Module semantics: parameters, buffers and
// child modules registered by name, dotted paths ("contracting_11.0.weight"), train/eval, device and dtype
// moves, state dicts with validated loading, and removable forward hooks (what Grad-CAM at any layer uses).
//
// Writing a module:
//
//     class Block : public nn::Module {
//     public:
//         Block() {
//             conv_ = register_module("conv", std::make_shared<nn::Conv2d>(nn::Conv2dOptions(3, 8, 3).padding(1)));
//             scale_ = register_parameter("scale", ones({1}));
//         }
//         Tensor forward(const Tensor& x) override { return relu((*conv_)(x)) * scale_; }
//         std::string type_name() const override { return "Block"; }
//     private:
//         std::shared_ptr<nn::Conv2d> conv_;
//         Tensor scale_;
//     };
//
// Call children through operator() (never child->forward()) so that their hooks run.
//
// Ownership: children are held by shared_ptr; a Module is neither copyable nor movable (hooks and parents hold
// references to it). The Module* returned by named_modules()/find_module() live as long as the root.
//
// Parameters are ordinary Tensors (handles) that require grad. A module never replaces a registered tensor's
// TensorImpl: load_state_dict() copies into it and to(Device)/to(DType) swap its storage in place, so Tensor
// handles taken earlier (an optimizer's parameter list, a layer's member) stay valid and see the new values.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"

namespace engine::nn {

class Module;

// Name -> tensor pairs in a fixed order (registration order, as PyTorch's OrderedDict); the form
// safetensors::save() takes.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// A height/width pair that converts from one int (nn.Conv2d's kernel_size=3 means (3, 3)) or from {h, w}.
struct Size2 {
    int64_t h = 0, w = 0;
    Size2(int64_t both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor): kernel_size(3)
    Size2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
    bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
    bool operator!=(const Size2& o) const { return !(*this == o); }
    std::string str() const;  // "(3, 3)" as PyTorch prints it
};

// A forward hook sees the module, its input and its output after forward(); returning a tensor replaces the
// output (later hooks and the rest of the network see the replacement). The output it receives is the very
// tensor the network goes on with, so a hook may keep it to read the activation and, after the forward,
// differentiate with respect to it (autograd::grad(score, {kept})) or call kept.register_hook(...):
//
//     Tensor activation;
//     auto handle = model.module("middle").register_forward_hook(
//         [&](nn::Module&, const Tensor&, const Tensor& out) -> std::optional<Tensor> {
//             activation = out;
//             return std::nullopt;
//         });
//     Tensor score = sum(model(x).select(1, target));
//     Tensor gradient = autograd::grad({score}, {activation})[0];  // Grad-CAM's dscore/dA
//     handle.remove();
using ForwardHook = std::function<std::optional<Tensor>(Module& module, const Tensor& input, const Tensor& output)>;
// A pre-hook runs before forward() and may replace its input.
using ForwardPreHook = std::function<std::optional<Tensor>(Module& module, const Tensor& input)>;

namespace detail {
struct ModuleHooks;
}

// Identifies one registered hook. Copyable; remove() is idempotent and safe after the module is gone. The hook
// stays registered when the handle is destroyed (as PyTorch's RemovableHandle); use ScopedHook for RAII.
class ForwardHookHandle {
public:
    ForwardHookHandle() = default;
    ForwardHookHandle(std::weak_ptr<detail::ModuleHooks> hooks, uint64_t id) : hooks_(std::move(hooks)), id_(id) {}
    void remove();
    bool active() const;  // registered and the module still exists

private:
    std::weak_ptr<detail::ModuleHooks> hooks_;
    uint64_t id_ = 0;
};

// Removes its hook when it goes out of scope. Move-only.
class ScopedHook {
public:
    ScopedHook() = default;
    explicit ScopedHook(ForwardHookHandle handle) : handle_(std::move(handle)) {}
    ~ScopedHook() { handle_.remove(); }
    ScopedHook(ScopedHook&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    ScopedHook& operator=(ScopedHook&& other) noexcept;
    ScopedHook(const ScopedHook&) = delete;
    ScopedHook& operator=(const ScopedHook&) = delete;

private:
    ForwardHookHandle handle_;
};

// What a non-strict load_state_dict() skipped.
struct LoadResult {
    std::vector<std::string> missing_keys;     // in the module, absent from the state dict (left unchanged)
    std::vector<std::string> unexpected_keys;  // in the state dict, not in the module (ignored)
};

class Module {
public:
    Module();
    virtual ~Module();
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    // ------------------------------------------------------------ forward
    virtual Tensor forward(const Tensor& x) = 0;
    // Runs the pre-hooks, forward() and the forward hooks, in registration order.
    Tensor operator()(const Tensor& x);

    // ------------------------------------------------------------ description
    // The class name as PyTorch prints it ("Conv2d", "Sequential", "UNet").
    virtual std::string type_name() const = 0;
    // The arguments PyTorch prints in its repr ("3, 64, kernel_size=(3, 3), stride=(1, 1)"); may be empty.
    virtual std::string extra_repr() const { return ""; }
    // The indented module tree, as print(model) in PyTorch.
    std::string str() const;

    // ------------------------------------------------------------ registration (normally in constructors)
    // Names are non-empty, contain no '.', and are unique across parameters, buffers and children.
    // A parameter is a floating tensor that requires grad (unless requires_grad is false); returns the handle.
    Tensor register_parameter(const std::string& name, Tensor value, bool requires_grad = true);
    // A buffer is state that is not trained (BatchNorm's running statistics). Non-persistent buffers are left out
    // of state_dict().
    Tensor register_buffer(const std::string& name, Tensor value, bool persistent = true);
    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
        add_child(name, module);
        return module;
    }

    // ------------------------------------------------------------ traversal (registration order, depth first)
    // Dotted paths relative to this module: "weight" for its own, "fc.0.weight" for descendants'.
    NamedTensors named_parameters(bool recurse = true) const;
    std::vector<Tensor> parameters(bool recurse = true) const;
    NamedTensors named_buffers(bool recurse = true) const;
    std::vector<Tensor> buffers(bool recurse = true) const;
    std::vector<std::pair<std::string, Module*>> named_children() const;
    // This module first (path ""), then every descendant in pre-order, as PyTorch's named_modules().
    std::vector<std::pair<std::string, Module*>> named_modules();
    // Every descendant's path (without the root's ""), e.g. for an "unknown layer" message or --list-layers.
    std::vector<std::string> module_paths() const;

    // The descendant at a dotted path ("" is this module), or nullptr.
    Module* find_module(const std::string& path);
    // The same, but throws an Error that names the path and lists every valid one.
    Module& module(const std::string& path);
    // module(path) downcast to M; throws naming both types when it is something else.
    template <class M>
    M& module_as(const std::string& path) {
        Module& m = module(path);
        if (auto* typed = dynamic_cast<M*>(&m)) return *typed;
        throw_wrong_type(path, m);
    }
    // A parameter or buffer by dotted path ("expansive_42.3.weight"); throws listing the valid names when absent.
    Tensor parameter(const std::string& path) const;
    Tensor buffer(const std::string& path) const;

    // ------------------------------------------------------------ modes and placement
    // Recursive, as PyTorch: BatchNorm uses batch statistics and Dropout drops only in training mode.
    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }
    // Moves every parameter, buffer and gradient in place (see the header comment); to(DType) converts floating
    // tensors only (BatchNorm's int64 num_batches_tracked stays int64). Optimizer state follows lazily.
    void to(Device device);
    void to(DType dtype);
    // Sets requires_grad on every parameter (false freezes the module: no weight gradients are computed).
    void requires_grad_(bool requires = true);
    // Clears every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
    void zero_grad();
    // Elements over all parameters (only those that require grad when trainable_only).
    int64_t num_parameters(bool trainable_only = false) const;

    // ------------------------------------------------------------ state dicts
    // Parameters and persistent buffers with PyTorch's key order: each module's own tensors, then its children's.
    NamedTensors state_dict() const;
    // Validates everything before changing anything. Throws an Error naming the first problem met in the
    // module's key order: a tensor whose shape differs (with both shapes), a missing tensor (strict) or, after
    // those, an unexpected one (strict), with the totals. Values are copied into the existing tensors (device and
    // dtype conversions included; a floating tensor never loads from an integer one or back).
    LoadResult load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);
    LoadResult load_state_dict(const NamedTensors& state, bool strict = true);  // duplicate names are an error

    // ------------------------------------------------------------ hooks
    ForwardHookHandle register_forward_hook(ForwardHook hook);
    ForwardHookHandle register_forward_pre_hook(ForwardPreHook hook);
    // Registered hooks (pre and post) on this module only.
    size_t num_forward_hooks() const;

protected:
    // Called by train() on every module of the tree; override to react (rarely needed).
    virtual void on_train(bool on) {}

private:
    struct Slot {
        std::string name;
        Tensor tensor;
        bool persistent = true;
    };

    void add_child(const std::string& name, std::shared_ptr<Module> module);
    void check_new_name(const std::string& name, const char* what) const;
    void collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out) const;
    void collect_state(const std::string& prefix, NamedTensors& out) const;
    template <class F>
    void for_each_tensor(F&& f);
    [[noreturn]] void throw_wrong_type(const std::string& path, const Module& found) const;
    void append_str(std::string& out, const std::string& indent) const;

    std::vector<Slot> parameters_;
    std::vector<Slot> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
    std::shared_ptr<detail::ModuleHooks> hooks_;
};

using ModulePtr = std::shared_ptr<Module>;

// The check load_state_dict() runs, shared with the checkpoint loader: `expected` is the module's state dict,
// `given` what a file holds. `context` starts every message ("load_state_dict", "checkpoint x.safetensors").
// exact_dtype additionally requires equal dtypes (checkpoints); otherwise floating<->floating and
// integer<->integer conversions are allowed.
LoadResult check_state_dict(const NamedTensors& expected, const std::map<std::string, Tensor>& given, bool strict,
                            const std::string& context, bool exact_dtype = false);

// Copies values into existing tensors under no-grad (each target keeps its TensorImpl, device and dtype).
void copy_into(const Tensor& target, const Tensor& source);

}  // namespace engine::nn
