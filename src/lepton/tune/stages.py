"""The stages' measuring loops: warm-up with budget admission, and interleaved rounds."""

from __future__ import annotations

import functools
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lepton.energy.base import Meter
from lepton.energy.measure import measure_repeated
from lepton.tune import registry
from lepton.tune.protocol import Plan, repetitions
from lepton.tune.result import Trial

# progress(phase, done, total): phase is "idle", "warm-up", "screen" or "refine"
Progress = Callable[[str, int, int], None]


@dataclass
class Candidate:
    config: dict[str, Any]
    call_s: float  # one run() of this config: from the warm-up, then from the screen

    @property
    def id(self) -> int:
        return int(self.config["id"])

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.config["id"]))


def warm_up(
    pool: list[dict[str, Any]],
    prepared: registry.Problem,
    meter: Meter,
    plan: Plan,
    start: float,
    rng: random.Random,
    report: Progress,
) -> tuple[list[Candidate], dict[str, str]]:
    """Run each configuration twice (first-call costs stay out), in random order, admitting
    configurations while their screen still fits ``plan.screen_budget_s``.

    A configuration costs about 2 calls of warm-up plus ``screen_rounds`` windows; the next
    one's call time is predicted from the median so far.
    """
    order = list(pool)
    rng.shuffle(order)
    admitted: list[Candidate] = []
    skipped: dict[str, str] = {}
    planned = 0.0  # seconds of screen already promised to admitted configurations
    deadline = start + plan.screen_budget_s
    for index, config in enumerate(order):
        name = str(config.get("name", config["id"]))
        guess = statistics.median(c.call_s for c in admitted) if admitted else 0.0
        predicted = 2 * guess + plan.screen_rounds * plan.trial_cost(plan.screen_window_s, guess)
        if admitted and meter.clock() + planned + predicted > deadline:
            skipped[name] = "not measured: outside the time budget"
            continue
        report("warm-up", index, len(order))
        try:
            _call(prepared, int(config["id"]))
            started = meter.clock()
            _call(prepared, int(config["id"]))
            call_s = max(meter.clock() - started, 1e-9)
        except ValueError as exc:  # the kernel cannot run this config on this shape
            skipped[name] = f"cannot run: {exc}"
            continue
        admitted.append(Candidate(config, call_s))
        planned += plan.screen_rounds * plan.trial_cost(plan.screen_window_s, call_s)
    report("warm-up", len(order), len(order))
    return admitted, skipped


def _call(prepared: registry.Problem, config_id: int) -> None:
    prepared.run(config_id)
    if prepared.sync is not None:
        prepared.sync()


def measure_rounds(
    stage: str,
    candidates: list[Candidate],
    windows: dict[int, float],
    prepared: registry.Problem,
    meter: Meter,
    plan: Plan,
    rng: random.Random,
    report: Progress,
) -> dict[int, list[Trial]]:
    """The stage's interleaved rounds, a fresh random order each; updates each candidate's
    ``call_s`` from what its windows measured (the next stage sizes its windows with it)."""
    rounds = plan.screen_rounds if stage == "screen" else plan.refine_rounds
    trials: dict[int, list[Trial]] = {c.id: [] for c in candidates}
    run_seconds: dict[int, list[float]] = {c.id: [] for c in candidates}
    total, done = rounds * len(candidates), 0
    report(stage, 0, total)
    for round_index in range(rounds):
        order = list(candidates)
        rng.shuffle(order)
        for position, cand in enumerate(order):
            if plan.cooldown_s > 0:
                meter.sleep(plan.cooldown_s)
            m = measure_repeated(
                functools.partial(prepared.run, cand.id),
                meter=meter,
                sync=prepared.sync,
                min_window_s=windows[cand.id],
                repetitions=repetitions(windows[cand.id], cand.call_s),
            )
            run_seconds[cand.id].append(m.seconds)
            calls = prepared.calls_per_run()
            if calls > 1:  # one run() replayed several calls: report one call
                m = m.per_repetition(calls)
            trials[cand.id].append(
                Trial(
                    round=round_index,
                    position=position,
                    seconds=m.seconds,
                    joules=m.joules,
                    repetitions=m.repetitions,
                    temperature_c=m.temperature_c,
                    start_temperature_c=m.start_temperature_c,
                    gap=m.gap,
                    stage=stage,
                )
            )
            done += 1
            report(stage, done, total)
    for cand in candidates:
        if run_seconds[cand.id]:
            cand.call_s = max(statistics.median(run_seconds[cand.id]), 1e-9)
    return trials
