"""Time (and, with a meter, measure the energy of) every implementation of a case.

Protocol: one warm-up call per implementation (first-call costs such as JIT compilation and
packing stay out of the numbers), then ``rounds`` rounds; in each round the implementations run
in a fresh random order, each for a window of at least ``min_window_s`` (repeating the call), so
that machine noise and heat drift land on every implementation alike. Between windows the runner
pauses ``settle_s`` (untimed): thread pools busy-wait after a call (OpenBLAS spins ~0.1 s), and on a
small machine those spinning threads would otherwise steal the cores of whoever runs next.

A window function returns (seconds, joules or None without a meter, short): ``short`` says the
window was shorter than the meter's minimum, so its joules are rough — the report marks them.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from lepton.bench.case import Case, Impl

Reading = tuple[float, float | None, bool]  # seconds, joules, shorter than the meter's minimum
EnergyWindow = Callable[[Callable[[], None], str], Reading]


def _timed_window(fn: Callable[[], None], device: str) -> Reading:
    """Wall seconds of ``fn`` and ``None`` joules: the no-meter window."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start, None, False


def energy_window() -> tuple[EnergyWindow, str]:
    """A window function reading the best meter lepton.energy finds, and the meter's name."""
    try:
        from lepton.energy import measure
    except ImportError:
        return _timed_window, "none"

    def window(fn: Callable[[], None], device: str) -> Reading:
        with measure(device=device) as m:
            fn()
        r = m.result
        return r.seconds, r.joules, r.joules is not None and r.short_window

    with measure(device="cpu") as probe:
        pass
    return window, str(probe.result.source)


def _calls_per_window(impl: Impl, min_window_s: float) -> int:
    start = time.perf_counter()
    impl.run()
    if impl.sync:
        impl.sync()
    first = time.perf_counter() - start
    start = time.perf_counter()
    impl.run()
    if impl.sync:
        impl.sync()
    warm = max(time.perf_counter() - start, 1e-7)
    return max(1, math.ceil(min_window_s / warm)) if first < 60 else 1


def _repeat(impl: Impl, calls: int) -> Callable[[], None]:
    def body() -> None:
        for _ in range(calls):
            impl.run()
        if impl.sync:
            impl.sync()

    return body


def _summary(case: Case, seconds: list[float], joules: list[float], short: int) -> dict[str, Any]:
    median = statistics.median(seconds)
    # None: no meter. 0.0 is a reading (the counter did not move), not "no meter".
    energy = statistics.median(joules) if joules else None
    row: dict[str, Any] = {
        "seconds_median": median,
        "seconds_min": min(seconds),
        "seconds_max": max(seconds),
        "spread": (max(seconds) - min(seconds)) / median if median > 0 else 0.0,
        "samples": len(seconds),
        "joules_median": energy,
        "short_windows": short,
    }
    if case.work_ops:
        row["gops"] = case.work_ops / median / 1e9
        if energy is not None and energy > 0:
            row["gops_per_joule"] = case.work_ops / energy / 1e9
    if case.work_bytes:
        row["gb_per_s"] = case.work_bytes / median / 1e9
    if energy is not None:
        row["avg_watts"] = energy / median
    if case.rows:
        per_million = 1e6 / case.rows
        row["seconds_per_1m_rows"] = median * per_million
        row["joules_per_1m_rows"] = None if energy is None else energy * per_million
    return row


def run_case(
    case: Case,
    *,
    rounds: int = 5,
    min_window_s: float = 0.2,
    window: EnergyWindow = _timed_window,
    settle_s: float = 0.3,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure every implementation of ``case``; returns a JSON-ready dict."""
    rng = random.Random(seed)
    calls = {}
    for impl in case.impls:
        if progress:
            progress(f"{case.name}: warm-up {impl.name}")
        calls[impl.name] = _calls_per_window(impl, min_window_s)
    seconds: dict[str, list[float]] = {impl.name: [] for impl in case.impls}
    joules: dict[str, list[float]] = {impl.name: [] for impl in case.impls}
    short = dict.fromkeys(calls, 0)
    for r in range(rounds):
        order = list(case.impls)
        rng.shuffle(order)
        for impl in order:
            if progress:
                progress(f"{case.name}: round {r + 1}/{rounds} {impl.name}")
            n = calls[impl.name]
            time.sleep(settle_s)
            secs, joule, was_short = window(_repeat(impl, n), case.device)
            seconds[impl.name].append(secs / n)
            if joule is not None:
                joules[impl.name].append(joule / n)
                short[impl.name] += int(was_short)
    results = {
        impl.name: {"is_lepton": impl.is_lepton, "calls_per_window": calls[impl.name]}
        | _summary(case, seconds[impl.name], joules[impl.name], short[impl.name])
        for impl in case.impls
    }
    return {
        "suite": case.suite,
        "case": case.name,
        "params": case.params,
        "device": case.device,
        "work_ops": case.work_ops,
        "work_bytes": case.work_bytes,
        "rows": case.rows,
        "notes": case.notes,
        "skipped": case.skipped,
        "results": results,
        "ratios": ratios(results),
    }


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """For each lepton implementation: peer time ÷ lepton time (speed-up) and joules likewise."""
    out: dict[str, dict[str, float | None]] = {}
    leptons = [name for name, row in results.items() if row["is_lepton"]]
    for mine in leptons:
        for peer, row in results.items():
            if row["is_lepton"]:
                continue
            speedup = row["seconds_median"] / results[mine]["seconds_median"]
            mj, pj = results[mine]["joules_median"], row["joules_median"]
            both = mj is not None and pj is not None and mj > 0  # two readings, a divisor
            energy_ratio = pj / mj if both else None
            out[f"{mine} vs {peer}"] = {"speedup": speedup, "energy_ratio": energy_ratio}
    return out
