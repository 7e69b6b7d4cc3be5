"""The estimators' dask backend: statistics merged over row blocks, row-wise methods mapped
lazily over them.

Fits compute the merged statistics of all row blocks (:mod:`lepton.dask._stats`: one kernel
call per block, an exact tree merge on the workers) and hand them to the estimator's own code
that turns statistics into a model, so a dask fit and a fit on the computed array differ only by
the float64 round-off of the merges. Row-wise methods (``transform``, ``inverse_transform``)
build a lazy dask array: a snapshot of the fitted estimator (refitting it later does not change
the graph) runs the in-memory backend of each block (numpy or CUDA) on it; nothing is computed
until the result is.

Only statistics that merge can be fitted here: PCA runs its covariance solver ("randomized" and
"full" need all rows at once).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import dask.array as da
import numpy as np

from lepton._cuda_arrays import is_cuda
from lepton.dask._stats import column_stats, gram, row_blocks
from lepton.estimators._backend_base import check_width
from lepton.estimators._backend_cuda import DEVICE
from lepton.estimators._backend_host import HOST

__all__ = ["PARTITIONED", "Partitioned"]


def _as_float(x: da.Array) -> da.Array:
    """float32/float64 kept; integers and booleans to float64 (lazily), as on the host."""
    if x.dtype in (np.float32, np.float64):
        return x
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    msg = f"X: expected a real numeric dask array, got dtype {x.dtype}"
    raise TypeError(msg)


def _block(
    block: Any, fn: Callable, est: Any, width: int, dtype: np.dtype, check: dict[str, Any]
) -> Any:
    if block.shape[0] == 0:  # scikit-learn refuses 0 rows; an empty chunk maps to an empty one
        return block.reshape(0, width).astype(dtype)
    data = DEVICE if is_cuda(block) else HOST
    if est._accepts.follows_input:
        data.check_place(est, block)
    return fn(est, data.check(est, block, reset=False, **check))


class Partitioned:
    """dask arrays (numpy or cupy chunks), chunked by rows."""

    name = "dask"
    in_memory = False  # the row count may be unknown until the statistics are computed
    solvers = ("auto", "covariance_eigh")  # "auto" is the covariance solver here
    fast_gram = False

    @staticmethod
    def check(
        est: Any, X: Any, *, reset: bool, finite: bool = False, columns: int | None = None
    ) -> da.Array:
        """``X`` as a float dask array whose blocks span all columns; the feature count set or
        checked the way ``validate_data`` does for a nameless array. Values (finiteness) are
        checked block by block, when they are computed."""
        x = _as_float(row_blocks(X, "X"))
        check_width(est, x.shape[1], reset=reset, columns=columns)
        return x

    @staticmethod
    def check_place(est: Any, X: Any) -> None:
        """Each block is checked against the model's place when it is computed."""

    @staticmethod
    def dtype(x: da.Array) -> np.dtype:
        return x.dtype

    column_stats = staticmethod(column_stats)
    gram = staticmethod(gram)  # host or device statistics, as the chunks are

    @staticmethod
    def rows(
        est: Any, x: da.Array, fn: Callable, *, width: int, dtype: np.dtype, **check: Any
    ) -> da.Array:
        """``fn(est, block)`` on every row block, lazily, each block checked with ``check`` (the
        keywords of ``check``) by its own backend first; ``width`` output columns of ``dtype``."""
        snapshot = copy.deepcopy(est)
        method = getattr(fn, "func", fn).__name__.strip("_").replace("_", "-")  # or a partial
        return x.map_blocks(
            _block,
            fn,
            snapshot,
            width,
            dtype,
            check,
            dtype=dtype,
            chunks=(x.chunks[0], (width,)),
            meta=da.utils.meta_from_array(x._meta, ndim=2, dtype=dtype),
            token=f"lepton-{type(est).__name__.lower()}-{method}",
        )


PARTITIONED = Partitioned()
