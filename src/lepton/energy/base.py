"""The meter interface: open a window, close it, get a Measurement.

A meter subclass supplies a cumulative energy counter (``_read_joules``) and, where the
hardware offers one, an instantaneous power reading (``_read_watts``). A window reads the counter
at its two edges only, on the caller's thread and outside the window's time; everything read
while it is open — power samples (an independent second estimate) and, on a coarse counter, the
counter's update moments (``ticks.py``) — is read by the window's sampler thread
(``sampler.py``), so the work in the window runs undisturbed. What one read costs is measured
when the meter opens (``read_cost_s``, ``power_read_cost_s``): 4 ms for NVML's energy counter on
an H200 — never assume it is free.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from lepton.energy.measurement import Measurement, integrate_samples, relative_gap
from lepton.energy.sampler import Sampler, ThreadSampler
from lepton.energy.ticks import MIN_PERIOD_S, POLLS_PER_PERIOD, TickSpan

Clock = Callable[[], float]

READ_COST_READS = 5  # reads timed (median) when a meter opens


@dataclass
class Window:
    """An open measurement: the start readings and the sampler collecting meanwhile."""

    t0: float
    e0: float | None
    start_temperature_c: float | None
    sampler: Sampler | None = None
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since t0, W)


class Meter:
    """Base meter. ``reason`` is ``None`` when the meter can read energy, else why it cannot.

    ``min_window_s`` is the shortest window whose energy reading means something for this
    meter; ``clock`` and ``sleep`` are injectable so that tests can run on a fake timeline.
    """

    source: str = "none"
    min_window_s: float = 0.1
    # How often the energy counter moves (0: continuously). A window's reading can be off by up
    # to one period of power at each end, so short windows are coarse by 2 × period / window.
    counter_period_s: float = 0.0
    sample_interval_s: float | None = None  # period of the power sampler, None: no power samples
    gap_warn: float = 0.15  # |counter - samples| / counter beyond the counter's resolution warns

    def __init__(self, *, clock: Clock = time.perf_counter, device: str = "cpu") -> None:
        self.clock = clock
        self.device = device
        self.reason: str | None = None
        self.device_name = "unknown"
        self.driver = ""
        self.read_cost_s: float | None = None  # one counter read, measured when the meter opens
        self.power_read_cost_s: float | None = None

    # --- what a backend provides ------------------------------------------------------------
    def _read_joules(self) -> float:
        """Cumulative energy counter in joules (monotonic; wrap-around already handled)."""
        raise NotImplementedError

    def _read_watts(self) -> float | None:
        """One instantaneous power sample in watts, or ``None`` if the meter has none."""
        return None

    def _poll(self) -> None:  # optional hook, a no-op unless a backend needs it
        """Called by the sampler thread each power period (RAPL uses it to catch counter wraps)."""

    def temperature_c(self) -> float | None:
        """Device temperature in °C, where the meter can read it."""
        return None

    # --- the interface ------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def has_energy(self) -> bool:
        return self.available

    @property
    def has_instant_power(self) -> bool:
        """Whether power samples are instantaneous, fit to integrate a short window (an average
        over the last second is not)."""
        return (
            self.has_energy
            and self.sample_interval_s is not None
            and self.power_read_cost_s is not None
        )

    @property
    def aligns(self) -> bool:
        """Whether this counter is coarse enough for its update moments to be worth polling."""
        return self.has_energy and self.counter_period_s >= MIN_PERIOD_S

    def status(self) -> str:
        """One line for `lepton info`: what the meter reads, or why it cannot."""
        if self.reason is not None:
            return f"unavailable: {self.reason}"
        driver = f", {self.driver}" if self.driver else ""
        cost = "" if self.read_cost_s is None else f", counter read {self.read_cost_s * 1e3:.2f} ms"
        return f"ok: {self.device_name}{driver}{cost}"

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def read_counter(self) -> float:
        """The cumulative energy counter now, in joules."""
        return self._read_joules()

    def measure_read_costs(self, reads: int = READ_COST_READS) -> None:
        """Time ``reads`` counter reads and power reads (medians) into ``read_cost_s`` and
        ``power_read_cost_s``; the power cost stays ``None`` where there is no power reading."""
        self.read_cost_s = self._median_cost(self._read_joules, reads)
        if self.sample_interval_s is not None and self._read_watts() is not None:
            self.power_read_cost_s = self._median_cost(self._read_watts, reads)

    def _median_cost(self, read: Callable[[], object], reads: int) -> float:
        costs = []
        for _ in range(reads):
            start = self.clock()
            read()
            costs.append(self.clock() - start)
        return float(statistics.median(costs))

    def begin(self, *, sample: bool = True, ticks: bool = False) -> Window:
        """Open a window. ``sample``: collect power samples; ``ticks``: poll the counter's
        update moments (coarse counters only). Both happen on the sampler thread."""
        if self.reason is not None:
            msg = f"{self.source} meter on {self.device} cannot read energy: {self.reason}"
            raise RuntimeError(msg)
        window = Window(t0=0.0, e0=None, start_temperature_c=self.temperature_c())
        window.sampler = self._sampler(
            counter=ticks and self.aligns, power=sample and self.sample_interval_s is not None
        )
        if window.sampler is not None:
            window.sampler.start()
        window.e0 = self._read_joules()
        window.t0 = self.clock()  # after the edge read: its cost stays outside the window
        return window

    def _sampler(self, *, counter: bool, power: bool) -> Sampler | None:
        """The sampler for one window (``ScriptedMeter`` replaces the thread with a model)."""
        if not counter and not power:
            return None
        return ThreadSampler(
            clock=self.clock,
            read_counter=self.read_counter,
            read_watts=self._read_watts,
            poll_hook=self._poll,
            counter_interval_s=self.counter_period_s / POLLS_PER_PERIOD if counter else None,
            power_interval_s=self.sample_interval_s if power else None,
        )

    def end(self, window: Window) -> Measurement:
        """Close ``window`` and return what it measured at its edges (over the whole window).

        ``window.sampler`` keeps the counter polls for the caller (``measure.py`` aligns on
        them). The gap between counter and samples is judged over the window here, within the
        counter's resolution at the edges (2 periods / window); where the counter's updates were
        polled, ``measure.finish`` judges it over their span instead (``compare_over_span``).
        """
        t1 = self.clock()  # before the edge read: its cost stays outside the window
        e1 = self._read_joules()
        seconds = max(t1 - window.t0, 0.0)
        if window.sampler is not None:
            window.sampler.stop()
            window.samples = [
                (t - window.t0, w)
                for t, w in window.sampler.samples
                if 0 <= t - window.t0 <= seconds
            ]
        joules = None if window.e0 is None else max(e1 - window.e0, 0.0)
        sampled = integrate_samples(window.samples, seconds)
        short = seconds < self.min_window_s
        gap = None if short else relative_gap(joules, sampled)
        return Measurement(
            seconds=seconds,
            joules=joules,
            avg_watts=None if joules is None or seconds <= 0 else joules / seconds,
            source=self.source,
            samples=tuple(window.samples),
            window_s=seconds,
            sampled_joules=sampled,
            gap=gap,
            gap_limit=None if gap is None else self.gap_warn + 2 * self.counter_period_s / seconds,
            temperature_c=self.temperature_c(),
            start_temperature_c=window.start_temperature_c,
            short_window=short,
            device=self.device,
            read_cost_s=self.read_cost_s,
        )

    def compare_over_span(self, window: Window, span: TickSpan) -> tuple[float, float] | None:
        """(gap, limit) of the power samples against the counter over ``span`` (clock times),
        or ``None`` when the samples do not cover it."""
        start, end = span.start - window.t0, span.end - window.t0
        sampled = integrate_samples(window.samples, end, start=start)
        gap = relative_gap(span.joules, sampled)
        if gap is None:
            return None
        return gap, self.gap_warn + span.resolution

    def close(self) -> None:  # backends holding a library handle override it
        """Release what the meter holds (NVML handle); the meter is unusable afterwards."""


class NullMeter(Meter):
    """No meter: times the window, reports ``joules=None`` and says why there is no energy."""

    source = "none"
    min_window_s = 0.1  # enough for a stable time reading

    def __init__(
        self,
        reason: str = "no energy meter",
        *,
        clock: Clock = time.perf_counter,
        device: str = "cpu",
    ) -> None:
        super().__init__(clock=clock, device=device)
        self.why = reason

    @property
    def has_energy(self) -> bool:
        return False

    def status(self) -> str:
        return f"no meter: {self.why}"

    def begin(self, *, sample: bool = True, ticks: bool = False) -> Window:
        return Window(t0=self.clock(), e0=None, start_temperature_c=None)

    def end(self, window: Window) -> Measurement:
        seconds = max(self.clock() - window.t0, 0.0)
        return Measurement(
            seconds=seconds,
            joules=None,
            avg_watts=None,
            source=self.source,
            window_s=seconds,
            short_window=seconds < self.min_window_s,
            device=self.device,
        )
