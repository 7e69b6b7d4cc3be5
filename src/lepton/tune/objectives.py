"""What the tuner minimises, who reaches the refine stage, and how the winner is picked.

Both decisions compare **medians** with a margin made from the measured noise, never the lowest
window of one config against the highest of another: with three windows the range is the two
most extreme readings, so one noisy window decided ties (a config 13% cheaper lost that way).
The noise of a config is its relative median absolute deviation (``rows.relative_mad``), which
one outlier among three windows does not move.
"""

from __future__ import annotations

from lepton.tune.protocol import Plan
from lepton.tune.rows import ConfigResult

OBJECTIVES = ("energy", "time", "edp")
_NEEDS_ENERGY = {"energy": True, "time": False, "edp": True}

# Two refined configs are tied when their objective medians differ by less than the larger of
# TIE_FLOOR and TIE_NOISE × the larger noise (relative MAD) of the two; a tie goes to the faster.
TIE_FLOOR = 0.01
TIE_NOISE = 2.0


def needs_energy(objective: str) -> bool:
    return _NEEDS_ENERGY[objective]


def trial_value(objective: str, seconds: float, joules: float | None) -> float:
    """One trial's objective: joules, seconds, or the energy-delay product (J·s) per call."""
    if objective == "time":
        return seconds
    if joules is None:
        msg = f"objective {objective!r} needs joules, and this trial has none"
        raise ValueError(msg)
    return joules if objective == "energy" else joules * seconds


def tie_margin(a: ConfigResult, b: ConfigResult) -> float:
    """The relative difference of objective medians under which ``a`` and ``b`` are tied."""
    return max(TIE_FLOOR, TIE_NOISE * max(a.objective_noise, b.objective_noise))


def choose(rows: list[ConfigResult], max_slowdown: float) -> ConfigResult:
    """Mark eligibility, ties and the winner on ``rows``; return the winner.

    Eligible: median time ≤ ``max_slowdown`` × the fastest median (the guarantee), and at least
    one window that measured the kernel (``ConfigResult.decidable``; if no config has one, all
    are considered). Among them the lowest objective median is best; configurations whose median
    is within ``tie_margin`` of it are tied, and of those the fastest wins — a tie never buys
    energy with time.
    """
    if not rows:
        msg = "no configuration was measured"
        raise ValueError(msg)
    usable = [r for r in rows if r.decidable] or rows
    fastest = min(usable, key=lambda r: r.seconds)
    limit = max_slowdown * fastest.seconds
    for row in rows:
        row.eligible = row.seconds <= limit
        row.tied = row.chosen = False
    eligible = [r for r in usable if r.eligible]
    best = min(eligible, key=lambda r: (r.objective, r.seconds))
    ties = [r for r in eligible if r.objective <= best.objective * (1 + tie_margin(r, best))]
    for row in ties:
        row.tied = len(ties) > 1
    winner = min(ties, key=lambda r: (r.seconds, r.objective))
    winner.chosen = True
    return winner


def screen_margin(row: ConfigResult, best: ConfigResult, plan: Plan) -> float:
    """How far above the best's screened objective ``row`` may be and still contend.

    ``plan.objective_margin``, plus twice the larger relative half-range of the two configs'
    screen windows (the screen's own noise), plus the counter's resolution for a config whose
    screen energy came from the edges of a coarse counter (2 periods / window).
    """
    margin = plan.objective_margin
    for r in (row, best):
        stats = r.screen or r.refine
        if stats is None:
            continue
        half_range = (stats.objective_high - stats.objective_low) / 2 / max(stats.objective, 1e-300)
        coarse = 0.0
        if "counter" in stats.joules_from.split("+") and plan.counter_period_s > 0:
            coarse = 2 * plan.counter_period_s / max(stats.window_s, 1e-9)
        margin = max(margin, plan.objective_margin + 2 * half_range + coarse)
    return margin


def select_contenders(
    rows: list[ConfigResult], max_slowdown: float, plan: Plan
) -> tuple[list[ConfigResult], dict[int, str]]:
    """Screened rows -> (contenders in refine order; why the others were not).

    A config contends when its screened median time is within ``max_slowdown`` × the fastest
    × (1 + ``plan.time_margin``) and its screened objective median within ``screen_margin`` of
    the best config that meets the guarantee on the screen. Refine order: the fastest (the
    guarantee's reference), then the configs inside the guarantee by screened objective, then
    those only inside the time margin — so refine slots go first to configs that can win, and
    five cheap configs just past the guarantee cannot push out one inside it.
    """
    fastest = min(rows, key=lambda r: (r.seconds, r.objective))
    guarantee = max_slowdown * fastest.seconds
    time_limit = guarantee * (1 + plan.time_margin)
    inside = [r for r in rows if r.seconds <= guarantee]
    best = min(inside, key=lambda r: (r.objective, r.seconds))
    why: dict[int, str] = {}
    meets, edge = [], []
    for row in rows:
        if row is fastest:
            continue
        margin = screen_margin(row, best, plan)
        if row.seconds > time_limit:
            why[row.id] = (
                f"screen: {row.seconds / fastest.seconds:.3f}× the fastest's time, over "
                f"{max_slowdown:.2f}× (+{plan.time_margin:.0%} margin)"
            )
        elif row.objective > best.objective * (1 + margin):
            why[row.id] = (
                f"screen: objective {row.objective / best.objective:.3f}× the best's, "
                f"over 1 + {margin:.2f} margin"
            )
        else:
            (meets if row.seconds <= guarantee else edge).append(row)
    order = lambda r: (r.objective, r.seconds)  # noqa: E731
    return [fastest, *sorted(meets, key=order), *sorted(edge, key=order)], why
