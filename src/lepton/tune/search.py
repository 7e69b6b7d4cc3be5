"""The tuning protocol: measure every eligible configuration fairly, pick under the guarantee.

Part-time power sampling makes short windows lie and heat biases energy, so: idle power first
(while the device is cool), one warm-up per configuration, then at least three rounds in which
every configuration gets a window of at least the meter's minimum, in a fresh random order each
round so that no configuration always follows a hot one. Medians and spreads per configuration;
the winner is chosen by ``objectives.choose``.
"""

from __future__ import annotations

import datetime
import functools
import math
import random
import statistics
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lepton.energy.base import Meter
from lepton.energy.devices import device_identity, normalize_device
from lepton.energy.measure import idle_power, measure_repeated
from lepton.energy.meters import meter_for
from lepton.tune import objectives, registry
from lepton.tune.cache import TuningCache, key_parts, make_key
from lepton.tune.result import ConfigResult, Trial, TuneResult

# progress(phase, done, total): phase is "idle", "warm-up" or "measure"
Progress = Callable[[str, int, int], None]


class TuneWarning(UserWarning):
    """The run went differently from its plan (over budget, too few configurations)."""


@dataclass(frozen=True)
class _Plan:
    window_s: float  # shortest window per trial
    rounds: int
    cooldown_s: float  # idle before each window
    deadline: float  # meter clock time by which the run should end

    def trial_cost(self, call_s: float, repetitions: int) -> float:
        return self.cooldown_s + call_s * repetitions


@dataclass
class _Candidate:
    config: dict[str, Any]
    call_s: float  # one call, from the warm-up
    repetitions: int  # calls per window

    @property
    def id(self) -> int:
        return int(self.config["id"])

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.config["id"]))


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


