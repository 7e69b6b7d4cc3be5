"""Hyper-parameter search where every candidate's accuracy, seconds and joules are recorded.

Selection ``"accuracy"`` takes the most accurate candidate. ``"accuracy_per_joule"`` takes the
candidate with the most accuracy per joule among those reaching ``min_accuracy``. Without an
energy meter there are no joules to divide by, and none are made up: the selection falls back,
explicitly, to ``"accuracy_per_second"`` (at constant power the two rank alike; the result's
``selection_used`` and ``note`` say that this happened).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

SELECTIONS = ("accuracy", "accuracy_per_joule", "accuracy_per_second")


@dataclass(frozen=True)
class Candidate:
    learning_rate: float
    l2: float
    n_components: int
    accuracy: float  # on the validation split
    seconds: float  # reduce + train + score of this candidate
    joules: float | None  # None: no meter
    epochs: int = 0
    short_window: bool = False  # measured over less than the meter's minimum window

    @property
    def accuracy_per_joule(self) -> float | None:
        return None if self.joules is None or self.joules <= 0 else self.accuracy / self.joules

    @property
    def accuracy_per_second(self) -> float | None:
        return None if self.seconds <= 0 else self.accuracy / self.seconds


@dataclass(frozen=True)
class SearchResult:
    candidates: tuple[Candidate, ...]
    selection: str  # what was asked
    selection_used: str  # what ranked the candidates (differs when it had to fall back)
    min_accuracy: float
    best: int  # index into candidates
    note: str = ""
    test_metrics: dict[str, float] = field(default_factory=dict)  # the chosen candidate on test

    @property
    def chosen(self) -> Candidate:
        return self.candidates[self.best]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["candidates"] = [
            {
                **asdict(c),
                "accuracy_per_joule": c.accuracy_per_joule,
                "accuracy_per_second": c.accuracy_per_second,
            }
            for c in self.candidates
        ]
        return out


def grid(
    learning_rates: Sequence[float], l2s: Sequence[float], n_components: Sequence[int]
) -> list[tuple[float, float, int]]:
    """Every (learning_rate, l2, n_components) combination, n_components outermost (so the
    PCA of one size is fitted once for all of its candidates)."""
    for name, values in (
        ("learning_rates", learning_rates),
        ("l2s", l2s),
        ("n_components", n_components),
    ):
        if len(values) == 0:
            msg = f"{name}: expected at least one value"
            raise ValueError(msg)
    return [(lr, l2, k) for k, lr, l2 in itertools.product(n_components, learning_rates, l2s)]


def select(
    candidates: Sequence[Candidate], selection: str, min_accuracy: float
) -> tuple[int, str, str]:
    """(index of the winner, selection actually used, note) — the rule in the module docstring.

    Ties in the ranked quantity go to the cheaper candidate (joules if known, else seconds).
    """
    if selection not in SELECTIONS:
        msg = f"selection: expected one of {', '.join(SELECTIONS)}, got {selection!r}"
        raise ValueError(msg)
    if not 0.0 <= min_accuracy <= 1.0:
        msg = f"min_accuracy: expected a fraction in [0, 1], got {min_accuracy!r}"
        raise ValueError(msg)
    if not candidates:
        msg = "candidates: the search produced no candidate"
        raise ValueError(msg)
    notes = []
    used = selection
    if used == "accuracy_per_joule" and any(c.joules is None for c in candidates):
        used = "accuracy_per_second"
        notes.append(
            "no energy meter: accuracy_per_joule needs joules, so candidates were ranked by "
            "accuracy per second instead"
        )
    elif used == "accuracy_per_joule" and any(c.joules <= 0 for c in candidates):  # type: ignore[operator]
        used = "accuracy_per_second"
        notes.append(
            "the meter read 0 J for a candidate (its window was shorter than the counter's "
            "resolution), so candidates were ranked by accuracy per second instead"
        )
    pool = range(len(candidates))
    if used != "accuracy":
        eligible = [i for i in pool if candidates[i].accuracy >= min_accuracy]
        if eligible:
            pool = eligible
        else:
            used = "accuracy"
            notes.append(
                f"no candidate reached min_accuracy {min_accuracy:.3f}: chose the most accurate"
            )

    def cost(c: Candidate) -> float:
        return c.joules if c.joules is not None else c.seconds

    def rank(i: int) -> tuple[float, float]:
        c = candidates[i]
        value = getattr(c, used)
        return (value if value is not None else float("-inf"), -cost(c))

    best = max(pool, key=rank)
    return best, used, "; ".join(notes)
