// Numerical gradient checking: compares the Jacobian that backward() computes with central finite
// differences, at PyTorch gradcheck's defaults (eps 1e-6, atol 1e-5, rtol 1e-3). Use float64 inputs.
#pragma once

#include <functional>
#include <string>

#include "autograd/node.h"

namespace engine {

struct GradcheckOptions {
    double eps = 1e-6;
    double atol = 1e-5;
    double rtol = 1e-3;
};

struct GradcheckResult {
    bool ok = true;
    std::string message;  // the first mismatch: input, element, output element, analytic and numerical values
    explicit operator bool() const { return ok; }
};

// f computes one output from `inputs`; inputs that require grad are checked (they may be non-contiguous
// views). Every output element's row of the Jacobian is obtained with autograd::grad and a one-hot gradient.
GradcheckResult gradcheck(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs,
                          const GradcheckOptions& options = {});

}  // namespace engine
