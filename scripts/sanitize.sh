#!/usr/bin/env bash
# compute-sanitizer memcheck and racecheck over a small shape of every CUDA kernel family.
# Each family adds a line to tests/gpu_sanitize_cases.py; this script runs them all under each tool.
set -uo pipefail
status=0
for tool in memcheck racecheck; do
  echo "== compute-sanitizer --tool $tool"
  compute-sanitizer --tool "$tool" --error-exitcode 99 python3 tests/gpu_sanitize_cases.py || status=1
done
# initcheck (reads of device memory nothing wrote) on the centred Gram: its tile kernels must fill
# every workspace slot the reduce kernel reads, including the tensor-core kernel's fragment stores.
echo "== compute-sanitizer --tool initcheck (pca_gram)"
compute-sanitizer --tool initcheck --error-exitcode 99 python3 tests/gpu_sanitize_cases.py pca_gram \
  || status=1
exit $status
