"""``Preprocessor``: impute → clip → scale → cast as a scikit-learn transformer.

Fitting is one read of the data (:func:`lepton.ops.column_stats`); ``partial_fit`` merges the
statistics of each batch exactly (:func:`lepton.ops.merge_stats`), so fitting in batches gives
the statistics of fitting once. ``transform`` is one fused read-and-write pass whose coefficients
are planned at fit time. Semantics are those of :func:`lepton.ops.preprocess`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted

from lepton.estimators._backend import backend_of
from lepton.estimators._backend_base import Accepts
from lepton.ops._preprocess_cuda import FLOAT_INPUTS
from lepton.ops.preprocess import (
    ColumnStats,
    EmptyColumnWarning,
    PreprocessPlan,
    apply_plan,
    make_plan,
    merge_stats,
)

__all__ = ["Preprocessor"]


class Preprocessor(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fused imputation, outlier clipping, scaling and cast.

    Parameters
    ----------
    impute : "mean", "zero", float or None, default="mean"
        Value for NaN (and for ±Inf when not clipping): the column mean, 0, a constant in input
        units, or None to keep NaN.
    clip_sigma : float or None, default=None
        Clip to ``mean ± clip_sigma·std`` of the fitted data.
    scale : "standard", "minmax" or None, default="standard"
        ``(x − mean) / std`` or the clipped fitted range to ``[0, 1]``.
    out_dtype : numpy dtype or None, default=np.float32
        float32, float16, float64, int8 (codes; multiply by ``quant_scale_`` to dequantize), or
        None for the input's dtype.

    Attributes
    ----------
    stats_ : ColumnStats
        Statistics of the finite values seen in fit / partial_fit.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on data with string column names.
    n_samples_seen_ : int
        Rows seen (including rows with NaN).
    mean_, var_, data_min_, data_max_ : ndarray of float64
        Per-column statistics of the finite values (NaN for a column without any).
    fill_value_ : ndarray of float64
        Value written for missing entries (NaN with ``impute=None``).
    clip_low_, clip_high_ : ndarray of float64
        Clip bounds (±inf without clipping).
    center_, scale_ : ndarray of float64
        ``transform`` computes ``(clip(impute(x)) − center_) / scale_`` (then the cast). As in
        scikit-learn, ``scale_`` is 1 for constant columns, which come out as exactly 0.
    quant_scale_ : ndarray of float32 or None
        int8 output only: the per-column dequantization scale, fixed at fit time.

    Notes
    -----
    CUDA arrays (cupy arrays, torch CUDA tensors; float16, float32, float64) are fitted and
    transformed on their device: the statistics (``stats_``) come back to the host once per
    ``fit``/``partial_fit`` call, and ``transform`` returns an array of the input's library.

    Inputs that are not float32/float64 (integers, say) are converted to float64. Statistics
    come from the finite values, so imputed values do not shrink the variance: the output
    equals ``StandardScaler`` fitted on the data with NaN, applied after ``SimpleImputer``.
    """

    def __init__(
        self,
        impute: str | float | None = "mean",
        clip_sigma: float | None = None,
        scale: str | None = "standard",
        out_dtype: Any = np.float32,
    ) -> None:
        self.impute = impute
        self.clip_sigma = clip_sigma
        self.scale = scale
        self.out_dtype = out_dtype

    _accepts = Accepts(
        host_order=None,  # C or Fortran order, read in place
        device_dtypes=FLOAT_INPUTS,
        device_hint="; convert device data to a float dtype first",
        follows_input=False,  # the plan is host-side: any input place can be transformed
    )

    def fit(self, X: Any, y: Any = None) -> Preprocessor:
        """Compute the statistics of ``X`` and plan the transform."""
        data = backend_of(X)
        x = data.check(self, X, reset=True)
        return self._set_stats(data.column_stats(x), report_empty=True)

    def partial_fit(self, X: Any, y: Any = None) -> Preprocessor:
        """Merge the statistics of the batch ``X`` into those seen so far.

        A column without finite values in this batch is normal in a stream; one without any in
        all the batches seen is reported (``EmptyColumnWarning``) by ``transform``, not here."""
        first = not hasattr(self, "stats_")
        data = backend_of(X)
        stats = data.column_stats(data.check(self, X, reset=first))
        merged = stats if first else merge_stats(self.stats_, stats)
        return self._set_stats(merged, report_empty=False)

    def transform(self, X: Any) -> Any:
        """Impute, clip, scale and cast ``X`` with the fitted coefficients (one pass).

        CUDA input (cupy, torch) is transformed on its device; the result is its library's."""
        check_is_fitted(self, "stats_")
        self._report_empty_columns()  # here, not in each block of a dask array
        data = backend_of(X)
        x = data.check(self, X, reset=False)
        return data.rows(self, x, Preprocessor._apply, width=x.shape[1],
                         dtype=self._out_dtype(data.dtype(x)))  # fmt: skip

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """``fit(X).transform(X)`` with one validation and conversion of ``X``."""
        data = backend_of(X)
        x = data.check(self, X, reset=True)
        self._set_stats(data.column_stats(x), report_empty=True)
        return data.rows(self, x, Preprocessor._apply, width=x.shape[1],
                         dtype=self._out_dtype(data.dtype(x)))  # fmt: skip

    # -- helpers -------------------------------------------------------------------------------

    def _apply(self, x: Any) -> Any:
        """The fused pass on an in-memory array (or a dask block), host or device."""
        return apply_plan(x, self._plan)

    def _out_dtype(self, dtype: np.dtype) -> np.dtype:
        out = self._plan.out_dtype
        return np.dtype(out) if out is not None else dtype

    def _set_stats(self, stats: ColumnStats, *, report_empty: bool) -> Preprocessor:
        """Plan the transform from ``stats``; ``report_empty``: warn now about columns without
        finite values (fit), or leave that to ``transform`` (partial_fit: later batches may
        still bring values)."""
        plan: PreprocessPlan = make_plan(
            stats,
            impute=self.impute,
            clip_sigma=self.clip_sigma,
            scale=self.scale,
            out_dtype=self.out_dtype,
            warn=report_empty,
        )
        self._unreported_empty = np.empty(0, np.int64) if report_empty else stats.empty_columns
        self.stats_ = stats
        self._plan = plan
        self.n_samples_seen_ = stats.n_rows
        self.mean_ = np.array(stats.mean)
        self.var_ = stats.var
        self.data_min_ = np.array(stats.min)
        self.data_max_ = np.array(stats.max)
        self.fill_value_ = plan.fill.copy()
        self.clip_low_ = plan.lo.copy()
        self.clip_high_ = plan.hi.copy()
        self.center_ = plan.center.copy()
        self.scale_ = plan.divisor.copy()
        self.quant_scale_ = None if plan.quant_scale is None else plan.quant_scale.copy()
        return self

    def _report_empty_columns(self) -> None:
        columns = getattr(self, "_unreported_empty", ())
        if len(columns) == 0:
            return
        fill = self._plan.fill[columns[0]]
        nan = np.isnan(fill)
        outcome = "they stay NaN (impute=None)" if nan else f"they are filled with {fill}"
        shown = ", ".join(str(c) for c in columns[:10]) + (", ..." if len(columns) > 10 else "")
        msg = (
            f"{len(columns)} column(s) had no finite values in any batch given to partial_fit: "
            f"[{shown}]; their statistics are undefined and {outcome}"
        )
        warnings.warn(msg, EmptyColumnWarning, stacklevel=3)  # <- transform <- the caller

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        try:
            out = None if self.out_dtype is None else np.dtype(self.out_dtype)
        except TypeError:
            out = None  # invalid; fit reports it
        # The output keeps the input's dtype only for out_dtype=None (or the same float type).
        if out is None:
            tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        elif out in (np.float64, np.float32):
            tags.transformer_tags.preserves_dtype = [out.name]
        else:
            tags.transformer_tags.preserves_dtype = []
        return tags
