"""Fused tabular preprocessing in two passes over the data, whatever the steps asked.

1. :func:`column_stats` reads the data once: per column the count of finite values, their mean,
   M2 (sum of squared deviations), min and max, in float64 — mergeable with :func:`merge_stats`
   (Chan et al.), so batches and partitions combine exactly.
2. :func:`preprocess` reads it once more and writes the result once: impute → clip → scale →
   cast, one fused kernel whose steps are per-column coefficients planned here from the stats.

Semantics (each one tested in ``tests/ops/test_preprocess.py``):

* **Order** is impute, then clip, then scale — what a scikit-learn ``Pipeline(SimpleImputer,
  clipper, scaler)`` does. The fill value is in input units and is treated as data: a constant
  fill outside the clip bounds is clipped.
* **Statistics come from the finite input values.** Imputed values do not shrink the variance and
  clipped values do not move the mean: ``scale="standard"`` uses the mean and std of the observed
  data (so the output is exactly the ``StandardScaler`` of the observed data, and not exactly unit
  variance when values were clipped or imputed). ``scale="minmax"`` maps the clipped range
  ``[max(min, lo), min(max, hi)]`` to ``[0, 1]``, exactly — clipping is monotone, so the range of
  the clipped data is known from the stats.
* **±Inf is an outlier, not a value**: excluded from the stats; clipped to the bound when
  clipping; otherwise replaced like NaN (imputed, or NaN when ``impute=None``). So the output of
  a float dtype never holds ±Inf (float16 aside: values past ±65504 overflow, as in numpy).
* ``impute=None`` keeps NaN as NaN.
* ``clip_sigma=k`` clips to ``mean ± k·std`` (std with ddof=0).
* A **constant column** (max == min) scales to exactly 0, like ``StandardScaler`` (which uses a
  scale of 1) and ``MinMaxScaler``.
* A column **without finite values** has no statistics: it is reported with
  :class:`EmptyColumnWarning` and comes out as the fill value (0 for ``impute="mean"``), or NaN
  with ``impute=None``.
* ``out_dtype=np.int8`` returns ``(q, scale)``: symmetric per-column scales fixed from the stats
  (the largest magnitude the transformed, clipped data can take), ``q = round(y / scale)`` to
  nearest even, saturating at ±127 for values outside the fitted range. It needs an ``impute``
  (NaN has no int8 code).
* Arithmetic runs in float32 for float32 input and float32/float16/int8 output (the precision
  ``StandardScaler.transform`` uses on float32 data), in float64 otherwise; coefficients are
  planned in float64.
* Inputs must be float32 or float64 (integers raise ``TypeError``: ops never convert silently).
  C- and Fortran-ordered arrays are read in place and the output keeps the input's order; other
  strides are copied to C order first.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton import _core
from lepton._validate import choice, host_array

__all__ = [
    "ColumnStats",
    "EmptyColumnWarning",
    "PreprocessPlan",
    "apply_plan",
    "column_stats",
    "make_plan",
    "merge_stats",
    "preprocess",
]

_IN_DTYPES = (np.float32, np.float64)
_OUT_DTYPES = tuple(np.dtype(d) for d in (np.float32, np.float64, np.float16, np.int8))
_INT_HINT = "; integer data is not converted silently (cast with x.astype(np.float32) first)"


class EmptyColumnWarning(UserWarning):
    """Columns without a single finite value: their statistics are undefined."""


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


def _matrix(x: Any, name: str = "x") -> np.ndarray:
    """A float32/float64 2-D array in C or Fortran order (other strides copied to C order)."""
    if isinstance(x, np.ndarray) and not x.dtype.isnative:
        # host_array compares dtypes before it fixes the byte order: fix it first (keeps order).
        x = x.astype(x.dtype.newbyteorder("="))
    if isinstance(x, np.ndarray) and x.ndim == 2 and x.flags.f_contiguous:
        # Read column-major data in place: validate its C-ordered transpose, turn it back.
        t = host_array(x.T, name, dtypes=_IN_DTYPES, ndim=2, allow_empty=True, hint=_INT_HINT)
        arr = t.T
    else:
        arr = host_array(x, name, dtypes=_IN_DTYPES, ndim=2, allow_empty=True, hint=_INT_HINT)
    if arr.size == 0:
        msg = f"{name}: expected a non-empty array, got shape {arr.shape}"
        raise ValueError(msg)
    return arr


def column_stats(x: Any) -> ColumnStats:
    """Per-column count, mean, M2, min and max of the finite values of ``x``, in one read.

    ``x``: float32 or float64, 2-D. Multithreaded (``lepton.set_num_threads``); the result does
    not depend on the thread count.
    """
    arr = _matrix(x)
    count, mean, m2, lo, hi = _core.prep_column_stats(arr)
    empty = count == 0
    return ColumnStats(
        n_rows=arr.shape[0],
        count=count.astype(np.int64),
        mean=np.where(empty, np.nan, mean),
        m2=np.where(empty, 0.0, m2),
        min=np.where(empty, np.nan, lo),
        max=np.where(empty, np.nan, hi),
    )


def _check_stats(stats: Any, name: str, n_columns: int | None = None) -> ColumnStats:
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
    _check_stats(a, "a")
    _check_stats(b, "b", a.n_columns)
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


# --------------------------------------------------------------------------------------------
# Planning: options + stats -> per-column coefficients of the fused kernel
# --------------------------------------------------------------------------------------------


def _impute_option(impute: Any) -> str | float | None:
    if impute is None or isinstance(impute, str):
        return choice(impute, "impute", ("mean", "zero", None))
    if isinstance(impute, (bool, np.bool_)) or not isinstance(impute, numbers.Real):
        msg = f"impute: expected 'mean', 'zero', None or a finite number, got {impute!r}"
        raise TypeError(msg)
    value = float(impute)
    if not np.isfinite(value):
        msg = f"impute: a constant fill must be finite, got {value}"
        raise ValueError(msg)
    return value


def _clip_option(clip_sigma: Any) -> float | None:
    if clip_sigma is None:
        return None
    if isinstance(clip_sigma, (bool, np.bool_)) or not isinstance(clip_sigma, numbers.Real):
        msg = f"clip_sigma: expected None or a number >= 0, got {clip_sigma!r}"
        raise TypeError(msg)
    value = float(clip_sigma)
    if not (np.isfinite(value) and value >= 0):
        msg = f"clip_sigma: expected a finite number >= 0, got {value}"
        raise ValueError(msg)
    return value


def _out_dtype_option(out_dtype: Any) -> np.dtype | None:
    if out_dtype is None:
        return None
    try:
        dtype = np.dtype(out_dtype)
    except TypeError:
        dtype = np.dtype(object)  # (never np.dtype(None): that is float64)
    if dtype not in _OUT_DTYPES:
        names = ", ".join(str(d) for d in _OUT_DTYPES)
        msg = f"out_dtype: expected one of {names} or None (the input's dtype), got {out_dtype!r}"
        raise ValueError(msg)
    return dtype


@dataclass(frozen=True)
class _Options:
    """The user's options, validated and normalised."""

    fill: str | float | None  # "mean", "zero", a constant, or None
    clip_sigma: float | None
    scale: str | None
    out_dtype: np.dtype | None

    @classmethod
    def from_args(cls, impute: Any, clip_sigma: Any, scale: Any, out_dtype: Any) -> _Options:
        options = cls(
            fill=_impute_option(impute),
            clip_sigma=_clip_option(clip_sigma),
            scale=choice(scale, "scale", ("standard", "minmax", None)),
            out_dtype=_out_dtype_option(out_dtype),
        )
        if options.out_dtype == np.int8 and options.fill is None:
            msg = (
                "out_dtype: int8 output needs an impute option (NaN has no int8 code), "
                "got impute=None"
            )
            raise ValueError(msg)
        return options


