#include "autograd/autograd_meta.h"

namespace engine {

AutogradMeta& autograd_meta(const Tensor& t) {
    ENGINE_CHECK(t.defined(), "autograd: the tensor is undefined");
    auto& slot = t.impl()->autograd;
    if (!slot) slot = std::make_shared<AutogradMeta>();
    return *slot;
}

AutogradMeta* autograd_meta_if(const Tensor& t) { return t.defined() ? t.impl()->autograd.get() : nullptr; }

Edge gradient_edge(const Tensor& t) {
    AutogradMeta* meta = autograd_meta_if(t);
    if (meta == nullptr || !meta->requires_grad) return {};
    if (meta->grad_fn) return {meta->grad_fn, meta->output_slot};
    std::shared_ptr<Node> accumulator = meta->grad_accumulator.lock();
    if (!accumulator) {
        accumulator = std::make_shared<AccumulateGrad>(t.impl_ptr());
        if (meta->hooks) accumulator->output_hooks[0].push_back(meta->hooks);
        meta->grad_accumulator = accumulator;
    }
    return {accumulator, 0};
}

HookHandle Tensor::register_hook(GradHook hook) const {
    check_defined("register_hook");
    ENGINE_CHECK(requires_grad(), "register_hook: cannot register a hook on a tensor that does not require grad");
    AutogradMeta& meta = autograd_meta(*this);
    if (!meta.hooks) {
        meta.hooks = std::make_shared<HookList>();
        if (meta.grad_fn) {
            meta.grad_fn->output_hooks.at(meta.output_slot).push_back(meta.hooks);
        } else if (auto accumulator = meta.grad_accumulator.lock()) {
            accumulator->output_hooks[0].push_back(meta.hooks);
        }
    }
    return HookHandle(meta.hooks, meta.hooks->add(std::move(hook)));
}

void Tensor::retain_grad() const {
    check_defined("retain_grad");
    ENGINE_CHECK(requires_grad(), "retain_grad: the tensor does not require grad");
    if (is_leaf()) return;  // leaves keep their gradient anyway
    AutogradMeta& meta = autograd_meta(*this);
    if (!meta.hooks) {
        meta.hooks = std::make_shared<HookList>();
        meta.grad_fn->output_hooks.at(meta.output_slot).push_back(meta.hooks);
    }
    meta.hooks->retain_target = impl_;
}

}  // namespace engine
