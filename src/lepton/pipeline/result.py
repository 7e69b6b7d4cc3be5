"""What a pipeline run produced: per-step cost, test metrics, the search."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lepton.pipeline.search import SearchResult


@dataclass(frozen=True)
class StepRecord:
    name: str
    seconds: float
    joules: float | None  # None: no meter
    detail: str = ""  # what the step did, for the table
    short_windows: int = 0  # windows shorter than the meter's minimum: these joules are rough


@dataclass(frozen=True)
class PipelineResult:
    dataset: str
    rows: int
    cols: int
    n_classes: int
    device: str
    meter: str  # energy source, or "no meter"
    steps: tuple[StepRecord, ...]
    metrics: dict[str, float]  # the trained model on the test split
    params: dict[str, Any]  # learning_rate, l2, n_components used by the train step
    search: SearchResult | None
    meter_min_window_s: float = 0.0  # shortest window the meter reads energy well over

    @property
    def has_energy(self) -> bool:
        return all(s.joules is not None for s in self.steps)

    @property
    def total_seconds(self) -> float:
        return sum(s.seconds for s in self.steps)

    @property
    def total_joules(self) -> float | None:
        return sum(s.joules for s in self.steps) if self.has_energy else None  # type: ignore[misc]

    @property
    def share_basis(self) -> str:
        """What ``share`` divides: joules where every step has them, else seconds."""
        return "joules" if self.has_energy else "seconds"

    def share(self, step: StepRecord) -> float:
        if self.has_energy:
            total = self.total_joules or 0.0
            return step.joules / total if total > 0 else 0.0  # type: ignore[operator]
        total = self.total_seconds
        return step.seconds / total if total > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "rows": self.rows,
            "cols": self.cols,
            "n_classes": self.n_classes,
            "device": self.device,
            "meter": self.meter,
            "meter_min_window_s": self.meter_min_window_s,
            "share_basis": self.share_basis,
            "steps": [{**asdict(s), "share": self.share(s)} for s in self.steps],
            "total_seconds": self.total_seconds,
            "total_joules": self.total_joules,
            "metrics": self.metrics,
            "params": self.params,
            "search": None if self.search is None else self.search.to_dict(),
        }
