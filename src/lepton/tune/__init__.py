"""The joule autotuner: pick each kernel's configuration by measured energy under a latency
guarantee, and remember the choice for ``config=None``.

``lepton.tune.tune("int8_gemm", {"m": 256, "n": 4096, "k": 4096})`` measures the op's
configurations and returns a ``TuneResult``; ``show()`` prints the cache, ``clear()`` empties it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from lepton.tune.cache import CacheWarning, TuningCache, cache_path, shape_bucket
from lepton.tune.objectives import OBJECTIVES
from lepton.tune.protocol import Plan, Protocol
from lepton.tune.registry import Problem, TunableOp, register, unregister
from lepton.tune.result import ConfigResult, StageStats, Trial, TuneResult
from lepton.tune.search import TuneWarning, tune

__all__ = [
    "OBJECTIVES",
    "CacheWarning",
    "ConfigResult",
    "Plan",
    "Problem",
    "Protocol",
    "StageStats",
    "Trial",
    "TunableOp",
    "TuneResult",
    "TuneWarning",
    "TuningCache",
    "cache_path",
    "clear",
    "register",
    "shape_bucket",
    "show",
    "tune",
    "unregister",
]


def clear(op: str | None = None) -> int:
    """Forget every tuned choice (or those of ``op``); returns how many were dropped."""
    return TuningCache().remove(op)


def show(*, console: Console | None = None) -> list[dict[str, Any]]:
    """Print the tuning cache as a table, marking the entries this build or machine can no
    longer use (and why), and return its entries."""
    from lepton.tune.cache import unusable_reason
    from lepton.tune.report import cache_table

    entries = TuningCache().entries()
    unusable = {key: unusable_reason(entry) for key, entry in entries.items()}
    (console or Console()).print(cache_table(entries, unusable))
    return list(entries.values())
