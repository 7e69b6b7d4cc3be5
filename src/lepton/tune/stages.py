"""The stages' measuring loops: warm-up with per-config admission, and interleaved rounds.

Every window is measured by ``lepton.energy.measure.measure_window``: the calls and nothing
else on the launching thread, device time and busy fraction from the problem's timer (CUDA
events on a GPU). A window is started only when the budget can hold it (``Budget``), and its
calls stop at the hard deadline. A window whose device was idle for more than 5% of it, or
whose meter disagreed with itself, is measured once more; if it still is, an idle one is
excluded and a disagreeing one kept with a flag, each with the reason.
"""

from __future__ import annotations

import functools
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lepton.energy.base import Meter
from lepton.energy.measure import measure_window
from lepton.energy.measurement import Measurement
from lepton.energy.timing import DeviceTimer, HostTimer
from lepton.tune.problem import Problem
from lepton.tune.protocol import Plan, repetitions
from lepton.tune.rows import Trial

# progress(phase, done, total): phase is "idle", "warm-up", "screen" or "refine"
Progress = Callable[[str, int, int], None]

# A warm-up call more than this × max_slowdown slower than the fastest one is not expected to be
# screened when the budget is short (it is screened last, if at all).
PLAUSIBLE = 2.0


@dataclass
class Candidate:
    config: dict[str, Any]
    call_s: float  # one run() of this config (host clock): from the warm-up, then each stage

    @property
    def id(self) -> int:
        return int(self.config["id"])

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.config["id"]))


class Budget:
    """The run's clock: ``budget_s`` from ``start``, and the hard deadline past it."""

    def __init__(self, clock: Callable[[], float], plan: Plan) -> None:
        self.clock = clock
        self.plan = plan
        self.start = clock()

    @property
    def elapsed(self) -> float:
        return self.clock() - self.start

    @property
    def left(self) -> float:
        return self.plan.budget_s - self.elapsed

    @property
    def hard_at(self) -> float:
        """Clock time no call may run past (``plan.deadline_s`` after the start)."""
        return self.start + self.plan.deadline_s

    def holds(self, seconds: float, *, within: float | None = None) -> bool:
        """Whether ``seconds`` more end inside the budget (or ``within`` s of the start)."""
        end = self.plan.budget_s if within is None else within
        return self.elapsed + seconds <= end


def warm_up(
    pool: list[dict[str, Any]],
    prepared: Problem,
    meter: Meter,
    plan: Plan,
    budget: Budget,
    rng: random.Random,
    report: Progress,
    max_slowdown: float,
) -> tuple[list[Candidate], dict[str, str]]:
    """Run configurations twice each (first-call costs stay out), in random order; the second
    call is that configuration's own cost. Then admit them to the screen from the cheapest to
    screen up, while their screens fit the screen's share of the budget: one slow configuration
    cannot crowd out the others (and could hardly meet the guarantee). ``skipped`` says for
    each one left out why, with its call time where it was measured.

    Warming stops when the share could not hold one more configuration: what the plausible
    ones warmed so far (within ``PLAUSIBLE`` × ``max_slowdown`` of the fastest call) will screen
    for, plus one more at their median warm-up and screen cost.
    """
    order = list(pool)
    rng.shuffle(order)
    warmed: list[Candidate] = []
    spent: dict[int, float] = {}  # seconds each warm-up took
    skipped: dict[str, str] = {}
    share = plan.screen_budget_s

    def screen_cost(cand: Candidate) -> float:
        return plan.screen_rounds * plan.trial_cost(plan.screen_window_s, cand.call_s)

    for index, config in enumerate(order):
        name = str(config.get("name", config["id"]))
        if warmed:
            fastest = min(c.call_s for c in warmed)
            plausible = [c for c in warmed if c.call_s <= PLAUSIBLE * max_slowdown * fastest]
            planned = sum(screen_cost(c) for c in plausible)
            next_one = statistics.median(screen_cost(c) + spent[c.id] for c in plausible)
            if not budget.holds(planned + next_one, within=share):
                skipped[name] = (
                    "not measured: the screen's share of the budget "
                    f"({share:.1f} s) was taken by the configs warmed before it"
                )
                continue
        report("warm-up", index, len(order))
        started = meter.clock()
        try:
            _call(prepared, int(config["id"]))
            second = meter.clock()
            _call(prepared, int(config["id"]))
        except ValueError as exc:  # the kernel cannot run this config on this shape
            skipped[name] = f"cannot run: {exc}"
            continue
        cand = Candidate(config, max(meter.clock() - second, 1e-9))
        spent[cand.id] = meter.clock() - started
        warmed.append(cand)
    report("warm-up", len(order), len(order))
    admitted: list[Candidate] = []
    planned = 0.0
    for cand in sorted(warmed, key=lambda c: c.call_s):
        cost = screen_cost(cand)
        if budget.holds(planned + cost, within=share):
            admitted.append(cand)
            planned += cost
        else:
            left = max(share - budget.elapsed - planned, 0.0)
            skipped[cand.name] = (
                f"not measured: its screen would take {cost:.2f} s ({cand.call_s * 1e3:.3g} ms "
                f"a call) and {left:.2f} s of the screen's share of the budget were left"
            )
    order_ids = [int(c["id"]) for c in order]
    admitted.sort(key=lambda c: order_ids.index(c.id))  # measured in the random order
    return admitted, skipped


