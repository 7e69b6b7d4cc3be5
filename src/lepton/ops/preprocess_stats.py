"""Pass 1 of the fused preprocessing: per-column statistics of the finite values, in one read.

:class:`ColumnStats` holds, per column, the count of finite values, their mean, M2 (the sum of
squared deviations), min and max, in float64; :func:`merge_stats` combines the statistics of two
sets of rows exactly (Chan et al.), so batches and partitions add up to one pass over all rows.
NaN and ±Inf are excluded: Inf is an outlier, not a value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton import _core
from lepton._dispatch import is_cuda
from lepton._validate import host_array
from lepton.ops import _plan
from lepton.ops._tuned import lookup as tuned_config
from lepton.ops.preprocess_layout import output_order
from lepton.ops.statistics import ColumnStats, check_stats, merge_stats, stats_from_moments

__all__ = [
    "ColumnStats",
    "check_stats",
    "column_stats",
    "config_id",
    "host_matrix",
    "merge_stats",
    "stats_from_moments",
]

_IN_DTYPES = (np.float32, np.float64)
_INT_HINT = "; integer data is not converted silently (cast with x.astype(np.float32) first)"


def host_matrix(x: Any, name: str = "x") -> np.ndarray:
    """A float32/float64 2-D array in C or Fortran order: a strided view is copied to the
    contiguous order of its layout (``preprocess_layout.output_order``: column-major views to
    Fortran order, anything else to C order)."""
    if isinstance(x, np.ndarray) and not x.dtype.isnative:
        # host_array compares dtypes before it fixes the byte order: fix it first (keeps order).
        x = x.astype(x.dtype.newbyteorder("="))
    if (
        isinstance(x, np.ndarray)
        and x.ndim == 2
        and not (x.flags.c_contiguous or x.flags.f_contiguous)
        and output_order(x.shape, x.strides, x.itemsize) == "F"
    ):
        x = np.asfortranarray(x)  # a view of a column-major array stays column-major
    if isinstance(x, np.ndarray) and x.ndim == 2 and x.flags.f_contiguous:
        # Read column-major data in place: validate its C-ordered transpose, turn it back.
        t = host_array(x.T, name, dtypes=_IN_DTYPES, ndim=2, allow_empty=True, hint=_INT_HINT)
        arr = t.T
    else:
        arr = host_array(x, name, dtypes=_IN_DTYPES, ndim=2, allow_empty=True, hint=_INT_HINT)
    if arr.size == 0:
        msg = f"{name}: expected a non-empty array, got shape {arr.shape}"
        raise ValueError(msg)
    return arr


# config=None plans: (rows, cols, dtype, active ISA, threads) -> config id
_PLANS = _plan.plans()


def config_id(config: Any, arr: np.ndarray) -> int:
    """The preprocess config id to run on ``arr``: the caller's, the tuning cache's for its shape
    and dtype (looked up on a signature's first call), or 0 (the default entry: the built-in
    behaviour). Unknown ids are rejected by the core, which names the valid ones."""
    if config is not None:
        return _plan.config_arg(config, "preprocess")
    rows, cols = arr.shape
    key = (rows, cols, arr.dtype.char, _core.active_isa(), _core.num_threads())
    cfg = _PLANS.get(key)
    if cfg is None:
        dtype = str(arr.dtype)

        def tuned() -> int | None:
            return tuned_config("preprocess", (rows, cols), dtype, "cpu")

        cfg = _plan.resolve_config(None, "preprocess", tuned, default=0)
        _plan.remember(_PLANS, key, cfg)
    return cfg


def column_stats(x: Any, *, config: int | None = None) -> ColumnStats:
    """Per-column count, mean, M2, min and max of the finite values of ``x``, in one read.

    ``x``: float32 or float64, 2-D. Multithreaded (``lepton.set_num_threads``); the result does
    not depend on the thread count.

    CUDA arrays (cupy, torch; float16 too) are read once on their device and the statistics come
    back as this host ``ColumnStats``: reading them back is one host synchronisation. There
    ``config`` is a ``config_table("preprocess_cuda")`` id; the same input and config give
    bit-identical statistics, which agree with the CPU's to float64 round-off.

    ``config``: an id from ``lepton.ops.config_table("preprocess")``; ``None`` asks the tuning
    cache, else entry 0. Counts, min and max are the same under every config; mean and M2 are
    bit-identical between configs of one ``item_kib`` and agree to float64 round-off otherwise
    (the work-item size groups the partial sums).
    """
    if is_cuda(x):
        from lepton.ops import _preprocess_cuda
        from lepton.ops._gemm_cuda import require_cuda_build

        require_cuda_build("x")
        rows, moments = _preprocess_cuda.column_moments(x, config)
        return stats_from_moments(rows, *moments)
    arr = host_matrix(x)
    return stats_from_moments(arr.shape[0], *_core.prep_column_stats(arr, config_id(config, arr)))
