"""What a tuning run found: every measured configuration, the choice, and how it reads as a table.

The per-configuration records (``Trial``, ``StageStats``, ``ConfigResult``) live in ``rows.py``
and are re-exported here; the table is drawn here, so that printing a result needs nothing
above this module (``report.py`` draws the cache and the plots, and imports this one).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from lepton.tune.protocol import Plan
from lepton.tune.rows import ConfigResult, StageStats, Trial

__all__ = ["ConfigResult", "StageStats", "Trial", "TuneResult", "result_table"]


@dataclass
class TuneResult:
    """The outcome of ``lepton.tune.tune``: every measured configuration and the winner."""

    op: str
    shape: tuple[int, ...]
    dtype: str
    device: str
    device_name: str
    objective: str
    max_slowdown: float  # the guarantee: winner's median time ≤ max_slowdown × fastest median
    rows: list[ConfigResult]  # every screened config, by screened median time
    winner: ConfigResult  # decided on refine numbers
    fastest: ConfigResult  # the fastest refined median: the guarantee's reference
    meter: str  # meter source, "none" when only time was measured
    idle_watts: float | None
    rounds: int  # refine rounds
    window_s: float  # refine window used (seconds)
    budget_s: float
    elapsed_s: float
    table_size: int
    skipped: dict[str, str] = field(default_factory=dict)  # config name -> why not measured
    efficiency_unit: str = "TOPS/J"
    cache_key: str | None = None
    launch: str = "direct calls"  # how the calls reached the device (GPU: graph replays or not)
    protocol: Plan | None = None  # the stages' settings and what the budget cut
    seed: int | None = None  # order and inputs: tune(..., seed=this) measures the same way
    heuristic: int | None = None  # the config id config=None runs without a tuned entry
    read_cost_s: float | None = None  # one counter read on the meter (its edge reads' cost)
    power_read_cost_s: float | None = None  # one power read (the sampler thread's)
    # What makes this result doubtful, in words; a result with any is not stored unless
    # ``cacheable`` (some warnings only inform).
    warnings: list[str] = field(default_factory=list)
    cacheable: bool = True

    @property
    def refined(self) -> list[ConfigResult]:
        """The contenders the refine stage measured (the winner is one of them)."""
        return [r for r in self.rows if r.refined]

    @property
    def guarantee_s(self) -> float:
        """The slowest median time a winner may have."""
        return self.max_slowdown * self.fastest.seconds

    @property
    def sampled(self) -> bool:
        """True when the budget or the shape left part of the table unmeasured."""
        return len(self.rows) < self.table_size

    @property
    def slowdown(self) -> float:
        return self.winner.seconds / self.fastest.seconds

    @property
    def max_gap(self) -> float | None:
        """The largest |counter - samples| / counter of any deciding window (None: none)."""
        gaps = [r.max_gap for r in self.rows if r.max_gap is not None]
        return max(gaps) if gaps else None

    @property
    def energy_saving(self) -> float | None:
        """Fraction of the fastest configuration's joules the winner saves (None: no meter)."""
        if self.winner.joules is None or not self.fastest.joules:
            return None
        return 1.0 - self.winner.joules / self.fastest.joules

    @property
    def heuristic_row(self) -> ConfigResult | None:
        """The untuned choice's row, where it was measured."""
        return next((r for r in self.rows if r.id == self.heuristic), None)

    def to_dict(self, *, with_trials: bool = True) -> dict[str, Any]:
        return {
            "op": self.op,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "device": self.device,
            "device_name": self.device_name,
            "objective": self.objective,
            "max_slowdown": self.max_slowdown,
            "guarantee_s": self.guarantee_s,
            "winner": self.winner.name,
            "winner_id": self.winner.id,
            "fastest": self.fastest.name,
            "heuristic": self.heuristic,
            "slowdown": self.slowdown,
            "energy_saving": self.energy_saving,
            "max_gap": self.max_gap,
            "meter": self.meter,
            "read_cost_s": self.read_cost_s,
            "power_read_cost_s": self.power_read_cost_s,
            "idle_watts": self.idle_watts,
            "rounds": self.rounds,
            "window_s": self.window_s,
            "budget_s": self.budget_s,
            "elapsed_s": self.elapsed_s,
            "seed": self.seed,
            "table_size": self.table_size,
            "sampled": self.sampled,
            "skipped": dict(self.skipped),
            "warnings": list(self.warnings),
            "cacheable": self.cacheable,
            "efficiency_unit": self.efficiency_unit,
            "cache_key": self.cache_key,
            "launch": self.launch,
            "protocol": None if self.protocol is None else self.protocol.to_dict(),
            "configs": [r.to_dict(with_trials=with_trials) for r in self.rows],
        }

    def table(self) -> Table:
        return result_table(self)

    def __rich__(self) -> Table:
        return self.table()

    def __str__(self) -> str:
        buffer = io.StringIO()
        Console(file=buffer, width=120, color_system=None).print(self.table())
        return buffer.getvalue()


