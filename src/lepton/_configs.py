"""Kernel configuration tables, as declared once in C++ and exposed by the core."""

from __future__ import annotations

import functools
from typing import Any

from lepton import _core
from lepton._validate import choice

# table name -> (core function returning the table, core function returning its hash)
_TABLES: dict[str, tuple[str, str]] = {
    "int8_gemm": ("gemm_configs", "gemm_config_hash"),
    "int8_gemm_cuda": ("gemm_cuda_configs", "gemm_cuda_config_hash"),  # CUDA builds only
    "preprocess": ("preprocess_configs", "preprocess_config_hash"),
    "preprocess_cuda": ("preprocess_cuda_configs", "preprocess_cuda_config_hash"),  # CUDA builds
}

# The ops whose configurations are tuned, and the table each reads per device kind: a tuned id
# is an id of that table (the op name is the tuning cache's; the table differs per device).
TUNED_TABLES: dict[str, dict[str, str]] = {
    "int8_gemm": {"cpu": "int8_gemm", "cuda": "int8_gemm_cuda"},
    "preprocess": {"cpu": "preprocess", "cuda": "preprocess_cuda"},
}


def ops_with_configs() -> list[str]:
    return [op for op, (table, _) in _TABLES.items() if hasattr(_core, table)]


def config_table(op: str) -> list[dict[str, Any]]:
    """The configurations of ``op``: a list of dicts, each with a stable integer ``id``."""
    choice(op, "op", ops_with_configs())
    return [dict(entry) for entry in getattr(_core, _TABLES[op][0])()]


def config_table_hash(op: str) -> str:
    """Hash of ``op``'s table; part of every tuning-cache key."""
    choice(op, "op", ops_with_configs())
    return _hash(op)


@functools.cache
def _hash(op: str) -> str:
    # The tables are compiled in: a hash cannot change within a process.
    return str(getattr(_core, _TABLES[op][1])())


def tuned_table(op: str, device: str) -> str:
    """The table whose ids ``op`` runs on ``device`` ("cpu" or "cuda:N"); ``ValueError`` when
    this build has none (nothing to tune there)."""
    name = TUNED_TABLES[op]["cpu" if device == "cpu" else "cuda"]
    if name not in ops_with_configs():
        msg = f"op: {name} has no configuration table in this build (nothing to tune on {device})"
        raise ValueError(msg)
    return name
