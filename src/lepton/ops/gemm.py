"""INT8 GEMM ops (placeholder: the gemm area replaces this module)."""

from __future__ import annotations

MAX_K = 65536


class PackedLinear:
    pass


def int8_gemm(*args, **kwargs):
    raise NotImplementedError


def linear_int8(*args, **kwargs):
    raise NotImplementedError


def pack_weights(*args, **kwargs):
    raise NotImplementedError
