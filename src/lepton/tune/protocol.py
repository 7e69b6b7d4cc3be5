"""The tuning protocol's settings and budget arithmetic, declared once.

A run has two stages. SCREEN measures every configuration with short windows: time is precise
from them (hundreds of calls, timed on the device), energy only roughly — from the meter's power
samples where it has them (NVML's instant power), else from windows made long enough to span
several updates of a coarse counter; a screen window read only at the edges of a 100 ms counter
would be off by up to ±0.1 s of power at each end of 0.25 s and count the previous config's
tail. REFINE re-measures the contenders with long windows in interleaved rounds and decides the
winner and the guarantee on those numbers (``objectives.py``).

The budget is a hard limit: every window is planned with what it costs — its calls, the meter's
two edge reads (``Meter.read_cost_s``: 4 ms on an H200), the cool-down — and started only if it
ends inside ``budget_s``; a call slower than planned is stopped by the window's deadline at
``budget_s × (1 + BUDGET_SLACK)``. Whatever the budget cut is said in ``Plan.cuts``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from lepton.energy.ticks import MIN_PERIOD_S, MIN_UPDATES

BUDGET_SLACK = 0.05  # tune() returns by budget_s × (1 + this), whatever the calls do


@dataclass(frozen=True)
class Protocol:
    """How a tuning run spends ``budget_s``; windows are multiples of the meter's minimum ``W``.

    ======== ================================================================================
    idle     one window of min(W, ``idle_share`` × budget) while the device is cool
    warm-up  two calls per configuration, in random order (first-call costs, CUDA graph
             recording, stay out); the second call's time is that configuration's own cost
             prediction, and it is screened only if its screen still fits
    SCREEN   every admitted configuration: ``screen_rounds`` interleaved rounds of
             ``screen_window`` × W (on a coarse counter without power samples, at least
             ``MIN_UPDATES`` + 2 counter periods); idle + warm-up + screen stay within
             ``screen_share`` × budget, and the result lists what was left out and why
    REFINE   contenders (``objectives.select_contenders``: those inside the guarantee first):
             ``rounds`` (≥ 3) interleaved rounds, each window ``refine_window`` × W, shortened
             down to ``refine_min_window`` × W before contenders are cut, and further (even
             under W) to keep ``min_refined`` of them; a run that refines fewer, or whose
             energy windows fall under W, warns and is not stored
    reserve  ``reserve`` × budget for syncs and Python between windows
    ======== ================================================================================

    NVML (W = 1 s, counter read r = 4 ms, instant power), budget 60 s, 24 configs: idle 1 s;
    warm-up 48 calls (≈ 0.1 s at 8192³, ≈ 2.5 s at M=256 with CUDA graphs recorded); screen
    24 × 2 × (0.25 s + 2r) = 12.4 s; reserve 3 s; refine gets ≈ 60 − 3 − 1 − 2.5 − 12.4 ≈ 41 s:
    4 contenders × 3 rounds × (3 s + 2r) = 36.1 s, or 5 with windows of 2.7 s (5 × 3 × 2.71 s
    ≈ 41 s); a sixth would need 6 × 3 × 2.51 s = 45 s and is cut. Ends by ≈ 57 s, never past
    63 s. (On a model of NVML — 100 ms ticks with 10% noise each, instant power with 5% noise —
    the tuner picks a config 10% cheaper at 5% slower in ≥ 95% of seeded runs; tests/tune.)
    """

    screen_rounds: int = 2
    screen_window: float = 0.25
    refine_window: float = 3.0
    refine_min_window: float = 2.5
    min_refined: int = 2
    time_margin: float = 0.03
    objective_margin: float = 0.05
    idle_share: float = 0.05
    screen_share: float = 0.5
    reserve: float = 0.05

    def __post_init__(self) -> None:
        for name in ("screen_rounds", "min_refined"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                msg = f"protocol.{name}: expected an int, got {value!r}"
                raise TypeError(msg)
            if value < 1:
                msg = f"protocol.{name}: expected >= 1, got {value}"
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
        read_cost_s: float = 0.0,
        power_samples: bool = False,
    ) -> Plan:
        """The settings in seconds for one run (``unit_s`` = W)."""
        screen_window_s = self.screen_window * unit_s
        screen_on = "time"
        if energy:
            screen_on = "counter"
            if counter_period_s >= MIN_PERIOD_S:  # a coarse counter
                if power_samples:
                    screen_on = "power samples"
                else:  # long enough for the counter's updates to span MIN_UPDATES periods
                    screen_window_s = max(screen_window_s, (MIN_UPDATES + 2) * counter_period_s)
                    screen_on = "counter updates"
        return Plan(
            unit_s=unit_s,
            budget_s=budget_s,
            deadline_s=budget_s * (1 + BUDGET_SLACK),
            idle_s=min(unit_s, self.idle_share * budget_s),
            screen_rounds=self.screen_rounds,
            screen_window_s=screen_window_s,
            screen_budget_s=self.screen_share * budget_s,
            screen_on=screen_on,
            refine_rounds=rounds,
            refine_window_s=self.refine_window * unit_s,
            refine_min_window_s=self.refine_min_window * unit_s,
            min_refined=self.min_refined,
            reserve_s=self.reserve * budget_s,
            cooldown_s=cooldown_s,
            read_cost_s=read_cost_s,
            counter_period_s=counter_period_s,
            time_margin=self.time_margin,
            objective_margin=self.objective_margin,
        )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class Plan:
    """One run's protocol in seconds, and what the run did with it (``result.protocol``)."""

    unit_s: float  # W: the meter's minimum window (or min_window_s)
    budget_s: float
    deadline_s: float  # hard: no call runs past it (budget_s × (1 + BUDGET_SLACK))
    idle_s: float
    screen_rounds: int
    screen_window_s: float
    screen_budget_s: float  # idle + warm-up + screen end by then
    screen_on: str  # what the screen's objective reads: "power samples", "counter updates", ...
    refine_rounds: int
    refine_window_s: float  # target window
    refine_min_window_s: float  # shortest before contenders are cut
    min_refined: int
    reserve_s: float
    cooldown_s: float
    read_cost_s: float  # one counter read (each window reads at both edges)
    counter_period_s: float  # 0: a continuous counter (or no meter)
    time_margin: float
    objective_margin: float  # plus each config's own screen spread (objectives.py)
    # --- filled in as the run goes ------------------------------------------------------------
    seed: int | None = None
    screened: int = 0
    contenders: list[str] = field(default_factory=list)  # passed the screen, in refine order
    refined: list[str] = field(default_factory=list)
    refine_window_used_s: float | None = None
    screen_s: float | None = None  # seconds from the start to the end of the screen
    refine_s: float | None = None  # seconds the refine took
    remeasured: int = 0  # windows measured again (device too idle, meter disagreeing)
    cuts: list[str] = field(default_factory=list)  # what the budget left out, in words

    def trial_cost(self, window_s: float, call_s: float) -> float:
        """Seconds of one window: cool-down, two edge reads, whole calls spanning the window."""
        return self.cooldown_s + 2 * self.read_cost_s + _calls(window_s, call_s) * call_s

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _calls(window_s: float, call_s: float) -> int:
    return max(1, math.ceil(window_s / call_s)) if call_s > 0 else 1