def _call(prepared: Problem, config_id: int) -> None:
    prepared.run(config_id)
    if prepared.sync is not None:
        prepared.sync()


def measure_rounds(
    stage: str,
    candidates: list[Candidate],
    windows: dict[int, float],
    prepared: Problem,
    meter: Meter,
    plan: Plan,
    budget: Budget,
    rng: random.Random,
    report: Progress,
) -> dict[int, list[Trial]]:
    """The stage's interleaved rounds, a fresh random order each; a window the budget cannot
    hold is cut (``plan.cuts`` says how many). Updates each candidate's ``call_s`` from what
    its windows measured (the next stage sizes its windows with it)."""
    rounds = plan.screen_rounds if stage == "screen" else plan.refine_rounds
    trials: dict[int, list[Trial]] = {c.id: [] for c in candidates}
    run_seconds: dict[int, list[float]] = {c.id: [] for c in candidates}
    timer = prepared.timer or HostTimer()
    total, done, cut = rounds * len(candidates), 0, 0
    report(stage, 0, total)
    for round_index in range(rounds):
        order = list(candidates)
        rng.shuffle(order)
        for position, cand in enumerate(order):
            m = _measure(cand, windows[cand.id], prepared, meter, plan, budget, timer)
            done += 1
            report(stage, done, total)
            if m is None:
                cut += 1
                continue
            # the next windows (this stage's and the next's) are planned from what this took
            run_seconds[cand.id].append(m.window_s / m.repetitions)
            cand.call_s = max(statistics.median(run_seconds[cand.id]), 1e-9)
            trials[cand.id].append(_trial(m, prepared, stage, round_index, position))
    if cut:
        plan.cuts.append(
            f"{stage}: {cut} of {total} windows not measured: the budget's end came first"
        )
    return trials


def _measure(
    cand: Candidate,
    window_s: float,
    prepared: Problem,
    meter: Meter,
    plan: Plan,
    budget: Budget,
    timer: DeviceTimer,
) -> Measurement | None:
    """One window of ``cand`` (measured again once if it is doubtful), or ``None`` when the
    budget cannot hold it."""
    cost = plan.trial_cost(window_s, cand.call_s)
    m = None
    for _attempt in range(2):
        if not budget.holds(cost):
            break
        if plan.cooldown_s > 0:
            meter.sleep(plan.cooldown_s)
        if m is not None:
            plan.remeasured += 1
        m = measure_window(
            functools.partial(prepared.run, cand.id),
            meter,
            wait=prepared.sync,
            timer=timer,
            window_s=window_s,
            repetitions=repetitions(window_s, cand.call_s),
            deadline=budget.hard_at,
        )
        if not m.problems() or m.truncated:
            break
    return m


def _trial(m: Measurement, prepared: Problem, stage: str, round_index: int, position: int) -> Trial:
    calls = prepared.calls_per_run()
    if calls > 1:  # one run() replayed several calls: report one call
        m = m.per_repetition(calls)
    excluded = []
    if not m.busy:
        excluded.append(f"device busy {m.busy_fraction:.0%} of the window")
    if m.truncated:
        excluded.append("cut short by the budget's deadline")
    flag = ""
    if m.disagrees:
        flag = f"counter vs power samples {m.gap:+.0%} (beyond ±{m.gap_limit:.0%})"
    return Trial(
        round=round_index,
        position=position,
        seconds=m.seconds,
        joules=m.joules,
        repetitions=m.repetitions,
        temperature_c=m.temperature_c,
        start_temperature_c=m.start_temperature_c,
        gap=m.gap,
        stage=stage,
        gap_limit=m.gap_limit,
        joules_from=m.joules_from,
        busy_fraction=m.busy_fraction,
        window_s=m.window_s,
        excluded="; ".join(excluded),
        flag=flag,
    )
