"""Drop-in ``StandardScaler`` and ``MinMaxScaler`` on lepton's fused preprocessing kernels.

Each subclasses scikit-learn's: the same constructor, attributes (same dtypes), methods and
numbers within float round-off. ``fit`` / ``partial_fit`` read the data once with the
column-statistics kernel (count, mean, M2, min, max of the finite values, float64; batches
merge exactly); ``transform`` is one fused read-and-write pass (scikit-learn: a copy and two or
three passes). NaN is ignored in fit and kept in transform, ±Inf refused on the host, as in
scikit-learn. numpy, cupy / torch CUDA arrays (fitted attributes stay numpy arrays on the host)
and dask arrays (lazy transform) are accepted.

scikit-learn's own implementation runs (said once at INFO level on the ``lepton.estimators``
logger) for sparse input, ``sample_weight``, float16 numpy input and host arrays of other
array-API libraries under ``array_api_dispatch``; ``inverse_transform`` is scikit-learn's
(host arrays).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import sklearn.preprocessing
from sklearn.base import _fit_context
from sklearn.preprocessing._data import _handle_zeros_in_scale, _is_constant_feature
from sklearn.utils.validation import check_is_fitted

from lepton._sklearn_original import original_class
from lepton.estimators._fallback import sklearn_fallback
from lepton.estimators._fused import FusedTransform, affine_plan
from lepton.ops.preprocess_plan import PreprocessPlan
from lepton.ops.preprocess_stats import ColumnStats, merge_stats

__all__ = ["MinMaxScaler", "StandardScaler"]

# scikit-learn's own classes, also when lepton.accel has put its routing classes in their place.
_SklearnStandardScaler = original_class(sklearn.preprocessing.StandardScaler)
_SklearnMinMaxScaler = original_class(sklearn.preprocessing.MinMaxScaler)


@contextlib.contextmanager
def _fit_task(est: Any, X: Any, y: Any) -> Iterator[None]:
    """scikit-learn's fit callbacks (``set_callbacks``, scikit-learn ≥ 1.9) around one fit task,
    as its StandardScaler reports them; nothing on versions without callbacks."""
    init = getattr(est, "_init_callback_context", None)
    if init is None:
        yield
        return
    context = init()
    metadata = {"sample_weight": None}
    context.call_on_fit_task_begin(estimator=est, X=X, y=y, metadata=metadata)
    yield
    context.call_on_fit_task_end(estimator=est, X=X, y=y, metadata=metadata,
                                 reconstruction_attributes={})  # fmt: skip


class _StatsScaler(FusedTransform):
    """fit = reset + partial_fit; partial_fit merges lepton's column statistics (or continues
    scikit-learn's own running attributes when scikit-learn fitted the model)."""

    def _reset(self) -> None:
        super()._reset()
        self._stats = None

    def _merge(self, X: Any) -> tuple[ColumnStats, np.dtype] | None:
        """The merged statistics with ``X``'s, or None when the model was fitted by
        scikit-learn (its running attributes are then extended by its own partial_fit)."""
        first = not hasattr(self, "n_samples_seen_")
        if not first and getattr(self, "_stats", None) is None:
            return None
        stats, dtype = self._column_stats(X, reset=first)
        return (stats if first else merge_stats(self._stats, stats)), dtype

    def _continue_sklearn(self, X: Any, y: Any) -> Any:
        """scikit-learn's partial_fit, extending the running attributes its fit left."""
        self._sklearn_class.partial_fit(self, X, y)
        self._after_sklearn("partial_fit")
        return self


