"""Tuning problems on a CUDA device: inputs on the device, a device-wide sync, batched launches.

Three things make a GPU problem different from a CPU one:

- Launches are asynchronous. Every window the tuner opens and closes calls ``Problem.sync``
  (the device's synchronize), so a window measures the work and not the queueing of it, and
  its time comes from CUDA events recorded through the inputs' library (``Problem.timer``:
  ``lepton.energy.timing.CudaEventTimer``, one pair around the window and one around each
  call), which also gives each window's busy fraction.
- A short kernel is hidden behind its own launch cost. ``ops.int8_gemm`` on a CUDA array spends
  some tens of µs in Python (describe, validate, allocate the output) before the launch; a
  256×4096×4096 int8 GEMM is about that long on an H100, so a loop of calls would keep the GPU
  idle part of the time and every configuration would time the same. When one call is shorter
  than ``GRAPH_BELOW_S``, each configuration's calls are recorded once into a CUDA graph of
  ``launches`` calls (torch's ``CUDAGraph``) and a tuning call replays it: the tuner then
  measures back-to-back kernels, and divides by ``Problem.calls_per_run`` to report one call.
  A graph whose output differs from a direct call's, or that cannot be recorded, is not used
  (``Problem.launch`` says which way was measured and why).
- What ``config=None`` would run is the tuning cache's choice once one is stored, so the
  graphs are sized from the heuristic's config (``Problem.heuristic``), never from
  ``config=None``: a re-tune measures the way the first tune did.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from lepton.energy.devices import cuda_index
from lepton.energy.timing import CudaEventTimer
from lepton.tune.problem import Problem

GRAPH_BELOW_S = 5e-4  # a call shorter than this is replayed from a graph
GRAPH_TARGET_S = 2e-3  # one replay lasts about this long
MAX_LAUNCHES = 256

# record(fn, launches) -> (replay, output of the last recorded call)
Recorder = Callable[[Callable[[], Any], int], tuple[Callable[[], None], Any]]


class DeviceLibrary:
    """The array library that holds a problem's inputs: upload, sync, compare, record graphs."""

    def __init__(self, name: str, module: Any, index: int) -> None:
        self.name = name
        self.module = module
        self.index = index

    def upload(self, host: np.ndarray) -> Any:
        if self.name == "torch":
            return self.module.from_numpy(host).to(f"cuda:{self.index}")
        with self.module.cuda.Device(self.index):
            return self.module.asarray(host)

    def sync(self) -> None:
        if self.name == "torch":
            self.module.cuda.synchronize(self.index)
        else:
            self.module.cuda.Device(self.index).synchronize()

    def equal(self, x: Any, y: Any) -> bool:
        if self.name == "torch":
            return bool(self.module.equal(x, y))
        return bool(self.module.array_equal(x, y))

    def timer(self) -> CudaEventTimer:
        """CUDA events on this library's current stream, around the window and each call."""
        return CudaEventTimer(self.name, self.module, self.index, per_call=True)

    def recorder(self) -> Recorder | None:
        """Graph recording for torch; cupy problems launch directly."""
        if self.name != "torch":
            return None
        torch = self.module

        def record(fn: Callable[[], Any], launches: int) -> tuple[Callable[[], None], Any]:
            graph = torch.cuda.CUDAGraph()
            # "relaxed": lepton's launch path may query device attributes; allocations during
            # capture come from the graph's private pool either way.
            with torch.cuda.graph(graph, capture_error_mode="relaxed"):
                for _ in range(launches - 1):
                    fn()
                last = fn()
            return graph.replay, last

        return record


def device_library(device: str, prefer: tuple[str, ...] = ("torch", "cupy")) -> DeviceLibrary:
    """torch (CUDA available) or cupy for ``device``; ``ValueError`` naming both if neither."""
    index = cuda_index(device)
    why = []
    for name in prefer:
        try:
            module = __import__(name)
        except ImportError:
            why.append(f"{name} is not installed")
            continue
        if name == "torch" and not module.cuda.is_available():
            why.append("torch has no CUDA device")
            continue
        return DeviceLibrary(name, module, index)
    msg = f"device: tuning on {device} needs torch with CUDA or cupy ({'; '.join(why)})"
    raise ValueError(msg)


def launches_for(call_s: float) -> int:
    """Calls per graph replay for a call measured at ``call_s`` (1: launch directly)."""
    if call_s >= GRAPH_BELOW_S:
        return 1
    return min(MAX_LAUNCHES, max(2, math.ceil(GRAPH_TARGET_S / max(call_s, 1e-7))))


def _time_call(call: Callable[[], Any], sync: Callable[[], None], calls: int = 10) -> float:
    call()
    sync()
    start = time.perf_counter()
    for _ in range(calls):
        call()
    sync()
    return (time.perf_counter() - start) / calls


