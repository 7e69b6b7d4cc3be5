#!/usr/bin/env bash
# The GPU session's routine on the device machine, in named phases that each fit one 10-minute
# device call (README "Develop" lists the calls). Everything a phase writes lands under
# /tmp/lepton-gpu/<phase>/ (kept while the machine stays warm); at the end of each call $OUT gets
# summary.md, results-<phases>.tar.gz (every log and JSON of this call) and the reports
# (*.md, *.png) — at most 8 files, the device tool's limit.
#
#   LEPTON_GPU_STEPS=build,tests,sanitize   bash scripts/gpu_session.sh   (~6 min)
#   LEPTON_STUDY_PART=1 LEPTON_GPU_STEPS=tune-study bash scripts/gpu_session.sh   (~8 min;
#                                            parts 2 and 3 are one call each)
#   LEPTON_GPU_STEPS=bench-gemm,bench-other bash scripts/gpu_session.sh   (~6 min)
#   LEPTON_GPU_STEPS=gpu-slow,zeus-check    bash scripts/gpu_session.sh   (~5 min)
#   LEPTON_GPU_STEPS=host-cost,bench-pca    bash scripts/gpu_session.sh   (~4 min)
#
# Phases: build, tests (gpu and not slow), sanitize, bench-gemm, tune-study, bench-inference,
# pipeline, gpu-slow (gpu and slow: three 60 s tunings), zeus-check (lepton's joules vs Zeus's
# ZeusMonitor on the same windows; needs the zeus wheel and its dependencies in .whl/, see
# README "Develop"), host-cost (the host suite and scripts/gpu_host_cost.py: host microseconds
# per small GPU call, by step), bench-pca (PCA on cupy input against cupy and torch);
# bench-other = bench-inference,pipeline; all = every phase (more than one call's 10 minutes).
# The build runs once per warm machine: it is skipped when the installed build matches the
# sources (hash in /tmp/lepton-gpu/built.sha1). Wheels in .whl/ (carried: carry=[".whl"]) are
# installed into /tmp/site first, which every phase then puts on PYTHONPATH; a lepton-kernels
# wheel among them replaces the source build. Per-phase limits: LEPTON_GPU_TIMEOUT_<PHASE>.
set -uo pipefail
OUT="${OUT:-/tmp/lepton-out}"
WORK=/tmp/lepton-gpu
mkdir -p "$OUT" "$WORK"
export PYTHONUNBUFFERED=1 LEPTON_CUDA=ON LEPTON_CUDA_ARCHITECTURES="${LEPTON_CUDA_ARCHITECTURES:-90a-real}"
export LEPTON_CUDA_CONFIGS="${LEPTON_CUDA_CONFIGS:-all}"  # every config id runs here
[[ -d /tmp/site ]] && export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"

steps="${LEPTON_GPU_STEPS:-build,tests,sanitize}"
steps="${steps//bench-other/bench-inference,pipeline}"
[[ $steps == all ]] && steps="build,tests,sanitize,bench-gemm,tune-study,bench-inference,pipeline,gpu-slow,zeus-check,host-cost,bench-pca"
IFS=', ' read -r -a phases <<< "$steps"
known=" build tests sanitize bench-gemm tune-study bench-inference pipeline gpu-slow zeus-check host-cost bench-pca "
for p in "${phases[@]}"; do
  [[ $known == *" $p "* ]] || { echo "unknown phase '$p'; phases:$known"; exit 2; }
done

declare -A LIMIT=([build]=480 [tests]=240 [sanitize]=300 [bench-gemm]=330 [tune-study]=540
                  [bench-inference]=200 [pipeline]=300 [gpu-slow]=300 [zeus-check]=150
                  [host-cost]=150 [bench-pca]=200)
SUMMARY="$OUT/summary.md"
echo "# gpu_session: ${phases[*]}" > "$SUMMARY"
nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm,temperature.gpu \
  --format=csv >> "$SUMMARY" 2>&1

source_hash() { bash scripts/source_hash.sh; }

require_build() {
  python3 -c "import lepton._core as c; raise SystemExit(0 if c.cuda_compiled else 1)" \
    2>/dev/null || { echo "lepton with CUDA is not installed: run the build phase first"; return 1; }
}

build_facts() {  # what the build holds: the kernel sets the tests and benches will exercise
  python3 -c "import lepton._core as c; print('built:', c.cuda_architectures, 'configs', \
c.cuda_configs_build, 'wgmma', c.cuda_wgmma_build)"
}

wheel_matches_tree() {  # scripts/prebuild_wheel.sh wrote the hash of the sources it built
  [[ -f .whl/lepton_kernels.source-hash && "$(cat .whl/lepton_kernels.source-hash)" == "$(source_hash)" ]]
}

