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
  scale of 1) and ``MinMaxScaler``. So does a column whose std (or min-max width) is below
  ``SMALLEST_SCALE`` = 1/float32-max ≈ 2.9e-39, whose reciprocal the float32 kernels cannot hold.
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
  C- and Fortran-ordered arrays are read in place and the output keeps the input's order; a
  strided view is copied first, to Fortran order when it is column-major (unit stride down its
  columns: row ranges or column subsets of a Fortran-ordered array), else to C order, and the
  output has that order — on every device (:mod:`lepton.ops.preprocess_layout`).
* **CUDA arrays** (cupy, torch CUDA tensors; float16 as well, widened exactly to float32) run
  both passes on their device with the same numbers (``_preprocess_cuda``); results are the
  input's library's arrays, ``out=`` must be one on the same device, and ``config`` is a
  ``config_table("preprocess_cuda")`` id. ``ColumnStats`` stay on the host: computing them
  costs one host synchronisation. A host array mixed with a device one raises ``TypeError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton import _core
from lepton._cuda_arrays import describe_all, is_cuda
from lepton.ops import _preprocess_cuda
from lepton.ops._gemm_cuda import require_cuda_build
from lepton.ops.preprocess_layout import output_order
from lepton.ops.preprocess_plan import (
    EmptyColumnWarning,
    Options,
    PreprocessPlan,
    make_plan,
    plan_from_options,
)
from lepton.ops.preprocess_stats import (
    ColumnStats,
    check_stats,
    column_stats,
    config_id,
    host_matrix,
    merge_stats,
)

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


def _output(arr: np.ndarray, dtype: np.dtype, out: Any) -> np.ndarray:
    """A new array like ``arr`` (its order by ``preprocess_layout.output_order``, the CUDA op's
    rule too), or ``out`` checked to be a valid destination."""
    order = output_order(arr.shape, arr.strides, arr.itemsize)
    if out is None:
        return np.empty(arr.shape, dtype=dtype, order=order)
    if not isinstance(out, np.ndarray):
        msg = f"out: expected a numpy array, got {type(out).__name__}"
        raise TypeError(msg)
    if out.dtype != dtype:
        msg = f"out: expected dtype {dtype} (the output dtype), got {out.dtype}"
        raise TypeError(msg)
    if out.shape != arr.shape:
        msg = f"out: expected shape {arr.shape}, got {out.shape}"
        raise ValueError(msg)
    if not (out.flags.c_contiguous if order == "C" else out.flags.f_contiguous):
        msg = f"out: expected a {order}-contiguous array (the order of x)"
        raise ValueError(msg)
    if not out.flags.writeable:
        msg = "out: array is read-only"
        raise ValueError(msg)
    same_buffer = out.ctypes.data == arr.ctypes.data and out.dtype.itemsize == arr.dtype.itemsize
    if np.may_share_memory(out, arr) and not same_buffer:
        # Elementwise in place is safe; a shifted or narrower overlap would read written values.
        msg = "out: overlaps x without being x itself"
        raise ValueError(msg)
    return out


def _on_device(x: Any, out: Any) -> bool:
    """Whether this is a CUDA call; a host+device mix or two devices raise here, in every build."""
    if not (is_cuda(x) or is_cuda(out)):
        return False
    describe_all({"x": x, "out": out})
    require_cuda_build("x")
    return True


def _preprocess_on_device(
    x: Any, stats: Any, out: Any, config: Any, *options_args: Any
) -> Any | tuple[Any, Any]:
    options = Options.from_args(*options_args)  # before any pass
    m = _preprocess_cuda.Matrix(x)
    if out is not None:
        _preprocess_cuda.check_out(out, m, (options.out_dtype or np.dtype(m.d.dtype)).name)
    if stats is not None:
        check_stats(stats, "stats", m.cols)
    cfg = _preprocess_cuda.resolve_config(config, m)  # one lookup for both passes
    if stats is None:
        stats = column_stats(x, config=cfg)  # one host synchronisation: plans are host-side
    plan = plan_from_options(stats, options, warn=True)
    result = _preprocess_cuda.apply(x, plan, out, cfg)
    if plan.quant_scale is not None:
        return result, _preprocess_cuda.quant_scale(x, plan)
    return result


