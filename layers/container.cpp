// ModuleList and Sequential.
#include "layers/container.h"

namespace engine::nn {

ModuleList::ModuleList(std::initializer_list<ModulePtr> modules) {
    for (const ModulePtr& m : modules) push_back(m);
}

void ModuleList::push_back(ModulePtr module) {
    ENGINE_CHECK(module != nullptr, type_name(), ": cannot append a null module");
    register_module(std::to_string(items_.size()), module);
    items_.push_back(std::move(module));
}

const ModulePtr& ModuleList::ptr(size_t index) const {
    ENGINE_CHECK(index < items_.size(), type_name(), ": index ", index, " out of range for ", items_.size(),
                 " modules");
    return items_[index];
}

Tensor ModuleList::forward(const Tensor&) {
    throw Error("ModuleList has no forward(): call its modules one by one (or use a Sequential)");
}

Tensor Sequential::forward(const Tensor& x) {
    Tensor h = x;
    for (const ModulePtr& m : items()) h = (*m)(h);
    return h;
}

}  // namespace engine::nn
