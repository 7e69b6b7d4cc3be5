"""Host-side cost of one small op call, end to end, on the CPU path and the CUDA path.

    PYTHONPATH=src python scripts/profile_call_path.py [--calls N] [--json out.json]

CPU: ``int8_gemm`` 64×64×64 (config=None and an explicit config), ``linear_int8`` M=1 and 32,
N=K=4096 with a ``PackedLinear``, timed for real; the core call alone is the floor.

CUDA (no GPU needed): the fake cupy of ``tests/fake_cupy.py`` (host buffers standing in for
device memory) and recorders in place of ``_core``'s CUDA entry points, so every host-side step
of the call runs and only the kernel is missing. The GPU-side numbers of a real run add the
library's own costs (a cupy/torch allocation, a stream query) and the launch itself.

Each case reports the median and minimum over batches of ``--calls`` calls (this machine is
shared: the minimum is the least disturbed), what one call did (cache-file stats and opens,
NVML calls, ``_core`` CUDA entry points, allocations, stream queries, host synchronisations),
and cProfile's per-function time for the heaviest functions of one repeated call.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


# --- counting what a call touches ---------------------------------------------------------------

_events: Counter = Counter()
_counting = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _counting and event == "open":
        _events[f"open {Path(str(args[0])).name}"] += 1


def _count_stats() -> None:
    real_stat = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if _counting:
            _events[f"stat {Path(str(path)).name}"] += 1
        return real_stat(path, *args, **kwargs)

    os.stat = stat  # pathlib and os.path look it up at call time


def _count_nvml() -> None:
    try:
        import pynvml
    except ImportError:
        return
    for name in dir(pynvml):
        fn = getattr(pynvml, name)
        if name.startswith("nvml") and callable(fn):

            def wrapped(*args: Any, _fn: Any = fn, _name: str = name, **kwargs: Any) -> Any:
                if _counting:
                    _events[f"NVML {_name}"] += 1
                return _fn(*args, **kwargs)

            setattr(pynvml, name, wrapped)


def counts_of(call: Any, repeats: int = 10) -> dict[str, float]:
    """What one repeated call does, per call (after a first call that may resolve things)."""
    global _counting
    call()
    _events.clear()
    _counting = True
    try:
        for _ in range(repeats):
            call()
    finally:
        _counting = False
    return {k: v / repeats for k, v in sorted(_events.items())}


def first_call_counts(call: Any) -> dict[str, float]:
    global _counting
    _events.clear()
    _counting = True
    try:
        call()
    finally:
        _counting = False
    return dict(sorted(_events.items()))


# --- timing -------------------------------------------------------------------------------------


def time_us(call: Any, calls: int, batches: int = 15) -> dict[str, float]:
    for _ in range(max(calls // 10, 20)):
        call()
    wall, cpu = [], []
    for _ in range(batches):
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        for _ in range(calls):
            call()
        cpu.append((time.thread_time_ns() - c0) / calls / 1e3)
        wall.append((time.perf_counter_ns() - t0) / calls / 1e3)
    wall.sort()
    cpu.sort()
    return {
        "median_us": round(wall[len(wall) // 2], 2),
        "min_us": round(wall[0], 2),
        # CPU time of the calling thread: what the host spends, less the waits of a shared
        # machine (and less the CPU kernels' worker threads)
        "thread_cpu_median_us": round(cpu[len(cpu) // 2], 2),
    }


def profile_top(call: Any, calls: int, top: int = 14) -> list[tuple[str, float, float]]:
    """(function, µs per op call inside it (cumulative), its own µs) for the heaviest ones."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        call()
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = []
    for (file, line, name), (_cc, _nc, tt, ct, _callers) in stats.items():
        where = f"{Path(file).name}:{line}:{name}" if line else name
        rows.append((where, ct / calls * 1e6, tt / calls * 1e6))
    rows.sort(key=lambda r: -r[1])
    return [(w, round(c, 2), round(t, 2)) for w, c, t in rows[1 : top + 1]]


# --- the cases ----------------------------------------------------------------------------------


