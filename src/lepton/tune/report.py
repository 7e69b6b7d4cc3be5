"""Showing tuning results beyond one run's table: the cache's contents and the Pareto scatter.

(The table of one run is ``result.result_table``, re-exported here.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from lepton.tune.result import ConfigResult, TuneResult, result_table

__all__ = ["cache_table", "pareto_front", "plot_pareto", "require_pyplot", "result_table"]


def _number(value: float | None, fmt: str, missing: str = "-") -> str:
    return missing if value is None else format(value, fmt)


def cache_table(
    entries: dict[str, dict[str, Any]], unusable: dict[str, str | None] | None = None
) -> Table:
    """The cache as a table; ``unusable`` maps a key to why this build or machine cannot use
    its entry (None: it can), shown in a last column."""
    table = Table(title=f"lepton tuning cache ({len(entries)} entries)")
    columns = ["op", "shape", "dtype", "device", "driver", "threads", "config", "objective"]
    for column in [*columns, "ms", "J", *(["usable here"] if unusable is not None else [])]:
        table.add_column(column)

    def order(item: tuple[str, dict[str, Any]]) -> tuple[str, str]:
        return item[1].get("op", ""), str(item[1].get("key", {}).get("shape"))

    for cache_key, entry in sorted(entries.items(), key=order):
        key = entry.get("key", {})
        why = None if unusable is None else unusable.get(cache_key)
        table.add_row(
            str(entry.get("op", "?")),
            str(key.get("shape", key.get("bucket", "?"))),
            str(key.get("dtype", "?")),
            str(key.get("device", "?")),
            str(key.get("driver", "?")),
            str(key.get("threads", "?")),
            str(entry.get("config_name", entry["config"])),
            str(entry.get("objective", "?")),
            _number(entry.get("ms"), ".3f"),
            _number(entry.get("joules"), ".4g", "no meter"),
            *([] if unusable is None else ["yes" if why is None else f"no: {why}"]),
        )
    return table


def pareto_front(rows: list[ConfigResult]) -> list[ConfigResult]:
    """Configurations no other is both faster and cheaper than, by time (needs joules)."""
    measured = sorted(
        (r for r in rows if r.joules is not None), key=lambda r: (r.seconds, r.joules)
    )
    front: list[ConfigResult] = []
    for row in measured:
        if not front or row.joules < front[-1].joules:  # type: ignore[operator]
            front.append(row)
    return front


def require_pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:
        msg = "plotting needs matplotlib (pip install matplotlib, or lepton-kernels[bench])"
        raise ImportError(msg) from exc
    matplotlib.use("Agg")  # files only: no display needed, none assumed
    import matplotlib.pyplot as plt

    return plt


def plot_pareto(result: TuneResult, path: str | Path) -> Path:
    """Write the time-vs-joules scatter (chosen config marked, guarantee line drawn) as PNG.

    Without a meter there are no joules: the plot shows time per configuration only, and says so.
    """
    plt = require_pyplot()
    path = Path(path)
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    try:
        if result.winner.joules is None:
            _plot_time_only(ax, result)
        else:
            _plot_scatter(ax, result)
        ax.set_title(
            f"{result.op} {'×'.join(map(str, result.shape))} on {result.device_name}\n"
            f"objective {result.objective}, guarantee ≤ {result.max_slowdown:.2f}× fastest",
            fontsize=10,
        )
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path


def _plot_scatter(ax: Any, result: TuneResult) -> None:
    for eligible, color, label in ((True, "tab:blue", "eligible"), (False, "0.6", "too slow")):
        rows = [r for r in result.rows if r.eligible == eligible]
        if not rows:
            continue
        ax.errorbar(
            [r.ms for r in rows],
            [r.joules for r in rows],
            xerr=[
                [r.ms - min(t.seconds for t in r.stage_trials(r.stage)) * 1e3 for r in rows],
                [max(t.seconds for t in r.stage_trials(r.stage)) * 1e3 - r.ms for r in rows],
            ],
            yerr=[
                [r.joules - min(t.joules for t in r.stage_trials(r.stage)) for r in rows],
                [max(t.joules for t in r.stage_trials(r.stage)) - r.joules for r in rows],
            ],
            fmt="o",
            color=color,
            label=label,
            capsize=2,
            markersize=5,
        )
    front = pareto_front(result.rows)
    ax.step(
        [r.ms for r in front],
        [r.joules for r in front],
        where="post",
        color="tab:orange",
        linewidth=1,
        label="Pareto front",
    )
    ax.axvline(
        result.guarantee_s * 1e3,
        color="tab:red",
        linestyle="--",
        linewidth=1,
        label=f"guarantee ({result.max_slowdown:.2f}× fastest)",
    )
    ax.plot(
        [result.fastest.ms],
        [result.fastest.joules],
        "s",
        markersize=11,
        fillstyle="none",
        color="black",
        label=f"fastest: {result.fastest.name}",
    )
    ax.plot(
        [result.winner.ms],
        [result.winner.joules],
        "*",
        markersize=16,
        color="tab:green",
        label=f"chosen: {result.winner.name}",
    )
    heuristic = result.heuristic_row
    if heuristic is not None and heuristic.joules is not None:
        ax.plot(
            [heuristic.ms],
            [heuristic.joules],
            "D",
            markersize=10,
            fillstyle="none",
            color="tab:purple",
            label=f"untuned (heuristic): {heuristic.name}",
        )
    for row in result.rows:
        ax.annotate(
            row.name, (row.ms, row.joules), fontsize=6, xytext=(3, 3), textcoords="offset points"
        )
    ax.set_xlabel("time per call (ms)")
    ax.set_ylabel(f"energy per call (J, {result.meter})")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def _plot_time_only(ax: Any, result: TuneResult) -> None:
    rows = list(reversed(result.rows))  # fastest on top
    colors = ["tab:green" if r.chosen else ("tab:blue" if r.eligible else "0.6") for r in rows]
    ax.barh([r.name for r in rows], [r.ms for r in rows], color=colors)
    ax.axvline(
        result.guarantee_s * 1e3,
        color="tab:red",
        linestyle="--",
        linewidth=1,
        label=f"guarantee ({result.max_slowdown:.2f}× fastest)",
    )
    ax.set_xlabel("time per call (ms) — no energy meter: time only")
    ax.tick_params(axis="y", labelsize=6)
    ax.legend(fontsize=7)
