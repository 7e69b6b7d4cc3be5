"""The tuning protocol's settings and budget arithmetic, declared once.

A run has two stages. SCREEN measures every configuration with short windows: time is precise
from them (hundreds of calls), energy only roughly (a counter that moves every 100 ms is off by up
to ±0.1 s of power at each end of a 0.25 s window). REFINE re-measures only the contenders, with
long windows in interleaved rounds, and decides the winner and the guarantee on those numbers.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from lepton.tune.result import ConfigResult


@dataclass(frozen=True)
class Protocol:
    """How a tuning run spends ``budget_s``; windows are multiples of the meter's minimum ``W``.

    ======== ================================================================================
    idle     one window of min(W, ``idle_share`` × budget) while the device is cool
    warm-up  two calls per configuration, in random order (first-call costs stay out)
    SCREEN   every configuration: ``screen_rounds`` interleaved rounds of ``screen_window`` × W;
             idle + warm-up + screen stay within ``screen_share`` × budget (a larger table is
             sampled at random and the result lists what was left out)
    REFINE   contenders (below): ``rounds`` (≥ 3) interleaved rounds, each window
             ``refine_window`` × W, shortened down to ``refine_min_window`` × W when the
             contenders do not fit what is left, then contenders cut from the worst screened
             objective up; the fastest configuration is always refined
    reserve  ``reserve`` × budget for syncs, graph recording and Python between windows
    ======== ================================================================================

    Contenders: screened median time ≤ max_slowdown × the fastest × (1 + ``time_margin``), and
    screened objective range reaching within ``objective_margin`` of the best config that meets the
    guarantee on the screen; for energy the margin grows by the counter's resolution,
    2 × period / screen window (NVML: 2 × 0.1 / 0.25 = 0.8: the screen ranks, the refine decides).

    NVML (W = 1 s), budget 60 s, 24 configs: idle 1 s; warm-up 48 calls (≈ 0.2 s at 8192³,
    ≈ 2.5 s at M=256 with CUDA graphs recorded); screen 24 × 2 × 0.25 s = 12 s; reserve 3 s;
    refine gets ≈ 60 − 3 − 1 − 2.5 − 12 ≈ 41 s: 4 contenders × 3 rounds × 3 s = 36 s, or
    5 contenders with windows shortened to 2.7 s (5 × 3 × 2.7 s ≈ 41 s); a sixth would need
    6 × 3 × 2.5 s = 45 s and is cut. Total ≈ 50–57 s. (On a model of NVML, 100 ms ticks and
    10% noise per tick, 2 s windows left the winner's joules ±4% between runs, 2.5–3 s ±2%.)
    """

    screen_rounds: int = 2
    screen_window: float = 0.25
    refine_window: float = 3.0
    refine_min_window: float = 2.5
    time_margin: float = 0.03
    objective_margin: float = 0.05
    idle_share: float = 0.05
    screen_share: float = 0.5
    reserve: float = 0.05

    def __post_init__(self) -> None:
        if isinstance(self.screen_rounds, bool) or not isinstance(self.screen_rounds, int):
            msg = f"protocol.screen_rounds: expected an int, got {self.screen_rounds!r}"
            raise TypeError(msg)
        if self.screen_rounds < 1:
            msg = f"protocol.screen_rounds: expected >= 1, got {self.screen_rounds}"
            raise ValueError(msg)
        for name in ("screen_window", "refine_window", "refine_min_window"):
            value = getattr(self, name)
            if not _number(value) or not 0 < value < math.inf:
                msg = f"protocol.{name}: expected a finite multiple of W > 0, got {value!r}"
                raise ValueError(msg)
        if self.refine_min_window > self.refine_window:
            msg = (
                f"protocol.refine_min_window: expected <= refine_window ({self.refine_window}), "
                f"got {self.refine_min_window}"
            )
            raise ValueError(msg)
        for name in ("time_margin", "objective_margin", "idle_share", "screen_share", "reserve"):
            value = getattr(self, name)
            if not _number(value) or not 0 <= value < 1:
                msg = f"protocol.{name}: expected a fraction in [0, 1), got {value!r}"
                raise ValueError(msg)

    def plan(
        self,
        *,
        unit_s: float,
        budget_s: float,
        rounds: int,
        cooldown_s: float,
        counter_period_s: float,
        energy: bool,
    ) -> Plan:
        """The settings in seconds for one run (``unit_s`` = W)."""
        screen_window_s = self.screen_window * unit_s
        margin = self.objective_margin
        if energy and counter_period_s > 0:
            margin += 2 * counter_period_s / screen_window_s
        return Plan(
            unit_s=unit_s,
            budget_s=budget_s,
            idle_s=min(unit_s, self.idle_share * budget_s),
            screen_rounds=self.screen_rounds,
            screen_window_s=screen_window_s,
            screen_budget_s=self.screen_share * budget_s,
            refine_rounds=rounds,
            refine_window_s=self.refine_window * unit_s,
            refine_min_window_s=self.refine_min_window * unit_s,
            reserve_s=self.reserve * budget_s,
            cooldown_s=cooldown_s,
            time_margin=self.time_margin,
            objective_margin=margin,
        )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class Plan:
    """One run's protocol in seconds, and what the run did with it (``result.protocol``)."""

    unit_s: float  # W: the meter's minimum window (or min_window_s)
    budget_s: float
    idle_s: float
    screen_rounds: int
    screen_window_s: float
    screen_budget_s: float  # idle + warm-up + screen end by then
    refine_rounds: int
    refine_window_s: float  # target window
    refine_min_window_s: float  # shortest before contenders are cut
    reserve_s: float
    cooldown_s: float
    time_margin: float
    objective_margin: float  # for the objective in use (energy: includes the counter resolution)
    # --- filled in as the run goes ------------------------------------------------------------
    screened: int = 0
    contenders: list[str] = field(default_factory=list)  # passed the screen, fastest first
    refined: list[str] = field(default_factory=list)
    refine_window_used_s: float | None = None
    screen_s: float | None = None  # seconds from the start to the end of the screen
    refine_s: float | None = None  # seconds the refine took
    cuts: list[str] = field(default_factory=list)  # what the budget left out, in words

    def trial_cost(self, window_s: float, call_s: float) -> float:
        """Seconds of one window: cool-down, then whole calls until the window is spanned."""
        return self.cooldown_s + _calls(window_s, call_s) * call_s

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _calls(window_s: float, call_s: float) -> int:
    return max(1, math.ceil(window_s / call_s)) if call_s > 0 else 1


def repetitions(window_s: float, call_s: float) -> int:
    """Calls per window so that ``window_s`` is spanned (at least one)."""
    return _calls(window_s, call_s)


def select_contenders(
    rows: list[ConfigResult], max_slowdown: float, plan: Plan
) -> tuple[list[ConfigResult], dict[int, str]]:
    """Screened rows -> (contenders, fastest first then by screened objective; why the others not).

    Time is precise on the screen, so the time test has a small margin; the objective test
    compares ranges (low of a config vs high of the best) widened by ``plan.objective_margin``.
    The best is taken among configs that meet the guarantee on the screen without the margin, so
    a cheap config just past the guarantee cannot push out the ones that meet it.
    """
    fastest = min(rows, key=lambda r: (r.seconds, r.objective))
    time_limit = max_slowdown * fastest.seconds * (1 + plan.time_margin)
    meets = [r for r in rows if r.seconds <= max_slowdown * fastest.seconds]
    best = min(meets, key=lambda r: (r.objective, r.seconds))
    value_limit = best.objective_high * (1 + plan.objective_margin)
    why: dict[int, str] = {}
    others = []
    for row in rows:
        if row is fastest:
            continue
        if row.seconds > time_limit:
            why[row.id] = (
                f"screen: {row.seconds / fastest.seconds:.3f}× the fastest's time, over "
                f"{max_slowdown:.2f}× (+{plan.time_margin:.0%} margin)"
            )
        elif row.objective_low > value_limit:
            why[row.id] = (
                f"screen: objective {row.objective_low / best.objective_high:.3f}× the best's, "
                f"over 1 + {plan.objective_margin:.2f} margin"
            )
        else:
            others.append(row)
    others.sort(key=lambda r: (r.objective, r.seconds))
    return [fastest, *others], why


def fit_refine(call_s: list[float], plan: Plan, seconds_left: float) -> tuple[int, float]:
    """How many contenders (a prefix of ``call_s``, fastest first) and what window fit.

    The window is the longest in [min, target] that fits all of them; if none does, contenders
    are dropped from the end until they fit at the minimum window. The fastest alone always
    stays: if even it does not fit, its window is shortened below the minimum (the caller says
    so in ``plan.cuts``).
    """

    def cost(count: int, window_s: float) -> float:
        return sum(plan.refine_rounds * plan.trial_cost(window_s, c) for c in call_s[:count])

    count = len(call_s)
    while count > 1 and cost(count, plan.refine_min_window_s) > seconds_left:
        count -= 1
    if cost(count, plan.refine_window_s) <= seconds_left:
        return count, plan.refine_window_s
    low, high = plan.refine_min_window_s, plan.refine_window_s
    if cost(count, low) > seconds_left:
        low, high = 0.0, low
    for _ in range(40):  # cost is a non-decreasing step function of the window: bisect
        middle = 0.5 * (low + high)
        if cost(count, middle) <= seconds_left:
            low = middle
        else:
            high = middle
    return count, low
