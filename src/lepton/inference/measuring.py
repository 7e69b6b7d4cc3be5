"""Seconds and joules of a call, through ``lepton.energy`` (never invented)."""

from __future__ import annotations

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
    calls: int  # calls the figures are averaged over

    @property
    def joules_text(self) -> str:
        return "no meter" if self.joules is None else f"{self.joules:.4g} J"


@contextmanager
def energy_window(backend: Backend) -> Iterator[Any]:
    """``lepton.energy.measure`` on the input's device (it waits for GPU work at both ends)."""
    from lepton import energy

    with energy.measure(device=backend.device) as reading:
        yield reading


def measure_calls(fn: Callable[[], Any], backend: Backend, min_window_s: float) -> CallCost:
    """Call ``fn`` repeatedly in one window lasting at least ``min_window_s``; cost per call.

    Energy counters move in steps (NVML about every 100 ms), so a single short call would read
    zero or one step; repeating the work and dividing is the honest per-call figure.
    """
    from lepton import energy

    m = energy.measure_repeated(fn, device=backend.device, min_window_s=min_window_s)
    return CallCost(m.seconds, m.joules, m.source, m.repetitions)
