// Our GEMM kernel (see gemm.h): block tiles of BM x BN outputs, BK-deep slices of A and B staged in shared memory
// with double buffering (the next slice is fetched into registers while the current one is multiplied, one
// barrier per slice), a TM x TN register tile per thread read from shared memory as 16-byte vectors, 16-byte
// global loads and stores where the layout allows, bounds checks at every edge, batches and K splits on
// gridDim.z. A is always a strided matrix; B is a strided matrix or an implicit im2col matrix.
#include "kernels/cuda/gemm.h"

#include "runtime/cuda_api.h"

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <type_traits>
#include <vector>

#include "kernels/cuda/gemm_tiles.cuh"
#include "kernels/cuda/launch.cuh"
#include "runtime/cuda/caching_allocator.h"
#include "runtime/cuda_check.h"
#include "runtime/error.h"

namespace engine::cuda {
namespace {

using namespace tile;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <class T, class Cfg, BKind kB>
__global__ void __launch_bounds__(Cfg::kThreads) gemm_kernel(GemmArgs<T> p) {
    constexpr int BM = Cfg::BM, BN = Cfg::BN, BK = Cfg::BK, TM = Cfg::TM, TN = Cfg::TN, NT = Cfg::kThreads;
    constexpr int V = kVec<T>;
    static_assert(TM % V == 0 && TN % V == 0, "register tile must be whole vectors");
    __shared__ SharedTiles<T, Cfg> smem;

    const int tid = static_cast<int>(threadIdx.x);
    const int64_t z = blockIdx.z;
    const int64_t split = z % p.splits, batch = z / p.splits;
    const int64_t outer = batch / p.inner_count, inner = batch % p.inner_count;
    const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM, n0 = static_cast<int64_t>(blockIdx.x) * BN;
    const int64_t k_begin = split * p.k_per_split;
    const int64_t k_end = min64(p.k, k_begin + p.k_per_split);

    DenseLoader<T, BM, BK, NT, true> a_loader;
    a_loader.init(p.a, outer, inner, m0, p.m, k_end, p.a_col_fast, p.a_vec, tid);
    BLoaderFor<T, Cfg, kB> b_loader;
    if constexpr (kB == BKind::Dense) {
        b_loader.init(p.b, outer, inner, n0, k_end, p.n, p.b_col_fast, p.b_vec, tid);
    } else {
        b_loader.init(p.b, p.conv, outer, inner, n0, p.n, k_end, tid);
    }

    T ra[decltype(a_loader)::kElems], rb[decltype(b_loader)::kElems];
    a_loader.load(k_begin, ra);
    b_loader.load(k_begin, rb);
    a_loader.template store<true>(smem.a[0], ra);
    if constexpr (kB == BKind::Dense) {
        b_loader.template store<false>(smem.b[0], rb);
    } else {
        b_loader.store(smem.b[0], rb);
    }
    __syncthreads();

    T acc[TM][TN];
    GEMM_UNROLL
    for (int i = 0; i < TM; ++i) {
        GEMM_UNROLL
        for (int j = 0; j < TN; ++j) acc[i][j] = T(0);
    }
    // Thread (ty, tx) owns rows ty*V + i (+ BM / (TM/V) per further vector) and likewise columns: neighbouring
    // threads read neighbouring 16-byte vectors of shared memory, free of bank conflicts.
    const int tx = tid % (BN / TN), ty = tid / (BN / TN);
    const int64_t tiles = (max64(k_end - k_begin, 0) + BK - 1) / BK;
    for (int64_t t = 0; t < tiles; ++t) {
        const int cur = static_cast<int>(t & 1);
        const bool more = t + 1 < tiles;
        if (more) {
            a_loader.load(k_begin + (t + 1) * BK, ra);
            b_loader.load(k_begin + (t + 1) * BK, rb);
        }
        const T* as = smem.a[cur];
        const T* bs = smem.b[cur];
        GEMM_UNROLL
        for (int kk = 0; kk < BK; ++kk) {
            T af[TM], bf[TN];
            GEMM_UNROLL
            for (int q = 0; q < TM / V; ++q) load16(as + kk * BM + q * (BM / (TM / V)) + ty * V, af + q * V);
            GEMM_UNROLL
            for (int q = 0; q < TN / V; ++q) load16(bs + kk * BN + q * (BN / (TN / V)) + tx * V, bf + q * V);
            GEMM_UNROLL
            for (int i = 0; i < TM; ++i) {
                GEMM_UNROLL
                for (int j = 0; j < TN; ++j) acc[i][j] += af[i] * bf[j];
            }
        }
        if (more) {
            a_loader.template store<true>(smem.a[cur ^ 1], ra);
            if constexpr (kB == BKind::Dense) {
                b_loader.template store<false>(smem.b[cur ^ 1], rb);
            } else {
                b_loader.store(smem.b[cur ^ 1], rb);
            }
        }
        __syncthreads();
    }

    T* c = p.c + outer * p.c_outer + inner * p.c_inner + split * p.c_split;
    const T* bias = p.bias != nullptr ? p.bias + inner * p.bias_inner : nullptr;
    GEMM_UNROLL
    for (int i = 0; i < TM; ++i) {
        const int64_t row = m0 + (i / V) * (BM / (TM / V)) + ty * V + i % V;
        if (row >= p.m) continue;
        const T row_bias = bias != nullptr ? bias[row] : T(0);
        T* c_row = c + row * p.ldc;
        GEMM_UNROLL
        for (int q = 0; q < TN / V; ++q) {
            const int64_t col = n0 + q * (BN / (TN / V)) + tx * V;
            T out[V];
            GEMM_UNROLL
            for (int v = 0; v < V; ++v) out[v] = p.alpha * acc[i][q * V + v] + row_bias;
            if (p.c_vec && col + V <= p.n) {
                if (p.beta != T(0)) {
                    T old[V];
                    load16(c_row + col, old);
                    GEMM_UNROLL
                    for (int v = 0; v < V; ++v) out[v] += p.beta * old[v];
                }
                store16(c_row + col, out);
            } else {
                GEMM_UNROLL
                for (int v = 0; v < V; ++v) {
                    if (col + v < p.n) c_row[col + v] = p.beta != T(0) ? out[v] + p.beta * c_row[col + v] : out[v];
                }
            }
        }
    }
}

// out[i] = sum_s partial[s * slab + i] (+ bias[(i / bias_div) % bias_mod]) (+ beta * out[i]).
template <class T>
__global__ void sum_splits_kernel(const T* partial, int64_t splits, int64_t slab, T* out, const T* bias,
                                  int64_t bias_div, int64_t bias_mod, T beta) {
    const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < slab; i += step) {
        T sum = T(0);
        for (int64_t s = 0; s < splits; ++s) sum += partial[s * slab + i];
        if (bias != nullptr) sum += bias[(i / bias_div) % bias_mod];
        out[i] = beta != T(0) ? sum + beta * out[i] : sum;
    }
}

int multiprocessor_count(int device) {
    static std::mutex mutex;
    static std::vector<int> counts;
    std::lock_guard<std::mutex> lock(mutex);
    if (counts.size() <= static_cast<size_t>(device)) counts.resize(static_cast<size_t>(device) + 1, 0);
    int& count = counts[static_cast<size_t>(device)];
    if (count == 0) {
        cudaDeviceProp prop{};
        ENGINE_CUDA_CHECK(cudaGetDeviceProperties(&prop, device), "gemm: device properties of cuda:", device);
        count = std::max(1, prop.multiProcessorCount);
    }
    return count;
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Fast axis and vector loads for a dense operand whose "columns" are axis 1 (for A: K, possibly split by
// col_period; for B: N).
template <class T>
void choose_layout(const Operand<T>& op, bool& col_fast, bool& vec) {
    constexpr int64_t V = kVec<T>;
    col_fast = op.s1 == 1 || op.s0 != 1;
    const int64_t other = col_fast ? op.s0 : op.s1;
    const bool period_ok = op.col_period == 0 || (col_fast && op.col_period % V == 0 && op.s_col_outer % V == 0) ||
                           (!col_fast && op.s_col_outer % V == 0);
    vec = (col_fast ? op.s1 == 1 : op.s0 == 1) && other % V == 0 && op.batch_outer % V == 0 &&
          op.batch_inner % V == 0 && period_ok && aligned16(op.ptr);
}

// Smallest K slice per block worth a split, and the most workspace a split may take.
constexpr int64_t kMinSplitK = 256;
constexpr int64_t kMaxSplits = 256;
constexpr size_t kMaxSplitWorkspace = size_t{256} << 20;

template <class T, class Cfg, BKind kB>
void launch_tiles(GemmArgs<T> p, int device, cudaStream_t stream, const char* op) {
    constexpr int64_t kMaxGridYZ = 65535;
    const int64_t per_outer = p.inner_count * p.splits;
    ENGINE_CHECK(per_outer <= kMaxGridYZ, op, ": ", p.inner_count, " groups x ", p.splits,
                 " splits exceed the grid's z limit");
    const int64_t outer_chunk = std::max<int64_t>(1, kMaxGridYZ / per_outer);
    const int64_t m_tiles = ceil_div(p.m, Cfg::BM), n_tiles = ceil_div(p.n, Cfg::BN);
    ENGINE_CHECK(n_tiles <= INT32_MAX, op, ": ", p.n, " columns exceed the grid's x limit");
    for (int64_t o0 = 0; o0 < p.outer_count; o0 += outer_chunk) {
        for (int64_t mt0 = 0; mt0 < m_tiles; mt0 += kMaxGridYZ) {
            GemmArgs<T> q = p;
            const int64_t row0 = mt0 * Cfg::BM;
            q.outer_count = std::min(outer_chunk, p.outer_count - o0);
            q.m = std::min(p.m - row0, kMaxGridYZ * Cfg::BM);
            q.a.ptr += o0 * p.a.batch_outer + row0 * p.a.s0;
            q.b.ptr += o0 * p.b.batch_outer;
            q.c += o0 * p.c_outer + row0 * p.ldc;
            if (q.bias != nullptr) q.bias += row0;
            LaunchConfig config;
            config.grid = dim3(static_cast<unsigned>(n_tiles), static_cast<unsigned>(ceil_div(q.m, Cfg::BM)),
                               static_cast<unsigned>(q.outer_count * per_outer));
            config.block = dim3(Cfg::kThreads);
            config.stream = stream;
            launch(op, Shape{p.m, p.n, p.k}, config, gemm_kernel<T, Cfg, kB>, q);
        }
    }
}

template <class T, class Cfg>
void launch_for_kind(const GemmArgs<T>& p, BKind b_kind, int device, cudaStream_t stream, const char* op) {
    switch (b_kind) {
        case BKind::Dense: return launch_tiles<T, Cfg, BKind::Dense>(p, device, stream, op);
        case BKind::Im2col: return launch_tiles<T, Cfg, BKind::Im2col>(p, device, stream, op);
        case BKind::Im2colT: return launch_tiles<T, Cfg, BKind::Im2colT>(p, device, stream, op);
    }
}

template <class T, class Cfg>
void run(GemmArgs<T> p, BKind b_kind, int device, cudaStream_t stream, const char* op) {
    const int64_t batches = p.outer_count * p.inner_count;
    const int64_t tiles = ceil_div(p.m, Cfg::BM) * ceil_div(p.n, Cfg::BN) * batches;
    const int64_t target = 2 * static_cast<int64_t>(multiprocessor_count(device));
    // With bias, the sum of the splits must be able to find each element's row: C dense as [outer][inner][m][n].
    const bool bias_ok = p.bias == nullptr || (p.ldc == p.n && p.c_inner == p.m * p.n && p.bias_inner == p.m &&
                                               p.c_outer == p.inner_count * p.m * p.n);
    int64_t splits = 1;
    if (tiles < target && p.k >= 2 * kMinSplitK && p.c_size > 0 && bias_ok) {
        splits = std::min({ceil_div(target, tiles), p.k / kMinSplitK, kMaxSplits});
        const int64_t affordable = static_cast<int64_t>(kMaxSplitWorkspace / (sizeof(T) * p.c_size));
        splits = std::min(splits, affordable);
    }
    if (splits <= 1) {
        p.splits = 1;
        p.k_per_split = std::max<int64_t>(p.k, 1);
        p.c_split = 0;
        launch_for_kind<T, Cfg>(p, b_kind, device, stream, op);
        return;
    }
    p.k_per_split = ceil_div(ceil_div(p.k, splits), Cfg::BK) * Cfg::BK;
    p.splits = ceil_div(p.k, p.k_per_split);
    DeviceBuffer partial(device, static_cast<size_t>(p.splits * p.c_size) * sizeof(T));
    GemmArgs<T> q = p;
    q.c = partial.as<T>();
    q.c_split = p.c_size;
    q.bias = nullptr;
    q.beta = T(0);
    q.c_vec = q.c_vec && p.c_size % kVec<T> == 0;
    launch_for_kind<T, Cfg>(q, b_kind, device, stream, op);

    constexpr int kThreads = 256;
    LaunchConfig config;
    config.grid = dim3(static_cast<unsigned>(std::min<int64_t>(ceil_div(p.c_size, kThreads), 8192)));
    config.block = dim3(kThreads);
    config.stream = stream;
    const int64_t bias_mod = std::max<int64_t>(1, p.inner_count * p.m);
    launch(op, Shape{p.splits, p.c_size}, config, sum_splits_kernel<T>, static_cast<const T*>(q.c), p.splits, p.c_size,
           p.c, p.bias, std::max<int64_t>(p.n, 1), bias_mod, p.beta);
}

}  // namespace

template <class T>
void gemm(GemmArgs<T> p, BKind b_kind, int device, cudaStream_t stream, const char* op) {
    if (p.m <= 0 || p.n <= 0 || p.outer_count <= 0 || p.inner_count <= 0) return;
    if (b_kind == BKind::Dense) choose_layout(p.b, p.b_col_fast, p.b_vec);
    choose_layout(p.a, p.a_col_fast, p.a_vec);
    constexpr int64_t V = kVec<T>;
    p.c_vec = aligned16(p.c) && p.ldc % V == 0 && p.c_outer % V == 0 && p.c_inner % V == 0;
    if constexpr (std::is_same_v<T, float>) {
        const int64_t large_tiles = ceil_div(p.m, FloatLarge::BM) * ceil_div(p.n, FloatLarge::BN) * p.outer_count *
                                    p.inner_count;
        // 128 x 128 tiles when they alone fill the device and neither side would leave half a tile idle.
        if (large_tiles >= multiprocessor_count(device) && p.m > 64 && p.n > 64) {
            run<T, FloatLarge>(p, b_kind, device, stream, op);
        } else {
            run<T, FloatSmall>(p, b_kind, device, stream, op);
        }
    } else {
        run<T, DoubleTile>(p, b_kind, device, stream, op);
    }
}

template void gemm<float>(GemmArgs<float>, BKind, int, cudaStream_t, const char*);
template void gemm<double>(GemmArgs<double>, BKind, int, cudaStream_t, const char*);

}  // namespace engine::cuda
