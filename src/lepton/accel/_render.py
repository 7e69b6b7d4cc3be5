"""The accel report as text (printed to stderr at exit) and as JSON (``--json PATH``)."""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass
from typing import Any

from lepton.accel._report import CallLog, CallRecord, Group


def _num(v: Any) -> Any:
    """JSON has no inf/NaN: write them as strings."""
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    if isinstance(v, dict):
        return {k: _num(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_num(x) for x in v]
    return v


def _joules(j: float | None) -> str:
    return "no meter" if j is None else f"{j:.3f} J"


def _seconds(s: float) -> str:
    return f"{s:.4f} s" if s < 10 else f"{s:.2f} s"


@dataclass(frozen=True)
class Totals:
    calls: int
    seconds: float
    joules: float | None


def _totals(groups: list[Group], accelerated: bool) -> Totals:
    chosen = [g for g in groups if (g.ran_on != "sklearn") == accelerated]
    joules: float | None = 0.0
    for g in chosen:
        joules = None if joules is None or g.joules is None else joules + g.joules
    return Totals(
        sum(g.calls for g in chosen), sum(g.seconds for g in chosen), joules if chosen else None
    )


@dataclass(frozen=True)
class Report:
    """A snapshot of what ran where, with its measured cost."""

    options: dict[str, Any]
    meter: dict[str, Any]  # {"source": ..., "status": ...}
    versions: dict[str, str]
    groups: tuple[Group, ...]
    records: tuple[CallRecord, ...]
    not_kept: int

    @classmethod
    def from_log(
        cls, log: CallLog, options: dict[str, Any], meter: dict[str, Any], versions: dict[str, str]
    ) -> Report:
        with log._lock:
            groups = tuple(copy.deepcopy(g) for g in log.groups.values())
            records = tuple(log.records)
            not_kept = log.not_kept
        return cls(dict(options), dict(meter), dict(versions), groups, records, not_kept)

    @property
    def accelerated(self) -> Totals:
        return _totals(list(self.groups), True)

    @property
    def fell_back(self) -> Totals:
        return _totals(list(self.groups), False)

    @property
    def compared(self) -> dict[str, Any] | None:
        """Totals over the calls that ran both ways (lepton's side and scikit-learn's)."""
        groups = [g for g in self.groups if g.compared and g.ran_on == "lepton"]
        if not groups:
            return None
        ours = sum(g.compared_seconds for g in groups)
        theirs = sum(g.sklearn_seconds for g in groups)
        oj: float | None = 0.0
        tj: float | None = 0.0
        for g in groups:
            oj = None if oj is None or g.compared_joules is None else oj + g.compared_joules
            tj = None if tj is None or g.sklearn_joules is None else tj + g.sklearn_joules
        return {
            "calls": sum(g.compared for g in groups),
            "lepton_seconds": ours,
            "sklearn_seconds": theirs,
            "speedup": theirs / ours if ours > 0 else None,
            "lepton_joules": oj,
            "sklearn_joules": tj,
            "joules_ratio": tj / oj if oj and tj is not None else None,
            "within_tolerance": all(g.within_tolerance for g in groups),
        }

    def to_dict(self) -> dict[str, Any]:
        acc, back = self.accelerated, self.fell_back
        return _num(
            {
                "versions": self.versions,
                "options": self.options,
                "meter": self.meter,
                "accelerated": {"calls": acc.calls, "seconds": acc.seconds, "joules": acc.joules},
                "fell_back": {"calls": back.calls, "seconds": back.seconds},
                "compared": self.compared,
                "groups": [g.to_dict() for g in self.groups],
                "calls": [r.to_dict() for r in self.records],
                "calls_not_listed": self.not_kept,
            }
        )

    def write_json(self, path: str | os.PathLike[str]) -> None:
        text = json.dumps(self.to_dict(), indent=2)
        tmp = f"{os.fspath(path)}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.replace(tmp, path)

    def __str__(self) -> str:
        acc, back = self.accelerated, self.fell_back
        lines = [
            f"lepton.accel: {acc.calls + back.calls} estimator calls, {acc.calls} ran on lepton, "
            f"{back.calls} fell back to scikit-learn",
            f"energy meter: {self.meter.get('status', 'none')}",
        ]
        if not self.groups:
            lines.append("(no call of an accelerated estimator was made)")
            return "\n".join(lines)
        width = max(len(f"{g.estimator.rsplit('.', 1)[-1]}.{g.method}") for g in self.groups)
        lines.append("")
        lines.append(f"  {'call':<{width}}  {'ran on':<11} {'calls':>5} {'time':>10}  energy")
        order = sorted(self.groups, key=lambda g: (g.ran_on == "sklearn", g.estimator, g.method))
        for g in order:
            name = f"{g.estimator.rsplit('.', 1)[-1]}.{g.method}"
            energy = _joules(g.joules) if g.ran_on != "sklearn" else "-"
            line = f"  {name:<{width}}  {g.ran_on:<11} {g.calls:>5} {_seconds(g.seconds):>10}  "
            line += energy
            if g.short_windows and g.joules is not None:
                line += f" ({g.short_windows} windows under the meter's minimum)"
            lines.append(line)
            if g.reason:
                lines.append(f"  {'':<{width}}    fell back: {g.reason}")
            if g.errors:
                lines.append(f"  {'':<{width}}    scikit-learn raised in {g.errors} call(s)")
        lines.extend(self._comparison_lines(width))
        if self.not_kept:
            lines.append(f"({self.not_kept} calls counted in the totals, not listed one by one)")
        return "\n".join(lines)

    def _comparison_lines(self, width: int) -> list[str]:
        groups = [g for g in self.groups if g.compared]
        if not groups:
            return []
        lines = ["", "measured against scikit-learn on the same inputs (both run in this process):"]
        for g in groups:
            name = f"{g.estimator.rsplit('.', 1)[-1]}.{g.method}"
            speed = g.speedup
            ratio = f"{speed:.2f}x" if speed is not None else "-"
            lines.append(
                f"  {name:<{width}}  {g.ran_on} {_seconds(g.compared_seconds)} "
                f"({_joules(g.compared_joules)}), scikit-learn {_seconds(g.sklearn_seconds)} "
                f"({_joules(g.sklearn_joules)}): {ratio}"
            )
            values = ", ".join(f"{k} {v:.3g}" for k, v in g.worst.items())
            verdict = {True: "within tolerance", False: "OUTSIDE tolerance", None: "measured"}[
                g.within_tolerance
            ]
            lines.append(f"  {'':<{width}}    agreement ({g.metric}): {values} - {verdict}")
        total = self.compared
        if total is not None:
            speed = total["speedup"]
            lines.append(
                f"  all compared lepton calls: {_seconds(total['lepton_seconds'])} vs "
                f"scikit-learn {_seconds(total['sklearn_seconds'])}"
                + (f": speed-up {speed:.2f}x" if speed else "")
                + f"; energy {_joules(total['lepton_joules'])} vs "
                f"{_joules(total['sklearn_joules'])}"
            )
        return lines