phase_build() {
  if [[ -d .whl ]] && compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .whl/*.whl || return 1
    export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
    if compgen -G ".whl/lepton_kernels-*.whl" > /dev/null; then
      if wheel_matches_tree && require_build; then
        echo "lepton-kernels wheel from .whl/ installed into /tmp/site: no source build"
        build_facts
        return
      fi
      echo "the carried lepton-kernels wheel is stale or does not import here: building from source"
      rm -rf /tmp/site/lepton /tmp/site/lepton_kernels-*
    fi
  fi
  # The sm_90a int8 GEMM kernels need the CUTLASS headers (nvidia-cutlass wheel in .whl/).
  python3 -c "import cutlass_library" 2>/dev/null \
    || echo "WARNING: no nvidia-cutlass here (carry it in .whl/): the wgmma kernels are left out"
  local want; want="$(source_hash)"
  if [[ -f $WORK/built.sha1 && "$(cat "$WORK/built.sha1")" == "$want" ]] && require_build; then
    echo "build: sources unchanged since the last build on this machine, skipped"
    return 0
  fi
  # build/{wheel_tag} (pyproject) persists in the tree while the machine is warm: incremental
  python3 -m pip install --no-build-isolation --no-deps . || return 1
  require_build && echo "$want" > "$WORK/built.sha1" && build_facts
  echo "C7510 (wgmma serialisation) warnings: $(grep -c C7510 "$dir/log")"
}

phase_tests() {
  require_build || return 1
  # no --maxfail: the whole list of failures is what the next session needs
  (cd /tmp && python3 -m pytest "$OLDPWD/tests" -m "gpu and not slow" -q -p no:cacheprovider -rs)
}

phase_gpu_slow() {
  require_build || return 1
  (cd /tmp && python3 -m pytest "$OLDPWD/tests" -m "gpu and slow" -q -p no:cacheprovider -rs -s)
}

phase_zeus_check() {  # zeus goes last on the path: the machine's own numpy/torch win
  require_build || return 1
  python3 -m pip install -q --no-index --find-links .whl --target /tmp/zeus zeus || return 1
  PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}/tmp/zeus" bench zeus_check
}

phase_sanitize() { require_build && bash scripts/sanitize.sh; }

bench() {  # bench SUITE [extra args]: full size, GPU-length windows, results in the phase dir
  local suite=$1; shift
  require_build || return 1
  python3 -m bench "$suite" --size full --out "$dir" "$@" | tee "$dir/bench-$suite.md"
}

phase_bench_gemm() { bench gemm --rounds 3 --min-window 1.0 --settle 0.1; }
phase_tune_study() { bench tune_study; }
phase_bench_inference() { bench inference --rounds 3 --min-window 1.0 --settle 0.1; }
phase_pipeline() { bench pipeline; }
phase_bench_pca() { bench pca --rounds 3 --min-window 1.0 --settle 0.1; }
phase_host_cost() {
  bench host --rounds 3 || return 1
  python3 scripts/gpu_host_cost.py --json "$dir/host-cost.json" | tee "$dir/host-cost.md"
}

status=0
for p in "${phases[@]}"; do
  dir="$WORK/$p"
  rm -rf "$dir" && mkdir -p "$dir"
  start=$SECONDS
  # a function cannot be run by `timeout`: run the phase in a child bash that has them all
  export -f phase_build phase_tests phase_sanitize bench phase_bench_gemm phase_tune_study \
    phase_bench_inference phase_pipeline phase_gpu_slow phase_zeus_check phase_bench_pca \
    phase_host_cost require_build \
    source_hash build_facts wheel_matches_tree
  export WORK dir
  timeout --signal=TERM --kill-after=15 "${LIMIT[$p]}" bash -c "phase_${p//-/_}" > "$dir/log" 2>&1
  rc=$?
  elapsed=$((SECONDS - start))
  (( rc == 124 )) && note="TIMED OUT after ${LIMIT[$p]} s" || note="exit $rc"
  (( rc != 0 )) && status=1
  { echo; echo "## $p: $note, ${elapsed} s"; echo '```'; tail -25 "$dir/log"; echo '```'; } \
    >> "$SUMMARY"
  echo "== $p: $note, ${elapsed} s"
  [[ $p == build && $rc != 0 ]] && break  # nothing else can run
done

# What comes back: summary, one archive of this call's phase folders, the reports (≤ 8 files).
names=("${phases[@]}")
tar czf "$OUT/results-$(IFS=_; echo "${names[*]}").tar.gz" -C "$WORK" "${names[@]}" 2>/dev/null
copied=0
for f in "${names[@]/#/$WORK/}"; do
  for r in "$f"/*.md "$f"/*.png; do
    [[ -f $r ]] || continue
    (( copied < 6 )) || break 2
    cp "$r" "$OUT/$(basename "$(dirname "$r")")-$(basename "$r")" && copied=$((copied + 1))
  done
done
grep -E '^## ' "$SUMMARY"
exit $status
