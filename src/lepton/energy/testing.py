"""A meter on a scripted timeline, for deterministic tests of code that measures energy.

Work under test advances ``ManualClock`` and adds joules to ``ScriptedMeter`` itself, so time
and energy per call are exactly known and tests can assert exact winners (the way flashinfer's
tuner is tested against a dummy runner with known costs).
"""

from __future__ import annotations

import bisect
import math
import random

from lepton.energy.base import Meter, Window


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            msg = f"seconds: expected >= 0, got {seconds}"
            raise ValueError(msg)
        self.now += seconds


class ScriptedMeter(Meter):
    """A meter whose counter is whatever ``spend`` put in; idle draw accrues in ``sleep``.

    By default the counter is exact and continuous. ``counter_period_s`` > 0 makes it move only
    on ticks of that period (as NVML's does, about every 100 ms), and ``noise`` multiplies each
    tick's increment by 1 + noise × N(0, 1) from a ``seed``-ed generator (part-time power
    sampling): a window of T seconds is then off by about noise × sqrt(period / T) plus up to a
    period of power at each end, reproducibly for a given seed.
    """

    source = "scripted"

    def __init__(
        self,
        *,
        min_window_s: float = 1.0,
        idle_watts: float = 0.0,
        temperature_c: float | None = 40.0,
        heat_per_joule: float = 0.0,
        device: str = "cpu",
        counter_period_s: float = 0.0,
        noise: float = 0.0,
        seed: int | None = 0,
    ) -> None:
        if counter_period_s < 0 or noise < 0 or (noise > 0 and counter_period_s == 0):
            msg = (
                "counter_period_s, noise: expected >= 0, and noise only with a counter period "
                f"(got {counter_period_s}, {noise})"
            )
            raise ValueError(msg)
        self.clock_ = ManualClock()
        super().__init__(clock=self.clock_, device=device)
        self.min_window_s = min_window_s
        self.idle_watts = idle_watts
        self.counter_j = 0.0
        self.device_name = "scripted device"
        self._temperature = temperature_c
        self._heat_per_joule = heat_per_joule
        self.windows = 0
        self.counter_period_s = counter_period_s
        self.noise = noise
        self._rng = random.Random(seed)
        self._history: list[tuple[float, float]] = [(0.0, 0.0)]  # (time, true counter)
        self._tick = 0  # last tick folded into the reported counter
        self._true_at_tick = 0.0
        self._reported_j = 0.0

    def spend(self, seconds: float, joules: float) -> None:
        """What one unit of work costs: advance the clock and the energy counter."""
        self.clock_.advance(seconds)
        self.counter_j += joules
        if self.counter_period_s > 0:
            self._history.append((self.clock_.now, self.counter_j))
        if self._temperature is not None:
            self._temperature += self._heat_per_joule * joules

    def sleep(self, seconds: float) -> None:
        self.spend(seconds, self.idle_watts * seconds)

    def begin(self, *, sample: bool = True) -> Window:
        self.windows += 1
        return super().begin(sample=sample)

    def _read_joules(self) -> float:
        if self.counter_period_s == 0:
            return self.counter_j
        last = math.floor(self.clock_.now / self.counter_period_s + 1e-9)
        while self._tick < last:
            self._tick += 1
            true = self._true_at(self._tick * self.counter_period_s)
            factor = 1.0 + self.noise * self._rng.gauss(0.0, 1.0) if self.noise else 1.0
            self._reported_j += (true - self._true_at_tick) * max(factor, 0.0)
            self._true_at_tick = true
        return self._reported_j

    def _true_at(self, t: float) -> float:
        """The exact counter at time ``t`` (energy accrues evenly over each spend)."""
        times = [point[0] for point in self._history]
        i = min(max(bisect.bisect_right(times, t), 1), len(times) - 1)
        (t0, e0), (t1, e1) = self._history[i - 1], self._history[i]
        value = e1 if t1 <= t0 else e0 + (e1 - e0) * min(max((t - t0) / (t1 - t0), 0.0), 1.0)
        del self._history[: i - 1]  # ticks only move forward
        return value

    def temperature_c(self) -> float | None:
        return self._temperature
