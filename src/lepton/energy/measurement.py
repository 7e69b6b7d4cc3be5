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

# A window in which the device ran the measured calls for less than this share of the time
# measures the gaps between them (launch overhead, host work), not the calls.
BUSY_MIN = 0.95


@dataclass(frozen=True)
class Measurement:
    """Time and energy of one unit of work.

    After repeated measurement (``repetitions`` > 1) ``seconds``, ``joules`` and
    ``sampled_joules`` are per repetition; ``window_s`` is the whole window (host clock, between
    the meter's edge reads, which stay outside it). ``joules`` and ``avg_watts`` are ``None``
    when no meter could read energy (``source == "none"``).
    """

    seconds: float
    joules: float | None
    avg_watts: float | None  # over the window: joules of the window / window_s
    source: str
    samples: tuple[tuple[float, float], ...] = ()  # (seconds since window start, watts)
    repetitions: int = 1
    window_s: float = 0.0
    sampled_joules: float | None = None  # integral of the instant-power samples over the window
    # (samples - counter) / counter over the span where both are exact (the counter's observed
    # updates on a coarse counter, the window on a fine one); None where that span is too short.
    gap: float | None = None
    # |gap| beyond this is a real disagreement: the meter's tolerance plus the counter's
    # resolution over the compared span (2 periods / span).
    gap_limit: float | None = None
    temperature_c: float | None = None  # at the end of the window
    start_temperature_c: float | None = None
    short_window: bool = False  # window shorter than the meter needs: energy is unreliable
    device: str = "cpu"
    # "counter": the counter's difference between the window's edges; "ticks": power between
    # the counter's own observed updates × window (energy/ticks.py), the edge difference kept in
    # counter_joules; "samples": the power samples' integral (a window too short for a coarse
    # counter), the edge difference kept in counter_joules.
    joules_from: str = "counter"
    counter_joules: float | None = None
    # Where ``seconds`` comes from: "host" (the host clock around the window), "cuda-events"
    # (CUDA events around the calls, energy/timing.py), "scripted" (tests).
    time_from: str = "host"
    # Device time running the calls ÷ window_s; None where the calls were not timed each.
    busy_fraction: float | None = None
    read_cost_s: float | None = None  # one counter read on this meter, measured when it opened
    truncated: bool = False  # a deadline stopped the calls before the window was spanned

    @property
    def busy(self) -> bool:
        """False when the device was measured idle for too much of the window."""
        return self.busy_fraction is None or self.busy_fraction >= BUSY_MIN

    @property
    def disagrees(self) -> bool:
        """True when counter and power samples differ by more than the counter's resolution."""
        return (
            self.gap is not None and self.gap_limit is not None and abs(self.gap) > self.gap_limit
        )

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

    def problems(self) -> list[str]:
        """What makes this reading doubtful, in words (empty: nothing)."""
        found = []
        if self.disagrees:
            found.append(
                f"the energy counter and the power samples disagree by {self.gap:+.0%} (beyond "
                f"the ±{self.gap_limit:.0%} the counter's resolution explains)"
            )
        if not self.busy:
            found.append(
                f"the device ran the calls {self.busy_fraction:.0%} of the window (< "
                f"{BUSY_MIN:.0%}): time and joules include idle gaps between calls"
            )
        if self.truncated:
            found.append("a deadline cut the window short")
        return found

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


def integrate_samples(
    samples: Sequence[tuple[float, float]], duration: float, *, start: float = 0.0
) -> float | None:
    """Joules from (time, watts) samples over ``[start, duration]``; ``None`` if too few.

    Trapezoids between samples; before the first and after the last sample the power is held
    at that sample's value (the span's edges are rarely sampled exactly).
    """
    points = sorted((t, w) for t, w in samples if start <= t <= duration)
    if len(points) < MIN_SAMPLES_FOR_INTEGRAL or duration <= start:
        return None
    total = points[0][1] * (points[0][0] - start)
    for (t0, w0), (t1, w1) in itertools.pairwise(points):
        total += 0.5 * (w0 + w1) * (t1 - t0)
    total += points[-1][1] * (duration - points[-1][0])
    return total


def relative_gap(counter_joules: float | None, sampled_joules: float | None) -> float | None:
    """(sampled - counter) / counter, or ``None`` when either is missing or the counter is 0."""
    if counter_joules is None or sampled_joules is None or counter_joules <= 0:
        return None
    return (sampled_joules - counter_joules) / counter_joules
