"""What lepton's drop-in scalers and imputer share: their statistics come from the one-pass
column-statistics kernel, and their transform is one pass of the fused preprocessing kernel
(``y = (clip(fill(x), lo, hi) − center) · mul``, :func:`lepton.ops.preprocess.apply_plan`),
both through the backend seam (numpy, CUDA, dask). The kernel's coefficients are planned from
the estimator's scikit-learn attributes, so a model fitted by scikit-learn's own code (a
fallback) transforms on lepton as well.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from lepton.estimators._backend import backend_of
from lepton.estimators._backend_base import Accepts
from lepton.estimators._fallback import input_reason
from lepton.ops._preprocess_cuda import FLOAT_INPUTS
from lepton.ops.preprocess import PreprocessPlan, apply_plan
from lepton.ops.preprocess_stats import ColumnStats

__all__ = ["FusedTransform", "affine_plan"]


def affine_plan(
    n: int,
    *,
    center: Any = 0.0,
    mul: Any = 1.0,
    fill: Any = np.nan,
    lo: Any = -np.inf,
    hi: Any = np.inf,
) -> PreprocessPlan:
    """The kernel's coefficients for ``(clip(fill(x), lo, hi) − center) · mul`` per column
    (scalars broadcast; a NaN fill keeps NaN). ±Inf is replaced like NaN unless clipping."""

    def column(value: Any) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(np.asarray(value, np.float64), (n,)))

    lo, hi, mul = column(lo), column(hi), column(mul)
    with np.errstate(divide="ignore", invalid="ignore"):
        divisor = 1.0 / mul  # informational: the kernel multiplies
    return PreprocessPlan(
        n_columns=n,
        out_dtype=None,
        fill=column(fill),
        lo=lo,
        hi=hi,
        center=column(center),
        mul=mul,
        divisor=divisor,
        replace_inf=bool(np.all(np.isinf(lo)) and np.all(np.isinf(hi))),
        quant_scale=None,
    )


def _apply(est: Any, x: Any, *, plan: PreprocessPlan, in_place: bool) -> Any:
    """The fused pass over an in-memory array (or a dask block); in place when asked and
    possible (a writeable numpy array)."""
    out = x if in_place and isinstance(x, np.ndarray) and x.flags.writeable else None
    return apply_plan(x, plan, out=out)


class FusedTransform:
    """Mixin (before the scikit-learn class) for the drop-ins' statistics and transform."""

    _accepts = Accepts(
        host_order=None,  # C or Fortran order, read in place; the output keeps it
        device_dtypes=FLOAT_INPUTS,
        device_hint="; convert device data to a float dtype first",
        follows_input=False,  # fitted attributes stay on the host: any input place transforms
    )

    @staticmethod
    def _input_reason(X: Any) -> str | None:
        return None if X is None else input_reason(X, float16=True)

    def _column_stats(self, X: Any, *, reset: bool) -> tuple[ColumnStats, np.dtype]:
        """Statistics of the finite values of ``X`` (NaN allowed, ±Inf refused on the host as
        scikit-learn refuses it) and ``X``'s float dtype."""
        data = backend_of(X)
        x = data.check(self, X, reset=reset, finite="allow-nan")
        return data.column_stats(x), np.dtype(data.dtype(x))

    def _plan(self, dtype: np.dtype) -> PreprocessPlan:
        """The kernel's coefficients for input of ``dtype``, from the fitted attributes."""
        raise NotImplementedError

    def _fitted(self) -> None:
        """Plan the transform once per fit (for both host float types): the fitted attributes
        are read on every call otherwise."""
        self._plans = {dt: self._plan(dt) for dt in (np.dtype(np.float32), np.dtype(np.float64))}

    def _fused_transform(self, X: Any, *, copy: bool) -> Any:
        """``X`` through the fitted plan for its float dtype (one pass)."""
        data = backend_of(X)
        x = data.check(self, X, reset=False, finite="allow-nan")
        dtype = np.dtype(data.dtype(x))
        plan = (getattr(self, "_plans", None) or {}).get(dtype) or self._plan(dtype)
        fn = functools.partial(_apply, plan=plan, in_place=not copy and data.in_memory)
        return data.rows(self, x, fn, width=x.shape[1], dtype=dtype, finite="allow-nan")

    def _after_sklearn(self, method: str) -> None:
        # scikit-learn's fit keeps no lepton statistics to merge into; its attributes are
        # planned on each transform
        self._stats = self._plans = None
