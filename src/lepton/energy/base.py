"""The meter interface: open a window, close it, get a Measurement.

A meter subclass supplies a cumulative energy counter (``_read_joules``) and, where the
hardware offers one, an instantaneous power reading (``_read_watts``) that a background thread
samples during the window as an independent second estimate.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from lepton.energy.measurement import (
    Measurement,
    MeasurementWarning,
    integrate_samples,
    relative_gap,
)

Clock = Callable[[], float]


@dataclass
class Window:
    """An open measurement: start readings and the sampler collecting power meanwhile."""

    t0: float
    e0: float | None
    start_temperature_c: float | None
    samples: list[tuple[float, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    sampler: threading.Thread | None = None

    def stop_sampler(self) -> None:
        if self.sampler is not None:
            self.stop.set()
            self.sampler.join()
            self.sampler = None


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
    sample_interval_s: float | None = None  # period of the background sampler, None: no thread
    gap_warn: float = 0.15  # |counter - samples| / counter above this warns

    def __init__(self, *, clock: Clock = time.perf_counter, device: str = "cpu") -> None:
        self.clock = clock
        self.device = device
        self.reason: str | None = None
        self.device_name = "unknown"
        self.driver = ""

    # --- what a backend provides ------------------------------------------------------------
    def _read_joules(self) -> float:
        """Cumulative energy counter in joules (monotonic; wrap-around already handled)."""
        raise NotImplementedError

    def _read_watts(self) -> float | None:
        """One instantaneous power sample in watts, or ``None`` if the meter has none."""
        return None

    def _poll(self) -> None:  # optional hook, a no-op unless a backend needs it
        """Called by the sampler thread each period (RAPL uses it to catch counter wraps)."""

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

    def status(self) -> str:
        """One line for `lepton info`: what the meter reads, or why it cannot."""
        if self.reason is not None:
            return f"unavailable: {self.reason}"
        driver = f", {self.driver}" if self.driver else ""
        return f"ok: {self.device_name}{driver}"

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def read_counter(self) -> float:
        """The cumulative energy counter now, in joules (for tick-aligned windows)."""
        return self._read_joules()

    def begin(self, *, sample: bool = True) -> Window:
        """Open a window; ``sample=False`` skips the power sampler (cheap, for many short calls)."""
        if self.reason is not None:
            msg = f"{self.source} meter on {self.device} cannot read energy: {self.reason}"
            raise RuntimeError(msg)
        window = Window(t0=0.0, e0=None, start_temperature_c=self.temperature_c())
        interval = self.sample_interval_s
        if sample and interval is not None:
            window.sampler = threading.Thread(
                target=self._sample_loop, args=(window, interval), daemon=True
            )
        window.t0 = self.clock()
        window.e0 = self._read_joules()
        if window.sampler is not None:
            window.sampler.start()
        return window

    def end(self, window: Window) -> Measurement:
        """Close ``window`` and return what it measured (over the whole window)."""
        t1 = self.clock()
        e1 = self._read_joules()
        window.stop_sampler()
        seconds = max(t1 - window.t0, 0.0)
        joules = None if window.e0 is None else max(e1 - window.e0, 0.0)
        sampled = integrate_samples(window.samples, seconds)
        gap = relative_gap(joules, sampled)
        short = seconds < self.min_window_s
        if gap is not None and not short and abs(gap) > self.gap_warn:
            warnings.warn(
                MeasurementWarning(
                    f"{self.source} on {self.device}: the energy counter reads {joules:.3f} J but "
                    f"the power samples integrate to {sampled:.3f} J over {seconds:.2f} s "
                    f"(gap {gap:+.0%}); treat this reading with caution"
                ),
                stacklevel=3,
            )
        return Measurement(
            seconds=seconds,
            joules=joules,
            avg_watts=None if joules is None or seconds <= 0 else joules / seconds,
            source=self.source,
            samples=tuple(window.samples),
            window_s=seconds,
            sampled_joules=sampled,
            gap=gap,
            temperature_c=self.temperature_c(),
            start_temperature_c=window.start_temperature_c,
            short_window=short,
            device=self.device,
        )

    def _sample_loop(self, window: Window, interval: float) -> None:
        while not window.stop.is_set():
            self._poll()
            watts = self._read_watts()
            if watts is not None:
                window.samples.append((self.clock() - window.t0, watts))
            window.stop.wait(interval)

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

    def begin(self, *, sample: bool = True) -> Window:
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
