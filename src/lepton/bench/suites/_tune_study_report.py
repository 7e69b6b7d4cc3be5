"""The tuner study's report: markdown tables and findings per case, and the sweep's Pareto PNG
(``tune_study.py`` measures; this draws)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def _num(value: float | None, fmt: str, missing: str = "-") -> str:
    return missing if value is None else format(value, fmt)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _ok(flag: bool) -> str:
    return "yes" if flag else "NO"


def markdown(summary: dict[str, Any]) -> str:
    """The study as markdown: one swept table and one findings list per case."""
    idle = summary["idle"]
    read = summary["read_cost_s"]
    lines = [
        f"# Joule tuner study on {summary['device_name']} ({summary['meter_status']})",
        "",
        f"objective {summary['objective']}, max_slowdown {summary['settings']['max_slowdown']}, "
        f"{summary['settings']['runs']} runs per case, budget {summary['settings']['budget_s']} s"
        f"; counter read {_num(None if read is None else read * 1e3, '.2f')} ms",
        "idle: "
        + (
            "no meter"
            if idle is None
            else f"{idle['watts']:.1f} W over {idle['seconds']:.1f} s, counter-vs-samples gap "
            f"{_pct(idle['gap'])}"
        ),
        f"warnings during the study: {len(summary['warnings'])}"
        + (f" (first: {summary['warnings'][0]})" if summary["warnings"] else ""),
        "",
    ]
    for case in summary["cases"]:
        lines += _case_markdown(case)
    return "\n".join(lines)


def _case_markdown(c: dict[str, Any]) -> list[str]:
    bar = c["bar"]
    lines = [
        f"## {c['case']} ({c['launch']})",
        "",
        "| config | ms | J | W | busy | gap | tiles | CTAs | CTAs/SM | refined in | chosen in |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in c["sweep"]:
        if "ms" not in row:
            lines.append(f"| {row['name']} | cannot run: {row['cannot_run'][:60]} |")
            continue
        mark = " (heuristic)" if row["name"] == c["heuristic"] else ""
        lines.append(
            f"| {row['name']}{mark} | {row['ms']:.4f} | {_num(row['joules'], '.4g', 'no meter')} | "
            f"{_num(row['watts'], '.1f')} | {_pct(row['busy_fraction'])} | {_pct(row['gap'])} | "
            f"{row.get('tiles', row.get('work_items', '-'))} | {row.get('ctas', '-')} | "
            f"{_num(row.get('ctas_per_sm'), '.2f')} | {row['refined_in'] or ''} | "
            f"{row['chosen_in'] or ''} |"
        )
    trade = c["trade"]
    agreement = c["tuner_vs_sweep_ms"]
    lines += [
        "",
        f"- fastest (sweep): {c['fastest']} {c['fastest_ms']:.4f} ms, "
        f"{_num(c['fastest_joules'], '.4g')} J",
        f"- best trade in the table (fewest J within {c['max_slowdown']:.2f}× the fastest): "
        + (
            "-"
            if trade is None
            else f"{trade['name']}: {_pct(trade['saving'])} fewer J at {trade['slowdown']:.3f}×"
        ),
        f"- tuned winner: {c['winner']} in {c['winner_runs']} of {len(c['winner_per_run'])} runs "
        f"(per run: {', '.join(c['winner_per_run'])}); saving vs fastest median "
        f"{_pct(c['saving_median'])}, slowdown median {_num(c['slowdown_median'], '.3f')}×",
        f"- winner's joules per run: {', '.join(f'{j:.4g}' for j in c['winner_joules_per_run'])}"
        f" → spread {_pct(c['winner_joules_spread'])}",
        f"- untuned heuristic: {c['heuristic']} ({_num(c['heuristic_joules'], '.4g')} J); the "
        f"tuned winner uses {_pct(c['tuned_vs_heuristic'])} fewer joules (sweep numbers)",
        "- tuner's per-call time vs the sweep's: "
        + (
            "-"
            if not agreement
            else f"{min(agreement):.3f}–{max(agreement):.3f}× over {len(agreement)} refined rows"
        ),
        f"- seconds per tuning: {', '.join(f'{t:.1f}' for t in c['tune_seconds'])}; refined "
        f"{c['refined_per_run']}",
        *(
            f"- cut in run {run}: {cut}"
            for run, cuts in enumerate(c["cuts_per_run"])
            for cut in cuts
        ),
        *(
            f"- warning in run {run}: {text}"
            for run, texts in enumerate(c["warnings_per_run"])
            for text in texts
        ),
        f"- bar: saving ≥ 10% {_ok(bar['saving_ok'])}, slowdown ≤ 1.10 {_ok(bar['slowdown_ok'])},"
        f" spread < 3% {_ok(bar['spread_ok'])}, ≤ 60 s per tuning {_ok(bar['tune_time_ok'])}, "
        f"tuner time within 3% of the sweep {_ok(bar['time_agreement_ok'])}",
        "",
    ]
    return lines


def plot_case(case: dict[str, Any], path: Path) -> Path:
    """Time vs joules of the sweep: every config, the Pareto front, the guarantee line, and the
    fastest, the tuned winner and the untuned heuristic marked."""
    from lepton.tune.report import require_pyplot

    plt = require_pyplot()
    rows = [r for r in case["sweep"] if "ms" in r and r["joules"] is not None]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    try:
        ax.scatter([r["ms"] for r in rows], [r["joules"] for r in rows], s=18, label="configs")
        front, best = [], math.inf
        for r in sorted(rows, key=lambda r: (r["ms"], r["joules"])):
            if r["joules"] < best:
                front.append(r)
                best = r["joules"]
        ax.step([r["ms"] for r in front], [r["joules"] for r in front], where="post",
                color="tab:orange", linewidth=1, label="Pareto front")  # fmt: skip
        ax.axvline(case["max_slowdown"] * case["fastest_ms"], color="tab:red", linestyle="--",
                   linewidth=1, label=f"{case['max_slowdown']:.2f}× the fastest")  # fmt: skip
        marks = (("fastest", "s", "black"), ("winner", "*", "tab:green"),
                 ("heuristic", "D", "tab:purple"))  # fmt: skip
        for key, marker, color in marks:
            row = next((r for r in rows if r["name"] == case[key]), None)
            if row is not None:
                ax.plot([row["ms"]], [row["joules"]], marker, markersize=11, fillstyle="none",
                        color=color, label=f"{key}: {row['name']}")  # fmt: skip
        for r in rows:
            ax.annotate(str(r["id"]), (r["ms"], r["joules"]), fontsize=6, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
        ax.set_xlabel("time per call (ms, CUDA events)" if rows else "time per call (ms)")
        ax.set_ylabel("energy per call (J)")
        ax.set_title(f"{case['case']}: the table swept, one {case['launch']} window each",
                     fontsize=9)  # fmt: skip
        ax.legend(fontsize=6)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
