// Linear, Dropout and Flatten bodies (the other small layers are inline in basic.h).
#include "layers/basic.h"

#include <sstream>

#include "layers/init.h"

namespace engine::nn {

Linear::Linear(const LinearOptions& options, Generator& gen) : options_(options) {
    ENGINE_CHECK(options_.in_features() > 0 && options_.out_features() > 0,
                 "Linear: in_features and out_features must be positive, got ", options_.in_features(), " and ",
                 options_.out_features());
    weight_ = register_parameter("weight", empty({options_.out_features(), options_.in_features()}));
    if (options_.bias()) bias_ = register_parameter("bias", empty({options_.out_features()}));
    reset_parameters(gen);
}

void Linear::reset_parameters(Generator& gen) { init::default_layer_init(weight_, bias_, gen); }

Tensor Linear::forward(const Tensor& x) {
    ENGINE_CHECK(x.defined() && x.dim() >= 1 && x.size(-1 + x.dim()) == options_.in_features(), "Linear(", extra_repr(),
                 "): expected an input whose last dim is ", options_.in_features(), ", got ",
                 x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
    return linear(x, weight_, bias_);
}

std::string Linear::extra_repr() const {
    return "in_features=" + std::to_string(options_.in_features()) +
           ", out_features=" + std::to_string(options_.out_features()) +
           ", bias=" + (options_.bias() ? "True" : "False");
}

Dropout::Dropout(double p, Generator& gen) : p_(p), gen_(&gen) {
    ENGINE_CHECK(p >= 0.0 && p <= 1.0, "Dropout: probability has to be between 0 and 1, but got ", p);
}

std::string Dropout::extra_repr() const {
    std::ostringstream s;
    s << "p=" << p_;
    return s.str();
}

std::string Flatten::extra_repr() const {
    return "start_dim=" + std::to_string(start_dim_) + ", end_dim=" + std::to_string(end_dim_);
}

}  // namespace engine::nn
