// nn::Module: registration, traversal by dotted path, modes, in-place device/dtype moves, state dicts and
// forward hooks.
#include "layers/module.h"

#include <set>
#include <sstream>

namespace engine::nn {

namespace detail {

struct ModuleHooks {
    std::vector<std::pair<uint64_t, ForwardPreHook>> pre;
    std::vector<std::pair<uint64_t, ForwardHook>> post;
    uint64_t next_id = 1;

    bool empty() const { return pre.empty() && post.empty(); }
    bool contains(uint64_t id) const {
        for (const auto& entry : pre)
            if (entry.first == id) return true;
        for (const auto& entry : post)
            if (entry.first == id) return true;
        return false;
    }
    void remove(uint64_t id) {
        auto erase = [id](auto& list) {
            for (auto it = list.begin(); it != list.end(); ++it) {
                if (it->first == id) {
                    list.erase(it);
                    return;
                }
            }
        };
        erase(pre);
        erase(post);
    }
};

}  // namespace detail

namespace {

std::string join_path(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
}

std::string join_names(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
    return out.empty() ? "(none)" : out;
}

// Points `t` (and its gradient) at `converted`'s data without changing its TensorImpl.
void replace_data(const Tensor& t, const Tensor& converted) {
    Tensor grad = t.grad();
    TensorImpl* impl = t.impl();
    impl->storage = converted.storage();
    impl->shape = converted.shape();
    impl->strides = converted.strides();
    impl->offset = converted.offset();
    impl->dtype = converted.dtype();
    t.bump_version();
    if (grad.defined()) t.set_grad(grad.detach().to(converted.device()).to(converted.dtype()));
}

}  // namespace

std::string Size2::str() const { return "(" + std::to_string(h) + ", " + std::to_string(w) + ")"; }

// ---------------------------------------------------------------- hook handles

void ForwardHookHandle::remove() {
    if (auto hooks = hooks_.lock()) hooks->remove(id_);
    hooks_.reset();
}

bool ForwardHookHandle::active() const {
    auto hooks = hooks_.lock();
    return hooks && hooks->contains(id_);
}

ScopedHook& ScopedHook::operator=(ScopedHook&& other) noexcept {
    if (this != &other) {
        handle_.remove();
        handle_ = std::exchange(other.handle_, {});
    }
    return *this;
}

// ---------------------------------------------------------------- Module

Module::Module() : hooks_(std::make_shared<detail::ModuleHooks>()) {}
Module::~Module() = default;

Tensor Module::operator()(const Tensor& x) {
    if (hooks_->empty()) return forward(x);
    // Copies, so that a hook may remove itself (or register another) while running.
    const auto pre = hooks_->pre;
    const auto post = hooks_->post;
    Tensor input = x;
    for (const auto& entry : pre)
        if (std::optional<Tensor> replaced = entry.second(*this, input)) input = *replaced;
    Tensor output = forward(input);
    for (const auto& entry : post)
        if (std::optional<Tensor> replaced = entry.second(*this, input, output)) output = *replaced;
    return output;
}

void Module::check_new_name(const std::string& name, const char* what) const {
    ENGINE_CHECK(!name.empty() && name.find('.') == std::string::npos, type_name(), ": invalid ", what, " name '", name,
                 "' (names are non-empty and contain no '.')");
    for (const Slot& s : parameters_)
        ENGINE_CHECK(s.name != name, type_name(), ": '", name, "' is already a parameter");
    for (const Slot& s : buffers_) ENGINE_CHECK(s.name != name, type_name(), ": '", name, "' is already a buffer");
    for (const auto& c : children_) ENGINE_CHECK(c.first != name, type_name(), ": '", name, "' is already a submodule");
}

Tensor Module::register_parameter(const std::string& name, Tensor value, bool requires_grad) {
    check_new_name(name, "parameter");
    ENGINE_CHECK(value.defined(), type_name(), ": parameter '", name, "' is undefined");
    ENGINE_CHECK(is_floating(value.dtype()), type_name(), ": parameter '", name, "' must be floating, got ",
                 dtype_name(value.dtype()));
    ENGINE_CHECK(value.is_leaf(), type_name(), ": parameter '", name, "' must be a leaf tensor (detach() it)");
    value.requires_grad_(requires_grad);
    parameters_.push_back({name, value, true});
    return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value, bool persistent) {
    check_new_name(name, "buffer");
    ENGINE_CHECK(value.defined(), type_name(), ": buffer '", name, "' is undefined");
    buffers_.push_back({name, value, persistent});
    return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
    check_new_name(name, "submodule");
    ENGINE_CHECK(module != nullptr, type_name(), ": submodule '", name, "' is null");
    children_.emplace_back(name, std::move(module));
}

// ---------------------------------------------------------------- traversal

NamedTensors Module::named_parameters(bool recurse) const {
    NamedTensors out;
    for (const Slot& s : parameters_) out.emplace_back(s.name, s.tensor);
    if (recurse) {
        for (const auto& [name, child] : children_)
            for (auto& [path, t] : child->named_parameters(true)) out.emplace_back(name + "." + path, t);
    }
    return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
    std::vector<Tensor> out;
    for (auto& entry : named_parameters(recurse)) out.push_back(entry.second);
    return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
    NamedTensors out;
    for (const Slot& s : buffers_) out.emplace_back(s.name, s.tensor);
    if (recurse) {
        for (const auto& [name, child] : children_)
            for (auto& [path, t] : child->named_buffers(true)) out.emplace_back(name + "." + path, t);
    }
    return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
    std::vector<Tensor> out;
    for (auto& entry : named_buffers(recurse)) out.push_back(entry.second);
    return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_children() const {
    std::vector<std::pair<std::string, Module*>> out;
    for (const auto& [name, child] : children_) out.emplace_back(name, child.get());
    return out;
}

void Module::collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out) const {
    for (const auto& [name, child] : children_) {
        const std::string path = join_path(prefix, name);
        out.emplace_back(path, child.get());
        child->collect_modules(path, out);
    }
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
    std::vector<std::pair<std::string, Module*>> out{{"", this}};
    collect_modules("", out);
    return out;
}

std::vector<std::string> Module::module_paths() const {
    std::vector<std::pair<std::string, Module*>> modules;
    collect_modules("", modules);
    std::vector<std::string> out;
    for (const auto& entry : modules) out.push_back(entry.first);
    return out;
}

Module* Module::find_module(const std::string& path) {
    Module* current = this;
    size_t start = 0;
    while (current != nullptr && start <= path.size() && !path.empty()) {
        const size_t dot = path.find('.', start);
        const std::string name = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        Module* next = nullptr;
        for (const auto& [child_name, child] : current->children_)
            if (child_name == name) next = child.get();
        current = next;
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return current;
}

Module& Module::module(const std::string& path) {
    if (Module* found = find_module(path)) return *found;
    throw Error(engine::detail::concat("module: ", type_name(), " has no submodule '", path,
                                       "'; valid paths: ", join_names(module_paths())));
}

void Module::throw_wrong_type(const std::string& path, const Module& found) const {
    throw Error(engine::detail::concat("module: '", path, "' in ", type_name(), " is a ", found.type_name(),
                                       ", not the requested type"));
}

Tensor Module::parameter(const std::string& path) const {
    for (auto& [name, t] : named_parameters()) {
        if (name == path) return t;
    }
    std::vector<std::string> names;
    for (auto& entry : named_parameters()) names.push_back(entry.first);
    throw Error(engine::detail::concat("parameter: ", type_name(), " has no parameter '", path,
                                       "'; valid names: ", join_names(names)));
}

Tensor Module::buffer(const std::string& path) const {
    for (auto& [name, t] : named_buffers()) {
        if (name == path) return t;
    }
    std::vector<std::string> names;
    for (auto& entry : named_buffers()) names.push_back(entry.first);
    throw Error(engine::detail::concat("buffer: ", type_name(), " has no buffer '", path,
                                       "'; valid names: ", join_names(names)));
}

// ---------------------------------------------------------------- modes and placement

void Module::train(bool on) {
    training_ = on;
    on_train(on);
    for (auto& entry : children_) entry.second->train(on);
}

template <class F>
void Module::for_each_tensor(F&& f) {
    for (Slot& s : parameters_) f(s.tensor);
    for (Slot& s : buffers_) f(s.tensor);
    for (auto& entry : children_) entry.second->for_each_tensor(f);
}

void Module::to(Device device) {
    NoGradGuard no_grad;
    for_each_tensor([&](Tensor& t) {
        if (t.device() != device) replace_data(t, t.detach().to(device));
    });
}

void Module::to(DType dtype) {
    ENGINE_CHECK(is_floating(dtype), "Module::to: only floating dtypes are supported, got ", dtype_name(dtype));
    NoGradGuard no_grad;
    for_each_tensor([&](Tensor& t) {
        if (is_floating(t.dtype()) && t.dtype() != dtype) replace_data(t, t.detach().to(dtype));
    });
}

void Module::requires_grad_(bool requires) {
    for (Slot& s : parameters_) s.tensor.requires_grad_(requires);
    for (auto& entry : children_) entry.second->requires_grad_(requires);
}

void Module::zero_grad() {
    for (Tensor& p : parameters())
        if (p.grad().defined()) p.set_grad(Tensor());
}

int64_t Module::num_parameters(bool trainable_only) const {
    int64_t total = 0;
    for (const Tensor& p : parameters())
        if (!trainable_only || p.requires_grad()) total += p.numel();
    return total;
}

// ---------------------------------------------------------------- state dicts

void Module::collect_state(const std::string& prefix, NamedTensors& out) const {
    for (const Slot& s : parameters_) out.emplace_back(join_path(prefix, s.name), s.tensor);
    for (const Slot& s : buffers_)
        if (s.persistent) out.emplace_back(join_path(prefix, s.name), s.tensor);
    for (const auto& [name, child] : children_) child->collect_state(join_path(prefix, name), out);
}

NamedTensors Module::state_dict() const {
    NamedTensors out;
    collect_state("", out);
    return out;
}

LoadResult check_state_dict(const NamedTensors& expected, const std::map<std::string, Tensor>& given, bool strict,
                            const std::string& context, bool exact_dtype) {
    LoadResult result;
    std::set<std::string> known;
    for (const auto& entry : expected) known.insert(entry.first);
    for (const auto& entry : given)
        if (!known.count(entry.first)) result.unexpected_keys.push_back(entry.first);
    size_t missing_total = 0;
    for (const auto& entry : expected) missing_total += given.count(entry.first) ? 0 : 1;
    auto totals = [&] {
        return engine::detail::concat(" (", missing_total, " missing and ", result.unexpected_keys.size(),
                                      " unexpected in all)");
    };

    for (const auto& [name, target] : expected) {
        auto it = given.find(name);
        if (it == given.end()) {
            ENGINE_CHECK(!strict, context, ": missing tensor '", name, "' (the model expects shape ",
                         shape_str(target.shape()), ")", totals());
            result.missing_keys.push_back(name);
            continue;
        }
        const Tensor& source = it->second;
        ENGINE_CHECK(source.defined(), context, ": tensor '", name, "' is undefined");
        ENGINE_CHECK(source.shape() == target.shape(), context, ": tensor '", name, "' has shape ",
                     shape_str(source.shape()), ", the model expects ", shape_str(target.shape()));
        const bool dtype_ok =
            exact_dtype ? source.dtype() == target.dtype() : is_floating(source.dtype()) == is_floating(target.dtype());
        ENGINE_CHECK(dtype_ok, context, ": tensor '", name, "' has dtype ", dtype_name(source.dtype()),
                     ", the model expects ", dtype_name(target.dtype()));
    }
    if (strict && !result.unexpected_keys.empty()) {
        const std::string& name = result.unexpected_keys.front();
        const Tensor& t = given.at(name);
        throw Error(engine::detail::concat(context, ": unexpected tensor '", name, "' (shape ",
                                           shape_str(t.defined() ? t.shape() : Shape{}),
                                           ") that the model does not have", totals()));
    }
    return result;
}

void copy_into(const Tensor& target, const Tensor& source) {
    NoGradGuard no_grad;
    Tensor handle = target;
    handle.copy_(source);
}

LoadResult Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
    const NamedTensors own = state_dict();
    LoadResult result = check_state_dict(own, state, strict, "load_state_dict");
    for (const auto& [name, target] : own) {
        auto it = state.find(name);
        if (it != state.end()) copy_into(target, it->second);
    }
    return result;
}

LoadResult Module::load_state_dict(const NamedTensors& state, bool strict) {
    std::map<std::string, Tensor> map;
    for (const auto& [name, t] : state)
        ENGINE_CHECK(map.emplace(name, t).second, "load_state_dict: tensor '", name, "' appears twice");
    return load_state_dict(map, strict);
}

// ---------------------------------------------------------------- hooks and printing

ForwardHookHandle Module::register_forward_hook(ForwardHook hook) {
    ENGINE_CHECK(hook != nullptr, type_name(), ": register_forward_hook got an empty function");
    const uint64_t id = hooks_->next_id++;
    hooks_->post.emplace_back(id, std::move(hook));
    return ForwardHookHandle(hooks_, id);
}

ForwardHookHandle Module::register_forward_pre_hook(ForwardPreHook hook) {
    ENGINE_CHECK(hook != nullptr, type_name(), ": register_forward_pre_hook got an empty function");
    const uint64_t id = hooks_->next_id++;
    hooks_->pre.emplace_back(id, std::move(hook));
    return ForwardHookHandle(hooks_, id);
}

size_t Module::num_forward_hooks() const { return hooks_->pre.size() + hooks_->post.size(); }

void Module::append_str(std::string& out, const std::string& indent) const {
    out += type_name() + "(" + extra_repr();
    if (children_.empty()) {
        out += ")";
        return;
    }
    out += "\n";
    for (const auto& [name, child] : children_) {
        out += indent + "  (" + name + "): ";
        child->append_str(out, indent + "  ");
        out += "\n";
    }
    out += indent + ")";
}

std::string Module::str() const {
    std::string out;
    append_str(out, "");
    return out;
}

}  // namespace engine::nn
