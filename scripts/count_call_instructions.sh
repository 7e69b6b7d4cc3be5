#!/usr/bin/env bash
# Instructions one repeated op call executes on the host (valgrind's count: independent of how
# loaded the machine is). Usage: scripts/count_call_instructions.sh SRC_DIR CASE [CALLS]
#   e.g. scripts/count_call_instructions.sh src "cpu int8_gemm 64^3 config=None" 200
# Runs scripts/profile_call_path.py --bare CASE at 0 and CALLS calls under callgrind and prints
# (Ir(CALLS) - Ir(0)) / CALLS.
set -euo pipefail
src="$1"; case="$2"; calls="${3:-200}"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
count() {
  PYTHONPATH="$src" valgrind --tool=callgrind --callgrind-out-file="$tmp/out.$1" \
    python "$here/profile_call_path.py" --bare "$case" --calls "$1" >/dev/null 2>&1
  callgrind_annotate "$tmp/out.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
base="$(count 0)"
total="$(count "$calls")"
echo "$case: $(( (total - base) / calls )) instructions per call ($src)"
