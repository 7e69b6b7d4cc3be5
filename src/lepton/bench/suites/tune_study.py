"""Study ``tune_study``: does the joule tuner find a trade, and if not, why not — per shape.

``python -m bench tune_study --size full --out DIR`` on ``cuda:0``, for each case of the part
chosen by ``LEPTON_STUDY_PART`` (below):

1. **The whole table, swept**: every configuration once, in random order, one window of W
   (the meter's minimum, 1 s on NVML) after two warm-up calls, measured as the tuner measures
   (``measure_window``: CUDA-event time, busy fraction, tick-aligned joules). Per config: ms, J,
   W (power draw), busy fraction, counter-vs-samples gap, and what the table says of it (engine,
   tile, stages, split-K, CTA cap) with the grid derived from the shape and the SM count
   (tiles, CTAs launched, CTAs per SM) — the data to answer "why no trade" with.
2. **Three independent tunings** (``objective="energy"``, ``max_slowdown=1.10``, 60 s budget,
   seeds 0, 1, 2): each run's winner, the winner's joules spread over the runs, the fastest, the
   tuner's per-call time against the sweep's for the same configs (the 3% bar).
3. The **untuned heuristic's** config (what ``config=None`` runs without a stored entry) and its
   joules against the tuned winner's, both from the sweep (same protocol).
4. The **best trade the table offers**: the fewest joules among configs within 1.10× the
   fastest sweep time — whether a ≥ 10% saving at ≤ 10% slowdown exists at all.
5. A **Pareto PNG** of the sweep (time vs joules; fastest, winner and heuristic marked).

Writes ``tune_study-<part>-<stamp>.json`` (summary + every tuning's full result),
``tune_study-<part>.md`` and ``tune_study-<case>.png`` per case.

Device time: a case is ≈ 30 s of sweep (24 configs × (1 s window + warm-up and edge reads),
graphs recorded for short calls) + 3 tunings × ≤ 63 s (the budget is a hard limit) + input
preparation (≈ 1 s per tuning at 8192³, ≈ 5 s for the 1 GiB preprocess input) ≈ 3.5–4 min; one
idle window of 5 s per call. So the six cases take three device calls of two cases each,
≈ 7.5–8 minutes each (inside a 10-minute call; ``scripts/gpu_session.sh``'s tune-study phase
allows 540 s):

    LEPTON_STUDY_PART=1 python -m bench tune_study --size full   # int8_gemm 8192³, 4096³
    LEPTON_STUDY_PART=2 python -m bench tune_study --size full   # 4096×11008×4096, 256×4096²
    LEPTON_STUDY_PART=3 python -m bench tune_study --size full   # 32×4096², preprocess 4M×64

``LEPTON_STUDY_BUDGET_S`` changes the tuning budget. ``--size small`` runs the same study on
the CPU (one small GEMM, short windows) so that the code path is exercised anywhere; energy needs
RAPL, else time is tuned and the report says "no meter".
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lepton.bench.suites._tune_study_report import markdown, plot_case
from lepton.energy.base import Meter
from lepton.energy.measure import idle_window, measure_window
from lepton.energy.measurement import MeasurementWarning
from lepton.energy.meters import meter_for
from lepton.energy.timing import HostTimer
from lepton.tune import TuneResult, TuneWarning, registry, tune
from lepton.tune.protocol import repetitions

BAR_SAVING = 0.10  # the tuned config uses ≥ 10% fewer joules than the fastest ...
BAR_SLOWDOWN = 1.10  # ... at ≤ 10% slowdown ...
BAR_SPREAD = 0.03  # ... with the winner's joules spreading < 3% over three runs
BAR_TUNE_S = 60.0  # ... each tuning ≤ 60 s ...
BAR_TIME_AGREEMENT = 0.03  # ... and the tuner's per-call times within 3% of the sweep's


@dataclass(frozen=True)
class Case:
    op: str  # a registered tunable op
    shape: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"{self.op}-{'x'.join(map(str, self.shape))}"


PARTS = {
    "1": (Case("int8_gemm", (8192, 8192, 8192)), Case("int8_gemm", (4096, 4096, 4096))),
    "2": (Case("int8_gemm", (4096, 11008, 4096)), Case("int8_gemm", (256, 4096, 4096))),
    "3": (Case("int8_gemm", (32, 4096, 4096)), Case("preprocess", (4 * 1024 * 1024, 64))),
}


@dataclass(frozen=True)
class Settings:
    device: str
    cases: tuple[Case, ...]
    part: str = "1"
    runs: int = 3
    max_slowdown: float = 1.10
    budget_s: float = 60.0
    window_s: float | None = None  # the tuner's W (None: the meter's minimum, 1 s for NVML)
    sweep_window_s: float | None = None  # the sweep's window (None: the meter's minimum)
    idle_s: float = 5.0
    save: bool = True  # store each case's last winner in the tuning cache (config=None uses it)


def settings_for(size: str) -> Settings:
    budget = float(os.environ.get("LEPTON_STUDY_BUDGET_S", "60"))
    if size == "full":
        part = os.environ.get("LEPTON_STUDY_PART", "1")
        if part not in (*PARTS, "all"):
            msg = f"LEPTON_STUDY_PART: expected one of {[*PARTS, 'all']}, got {part!r}"
            raise ValueError(msg)
        cases = sum(PARTS.values(), ()) if part == "all" else PARTS[part]
        return Settings("cuda:0", cases, part=part, budget_s=budget)
    return Settings(
        "cpu",
        (Case("int8_gemm", (256, 1024, 1024)),),
        part="small",
        budget_s=min(budget, 10.0),
        window_s=0.1,
        sweep_window_s=0.1,
        idle_s=1,
    )


# --- the sweep ------------------------------------------------------------------------------


def sweep_table(
    case: Case, settings: Settings, meter: Meter, *, seed: int = 0
) -> tuple[list[dict[str, Any]], int | None]:
    """Every config of ``case``'s table measured once, as the tuner measures; and the
    heuristic's config id. Configs that cannot run the shape are listed with the reason."""
    entry = registry.get(case.op)
    prepared = entry.prepare(case.shape, settings.device, seed)
    window_s = settings.sweep_window_s or meter.min_window_s
    timer = prepared.timer or HostTimer()
    sms = _sm_count(settings.device)
    order = list(entry.configs(settings.device))
    random.Random(seed).shuffle(order)
    rows = []
    for config in order:
        row = {"id": int(config["id"]), "name": str(config.get("name", config["id"]))}
        row |= grid_facts(case, config, sms)
        try:
            for _ in range(2):  # warm-up: the first call records graphs, loads modules
                prepared.run(row["id"])
                if prepared.sync is not None:
                    prepared.sync()
            start = meter.clock()
            prepared.run(row["id"])
            if prepared.sync is not None:
                prepared.sync()
            call_s = max(meter.clock() - start, 1e-9)
        except ValueError as exc:
            rows.append(row | {"cannot_run": str(exc)})
            continue
        m = measure_window(
            lambda config_id=row["id"]: prepared.run(config_id),
            meter,
            wait=prepared.sync,
            timer=timer,
            window_s=window_s,
            repetitions=repetitions(window_s, call_s),
        )
        calls = prepared.calls_per_run()
        if calls > 1:
            m = m.per_repetition(calls)
        row |= {
            "ms": m.seconds * 1e3,
            "joules": m.joules,
            "watts": m.avg_watts,
            "busy_fraction": m.busy_fraction,
            "gap": m.gap,
            "gap_limit": m.gap_limit,
            "joules_from": m.joules_from,
            "time_from": m.time_from,
            "calls": m.repetitions,
            "window_s": m.window_s,
            "temperature_c": m.temperature_c,
            "problems": m.problems(),
        }
        if prepared.work_ops and m.joules:
            row["work_per_joule"] = prepared.work_ops / m.joules
        rows.append(row)
    rows.sort(key=lambda r: r.get("ms", math.inf))
    return rows, prepared.heuristic


