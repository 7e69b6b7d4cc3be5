"""Kernel configuration tables, as declared once in C++ and exposed by the core."""

from __future__ import annotations

from typing import Any

from lepton import _core
from lepton._validate import choice

# op name -> (core function returning the table, core function returning its hash)
_TABLES: dict[str, tuple[str, str]] = {
    "int8_gemm": ("gemm_configs", "gemm_config_hash"),
    "int8_gemm_cuda": ("gemm_cuda_configs", "gemm_cuda_config_hash"),  # CUDA builds only
    "preprocess": ("preprocess_configs", "preprocess_config_hash"),
    "preprocess_cuda": ("preprocess_cuda_configs", "preprocess_cuda_config_hash"),  # CUDA builds
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
    return str(getattr(_core, _TABLES[op][1])())
