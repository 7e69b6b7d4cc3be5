"""Tick-aligned energy: power from the energy counter's own update moments.

NVML's total-energy counter moves only about every 100 ms. A window read at its two edges is
therefore off by up to one period of power at each end — about ±10% of a 1 s window, ±3% of a
3 s one — and that error, not the work, decides which of two near-equal configs looks cheaper.
So while a window is open, the meter's sampler thread (``energy/sampler.py``) reads the counter
over and over and notes when it changed; the launching thread never reads it (one read costs
4 ms on an H200: a read between calls would measure the meter). Between the first and the last
update seen inside the window, the counter's difference is exact energy over a span whose ends
are known to within a read or two, so average power there is known to a fraction of a percent;
the window's energy is that power times the window.

This assumes steady power across the window, which repeated calls of one kernel give. The span
must cover ``MIN_UPDATES`` counter periods and ``MIN_SPAN_FRACTION`` of the window, else the
window keeps another reading (``measure.py`` says which). Meters whose counter moves more often
than ``MIN_PERIOD_S`` (RAPL: 1 ms) gain nothing from this and are read at the edges only.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

MIN_PERIOD_S = 0.01  # counters updating faster than this are read at the window's edges only
POLLS_PER_PERIOD = 50  # the sampler reads the counter every period / 50 (2 ms for 100 ms) ...
MIN_UPDATES = 4  # ... and a span must cover this many periods ("several counter updates")
MIN_SPAN_FRACTION = 0.5  # ... and at least this share of the window


@dataclass(frozen=True)
class Poll:
    """One counter read: the clock before and after it, and the value it returned."""

    before: float
    after: float
    joules: float


@dataclass(frozen=True)
class TickSpan:
    """The counter between its first and last update observed inside a window."""

    start: float  # estimated moments of the two updates (clock time)
    end: float
    joules: float  # the counter's change between them: exact energy over [start, end]
    uncertainty_s: float  # half-width of the two updates' brackets, added

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def watts(self) -> float:
        return self.joules / self.seconds

    @property
    def resolution(self) -> float:
        """Relative error of ``watts`` from the update moments' uncertainty."""
        return self.uncertainty_s / self.seconds


def tick_span(polls: Sequence[Poll], t0: float, t1: float, period_s: float) -> TickSpan | None:
    """The span between the first and last counter update inside ``[t0, t1]``, or ``None``.

    A read returns the counter as of some moment during the read, so an update seen by read
    ``i`` and not by read ``i - 1`` happened between the start of ``i - 1`` and the end of ``i``;
    the middle of that bracket is the estimate.
    """
    inside = [p for p in polls if p.before >= t0 and p.after <= t1]
    updates = [
        (prev.before, cur.after, cur.joules)
        for prev, cur in itertools.pairwise(inside)
        if cur.joules != prev.joules
    ]
    if len(updates) < 2:
        return None
    (a0, a1, e0), (b0, b1, e1) = updates[0], updates[-1]
    start, end = 0.5 * (a0 + a1), 0.5 * (b0 + b1)
    needed = max(MIN_UPDATES * period_s, MIN_SPAN_FRACTION * (t1 - t0))
    if end - start < needed or e1 <= e0:
        return None
    return TickSpan(start, end, e1 - e0, 0.5 * ((a1 - a0) + (b1 - b0)))
