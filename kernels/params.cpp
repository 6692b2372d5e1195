#include "kernels/params.h"

namespace engine {

const char* unary_op_name(UnaryOp op) {
    switch (op) {
        case UnaryOp::Neg: return "neg";
        case UnaryOp::Exp: return "exp";
        case UnaryOp::Log: return "log";
        case UnaryOp::Log1p: return "log1p";
        case UnaryOp::Sqrt: return "sqrt";
        case UnaryOp::Rsqrt: return "rsqrt";
        case UnaryOp::Abs: return "abs";
        case UnaryOp::Sign: return "sign";
        case UnaryOp::Relu: return "relu";
        case UnaryOp::Sigmoid: return "sigmoid";
        case UnaryOp::Tanh: return "tanh";
        case UnaryOp::Floor: return "floor";
        case UnaryOp::Ceil: return "ceil";
        case UnaryOp::Round: return "round";
        case UnaryOp::Sin: return "sin";
        case UnaryOp::Cos: return "cos";
        case UnaryOp::Square: return "square";
        case UnaryOp::Reciprocal: return "reciprocal";
    }
    return "unary";
}

const char* binary_op_name(BinaryOp op) {
    switch (op) {
        case BinaryOp::Add: return "add";
        case BinaryOp::Sub: return "sub";
        case BinaryOp::Mul: return "mul";
        case BinaryOp::Div: return "div";
        case BinaryOp::Pow: return "pow";
        case BinaryOp::Maximum: return "maximum";
        case BinaryOp::Minimum: return "minimum";
    }
    return "binary";
}

const char* compare_op_name(CompareOp op) {
    switch (op) {
        case CompareOp::Eq: return "eq";
        case CompareOp::Ne: return "ne";
        case CompareOp::Lt: return "lt";
        case CompareOp::Le: return "le";
        case CompareOp::Gt: return "gt";
        case CompareOp::Ge: return "ge";
    }
    return "compare";
}

const char* reduce_op_name(ReduceOp op) {
    switch (op) {
        case ReduceOp::Sum: return "sum";
        case ReduceOp::Mean: return "mean";
        case ReduceOp::Max: return "max";
        case ReduceOp::Min: return "min";
    }
    return "reduce";
}

}  // namespace engine
