"""Each host-side step of one repeated ``int8_gemm`` 64×64×64 call, timed alone.

    PYTHONPATH=<tree>/src python scripts/profile_call_steps.py

Runs against either layout of the op layer: before the call plans (``lepton._tuned`` exists:
a tuning-cache lookup per call, Python and C++ config resolution and a workspace query per
call) or after (``lepton.ops._plan``). Each step is the same call the op makes, repeated on
its own; the table gives the minimum over batches (µs per call; this machine is shared, the
minimum is the least disturbed). The CUDA path runs on ``tests/fake_cupy.py`` (host buffers,
recorders for ``_core``'s CUDA entry points): library costs (cupy allocation, stream query)
and the C++ launcher are those of the fakes, near zero; a GPU adds its own.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import fake_cupy  # noqa: E402

lib, stub = fake_cupy.install()

from lepton import _core, ops  # noqa: E402
from lepton import _cuda_arrays as ca  # noqa: E402
from lepton._validate import host_array  # noqa: E402
from lepton.ops import _gemm_cuda, gemm  # noqa: E402

BEFORE = importlib.util.find_spec("lepton._tuned") is not None


def best_us(fn: Any, calls: int = 2000, batches: int = 25) -> float:
    for _ in range(200):
        fn()
    best = float("inf")
    for _ in range(batches):
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter_ns() - t0) / calls / 1e3)
    return best


def cpu_steps() -> dict[str, Any]:
    a = np.random.default_rng(0).integers(-128, 128, (64, 64), dtype=np.int8)
    is_cuda = gemm.is_cuda
    steps: dict[str, Any] = {
        "route: is_cuda of 5 arguments": lambda: [is_cuda(x) for x in (a, a, None, None, None)],
        "host_array(a) + host_array(b)": lambda: (
            host_array(a, "a", dtypes=[np.int8], ndim=2),
            host_array(a, "b", dtypes=[np.int8], ndim=2),
        ),
    }
    if BEFORE:
        steps["config: _config_id (tuning-cache lookup: stat)"] = lambda: gemm._config_id(
            None, (64, 64, 64)
        )
    else:
        steps["config: plan lookup (key: shape, ISA, threads)"] = lambda: gemm._planned_config(
            64, 64, 64
        )
    steps["core: _core.int8_gemm (kernel + binding)"] = lambda: _core.int8_gemm(
        a, a, None, None, None, None, "int32", 1.0, -1
    )
    steps["TOTAL ops.int8_gemm(a, b)"] = lambda: ops.int8_gemm(a, a)
    return steps


def cuda_steps() -> dict[str, Any]:
    a = lib.wrap(np.random.default_rng(0).integers(-128, 128, (64, 64), dtype=np.int8))
    args = {"a": a, "b": a, "a_scale": None, "b_scale": None, "bias": None}
    d = ca.describe(a, "a")
    steps: dict[str, Any] = {
        "route: is_cuda of 5 arguments": lambda: [
            gemm.is_cuda(x) for x in (a, a, None, None, None)
        ],
        "describe_all (metadata of a, b)": lambda: ca.describe_all(args),
        "k_major(a) + k_major(b)": lambda: (_gemm_cuda.k_major(d, "a"), _gemm_cuda.k_major(d, "b")),
    }
    if BEFORE:
        steps["config: resolve_config (cache stat + C++ resolve)"] = lambda: (
            _gemm_cuda.resolve_config(None, 64, 64, 64, 0)
        )
        steps["workspace: C++ workspace_elems"] = lambda: _core.gemm_cuda_workspace_elems(
            6, 64, 64, 64, 0, 0
        )
        steps["output: empty + describe"] = lambda: ca.describe(ca.empty(d, (64, 64), "int32"), "o")
    else:
        steps["config + workspace: plan lookup"] = lambda: _gemm_cuda._plan_gemm(
            None, 64, 64, 64, 64, "int32", 0
        )
        steps["output: new (described allocation)"] = lambda: ca.new(d, (64, 64), "int32")
    steps["stream: the library's current stream"] = lambda: ca.stream_of(d)
    steps["TOTAL ops.int8_gemm(a, b)"] = lambda: ops.int8_gemm(a, a)
    return steps


def main() -> None:
    print(f"layout: {'before plans' if BEFORE else 'with plans'} ({Path(gemm.__file__).parent})")
    for title, steps in (("CPU", cpu_steps()), ("CUDA (fake library)", cuda_steps())):
        print(f"\n{title}: int8_gemm 64x64x64, repeated call")
        for name, fn in steps.items():
            print(f"  {best_us(fn):8.2f} us  {name}")


if __name__ == "__main__":
    main()
