#!/usr/bin/env bash
# The one GPU run a session makes on the device machine (see README "Develop"): build once, run the
# GPU tests, compute-sanitizer on every CUDA kernel family, the GPU bench; everything lands in $OUT.
#   run(command="bash scripts/gpu_session.sh", timeout_s=600)
# Set LEPTON_GPU_STEPS to a subset of "build tests sanitize bench" to do less, and
# LEPTON_GPU_BENCH to the suites to run (default: gemm, whose "full" size holds the GPU cases).
set -uo pipefail
OUT="${OUT:-/tmp/lepton-out}"
mkdir -p "$OUT"
steps="${LEPTON_GPU_STEPS:-build tests sanitize bench}"
export PYTHONUNBUFFERED=1 LEPTON_CUDA=ON LEPTON_CUDA_ARCHITECTURES="${LEPTON_CUDA_ARCHITECTURES:-90a-real}"
export LEPTON_CUDA_CONFIGS=all  # every config id must run here (tests, sanitizer, bench spread)
nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm --format=csv > "$OUT/gpu.txt" 2>&1

if [[ $steps == *build* ]]; then
  { time python3 -m pip install --no-build-isolation --no-deps . ; } > "$OUT/build.log" 2>&1 \
    || { tail -50 "$OUT/build.log"; exit 1; }
  grep -E "real|C7510" "$OUT/build.log" | tail -3
fi
if [[ $steps == *tests* ]]; then
  (cd /tmp && python3 -m pytest "$OLDPWD/tests" -m gpu -q -p no:cacheprovider) 2>&1 | tee "$OUT/gpu-tests.log" | tail -15
fi
if [[ $steps == *sanitize* ]]; then
  bash scripts/sanitize.sh 2>&1 | tee "$OUT/sanitizer.log" | tail -15
fi
if [[ $steps == *bench* ]]; then
  python3 -m bench ${LEPTON_GPU_BENCH:-gemm} --size full --out "$OUT" --no-plot 2>&1 | tee "$OUT/bench.md" | tail -40
fi
