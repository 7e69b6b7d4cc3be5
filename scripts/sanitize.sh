#!/usr/bin/env bash
# compute-sanitizer memcheck and racecheck over a small shape of every CUDA kernel family.
# Each family adds a line to tests/gpu_sanitize_cases.py; this script runs them all under each tool.
set -uo pipefail
status=0
for tool in memcheck racecheck; do
  echo "== compute-sanitizer --tool $tool"
  compute-sanitizer --tool "$tool" --error-exitcode 99 python3 tests/gpu_sanitize_cases.py || status=1
done
exit $status
