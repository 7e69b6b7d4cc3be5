"""Mergeable statistics of a 2-D dask array: one kernel call per row block, exact tree merge.

Each block is handed to the same op a single array would go to (``lepton.ops.column_stats`` /
``lepton.ops.gram``), so numpy blocks run the CPU kernel and CUDA blocks (cupy chunks) whatever
CUDA path the op has, on the device that holds them; the merges (``merge_stats`` /
``merge_gram``) then run where the partial results are, in a tree of fan-in ``split_every``,
and only the root result travels to the client.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import dask
import dask.array as da
import numpy as np

from lepton._validate import choice
from lepton.ops.pca import GramStats, merge_gram
from lepton.ops.pca import gram as _gram_kernel
from lepton.ops.preprocess_stats import ColumnStats, merge_stats
from lepton.ops.preprocess_stats import column_stats as _stats_kernel

__all__ = ["column_stats", "gram", "row_blocks"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def row_blocks(x: Any, name: str = "x") -> da.Array:
    """``x`` checked (a 2-D dask array with a known, non-zero column count) and rechunked, if
    needed, so that every block spans all columns (row chunks are kept as they are).

    Rechunking a column-chunked array moves data between workers once; chunk by rows only
    (``x.rechunk({1: -1})``) when building the array to spare that.
    """
    if not isinstance(x, da.Array):
        msg = f"{name}: expected a dask.array.Array, got {type(x).__name__}"
        raise TypeError(msg)
    if x.ndim != 2:
        msg = f"{name}: expected a 2-D dask array, got {x.ndim}-D with shape {x.shape}"
        raise ValueError(msg)
    if math.isnan(x.shape[1]):
        msg = (
            f"{name}: the number of columns is unknown (shape {x.shape}); blocks must span all "
            "columns, so call x.compute_chunk_sizes() first"
        )
        raise ValueError(msg)
    if x.shape[1] == 0 or x.shape[0] == 0:
        msg = f"{name}: expected a non-empty array, got shape {x.shape}"
        raise ValueError(msg)
    return x.rechunk({1: -1}) if x.numblocks[1] > 1 else x


def _check_float(x: da.Array, name: str) -> None:
    if x.dtype not in _FLOATS:
        msg = (
            f"{name}: expected dtype float32 or float64, got {x.dtype}; integer data is not "
            "converted silently (cast with x.astype(np.float32) first)"
        )
        raise TypeError(msg)


def _block_result(kernel: Callable[[Any], Any], block: Any) -> Any:
    # A row chunk may be empty (after filtering, say): it contributes nothing to the merge.
    return None if block.shape[0] == 0 else kernel(block)


def _merge_all(merge: Callable[[Any, Any], Any], *parts: Any) -> Any:
    present = [p for p in parts if p is not None]
    return functools.reduce(merge, present) if present else None


def tree_reduce(
    x: da.Array,
    kernel: Callable[[Any], Any],
    merge: Callable[[Any, Any], Any],
    *,
    split_every: int,
    name: str,
) -> Any:
    """``kernel`` on every block of ``x`` (blocks spanning all columns), merged pairwise in a
    tree of fan-in ``split_every``; computed with the current dask scheduler."""
    if isinstance(split_every, bool) or not isinstance(split_every, int) or split_every < 2:
        msg = f"split_every: expected an int >= 2, got {split_every!r}"
        raise ValueError(msg)
    block_task = dask.delayed(functools.partial(_block_result, kernel), pure=True)
    merge_task = dask.delayed(functools.partial(_merge_all, merge), pure=True)
    parts = [block_task(block) for block in x.to_delayed().ravel()]
    while len(parts) > 1:
        parts = [merge_task(*parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    (result,) = dask.compute(parts[0])
    if result is None:  # only possible with unknown row chunks, all of them empty
        msg = f"{name}: expected a non-empty array, got 0 rows"
        raise ValueError(msg)
    return result


def column_stats(x: Any, *, split_every: int = 8) -> ColumnStats:
    """Per-column statistics of the finite values of the 2-D dask array ``x``: the
    :func:`lepton.ops.column_stats` of each row block, merged exactly with
    :func:`lepton.ops.merge_stats` (counts, min and max exact; mean and M2 to float64
    round-off of a single pass).

    ``x``: float32 or float64, chunked by rows; a column-chunked ``x`` is first rechunked so
    that each block spans all columns (one data movement; see :func:`row_blocks`). Row chunks
    may have any sizes, including 1 row, 0 rows and unknown (NaN) sizes.
    ``split_every``: fan-in of the merge tree. Computes with the current dask scheduler and
    returns a :class:`lepton.ops.ColumnStats` (host arrays).
    """
    x = row_blocks(x)
    _check_float(x, "x")
    return tree_reduce(x, _stats_kernel, merge_stats, split_every=split_every, name="x")


def gram(x: Any, *, accumulate: str = "float64", split_every: int = 8) -> GramStats:
    """Row count, column means and centred Gram matrix of the 2-D dask array ``x``: the
    :func:`lepton.ops.gram` of each row block, merged exactly with
    :func:`lepton.ops.merge_gram` (Chan's parallel update).

    ``x``: float32 or float64, chunked by rows (a column-chunked ``x`` is rechunked so that each
    block spans all columns). ``accumulate`` is passed to each block's kernel. NaN or inf in
    ``x`` is a ``ValueError`` raised when the offending block is computed.
    With numpy chunks the result holds numpy arrays; with CUDA chunks (cupy) it holds arrays of
    that library on the chunks' device, as :func:`lepton.ops.gram` returns them.
    """
    x = row_blocks(x)
    _check_float(x, "x")
    choice(accumulate, "accumulate", ("float64", "input"))
    kernel = functools.partial(_gram_kernel, accumulate=accumulate)
    return tree_reduce(x, kernel, merge_gram, split_every=split_every, name="x")
