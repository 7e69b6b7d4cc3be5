"""A meter on a scripted timeline, for deterministic tests of code that measures energy.

Work under test advances ``ManualClock`` and adds joules to ``ScriptedMeter`` itself, so time
and energy per call are exactly known and tests can assert exact winners (the way flashinfer's
tuner is tested against a dummy runner with known costs).

The sampler thread of a real meter is replaced by a model (``_ModelSampler``): when a window
closes it computes the counter polls and power samples a thread polling at the meter's intervals
would have collected over the window, from the timeline itself. Reads on the caller's timeline
(the window's edges) cost ``read_cost_s`` of idle device time each, as a slow driver call does.
``ScriptedTimer`` is the device timer of this timeline: ``spend`` is the device running a call,
everything else (``idle``, reads) is the device waiting.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable
from typing import Any

from lepton.energy.base import Meter
from lepton.energy.sampler import Sampler
from lepton.energy.ticks import Poll
from lepton.energy.timing import DeviceTime, DeviceTimer


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
    """A meter whose counter is whatever ``spend`` and ``idle`` put in.

    By default the counter is exact and continuous. ``counter_period_s`` > 0 makes it move only
    on ticks of that period (as NVML's does, about every 100 ms), and ``noise`` multiplies each
    tick's increment by 1 + noise × N(0, 1) from a ``seed``-ed generator (part-time power
    sampling): a window of T seconds is then off by about noise × sqrt(period / T) plus up to a
    period of power at each end, reproducibly for a given seed. ``read_cost_s``: what one counter
    read costs the caller (NVML on an H200: 4 ms). ``sample_interval_s``: power samples (the true
    power × (1 + ``power_noise`` × N(0, 1))) at that period, as NVML's instant-power field.
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
        read_cost_s: float = 0.0,
        sample_interval_s: float | None = None,
        power_noise: float = 0.0,
    ) -> None:
        if counter_period_s < 0 or noise < 0 or (noise > 0 and counter_period_s == 0):
            msg = (
                "counter_period_s, noise: expected >= 0, and noise only with a counter period "
                f"(got {counter_period_s}, {noise})"
            )
            raise ValueError(msg)
        if (
            read_cost_s < 0
            or power_noise < 0
            or (sample_interval_s is not None and sample_interval_s <= 0)
        ):
            msg = (
                "read_cost_s, power_noise: expected >= 0, sample_interval_s > 0 or None (got "
                f"{read_cost_s}, {power_noise}, {sample_interval_s})"
            )
            raise ValueError(msg)
        self.clock_ = ManualClock()
        super().__init__(clock=self.clock_, device=device)
        self.min_window_s = min_window_s
        self.idle_watts = idle_watts
        self.counter_j = 0.0
        self.busy_s = 0.0  # seconds the device spent in ``spend`` (running calls)
        self.device_name = "scripted device"
        self._temperature = temperature_c
        self._heat_per_joule = heat_per_joule
        self.windows = 0
        self.edge_reads = 0  # counter reads on the caller's timeline
        self.counter_period_s = counter_period_s
        self.noise = noise
        self.read_cost_s = read_cost_s
        self.sample_interval_s = sample_interval_s
        self.power_read_cost_s = 0.0 if sample_interval_s is not None else None
        self.power_noise = power_noise
        self._rng = random.Random(seed)
        self._power_rng = random.Random(f"power-{seed}")
        self._times = [0.0]  # the true counter's history: (time, joules) at each change of pace
        self._values = [0.0]
        self._reported = [0.0]  # the reported counter at each tick
        self._true_at_last_tick = 0.0

    # --- the scripted work ----------------------------------------------------------------
    def spend(self, seconds: float, joules: float) -> None:
        """What one unit of work costs: the device runs for ``seconds`` drawing ``joules``."""
        self._advance(seconds, joules)
        self.busy_s += seconds
        if self._temperature is not None:
            self._temperature += self._heat_per_joule * joules

    def idle(self, seconds: float) -> None:
        """The device waits for ``seconds``, drawing idle power."""
        self._advance(seconds, self.idle_watts * seconds)

    def sleep(self, seconds: float) -> None:
        self.idle(seconds)

    def _advance(self, seconds: float, joules: float) -> None:
        self.clock_.advance(seconds)
        self.counter_j += joules
        self._times.append(self.clock_.now)
        self._values.append(self.counter_j)

    # --- what the meter reads ----------------------------------------------------------------
    def begin(self, *, sample: bool = True, ticks: bool = False) -> Any:
        self.windows += 1
        return super().begin(sample=sample, ticks=ticks)

    def _read_joules(self) -> float:
        value = self.reported_at(self.clock_.now)
        self.edge_reads += 1
        if self.read_cost_s:
            self.idle(self.read_cost_s)  # the caller is stuck in the driver; the device idles
        return value

    def reported_at(self, t: float) -> float:
        """The counter as the meter reported it at time ``t`` (``t`` ≤ now)."""
        if self.counter_period_s == 0:
            return self.true_at(t)
        last = math.floor(t / self.counter_period_s + 1e-9)
        while len(self._reported) <= last:
            tick = len(self._reported)
            true = self.true_at(tick * self.counter_period_s)
            factor = 1.0 + self.noise * self._rng.gauss(0.0, 1.0) if self.noise else 1.0
            increment = (true - self._true_at_last_tick) * max(factor, 0.0)
            self._reported.append(self._reported[-1] + increment)
            self._true_at_last_tick = true
        return self._reported[last]

    def true_at(self, t: float) -> float:
        """The exact counter at time ``t`` (energy accrues evenly over each spend)."""
        i = min(max(bisect.bisect_right(self._times, t), 1), len(self._times) - 1)
        t0, t1 = self._times[i - 1], self._times[i]
        e0, e1 = self._values[i - 1], self._values[i]
        if t1 <= t0:
            return e1
        return e0 + (e1 - e0) * min(max((t - t0) / (t1 - t0), 0.0), 1.0)

    def power_at(self, t: float) -> float:
        """The true power at time ``t``: the slope of the spend or idle stretch holding it."""
        i = bisect.bisect_right(self._times, t)
        if i >= len(self._times):
            return self.idle_watts
        t0, t1 = self._times[i - 1], self._times[i]
        return (self._values[i] - self._values[i - 1]) / (t1 - t0) if t1 > t0 else self.idle_watts

    def _read_watts(self) -> float | None:
        if self.sample_interval_s is None:
            return None
        return self._sampled_watts(self.clock_.now)

    def _sampled_watts(self, t: float) -> float:
        factor = (
            1.0 + self.power_noise * self._power_rng.gauss(0.0, 1.0) if self.power_noise else 1.0
        )
        return self.power_at(t) * max(factor, 0.0)

    def _sampler(self, *, counter: bool, power: bool) -> Sampler | None:
        if not counter and not power:
            return None
        counter_interval = self.counter_period_s / 50 if counter else None  # as ThreadSampler
        return _ModelSampler(self, counter_interval, self.sample_interval_s if power else None)

    def temperature_c(self) -> float | None:
        return self._temperature

    def timer(self, *, per_call: bool = True) -> ScriptedTimer:
        """A device timer on this meter's timeline."""
        return ScriptedTimer(self, per_call=per_call)


