#!/usr/bin/env bash
# Runs on a lent GPU machine, from the repository root, with .gpu/ from bench/gpu_pack.sh carried: the CUDA test
# suite and bench_cuda (float32 GEMM and convolutions against cuBLAS/cuDNN, our tensor-core GEMM against cuBLAS
# per precision with the roofline, bandwidth, the UNet step) on the real device. Results under $OUT (device.txt,
# cuda_tests.json/.log, bench_cuda.json/.log); the summary on stdout. About 6 minutes; exit status: the first
# failure.
set -uo pipefail
out=${OUT:-out/gpu_check}
mkdir -p "$out"
status=0
python3 - <<'PY' || { echo "decompressing .gpu failed"; exit 1; }
import glob, lzma, os, shutil
for path in glob.glob(".gpu/*.xz") + glob.glob(".gpu/lib/*.xz"):
    with lzma.open(path) as src, open(path[:-3], "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.chmod(path[:-3], 0o755)
    os.remove(path)
PY
site=$(python3 -c 'import nvidia, os; print(os.path.dirname(list(nvidia.__path__)[0]))')
cuda_libs=$(ls -d "$site"/nvidia/*/lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH="$PWD/.gpu/lib:${cuda_libs}${LD_LIBRARY_PATH:-}"
# The tests read their fixtures from the path the build baked in.
data_dir=$(cat .gpu/test_data_dir)
if [ -n "$data_dir" ] && [ ! -e "$data_dir" ]; then mkdir -p "$(dirname "$data_dir")" && ln -s "$PWD/tests/data" "$data_dir"; fi
{ nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv; nvcc --version | tail -2; } > "$out/device.txt" 2>&1
cat "$out/device.txt"
timeout 240 .gpu/cuda_tests --gtest_brief=1 --gtest_output="json:$out/cuda_tests.json" > "$out/cuda_tests.log" 2>&1 || status=$?
echo "cuda_tests: exit $status"
tail -25 "$out/cuda_tests.log"
timeout 330 .gpu/bench_cuda --json "$out/bench_cuda.json" --budget 240 > "$out/bench_cuda.log" 2>&1 || { s=$?; [ "$status" = 0 ] && status=$s; echo "bench_cuda: exit $s"; }
cat "$out/bench_cuda.log"
exit "$status"
