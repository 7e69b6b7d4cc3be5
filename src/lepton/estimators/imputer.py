"""Drop-in ``SimpleImputer`` on lepton's fused preprocessing kernels.

Subclasses scikit-learn's: the same constructor, attributes and results. For numeric data with
NaN as the missing value and the "mean" or "constant" strategy, ``fit`` is one read with the
column-statistics kernel (the mean of the observed values, float64) and ``transform`` one fused
pass that writes each NaN's fill value (scikit-learn: a mask, a copy and a scatter). Columns
without any observed value are dropped (with scikit-learn's warning) unless
``keep_empty_features=True``. numpy, cupy / torch CUDA arrays (fitted attributes on the host)
and dask arrays (lazy transform) are accepted.

scikit-learn's own implementation runs (said once at INFO level on the ``lepton.estimators``
logger) for the "median" and "most_frequent" strategies and callables (lepton's kernel has no
order statistics), ``missing_values`` other than NaN, ``add_indicator=True``, non-float data
with the "constant" strategy (scikit-learn keeps integer and object dtypes there), non-numeric
data, sparse input, float16 numpy input and host arrays of other array-API libraries under
``array_api_dispatch``; ``inverse_transform`` is scikit-learn's.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import sklearn.impute
from sklearn.base import _fit_context
from sklearn.utils._missing import is_scalar_nan
from sklearn.utils.validation import check_is_fitted

from lepton._cuda_arrays import is_cuda
from lepton._dask_input import is_dask_array
from lepton._sklearn_original import original_class
from lepton.estimators._fallback import sklearn_fallback
from lepton.estimators._fused import FusedTransform, affine_plan
from lepton.ops.preprocess_plan import PreprocessPlan

__all__ = ["SimpleImputer"]

# scikit-learn's own class, also when lepton.accel has put its routing class in its place.
_SklearnSimpleImputer = original_class(sklearn.impute.SimpleImputer)

_FLOAT_KINDS = (np.dtype(np.float32), np.dtype(np.float64))


def _dtype_reason(X: Any, strategy: str) -> str | None:
    """Data lepton's float kernels cannot take as scikit-learn would: non-numeric data, and for
    "constant" anything but float32/float64 (scikit-learn keeps integer dtypes there)."""
    if X is None or is_cuda(X) or is_dask_array(X):
        return None
    dtypes = getattr(X, "dtypes", None)  # a DataFrame: its columns' dtypes
    if dtypes is not None:
        kinds = {np.dtype(d) if isinstance(d, np.dtype) else None for d in dtypes}
    else:
        kinds = {np.asarray(X).dtype if not isinstance(X, np.ndarray) else X.dtype}
    if any(k is None or k.kind not in "biuf" for k in kinds):
        return "non-numeric data"
    if strategy == "constant" and not kinds <= set(_FLOAT_KINDS):
        return f"strategy='constant' on {', '.join(sorted(str(k) for k in kinds))} data"
    return None


class SimpleImputer(FusedTransform, _SklearnSimpleImputer):
    """``sklearn.impute.SimpleImputer`` on lepton's kernels (see the module doc)."""

    _sklearn_class = _SklearnSimpleImputer

    @classmethod
    def fallback_reason(
        cls, params: dict, X: Any = None, *, method: str = "fit", **arguments: Any
    ) -> str | None:
        """Why this call would run scikit-learn's implementation, or None when lepton runs it
        (``params``: ``get_params()``; ``X``: the input or None)."""
        strategy = params.get("strategy", "mean")
        if strategy not in ("mean", "constant"):
            name = getattr(strategy, "__name__", strategy)
            return f"strategy={name!r} (lepton's kernel has no order statistics)"
        missing = params.get("missing_values", np.nan)
        if not (isinstance(missing, float) and is_scalar_nan(missing)):
            return f"missing_values={missing!r} (lepton's kernel imputes NaN)"
        if params.get("add_indicator", False):
            return "add_indicator=True"
        fill = params.get("fill_value")
        if strategy == "constant" and not (fill is None or _finite_number(fill)):
            return f"fill_value={fill!r}"
        return cls._input_reason(X) or _dtype_reason(X, strategy)

    @sklearn_fallback
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> SimpleImputer:
        """The mean of the observed values of each column (one read), or the constant."""
        stats, dtype = self._column_stats(X, reset=True)
        self._fit_dtype = self._fill_dtype = dtype
        self.indicator_ = None
        empty = stats.count == 0
        if self.strategy == "mean":
            statistics = np.where(empty, 0.0 if self.keep_empty_features else np.nan, stats.mean)
        else:
            fill = 0 if self.fill_value is None else self.fill_value
            statistics = np.full(stats.n_columns, fill, dtype=object)
            if not self.keep_empty_features:
                statistics[empty] = np.nan
        self.statistics_ = statistics
        self._stats = stats
        self._fitted()
        return self

    @sklearn_fallback
    def transform(self, X: Any) -> Any:
        """Every NaN replaced by its column's statistic, in one pass; columns without observed
        values in fit dropped (unless ``keep_empty_features``)."""
        check_is_fitted(self)
        keep = self._kept_columns()
        out = self._fused_transform(X, copy=self.copy)
        return out if keep is None else out[:, keep]

    def _kept_columns(self) -> np.ndarray | None:
        """Indices of the columns that have a statistic (None: all), warning as scikit-learn
        does about the others."""
        if self.keep_empty_features:
            return None
        missing = np.array([is_scalar_nan(v) for v in self.statistics_], dtype=bool)
        if not missing.any():
            return None
        dropped = np.flatnonzero(missing)
        if hasattr(self, "feature_names_in_"):
            dropped = self.feature_names_in_[dropped]
        msg = (
            f"Skipping features without any observed values: {dropped}. At least one "
            f"non-missing value is needed for imputation with strategy='{self.strategy}'."
        )
        warnings.warn(msg, stacklevel=3)
        return np.flatnonzero(~missing)

    def _plan(self, dtype: np.dtype) -> PreprocessPlan:
        statistics = np.array(
            [np.nan if is_scalar_nan(v) else float(v) for v in self.statistics_], np.float64
        )
        # scikit-learn writes the statistics cast to the fit's dtype
        fill = statistics.astype(self._fill_dtype).astype(np.float64)
        return affine_plan(self.n_features_in_, fill=fill)


def _finite_number(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and bool(np.isfinite(float(value)))
    )