class _ModelSampler(Sampler):
    """What ``ThreadSampler`` would collect on the meter's timeline: counter reads back to back
    when a read is slower than the interval, each returning the counter as of its start."""

    def __init__(
        self, meter: ScriptedMeter, counter_interval: float | None, power_interval: float | None
    ) -> None:
        super().__init__()
        self.meter = meter
        self.counter_interval = counter_interval
        self.power_interval = power_interval
        self.started = 0.0

    def start(self) -> None:
        self.started = self.meter.clock()

    def stop(self) -> None:
        now = self.meter.clock()
        if self.counter_interval is not None:
            cost = self.meter.read_cost_s or 0.0
            step = max(self.counter_interval, cost)
            k = 0
            while self.started + k * step + cost <= now:
                t = self.started + k * step
                self.polls.append(Poll(t, t + cost, self.meter.reported_at(t)))
                k += 1
        if self.power_interval is not None:
            k = 0
            while self.started + k * self.power_interval <= now:
                t = self.started + k * self.power_interval
                self.samples.append((t, self.meter._sampled_watts(t)))
                k += 1


class ScriptedTimer(DeviceTimer):
    """Device time on a ``ScriptedMeter``'s timeline: the window from ``start`` to ``stop``,
    busy time the calls' ``spend``."""

    source = "scripted"

    def __init__(self, meter: ScriptedMeter, *, per_call: bool = True) -> None:
        self.meter = meter
        self.per_call = per_call
        self._t0 = self._t1 = 0.0
        self._busy = 0.0

    def wrap(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        if not self.per_call:
            return fn

        def timed() -> Any:
            before = self.meter.busy_s
            out = fn()
            self._busy += self.meter.busy_s - before
            return out

        return timed

    def start(self) -> None:
        self._t0, self._busy = self.meter.clock(), 0.0

    def stop(self) -> None:
        self._t1 = self.meter.clock()

    def read(self) -> DeviceTime:
        return DeviceTime(self._t1 - self._t0, self._busy if self.per_call else None, self.source)
