"""Benchmark output: JSON (the record README numbers come from), markdown and a PNG chart."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any


def _fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} µs"


def markdown(cases: list[dict[str, Any]], meter: str) -> str:
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
            joules = f"{row['joules_median']:.4g} J" if row["joules_median"] else "no meter"
            ratio = "" if row["is_lepton"] or not base else f"{row['seconds_median'] / base:.2f}×"
            label = f"**{name}**" if row["is_lepton"] else name
            lines.append(
                f"| {case['case']} | {label} | {_fmt_time(row['seconds_median'])} | "
                f"±{100 * row['spread'] / 2:.1f}% | {throughput} | {joules} | {ratio} |"
            )
        for peer, why in case["skipped"].items():
            lines.append(f"| {case['case']} | {peer} | skipped: {why} | | | | |")
    lines.append("")
    lines.extend(f"- {case['case']}: {case['notes']}" for case in cases if case["notes"])
    lines.extend(_per_million_rows(cases))
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


def write_json(
    out_dir: Path, suite: str, cases: list[dict[str, Any]], machine: dict[str, Any]
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = out_dir / f"{suite}-{stamp}.json"
    path.write_text(json.dumps({"suite": suite, "machine": machine, "cases": cases}, indent=2))
    return path


def plot(out_dir: Path, suite: str, cases: list[dict[str, Any]]) -> Path | None:
    """Bar chart of lepton's speed-up over each peer per case; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    labels, values = [], []
    for case in cases:
        for pair, ratio in case["ratios"].items():
            labels.append(f"{case['case']}\n{pair.split(' vs ', 1)[1]}")
            values.append(ratio["speedup"])
    if not values:
        return None
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(values)), 4.5))
    ax.bar(range(len(values)), values, color=["#2a9d8f" if v >= 1 else "#e76f51" for v in values])
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(values)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("lepton speed-up (peer time ÷ lepton time)")
    ax.set_title(f"lepton bench: {suite}")
    fig.tight_layout()
    path = out_dir / f"{suite}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
