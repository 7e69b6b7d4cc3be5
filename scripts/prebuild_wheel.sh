#!/usr/bin/env bash
# Builds, on this CPU machine, the wheel the GPU session installs instead of compiling there:
# CPython 3.12 (the device's), sm_90a, every kernel config, plus the nvidia-cutlass wheel for a
# fallback source build. Writes .whl/ (git-ignored; carry it: carry=[".whl"]) and the hash of the
# sources it was built from, which scripts/gpu_session.sh checks before using the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
python=""
for candidate in ${LEPTON_PY312:-} python3.12 /root/.pyenv/versions/3.12*/bin/python3.12; do
  # the first one that runs and is 3.12 (a pyenv shim may exist and still fail)
  if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
[[ -n $python ]] || { echo "no CPython 3.12 here (set LEPTON_PY312)"; exit 1; }
# .whl/ is in .gitignore: the device's copy of the tree leaves it out unless carried.
mkdir -p .whl
rm -f .whl/lepton_kernels-*.whl .whl/lepton_kernels.source-hash
export LEPTON_CUDA=ON LEPTON_CUDA_ARCHITECTURES=90a-real LEPTON_CUDA_CONFIGS=all
time "$python" -m pip wheel --no-deps -w .whl .
python3 -m pip download -q --no-deps -d .whl nvidia-cutlass==4.2.0.0
bash scripts/source_hash.sh > .whl/lepton_kernels.source-hash  # gpu_session.sh compares
ls -la .whl
