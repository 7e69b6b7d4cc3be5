"""Mergeable statistics of a set of rows, the values the one-pass kernels return.

:class:`ColumnStats` (preprocessing pass 1: per column the count of finite values, mean, M2 — the
sum of squared deviations — min and max) and :class:`GramStats` / :class:`ColumnMoments` (PCA).
:func:`merge_stats` combines two sets of rows exactly (Chan et al.), so batches and partitions add
up to one pass over all rows. The kernels' modules (host and CUDA) both return these types, so
they live below both.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np


class GramStats(NamedTuple):
    """Mergeable second-order statistics of a set of rows (all float64)."""

    n: int
    mean: np.ndarray  # (d,)
    gram: np.ndarray  # (d, d) symmetric: Σ (x_i − mean)(x_i − mean)ᵀ


class ColumnMoments(NamedTuple):
    n: int
    mean: np.ndarray  # (d,)
    m2: np.ndarray  # (d,) Σ (x_ij − mean_j)²


def _frozen(a: Any, dtype: type) -> np.ndarray:
    arr = np.array(a, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class ColumnStats:
    """Per-column statistics of the finite values of a 2-D array (NaN and ±Inf excluded).

    ``mean``, ``min`` and ``max`` are NaN (and ``m2`` 0) for a column without finite values.
    Arrays are read-only; combine batches with :func:`merge_stats`.
    """

    n_rows: int
    count: np.ndarray  # int64: finite values per column
    mean: np.ndarray  # float64
    m2: np.ndarray  # float64: sum of squared deviations from the mean
    min: np.ndarray  # float64
    max: np.ndarray  # float64

    def __post_init__(self) -> None:
        if isinstance(self.n_rows, bool) or not isinstance(self.n_rows, numbers.Integral):
            msg = f"n_rows: expected an int, got {type(self.n_rows).__name__}"
            raise TypeError(msg)
        object.__setattr__(self, "n_rows", int(self.n_rows))
        object.__setattr__(self, "count", _frozen(self.count, np.int64))
        for name in ("mean", "m2", "min", "max"):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.float64))
        shapes = {name: getattr(self, name).shape for name in ("count", "mean", "m2", "min", "max")}
        if len(set(shapes.values())) != 1 or len(shapes["count"]) != 1:
            msg = f"ColumnStats: expected 1-D arrays of one length, got shapes {shapes}"
            raise ValueError(msg)
        if self.count.size and (self.count.min() < 0 or self.count.max() > self.n_rows):
            msg = f"count: expected values in [0, n_rows={self.n_rows}]"
            raise ValueError(msg)

    @property
    def n_columns(self) -> int:
        return int(self.count.shape[0])

    @property
    def nonfinite(self) -> np.ndarray:
        """NaN and ±Inf entries per column."""
        return self.n_rows - self.count

    @property
    def var(self) -> np.ndarray:
        """Population variance (ddof=0); NaN for columns without finite values."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.count > 0, self.m2 / np.maximum(self.count, 1), np.nan)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.var)

    @property
    def empty_columns(self) -> np.ndarray:
        """Indices of the columns without finite values."""
        return np.flatnonzero(self.count == 0)

    def __repr__(self) -> str:
        return f"ColumnStats(n_rows={self.n_rows}, n_columns={self.n_columns})"


def stats_from_moments(
    n_rows: int, count: Any, mean: Any, m2: Any, lo: Any, hi: Any
) -> ColumnStats:
    """ColumnStats from a kernel's float64 moments (an empty column: count 0, min +inf)."""
    count = np.asarray(count)
    empty = count == 0
    return ColumnStats(
        n_rows=n_rows,
        count=count.astype(np.int64),
        mean=np.where(empty, np.nan, mean),
        m2=np.where(empty, 0.0, m2),
        min=np.where(empty, np.nan, lo),
        max=np.where(empty, np.nan, hi),
    )


def check_stats(stats: Any, name: str, n_columns: int | None = None) -> ColumnStats:
    if not isinstance(stats, ColumnStats):
        kind = type(stats).__name__
        msg = f"{name}: expected a ColumnStats (from lepton.ops.column_stats), got {kind}"
        raise TypeError(msg)
    if n_columns is not None and stats.n_columns != n_columns:
        msg = f"{name}: has {stats.n_columns} columns, expected {n_columns} (the columns of x)"
        raise ValueError(msg)
    return stats


def merge_stats(a: ColumnStats, b: ColumnStats) -> ColumnStats:
    """The statistics of the concatenation of the rows behind ``a`` and ``b`` (Chan et al.).

    Counts, min and max are exact; mean and M2 agree with a single pass to float64 round-off.
    """
    check_stats(a, "a")
    check_stats(b, "b", a.n_columns)
    n = a.count + b.count
    na, nb = a.count.astype(np.float64), b.count.astype(np.float64)
    ma = np.where(a.count > 0, a.mean, 0.0)
    mb = np.where(b.count > 0, b.mean, 0.0)
    frac = nb / np.maximum(n, 1)
    delta = mb - ma
    return ColumnStats(
        n_rows=a.n_rows + b.n_rows,
        count=n,
        mean=np.where(n > 0, ma + delta * frac, np.nan),
        m2=a.m2 + b.m2 + delta * delta * na * frac,
        min=np.fmin(a.min, b.min),
        max=np.fmax(a.max, b.max),
    )
