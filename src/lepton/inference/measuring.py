"""Seconds and joules of a call, through ``lepton.energy.measure`` (never invented)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lepton.inference.arrays import Backend


@dataclass(frozen=True)
class CallCost:
    """Per-call cost: ``joules`` is None when no meter can read energy (``source`` says which)."""

    seconds: float
    joules: float | None
    source: str
    calls: int  # calls averaged over in the window

    @property
    def joules_text(self) -> str:
        return "no meter" if self.joules is None else f"{self.joules:.4g} J"


def synchronizer(backend: Backend) -> Callable[[], None]:
    """Waits for queued GPU work, so a window closes after the work and not after the launch."""
    if backend.is_cuda:
        return backend.xp.cuda.Device(backend.device_index).synchronize
    return lambda: None


@contextmanager
def energy_window(backend: Backend) -> Iterator[Any]:
    """``lepton.energy.measure`` on the input's device; the window waits for the device at exit."""
    from lepton import energy

    sync = synchronizer(backend)
    sync()
    with energy.measure(device=backend.device) as window:
        yield window
        sync()


def measure_calls(fn: Callable[[], Any], backend: Backend, min_window_s: float) -> CallCost:
    """Call ``fn`` repeatedly in one window lasting at least ``min_window_s``; cost per call.

    Energy counters move in steps (NVML about every 100 ms), so a single short call would read
    zero or one step; repeating the work and dividing is the honest per-call figure.
    """
    calls = 0
    start = time.perf_counter()
    with energy_window(backend) as window:
        while True:
            fn()
            calls += 1
            if backend.is_cuda:
                synchronizer(backend)()
            if time.perf_counter() - start >= min_window_s:
                break
    result = window.result
    joules = None if result.joules is None else result.joules / calls
    return CallCost(result.seconds / calls, joules, result.source, calls)
