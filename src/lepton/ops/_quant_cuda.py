"""``quantize`` and ``dequantize`` for CUDA arrays (contract: ops.quant).

The quantize kernel computes exactly the CPU's numbers (absmax/127 in the input's precision,
float16 widened to float32, round half to even, clip ±127, all-zero row → scale 1, scale at
least FLT_MIN). A row with NaN/Inf gets scale NaN and q = 0 and raises a device flag; ``quantize``
reads the flag back (one host synchronisation) and raises ``ValueError`` like the CPU path.
``linear_int8`` does not read it: NaN propagates into that output row instead.
"""

from __future__ import annotations

from typing import Any

from lepton import _core
from lepton import _cuda_arrays as ca

FLOAT_INPUTS = ("float16", "float32", "float64")
_IN_CODES = {"float16": 0, "float32": 1, "float64": 2}


def quantize_rows(
    x: ca.DeviceArray, rows: int, ld_q: int, *, flag: bool, stream: int | None = None
) -> tuple[ca.DeviceArray, ca.DeviceArray] | tuple[ca.DeviceArray, ca.DeviceArray, Any]:
    """Quantize the rows of 2-D (or 1-D: one row) ``x`` into (rows, ld_q) int8, zero-padded.

    Returns ``(q, scale)``, plus the device flag array with ``flag=True``. ``stream``: the one
    to launch on, when the caller has asked ``x``'s library already.
    """
    cols = x.shape[-1]
    unit_inner = x.strides[-1] == x.itemsize or cols == 1
    rows_ok = rows == 1 or (x.strides[0] % x.itemsize == 0 and x.strides[0] >= cols * x.itemsize)
    if not (unit_inner and rows_ok):
        x = ca.contiguous(x)
    ld_x = x.strides[0] // x.itemsize if (x.ndim == 2 and rows > 1) else cols
    q = ca.new(x, (rows, ld_q), "int8")
    scale = ca.new(x, (rows,), "float32")
    bad = ca.new(x, (1,), "int32", zero=True) if flag else None
    if stream is None:
        stream = ca.stream_of(x)
    ca.order_after_producers(stream, [x])
    _core.quantize_rows_cuda(
        x.ptr, _IN_CODES[x.dtype], ld_x, rows, cols, q.ptr, ld_q, scale.ptr,
        0 if bad is None else bad.ptr, x.device, stream,
    )  # fmt: skip
    return (q, scale, bad.obj) if flag else (q, scale)


def quantize(x: Any, axis: int) -> tuple[Any, Any]:
    """The CUDA path of ``ops.quantize`` (``axis`` already normalised by the caller)."""
    d = ca.describe(x, "x")
    moved = ca.moveaxis(ca.as_library(d), axis, -1)
    rows_shape = tuple(moved.shape[:-1])
    cols = int(moved.shape[-1])
    flat = ca.contiguous(ca.describe(moved, "x")).obj.reshape(-1, cols)
    rows = int(flat.shape[0])
    q, scale, bad = quantize_rows(ca.describe(flat, "x"), rows, cols, flag=True)
    if ca.read_scalar(bad):
        msg = "x: expected finite values, found NaN or Inf (or a float64 row past float32 range)"
        raise ValueError(msg)
    q_obj = ca.moveaxis(q.obj.reshape(*rows_shape, cols), -1, axis)
    q_out = ca.contiguous(ca.describe(q_obj, "q")).obj
    return q_out, scale.obj.reshape(rows_shape)


def dequantize(q: Any, scale: Any, axis: int) -> Any:
    """The CUDA path of ``ops.dequantize`` (``axis`` already normalised by the caller)."""
    d = ca.describe_all({"q": q, "scale": scale})
    qd = ca.require(d["q"], "q", dtypes=("int8",), hint="; dequantize takes quantize's output")
    sd = ca.require(d["scale"], "scale", allow_empty=True)
    if sd.dtype not in ("int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
                        "float64", "uint8"):  # fmt: skip
        msg = f"scale: expected a real numeric array, got dtype {sd.dtype}"
        raise TypeError(msg)
    expected = qd.shape[:axis] + qd.shape[axis + 1 :]
    if sd.shape != expected:
        msg = f"scale: expected shape {expected} (q's shape without axis {axis}), got {sd.shape}"
        raise ValueError(msg)
    moved = ca.moveaxis(ca.as_library(qd), axis, -1)
    rows_shape, cols = tuple(moved.shape[:-1]), int(moved.shape[-1])
    flat = ca.describe(ca.contiguous(ca.describe(moved, "q")).obj.reshape(-1, cols), "q")
    s = ca.contiguous(sd, "float32")
    rows = flat.shape[0]
    out = ca.describe(ca.empty(qd, (rows, cols), "float32"), "out")
    stream = ca.stream_of(qd)
    ca.order_after_producers(stream, [flat, s])
    _core.dequantize_rows_cuda(flat.ptr, rows, cols, s.ptr, out.ptr, qd.device, stream)
    result = ca.moveaxis(out.obj.reshape(*rows_shape, cols), -1, axis)
    return ca.contiguous(ca.describe(result, "out")).obj
