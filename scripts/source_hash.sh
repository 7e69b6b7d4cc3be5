#!/usr/bin/env bash
# Prints what a lepton build depends on: a hash of the sources (tracked-file types only: no
# caches or build products, which differ between checkouts) and the build's CUDA settings.
# Shared by gpu_session.sh (is the installed or carried build current?) and prebuild_wheel.sh.
find csrc src CMakeLists.txt pyproject.toml _build -type f \
  -not -path '*/__pycache__/*' -not -name '*.pyc' -not -name '*.so' -print0 \
  | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1
echo "${LEPTON_CUDA_ARCHITECTURES:-} ${LEPTON_CUDA_CONFIGS:-}"
