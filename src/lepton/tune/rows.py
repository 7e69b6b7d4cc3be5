"""What a tuning run measured per configuration: its windows (trials) and their statistics.

A window that did not measure the kernel — the device idle for more than 5% of it, or cut by
the budget's deadline — is kept with ``excluded`` saying why, and left out of the statistics
while the configuration has other windows. Statistics are medians; their noise is the relative
median absolute deviation (one outlier window among three does not move it).
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Trial:
    """One window of one configuration (per-call numbers)."""

    round: int
    position: int  # place in that round's random order
    seconds: float
    joules: float | None
    repetitions: int
    temperature_c: float | None = None
    start_temperature_c: float | None = None
    gap: float | None = None  # meter counter vs power samples
    stage: str = "refine"  # "screen" (short windows) or "refine" (long windows, decides)
    gap_limit: float | None = None  # |gap| beyond this: the meter disagrees with itself
    joules_from: str = "counter"  # see lepton.energy.Measurement.joules_from
    busy_fraction: float | None = None  # device time in the calls ÷ window (None: not timed)
    window_s: float = 0.0  # the whole window (host clock)
    excluded: str = ""  # why this window does not count ("": it counts)
    flag: str = ""  # a doubt that does not exclude it (the meter disagreeing with itself)

    @property
    def counts(self) -> bool:
        return not self.excluded


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _spread(values: list[float]) -> float:
    """(max - min) / median: the relative width of what the rounds measured."""
    middle = _median(values)
    return (max(values) - min(values)) / middle if middle > 0 else 0.0


def relative_mad(values: list[float]) -> float:
    """Median absolute deviation ÷ median (0 for a single value)."""
    middle = _median(values)
    if middle <= 0 or len(values) < 2:
        return 0.0
    return _median([abs(v - middle) for v in values]) / middle


@dataclass
class StageStats:
    """One stage's numbers for a configuration (medians per call, spreads over its windows)."""

    stage: str
    windows: int  # windows that count
    window_s: float  # median window length
    seconds: float
    joules: float | None
    time_spread: float
    energy_spread: float | None
    objective: float
    objective_low: float
    objective_high: float
    objective_noise: float = 0.0  # relative median absolute deviation of the objective
    excluded: int = 0  # windows left out (excluded)
    busy_fraction: float | None = None  # median over the counted windows that have one
    joules_from: str = ""  # what the counted windows' joules came from ("+"-joined if mixed)

    @classmethod
    def from_trials(cls, stage: str, trials: list[Trial], values: list[float]) -> StageStats:
        """Statistics over the counted trials (all of them when none counts)."""
        pairs = [(t, v) for t, v in zip(trials, values, strict=True) if t.counts]
        if not pairs:
            pairs = list(zip(trials, values, strict=True))
        used = [t for t, _ in pairs]
        objective = [v for _, v in pairs]
        energies = [t.joules for t in used if t.joules is not None]
        complete = len(energies) == len(used)
        busy = [t.busy_fraction for t in used if t.busy_fraction is not None]
        return cls(
            stage=stage,
            windows=sum(t.counts for t in used),
            window_s=_median([t.window_s or t.seconds * t.repetitions for t in used]),
            seconds=_median([t.seconds for t in used]),
            joules=_median(energies) if complete else None,
            time_spread=_spread([t.seconds for t in used]),
            energy_spread=_spread(energies) if complete else None,
            objective=_median(objective),
            objective_low=min(objective),
            objective_high=max(objective),
            objective_noise=relative_mad(objective),
            excluded=len(trials) - sum(t.counts for t in trials),
            busy_fraction=_median(busy) if busy else None,
            joules_from="+".join(sorted({t.joules_from for t in used if t.joules is not None})),
        )


@dataclass
class ConfigResult:
    """A configuration's summary over its trials; ``objective_*`` are in the objective's unit."""

    id: int
    name: str
    trials: list[Trial]
    seconds: float  # median per call
    joules: float | None
    watts: float | None
    efficiency: float | None  # work per joule in the op's unit (TOPS/J for a GEMM)
    time_spread: float
    energy_spread: float | None
    objective: float  # median
    objective_low: float  # lowest trial value
    objective_high: float
    eligible: bool = False  # median time within max_slowdown × the fastest median
    tied: bool = False  # within the measured noise of the best eligible config
    chosen: bool = False
    temperature_c: tuple[float, float] | None = None  # (min, max) over the trials
    above_idle_j: float | None = None  # joules beyond idle draw for the same time
    # Which stage's numbers the fields above are: "refine" for contenders, else "screen".
    stage: str = "refine"
    screen: StageStats | None = None
    refine: StageStats | None = None
    note: str = ""  # why a screened config was not refined, or what is doubtful about it
    objective_noise: float = 0.0  # the deciding stage's relative MAD of the objective
    busy_fraction: float | None = None  # the deciding stage's median

    @property
    def max_gap(self) -> float | None:
        """The largest meter self-disagreement (counter vs power samples) over the trials."""
        gaps = [abs(t.gap) for t in self.stage_trials(self.stage) if t.gap is not None]
        return max(gaps) if gaps else None

    @property
    def ms(self) -> float:
        return self.seconds * 1e3

    @property
    def decidable(self) -> bool:
        """False when no window of the deciding stage measured the kernel (all excluded)."""
        stats = self.refine or self.screen
        return stats is None or stats.windows > 0

    @property
    def flags(self) -> list[str]:
        """Doubts about the deciding stage's counted windows, once each."""
        return sorted({t.flag for t in self.stage_trials(self.stage) if t.flag and t.counts})

    @classmethod
    def summarise(
        cls,
        config: dict[str, Any],
        trials: list[Trial],
        values: list[float],
        work_ops: float | None,
        efficiency_scale: float,
    ) -> ConfigResult:
        """Per-stage statistics of ``trials`` (``values``: each trial's objective); the headline
        numbers are the refine stage's when the config was refined, else the screen's."""
        stages = {}
        for stage in ("screen", "refine"):
            picked = [(t, v) for t, v in zip(trials, values, strict=True) if t.stage == stage]
            if picked:
                stages[stage] = StageStats.from_trials(
                    stage, [t for t, _ in picked], [v for _, v in picked]
                )
        deciding = stages.get("refine") or stages["screen"]
        joules, seconds = deciding.joules, deciding.seconds
        temps = [
            t.temperature_c
            for t in trials
            if t.temperature_c is not None and t.stage == deciding.stage
        ]
        return cls(
            id=int(config["id"]),
            name=str(config.get("name", config["id"])),
            trials=trials,
            seconds=seconds,
            joules=joules,
            watts=None if joules is None or seconds <= 0 else joules / seconds,
            efficiency=(
                None
                if joules is None or not work_ops or joules <= 0
                else work_ops / joules / efficiency_scale
            ),
            time_spread=deciding.time_spread,
            energy_spread=deciding.energy_spread,
            objective=deciding.objective,
            objective_low=deciding.objective_low,
            objective_high=deciding.objective_high,
            temperature_c=(min(temps), max(temps)) if temps else None,
            stage=deciding.stage,
            screen=stages.get("screen"),
            refine=stages.get("refine"),
            objective_noise=deciding.objective_noise,
            busy_fraction=deciding.busy_fraction,
        )

    @property
    def refined(self) -> bool:
        return self.refine is not None

    def stage_trials(self, stage: str) -> list[Trial]:
        return [t for t in self.trials if t.stage == stage]

    def to_dict(self, *, with_trials: bool = True) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["ms"] = self.ms
        out["max_gap"] = self.max_gap
        out["flags"] = self.flags
        if not with_trials:
            out.pop("trials")
        return out
