"""The record of every patched call, and the report made of it (text at exit, or JSON).

Every number here was measured in this process: seconds from ``time.perf_counter`` at the
window's edges, joules from the meter's counter at the same edges (``None`` — printed "no
meter" — where no meter can be read). A comparison exists only for calls where scikit-learn's
method was run too (``--compare``, or ``--int8`` where agreement is always measured).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from lepton.accel._agreement import Agreement

# Calls kept one by one in the JSON report; past this only the per-group totals grow.
KEEP_CALLS = 1000


@dataclass(frozen=True)
class Cost:
    """One measured window."""

    seconds: float
    joules: float | None  # None: no meter
    short_window: bool = False  # shorter than the meter's minimum: joules are coarse

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "joules": self.joules, "short_window": self.short_window}


@dataclass(frozen=True)
class Comparison:
    """scikit-learn's own method on the same inputs, in the same process."""

    sklearn: Cost
    agreement: Agreement

    def to_dict(self) -> dict[str, Any]:
        return {"sklearn": self.sklearn.to_dict(), "agreement": self.agreement.to_dict()}


@dataclass(frozen=True)
class CallRecord:
    estimator: str  # "sklearn.decomposition.PCA"
    method: str
    ran_on: str  # "lepton", "lepton-int8" or "sklearn"
    reason: str | None  # why it fell back (ran_on == "sklearn")
    cost: Cost
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    error: str | None = None  # scikit-learn's fallback raised this (re-raised to the caller)
    comparison: Comparison | None = None

    @property
    def accelerated(self) -> bool:
        return self.ran_on != "sklearn"

    def to_dict(self) -> dict[str, Any]:
        out = {
            "estimator": self.estimator,
            "method": self.method,
            "ran_on": self.ran_on,
            "reason": self.reason,
            **self.cost.to_dict(),
            "shape": list(self.shape) if self.shape is not None else None,
            "dtype": self.dtype,
            "error": self.error,
        }
        out["comparison"] = self.comparison.to_dict() if self.comparison else None
        return out


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


@dataclass
class Group:
    """Totals of the calls with one (estimator, method, ran_on, reason)."""

    estimator: str
    method: str
    ran_on: str
    reason: str | None
    calls: int = 0
    seconds: float = 0.0
    joules: float | None = 0.0
    short_windows: int = 0
    errors: int = 0
    compared: int = 0
    compared_seconds: float = 0.0  # lepton's seconds over the compared calls only
    compared_joules: float | None = 0.0
    sklearn_seconds: float = 0.0
    sklearn_joules: float | None = 0.0
    worst: dict[str, float] = field(default_factory=dict)  # per compared value, the worst seen
    metric: str = ""
    within_tolerance: bool | None = True

    def add(self, r: CallRecord) -> None:
        self.calls += 1
        self.seconds += r.cost.seconds
        self.joules = _add(self.joules, r.cost.joules)
        self.short_windows += int(r.cost.short_window)
        self.errors += int(r.error is not None)
        c = r.comparison
        if c is None:
            return
        self.compared += 1
        self.compared_seconds += r.cost.seconds
        self.compared_joules = _add(self.compared_joules, r.cost.joules)
        self.sklearn_seconds += c.sklearn.seconds
        self.sklearn_joules = _add(self.sklearn_joules, c.sklearn.joules)
        self.metric = c.agreement.metric
        for key, value in c.agreement.values.items():
            # Errors: the largest is the worst; agreement fractions: the smallest.
            fraction = key in ("labels",)
            old = self.worst.get(key)
            if old is None or (value < old if fraction else value > old):
                self.worst[key] = value
        if c.agreement.within_tolerance is None:
            self.within_tolerance = None
        elif self.within_tolerance is not None:
            self.within_tolerance = self.within_tolerance and c.agreement.within_tolerance

    @property
    def speedup(self) -> float | None:
        if not self.compared or self.compared_seconds <= 0:
            return None
        return self.sklearn_seconds / self.compared_seconds

    def to_dict(self) -> dict[str, Any]:
        out = {
            "estimator": self.estimator,
            "method": self.method,
            "ran_on": self.ran_on,
            "reason": self.reason,
            "calls": self.calls,
            "seconds": self.seconds,
            "joules": self.joules,
            "short_windows": self.short_windows,
            "errors": self.errors,
        }
        if self.compared:
            out["comparison"] = {
                "calls": self.compared,
                "lepton_seconds": self.compared_seconds,
                "lepton_joules": self.compared_joules,
                "sklearn_seconds": self.sklearn_seconds,
                "sklearn_joules": self.sklearn_joules,
                "speedup": self.speedup,
                "metric": self.metric,
                "worst": self.worst,
                "within_tolerance": self.within_tolerance,
            }
        return out


class CallLog:
    """Thread-safe: records calls, groups them, keeps the first KEEP_CALLS one by one."""

    def __init__(self, keep: int = KEEP_CALLS) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self.records: list[CallRecord] = []
        self.groups: dict[tuple[str, str, str, str | None], Group] = {}
        self.not_kept = 0

    def add(self, record: CallRecord) -> None:
        key = (record.estimator, record.method, record.ran_on, record.reason)
        with self._lock:
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = Group(*key)
            group.add(record)
            if len(self.records) < self._keep:
                self.records.append(record)
            else:
                self.not_kept += 1

    def clear(self) -> None:
        with self._lock:
            self.records.clear()
            self.groups.clear()
            self.not_kept = 0
