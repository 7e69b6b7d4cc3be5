"""``lepton.Preprocessor`` and ``lepton.PCA`` on dask arrays.

The estimators call these when their input is a ``dask.array.Array`` (a two-line hook at the
top of each public method). Fitting computes the merged statistics of all row blocks
(:mod:`lepton.dask._stats`) and hands them to the estimator's own code that turns statistics
into a model, so a dask fit and a fit on the computed array differ only by the float64
round-off of the merges. ``transform`` / ``inverse_transform`` build a lazy dask array: the
fitted estimator (a snapshot, so refitting it later does not change the graph) applied to each
row block; nothing is computed until the result is.

PCA on dask input runs the covariance solver (``solver="auto"`` resolves to it): it is the one
whose statistics merge. "randomized" and "full" need all rows at once (several passes over a
centred X, or its SVD) and are refused with a ``ValueError``; fit on ``x.compute()`` for them.
"""

from __future__ import annotations

import copy
from typing import Any

import dask.array as da
import numpy as np
from sklearn.utils.validation import check_is_fitted

from lepton._cuda_arrays import is_cuda
from lepton.dask._stats import column_stats, gram, row_blocks
from lepton.estimators.pca import PCA
from lepton.estimators.preprocessor import Preprocessor
from lepton.ops.pca import GramStats, merge_gram
from lepton.ops.preprocess_stats import merge_stats

__all__ = ["fit", "fit_transform", "inverse_transform", "partial_fit", "transform"]

_ESTIMATORS = (Preprocessor, PCA)
_MERGEABLE_SOLVERS = ("auto", "covariance")


def _check_estimator(est: Any) -> None:
    if not isinstance(est, _ESTIMATORS):
        msg = f"est: expected a lepton Preprocessor or PCA, got {type(est).__name__}"
        raise TypeError(msg)


def _as_float(x: da.Array) -> da.Array:
    """float32/float64 kept; integers and booleans to float64 (lazily), as the estimators do."""
    if x.dtype in (np.float32, np.float64):
        return x
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    msg = f"X: expected a real numeric dask array, got dtype {x.dtype}"
    raise TypeError(msg)


def _features(est: Any, X: Any, *, reset: bool, columns: int | None = None) -> da.Array:
    """X as a float dask array with blocks spanning all columns; sets or checks the feature
    count the way ``sklearn.utils.validation.validate_data`` does for a nameless array.

    """
    x = _as_float(row_blocks(X, "X"))
    width = x.shape[1]
    if reset:
        est.n_features_in_ = width
        if hasattr(est, "feature_names_in_"):  # a dask array has no column names
            del est.feature_names_in_
        return x
    expected = est.n_features_in_ if columns is None else columns
    if width != expected:
        msg = f"X has {width} features, but {type(est).__name__} is expecting {expected} features"
        raise ValueError(msg + " as input.")
    return x


# -- fitting ------------------------------------------------------------------------------------


def _check_pca_solver(est: PCA) -> None:
    est._check_params()
    if est.solver not in _MERGEABLE_SOLVERS:
        msg = (
            f"solver={est.solver!r}: not available on a dask array, because it needs all rows "
            "at once; use solver='covariance' (or 'auto', which is 'covariance' on dask input), "
            "whose Gram statistics merge across blocks, or fit on x.compute()"
        )
        raise ValueError(msg)


def _fit_pca_from(est: PCA, stats: GramStats, dtype: np.dtype) -> None:
    if is_cuda(stats.mean):  # CUDA chunks: device statistics, a device-fitted model
        from lepton.estimators import _pca_gpu
        from lepton.ops import _pca_cuda

        # The fitted arrays take the library, device and dtype of this small stand-in for X.
        like = _pca_cuda.astype(stats.mean, dtype.name)
        _pca_gpu._fit_from_gram(est, like, stats)
    else:
        est._fit_from_gram(stats, dtype)


