"""Study ``tune_study``: the joule tuner's trade-off on the GPU, three independent runs per shape.

``python -m bench tune_study --size full --out DIR`` tunes ``int8_gemm`` on ``cuda:0`` (the
``int8_gemm_cuda`` table) at 8192³ and at M=256, N=K=4096 with ``objective="energy"``,
``max_slowdown=1.10``, three runs per shape (seeds 0, 1, 2: fresh inputs and orders), and
writes ``tune_study-*.json``, ``tune_study.md`` and one Pareto PNG per shape. What it reports
per shape: every config's screen ms and J, and for the contenders the refine ms and J (median
and spread over the refine windows of the three runs; the winner is decided on those), W, TOPS,
TOPS/J, which stage decided each row; the fastest config; the energy winner of each run; the
saving against the fastest and the slowdown; the winner's joules across the runs (spread =
(max − min) / median); min/max TOPS and J over the table; the seconds each tuning took, how many
configs were refined and what the budget cut; the meter's counter-vs-samples gap on the refine
windows. Once per study: idle power and the gap on an idle window.

Device time: one tuning is ``budget_s`` = 60 s at most (``lepton.tune.Protocol``: with a
24-config table, idle 1 s + warm-up ≤ 2.5 s + screen 24 × 2 × 0.25 s = 12 s + refine of up to
5 contenders × 3 rounds × 2.5–3 s windows ≈ 36–41 s, 3 s reserve: 50–57 s); 2 shapes × 3 runs
≈ 5–6 min, plus the idle window (5 s), the 8192³ inputs (2 × 64 MiB made on the host and copied,
~1 s per run) and the CUDA graphs recorded per config at M=256 (~0.1 s each): about 6.5 min,
inside one 10-minute device call. A larger table keeps the budget: the screen samples it and the
refine cuts contenders, and the report says what (``LEPTON_STUDY_BUDGET_S`` raises the budget).

``--size small`` runs the same study on the CPU (``int8_gemm``, one small shape, a short
budget) so that the code path is exercised anywhere; energy needs RAPL, else time is tuned and
the report says "no meter".
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lepton.energy.base import Meter
from lepton.energy.measure import idle_power
from lepton.energy.measurement import MeasurementWarning
from lepton.energy.meters import meter_for
from lepton.tune import Trial, TuneResult, tune

BAR_SAVING = 0.10  # the tuned config uses ≥ 10% fewer joules than the fastest ...
BAR_SLOWDOWN = 1.10  # ... at ≤ 10% slowdown ...
BAR_SPREAD = 0.03  # ... with the winner's joules spreading < 3% over three runs
BAR_TUNE_S = 60.0  # and tuning one shape takes ≤ 60 s


@dataclass(frozen=True)
class Settings:
    device: str
    shapes: tuple[tuple[int, int, int], ...]
    op: str = "int8_gemm"
    runs: int = 3
    max_slowdown: float = 1.10
    budget_s: float = 60.0
    window_s: float | None = None  # None: the meter's minimum (1 s for NVML)
    idle_s: float = 5.0
    save: bool = True  # store each shape's last winner in the tuning cache (config=None uses it)


def settings_for(size: str) -> Settings:
    budget = float(os.environ.get("LEPTON_STUDY_BUDGET_S", "60"))
    if size == "full":
        return Settings("cuda:0", ((8192, 8192, 8192), (256, 4096, 4096)), budget_s=budget)
    return Settings("cpu", ((256, 1024, 1024),), budget_s=min(budget, 10.0), window_s=0.1, idle_s=1)


def _spread(values: Sequence[float]) -> float | None:
    if not values:
        return None
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle > 0 else 0.0


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _stage_numbers(trials: Sequence[Trial]) -> dict[str, Any]:
    seconds = [t.seconds for t in trials]
    joules = [t.joules for t in trials if t.joules is not None]
    s = _median(seconds)
    j = _median(joules) if trials and len(joules) == len(seconds) else None
    return {
        "windows": len(seconds),
        "ms": None if s is None else s * 1e3,
        "ms_spread": _spread(seconds),
        "joules": j,
        "joules_spread": None if j is None else _spread(joules),
    }


def config_rows(results: Sequence[TuneResult], work_ops: float) -> list[dict[str, Any]]:
    """One row per config screened in any run, by screened time.

    ``ms``/``joules`` and their spreads pool the refine windows of every run that refined the
    config (``stage`` "refine"); a config no run refined shows its screen numbers there
    (``stage`` "screen", ``note`` says why). ``screen_ms``/``screen_joules`` pool the screens.
    """
    by_id: dict[int, dict[str, Any]] = {}
    for run, result in enumerate(results):
        for row in result.rows:
            entry = by_id.setdefault(
                row.id,
                {"id": row.id, "name": row.name, "screen": [], "refine": [], "chosen_in": [],
                 "runs": [], "refined_in": [], "note": ""},
            )  # fmt: skip
            entry["screen"].extend(row.stage_trials("screen"))
            entry["refine"].extend(row.stage_trials("refine"))
            entry["runs"].append(run)
            if row.refined:
                entry["refined_in"].append(run)
            elif row.note:
                entry["note"] = row.note
            if row.chosen:
                entry["chosen_in"].append(run)
    rows = []
    for entry in by_id.values():
        screen = _stage_numbers(entry["screen"])
        stage = "refine" if entry["refine"] else "screen"
        deciding = _stage_numbers(entry[stage])
        s, j = deciding["ms"] / 1e3, deciding["joules"]
        rows.append(
            {
                "id": entry["id"],
                "name": entry["name"],
                "stage": stage,
                "note": entry["note"] if stage == "screen" else "",
                "windows": deciding["windows"],
                "runs": entry["runs"],
                "refined_in": entry["refined_in"],
                "chosen_in": entry["chosen_in"],
                "ms": deciding["ms"],
                "ms_spread": deciding["ms_spread"],
                "joules": j,
                "joules_spread": deciding["joules_spread"],
                "screen_windows": screen["windows"],
                "screen_ms": screen["ms"],
                "screen_ms_spread": screen["ms_spread"],
                "screen_joules": screen["joules"],
                "screen_joules_spread": screen["joules_spread"],
                "watts": None if j is None else j / s,
                "tops": work_ops / s / 1e12,
                "tops_per_joule": None if not j else work_ops / j / 1e12,
            }
        )
    return sorted(rows, key=lambda r: r["screen_ms"] if r["screen_ms"] is not None else r["ms"])


def _gaps(results: Sequence[TuneResult]) -> dict[str, float | None]:
    """The counter-vs-samples gap over the refine windows (screen windows are too short)."""
    gaps = [
        abs(t.gap)
        for r in results
        for row in r.rows
        for t in row.stage_trials("refine")
        if t.gap is not None
    ]
    return {"median_abs": _median(gaps), "max_abs": max(gaps) if gaps else None}


def summarise_shape(shape: tuple[int, ...], results: Sequence[TuneResult]) -> dict[str, Any]:
    """What the issue asks of one shape, from its tuning runs."""
    m, n, k = shape
    work = 2.0 * m * n * k
    rows = config_rows(results, work)
    winners = Counter(r.winner.id for r in results)
    fastest = Counter(r.fastest.name for r in results).most_common(1)[0][0]
    winner_id, times_chosen = winners.most_common(1)[0]
    winner_joules = [
        row.joules for r in results for row in r.rows if row.id == winner_id and row.chosen
    ]
    winner_joules = [j for j in winner_joules if j is not None]
    savings = [r.energy_saving for r in results if r.energy_saving is not None]
    slowdowns = [r.slowdown for r in results]
    joules = [row["joules"] for row in rows if row["joules"] is not None]
    tune_s = [r.elapsed_s for r in results]
    saving, spread = _median(savings), _spread(winner_joules)
    slowdown = _median(slowdowns)
    return {
        "shape": list(shape),
        "work_ops": work,
        "runs": len(results),
        "objective": results[0].objective,
        "meter": results[0].meter,
        "launch": results[0].launch,
        "table_size": results[0].table_size,
        "configs_measured": [len(r.rows) for r in results],
        "skipped": results[0].skipped,
        "protocol": None if results[0].protocol is None else results[0].protocol.to_dict(),
        "refined_per_run": [len(r.refined) for r in results],
        "cuts_per_run": [[] if r.protocol is None else list(r.protocol.cuts) for r in results],
        "configs": rows,
        "fastest": fastest,
        "fastest_per_run": [r.fastest.name for r in results],
        "winner": next(row["name"] for row in rows if row["id"] == winner_id),
        "winner_per_run": [r.winner.name for r in results],
        "winner_runs": times_chosen,
        "winner_joules_per_run": winner_joules,
        "winner_joules_spread": spread,
        "saving_per_run": savings,
        "saving_median": saving,
        "slowdown_per_run": slowdowns,
        "slowdown_median": slowdown,
        "tops_min": min(row["tops"] for row in rows),
        "tops_max": max(row["tops"] for row in rows),
        "joules_min": min(joules) if joules else None,
        "joules_max": max(joules) if joules else None,
        "idle_watts_per_run": [r.idle_watts for r in results],
        "tune_seconds": tune_s,
        "busy_gap": _gaps(results),
        "bar": {
            "saving_ok": saving is not None and saving >= BAR_SAVING,
            "slowdown_ok": slowdown <= BAR_SLOWDOWN,
            "spread_ok": spread is not None and spread < BAR_SPREAD,
            "tune_time_ok": max(tune_s) <= BAR_TUNE_S,
        },
    }


def run_study(
    settings: Settings,
    *,
    meter: Meter | None = None,
    tune_fn: Callable[..., TuneResult] = tune,
    progress: Callable[[str], None] = lambda text: None,
) -> tuple[dict[str, Any], dict[tuple[int, ...], list[TuneResult]]]:
    """Idle window, then ``runs`` tunings per shape; returns the summary and the raw results."""
    meter = meter or meter_for(settings.device)
    objective = "energy" if meter.has_energy else "time"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MeasurementWarning)
        idle = None
        if meter.has_energy:
            progress(f"idle window {settings.idle_s} s")
            idle = idle_power(meter=meter, seconds=settings.idle_s)
        raw: dict[tuple[int, ...], list[TuneResult]] = {}
        for shape in settings.shapes:
            raw[shape] = []
            for run in range(settings.runs):
                progress(f"tuning {'x'.join(map(str, shape))}: run {run + 1}/{settings.runs}")
                raw[shape].append(
                    tune_fn(
                        settings.op, shape, objective, settings.max_slowdown, settings.budget_s,
                        settings.device, meter=meter, seed=run, min_window_s=settings.window_s,
                        save=settings.save and run == settings.runs - 1,
                    )
                )  # fmt: skip
    gap_warnings = [str(w.message) for w in caught if issubclass(w.category, MeasurementWarning)]
    summary = {
        "settings": asdict(settings),
        "device_name": meter.device_name,
        "meter": meter.source if meter.has_energy else "none",
        "meter_status": meter.status(),
        "objective": objective,
        "idle": None
        if idle is None
        else {"watts": idle.avg_watts, "seconds": idle.seconds, "gap": idle.gap},
        "gap_warnings": len(gap_warnings),
        "other_warnings": [
            str(w.message) for w in caught if not issubclass(w.category, MeasurementWarning)
        ],
        "first_gap_warning": gap_warnings[0] if gap_warnings else None,
        "shapes": [summarise_shape(shape, results) for shape, results in raw.items()],
    }
    return summary, raw


def _num(value: float | None, fmt: str, missing: str = "-") -> str:
    return missing if value is None else format(value, fmt)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def markdown(summary: dict[str, Any]) -> str:
    """The study as markdown: one config table and one findings list per shape."""
    idle = summary["idle"]
    lines = [
        f"# Joule tuner study on {summary['device_name']} ({summary['meter_status']})",
        "",
        f"objective {summary['objective']}, max_slowdown {summary['settings']['max_slowdown']}, "
        f"{summary['settings']['runs']} runs per shape, budget {summary['settings']['budget_s']} s",
        "idle: "
        + (
            "no meter"
            if idle is None
            else f"{idle['watts']:.1f} W over {idle['seconds']:.1f} s, counter-vs-samples gap "
            f"{_pct(idle['gap'])}"
        ),
        "",
    ]
    for shape in summary["shapes"]:
        lines += _shape_markdown(shape)
    return "\n".join(lines)


def _shape_markdown(s: dict[str, Any]) -> list[str]:
    bar = s["bar"]
    lines = [
        f"## {'×'.join(map(str, s['shape']))} ({s['launch']})",
        "",
        "| config | decided by | screen ms | screen J | ms (median ± half spread) | J | W | TOPS "
        "| TOPS/J | refined in runs | chosen in runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in s["configs"]:
        lines.append(
            f"| {row['name']} | {row['stage']} | {_num(row['screen_ms'], '.4f')} | "
            f"{_joules(row['screen_joules'], None)} | "
            f"{row['ms']:.4f} ±{_pct(row['ms_spread'] / 2)} | "
            f"{_joules(row['joules'], row['joules_spread'])} | {_num(row['watts'], '.1f')} | "
            f"{row['tops']:.1f} | {_num(row['tops_per_joule'], '.3f')} | "
            f"{row['refined_in'] or ''} | {row['chosen_in'] or ''} |"
        )
    gap = s["busy_gap"]
    lines += [
        "",
        f"- fastest: {s['fastest']} (per run: {', '.join(s['fastest_per_run'])})",
        f"- energy winner: {s['winner']} in {s['winner_runs']} of {s['runs']} runs "
        f"(per run: {', '.join(s['winner_per_run'])})",
        f"- saving vs fastest: median {_pct(s['saving_median'])} "
        f"(per run {', '.join(_pct(v) for v in s['saving_per_run'])}); slowdown median "
        f"{s['slowdown_median']:.3f}×",
        f"- winner's joules per run: {', '.join(f'{j:.4g}' for j in s['winner_joules_per_run'])}"
        f" → spread {_pct(s['winner_joules_spread'])}",
        f"- TOPS over configs: {s['tops_min']:.1f} – {s['tops_max']:.1f}; J per call: "
        f"{_num(s['joules_min'], '.4g')} – {_num(s['joules_max'], '.4g')}",
        f"- seconds per tuning: {', '.join(f'{t:.1f}' for t in s['tune_seconds'])}; configs "
        f"screened {s['configs_measured']} of {s['table_size']}, refined {s['refined_per_run']}",
        f"- protocol: {_protocol(s['protocol'])}",
        *(
            f"- cut in run {run}: {cut}"
            for run, cuts in enumerate(s["cuts_per_run"])
            for cut in cuts
        ),
        f"- busy counter-vs-samples gap: median {_pct(gap['median_abs'])}, "
        f"max {_pct(gap['max_abs'])}",
        f"- bar: saving ≥ 10% {_ok(bar['saving_ok'])}, slowdown ≤ 1.10 {_ok(bar['slowdown_ok'])}, "
        f"spread < 3% {_ok(bar['spread_ok'])}, ≤ 60 s per tuning {_ok(bar['tune_time_ok'])}",
        "",
    ]
    return lines


def _joules(value: float | None, spread: float | None) -> str:
    if value is None:
        return "no meter"
    return f"{value:.4g}" + ("" if spread is None else f" ±{_pct(spread / 2)}")


def _protocol(plan: dict[str, Any] | None) -> str:
    if plan is None:
        return "-"
    return (
        f"screen {plan['screen_rounds']} × {plan['screen_window_s']:.2f} s windows; refine "
        f"{plan['refine_rounds']} × {plan['refine_window_s']:.2f} s windows (shortened to no "
        f"less than {plan['refine_min_window_s']:.2f} s); margins: time "
        f"{plan['time_margin']:.0%}, objective {plan['objective_margin']:.2f}"
    )


def _ok(flag: bool) -> str:
    return "yes" if flag else "NO"


def write(
    out_dir: Path, summary: dict[str, Any], raw: dict[tuple[int, ...], list[TuneResult]]
) -> tuple[Path, Path, list[Path]]:
    """tune_study-<stamp>.json (summary + every run's full result), tune_study.md, PNGs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    record = summary | {
        "results": {
            "x".join(map(str, shape)): [r.to_dict() for r in results]
            for shape, results in raw.items()
        }
    }
    json_path = out_dir / f"tune_study-{stamp}.json"
    json_path.write_text(json.dumps(record, indent=2, default=str))
    md_path = out_dir / "tune_study.md"
    md_path.write_text(markdown(summary))
    pngs = []
    try:
        from lepton.tune.report import plot_pareto

        for shape, results in raw.items():
            name = f"tune_study-pareto-{'x'.join(map(str, shape))}.png"
            pngs.append(plot_pareto(results[0], out_dir / name))
    except ImportError:
        pass  # no matplotlib: the JSON and the table are the record
    return json_path, md_path, pngs


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def study(size: str, out_dir: Path, *, progress: Callable[[str], None] = _stderr) -> str:
    """Entry point of ``python -m bench tune_study``: run, write, return the markdown."""
    summary, raw = run_study(settings_for(size), progress=progress)
    json_path, md_path, pngs = write(out_dir, summary, raw)
    files = ", ".join(str(p) for p in (json_path, md_path, *pngs))
    return markdown(summary) + f"\nfiles: {files}\n"