class StandardScaler(_StatsScaler, _SklearnStandardScaler):
    """``sklearn.preprocessing.StandardScaler`` on lepton's kernels (see the module doc).

    ``mean_`` / ``var_`` are the float64 mean and population variance of the finite values;
    ``scale_`` is ``sqrt(var_)``, 1 for columns scikit-learn's rule finds constant;
    ``n_samples_seen_`` counts the finite values per column (one number when they agree).
    """

    _sklearn_class = _SklearnStandardScaler

    @classmethod
    def fallback_reason(
        cls, params: dict, X: Any = None, *, method: str = "fit", **arguments: Any
    ) -> str | None:
        """Why this call would run scikit-learn's implementation, or None when lepton runs it
        (``params``: ``get_params()``; ``X``: the input or None; ``arguments``: the call's
        other arguments, e.g. ``sample_weight``)."""
        if arguments.get("sample_weight") is not None:
            return "sample_weight (lepton's statistics are unweighted)"
        return cls._input_reason(X)

    @sklearn_fallback
    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Per-column mean and variance of the finite values of ``X`` (one read)."""
        self._reset()
        return self.partial_fit(X, y)

    @sklearn_fallback
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Merge the statistics of the batch ``X`` into those seen so far (exactly)."""
        merged = self._merge(X)
        if merged is None:
            return self._continue_sklearn(X, y)
        with _fit_task(self, X, y):
            self._set_moments(merged[0])
            self._fitted()
        return self

    def _set_moments(self, stats: ColumnStats) -> None:
        self._stats = stats
        count = stats.count
        if not (self.with_mean or self.with_std):
            seen = count.astype(np.int64)
            self.mean_ = self.var_ = None
        else:
            seen = count.astype(np.float64)
            # All finite values equal: the mean is that value and the variance exactly 0 (the
            # kernel's sums leave a rounding residue that scikit-learn's checks would see).
            constant = stats.min == stats.max
            self.mean_ = np.where(constant, stats.min, stats.mean)
            self.var_ = np.where(constant, 0.0, stats.var) if self.with_std else None
        self.n_samples_seen_ = seen[0] if seen.size and seen.max() == seen.min() else seen
        if self.with_std:
            constant = _is_constant_feature(self.var_, self.mean_, self.n_samples_seen_)
            self.scale_ = _handle_zeros_in_scale(np.sqrt(self.var_), constant_mask=constant)
        else:
            self.scale_ = None

    @sklearn_fallback
    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """``(X − mean_) / scale_`` in one pass (in place with ``copy=False`` where possible)."""
        check_is_fitted(self)
        copy = self.copy if copy is None else copy
        return self._fused_transform(X, copy=copy)

    def _plan(self, dtype: np.dtype) -> PreprocessPlan:
        center = self.mean_ if self.with_mean else 0.0
        divisor = self.scale_ if self.with_std else 1.0
        if dtype != np.float64:  # scikit-learn casts both to X's dtype first
            center = np.asarray(center, np.float64).astype(dtype).astype(np.float64)
            divisor = np.asarray(divisor, np.float64).astype(dtype).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):  # NaN statistics stay NaN
            mul = 1.0 / np.asarray(divisor, np.float64)
        return affine_plan(self.n_features_in_, center=center, mul=mul)


class MinMaxScaler(_StatsScaler, _SklearnMinMaxScaler):
    """``sklearn.preprocessing.MinMaxScaler`` on lepton's kernels (see the module doc).

    The fitted attributes (``data_min_``, ``data_max_``, ``data_range_``, ``scale_``,
    ``min_``) have ``X``'s dtype and scikit-learn's definitions. The transform computes
    ``(X − data_min_)·scale_ + low`` (scikit-learn: ``X·scale_ + min_``, which loses digits
    when |data_min_| ≫ data_range_); with ``clip=True`` it is scikit-learn's (exact bounds).
    """

    _sklearn_class = _SklearnMinMaxScaler

    @classmethod
    def fallback_reason(
        cls, params: dict, X: Any = None, *, method: str = "fit", **arguments: Any
    ) -> str | None:
        """Why this call would run scikit-learn's implementation, or None when lepton runs it
        (``params``: ``get_params()``; ``X``: the input or None)."""
        if params.get("clip") and method == "transform":
            # the fused kernel clips before scaling: the bounds would hold only to rounding
            return "clip=True (scikit-learn clips the scaled output exactly)"
        return cls._input_reason(X)

    @sklearn_fallback
    def fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Per-column min and max of the finite values of ``X`` (one read)."""
        self._reset()
        return self.partial_fit(X, y)

    @sklearn_fallback
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Merge the min and max of the batch ``X`` into those seen so far."""
        low, high = self.feature_range
        if low >= high:
            msg = (
                "Minimum of desired feature range must be smaller than maximum. Got "
                f"{self.feature_range}."
            )
            raise ValueError(msg)
        merged = self._merge(X)
        if merged is None:
            return self._continue_sklearn(X, y)
        stats, dtype = merged
        self._stats = stats
        self.n_samples_seen_ = int(stats.n_rows)
        self.data_min_ = stats.min.astype(dtype)
        self.data_max_ = stats.max.astype(dtype)
        self.data_range_ = self.data_max_ - self.data_min_
        width = dtype.type(high) - dtype.type(low)
        self.scale_ = width / _handle_zeros_in_scale(self.data_range_, copy=True)
        self.min_ = dtype.type(low) - self.data_min_ * self.scale_
        self._fitted()
        return self

    @sklearn_fallback
    def transform(self, X: Any) -> Any:
        """``X · scale_ + min_`` in one pass."""
        check_is_fitted(self)
        return self._fused_transform(X, copy=self.copy)

    def _plan(self, dtype: np.dtype) -> PreprocessPlan:
        # x·scale_ + min_ = (x − center)·scale_ with center = data_min_ − low / scale_: data_min_
        # itself for the default range (exact differences x − data_min_; scikit-learn's
        # x·scale_ + min_ cancels when |data_min_| ≫ data_range_)
        scale = np.asarray(self.scale_, np.float64)
        low = float(self.feature_range[0])
        with np.errstate(divide="ignore", invalid="ignore"):  # NaN statistics stay NaN
            center = np.asarray(self.data_min_, np.float64) - low / scale
        return affine_plan(self.n_features_in_, center=center, mul=scale)
