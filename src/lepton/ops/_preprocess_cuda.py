"""``column_stats``, ``preprocess`` and ``apply_plan`` for CUDA arrays (contract: ops.preprocess).

The two passes run on the input's device, on its library's current stream, with the numbers of
the CPU op: the apply kernel computes the CPU kernel's arithmetic in the same precision from the
same coefficients (planned on the host by :mod:`lepton.ops.preprocess_plan`), and the statistics
are float64 moments merged in a fixed order (same input and config → bit-identical statistics;
against the CPU they agree to float64 round-off, the grouping of the sums being different).
Between its float64 folds a thread sums float16/float32 values in float64, or, under the
configs with ``accumulate="f32x2"`` (the heuristic's pick on GPUs with slow FP64: GeForce, L4),
in error-free float32 pairs (~44 bits, no FP64 per value): the same CPU agreement, other
round-off — so the default statistics of one input may differ in the last bits between a
datacenter GPU and a GeForce one (each is deterministic for its config).

- ``column_stats`` returns a host :class:`ColumnStats` (float64 numpy arrays): reading the
  5 × cols result back is its one host synchronisation. ``preprocess(x)`` without ``stats``
  therefore synchronises once between its passes, to plan the apply pass on the host.
- Inputs: float16, float32, float64; row-major or column-major, with any row (or column)
  stride; other strides are copied to C order by the input's library. float16 is widened
  exactly to float32, so its results are those of the CPU op on ``x.astype(np.float32)``.
- Outputs are the input's library's arrays on its device, in the input's memory order by the
  rule of :mod:`lepton.ops.preprocess_layout` (the CPU op's too): a column-major input (an
  F-ordered array or a view of one) gives an F-ordered output, anything else a C-ordered one;
  ``out=`` takes such an array (never a host one: mixing host and device raises).
- ``config``: an id of ``config_table("preprocess_cuda")``; ``None`` asks the tuning cache
  (op ``"preprocess"`` on ``cuda:N``), else the shape heuristic.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton import _core
from lepton import _cuda_arrays as ca
from lepton.ops import _plan
from lepton.ops._tuned import lookup as tuned_config
from lepton.ops.preprocess_layout import ROW_MAJOR
from lepton.ops.preprocess_layout import matrix_layout as layout_of
from lepton.ops.preprocess_plan import PreprocessPlan

FLOAT_INPUTS = ("float16", "float32", "float64")
IN_CODES = {"float16": 0, "float32": 1, "float64": 2}
OUT_CODES = {"float32": 0, "float64": 1, "float16": 2, "int8": 3}
_HINT = "; integer data is not converted silently (cast to float32 first)"


def matrix_layout(d: ca.DeviceArray) -> tuple[int, int] | None:
    """``(layout, ld)`` for a 2-D array the kernels read in place, or ``None`` (copy it to C
    order): :func:`lepton.ops.preprocess_layout.matrix_layout` of its metadata."""
    return layout_of(d.shape, d.strides, d.itemsize)


class Matrix:
    """A described 2-D CUDA array with the layout the kernels read it in."""

    def __init__(self, x: Any, name: str = "x") -> None:
        d = ca.require(ca.describe(x, name), name, dtypes=FLOAT_INPUTS, ndim=2, hint=_HINT)
        layout = matrix_layout(d)
        if layout is None:
            d = ca.contiguous(d)
            layout = (ROW_MAJOR, d.shape[1])
        self.d = d
        self.layout, self.ld = layout
        self.rows, self.cols = d.shape

    def args(self, dtype_codes: dict[str, int]) -> tuple[int, ...]:
        return (self.d.ptr, dtype_codes[self.d.dtype], self.layout, self.rows, self.cols, self.ld)


# (rows, cols, dtype, device, requested config) -> config id
_PLANS = _plan.plans()


def resolve_config(config: Any, m: Matrix) -> int:
    """The caller's config id (checked by the core), the tuning cache's, or the heuristic's;
    resolved on a signature's first call. A tuned id the core refuses falls back to the
    heuristic."""
    if config is not None:
        config = _plan.config_arg(config, "preprocess_cuda")
    rows, cols, dtype, device = m.rows, m.cols, m.d.dtype, m.d.device
    key = (rows, cols, dtype, device, config)
    cfg = _PLANS.get(key)
    if cfg is None:
        itemsize = m.d.itemsize

        def check(c: int) -> int:
            return int(_core.prep_cuda_resolve_config(c, rows, cols, itemsize, device))

        def tuned() -> int | None:
            return tuned_config("preprocess", (rows, cols), dtype, f"cuda:{device}")

        cfg = _plan.resolve_config(config, "preprocess_cuda", tuned, check)
        _plan.remember(_PLANS, key, cfg)
    return cfg


# --- moving small arrays between the host and the input's library ---------------------------


def to_host(obj: Any) -> np.ndarray:
    """A device array as numpy (synchronises the host with the array's stream)."""
    if type(obj).__module__.split(".")[0] == "torch":
        return obj.cpu().numpy()
    return obj.get()


def to_device(like: ca.DeviceArray, a: np.ndarray) -> Any:
    """Host array ``a`` copied to ``like``'s device by ``like``'s library (its current stream)."""
    a = np.ascontiguousarray(a)
    out = ca.empty(like, a.shape, a.dtype.name)
    if type(out).__module__.split(".")[0] == "torch":
        import torch

        out.copy_(torch.from_numpy(a))
    else:
        out.set(a)
    return out


# --- pass 1 ----------------------------------------------------------------------------------


def column_moments(x: Any, config: Any) -> tuple[int, np.ndarray]:
    """``(rows, moments)``: moments is the (5, cols) float64 host array count, mean, m2, min,
    max of the kernel (an empty column: 0, 0, 0, +inf, -inf)."""
    m = Matrix(x)
    cfg = resolve_config(config, m)
    dev = m.d.device
    slots = int(_core.prep_cuda_stats_workspace_slots(*m.args(IN_CODES), cfg, dev))
    workspace = ca.describe(ca.empty(m.d, (5 * slots,), "float64"), "workspace")
    result = ca.empty(m.d, (5, m.cols), "float64")
    stream = ca.stream_of(m.d)
    ca.order_after_producers(stream, [m.d])
    _core.prep_cuda_column_stats(
        *m.args(IN_CODES), workspace.ptr, slots, ca.describe(result, "result").ptr, cfg, dev,
        stream,
    )  # fmt: skip
    return m.rows, to_host(result)


# --- pass 2 ----------------------------------------------------------------------------------


def _span(d: ca.DeviceArray) -> tuple[int, int]:
    """The byte range ``d`` touches."""
    last = sum((n - 1) * s for n, s in zip(d.shape, d.strides, strict=True))
    return d.ptr, d.ptr + last + d.itemsize


def _is_f_contiguous(d: ca.DeviceArray) -> bool:
    rows, cols = d.shape
    unit_rows = rows == 1 or d.strides[0] == d.itemsize
    return unit_rows and (cols == 1 or d.strides[1] == d.itemsize * rows)


def check_out(out: Any, m: Matrix, dtype: str) -> ca.DeviceArray:
    """``out`` checked to be a destination for the result of ``m`` (dtype, shape, order)."""
    od = ca.describe(out, "out")
    if od.dtype != dtype:
        msg = f"out: expected dtype {dtype} (the output dtype), got {od.dtype}"
        raise TypeError(msg)
    if od.shape != (m.rows, m.cols):
        msg = f"out: expected shape {(m.rows, m.cols)}, got {od.shape}"
        raise ValueError(msg)
    order = out_order(m)
    if not (od.is_c_contiguous() if order == "C" else _is_f_contiguous(od)):
        msg = f"out: expected a {order}-contiguous array (the memory order of x)"
        raise ValueError(msg)
    if od.readonly:
        msg = "out: array is read-only"
        raise ValueError(msg)
    same = od.ptr == m.d.ptr and od.strides == m.d.strides and od.itemsize == m.d.itemsize
    (a0, a1), (b0, b1) = _span(od), _span(m.d)
    if a0 < b1 and b0 < a1 and not same:
        msg = "out: overlaps x without being x itself"
        raise ValueError(msg)
    return od


def out_order(m: Matrix) -> str:
    """The output's order: that of x's layout ("F" for column-major), which is
    ``preprocess_layout.output_order`` of x (the CPU op's rule) since the layout comes from it."""
    return "C" if m.layout == ROW_MAJOR else "F"


def _new_output(m: Matrix, dtype: str) -> ca.DeviceArray:
    """A new output in ``out_order(m)``: the kernels write it in x's layout, with a dense
    leading dimension."""
    if out_order(m) == "C":
        return ca.describe(ca.empty(m.d, (m.rows, m.cols), dtype), "out")
    return ca.describe(ca.empty(m.d, (m.cols, m.rows), dtype).T, "out")  # Fortran order


def out_dtype_of(plan: PreprocessPlan, x: Any) -> str:
    if plan.out_dtype is not None:
        return plan.out_dtype.name
    return ca.describe(x, "x").dtype


def apply(x: Any, plan: PreprocessPlan, out: Any, config: Any) -> Any:
    """The apply pass of ``plan`` over CUDA ``x``; returns the output (``out`` if given)."""
    m = Matrix(x)
    if m.cols != plan.n_columns:
        msg = f"x: has {m.cols} columns, expected {plan.n_columns} (the columns of the stats)"
        raise ValueError(msg)
    dtype = plan.out_dtype.name if plan.out_dtype is not None else m.d.dtype
    od = _new_output(m, dtype) if out is None else check_out(out, m, dtype)
    ld_out = m.cols if m.layout == ROW_MAJOR else m.rows
    cfg = resolve_config(config, m)
    coefs = to_device(m.d, np.stack([plan.fill, plan.lo, plan.hi, plan.center, plan.mul]))
    stream = ca.stream_of(m.d)
    ca.order_after_producers(stream, [m.d, od])
    _core.prep_cuda_apply(
        *m.args(IN_CODES), od.ptr, OUT_CODES[dtype], ld_out, ca.describe(coefs, "coefs").ptr,
        bool(plan.replace_inf), cfg, m.d.device, stream,
    )  # fmt: skip
    return od.obj if out is None else out


def quant_scale(x: Any, plan: PreprocessPlan) -> Any:
    """int8 output: the plan's per-column scales as a float32 array of ``x``'s library."""
    assert plan.quant_scale is not None
    return to_device(ca.describe(x, "x"), plan.quant_scale.astype(np.float32))
