"""The argument checks ``int8_gemm``, ``pack_weights`` and ``linear_int8`` share on every device.

``MAX_K`` is read once from the core (where the kernels declare it) and checked here only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton import _core
from lepton._validate import choice

# Exactness bound: A is shifted to u8 for the VNNI dot, so |Σₖ (a+128)·b| ≤ 255·128·K, which
# stays below 2³¹ for K ≤ 65536. Longer K is refused, never silently wrong.
MAX_K: int = int(_core.gemm_max_k)

ACTIVATIONS: tuple[str | None, ...] = (None, "relu", "gelu", "sigmoid")
# Output dtypes by device, in the kernels' code order on CUDA (the codes the core takes).
CPU_OUT_DTYPES: tuple[str, ...] = ("int32", "float32", "float16", "int8")
CUDA_OUT_CODES: dict[str, int] = {"int32": 0, "float32": 1, "float16": 2, "bfloat16": 3, "int8": 4}
ACT_CODES: dict[str | None, int] = {a: i for i, a in enumerate(ACTIVATIONS)}


def check_k(k: int, name: str) -> None:
    if k > MAX_K:
        msg = (
            f"{name}: K={k} exceeds MAX_K={MAX_K}; int32 accumulation is exact only up to it "
            "(split K and add the int32 results in int64)"
        )
        raise ValueError(msg)


def out_scale_arg(out_scale: Any) -> float | None:
    """``out_scale`` as the float32 value the kernels divide by (a Python float), or None."""
    if out_scale is None:
        return None
    if isinstance(out_scale, (bool, np.bool_)) or not isinstance(
        out_scale, (int, float, np.integer, np.floating)
    ):
        msg = f"out_scale: expected a positive finite float, got {type(out_scale).__name__}"
        raise TypeError(msg)
    try:
        with np.errstate(over="ignore"):
            value = np.float32(out_scale)
    except OverflowError:  # an int past float64's range
        value = np.float32(np.inf)
    if not (np.isfinite(value) and value > 0):
        msg = f"out_scale: expected a positive finite float (as float32), got {out_scale!r}"
        raise ValueError(msg)
    return float(value)


def dtype_name(dtype: Any) -> str:
    """The dtype's name ("float16", "bfloat16", …) from a string, numpy or torch dtype."""
    text = str(dtype).removeprefix("torch.")
    if text in CUDA_OUT_CODES:
        return text
    try:
        return np.dtype(dtype).name
    except TypeError:
        return repr(dtype)


def check_out_scale(name: str, out_scale: float | None) -> None:
    """``out_scale`` belongs to int8 output and only to it (its value: ``out_scale_arg``)."""
    if (name == "int8") != (out_scale is not None):
        msg = (
            "out_scale: required with out_dtype='int8' (the output's quantization step) "
            f"and only then; got out_dtype={name!r}, out_scale={out_scale!r}"
        )
        raise ValueError(msg)


def out_dtype_arg(
    out_dtype: Any, epilogue: bool, out_scale: float | None, dtypes: tuple[str, ...]
) -> str:
    """The output dtype's name (default: int32 without an epilogue, else float32), checked
    against a device's output ``dtypes``, the epilogue and ``out_scale``."""
    name = ("float32" if epilogue else "int32") if out_dtype is None else dtype_name(out_dtype)
    choice(name, "out_dtype", dtypes)
    if name == "int32" and epilogue:
        others = [d for d in dtypes if d != "int32"]
        msg = (
            "out_dtype: int32 output is the exact accumulator; scales, bias and activation "
            f"need {', '.join(others[:-1])} or {others[-1]}"
        )
        raise ValueError(msg)
    check_out_scale(name, out_scale)
    return name