def _sm_count(device: str) -> int | None:
    if device == "cpu":
        return None
    from lepton import _core

    try:
        return int(_core.cuda_device_info(int(device.split(":")[1]))["sm_count"])
    except (AttributeError, KeyError, RuntimeError, ValueError):
        return None


def grid_facts(case: Case, config: dict[str, Any], sms: int | None) -> dict[str, Any]:
    """What the table says of ``config`` and the grid it launches on ``case`` (derived from the
    table and the SM count the way the launchers compute it; not measured)."""
    keys = (
        *("engine", "tile_m", "tile_n", "tile_k", "stages", "split_k", "cta_cap_div"),
        *("cluster", "schedule", "threads", "unroll", "chunk_kib", "ctas_per_sm", "sm_div"),
    )
    facts: dict[str, Any] = {k: config[k] for k in keys if k in config}
    facts["sm_count"] = sms
    if "tile_m" in config and len(case.shape) == 3:  # a GEMM table
        m, n, _k = case.shape
        tiles = math.ceil(m / config["tile_m"]) * math.ceil(n / config["tile_n"])
        tiles *= int(config.get("split_k") or 1)
        facts["tiles"] = tiles
        if sms:
            cap_div = int(config.get("cta_cap_div") or 0)
            cap = max(1, sms // cap_div) if cap_div else sms
            persistent = config.get("engine") == "wgmma_s8" or cap_div > 0
            ctas = min(tiles, cap) if persistent else tiles
            facts |= {"ctas": ctas, "ctas_per_sm": ctas / sms, "tiles_per_cta": tiles / ctas}
    elif "chunk_kib" in config and len(case.shape) == 2 and sms:  # preprocess (float32)
        rows, cols = case.shape
        items = math.ceil(rows * cols * 4 / (config["chunk_kib"] * 1024))
        per_sm = int(config.get("ctas_per_sm") or 0)
        used = max(1, sms // int(config.get("sm_div") or 1))
        facts |= {"work_items": items, "ctas": min(items, per_sm * used) if per_sm else items}
    return facts


# --- the study ------------------------------------------------------------------------------


def run_study(
    settings: Settings,
    *,
    meter: Meter | None = None,
    tune_fn: Callable[..., TuneResult] = tune,
    progress: Callable[[str], None] = lambda text: None,
) -> tuple[dict[str, Any], dict[str, list[TuneResult]]]:
    """Idle window, then per case the sweep and ``runs`` tunings; the summary and raw results."""
    meter = meter or meter_for(settings.device)
    objective = "energy" if meter.has_energy else "time"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MeasurementWarning)
        warnings.simplefilter("always", TuneWarning)
        idle = None
        if meter.has_energy:
            progress(f"idle window {settings.idle_s} s")
            idle = idle_window(meter=meter, seconds=settings.idle_s)
        raw: dict[str, list[TuneResult]] = {}
        cases = []
        for case in settings.cases:
            progress(f"{case.name}: sweeping the table")
            sweep, heuristic = sweep_table(case, settings, meter)
            raw[case.name] = []
            for run in range(settings.runs):
                progress(f"{case.name}: tuning run {run + 1}/{settings.runs}")
                raw[case.name].append(
                    tune_fn(
                        case.op, case.shape, objective, settings.max_slowdown, settings.budget_s,
                        settings.device, meter=meter, seed=run, min_window_s=settings.window_s,
                        save=settings.save and run == settings.runs - 1,
                    )
                )  # fmt: skip
            cases.append(summarise_case(case, sweep, heuristic, raw[case.name], settings))
    summary = {
        "settings": asdict(settings),
        "device_name": meter.device_name,
        "meter": meter.source if meter.has_energy else "none",
        "meter_status": meter.status(),
        "read_cost_s": meter.read_cost_s,
        "power_read_cost_s": meter.power_read_cost_s,
        "objective": objective,
        "idle": None
        if idle is None
        else {"watts": idle.avg_watts, "seconds": idle.window_s, "gap": idle.gap},
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
        "cases": cases,
    }
    return summary, raw


def _spread(values: Sequence[float]) -> float | None:
    if not values:
        return None
    middle = statistics.median(values)
    return (max(values) - min(values)) / middle if middle > 0 else 0.0


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def summarise_case(
    case: Case,
    sweep: list[dict[str, Any]],
    heuristic: int | None,
    results: Sequence[TuneResult],
    settings: Settings,
) -> dict[str, Any]:
    """What the issue asks of one case, from its sweep and its tuning runs."""
    measured = [r for r in sweep if "ms" in r]
    by_id = {r["id"]: r for r in measured}
    fastest = min(measured, key=lambda r: r["ms"])
    within = [r for r in measured if r["ms"] <= settings.max_slowdown * fastest["ms"]]
    priced = [r for r in within if r["joules"] is not None]
    trade = min(priced, key=lambda r: r["joules"]) if priced else None
    winners = Counter(r.winner.id for r in results)
    winner_id, times_chosen = winners.most_common(1)[0]
    winner_joules = [r.winner.joules for r in results if r.winner.joules is not None]
    agreement = []  # the tuner's refine ms over the sweep's, per refined config per run
    for result in results:
        for row in result.refined:
            if row.id in by_id and by_id[row.id]["ms"]:
                agreement.append(row.ms / by_id[row.id]["ms"])
    for row in measured:
        row["refined_in"] = [
            i for i, r in enumerate(results) if any(x.id == row["id"] for x in r.refined)
        ]
        row["chosen_in"] = [i for i, r in enumerate(results) if r.winner.id == row["id"]]
    saving = _median([r.energy_saving for r in results if r.energy_saving is not None])
    slowdown = _median([r.slowdown for r in results])
    spread = _spread(winner_joules)
    tune_s = [r.elapsed_s for r in results]
    h_row, w_row = by_id.get(heuristic), by_id.get(winner_id)
    worst_agreement = max((abs(a - 1) for a in agreement), default=None)
    return {
        "case": case.name,
        "op": case.op,
        "shape": list(case.shape),
        "launch": results[0].launch,
        "max_slowdown": settings.max_slowdown,
        "table_size": len(sweep),
        "sweep": sweep,
        "fastest": fastest["name"],
        "fastest_ms": fastest["ms"],
        "fastest_joules": fastest["joules"],
        "trade": None
        if trade is None or not fastest["joules"]
        else {
            "name": trade["name"],
            "slowdown": trade["ms"] / fastest["ms"],
            "saving": 1 - trade["joules"] / fastest["joules"],
        },
        "heuristic": None if h_row is None else h_row["name"],
        "heuristic_joules": None if h_row is None else h_row["joules"],
        "winner": results[0].winner.name if w_row is None else w_row["name"],
        "winner_per_run": [r.winner.name for r in results],
        "winner_runs": times_chosen,
        "winner_joules_per_run": winner_joules,
        "winner_joules_spread": spread,
        "tuned_vs_heuristic": None
        if h_row is None or w_row is None or not h_row["joules"] or w_row["joules"] is None
        else 1 - w_row["joules"] / h_row["joules"],
        "fastest_per_run": [r.fastest.name for r in results],
        "saving_per_run": [r.energy_saving for r in results],
        "saving_median": saving,
        "slowdown_median": slowdown,
        "tuner_vs_sweep_ms": agreement,
        "tune_seconds": tune_s,
        "refined_per_run": [len(r.refined) for r in results],
        "cuts_per_run": [[] if r.protocol is None else list(r.protocol.cuts) for r in results],
        "warnings_per_run": [list(r.warnings) for r in results],
        "bar": {
            "saving_ok": saving is not None and saving >= BAR_SAVING,
            "slowdown_ok": slowdown is not None and slowdown <= BAR_SLOWDOWN,
            "spread_ok": spread is not None and spread < BAR_SPREAD,
            "tune_time_ok": max(tune_s) <= BAR_TUNE_S,
            "time_agreement_ok": worst_agreement is not None
            and worst_agreement <= BAR_TIME_AGREEMENT,
        },
    }


def write(
    out_dir: Path, summary: dict[str, Any], raw: dict[str, list[TuneResult]]
) -> tuple[Path, Path, list[Path]]:
    """tune_study-<part>-<stamp>.json (summary + every run's result), tune_study-<part>.md, PNGs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    part = summary["settings"]["part"]
    record = summary | {
        "results": {name: [r.to_dict() for r in results] for name, results in raw.items()}
    }
    json_path = out_dir / f"tune_study-{part}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    json_path.write_text(json.dumps(record, indent=1, default=str))
    md_path = out_dir / f"tune_study-{part}.md"
    md_path.write_text(markdown(summary))
    pngs = []
    if summary["objective"] == "energy":
        try:
            for case in summary["cases"]:
                pngs.append(plot_case(case, out_dir / f"tune_study-{case['case']}.png"))
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