def fit(est: Any, X: Any) -> Any:
    """``est.fit(X)`` for a dask array ``X``: merged statistics of all row blocks."""
    _check_estimator(est)
    if isinstance(est, PCA):
        _check_pca_solver(est)
        x = _features(est, X, reset=True)
        _fit_pca_from(est, gram(x), x.dtype)
    else:
        x = _features(est, X, reset=True)
        est._set_stats(column_stats(x), report_empty=True)
    return est


def partial_fit(est: Any, X: Any) -> Any:
    """``est.partial_fit(X)`` for a dask array ``X``: its merged statistics merged into those
    seen so far (PCA always runs the covariance solver here, as in ``PCA.partial_fit``)."""
    _check_estimator(est)
    if isinstance(est, Preprocessor):
        first = not hasattr(est, "stats_")
        stats = column_stats(_features(est, X, reset=first))
        merged = stats if first else merge_stats(est.stats_, stats)
        return est._set_stats(merged, report_empty=False)
    est._check_params()
    first = not hasattr(est, "components_")
    if not first and getattr(est, "_gram_stats", None) is None:
        msg = (
            f"partial_fit: this model was fitted with solver={est.solver_!r}, which keeps "
            "no Gram statistics to extend; refit it with solver='covariance'"
        )
        raise ValueError(msg)
    x = _features(est, X, reset=first)
    stats = gram(x)
    _fit_pca_from(est, stats if first else merge_gram(est._gram_stats, stats), x.dtype)
    return est


# -- lazy transforms ----------------------------------------------------------------------------


def _apply(block: Any, method: str, est: Any, width: int, dtype: np.dtype) -> Any:
    if block.shape[0] == 0:  # scikit-learn refuses 0 rows; an empty chunk maps to an empty one
        return block.reshape(0, width).astype(dtype)
    return getattr(est, method)(block)


def _lazy(est: Any, x: da.Array, method: str, width: int, dtype: np.dtype) -> da.Array:
    snapshot = copy.deepcopy(est)
    snapshot._unreported_empty = ()  # reported on the client by transform
    return x.map_blocks(
        _apply,
        method,
        snapshot,
        width,
        dtype,
        dtype=dtype,
        chunks=(x.chunks[0], (width,)),
        meta=da.utils.meta_from_array(x._meta, ndim=2, dtype=dtype),
        token=f"lepton-{type(est).__name__.lower()}-{method.replace('_', '-')}",
    )


def transform(est: Any, X: Any) -> da.Array:
    """``est.transform(X)`` for a dask array ``X``, as a lazy dask array (same row chunks;
    one block of columns: all features for Preprocessor, ``n_components_`` for PCA)."""
    _check_estimator(est)
    if isinstance(est, PCA):
        check_is_fitted(est)
        x = _features(est, X, reset=False)
        return _lazy(est, x, "transform", est.n_components_, x.dtype)
    check_is_fitted(est, "stats_")
    est._report_empty_columns()  # once, here, not in every block's transform
    x = _features(est, X, reset=False)
    out = est._plan.out_dtype
    return _lazy(est, x, "transform", x.shape[1], np.dtype(out) if out is not None else x.dtype)


def fit_transform(est: Any, X: Any) -> da.Array:
    """``fit(est, X)`` (computes the statistics), then the lazy ``transform(est, X)``: ``X`` is
    read twice, so persist it first if producing it is costly."""
    return transform(fit(est, X), X)


def inverse_transform(est: Any, X: Any) -> da.Array:
    """``PCA.inverse_transform`` of a dask array of projections, as a lazy dask array."""
    if not isinstance(est, PCA):
        msg = f"est: expected a lepton PCA, got {type(est).__name__}"
        raise TypeError(msg)
    check_is_fitted(est)
    x = _as_float(row_blocks(X, "X"))
    if x.shape[1] != est.n_components_:
        msg = f"X: expected {est.n_components_} columns (n_components_), got {x.shape[1]}"
        raise ValueError(msg)
    return _lazy(est, x, "inverse_transform", est.n_features_in_, x.dtype)
