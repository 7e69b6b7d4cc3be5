"""How close lepton's result is to scikit-learn's, measured on the same inputs in one run."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Agreement:
    """Measured agreement of one call: a value per compared output or attribute.

    ``within_tolerance`` is None where no tolerance applies (int8 label agreement is a fraction
    to read, not a pass/fail).
    """

    values: Mapping[str, float]
    within_tolerance: bool | None
    metric: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "values": {k: _json_float(v) for k, v in self.values.items()},
            "within_tolerance": self.within_tolerance,
        }


def _json_float(v: float) -> float | str:
    return v if math.isfinite(v) else str(v)


def array_agreement(
    ours: Any, theirs: Any, tolerances: Mapping[str, float], scale: float | None = None
) -> tuple[float, bool]:
    """``max |ours − theirs| / max |theirs|`` (or ``/ scale`` when given) over the finite
    entries, and whether it is within the tolerance of scikit-learn's dtype (integers and other
    values: exact).

    NaN must sit at the same places; a different shape, or NaN in one and not the other, is an
    infinite error.
    """
    if ours is None or theirs is None:
        return (0.0, True) if ours is theirs else (math.inf, False)
    a, b = np.asarray(ours), np.asarray(theirs)
    if a.shape != b.shape:
        return math.inf, False
    if b.dtype.kind not in "fc" or a.dtype.kind not in "fciub":
        same = bool(np.array_equal(a, b))
        return (0.0 if same else math.inf), same
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    nan_a, nan_b = np.isnan(a64), np.isnan(b64)
    if not np.array_equal(nan_a, nan_b):
        return math.inf, False
    finite = ~nan_b
    if not finite.any():
        return 0.0, True
    diff = np.abs(a64[finite] - b64[finite])
    if scale is None:
        scale = float(np.max(np.abs(b64[finite])))
    err = float(np.max(diff)) / scale if scale > 0 else float(np.max(diff))
    if math.isnan(err):  # ±inf at the same place in both
        same = bool(np.array_equal(a64[finite], b64[finite]))
        return (0.0 if same else math.inf), same
    tol = tolerances.get(b.dtype.name, 0.0) if b.dtype.kind == "f" else 0.0
    return err, err <= tol


def label_agreement(ours: Any, theirs: Any) -> float:
    """Fraction of rows with the same label."""
    a, b = np.asarray(ours), np.asarray(theirs)
    if a.shape != b.shape:
        return 0.0
    return float(np.mean(a == b)) if a.size else 1.0