def _window(meter: Meter, min_window_s: Any, objective: str) -> float:
    if min_window_s is None:
        return meter.min_window_s
    window_s = _seconds(min_window_s, "min_window_s")
    if objectives.needs_energy(objective) and window_s < meter.min_window_s:
        warnings.warn(
            TuneWarning(
                f"min_window_s={window_s} is shorter than the {meter.source} meter's "
                f"{meter.min_window_s} s: energy readings will be coarse"
            ),
            stacklevel=3,
        )
    return window_s


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
    save: bool = True,
    cache: TuningCache | None = None,
    progress: Progress | None = None,
) -> TuneResult:
    """Measure ``op``'s configurations on ``problem`` and pick one; store it for ``config=None``.

    ``problem`` is the shape: ``{"m": 256, "n": 4096, "k": 4096}`` or ``(256, 4096, 4096)`` for
    a GEMM. ``objective`` is ``"energy"`` (J per call), ``"time"`` or ``"edp"`` (J·s).
    ``max_slowdown`` is the performance guarantee: the winner's median time is at most that
    factor above the fastest median of this run. ``budget_s`` bounds the run; when the table
    does not fit, a random sample of it is measured (``result.skipped`` says which were not).
    ``cooldown_s`` idles the device before every window, for boards whose heat would otherwise
    carry from one configuration into the next.
    Energy objectives need a meter: without one, pass ``objective="time"``.
    """
    entry = registry.get(op)
    _check_arguments(objective, max_slowdown, budget_s, rounds)
    device, meter = _resolve_meter(device, meter, objective)
    window_s = _window(meter, min_window_s, objective)
    _seconds(cooldown_s, "cooldown_s")
    shape = registry.parse_shape(entry, problem)
    pool = _select_configs(entry.configs(device), configs)
    prepared = entry.prepare(shape, device, seed)
    rng = random.Random(seed)
    report = progress or (lambda phase, done, total: None)
    start = meter.clock()

    idle_watts = None
    if meter.has_energy:
        report("idle", 0, 1)
        # Measured first, while the device is cool; a share of the budget, at most one window.
        idle = idle_power(meter=meter, seconds=min(window_s, 0.05 * budget_s), sync=prepared.sync)
        idle_watts = idle.avg_watts
        report("idle", 1, 1)

    plan = _Plan(window_s, rounds, cooldown_s, start + budget_s)
    admitted, skipped = _warm_up(pool, prepared, meter, plan, rng, report)
    if not admitted:
        msg = f"configs: no configuration of {entry.name} can run {shape}: {skipped}"
        raise ValueError(msg)
    trials = _measure_rounds(admitted, prepared, meter, plan, rng, report)
    rows = _summarise(entry, prepared, objective, admitted, trials, idle_watts)
    winner = objectives.choose(rows, float(max_slowdown))
    elapsed = meter.clock() - start
    if elapsed > 1.25 * budget_s:
        warnings.warn(
            TuneWarning(
                f"tuning took {elapsed:.1f} s, over budget_s={budget_s}: the warm-up calls "
                "predicted shorter windows than the rounds needed"
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
        fastest=rows[0],
        meter=meter.source if meter.has_energy else "none",
        idle_watts=idle_watts,
        rounds=rounds,
        window_s=window_s,
        budget_s=float(budget_s),
        elapsed_s=elapsed,
        table_size=len(pool),
        skipped=skipped,
        efficiency_unit=entry.efficiency_unit,
        launch=prepared.launch(),
    )
    if save:
        _store(result, cache or TuningCache())
    return result


def _warm_up(
    pool: list[dict[str, Any]],
    prepared: registry.Problem,
    meter: Meter,
    plan: _Plan,
    rng: random.Random,
    report: Progress,
) -> tuple[list[_Candidate], dict[str, str]]:
    """Run each configuration twice (first-call costs stay out), in random order, admitting
    configurations while the planned rounds still fit the budget.

    A configuration costs about 2 calls of warm-up plus ``rounds`` windows of
    max(window, one call). The next one's call time is predicted from the median so far.
    """
    order = list(pool)
    rng.shuffle(order)
    admitted: list[_Candidate] = []
    skipped: dict[str, str] = {}
    planned = 0.0  # seconds of rounds already promised to admitted configurations
    for index, config in enumerate(order):
        name = str(config.get("name", config["id"]))
        guess = statistics.median(c.call_s for c in admitted) if admitted else 0.0
        predicted = 2 * guess + plan.rounds * plan.trial_cost(guess, _repetitions(plan, guess))
        if admitted and meter.clock() + planned + predicted > plan.deadline:
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
        repetitions = _repetitions(plan, call_s)
        admitted.append(_Candidate(config, call_s, repetitions))
        planned += plan.rounds * plan.trial_cost(call_s, repetitions)
    report("warm-up", len(order), len(order))
    return admitted, skipped


def _repetitions(plan: _Plan, call_s: float) -> int:
    return max(1, math.ceil(plan.window_s / call_s)) if call_s > 0 else 1


def _call(prepared: registry.Problem, config_id: int) -> None:
    prepared.run(config_id)
    if prepared.sync is not None:
        prepared.sync()


def _measure_rounds(
    admitted: list[_Candidate],
    prepared: registry.Problem,
    meter: Meter,
    plan: _Plan,
    rng: random.Random,
    report: Progress,
) -> dict[int, list[Trial]]:
    trials: dict[int, list[Trial]] = {c.id: [] for c in admitted}
    total, done = plan.rounds * len(admitted), 0
    report("measure", 0, total)
    for round_index in range(plan.rounds):
        order = list(admitted)
        rng.shuffle(order)
        for position, cand in enumerate(order):
            if plan.cooldown_s > 0:
                meter.sleep(plan.cooldown_s)
            m = measure_repeated(
                functools.partial(prepared.run, cand.id),
                meter=meter,
                sync=prepared.sync,
                min_window_s=plan.window_s,
                repetitions=cand.repetitions,
            )
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
                )
            )
            done += 1
            report("measure", done, total)
    return trials


def _summarise(
    entry: registry.TunableOp,
    prepared: registry.Problem,
    objective: str,
    admitted: list[_Candidate],
    trials: dict[int, list[Trial]],
    idle_watts: float | None,
) -> list[ConfigResult]:
    """One row per configuration, fastest first."""
    rows = []
    for cand in admitted:
        values = [objectives.trial_value(objective, t.seconds, t.joules) for t in trials[cand.id]]
        row = ConfigResult.summarise(
            cand.config, trials[cand.id], values, prepared.work_ops, entry.efficiency_scale
        )
        if idle_watts is not None and row.joules is not None:
            row.above_idle_j = row.joules - idle_watts * row.seconds
        rows.append(row)
    return sorted(rows, key=lambda r: r.seconds)


def _store(result: TuneResult, cache: TuningCache) -> None:
    parts = key_parts(result.op, result.shape, result.dtype, result.device)
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
