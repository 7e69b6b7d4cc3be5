"""Measuring work: a window around a block, repeated work, idle power.

Every window is read the same way (``base.Meter``): the counter at its two edges, outside the
window's time, and whatever is polled meanwhile (power samples, a coarse counter's update
moments) on the meter's sampler thread — the thread that runs the work does nothing else.
``measure_repeated``'s loop is the calls and nothing more: it is sized before the window opens,
and only between batches (rarely more than one) does it look at a clock. Its time comes from
the device where the device can say (``timing.py``: CUDA events, with the window's busy
fraction); its joules are the counter's over a span of several counter updates when the counter
is coarse (``ticks.py``), the power samples' when the window is too short for that counter, and
the edge difference otherwise, all divided by the calls (``Measurement.joules_from`` says which).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from lepton.energy.base import Meter, Window
from lepton.energy.devices import cuda_index, normalize_device
from lepton.energy.measurement import Measurement, MeasurementWarning
from lepton.energy.meters import meter_for
from lepton.energy.ticks import tick_span
from lepton.energy.timing import DeviceTime, DeviceTimer, TimerArg, resolve_timer

Sync = Callable[[], Any]
SyncArg = Sync | Literal["auto"] | None

DEADLINE_CHECKS = 16  # with a deadline, a batch looks at the clock this many times


def resolve_sync(sync: SyncArg, device: str) -> Sync | None:
    """The callable that waits for ``device``'s queued work, or ``None`` for the CPU.

    ``"auto"`` uses cupy or torch when the program has already imported one of them (GPU work
    is asynchronous: a window closed before the device finishes measures the launch, not the
    work). Pass your own callable for any other launcher.
    """
    if sync != "auto":
        if sync is not None and not callable(sync):
            msg = f"sync: expected a callable, 'auto' or None, got {sync!r}"
            raise TypeError(msg)
        return sync
    if device == "cpu":
        return None
    index = cuda_index(device)
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        return cupy.cuda.Device(index).synchronize
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return lambda: torch.cuda.synchronize(index)
    return None


def resolve_meter(device: Any, meter: Meter | None) -> tuple[str, Meter]:
    if meter is not None:
        return meter.device, meter
    name = normalize_device(device)
    return name, meter_for(name)


@dataclass
class Reading:
    """What ``measure()`` yields; ``result`` is filled when the block ends."""

    meter: Meter
    result: Measurement | None = None


@contextlib.contextmanager
def measure(
    device: Any = "cpu", *, meter: Meter | None = None, sync: SyncArg = "auto"
) -> Iterator[Reading]:
    """``with measure(device="cuda:0") as m: work()`` -> ``m.result`` (a ``Measurement``).

    The device is synchronised at both ends; the joules are the counter's difference between
    the window's edges. A window shorter than the meter's ``min_window_s`` is flagged
    ``short_window``: for short work use ``measure_repeated``. Without a meter the result has
    ``joules=None`` and ``source="none"``. A counter that disagrees with the power samples
    beyond its resolution warns (``MeasurementWarning``).
    """
    name, meter = resolve_meter(device, meter)
    wait = resolve_sync(sync, name)
    reading = Reading(meter)
    if wait is not None:
        wait()
    window = meter.begin(ticks=True)
    try:
        yield reading
    finally:
        if wait is not None:
            wait()
        # Work in a block need not draw steady power: the ticks only cross-check the samples.
        reading.result = finish(meter, window, meter.end(window), steady=False)
        warn_if_unsound(reading.result, stacklevel=3)


def measure_repeated(
    fn: Callable[[], Any],
    *,
    device: Any = "cpu",
    meter: Meter | None = None,
    sync: SyncArg = "auto",
    timer: TimerArg = "auto",
    min_window_s: float | None = None,
    repetitions: int | None = None,
    max_repetitions: int = 10_000_000,
) -> Measurement:
    """Time and energy of one call of ``fn``, from a window of many calls.

    ``fn`` is repeated until the window spans ``min_window_s`` (default: the meter's own
    minimum), with the device synchronised at both ends, and the reading is divided by the
    number of calls. Without ``repetitions`` one timed call before the window (which also warms
    up) sizes it; a window that still ends short is extended by another batch. ``timer``
    (``timing.py``): ``"auto"`` times CUDA work with CUDA events (and, for calls of 0.2 ms or
    more, each call, giving ``busy_fraction``), ``None`` uses the host clock. Readings the meter
    disagrees with itself about, or windows the device spent mostly idle, warn
    (``MeasurementWarning``) and say why in ``Measurement.problems()``.
    """
    name, meter = resolve_meter(device, meter)
    wait = resolve_sync(sync, name)
    window_s = meter.min_window_s if min_window_s is None else float(min_window_s)
    if not window_s >= 0:
        msg = f"min_window_s: expected a number >= 0, got {min_window_s!r}"
        raise ValueError(msg)
    if repetitions is None:
        call_s = _time_one_call(fn, wait, meter)
        repetitions = max(1, min(max_repetitions, math.ceil(window_s / call_s)))
    elif repetitions < 1:
        msg = f"repetitions: expected >= 1, got {repetitions}"
        raise ValueError(msg)
    else:
        call_s = window_s / repetitions
    m = measure_window(
        fn,
        meter,
        wait=wait,
        timer=resolve_timer(timer, name, call_s),
        window_s=window_s,
        repetitions=repetitions,
        max_repetitions=max_repetitions,
    )
    warn_if_unsound(m, stacklevel=2)
    return m


def measure_window(
    fn: Callable[[], Any],
    meter: Meter,
    *,
    wait: Sync | None,
    timer: DeviceTimer,
    window_s: float,
    repetitions: int,
    max_repetitions: int = 10_000_000,
    deadline: float | None = None,
) -> Measurement:
    """One window of ``repetitions`` calls (more if they end short of ``window_s``), per call.

    No warnings: callers that decide what to do about a doubtful window (the tuner) read
    ``Measurement.problems()``. ``deadline`` (meter clock): no batch of calls starts after it,
    and a batch stops at the next of its ``DEADLINE_CHECKS`` checks (``truncated``).
    """
    if wait is not None:
        wait()
    call = timer.wrap(fn)
    timer.prepare(repetitions)
    window = meter.begin(ticks=True)
    done, batch, truncated = 0, repetitions, False
    timer.start()
    while True:
        ran, stopped = _launch(call, batch, meter.clock, deadline)
        done += ran
        timer.stop()
        if wait is not None:
            wait()
        elapsed = meter.clock() - window.t0
        if elapsed >= window_s or done >= max_repetitions:
            break
        if stopped or (deadline is not None and meter.clock() >= deadline):
            truncated = True
            break
        per_call = max(elapsed / done, 1e-9)
        batch = min(
            max(1, math.ceil((window_s - elapsed) / per_call * 1.05)), max_repetitions - done
        )
        timer.prepare(done + batch)
    reading = finish(meter, window, meter.end(window), steady=True, device_time=timer.read())
    return dataclasses.replace(reading.per_repetition(done), truncated=truncated)


def _launch(
    call: Callable[[], Any], count: int, clock: Callable[[], float], deadline: float | None
) -> tuple[int, bool]:
    """Run ``call`` ``count`` times -> (calls made, stopped by the deadline)."""
    if deadline is None:
        for _ in range(count):
            call()
        return count, False
    chunk, done = max(1, count // DEADLINE_CHECKS), 0
    while done < count:
        for _ in range(min(chunk, count - done)):
            call()
        done += min(chunk, count - done)
        if clock() >= deadline:
            return done, done < count
    return done, False


def finish(
    meter: Meter,
    window: Window,
    reading: Measurement,
    *,
    steady: bool,
    device_time: DeviceTime | None = None,
) -> Measurement:
    """A whole window's edge reading completed with what its sampler and timer saw.

    On a coarse counter the samples are compared with the counter over its tick span, and,
    when the window's power was steady (repeated calls, idle), the joules become the span's
    power × the window; a window too short for the counter takes the samples' integral instead.
    """
    changes: dict[str, Any] = {}
    polls = window.sampler.polls if window.sampler is not None else []
    span = tick_span(polls, window.t0, window.t0 + reading.window_s, meter.counter_period_s)
    if span is not None:
        check = meter.compare_over_span(window, span)
        if check is not None:
            changes["gap"], changes["gap_limit"] = check
        if steady and reading.joules is not None:
            changes.update(
                joules=span.watts * reading.window_s,
                avg_watts=span.watts,
                counter_joules=reading.joules,
                joules_from="ticks",
            )
    elif (
        steady
        and reading.short_window
        and meter.aligns
        and meter.has_instant_power
        and reading.sampled_joules
    ):
        changes.update(
            joules=reading.sampled_joules,
            avg_watts=reading.sampled_joules / reading.window_s,
            counter_joules=reading.joules,
            joules_from="samples",
        )
    if device_time is not None:
        changes.update(seconds=device_time.window_s, time_from=device_time.source)
        if device_time.busy_s is not None and reading.window_s > 0:
            changes["busy_fraction"] = device_time.busy_s / reading.window_s
    return dataclasses.replace(reading, **changes)


def warn_if_unsound(m: Measurement, *, stacklevel: int) -> None:
    """One ``MeasurementWarning`` listing ``m.problems()``, if any."""
    problems = m.problems()
    if problems:
        warnings.warn(
            MeasurementWarning(
                f"{m.source} on {m.device}: " + "; ".join(problems) + "; treat this reading "
                "with caution"
            ),
            stacklevel=stacklevel + 1,
        )


def _time_one_call(fn: Callable[[], Any], wait: Sync | None, meter: Meter) -> float:
    """One call, timed with the device synchronised at both ends (also the warm-up)."""
    if wait is not None:
        wait()
    start = meter.clock()
    fn()
    if wait is not None:
        wait()
    return max(meter.clock() - start, 1e-9)


def idle_power(
    device: Any = "cpu",
    *,
    meter: Meter | None = None,
    seconds: float | None = None,
    sync: SyncArg = "auto",
) -> Measurement:
    """What the device draws doing nothing (``avg_watts``), over ``seconds`` (default: the
    meter's minimum window). Results read above idle subtract ``avg_watts × time``.
    """
    m = idle_window(device, meter=meter, seconds=seconds, sync=sync)
    warn_if_unsound(m, stacklevel=2)
    return m


def idle_window(
    device: Any = "cpu",
    *,
    meter: Meter | None = None,
    seconds: float | None = None,
    sync: SyncArg = "auto",
) -> Measurement:
    """``idle_power`` without the warning (for callers that judge the reading themselves)."""
    name, meter = resolve_meter(device, meter)
    wait = resolve_sync(sync, name)
    if wait is not None:
        wait()
    span = meter.min_window_s if seconds is None else seconds
    window = meter.begin(ticks=True)
    meter.sleep(span)
    return finish(meter, window, meter.end(window), steady=True)
