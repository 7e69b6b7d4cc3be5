"""The tuning run: measure every eligible configuration fairly, pick under the guarantee.

Part-time power sampling makes short windows lie and heat biases energy, so: idle power first
(while the device is cool), two warm-up calls per configuration, then two stages (settings and
budget arithmetic in ``protocol.Protocol``). SCREEN: every configuration, short windows in
interleaved rounds. REFINE: the contenders (and always the fastest), long windows in at least
three rounds, each round in a fresh random order so that no configuration always follows a hot
one. The winner and the guarantee are decided on the refine numbers by ``objectives.choose``.
"""

from __future__ import annotations

import datetime
import math
import random
import warnings
from typing import Any

from lepton.energy.base import Meter
from lepton.energy.devices import device_identity, normalize_device
from lepton.energy.measure import idle_power
from lepton.energy.meters import meter_for
from lepton.tune import objectives, registry
from lepton.tune.cache import TuningCache, key_parts, make_key
from lepton.tune.protocol import Plan, Protocol, fit_refine, select_contenders
from lepton.tune.result import ConfigResult, Trial, TuneResult
from lepton.tune.stages import Candidate, Progress, measure_rounds, warm_up


class TuneWarning(UserWarning):
    """The run went differently from its plan (over budget, too few configurations)."""