class BatchedRunner:
    """``run(config)``: one direct call, or one replay of that config's recorded graph."""

    def __init__(
        self,
        call: Callable[[int], Any],
        sync: Callable[[], None],
        equal: Callable[[Any, Any], bool],
        recorder: Recorder | None,
        launches: int,
    ) -> None:
        self.call, self.sync, self.equal = call, sync, equal
        self.recorder = recorder
        self.launches = launches if recorder is not None else 1
        self.graphs: dict[int, Callable[[], None]] = {}
        self.why_direct = "" if recorder is not None else "no graph recorder for this library"
        if launches <= 1:
            self.why_direct = "calls long enough to launch directly"
            self.launches = 1

    @property
    def launch(self) -> str:
        if self.launches > 1:
            return f"CUDA graph of {self.launches} calls per replay"
        return f"direct calls ({self.why_direct})"

    def run(self, config: int) -> Any:
        if self.launches == 1:
            return self.call(config)
        replay = self.graphs.get(config)
        if replay is None:
            replay = self._record(config)
        return replay()

    def _record(self, config: int) -> Callable[[], None]:
        expected = self.call(config)  # a config that cannot run raises ValueError here
        self.sync()
        try:
            replay, last = self.recorder(lambda: self.call(config), self.launches)  # type: ignore[misc]
            replay()
            self.sync()
            same = self.equal(last, expected)
        except Exception as exc:  # any recording failure means: launch directly
            self._give_up(f"graph recording failed: {type(exc).__name__}: {exc}")
            return lambda: self.call(config)
        if not same:
            self._give_up(f"config {config}: graph output differs from a direct call's")
            return lambda: self.call(config)
        self.graphs[config] = replay
        return replay

    def _give_up(self, why: str) -> None:
        # Every config must be measured the same way: a failure switches all of them to direct
        # calls. The tuner's trials so far were per replay; ``calls_per_run`` is read at
        # measurement time, so the warm-up (where recording happens) is the only phase affected.
        self.sync_quietly()
        self.launches = 1
        self.graphs.clear()
        self.why_direct = why

    def sync_quietly(self) -> None:
        with contextlib.suppress(Exception):  # the caller falls back to direct calls anyway
            self.sync()


def gemm_heuristic(shape: tuple[int, ...], device: str) -> int:
    """The config id ``int8_gemm`` runs untuned on this shape (int32 output) and device."""
    from lepton import _core

    m, n, k = shape
    return int(_core.gemm_cuda_resolve_config(-1, m, n, k, 0, cuda_index(device)))


def gemm_problem(
    shape: tuple[int, ...],
    device: str,
    seed: int | None,
    *,
    library: DeviceLibrary | None = None,
    gemm: Callable[..., Any] | None = None,
    heuristic: int | None = None,
) -> Problem:
    """int8 A (M, K) and B (N, K) on ``device``; ``run(config)`` is ``ops.int8_gemm`` on them.

    ``library``, ``gemm`` and ``heuristic`` are for tests (fake device arrays and kernels).
    """
    if gemm is None:
        from lepton.ops import int8_gemm as gemm
    if heuristic is None:
        heuristic = gemm_heuristic(shape, device)
    lib = library or device_library(device)
    m, n, k = shape
    rng = np.random.default_rng(seed)
    a = lib.upload(rng.integers(-128, 128, size=(m, k), dtype=np.int8))
    b = lib.upload(rng.integers(-128, 128, size=(n, k), dtype=np.int8))

    def call(config: int) -> Any:
        return gemm(a, b, config=config)

    direct_s = _time_call(lambda: call(heuristic), lib.sync)  # sizes the batches
    runner = BatchedRunner(call, lib.sync, lib.equal, lib.recorder(), launches_for(direct_s))
    return Problem(
        shape,
        "int8",
        runner.run,
        lib.sync,
        2.0 * m * n * k,
        calls_per_run=lambda: runner.launches,
        launch=lambda: f"{lib.name} arrays, {runner.launch}",
        timer=lib.timer(),
        heuristic=heuristic,
    )


def preprocess_heuristic(x: np.ndarray, device: str) -> int:
    """The config id ``preprocess`` runs untuned on ``x``'s shape and dtype on this device."""
    from lepton import _core

    rows, cols = x.shape
    return int(_core.prep_cuda_resolve_config(-1, rows, cols, x.itemsize, cuda_index(device)))


def preprocess_problem(
    x: np.ndarray,
    device: str,
    work: float,
    *,
    library: DeviceLibrary | None = None,
    heuristic: int | None = None,
) -> Problem:
    """``x`` on ``device`` and one output buffer; ``run(config)`` is both preprocessing passes.

    Direct calls, no graph: the statistics come back to the host (one synchronisation per call),
    which a graph cannot capture, and a call on tuning-sized data lasts a millisecond or more.
    The host work of that synchronisation shows in each window's busy fraction.
    """
    from lepton import ops

    if heuristic is None:
        heuristic = preprocess_heuristic(x, device)
    lib = library or device_library(device)
    x_dev = lib.upload(x)
    out = lib.module.empty_like(x_dev)

    def run(config: int) -> Any:
        return ops.preprocess(x_dev, clip_sigma=3.0, out=out, config=config)

    return Problem(
        x.shape,
        "float32",
        run,
        lib.sync,
        work,
        launch=lambda: f"{lib.name} arrays, direct calls",
        timer=lib.timer(),
        heuristic=heuristic,
    )
