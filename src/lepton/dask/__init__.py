"""Lepton on ``dask.array``: Preprocessor and PCA fitted on partitioned data (DESIGN §6).

The statistics behind both estimators merge exactly: per-column count, mean, M2, min and max
(:func:`lepton.ops.merge_stats`) and the centred Gram matrix (:func:`lepton.ops.merge_gram`).
:func:`column_stats` and :func:`gram` run lepton's one-pass kernel on every row block of a
2-D dask array and merge the results in a tree on the workers, so the client receives one
small result, equal (to float64 round-off) to the kernel's result on the whole array.

``lepton.Preprocessor`` and ``lepton.PCA`` use these statistics when given a dask array
(through their dask backend, :mod:`lepton.estimators._backend_dask`): ``fit`` / ``partial_fit``
compute the merged statistics; ``transform`` (and PCA's ``inverse_transform``) returns a lazy
dask array, one call of the fitted estimator per block. ``fit(est, X)`` and its siblings here
are those methods, kept for code that called them. Nothing here imports the estimators.

Needs ``dask[array]``: ``pip install 'lepton-kernels[dask]'``.
"""

from __future__ import annotations

try:
    import dask.array  # noqa: F401  (the import this package needs)
except ImportError as exc:
    msg = (
        "lepton.dask needs dask with its array extra, which is not installed: "
        "pip install 'lepton-kernels[dask]'"
    )
    raise ImportError(msg) from exc

from lepton.dask._estimators import fit, fit_transform, inverse_transform, partial_fit, transform
from lepton.dask._stats import column_stats, gram

__all__ = [
    "column_stats",
    "fit",
    "fit_transform",
    "gram",
    "inverse_transform",
    "partial_fit",
    "transform",
]
