"""What a tuning run measured: trials, a summary per configuration, and the choice."""

from __future__ import annotations

import dataclasses
import io
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lepton.tune.protocol import Plan


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


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _spread(values: list[float]) -> float:
    """(max - min) / median: the relative width of what the rounds measured."""
    middle = _median(values)
    return (max(values) - min(values)) / middle if middle > 0 else 0.0


@dataclass
class StageStats:
    """One stage's numbers for a configuration (medians per call, spreads over its windows)."""

    stage: str
    windows: int
    window_s: float  # median window length
    seconds: float
    joules: float | None
    time_spread: float
    energy_spread: float | None
    objective: float
    objective_low: float
    objective_high: float

    @classmethod
    def from_trials(cls, stage: str, trials: list[Trial], values: list[float]) -> StageStats:
        energies = [t.joules for t in trials if t.joules is not None]
        complete = len(energies) == len(trials)
        return cls(
            stage=stage,
            windows=len(trials),
            window_s=_median([t.seconds * t.repetitions for t in trials]),
            seconds=_median([t.seconds for t in trials]),
            joules=_median(energies) if complete else None,
            time_spread=_spread([t.seconds for t in trials]),
            energy_spread=_spread(energies) if complete else None,
            objective=_median(values),
            objective_low=min(values),
            objective_high=max(values),
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
    note: str = ""  # why a screened config was not refined

    @property
    def max_gap(self) -> float | None:
        """The largest meter self-disagreement (counter vs power samples) over the trials."""
        gaps = [abs(t.gap) for t in self.stage_trials(self.stage) if t.gap is not None]
        return max(gaps) if gaps else None

    @property
    def ms(self) -> float:
        return self.seconds * 1e3

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
        if not with_trials:
            out.pop("trials")
        return out


@dataclass
class TuneResult:
    """The outcome of ``lepton.tune.tune``: every measured configuration and the winner."""

    op: str
    shape: tuple[int, ...]
    dtype: str
    device: str
    device_name: str
    objective: str
    max_slowdown: float  # the guarantee: winner's median time ≤ max_slowdown × fastest median
    rows: list[ConfigResult]  # every screened config, by screened median time
    winner: ConfigResult  # decided on refine numbers
    fastest: ConfigResult  # the fastest refined median: the guarantee's reference
    meter: str  # meter source, "none" when only time was measured
    idle_watts: float | None
    rounds: int  # refine rounds
    window_s: float  # refine window used (seconds)
    budget_s: float
    elapsed_s: float
    table_size: int
    skipped: dict[str, str] = field(default_factory=dict)  # config name -> why not measured
    efficiency_unit: str = "TOPS/J"
    cache_key: str | None = None
    launch: str = "direct calls"  # how the calls reached the device (GPU: graph replays or not)
    protocol: Plan | None = None  # the stages' settings and what the budget cut

    @property
    def refined(self) -> list[ConfigResult]:
        """The contenders the refine stage measured (the winner is one of them)."""
        return [r for r in self.rows if r.refined]

    @property
    def guarantee_s(self) -> float:
        """The slowest median time a winner may have."""
        return self.max_slowdown * self.fastest.seconds

    @property
    def sampled(self) -> bool:
        """True when the budget or the shape left part of the table unmeasured."""
        return len(self.rows) < self.table_size

    @property
    def slowdown(self) -> float:
        return self.winner.seconds / self.fastest.seconds

    @property
    def max_gap(self) -> float | None:
        """The largest |counter - samples| / counter of any trial (None: no sampled meter)."""
        gaps = [r.max_gap for r in self.rows if r.max_gap is not None]
        return max(gaps) if gaps else None

    @property
    def energy_saving(self) -> float | None:
        """Fraction of the fastest configuration's joules the winner saves (None: no meter)."""
        if self.winner.joules is None or not self.fastest.joules:
            return None
        return 1.0 - self.winner.joules / self.fastest.joules

    def to_dict(self, *, with_trials: bool = True) -> dict[str, Any]:
        return {
            "op": self.op,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "device": self.device,
            "device_name": self.device_name,
            "objective": self.objective,
            "max_slowdown": self.max_slowdown,
            "guarantee_s": self.guarantee_s,
            "winner": self.winner.name,
            "winner_id": self.winner.id,
            "fastest": self.fastest.name,
            "slowdown": self.slowdown,
            "energy_saving": self.energy_saving,
            "max_gap": self.max_gap,
            "meter": self.meter,
            "idle_watts": self.idle_watts,
            "rounds": self.rounds,
            "window_s": self.window_s,
            "budget_s": self.budget_s,
            "elapsed_s": self.elapsed_s,
            "table_size": self.table_size,
            "sampled": self.sampled,
            "skipped": dict(self.skipped),
            "efficiency_unit": self.efficiency_unit,
            "cache_key": self.cache_key,
            "launch": self.launch,
            "protocol": None if self.protocol is None else self.protocol.to_dict(),
            "configs": [r.to_dict(with_trials=with_trials) for r in self.rows],
        }

    def table(self) -> Any:
        from lepton.tune.report import result_table

        return result_table(self)

    def __rich__(self) -> Any:
        return self.table()

    def __str__(self) -> str:
        from rich.console import Console

        buffer = io.StringIO()
        Console(file=buffer, width=120, color_system=None).print(self.table())
        return buffer.getvalue()
