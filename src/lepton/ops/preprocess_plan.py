"""Planning the apply pass: options and column statistics -> per-column kernel coefficients.

The fused kernel computes ``y = (clip(fill(x), lo, hi) - center) * mul`` and casts; every step
that was not asked for gets identity coefficients. The semantics are documented in
:mod:`lepton.ops.preprocess`.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton._validate import choice
from lepton.ops.statistics import ColumnStats, check_stats

__all__ = ["EmptyColumnWarning", "PreprocessPlan", "make_plan"]

_OUT_DTYPES = tuple(np.dtype(d) for d in (np.float32, np.float64, np.float16, np.int8))


class EmptyColumnWarning(UserWarning):
    """Columns without a single finite value: their statistics are undefined."""


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
class Options:
    """The user's options, validated and normalised."""

    fill: str | float | None  # "mean", "zero", a constant, or None
    clip_sigma: float | None
    scale: str | None
    out_dtype: np.dtype | None

    @classmethod
    def from_args(cls, impute: Any, clip_sigma: Any, scale: Any, out_dtype: Any) -> Options:
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
    check_stats(stats, "stats")
    options = Options.from_args(impute, clip_sigma, scale, out_dtype)
    return plan_from_options(stats, options, warn)


def _fill_values(option: str | float | None, mean: np.ndarray) -> np.ndarray:
    if option == "mean":
        return mean.copy()
    if option == "zero":
        return np.zeros_like(mean)
    if option is None:
        return np.full_like(mean, np.nan)
    return np.full_like(mean, float(option))


# Smallest std (or min-max width) that is scaled; below it the column counts as constant.
SMALLEST_SCALE = 1.0 / float(np.finfo(np.float32).max)


def plan_from_options(stats: ColumnStats, options: Options, warn: bool) -> PreprocessPlan:
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
    # A scale whose reciprocal overflows float32 (a subnormal std or width) cannot be applied by
    # the float32 kernels: such a column is constant for every path, float32 or float64.
    constant |= ~(divisor >= SMALLEST_SCALE)
    inverse = 1.0 / np.where(constant, 1.0, divisor)
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
