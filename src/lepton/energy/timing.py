"""Device time: how long the device spent on a window's calls, told by the device where it can.

On the CPU the calls are the work and the host clock around the window is their time
(``HostTimer``). A GPU runs queued work asynchronously: host clocks around launches time the
launching. ``CudaEventTimer`` records CUDA events on the stream, through the library that holds
the inputs (torch or cupy): one pair around the window gives the device's time for it, and, with
``per_call``, one pair around each call gives the time the device spent in the calls, so the
window's **busy fraction** is that sum ÷ the window. A window under ``BUSY_MIN`` busy
(``measurement.py``) timed gaps between the calls (a meter read, a synchronisation, any host
work on the launching thread), not the kernel. What events cannot see is idle time *inside* a
call: an op whose host-side launch outlasts its kernel keeps the device waiting between the
call's start marker and its kernel, and that counts as busy; its per-call time shows it, and
the tuner replays such short calls from CUDA graphs (``tune/cuda_problem.py``).

Per-call events cost the launching thread two event records per call (a few µs each), so
``measure_repeated`` uses them only for calls of ``PER_CALL_EVENTS_MIN_S`` or longer, where they
are ≤ ~2% of a call; shorter calls get no busy fraction (replay them as a CUDA graph, as the
tuner does). The events are made before the window, so the calls are all the window holds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from lepton.energy.devices import cuda_index

PER_CALL_EVENTS_MIN_S = 2e-4  # calls shorter than this are not timed one by one


@dataclass(frozen=True)
class DeviceTime:
    """A window as the device saw it."""

    window_s: float  # from the start of the first call to the end of the last
    busy_s: float | None  # the calls' own time, summed (None: not timed one by one)
    source: str


class DeviceTimer:
    """The interface, and the host's timer: ``read()`` gives ``None`` (the host window stands).

    Order of use: ``prepare(calls)``, ``start()``, calls of ``wrap(fn)``, ``stop()``, then after
    the device has been synchronised, ``read()``.
    """

    source = "host"
    per_call = False

    def prepare(self, calls: int) -> None:
        """Make what timing ``calls`` calls needs, before the window opens."""

    def wrap(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        """``fn`` as the window calls it (timed one by one where ``per_call``)."""
        return fn

    def start(self) -> None:
        """Mark the window's start (just before the first call)."""

    def stop(self) -> None:
        """Mark the window's end (just after the last call, before the synchronisation)."""

    def read(self) -> DeviceTime | None:
        return None


class HostTimer(DeviceTimer):
    """Host clock only: the CPU's calls, or a device without a library to ask."""


class CudaEventTimer(DeviceTimer):
    """CUDA events through torch or cupy on the current stream of device ``index``."""

    source = "cuda-events"

    def __init__(self, library: str, module: Any, index: int, *, per_call: bool = True) -> None:
        if library not in ("torch", "cupy"):
            msg = f"library: expected 'torch' or 'cupy', got {library!r}"
            raise ValueError(msg)
        self.library, self.module, self.index = library, module, index
        self.per_call = per_call
        self._start = self._new()
        self._end = self._new()
        self._starts: list[Any] = []
        self._ends: list[Any] = []
        self._calls = 0
        self._stream: Any = None

    def _new(self) -> Any:
        if self.library == "torch":
            return self.module.cuda.Event(enable_timing=True)
        with self.module.cuda.Device(self.index):
            return self.module.cuda.Event()

    def _current_stream(self) -> Any:
        if self.library == "torch":
            return self.module.cuda.current_stream(self.index)
        with self.module.cuda.Device(self.index):
            return self.module.cuda.get_current_stream()

    def _seconds(self, start: Any, end: Any) -> float:
        if self.library == "torch":
            return float(start.elapsed_time(end)) * 1e-3
        return float(self.module.cuda.get_elapsed_time(start, end)) * 1e-3

    def prepare(self, calls: int) -> None:
        if not self.per_call:
            return
        while len(self._starts) < calls:
            self._starts.append(self._new())
            self._ends.append(self._new())

    def wrap(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        if not self.per_call:
            return fn
        starts, ends = self._starts, self._ends

        def timed() -> Any:
            i = self._calls
            if i >= len(starts):  # more calls than prepared: the window was extended
                self.prepare(i + 1)
            starts[i].record(self._stream)
            out = fn()
            ends[i].record(self._stream)
            self._calls = i + 1
            return out

        return timed

    def start(self) -> None:
        self._calls = 0
        self._stream = self._current_stream()
        self._start.record(self._stream)

    def stop(self) -> None:
        self._end.record(self._stream)

    def read(self) -> DeviceTime:
        busy = None
        if self.per_call and self._calls:
            busy = sum(self._seconds(self._starts[i], self._ends[i]) for i in range(self._calls))
        return DeviceTime(self._seconds(self._start, self._end), busy, self.source)


TimerArg = DeviceTimer | Literal["auto"] | None


def resolve_timer(timer: TimerArg, device: str, call_s: float) -> DeviceTimer:
    """The timer for a window of calls lasting about ``call_s`` each on ``device``.

    ``"auto"``: CUDA events through cupy or torch when the program has already imported one
    (as ``resolve_sync`` finds its synchronisation), timed per call from
    ``PER_CALL_EVENTS_MIN_S``; the host clock on the CPU or without either. ``None``: the host
    clock.
    """
    if timer is None:
        return HostTimer()
    if timer != "auto":
        if not isinstance(timer, DeviceTimer):
            msg = (
                f"timer: expected a lepton.energy.timing.DeviceTimer, 'auto' or None, got {timer!r}"
            )
            raise TypeError(msg)
        return timer
    if device == "cpu":
        return HostTimer()
    index = cuda_index(device)
    per_call = call_s >= PER_CALL_EVENTS_MIN_S
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        return CudaEventTimer("cupy", cupy, index, per_call=per_call)
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return CudaEventTimer("torch", torch, index, per_call=per_call)
    return HostTimer()