@dataclass(frozen=True, eq=False)
class PreprocessPlan:
    """Per-column coefficients of the apply pass: ``y = (clip(fill(x), lo, hi) - center) * mul``.

    Built by :func:`make_plan` from stats and options; :func:`apply_plan` runs it. For int8
    output ``mul`` includes ``1 / quant_scale``. ``divisor`` is the scale in the usual
    ``(x - center) / divisor`` form (1 for constant and empty columns).
    """

    n_columns: int
    out_dtype: np.dtype | None  # None: the input's dtype
    fill: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    center: np.ndarray
    mul: np.ndarray
    divisor: np.ndarray
    replace_inf: bool  # True: ±Inf is replaced like NaN; False: it is clipped
    quant_scale: np.ndarray | None  # int8 output: per-column dequantization scale


def make_plan(
    stats: ColumnStats,
    *,
    impute: Any = "mean",
    clip_sigma: Any = None,
    scale: Any = "standard",
    out_dtype: Any = np.float32,
    warn: bool = True,
) -> PreprocessPlan:
    """Validate the options and turn ``stats`` into the kernel's coefficients.

    ``warn``: report columns without finite values with :class:`EmptyColumnWarning`.
    """
    _check_stats(stats, "stats")
    options = _Options.from_args(impute, clip_sigma, scale, out_dtype)
    return _plan(stats, options, warn)


def _fill_values(option: str | float | None, mean: np.ndarray) -> np.ndarray:
    if option == "mean":
        return mean.copy()
    if option == "zero":
        return np.zeros_like(mean)
    if option is None:
        return np.full_like(mean, np.nan)
    return np.full_like(mean, float(option))


