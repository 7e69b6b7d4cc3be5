"""Benchmark output: JSON (the record README numbers come from), markdown and a PNG chart.

A suite's JSON and PNG share one name, ``<suite>-<YYYYmmdd-HHMMSS>``, so a chart always says
which run it shows; ``python -m bench --replot FILE.json`` redraws a chart from its JSON.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from lepton.energy.units import EnergyUnits, report_lines

SHORT_MARK = "*"  # joules from windows shorter than the meter's minimum


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _fmt_joules(row: dict[str, Any]) -> str:
    joules = row["joules_median"]
    if joules is None:
        return "no meter"
    return f"{joules:.4g} J{SHORT_MARK if row.get('short_windows') else ''}"


def markdown(
    cases: list[dict[str, Any]],
    meter: str,
    *,
    units: EnergyUnits | None = None,
    rate_per_s: float | None = None,
) -> str:
    lines = [
        "| case | implementation | median | spread | throughput | joules | vs lepton |",
        "|---|---|---|---|---|---|---|",
    ]
    for case in cases:
        lepton_rows = [r for r in case["results"].values() if r["is_lepton"]]
        base = lepton_rows[0]["seconds_median"] if lepton_rows else None
        for name, row in case["results"].items():
            if "gops" in row:
                throughput = f"{row['gops']:.1f} GOP/s"
            elif "gb_per_s" in row:
                throughput = f"{row['gb_per_s']:.1f} GB/s"
            else:
                throughput = ""
            ratio = "" if row["is_lepton"] or not base else f"{row['seconds_median'] / base:.2f}×"
            label = f"**{name}**" if row["is_lepton"] else name
            lines.append(
                f"| {case['case']} | {label} | {_fmt_time(row['seconds_median'])} | "
                f"±{100 * row['spread'] / 2:.1f}% | {throughput} | {_fmt_joules(row)} | {ratio} |"
            )
        for peer, why in case["skipped"].items():
            lines.append(f"| {case['case']} | {peer} | skipped: {why} | | | | |")
    lines.append("")
    lines.extend(f"- {case['case']}: {case['notes']}" for case in cases if case["notes"])
    lines.extend(_per_million_rows(cases))
    lines.extend(_energy_units(cases, units, rate_per_s))
    if any(r.get("short_windows") for c in cases for r in c["results"].values()):
        lines.append(
            f"{SHORT_MARK} some windows were shorter than the {meter} meter's minimum: those "
            "joules are rough (raise --min-window)."
        )
    lines.append(f"'vs lepton' = peer time ÷ lepton time (> 1: lepton is faster). Meter: {meter}.")
    return "\n".join(lines)


def _per_million_rows(cases: list[dict[str, Any]]) -> list[str]:
    """'per 1M rows' lines for cases that say how many rows a call handles."""
    lines = []
    for case in cases:
        if not case.get("rows"):
            continue
        parts = []
        for name, row in case["results"].items():
            joules = row.get("joules_per_1m_rows")
            energy = "no meter" if joules is None else f"{joules:.4g} J"
            parts.append(f"{name} {_fmt_time(row['seconds_per_1m_rows'])}, {energy}")
        lines.append(f"- {case['case']}, per 1M rows: " + "; ".join(parts))
    return lines


def _energy_units(
    cases: list[dict[str, Any]], units: EnergyUnits | None, rate_per_s: float | None
) -> list[str]:
    """Each implementation's joules per call extrapolated to 1M calls (rows where the case has
    them) in Wh / gCO2e / cost; nothing for a case without readings."""
    lines = []
    for case in cases:
        rows = case.get("rows")
        found = report_lines(
            {name: row["joules_median"] for name, row in case["results"].items()},
            what="rows" if rows else "calls",
            calls_per_call=rows or 1,
            rate_per_s=rate_per_s,
            units=units,
        )
        lines.extend(f"- {case['case']}: {line}" for line in found)
    return lines


def stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def write_json(
    out_dir: Path,
    suite: str,
    cases: list[dict[str, Any]],
    machine: dict[str, Any],
    *,
    when: str | None = None,
) -> Path:
    """``<out_dir>/<suite>-<when>.json`` (``when`` defaults to now); the chart takes its name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{suite}-{when or stamp()}.json"
    path.write_text(json.dumps({"suite": suite, "machine": machine, "cases": cases}, indent=2))
    return path


# --- charts ----------------------------------------------------------------------------------

_FASTER, _SLOWER = "#2a9d8f", "#e76f51"


