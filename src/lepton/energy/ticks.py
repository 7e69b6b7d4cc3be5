"""Tick-aligned energy: power from the energy counter's own update moments.

NVML's total-energy counter moves only about every 100 ms. A window read at its two ends is
therefore off by up to one period of power at each end — about ±10% of a 1 s window, ±3% of a
3 s one — and that error, not the work, decides which of two near-equal configs looks cheaper.
While the work runs, the host reads the counter every couple of milliseconds (a cheap call; GPU
work is queued and keeps running) and notes the moments it changed. Between the first and the
last change the counter's difference is exact energy over a span whose ends are known to within
the polling interval, so average power there is known to a fraction of a percent of a 1 s span;
energy per call is that power times the measured time per call.

This assumes steady power across the window, which repeated calls of one kernel give. Windows
with fewer than two changes, or whose changes span less than half of the window, keep the plain
end-to-end reading. Meters whose counter moves more often than ``MIN_PERIOD_S`` (RAPL: 1 ms)
gain nothing from this and are left alone.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from lepton.energy.base import Meter
from lepton.energy.measurement import Measurement, relative_gap

MIN_PERIOD_S = 0.01  # counters updating faster than this are read at the window's ends only
POLLS_PER_PERIOD = 50  # poll every period / 50 (2 ms for NVML's 100 ms)
MIN_SPAN_FRACTION = 0.5  # the changes must span at least this share of the window


def aligns(meter: Meter) -> bool:
    """Whether windows on ``meter`` are worth tick-aligning."""
    return meter.has_energy and meter.counter_period_s >= MIN_PERIOD_S


@dataclass
class TickLog:
    """Counter changes seen while a window is open: (time seen, time of the poll before, joules)."""

    meter: Meter
    changes: list[tuple[float, float, float]] = field(default_factory=list)
    _last_poll: float = float("-inf")
    _last_value: float | None = None

    @property
    def interval_s(self) -> float:
        return self.meter.counter_period_s / POLLS_PER_PERIOD

    def poll(self, *, force: bool = False) -> None:
        """Read the counter if a polling interval has passed since the last read (or ``force``)."""
        now = self.meter.clock()
        if not force and now - self._last_poll < self.interval_s:
            return
        value = self.meter.read_counter()
        if self._last_value is not None and value != self._last_value:
            self.changes.append((now, self._last_poll, value))
        self._last_poll, self._last_value = now, value

    def watts(self, window_s: float) -> float | None:
        """Average power between the first and last change, or ``None`` if they span too little.

        Each change happened between the poll that saw it and the poll before; its midpoint is
        the estimate, so each end is uncertain by half a polling interval.
        """
        if len(self.changes) < 2:
            return None
        (seen0, before0, e0), (seen1, before1, e1) = self.changes[0], self.changes[-1]
        t0, t1 = 0.5 * (seen0 + before0), 0.5 * (seen1 + before1)
        if t1 - t0 < MIN_SPAN_FRACTION * window_s or t1 <= t0:
            return None
        return (e1 - e0) / (t1 - t0)

    def aligned(self, window: Measurement) -> Measurement:
        """``window`` (one whole, undivided window) with its joules from the tick-aligned power.

        ``counter_joules`` keeps the end-to-end reading; ``joules_from`` says which one
        ``joules`` is.
        """
        watts = self.watts(window.window_s)
        if watts is None or window.joules is None:
            return window
        joules = watts * window.seconds
        return dataclasses.replace(
            window,
            joules=joules,
            avg_watts=watts,
            counter_joules=window.joules,
            joules_from="ticks",
            gap=relative_gap(joules, window.sampled_joules),
        )