def cpu_cases(linear: bool = True) -> dict[str, Any]:
    from lepton import _core, ops

    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (64, 64), dtype=np.int8)
    b = rng.integers(-128, 128, (64, 64), dtype=np.int8)
    cfg = 0
    cases = {
        "cpu int8_gemm 64^3 config=None": lambda: ops.int8_gemm(a, b),
        "cpu int8_gemm 64^3 config=0": lambda: ops.int8_gemm(a, b, config=cfg),
        "cpu _core.int8_gemm 64^3 heuristic (floor)": lambda: _core.int8_gemm(
            a, b, None, None, None, None, "int32", 1.0, -1
        ),
    }
    if not linear:
        return cases
    w = rng.integers(-127, 128, (4096, 4096), dtype=np.int8)
    packed = ops.pack_weights(w, rng.random(4096, dtype=np.float32), rng.random(4096, np.float32))
    x1 = rng.standard_normal((1, 4096), dtype=np.float32)
    x32 = rng.standard_normal((32, 4096), dtype=np.float32)
    return {
        **cases,
        "cpu linear_int8 M=1 N=K=4096 packed": lambda: ops.linear_int8(x1, packed),
        "cpu linear_int8 M=32 N=K=4096 packed": lambda: ops.linear_int8(x32, packed),
    }


def cuda_cases() -> tuple[dict[str, Any], Any, Any]:
    import fake_cupy

    lib, stub = fake_cupy.install()
    from lepton import ops

    rng = np.random.default_rng(0)
    a = lib.wrap(rng.integers(-128, 128, (64, 64), dtype=np.int8))
    b = lib.wrap(rng.integers(-128, 128, (64, 64), dtype=np.int8))
    w = lib.wrap(rng.integers(-127, 128, (4096, 4096), dtype=np.int8))
    scale = lib.wrap(rng.random(4096, dtype=np.float32))
    packed = ops.pack_weights(w, scale, scale)
    x32 = lib.wrap(rng.standard_normal((32, 4096), dtype=np.float32))
    return (
        {
            "cuda(fake) int8_gemm 64^3 config=None": lambda: ops.int8_gemm(a, b),
            "cuda(fake) int8_gemm 64^3 config=6": lambda: ops.int8_gemm(a, b, config=6),
            "cuda(fake) linear_int8 M=32 N=K=4096 packed": lambda: ops.linear_int8(x32, packed),
        },
        lib,
        stub,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", choices=("cpu", "cuda"))
    parser.add_argument(
        "--bare",
        metavar="CASE",
        help="run only the case whose name contains CASE, --calls times after one warm-up call, "
        "with no timing or counting: for instruction counts that a loaded machine cannot skew "
        "(valgrind --tool=callgrind at --calls 0 and N; see count_call_instructions.sh)",
    )
    args = parser.parse_args()
    if args.bare:
        if args.bare.startswith("cuda"):
            everything = cuda_cases()[0]
        else:
            everything = cpu_cases(linear="linear" in args.bare)
        (call,) = [c for name, c in everything.items() if args.bare in name]
        call()
        for _ in range(args.calls):
            call()
        return

    sys.addaudithook(_audit)
    _count_stats()
    _count_nvml()
    results: dict[str, Any] = {}
    cases: dict[str, Any] = {}
    if args.only != "cuda":
        cases.update(cpu_cases())
    stub = lib = None
    if args.only != "cpu":
        extra, lib, stub = cuda_cases()
        # the first call of each: what resolving everything costs once
        for name, call in extra.items():
            before = Counter(stub.calls)
            results.setdefault(name, {})["first_call"] = first_call_counts(call)
            results[name]["first_call"].update(
                {f"_core.{k}": v for k, v in (stub.calls - before).items()}
            )
        cases.update(extra)
    for name, call in cases.items():
        calls = args.calls if "4096" not in name or "cuda" in name else max(args.calls // 20, 20)
        row = results.setdefault(name, {})
        row.update(time_us(call, calls))
        row["per_call"] = counts_of(call)
        if stub is not None and name.startswith("cuda"):
            before, lib_before = Counter(stub.calls), Counter(lib.counts)
            for _ in range(10):
                call()
            row["per_call"].update({f"_core.{k}": v / 10 for k, v in (stub.calls - before).items()})
            row["per_call"].update(
                {f"cupy.{k}": v / 10 for k, v in (lib.counts - lib_before).items()}
            )
        row["profile"] = profile_top(call, min(calls, 500))
    for name, row in results.items():
        print(
            f"\n== {name}: median {row['median_us']} µs, min {row['min_us']} µs per call "
            f"(calling thread's CPU time: median {row['thread_cpu_median_us']} µs)"
        )
        if "first_call" in row:
            print(f"   first call: {row['first_call']}")
        print(f"   each repeated call: {row['per_call']}")
        for where, cum, own in row["profile"]:
            print(f"   {cum:9.2f} µs cum {own:8.2f} µs own  {where}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
