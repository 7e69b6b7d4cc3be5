"""What the tuner minimises, and how it picks a winner under the performance guarantee."""

from __future__ import annotations

from lepton.tune.result import ConfigResult

OBJECTIVES = ("energy", "time", "edp")
_NEEDS_ENERGY = {"energy": True, "time": False, "edp": True}


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


def choose(rows: list[ConfigResult], max_slowdown: float) -> ConfigResult:
    """Mark eligibility, ties and the winner on ``rows``; return the winner.

    Eligible: median time ≤ ``max_slowdown`` × the fastest median (the guarantee). Among them
    the lowest objective median is best; configurations whose measured objective range reaches
    the best one's range are within the noise, and of those the fastest wins — a tie never
    buys energy with time.
    """
    if not rows:
        msg = "no configuration was measured"
        raise ValueError(msg)
    fastest = min(rows, key=lambda r: r.seconds)
    limit = max_slowdown * fastest.seconds
    for row in rows:
        row.eligible = row.seconds <= limit
        row.tied = row.chosen = False
    eligible = [r for r in rows if r.eligible]
    best = min(eligible, key=lambda r: (r.objective, r.seconds))
    ties = [r for r in eligible if r.objective_low <= best.objective_high]
    for row in ties:
        row.tied = True
    winner = min(ties, key=lambda r: (r.seconds, r.objective))
    winner.chosen = True
    return winner
