// The elementwise engine of the CUDA backend: out[i] = f(in_0[i], ..., in_k[i]) over one (broadcast) shape, with
// a vectorised path (16-byte aligned contiguous operands, 4 elements per thread) and a strided path
// (StridedIndexer); both are grid-stride loops. Functors are structs with a __device__ operator().
#pragma once

#include "runtime/cuda_api.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/tensor_info.cuh"
#include "runtime/cuda/stream.h"
#include "runtime/cuda_check.h"

namespace engine::cuda {

// Makes `device` current for the calling thread before a kernel family allocates or launches on it.
inline void set_device(int device, const char* op) { ENGINE_CUDA_CHECK(cudaSetDevice(device), op); }

inline Device cuda_device(int device) { return Device::cuda(device); }

constexpr int kElementwiseThreads = 256;
constexpr int kVectorWidth = 4;
// Enough blocks to fill any current GPU several times over; the grid-stride loops cover the rest.
constexpr int64_t kMaxElementwiseBlocks = 8192;

template <class T, int V>
struct alignas(sizeof(T) * V) AlignedVec {
    T v[V];
};

struct LaunchBlocks1D {
    unsigned blocks;
    int threads;
};

inline LaunchBlocks1D grid_for(int64_t work_items, int threads = kElementwiseThreads) {
    const int64_t blocks = std::min<int64_t>(std::max<int64_t>((work_items + threads - 1) / threads, 1),
                                             kMaxElementwiseBlocks);
    return {static_cast<unsigned>(blocks), threads};
}

inline LaunchConfig config_1d(int device, int64_t work_items, int threads = kElementwiseThreads) {
    const LaunchBlocks1D b = grid_for(work_items, threads);
    LaunchConfig c;
    c.grid = dim3(b.blocks);
    c.block = dim3(static_cast<unsigned>(threads));
    c.stream = current_stream(device);
    return c;
}

// Thread index and grid stride of a 1-D grid-stride loop, in 64 bits.
__device__ inline int64_t global_thread() { return blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; }
__device__ inline int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

template <class F, class Out, class... In>
__device__ void apply_vector(Out* out, const F& f, const AlignedVec<In, kVectorWidth>&... x) {
    for (int j = 0; j < kVectorWidth; ++j) out[j] = f(x.v[j]...);
}

template <int V, class T>
__device__ AlignedVec<T, V> load_vector(const T* p, int64_t v) {
    return reinterpret_cast<const AlignedVec<T, V>*>(p)[v];
}

// All operands contiguous over n elements; Vectorised: every pointer 16-byte aligned (or 4 x element aligned).
template <bool Vectorised, class F, class Out, class... In>
__global__ void map_contiguous_kernel(int64_t n, F f, Out* out, const In*... in) {
    const int64_t start = global_thread(), step = grid_stride();
    int64_t tail = 0;
    if (Vectorised) {
        const int64_t vectors = n / kVectorWidth;
        for (int64_t v = start; v < vectors; v += step) {
            AlignedVec<Out, kVectorWidth> o;
            apply_vector(o.v, f, load_vector<kVectorWidth>(in, v)...);
            reinterpret_cast<AlignedVec<Out, kVectorWidth>*>(out)[v] = o;
        }
        tail = vectors * kVectorWidth;
    }
    for (int64_t i = tail + start; i < n; i += step) out[i] = f(in[i]...);
}

template <class F, class Out, class... In, size_t... K>
__device__ void apply_strided(const int64_t* off, const F& f, Out* out, std::index_sequence<K...>, const In*... in) {
    out[off[0]] = f(in[off[K + 1]]...);
}

template <int N, class F, class Out, class... In>
__global__ void map_strided_kernel(int64_t n, StridedIndexer<N> idx, F f, Out* out, const In*... in) {
    for (int64_t i = global_thread(); i < n; i += grid_stride()) {
        int64_t off[N];
        idx.offsets(i, off);
        apply_strided(off, f, out, std::index_sequence_for<In...>{}, in...);
    }
}

inline bool aligned_for_vectors(const void* p, size_t elem_size) {
    return reinterpret_cast<uintptr_t>(p) % (elem_size * kVectorWidth) == 0;
}

namespace map_detail {

template <class F, class Out, class... In, size_t... K>
void launch_strided_pieces(const char* op, const Shape& label, int device, const Geometry<1 + sizeof...(In)>& g,
                           const F& f, Out* out, std::index_sequence<K...> seq, const In*... in) {
    constexpr int N = 1 + sizeof...(In);
    if (g.ndim() > kMaxDims) {  // rare: more than 8 dims that cannot merge; split the outermost one
        for (int64_t j = 0; j < g.sizes[0]; ++j) {
            std::array<int64_t, N> offsets;
            const Geometry<N> sub = drop_outer<N>(g, j, offsets);
            launch_strided_pieces(op, label, device, sub, f, out + offsets[0], seq, (in + offsets[K + 1])...);
        }
        return;
    }
    const int64_t n = g.numel();
    if (g.is_contiguous()) {
        const bool vectorised = n >= kVectorWidth && aligned_for_vectors(out, sizeof(Out)) &&
                                (aligned_for_vectors(in, sizeof(In)) && ...);
        if (vectorised) {
            launch(op, label, config_1d(device, n / kVectorWidth), map_contiguous_kernel<true, F, Out, In...>, n, f,
                   out, in...);
        } else {
            launch(op, label, config_1d(device, n), map_contiguous_kernel<false, F, Out, In...>, n, f, out, in...);
        }
        return;
    }
    launch(op, label, config_1d(device, n), map_strided_kernel<N, F, Out, In...>, n, make_indexer<N>(g), f, out, in...);
}

}  // namespace map_detail

template <class Out, class... In, class F, size_t... K>
void map_with_pointers(const char* op, int device, const Shape& label, const Geometry<1 + sizeof...(In)>& g,
                       const F& f, Out* out, const std::array<const Tensor*, sizeof...(In)>& in,
                       std::index_sequence<K...> seq) {
    map_detail::launch_strided_pieces(op, label, device, g, f, out, seq,
                                  static_cast<const In*>(in[K]->raw_data())...);
}

// out = f(inputs...) elementwise over out's shape (every input broadcasts to it; out may be a strided view).
// Out and In... are the element types of out and the inputs; f is a functor with a __device__ operator().
template <class Out, class... In, class F>
void map(const char* op, int device, const Tensor& out, const F& f, const std::array<const Tensor*, sizeof...(In)>& in) {
    constexpr int N = 1 + sizeof...(In);
    if (out.numel() == 0) return;
    std::array<const Tensor*, N> all;
    all[0] = &out;
    std::copy(in.begin(), in.end(), all.begin() + 1);
    const Geometry<N> g = collapse<N>(out.shape(), all);
    map_with_pointers<Out, In...>(op, device, out.shape(), g, f, static_cast<Out*>(out.raw_data()), in,
                                  std::index_sequence_for<In...>{});
}

}  // namespace engine::cuda
