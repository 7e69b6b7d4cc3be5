"""Measuring work: a window around a block, repeated work, idle power."""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from lepton.energy.base import Meter
from lepton.energy.devices import cuda_index, normalize_device
from lepton.energy.measurement import Measurement
from lepton.energy.meters import meter_for
from lepton.energy.ticks import TickLog, aligns

Sync = Callable[[], Any]
SyncArg = Sync | Literal["auto"] | None


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

    The device is synchronised at both ends. A window shorter than the meter's
    ``min_window_s`` is flagged ``short_window``: for short work use ``measure_repeated``.
    Without a meter the result has ``joules=None`` and ``source="none"``.
    """
    name, meter = resolve_meter(device, meter)
    wait = resolve_sync(sync, name)
    reading = Reading(meter)
    if wait is not None:
        wait()
    window = meter.begin()
    try:
        yield reading
    finally:
        if wait is not None:
            wait()
        reading.result = meter.end(window)


def measure_repeated(
    fn: Callable[[], Any],
    *,
    device: Any = "cpu",
    meter: Meter | None = None,
    sync: SyncArg = "auto",
    min_window_s: float | None = None,
    repetitions: int | None = None,
    max_repetitions: int = 10_000_000,
) -> Measurement:
    """Time and energy of one call of ``fn``, from a window of many calls.

    ``fn`` is repeated until the window spans ``min_window_s`` (default: the meter's own
    minimum), with the device synchronised at both ends, and the reading is divided by the
    number of calls. Without ``repetitions`` one timed call (which also warms up) sizes the
    batch; if the batch still ends short of the window, more calls extend it. On a meter whose
    counter moves in coarse ticks (NVML) the counter is polled between calls and the joules come
    from the power between its update moments (``energy/ticks.py``; ``joules_from="ticks"``).
    """
    name, meter = resolve_meter(device, meter)
    wait = resolve_sync(sync, name)
    window_s = meter.min_window_s if min_window_s is None else float(min_window_s)
    if not window_s >= 0:
        msg = f"min_window_s: expected a number >= 0, got {min_window_s!r}"
        raise ValueError(msg)
    if repetitions is None:
        repetitions = _calibrate(fn, wait, meter, window_s, max_repetitions)
    elif repetitions < 1:
        msg = f"repetitions: expected >= 1, got {repetitions}"
        raise ValueError(msg)
    if wait is not None:
        wait()
    ticks = TickLog(meter) if aligns(meter) else None
    window = meter.begin()
    done, batch = 0, min(repetitions, max_repetitions)
    while True:
        if ticks is None:
            for _ in range(batch):
                fn()
        else:
            ticks.poll(force=done == 0)
            for _ in range(batch):
                fn()
                ticks.poll()
        done += batch
        if wait is not None:
            wait()
        elapsed = meter.clock() - window.t0
        if elapsed >= window_s or done >= max_repetitions:
            break
        per_call = max(elapsed / done, 1e-9)
        batch = min(
            max(1, math.ceil((window_s - elapsed) / per_call * 1.05)), max_repetitions - done
        )
    reading = meter.end(window)
    if ticks is not None:
        reading = ticks.aligned(reading)
    return reading.per_repetition(done)


def _calibrate(
    fn: Callable[[], Any], wait: Sync | None, meter: Meter, window_s: float, cap: int
) -> int:
    if wait is not None:
        wait()
    start = meter.clock()
    fn()
    if wait is not None:
        wait()
    per_call = max(meter.clock() - start, 1e-9)
    return max(1, min(cap, math.ceil(window_s / per_call)))


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
    name, meter = resolve_meter(device, meter)
    wait = resolve_sync(sync, name)
    if wait is not None:
        wait()
    span = meter.min_window_s if seconds is None else seconds
    ticks = TickLog(meter) if aligns(meter) else None
    window = meter.begin()
    if ticks is None:
        meter.sleep(span)
        return meter.end(window)
    ticks.poll(force=True)
    while meter.clock() - window.t0 < span:
        meter.sleep(ticks.interval_s)
        ticks.poll(force=True)
    return ticks.aligned(meter.end(window))