# --- the table ----------------------------------------------------------------------------------


def _number(value: float | None, fmt: str, missing: str = "-") -> str:
    return missing if value is None else format(value, fmt)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"±{value / 2:.1%}"


def _joules(stats: StageStats | ConfigResult | None, spread: float | None) -> str:
    if stats is None:
        return "-"
    return "no meter" if stats.joules is None else f"{stats.joules:.4g} {_percent(spread)}"


def result_table(result: TuneResult) -> Table:
    """Config, the screen's ms and J, the refine's ms and J (± half their spread over the
    rounds), W, ops/J, the device's busy fraction and temperature from the deciding stage,
    which stage decided, and whether the config was chosen, tied, too slow for the guarantee,
    or stopped at the screen; by screened time."""
    shape = "×".join(str(d) for d in result.shape)
    table = Table(
        title=(
            f"{result.op} {shape} on {result.device} ({result.device_name}): "
            f"objective {result.objective}, guarantee: time ≤ {result.max_slowdown:.2f}× fastest "
            f"= {result.guarantee_s * 1e3:.3f} ms"
        ),
        caption=_caption(result),
    )
    columns = [
        "config", "screen ms", "screen J", "ms", "J", "W", result.efficiency_unit, "busy", "°C",
        "stage", "choice",
    ]  # fmt: skip
    for column in columns:
        left = column in ("config", "stage", "choice")
        table.add_column(column, justify="left" if left else "right")
    for row in result.rows:
        temps, screen, refine = row.temperature_c, row.screen, row.refine
        table.add_row(
            row.name + (" (heuristic)" if row.id == result.heuristic else ""),
            "-" if screen is None else f"{screen.seconds * 1e3:.3f}",
            "-" if screen is None else _joules(screen, None).strip(),
            "-" if refine is None else f"{refine.seconds * 1e3:.3f} {_percent(refine.time_spread)}",
            "-" if refine is None else _joules(refine, refine.energy_spread),
            _number(row.watts, ".1f"),
            _number(row.efficiency, ".3g"),
            "-" if row.busy_fraction is None else f"{row.busy_fraction:.0%}",
            "-" if temps is None else f"{temps[0]:.0f}–{temps[1]:.0f}",
            row.stage,
            _choice(row),
            style="bold green" if row.chosen else (None if row.eligible else "dim"),
        )
    return table


def _choice(row: ConfigResult) -> str:
    if row.chosen:
        return "★ chosen"
    if not row.decidable:
        return "excluded"
    if not row.eligible:
        return "too slow"
    if not row.refined:
        return "cut: budget" if row.note.startswith("budget") else "dearer"
    return "tie" if row.tied else ""


def _caption(result: TuneResult) -> str:
    parts = [f"winner {result.winner.name}", f"{result.slowdown:.3f}× the fastest's time"]
    saving = result.energy_saving
    if saving is not None:
        parts.append(f"{saving:.1%} fewer joules than the fastest ({result.fastest.name})")
    heuristic = result.heuristic_row
    if heuristic is not None and heuristic.joules and result.winner.joules is not None:
        parts.append(
            f"{1 - result.winner.joules / heuristic.joules:.1%} fewer than the untuned choice "
            f"({heuristic.name}, {heuristic.stage} numbers)"
        )
    if result.idle_watts is not None:
        parts.append(f"idle {result.idle_watts:.1f} W")
    if result.meter == "none":
        parts.append("no meter: time only")
    plan = result.protocol
    if plan is not None:
        parts.append(
            f"screen {plan.screened} configs × {plan.screen_rounds} rounds of "
            f"{plan.screen_window_s:.2f} s ({plan.screen_on}), refine {len(plan.refined)} × "
            f"{result.rounds} rounds of {result.window_s:.2f} s"
        )
        parts.extend(plan.cuts)
    parts.extend(result.warnings)
    if not result.cacheable:
        parts.append("not stored")
    parts.append(f"{result.elapsed_s:.1f} s of {result.budget_s:.0f} s, seed {result.seed}")
    if result.launch != "direct calls":
        parts.append(result.launch)
    if result.sampled:
        parts.append(f"{len(result.rows)} of {result.table_size} configs measured")
    return "; ".join(parts)
