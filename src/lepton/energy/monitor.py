"""Running totals of calls, seconds and joules per named piece of work.

``Monitor`` is the "monitoring" half of the performance guarantee: wrap the callables or regions
that matter and read how much time and energy each has used so far.
"""

from __future__ import annotations

import contextlib
import functools
import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from lepton.energy.base import Meter
from lepton.energy.measure import SyncArg, resolve_meter, resolve_sync

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class RegionTotal:
    calls: int = 0
    seconds: float = 0.0
    joules: float | None = None  # None while no window of this region had a meter reading
    short_windows: int = 0  # windows shorter than the meter's minimum (their joules are rough)

    @property
    def avg_watts(self) -> float | None:
        if self.joules is None or self.seconds <= 0:
            return None
        return self.joules / self.seconds


class Monitor:
    """``monitor.region("name")`` or ``monitor.wrap(fn)``: totals per name.

    Windows skip the power sampler so that wrapping a hot function stays cheap. Calls shorter
    than the meter's minimum window read the counter coarsely: their joules add up to a fair
    total over many calls, not a per-call truth (``short_windows`` counts them).
    """

    def __init__(
        self, device: Any = "cpu", *, meter: Meter | None = None, sync: SyncArg = "auto"
    ) -> None:
        name, self.meter = resolve_meter(device, meter)
        self.device = name
        self._sync = resolve_sync(sync, name)
        self._totals: dict[str, RegionTotal] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def region(self, name: str) -> Iterator[None]:
        """Count the block's time and energy under ``name``."""
        if not isinstance(name, str) or not name:
            msg = f"name: expected a non-empty string, got {name!r}"
            raise TypeError(msg)
        if self._sync is not None:
            self._sync()
        window = self.meter.begin(sample=False)
        try:
            yield
        finally:
            if self._sync is not None:
                self._sync()
            self._add(name, self.meter.end(window))

    def wrap(self, fn: F | None = None, *, name: str | None = None) -> Any:
        """``monitor.wrap(fn)``, ``@monitor.wrap`` or ``@monitor.wrap(name="...")``."""
        if fn is None:
            return functools.partial(self.wrap, name=name)
        if not callable(fn):
            msg = f"fn: expected a callable, got {type(fn).__name__}"
            raise TypeError(msg)
        label = name or getattr(fn, "__qualname__", None) or repr(fn)

        @functools.wraps(fn)
        def monitored(*args: Any, **kwargs: Any) -> Any:
            with self.region(label):
                return fn(*args, **kwargs)

        return monitored

    __call__ = wrap

    def _add(self, name: str, m: Any) -> None:
        with self._lock:
            total = self._totals.setdefault(name, RegionTotal())
            total.calls += 1
            total.seconds += m.seconds
            total.short_windows += int(m.short_window)
            if m.joules is not None:
                total.joules = (total.joules or 0.0) + m.joules

    @property
    def totals(self) -> dict[str, RegionTotal]:
        with self._lock:
            return {k: RegionTotal(**asdict(v)) for k, v in self._totals.items()}

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {
            name: {**asdict(total), "avg_watts": total.avg_watts}
            for name, total in self.totals.items()
        }

    def reset(self) -> None:
        with self._lock:
            self._totals.clear()

    def table(self) -> Table:
        source = self.meter.source if self.meter.has_energy else "no meter"
        table = Table(title=f"lepton monitor ({self.device}, {source})")
        for column in ("region", "calls", "seconds", "joules", "avg W"):
            table.add_column(column, justify="left" if column == "region" else "right")
        for name, total in self.totals.items():
            joules = "no meter" if total.joules is None else f"{total.joules:.3f}"
            watts = "-" if total.avg_watts is None else f"{total.avg_watts:.1f}"
            table.add_row(name, str(total.calls), f"{total.seconds:.4f}", joules, watts)
        return table

    def __rich__(self) -> Table:
        return self.table()

    def __str__(self) -> str:
        buffer = io.StringIO()
        Console(file=buffer, width=100, color_system=None).print(self.table())
        return buffer.getvalue()
