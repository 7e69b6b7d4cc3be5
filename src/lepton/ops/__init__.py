"""Array-level kernels: numpy arrays run on the CPU core.

Every op validates its arguments before launching anything and raises ``TypeError`` or
``ValueError`` naming the argument; non-contiguous inputs are copied to C order first.

What a call needs beyond its arrays (the config to run, from the tuning cache or the heuristic;
on CUDA the workspace size) is resolved on the first call of each signature and kept: a
repeated call validates its arrays and launches. ``forget_plans()`` drops what was resolved
(the tuner does it when it stores a result; call it after another process has tuned).
"""

from lepton._configs import config_table, config_table_hash
from lepton.ops._plan import forget_plans
from lepton.ops.gemm import MAX_K, PackedLinear, int8_gemm, linear_int8, pack_weights
from lepton.ops.pca import GramStats, column_moments, gram, merge_gram
from lepton.ops.preprocess import (
    ColumnStats,
    EmptyColumnWarning,
    column_stats,
    merge_stats,
    preprocess,
)
from lepton.ops.quant import dequantize, quantize

__all__ = [
    "MAX_K",
    "ColumnStats",
    "EmptyColumnWarning",
    "GramStats",
    "PackedLinear",
    "column_moments",
    "column_stats",
    "config_table",
    "config_table_hash",
    "dequantize",
    "forget_plans",
    "gram",
    "int8_gemm",
    "linear_int8",
    "merge_gram",
    "merge_stats",
    "pack_weights",
    "preprocess",
    "quantize",
]
