// Sequential and ModuleList: children named "0", "1", ... in insertion order, as in PyTorch, so that paths
// such as "features.3" or "contracting_11.0.weight" match PyTorch's state_dict keys.
#pragma once

#include <initializer_list>

#include "layers/module.h"

namespace engine::nn {

// An indexable list of modules; it has no forward (iterate and call the modules yourself).
class ModuleList : public Module {
public:
    ModuleList() = default;
    ModuleList(std::initializer_list<ModulePtr> modules);

    // Appends as child str(size()).
    void push_back(ModulePtr module);
    template <class M, class... Args>
    std::shared_ptr<M> emplace_back(Args&&... args) {
        auto module = std::make_shared<M>(std::forward<Args>(args)...);
        push_back(module);
        return module;
    }
    size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    // Bounds-checked access; ptr() shares ownership.
    Module& operator[](size_t index) const { return *ptr(index); }
    const ModulePtr& ptr(size_t index) const;
    const std::vector<ModulePtr>& items() const { return items_; }

    Tensor forward(const Tensor& x) override;  // throws: a ModuleList is not callable
    std::string type_name() const override { return "ModuleList"; }

private:
    std::vector<ModulePtr> items_;
};

// Calls its modules in order, each through operator() so their hooks run.
class Sequential : public ModuleList {
public:
    Sequential() = default;
    Sequential(std::initializer_list<ModulePtr> modules) : ModuleList(modules) {}
    Tensor forward(const Tensor& x) override;
    std::string type_name() const override { return "Sequential"; }
};

}  // namespace engine::nn