def _plan(stats: ColumnStats, options: _Options, warn: bool) -> PreprocessPlan:
    empty = stats.count == 0
    if warn and empty.any():
        _warn_empty(stats.empty_columns, options.fill)
    mean = np.where(empty, 0.0, stats.mean)
    std = np.where(empty, 0.0, stats.std)
    data_min = np.where(empty, 0.0, stats.min)
    data_max = np.where(empty, 0.0, stats.max)
    d = stats.n_columns
    fill = _fill_values(options.fill, mean)

    k = options.clip_sigma
    if k is None:
        lo, hi = np.full(d, -np.inf), np.full(d, np.inf)
    else:
        lo, hi = mean - k * std, mean + k * std
    # Range of the clipped finite data: clipping is monotone, so it is known from the stats.
    range_lo, range_hi = np.maximum(data_min, lo), np.minimum(data_max, hi)

    if options.scale == "standard":
        constant = (data_max == data_min) | ~(std > 0)
        center, divisor = mean, np.where(constant, 1.0, std)
    elif options.scale == "minmax":
        width = range_hi - range_lo
        constant = ~(width > 0)
        center, divisor = range_lo, np.where(constant, 1.0, width)
    else:
        constant = np.zeros(d, dtype=bool)
        center, divisor = np.zeros(d), np.ones(d)
    with np.errstate(over="ignore"):  # a subnormal std: treated as constant below
        inverse = 1.0 / divisor
    constant |= ~np.isfinite(inverse)
    mul = np.where(constant, 0.0, inverse)
    divisor = np.where(constant, 1.0, divisor)

    # A column without values: everything becomes the fill (bounds pinned to it), or NaN.
    center = np.where(empty, 0.0, center)
    divisor = np.where(empty, 1.0, divisor)
    if options.fill is None:
        mul = np.where(empty, np.nan, mul)
    else:
        mul = np.where(empty, 1.0, mul)
        lo, hi = np.where(empty, fill, lo), np.where(empty, fill, hi)

    quant_scale = None
    if options.out_dtype == np.int8:
        # Largest magnitude the output takes for data inside the fitted range.
        ends = np.stack([range_lo, range_hi, np.clip(fill, lo, hi)])
        ends = np.where(empty, fill, ends)
        absmax = np.max(np.abs((ends - center) * mul), axis=0)
        quant_scale = np.where(absmax > 0, absmax / 127.0, 1.0).astype(np.float32)
        mul = mul / quant_scale.astype(np.float64)

    def f64(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=np.float64)

    return PreprocessPlan(
        n_columns=d,
        out_dtype=options.out_dtype,
        fill=f64(fill),
        lo=f64(lo),
        hi=f64(hi),
        center=f64(center),
        mul=f64(mul),
        divisor=f64(divisor),
        replace_inf=k is None,
        quant_scale=quant_scale,
    )


def _warn_empty(columns: np.ndarray, fill_option: str | float | None) -> None:
    shown = ", ".join(str(c) for c in columns[:10]) + (", ..." if columns.size > 10 else "")
    if fill_option is None:
        outcome = "they stay NaN (impute=None)"
    else:
        value = 0.0 if fill_option in ("mean", "zero") else fill_option
        outcome = f"they are filled with {value}"
    msg = (
        f"{columns.size} column(s) have no finite values (all NaN or ±Inf): [{shown}]; "
        f"their statistics are undefined and {outcome}"
    )
    # _warn_empty <- _plan <- make_plan / preprocess <- the caller
    warnings.warn(msg, EmptyColumnWarning, stacklevel=4)


def apply_plan(x: Any, plan: PreprocessPlan) -> np.ndarray:
    """Run the fused apply pass of ``plan`` over ``x`` (one read, one write)."""
    arr = _matrix(x)
    if arr.shape[1] != plan.n_columns:
        msg = f"x: has {arr.shape[1]} columns, expected {plan.n_columns} (the columns of the stats)"
        raise ValueError(msg)
    dtype = plan.out_dtype if plan.out_dtype is not None else arr.dtype
    order = "F" if arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"
    out = np.empty(arr.shape, dtype=dtype, order=order)
    _core.prep_apply(arr, out, plan.fill, plan.lo, plan.hi, plan.center, plan.mul, plan.replace_inf)
    return out


def preprocess(
    x: Any,
    stats: ColumnStats | None = None,
    *,
    impute: str | float | None = "mean",
    clip_sigma: float | None = None,
    scale: str | None = "standard",
    out_dtype: Any = np.float32,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Impute → clip → scale → cast ``x`` in one fused pass (two with ``stats=None``).

    Args:
        x: float32 or float64, 2-D (C or Fortran order; the output keeps it).
        stats: statistics to use (e.g. of the training data); ``None`` computes them from ``x``.
        impute: ``"mean"``, ``"zero"``, a finite constant, or ``None`` (NaN stays NaN).
        clip_sigma: clip to ``mean ± clip_sigma·std``; ``None`` for no clipping.
        scale: ``"standard"`` ((x − mean) / std), ``"minmax"`` (clipped range to [0, 1]) or None.
        out_dtype: float32, float16, float64, int8, or None for the input's dtype.

    Returns:
        The transformed array; for ``out_dtype=np.int8`` a tuple ``(q, scale)`` with
        ``q * scale`` ≈ the float result (``scale``: float32, one per column).

    See the module docstring for the exact semantics (order, Inf, constant and empty columns).
    """
    arr = _matrix(x)
    options = _Options.from_args(impute, clip_sigma, scale, out_dtype)  # before any pass
    if stats is None:
        stats = column_stats(arr)
    else:
        _check_stats(stats, "stats", arr.shape[1])
    plan = _plan(stats, options, warn=True)
    out = apply_plan(arr, plan)
    if plan.quant_scale is not None:
        return out, plan.quant_scale.copy()
    return out
