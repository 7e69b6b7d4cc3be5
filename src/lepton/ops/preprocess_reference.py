"""Float64 numpy references of :mod:`lepton.ops.preprocess`, written from its documented
semantics and nothing else (no shared planning code), for tests and benchmarks to check against.
"""

from __future__ import annotations

import warnings

import numpy as np

from lepton.ops.preprocess_plan import SMALLEST_SCALE


def column_stats_reference(x: np.ndarray) -> dict[str, np.ndarray]:
    """count, mean, m2, min, max of the finite values per column (NaN where a column has none)."""
    xd = np.asarray(x, dtype=np.float64)
    finite = np.isfinite(xd)
    values = np.where(finite, xd, np.nan)
    count = finite.sum(axis=0).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        mean = np.nanmean(values, axis=0)
        m2 = np.nansum((values - mean) ** 2, axis=0)
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
    return {"count": count, "mean": mean, "m2": m2, "min": lo, "max": hi}


def preprocess_reference(
    x: np.ndarray,
    stats: dict[str, np.ndarray] | None = None,
    *,
    impute: str | float | None = "mean",
    clip_sigma: float | None = None,
    scale: str | None = "standard",
) -> np.ndarray:
    """The float64 result of ``preprocess`` before the final cast.

    ``stats``: a dict like :func:`column_stats_reference` returns (of other data, say).
    """
    y = np.array(x, dtype=np.float64)
    s = column_stats_reference(x) if stats is None else stats
    count, mean = s["count"], s["mean"]
    std = np.sqrt(s["m2"] / np.maximum(count, 1))
    empty = count == 0

    if impute == "mean":
        fill = np.where(empty, 0.0, mean)
    elif impute == "zero":
        fill = np.zeros_like(mean)
    elif impute is None:
        fill = np.full_like(mean, np.nan)
    else:
        fill = np.full_like(mean, float(impute))

    # impute (Inf counts as missing unless it is going to be clipped)
    missing = np.isnan(y) if clip_sigma is not None else ~np.isfinite(y)
    y = np.where(missing, fill, y)
    # clip
    if clip_sigma is not None:
        lo, hi = mean - clip_sigma * std, mean + clip_sigma * std
        y = np.clip(y, lo, hi)
        data_lo, data_hi = np.maximum(s["min"], lo), np.minimum(s["max"], hi)
    else:
        data_lo, data_hi = s["min"], s["max"]
    # scale
    with np.errstate(invalid="ignore", divide="ignore"):
        if scale == "standard":
            constant = (s["max"] == s["min"]) | ~(std >= SMALLEST_SCALE)
            y = np.where(constant, 0.0 * y, (y - mean) / std)
        elif scale == "minmax":
            width = data_hi - data_lo
            y = np.where(width >= SMALLEST_SCALE, (y - data_lo) / width, 0.0 * y)
    # a column without finite values is the fill, or NaN
    return np.where(empty, fill, y)
