"""A window's sampler: every meter read during a window happens here, off the launching thread.

A measured window's launching thread does nothing but launch (a meter read can take
milliseconds: 4.07 ms for NVML's energy counter on an H200). While the window is open this
thread reads, each at its own pace:

- the energy counter, every ``counter_interval_s`` (coarse counters only: ``energy/ticks.py``
  turns the moments it changed into exact power), back to back when a read takes longer;
- instant power, every ``power_interval_s`` (the independent second estimate), with the meter's
  ``_poll`` hook (RAPL catches counter wraps there).

Times are the meter's clock. A read that raises stops that kind of reading for the window and
is kept in ``error``: the window then has fewer polls, and says so through what it falls back on.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from lepton.energy.ticks import Poll


class Sampler:
    """What a window's sampler collected: counter polls and (clock time, watts) samples."""

    def __init__(self) -> None:
        self.polls: list[Poll] = []
        self.samples: list[tuple[float, float]] = []
        self.error: str | None = None

    def start(self) -> None:
        """Begin collecting (before the window's first edge read)."""

    def stop(self) -> None:
        """Stop collecting (after the window's last edge read); the lists are final after it."""


class ThreadSampler(Sampler):
    """A daemon thread that polls until stopped: ``read_counter`` (joules), ``read_watts``
    (watts or ``None``) after ``poll_hook``, timed by ``clock``."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        read_counter: Callable[[], float],
        read_watts: Callable[[], float | None],
        poll_hook: Callable[[], None],
        counter_interval_s: float | None,
        power_interval_s: float | None,
    ) -> None:
        super().__init__()
        self.clock, self.read_counter = clock, read_counter
        self.read_watts, self.poll_hook = read_watts, poll_hook
        self.counter_interval_s = counter_interval_s
        self.power_interval_s = power_interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="lepton-meter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        clock = self.clock
        counter_due = power_due = clock()
        while not self._stop.is_set():
            if self.counter_interval_s is not None and clock() >= counter_due:
                before = clock()
                try:
                    value = self.read_counter()
                except Exception as exc:  # a failing driver must not kill the measurement
                    self.error = f"counter read failed: {type(exc).__name__}: {exc}"
                    self.counter_interval_s = None
                else:
                    self.polls.append(Poll(before, clock(), value))
                    counter_due = before + self.counter_interval_s
            if self.power_interval_s is not None and clock() >= power_due:
                before = clock()
                try:
                    self.poll_hook()
                    watts = self.read_watts()
                except Exception as exc:
                    self.error = f"power read failed: {type(exc).__name__}: {exc}"
                    self.power_interval_s = None
                else:
                    if watts is not None:
                        self.samples.append((0.5 * (before + clock()), watts))
                    power_due = before + self.power_interval_s
            due = min(
                counter_due if self.counter_interval_s is not None else math.inf,
                power_due if self.power_interval_s is not None else math.inf,
            )
            if math.isinf(due):
                self._stop.wait()
            else:
                self._stop.wait(max(0.0, due - clock()))
