#!/usr/bin/env bash
# Packs what bench/gpu_check.sh runs on a lent GPU machine, whose image has CUDA's libraries (as PyTorch's pip
# packages), nvcc and PyTorch but none of our build dependencies: cuda_tests and bench_cuda from the CI build
# (CUDA for sm_80 and sm_90), the shared libraries they load that are not CUDA's or glibc's, and the test data
# folder's path, into .gpu/ (ignored by git), xz-compressed to fit the device tool's 64 MiB. Then:
#   device run, carry [".gpu"], command: bash bench/gpu_check.sh
# Usage: bench/gpu_pack.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
cmake --build "$build" -j "$(nproc)" --target cuda_tests bench_cuda
rm -rf .gpu
mkdir -p .gpu/lib
for bin in tests/cuda_tests bench/bench_cuda; do
  strip --strip-unneeded -o ".gpu/$(basename "$bin")" "$build/$bin"
  ldd "$build/$bin" | awk '/=> \// {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in
      libcuda.so* | libcudart* | libcublas* | libcudnn* | libnccl* | libnvrtc* | libnvJitLink*) ;;  # the image's
      libc.so* | libm.so* | ld-linux* | libpthread* | libdl.so* | librt.so*) ;;                      # glibc
      *) [ -e ".gpu/lib/$(basename "$lib")" ] || cp -L "$lib" .gpu/lib/ ;;
    esac
  done
done
# tests/CMakeLists.txt bakes in the source folder's tests/data.
echo "$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")/tests/data" > .gpu/test_data_dir
xz -T "$(nproc)" -6 .gpu/cuda_tests .gpu/bench_cuda .gpu/lib/*
mkdir -p .git/info
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
du -sh .gpu
