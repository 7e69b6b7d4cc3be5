"""The installed accelerator's state: its options, its call log and its energy meter."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from lepton.accel._report import CallLog, Cost


@dataclass(frozen=True)
class Options:
    compare: bool = False  # also run scikit-learn's method on the same inputs, and compare
    int8: bool = False  # MLP / linear-model predict through lepton.Lepton(model)


class _Box:
    cost: Cost | None = None


class Session:
    """One installation of the accelerator (``install`` … ``uninstall``)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.log = CallLog()
        self._meter: Any = None
        self._meter_lock = threading.Lock()
        self._compared = 0

    @property
    def meter(self) -> Any:
        """The CPU meter (RAPL where readable, else a NullMeter that says why), opened once.

        Host arrays are what accel runs on, so the CPU package is what the calls cost."""
        with self._meter_lock:
            if self._meter is None:
                from lepton.energy import meter_for

                self._meter = meter_for("cpu")
            return self._meter

    def sklearn_first(self) -> bool:
        """For --compare: whether scikit-learn's side runs first this time (every other call)."""
        with self._meter_lock:
            self._compared += 1
            return self._compared % 2 == 0

    def meter_info(self) -> dict[str, Any]:
        m = self.meter
        return {"source": m.source if m.has_energy else "none", "status": m.status()}

    def options_dict(self) -> dict[str, Any]:
        return asdict(self.options)

    @contextlib.contextmanager
    def metered(self) -> Iterator[_Box]:
        """A window with meter reads at its edges only (nothing inside it but the work)."""
        meter = self.meter
        box = _Box()
        window = meter.begin(sample=False)
        try:
            yield box
        finally:
            m = meter.end(window)
            box.cost = Cost(m.seconds, m.joules, bool(m.short_window) and m.joules is not None)

    @contextlib.contextmanager
    def timed(self) -> Iterator[_Box]:
        box = _Box()
        t0 = time.perf_counter()
        try:
            yield box
        finally:
            box.cost = Cost(time.perf_counter() - t0, None)


_current: Session | None = None
_lock = threading.RLock()


def current() -> Session | None:
    return _current


def set_current(session: Session | None) -> None:
    global _current
    _current = session