def apply_plan(
    x: Any, plan: PreprocessPlan, *, out: np.ndarray | None = None, config: int | None = None
) -> np.ndarray:
    """Run the fused apply pass of ``plan`` over ``x`` (one read, one write).

    ``out``: an array to write into (dtype, shape and order of the result; may be ``x`` itself
    for in-place work). Reusing one spares the operating system's zeroing of fresh pages, which
    for large arrays costs about as much as the pass itself.
    ``config``: a ``config_table("preprocess")`` id, or ``None`` (tuning cache, else entry 0);
    the output is the same under every config.
    """
    if _on_device(x, out):
        return _preprocess_cuda.apply(x, plan, out, config)
    arr = host_matrix(x)
    if arr.shape[1] != plan.n_columns:
        msg = f"x: has {arr.shape[1]} columns, expected {plan.n_columns} (the columns of the stats)"
        raise ValueError(msg)
    dtype = plan.out_dtype if plan.out_dtype is not None else arr.dtype
    result = _output(arr, np.dtype(dtype), out)
    cfg = config_id(config, arr)
    args = (plan.fill, plan.lo, plan.hi, plan.center, plan.mul, plan.replace_inf)
    _core.prep_apply(arr, result, *args, config=cfg)
    return result


def preprocess(
    x: Any,
    stats: ColumnStats | None = None,
    *,
    impute: str | float | None = "mean",
    clip_sigma: float | None = None,
    scale: str | None = "standard",
    out_dtype: Any = np.float32,
    out: np.ndarray | None = None,
    config: int | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Impute → clip → scale → cast ``x`` in one fused pass (two with ``stats=None``).

    Args:
        x: float32 or float64, 2-D (C or Fortran order; the output keeps it).
        stats: statistics to use (e.g. of the training data); ``None`` computes them from ``x``.
        impute: ``"mean"``, ``"zero"``, a finite constant, or ``None`` (NaN stays NaN).
        clip_sigma: clip to ``mean ± clip_sigma·std``; ``None`` for no clipping.
        scale: ``"standard"`` ((x − mean) / std), ``"minmax"`` (clipped range to [0, 1]) or None.
        out_dtype: float32, float16, float64, int8, or None for the input's dtype.
        out: optional destination (the result's dtype, shape and order; may be ``x`` itself).
            Reusing a buffer across calls spares the zeroing of fresh pages by the OS.
        config: an id from ``lepton.ops.config_table("preprocess")`` (work-item size, streaming
            stores, thread cap, item order) for both passes; ``None`` asks the tuning cache for
            this shape and dtype, else entry 0. The output is the same under every config, up
            to the round-off of the statistics when their work-item sizes differ.

    Returns:
        The transformed array; for ``out_dtype=np.int8`` a tuple ``(q, scale)`` with
        ``q * scale`` ≈ the float result (``scale``: float32, one per column).

    See the module docstring for the exact semantics (order, Inf, constant and empty columns).
    """
    if _on_device(x, out):
        return _preprocess_on_device(x, stats, out, config, impute, clip_sigma, scale, out_dtype)
    arr = host_matrix(x)
    options = Options.from_args(impute, clip_sigma, scale, out_dtype)  # before any pass
    if out is not None:
        _output(arr, options.out_dtype or arr.dtype, out)
    cfg = config_id(config, arr)  # one cache lookup for both passes
    if stats is None:
        stats = column_stats(arr, config=cfg)
    else:
        check_stats(stats, "stats", arr.shape[1])
    plan = plan_from_options(stats, options, warn=True)
    result = apply_plan(arr, plan, out=out, config=cfg)
    if plan.quant_scale is not None:
        return result, plan.quant_scale.copy()
    return result
