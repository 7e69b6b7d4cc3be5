"""``lepton.dask.fit(est, X)`` and its siblings: each is the estimator's own method.

``lepton.Preprocessor`` and ``lepton.PCA`` take dask arrays themselves (their dask backend,
:mod:`lepton.estimators._backend_dask`, merges the statistics of all row blocks and maps the
fitted model over the blocks lazily); these functions stay for code that called them before.
They name the estimators without importing them: this package sits below the estimators.
"""

from __future__ import annotations

from typing import Any

import dask.array as da

__all__ = ["fit", "fit_transform", "inverse_transform", "partial_fit", "transform"]


def _check(est: Any, X: Any, kinds: tuple[str, ...]) -> None:
    lepton_kind = any(
        cls.__module__.startswith("lepton.estimators") and cls.__name__ in kinds
        for cls in type(est).__mro__
    )
    if not lepton_kind:
        wanted = " or ".join(kinds)
        msg = f"est: expected a lepton {wanted}, got {type(est).__name__}"
        raise TypeError(msg)
    if not isinstance(X, da.Array):
        msg = f"X: expected a dask.array.Array, got {type(X).__name__}"
        raise TypeError(msg)


def fit(est: Any, X: Any) -> Any:
    """``est.fit(X)`` for a dask array ``X``: merged statistics of all row blocks."""
    _check(est, X, ("Preprocessor", "PCA"))
    return est.fit(X)


def partial_fit(est: Any, X: Any) -> Any:
    """``est.partial_fit(X)`` for a dask array ``X``: its merged statistics merged into those
    seen so far."""
    _check(est, X, ("Preprocessor", "PCA"))
    return est.partial_fit(X)


def transform(est: Any, X: Any) -> da.Array:
    """``est.transform(X)`` for a dask array ``X``: a lazy dask array (same row chunks)."""
    _check(est, X, ("Preprocessor", "PCA"))
    return est.transform(X)


def fit_transform(est: Any, X: Any) -> da.Array:
    """``est.fit_transform(X)``: computes the statistics, returns the lazy transform (``X`` is
    read twice, so persist it first if producing it is costly)."""
    _check(est, X, ("Preprocessor", "PCA"))
    return est.fit_transform(X)


def inverse_transform(est: Any, X: Any) -> da.Array:
    """``PCA.inverse_transform`` of a dask array of projections, as a lazy dask array."""
    _check(est, X, ("PCA",))
    return est.inverse_transform(X)
