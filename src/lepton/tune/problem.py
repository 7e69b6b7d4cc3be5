"""A tuning problem: inputs built for one shape, and how the tuner runs and times them.

Its own module so that the problem builders (``cuda_problem.py``) and the registry that calls
them both import it, and not each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """Inputs built for one shape: ``run(config_id)`` is one call of the op on them."""

    shape: tuple[int, ...]
    dtype: str
    run: Callable[[int], Any]
    sync: Callable[[], Any] | None = None  # waits for queued device work (GPU)
    work_ops: float | None = None  # work per call (operations; bytes moved for preprocess)
    # Calls of the op one run() makes (a replayed CUDA graph makes several): the tuner divides
    # each window by it. Read at measurement time, as a problem may fall back to direct calls.
    calls_per_run: Callable[[], int] = lambda: 1
    launch: Callable[[], str] = lambda: "direct calls"  # how run() reaches the device, for reports
    # Times the device's share of each window (lepton.energy.timing.DeviceTimer: CUDA events on
    # a GPU); None: the host clock. The config id config=None runs untuned (None: not known).
    timer: Any = None
    heuristic: int | None = None