def repetitions(window_s: float, call_s: float) -> int:
    """Calls per window so that ``window_s`` is spanned (at least one)."""
    return _calls(window_s, call_s)


def fit_refine(call_s: list[float], plan: Plan, seconds_left: float) -> tuple[int, float]:
    """How many contenders (a prefix of ``call_s``, in refine order) and what window fit.

    Contenders are cut from the end while they do not fit at ``refine_min_window_s``, down to
    ``min_refined``, which are kept by shortening the window as far as needed (the caller warns
    under W); only if not even one call per window fits are more cut, down to the first (the
    fastest). The window is the longest that fits, up to ``refine_window_s``.
    """

    def cost(count: int, window_s: float) -> float:
        return sum(plan.refine_rounds * plan.trial_cost(window_s, c) for c in call_s[:count])

    count = len(call_s)
    keep = min(plan.min_refined, count)
    while count > keep and cost(count, plan.refine_min_window_s) > seconds_left:
        count -= 1
    while count > 1 and cost(count, 0.0) > seconds_left:
        count -= 1
    if cost(count, plan.refine_window_s) <= seconds_left:
        return count, plan.refine_window_s
    low, high = 0.0, plan.refine_window_s
    for _ in range(50):  # cost is a non-decreasing step function of the window: bisect
        middle = 0.5 * (low + high)
        if cost(count, middle) <= seconds_left:
            low = middle
        else:
            high = middle
    return count, low
