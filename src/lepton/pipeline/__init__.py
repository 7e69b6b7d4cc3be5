"""The green pipeline with joules per step: load → clean → normalise → reduce → train →
evaluate → search (``lepton.pipeline.run``), and its pieces."""

from lepton.pipeline.data import SOURCES, Dataset, load
from lepton.pipeline.metrics import METRICS, evaluate
from lepton.pipeline.result import PipelineResult, StepRecord
from lepton.pipeline.run import STEPS, default_components, run
from lepton.pipeline.search import SELECTIONS, Candidate, SearchResult, grid, select
from lepton.pipeline.trainer import LogisticGD

__all__ = [
    "METRICS",
    "SELECTIONS",
    "SOURCES",
    "STEPS",
    "Candidate",
    "Dataset",
    "LogisticGD",
    "PipelineResult",
    "SearchResult",
    "StepRecord",
    "default_components",
    "evaluate",
    "grid",
    "load",
    "run",
    "select",
]
