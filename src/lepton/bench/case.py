"""What a benchmark case is: one piece of work and every implementation of it.

A suite module (``lepton.bench.suites.<name>``) defines ``cases(size) -> list[Case]`` for
``size`` in ``"small"`` (CPU-sized, the default) and ``"full"`` (the sizes quoted in issues).
The runner warms every implementation up, then times them in interleaved, shuffled rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Impl:
    name: str  # "lepton", "numpy f32 matmul", "numba fused", ...
    run: Callable[[], Any]  # one call of the work; all set-up happens before
    is_lepton: bool = False
    sync: Callable[[], None] | None = None  # waits for asynchronous (GPU) work to finish


@dataclass
class Case:
    suite: str
    name: str
    params: dict[str, Any]
    impls: list[Impl]
    work_ops: float | None = None  # arithmetic operations per call (2·M·N·K for a GEMM)
    work_bytes: float | None = None  # bytes a call must move at least (for GB/s)
    device: str = "cpu"  # "cpu" or "cuda:N": picks the energy meter
    notes: str = ""
    rows: int | None = None  # data rows per call: results also per 1M rows (inference)
    skipped: dict[str, str] = field(default_factory=dict)  # peer name -> why it did not run
