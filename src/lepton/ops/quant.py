"""Symmetric int8 quantization: the numbers ``int8_gemm`` and ``linear_int8`` consume.

``quantize`` is per row along ``axis``: ``scale = absmax / 127`` and
``q = clip(round_half_even(x / scale), -127, 127)``, so ``q * scale`` is within ``scale / 2`` of
``x``. -128 is never produced, which keeps the representation symmetric.

Edge cases, defined once here:

- a row of zeros gets ``scale = 1`` and ``q = 0`` (any division by the scale stays finite and
  ``q * scale`` is exactly 0);
- a row whose ``absmax / 127`` is below float32's smallest normal (2⁻¹²⁶ ≈ 1.2e-38) gets
  ``scale = 2⁻¹²⁶``: a subnormal scale is too coarse to keep ``|x| / scale`` within 127.5;
- NaN or Inf anywhere, or a float64 row whose scale overflows float32, is a ``ValueError``.

The division happens in the input's precision (float32 or float64; float16 is widened to float32
first, exactly), with the float32 scale. The compiled core does the work for every axis; the
array is moved so that the quantized axis is last and contiguous first.

CUDA arrays (cupy, torch CUDA tensors, ``__cuda_array_interface__`` objects) are quantized on
their device by a kernel computing the same numbers; results are the input's library's arrays.
The NaN/Inf check then costs one host synchronisation (a device flag read back).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton import _core
from lepton._cuda_arrays import describe, describe_all, is_cuda
from lepton._validate import host_array
from lepton.ops import _quant_cuda
from lepton.ops._gemm_cuda import require_cuda_build

_FLOAT_INPUTS = (np.float16, np.float32, np.float64)


def _at_least_1d(x: Any, name: str) -> None:
    # Checked before host_array, whose C-order copy turns a 0-d array into shape (1,).
    if x is not None and np.ndim(x) == 0:
        msg = f"{name}: expected an array with at least one dimension, got a 0-d value"
        raise ValueError(msg)


def _axis(axis: Any, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        msg = f"axis: expected an int, got {axis!r}"
        raise TypeError(msg)
    if not -ndim <= axis < ndim:
        msg = f"axis: {axis} is out of range for an array of {ndim} dimensions"
        raise ValueError(msg)
    return int(axis) % ndim


def _cuda_checks(dtype_ok: bool, d: Any, name: str, expected: str) -> None:
    if not dtype_ok:
        msg = f"{name}: expected dtype {expected}, got {d.dtype} (on {d.where})"
        raise TypeError(msg)
    if d.ndim == 0:
        msg = f"{name}: expected an array with at least one dimension, got a 0-d value"
        raise ValueError(msg)
    if d.size == 0:
        msg = f"{name}: expected a non-empty array, got shape {d.shape}"
        raise ValueError(msg)


def quantize(x: Any, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Quantize ``x`` to int8 with one symmetric float32 scale per row along ``axis``.

    Args:
        x: float16, float32 or float64 array with at least one dimension, all values finite.
            Non-contiguous input is copied.
        axis: the axis each scale covers (``-1``: per row of a 2-D array).

    Returns:
        ``(q, scale)``: ``q`` int8 with ``x``'s shape (C-contiguous); ``scale`` float32 with
        ``x``'s shape minus ``axis``.

    Raises:
        TypeError: ``x`` is not a float array, or ``axis`` is not an int.
        ValueError: ``x`` is empty or 0-d, ``axis`` is out of range, or ``x`` holds NaN/Inf.
    """
    if is_cuda(x):
        require_cuda_build("x")
        d = describe(x, "x")
        _cuda_checks(d.dtype in _quant_cuda.FLOAT_INPUTS, d, "x", "float16, float32 or float64")
        return _quant_cuda.quantize(x, _axis(axis, d.ndim))
    _at_least_1d(x, "x")
    arr = host_array(x, "x", dtypes=_FLOAT_INPUTS, hint="; quantize takes float data")
    ax = _axis(axis, arr.ndim)
    if arr.dtype == np.float16:
        arr = arr.astype(np.float32)  # exact: every float16 is a float32
    moved = np.moveaxis(arr, ax, -1)
    rows = np.ascontiguousarray(moved.reshape(-1, moved.shape[-1]))
    q_rows, scale = _core.quantize_rows(rows)
    q = np.ascontiguousarray(np.moveaxis(q_rows.reshape(moved.shape), -1, ax))
    return q, scale.reshape(moved.shape[:-1])


def dequantize(q: Any, scale: Any, axis: int = -1) -> np.ndarray:
    """``q * scale`` as float32, ``scale`` broadcast along ``axis`` (the inverse of ``quantize``).

    Args:
        q: int8 array.
        scale: float scales with ``q``'s shape minus ``axis`` (converted to float32).
        axis: the axis each scale covers, as given to ``quantize``.

    Raises:
        TypeError: ``q`` is not int8, or ``scale`` is not a real numeric array.
        ValueError: ``scale``'s shape does not match.
    """
    if is_cuda(q) or is_cuda(scale):
        describe_all({"q": q, "scale": scale})  # a host+device mix is an error in every build
        require_cuda_build("q")
        d = describe(q, "q")
        _cuda_checks(d.dtype == "int8", d, "q", "int8")
        return _quant_cuda.dequantize(q, scale, _axis(axis, d.ndim))
    _at_least_1d(q, "q")
    q_arr = host_array(q, "q", dtypes=[np.int8], hint="; dequantize takes quantize's int8 output")
    ax = _axis(axis, q_arr.ndim)
    s = host_array(scale, "scale", allow_empty=True)
    if not np.issubdtype(s.dtype, np.floating) and not np.issubdtype(s.dtype, np.integer):
        msg = f"scale: expected a real numeric array, got dtype {s.dtype}"
        raise TypeError(msg)
    expected = q_arr.shape[:ax] + q_arr.shape[ax + 1 :]
    if s.shape != expected:
        msg = f"scale: expected shape {expected} (q's shape without axis {ax}), got {s.shape}"
        raise ValueError(msg)
    return q_arr.astype(np.float32) * np.expand_dims(s.astype(np.float32), ax)
