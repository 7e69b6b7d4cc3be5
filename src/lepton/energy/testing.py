"""A meter on a scripted timeline, for deterministic tests of code that measures energy.

Work under test advances ``ManualClock`` and adds joules to ``ScriptedMeter`` itself, so time
and energy per call are exactly known and tests can assert exact winners (the way flashinfer's
tuner is tested against a dummy runner with known costs).
"""

from __future__ import annotations

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
    """A meter whose counter is whatever ``spend`` put in; idle draw accrues in ``sleep``."""

    source = "scripted"

    def __init__(
        self,
        *,
        min_window_s: float = 1.0,
        idle_watts: float = 0.0,
        temperature_c: float | None = 40.0,
        heat_per_joule: float = 0.0,
        device: str = "cpu",
    ) -> None:
        self.clock_ = ManualClock()
        super().__init__(clock=self.clock_, device=device)
        self.min_window_s = min_window_s
        self.idle_watts = idle_watts
        self.counter_j = 0.0
        self.device_name = "scripted device"
        self._temperature = temperature_c
        self._heat_per_joule = heat_per_joule
        self.windows = 0

    def spend(self, seconds: float, joules: float) -> None:
        """What one unit of work costs: advance the clock and the energy counter."""
        self.clock_.advance(seconds)
        self.counter_j += joules
        if self._temperature is not None:
            self._temperature += self._heat_per_joule * joules

    def sleep(self, seconds: float) -> None:
        self.spend(seconds, self.idle_watts * seconds)

    def begin(self, *, sample: bool = True) -> Window:
        self.windows += 1
        return super().begin(sample=sample)

    def _read_joules(self) -> float:
        return self.counter_j

    def temperature_c(self) -> float | None:
        return self._temperature