def _check_arguments(objective: str, max_slowdown: Any, budget_s: Any, rounds: Any) -> None:
    if objective not in objectives.OBJECTIVES:
        names = ", ".join(repr(o) for o in objectives.OBJECTIVES)
        msg = f"objective: expected one of {names}, got {objective!r}"
        raise ValueError(msg)
    for name, value in (("max_slowdown", max_slowdown), ("budget_s", budget_s)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            msg = f"{name}: expected a number, got {value!r}"
            raise TypeError(msg)
    if not max_slowdown >= 1.0:
        msg = (
            f"max_slowdown: expected a factor >= 1.0 (1.10: at most 10% slower), got {max_slowdown}"
        )
        raise ValueError(msg)
    if not budget_s > 0 or math.isinf(budget_s):
        msg = f"budget_s: expected a finite number of seconds > 0, got {budget_s}"
        raise ValueError(msg)
    if isinstance(rounds, bool) or not isinstance(rounds, int):
        msg = f"rounds: expected an int, got {rounds!r}"
        raise TypeError(msg)
    if rounds < 3:
        msg = f"rounds: expected >= 3 (a median and a spread need three windows), got {rounds}"
        raise ValueError(msg)


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        msg = f"{name}: expected a number of seconds, got {value!r}"
        raise TypeError(msg)
    if not 0 <= value < math.inf:
        msg = f"{name}: expected a finite number of seconds >= 0, got {value}"
        raise ValueError(msg)
    return float(value)


def _select_configs(table: list[dict[str, Any]], only: Any) -> list[dict[str, Any]]:
    if only is None:
        return table
    by_id = {int(c["id"]): c for c in table}
    wanted = list(only)
    unknown = [c for c in wanted if c not in by_id]
    if unknown or not wanted:
        msg = f"configs: expected ids from the table ({sorted(by_id)}), got {wanted}"
        raise ValueError(msg)
    return [by_id[c] for c in dict.fromkeys(wanted)]


def _resolve_meter(device: Any, meter: Meter | None, objective: str) -> tuple[str, Meter]:
    device = normalize_device(device)
    if meter is None:
        meter = meter_for(device)
    elif meter.device != device:
        msg = f"meter: it reads {meter.device}, but device is {device}"
        raise ValueError(msg)
    if objectives.needs_energy(objective) and not meter.has_energy:
        msg = (
            f"objective={objective!r} needs an energy meter and {device} has none "
            f"({meter.status()}); pass objective='time' (CLI: --objective time) to tune for "
            "speed alone"
        )
        raise ValueError(msg)
    return device, meter


def _window(meter: Meter, min_window_s: Any, objective: str, protocol: Protocol) -> float:
    """W, the unit of the stages' windows: the meter's minimum unless ``min_window_s`` says."""
    if min_window_s is None:
        return meter.min_window_s
    unit_s = _seconds(min_window_s, "min_window_s")
    if unit_s <= 0:
        msg = f"min_window_s: expected a number of seconds > 0, got {min_window_s}"
        raise ValueError(msg)
    shortest = protocol.refine_min_window * unit_s
    if objectives.needs_energy(objective) and shortest < meter.min_window_s:
        warnings.warn(
            TuneWarning(
                f"min_window_s={unit_s}: refine windows down to {shortest:.3g} s are shorter than "
                f"the {meter.source} meter's {meter.min_window_s} s: energy readings will be coarse"
            ),
            stacklevel=3,
        )
    return unit_s


def tune(
    op: str,
    problem: Any,
    objective: str = "energy",
    max_slowdown: float = 1.10,
    budget_s: float = 60.0,
    device: Any = "cpu",
    *,
    meter: Meter | None = None,
    rounds: int = 3,
    min_window_s: float | None = None,
    configs: Any = None,
    seed: int | None = None,
    cooldown_s: float = 0.0,
    protocol: Protocol | None = None,
    save: bool = True,
    cache: TuningCache | None = None,
    progress: Progress | None = None,
) -> TuneResult:
    """Measure ``op``'s configurations on ``problem`` and pick one; store it for ``config=None``.

    ``problem`` is the shape: ``{"m": 256, "n": 4096, "k": 4096}`` or ``(256, 4096, 4096)`` for
    a GEMM. ``objective`` is ``"energy"`` (J per call), ``"time"`` or ``"edp"`` (J·s).
    ``max_slowdown`` is the performance guarantee: the winner's median time is at most that
    factor above the fastest median, both from the refine stage of this run. ``budget_s`` bounds
    the run (``protocol.Protocol`` says how it is split); ``result.protocol`` records the settings
    used and what the budget cut (unscreened configs are also in ``result.skipped``).
    ``rounds`` is the refine stage's round count; ``min_window_s`` replaces the meter's minimum
    window W that the stages' windows are multiples of. ``cooldown_s`` idles the device before
    every window, for boards whose heat would otherwise carry from one configuration into the
    next. Energy objectives need a meter: without one, pass ``objective="time"``.
    """
    entry = registry.get(op)
    _check_arguments(objective, max_slowdown, budget_s, rounds)
    device, meter = _resolve_meter(device, meter, objective)
    unit_s = _window(meter, min_window_s, objective, protocol or Protocol())
    _seconds(cooldown_s, "cooldown_s")
    if protocol is not None and not isinstance(protocol, Protocol):
        msg = f"protocol: expected a lepton.tune.Protocol, got {protocol!r}"
        raise TypeError(msg)
    plan = (protocol or Protocol()).plan(
        unit_s=unit_s,
        budget_s=float(budget_s),
        rounds=rounds,
        cooldown_s=float(cooldown_s),
        counter_period_s=meter.counter_period_s if meter.has_energy else 0.0,
        energy=objectives.needs_energy(objective),
    )
    shape = registry.parse_shape(entry, problem)
    pool = _select_configs(entry.configs(device), configs)
    prepared = entry.prepare(shape, device, seed)
    rng = random.Random(seed)
    report = progress or (lambda phase, done, total: None)
    start = meter.clock()

    idle_watts = None
    if meter.has_energy:
        report("idle", 0, 1)
        idle = idle_power(meter=meter, seconds=plan.idle_s, sync=prepared.sync)
        idle_watts = idle.avg_watts
        report("idle", 1, 1)

    admitted, skipped = warm_up(pool, prepared, meter, plan, start, rng, report)
    if not admitted:
        msg = f"configs: no configuration of {entry.name} can run {shape}: {skipped}"
        raise ValueError(msg)
    plan.screened = len(admitted)
    if len(admitted) < len(pool) and any("budget" in why for why in skipped.values()):
        plan.cuts.append(
            f"screen: {len(admitted)} of {len(pool)} configs (random sample) fit "
            f"{plan.screen_budget_s:.0f} s; the others were not measured"
        )
    windows = {c.id: plan.screen_window_s for c in admitted}
    trials = measure_rounds("screen", admitted, windows, prepared, meter, plan, rng, report)
    plan.screen_s = meter.clock() - start
    screen_rows = _summarise(entry, prepared, objective, admitted, trials, idle_watts)

    contenders, why_not = select_contenders(screen_rows, float(max_slowdown), plan)
    plan.contenders = [r.name for r in contenders]
    by_id = {c.id: c for c in admitted}
    refined = _plan_refine([by_id[r.id] for r in contenders], plan, why_not)
    windows = dict.fromkeys((c.id for c in refined), plan.refine_window_used_s or 0.0)
    refine_start = meter.clock()
    refine_trials = measure_rounds("refine", refined, windows, prepared, meter, plan, rng, report)
    plan.refine_s = meter.clock() - refine_start
    for config_id, extra in refine_trials.items():
        trials[config_id].extend(extra)

    rows = _summarise(entry, prepared, objective, admitted, trials, idle_watts)
    winner, fastest = _decide(rows, float(max_slowdown), why_not)
    elapsed = meter.clock() - start
    if elapsed > 1.25 * budget_s:
        warnings.warn(
            TuneWarning(
                f"tuning took {elapsed:.1f} s, over budget_s={budget_s}: the warm-up and screen "
                "calls predicted shorter windows than the stages needed"
            ),
            stacklevel=2,
        )
    result = TuneResult(
        op=entry.name,
        shape=shape,
        dtype=prepared.dtype,
        device=device,
        device_name=device_identity(device)["name"],
        objective=objective,
        max_slowdown=float(max_slowdown),
        rows=rows,
        winner=winner,
        fastest=fastest,
        meter=meter.source if meter.has_energy else "none",
        idle_watts=idle_watts,
        rounds=rounds,
        window_s=plan.refine_window_used_s or 0.0,
        budget_s=float(budget_s),
        elapsed_s=elapsed,
        table_size=len(pool),
        skipped=skipped,
        efficiency_unit=entry.efficiency_unit,
        launch=prepared.launch(),
        protocol=plan,
    )
    if save:
        _store(result, cache or TuningCache())
    return result


def _plan_refine(
    contenders: list[Candidate], plan: Plan, why_not: dict[int, str]
) -> list[Candidate]:
    """The contenders that fit what the budget has left, and their window (into ``plan``)."""
    meter_left = plan.budget_s - plan.reserve_s - (plan.screen_s or 0.0)
    count, window_s = fit_refine([c.call_s for c in contenders], plan, meter_left)
    plan.refine_window_used_s = window_s
    for rank, cand in enumerate(contenders[count:], start=count + 1):
        why_not[cand.id] = (
            f"budget: contender {rank} of {len(contenders)} by screened objective, past what "
            f"{meter_left:.1f} s of refine could hold"
        )
    if count < len(contenders):
        plan.cuts.append(
            f"refine: {count} of {len(contenders)} contenders fit at "
            f"{window_s:.2f} s windows; cut {', '.join(c.name for c in contenders[count:])}"
        )
    elif window_s < plan.refine_window_s:
        plan.cuts.append(
            f"refine: windows shortened from {plan.refine_window_s:.2f} s to {window_s:.2f} s "
            f"to fit {count} contenders"
        )
    if window_s < plan.refine_min_window_s:
        plan.cuts.append(
            f"refine: {window_s:.2f} s windows are under the {plan.refine_min_window_s:.2f} s "
            "minimum (the budget is too small for this op): energy is coarse"
        )
    refined = contenders[:count]
    plan.refined = [c.name for c in refined]
    return refined


def _decide(
    rows: list[ConfigResult], max_slowdown: float, why_not: dict[int, str]
) -> tuple[ConfigResult, ConfigResult]:
    """Winner and fastest from the refined rows; screen-only rows say why they stopped there."""
    refined = [r for r in rows if r.refined]
    winner = objectives.choose(refined, max_slowdown)
    fastest = min(refined, key=lambda r: r.seconds)
    screen_fastest = min(r.seconds for r in rows)
    for row in rows:
        if not row.refined:
            row.eligible = row.seconds <= max_slowdown * screen_fastest
            row.note = why_not.get(row.id, "")
    return winner, fastest


def _summarise(
    entry: registry.TunableOp,
    prepared: registry.Problem,
    objective: str,
    admitted: list[Candidate],
    trials: dict[int, list[Trial]],
    idle_watts: float | None,
) -> list[ConfigResult]:
    """One row per configuration, by screened median time (the one number every row has)."""
    rows = []
    for cand in admitted:
        values = [objectives.trial_value(objective, t.seconds, t.joules) for t in trials[cand.id]]
        row = ConfigResult.summarise(
            cand.config, trials[cand.id], values, prepared.work_ops, entry.efficiency_scale
        )
        if idle_watts is not None and row.joules is not None:
            row.above_idle_j = row.joules - idle_watts * row.seconds
        rows.append(row)
    return sorted(rows, key=lambda r: (r.screen or r).seconds)


def _store(result: TuneResult, cache: TuningCache) -> None:
    parts = key_parts(result.op, result.shape, result.dtype, result.device, result.objective)
    key = make_key(parts)
    cache.put(
        key,
        {
            "config": result.winner.id,
            "config_name": result.winner.name,
            "op": result.op,
            "shape": list(result.shape),
            "objective": result.objective,
            "max_slowdown": result.max_slowdown,
            "ms": result.winner.ms,
            "joules": result.winner.joules,
            "fastest": result.fastest.name,
            "energy_saving": result.energy_saving,
            "meter": result.meter,
            "tuned_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "key": parts,
        },
    )
    result.cache_key = key