def _bars(cases: list[dict[str, Any]], key: str) -> list[tuple[str, list[tuple[str, float]]]]:
    """(case, [(peer label, ratio)]) for the ratios that exist under ``key``."""
    groups = []
    for case in cases:
        leptons = {pair.split(" vs ", 1)[0] for pair in case["ratios"]}
        bars = []
        for pair, ratio in case["ratios"].items():
            value = ratio.get(key)
            if value is None or not value > 0 or not math.isfinite(value):
                continue
            mine, peer = pair.split(" vs ", 1)
            bars.append((peer if len(leptons) == 1 else f"{peer} (vs {mine})", float(value)))
        if bars:
            header = case["case"] if len(leptons) != 1 else f"{case['case']}: {leptons.pop()}"
            groups.append((header, bars))
    return groups


def _panel(ax: Any, groups: list[tuple[str, list[tuple[str, float]]]], what: str) -> None:
    """Horizontal bars from 1× to each ratio on a log axis, one block of rows per case."""
    labels, y, values, bold = [], [], [], []
    row = 0
    for case, bars in groups:
        labels.append(case)
        y.append(row)
        bold.append(True)
        row += 1
        for peer, value in bars:
            labels.append(f"{peer}")
            y.append(row)
            values.append((row, value))
            bold.append(False)
            row += 1
        row += 0.5  # gap between cases
    for pos, value in values:
        ax.barh(pos, value - 1.0, left=1.0, height=0.7, color=_FASTER if value >= 1 else _SLOWER)
        ax.annotate(
            f"{value:.3g}×",
            (value, pos),
            xytext=(3 if value >= 1 else -3, 0),
            textcoords="offset points",
            ha="left" if value >= 1 else "right",
            va="center",
            fontsize=8,
        )
    from matplotlib.ticker import FuncFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.axvline(1.0, color="black", linewidth=1.0)
    numbers = [v for _, v in values]
    low, high = min([*numbers, 1.0]), max([*numbers, 1.0])
    ax.set_xlim(low / 2.0, high * 3.0)  # room for the value labels
    ax.set_yticks(y, labels, fontsize=8)
    for tick, is_case in zip(ax.get_yticklabels(), bold, strict=True):
        if is_case:
            tick.set_fontweight("bold")
    ax.set_ylim(row - 0.5, -0.8)
    ax.set_xlabel(f"peer {what} ÷ lepton {what}, log scale (> 1×: lepton better)")
    ax.grid(axis="x", which="both", alpha=0.25)


def plot(path: Path, suite: str, cases: list[dict[str, Any]], subtitle: str = "") -> Path | None:
    """Write ``path`` (PNG): time ratios, and joule ratios beside them when a meter gave any.
    None when there is nothing to draw or matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    panels = [("time", _bars(cases, "speedup"))]
    energy = _bars(cases, "energy_ratio")
    if energy:
        panels.append(("joules", energy))
    if not panels[0][1]:
        return None
    rows = max(sum(1 + len(b) for _, b in groups) + len(groups) / 2 for _, groups in panels)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(9.0 * len(panels), 1.2 + 0.32 * rows), squeeze=False
    )
    try:
        for ax, (what, groups) in zip(axes[0], panels, strict=True):
            _panel(ax, groups, what)
        title = f"lepton bench: {suite}"
        fig.suptitle(f"{title}\n{subtitle}" if subtitle else title, fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path


def subtitle(machine: dict[str, Any]) -> str:
    """One line naming the machine and meter a chart's numbers come from."""
    parts = [machine.get("cpu_model") or machine.get("machine") or ""]
    gpus = machine.get("gpus") or []
    if gpus:
        parts.append(", ".join(str(g.get("name", "")) for g in gpus))
    if machine.get("threads"):
        parts.append(f"{machine['threads']} threads")
    meter = machine.get("meter")
    parts.append(f"meter: {meter}" if meter and meter != "none" else "no energy meter")
    return "; ".join(p for p in parts if p)


def replot(json_path: Path) -> Path | None:
    """Redraw the chart of a results JSON beside it (same name, .png)."""
    data = json.loads(Path(json_path).read_text())
    if "cases" not in data:
        msg = f"{json_path}: not a suite's results file (no 'cases'; a study writes its own charts)"
        raise ValueError(msg)
    return plot(
        Path(json_path).with_suffix(".png"),
        data.get("suite", Path(json_path).stem),
        data["cases"],
        subtitle(data.get("machine", {})),
    )
