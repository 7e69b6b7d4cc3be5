"""What one energy window measured, and the arithmetic on power samples."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lepton.energy.units import EnergyUnits, Footprint


class MeasurementWarning(UserWarning):
    """A reading that should not be trusted as it stands (e.g. counter and samples disagree)."""


# Fewer samples than this cannot integrate a window's power with any meaning.
MIN_SAMPLES_FOR_INTEGRAL = 5


@dataclass(frozen=True)
class Measurement:
    """Time and energy of one unit of work.

    After repeated measurement (``repetitions`` > 1) ``seconds``, ``joules`` and
    ``sampled_joules`` are per repetition; ``window_s`` is the whole window. ``joules`` and
    ``avg_watts`` are ``None`` when no meter could read energy (``source == "none"``).
    """

    seconds: float
    joules: float | None
    avg_watts: float | None
    source: str
    samples: tuple[tuple[float, float], ...] = ()  # (seconds since window start, watts)
    repetitions: int = 1
    window_s: float = 0.0
    sampled_joules: float | None = None  # integral of the instant-power samples
    gap: float | None = None  # (sampled_joules - joules) / joules: the meter's self-disagreement
    temperature_c: float | None = None  # at the end of the window
    start_temperature_c: float | None = None
    short_window: bool = False  # window shorter than the meter needs: energy is unreliable
    device: str = "cpu"
    # "counter": joules is the counter's difference between the window's ends; "ticks": power
    # between the counter's own update moments × time (energy/ticks.py), the end-to-end
    # difference kept in counter_joules.
    joules_from: str = "counter"
    counter_joules: float | None = None

    def per_repetition(self, repetitions: int) -> Measurement:
        """This window's reading divided over ``repetitions`` calls of the same work."""
        if repetitions < 1:
            msg = f"repetitions: expected >= 1, got {repetitions}"
            raise ValueError(msg)
        return dataclasses.replace(
            self,
            seconds=self.seconds / repetitions,
            joules=None if self.joules is None else self.joules / repetitions,
            sampled_joules=(
                None if self.sampled_joules is None else self.sampled_joules / repetitions
            ),
            counter_joules=(
                None if self.counter_joules is None else self.counter_joules / repetitions
            ),
            repetitions=self.repetitions * repetitions,
        )

    def above_idle(self, idle_watts: float | None) -> float | None:
        """Joules beyond what the device draws doing nothing for the same time."""
        if self.joules is None or idle_watts is None:
            return None
        return self.joules - idle_watts * self.seconds

    # Units people report (energy/units.py); the rates come from the arguments or from
    # LEPTON_GRID_INTENSITY / LEPTON_ENERGY_PRICE. None without a meter reading.
    def footprint(
        self, grid_intensity: float | None = None, price: float | None = None
    ) -> Footprint | None:
        """``joules`` as J, Wh, gCO2e (with a grid intensity) and cost (with a price)."""
        return EnergyUnits.resolve(grid_intensity, price).footprint(self.joules)

    @property
    def wh(self) -> float | None:
        found = self.footprint()
        return None if found is None else found.wh

    @property
    def co2e_g(self) -> float | None:
        found = self.footprint()
        return None if found is None else found.co2e_g

    @property
    def cost(self) -> float | None:
        found = self.footprint()
        return None if found is None else found.cost

    def to_dict(self, *, with_samples: bool = False) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["samples"] = [list(s) for s in self.samples] if with_samples else len(self.samples)
        return out


def integrate_samples(samples: Sequence[tuple[float, float]], duration: float) -> float | None:
    """Joules from (time, watts) samples over ``[0, duration]``; ``None`` if too few.

    Trapezoids between samples; before the first and after the last sample the power is held
    at that sample's value (the window edges are rarely sampled exactly).
    """
    points = sorted((t, w) for t, w in samples if 0.0 <= t <= duration)
    if len(points) < MIN_SAMPLES_FOR_INTEGRAL or duration <= 0:
        return None
    total = points[0][1] * points[0][0]
    for (t0, w0), (t1, w1) in itertools.pairwise(points):
        total += 0.5 * (w0 + w1) * (t1 - t0)
    total += points[-1][1] * (duration - points[-1][0])
    return total


def relative_gap(counter_joules: float | None, sampled_joules: float | None) -> float | None:
    """(sampled - counter) / counter, or ``None`` when either is missing or the counter is 0."""
    if counter_joules is None or sampled_joules is None or counter_joules <= 0:
        return None
    return (sampled_joules - counter_joules) / counter_joules
