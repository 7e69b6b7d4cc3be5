"""What a finished tuning run is worth: its warnings, whether it is stored, the stored entry.

A result is not stored when a doubt touches the choice: fewer contenders refined than the
protocol's minimum (energy objectives), energy windows under the meter's minimum, a winner or a
fastest config no window of which measured the kernel, or whose meter disagreed with itself.
The stored entry keeps how the run measured (seed, budget, cuts, skipped configs, warnings), so
that a re-tune can be compared with it or repeat it.
"""

from __future__ import annotations

import datetime

from lepton.tune.cache import TuningCache, key_parts, make_key
from lepton.tune.result import TuneResult


def judge(result: TuneResult, contenders: int, energy: bool) -> None:
    """Fill ``result.warnings`` and ``cacheable``; flag rows whose windows were doubtful."""
    plan = result.protocol
    assert plan is not None
    says, stores = result.warnings, True
    wanted = min(plan.min_refined, contenders)
    if energy and len(result.refined) < wanted:  # time: the screen's time already ranks them
        says.append(
            f"only {len(result.refined)} of {contenders} contenders refined: the budget "
            f"({result.budget_s:.0f} s) is too small to compare them"
        )
        stores = False
    if energy and result.window_s < plan.unit_s and result.refined:
        says.append(
            f"refine windows of {result.window_s:.2f} s are under the meter's {plan.unit_s:.2f} s:"
            " the joules are coarse"
        )
        stores = False
    for row in result.rows:
        if not row.decidable:
            row.note = (row.note + "; " if row.note else "") + "every window excluded"
        if row.flags:
            row.note = (row.note + "; " if row.note else "") + "; ".join(row.flags)
    excluded = [
        t.excluded for r in result.rows for t in r.trials if t.excluded and t.stage == r.stage
    ]
    if excluded:
        says.append(f"{len(excluded)} deciding windows excluded ({excluded[0]}, ...)")
    for role, row in (("winner", result.winner), ("fastest", result.fastest)):
        if not row.decidable:
            says.append(f"no window of the {role} ({row.name}) measured the kernel")
            stores = False
        elif row.flags and energy:
            says.append(f"the {role}'s ({row.name}) meter readings are doubtful: {row.flags[0]}")
            stores = False
    if result.elapsed_s > plan.deadline_s:
        says.append(
            f"took {result.elapsed_s:.1f} s of a {result.budget_s:.0f} s budget (a call outran "
            "the deadline)"
        )
    result.cacheable = stores


def store(result: TuneResult, cache: TuningCache) -> None:
    parts = key_parts(result.op, result.shape, result.dtype, result.device, result.objective)
    key = make_key(parts)
    plan = result.protocol
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
            "heuristic": result.heuristic,
            "meter": result.meter,
            "read_cost_s": result.read_cost_s,
            # how it was measured, so that a re-tune can be compared with (or repeat) this one
            "seed": result.seed,
            "budget_s": result.budget_s,
            "elapsed_s": result.elapsed_s,
            "launch": result.launch,
            "refined": [] if plan is None else list(plan.refined),
            "cuts": [] if plan is None else list(plan.cuts),
            "skipped": dict(result.skipped),
            "warnings": list(result.warnings),
            "tuned_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "key": parts,
        },
    )
    result.cache_key = key
