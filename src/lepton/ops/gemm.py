"""INT8 GEMM on the CPU: exact int32 accumulation with a fused float epilogue.

The kernel is chosen at run time for the active ISA (``lepton.get_isa()``: AVX-512 VNNI,
AVX-VNNI, AVX2 or portable C++); every path gives bit-identical results. Operands are K-major
like torch/sklearn weights: ``a`` is (M, K), ``b`` is (N, K) and the result is ``a @ b.T``.

Configurations (cache blocking, thread split) live in one C++ table,
``lepton.ops.config_table("int8_gemm")``; ``config=None`` asks the tuning cache, then a built-in
shape heuristic. Non-contiguous or byte-swapped arrays are copied to C order before the call.

CUDA arrays (cupy, torch CUDA tensors, ``__cuda_array_interface__`` / DLPack objects) run on
the GPU with tensor-core kernels (``config_table("int8_gemm_cuda")``), asynchronously on the
input library's current stream; the result is that library's array on the input's device.
Every array argument must then be on that one device. Operands not K-contiguous, not 16-byte
aligned, or with K not a multiple of 16 are copied once into a zero-padded aligned array by the
input's library. bfloat16 output is available on CUDA (torch tensors; cupy has no bfloat16).
Device scales and bias are not checked for NaN/Inf (that needs a host synchronisation): such
values propagate into the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton import _core
from lepton._dispatch import is_cuda
from lepton._validate import choice, host_array, vector
from lepton.ops import _gemm_cuda, _plan
from lepton.ops._gemm_args import (
    ACTIVATIONS,
    CPU_OUT_DTYPES,
    MAX_K,
    check_k,
    check_out_scale,
    dtype_name,
    out_dtype_arg,
    out_scale_arg,
)
from lepton.ops._tuned import lookup as tuned_config

__all__ = ["MAX_K", "PackedLinear", "int8_gemm", "linear_int8", "pack_weights"]

_HEURISTIC = -1  # the core's shape heuristic
_INT8 = (np.dtype(np.int8),)
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# config=None plans: (M, N, K, active ISA, threads) -> config id (tuned, or the heuristic)
_PLANS = _plan.plans()


def _finite_vector(x: Any, name: str, length: int) -> np.ndarray | None:
    if x is None:
        return None
    v = vector(x, name, length, dtype=np.float32)
    if not np.isfinite(v).all():
        msg = f"{name}: expected finite values (as float32), found NaN or Inf"
        raise ValueError(msg)
    return v


def _column_coefs(v: Any, name: str, dtype: np.dtype, k: int) -> np.ndarray | None:
    """One of linear_int8's per-column arrays: (k,), finite, exactly ``x``'s dtype (never
    converted: the rounding to float32 is the caller's choice, as in ops.preprocess)."""
    if v is None:
        return None
    arr = host_array(v, name, dtypes=(dtype,), ndim=1, hint=" (x's dtype)")
    if arr.shape[0] != k:
        msg = f"{name}: expected {k} entries (one per column of x), got {arr.shape[0]}"
        raise ValueError(msg)
    if not np.isfinite(arr).all():
        msg = f"{name}: expected finite values, found NaN or Inf"
        raise ValueError(msg)
    return arr


def _planned_config(m: int, n: int, k: int) -> tuple[tuple[Any, ...], int]:
    """``(plan key, config id)`` of a config=None call: the tuning cache's id for this shape,
    ISA and thread count (looked up on the signature's first call), or -1 (the heuristic)."""
    key = (m, n, k, _core.active_isa(), _core.num_threads())
    cfg = _PLANS.get(key)
    if cfg is None:
        cfg = _plan.resolve_config(
            None, "int8_gemm", lambda: tuned_config("int8_gemm", (m, n, k), "int8", "cpu")
        )
        _plan.remember(_PLANS, key, cfg)
    return key, cfg


def _run(launch: Any, config: Any, m: int, n: int, k: int) -> Any:
    """``launch(config id)`` with the caller's id, or the plan's. A tuned id the core refuses
    for this shape (one stored for a neighbouring shape) is replaced by the heuristic, in the
    plan too: the refusal happens once per signature."""
    if config is not None:
        return launch(_plan.config_arg(config, "int8_gemm"))
    key, cfg = _planned_config(m, n, k)
    if cfg == _HEURISTIC:
        return launch(cfg)
    try:
        return launch(cfg)
    except ValueError:
        _PLANS[key] = _HEURISTIC
        return launch(_HEURISTIC)


def int8_gemm(
    a: Any,
    b: Any,
    *,
    a_scale: Any = None,
    b_scale: Any = None,
    bias: Any = None,
    activation: str | None = None,
    out_dtype: Any = None,
    out_scale: float | None = None,
    config: int | None = None,
) -> np.ndarray:
    """``a @ b.T`` in int8 with exact int32 accumulation and an optional fused epilogue.

    Without scales, bias or activation the result is the exact int32 product. Otherwise each
    element is ``y = act(acc[m, n] * a_scale[m] * b_scale[n] + bias[n])`` computed in float32
    (a missing scale is 1, a missing bias 0) and written once as float32 or float16, or
    requantized to int8: ``clip(round_half_even(y / out_scale), -127, 127)`` with a float32
    division, NaN giving 0. That is ``ops.quantize``'s symmetric convention, so the result
    feeds the next ``int8_gemm`` with ``a_scale = out_scale``. The float32 ``y`` is the same in
    every output dtype.

    Args:
        a: (M, K) int8 activations.
        b: (N, K) int8 weights (K-major, the layout of torch/sklearn weights).
        a_scale: (M,) per-row scales of ``a`` (converted to float32; finite).
        b_scale: (N,) per-column scales of ``b`` (converted to float32; finite).
        bias: (N,) bias (converted to float32; finite).
        activation: None, "relu", "gelu" (erf form, as torch's default) or "sigmoid".
        out_dtype: "int32" (default without epilogue), "float32" (default with one),
            "float16", "int8" (needs ``out_scale``), or on CUDA also "bfloat16".
        out_scale: the int8 output's quantization step, a positive float (finite as float32);
            required with ``out_dtype="int8"`` and refused with any other dtype.
        config: an id from ``config_table("int8_gemm")`` (CUDA: ``"int8_gemm_cuda"``); None
            asks the tuning cache, then a shape heuristic.

    Returns:
        (M, N) array of ``out_dtype``.

    Raises:
        TypeError: ``a`` or ``b`` is not int8, ``out_scale`` is not a number, or ``config``
            is not an int.
        ValueError: wrong ndim, empty input, K mismatch, K > ``MAX_K`` (65536), a scale or
            bias of the wrong length or not finite, an unknown activation or out_dtype, int32
            output with an epilogue, ``out_scale`` missing with int8 output, given with
            another dtype, or not positive and finite, an unknown config id, or a config that
            cannot run this shape (the message says why).
    """
    scale = out_scale_arg(out_scale)
    if is_cuda(a) or is_cuda(b) or is_cuda(a_scale) or is_cuda(b_scale) or is_cuda(bias):
        args = {"a": a, "b": b, "a_scale": a_scale, "b_scale": b_scale, "bias": bias}
        return _gemm_cuda.int8_gemm(args, activation, out_dtype, config, out_scale=scale)
    hint = "; quantize float data first with lepton.ops.quantize"
    a = host_array(a, "a", dtypes=_INT8, ndim=2, hint=hint)
    b = host_array(b, "b", dtypes=_INT8, ndim=2, hint=hint)
    (m, k), n = a.shape, b.shape[0]
    if b.shape[1] != k:
        msg = f"b: expected shape (N, {k}) to match a's K={k}, got {b.shape}"
        raise ValueError(msg)
    check_k(k, "a")
    choice(activation, "activation", ACTIVATIONS)
    a_scale = _finite_vector(a_scale, "a_scale", m)
    b_scale = _finite_vector(b_scale, "b_scale", n)
    bias = _finite_vector(bias, "bias", n)
    epilogue = a_scale is not None or b_scale is not None or bias is not None
    out = out_dtype_arg(out_dtype, epilogue or activation is not None, scale, CPU_OUT_DTYPES)
    divisor = 1.0 if scale is None else scale

    def launch(cfg: int) -> np.ndarray:
        return _core.int8_gemm(a, b, a_scale, b_scale, bias, activation, out, divisor, cfg)

    return _run(launch, config, m, n, k)


class PackedLinear:
    """Int8 weights of a linear layer laid out once for the CPU kernel (see ``pack_weights``).

    Holds the weights blocked and interleaved for the active ISA's multiply-add, their column
    sums, and the padded ``w_scale`` and ``bias``. If a later call finds a different active ISA
    (``lepton.set_isa`` / ``lepton.isa`` changed the cap), the weights are repacked for it on
    that call and the new layout is kept: the cap is always respected and, since every path is
    exact and bit-identical, results do not change.

    Packed from CUDA arrays, it holds device arrays of the input's library instead: the weights
    zero-padded to K a multiple of 16 with 16-byte aligned rows, float32 scale and bias
    (``isa`` is then ``"cuda:N"``).
    """

    __slots__ = ("_handle",)

    def __init__(self, handle: Any) -> None:
        if not isinstance(handle, (_core.PackedWeights, _gemm_cuda.CudaPackedWeights)):
            msg = "PackedLinear: create it with lepton.ops.pack_weights(w_q, w_scale, bias)"
            raise TypeError(msg)
        self._handle = handle

    @property
    def shape(self) -> tuple[int, int]:
        """(N, K): output features × input features."""
        return int(self._handle.n), int(self._handle.k)

    @property
    def isa(self) -> str:
        """The ISA whose layout the weights are in now ("cuda:N" for device weights)."""
        if self.is_cuda:
            return f"cuda:{self._handle.device}"
        return str(self._handle.isa)

    @property
    def is_cuda(self) -> bool:
        return isinstance(self._handle, _gemm_cuda.CudaPackedWeights)

    @property
    def nbytes(self) -> int:
        return int(self._handle.nbytes)

    def __repr__(self) -> str:
        n, k = self.shape
        return f"PackedLinear(N={n}, K={k}, isa={self.isa!r}, nbytes={self.nbytes})"


def pack_weights(w_q: Any, w_scale: Any = None, bias: Any = None) -> PackedLinear:
    """Lay out int8 weights once for ``linear_int8`` (packing per call would dominate small M).

    Args:
        w_q: (N, K) int8 weights, K ≤ ``MAX_K``.
        w_scale: (N,) per-output-feature scales (float32, finite); None means 1.
        bias: (N,) bias (float32, finite); None means 0.

    Raises:
        TypeError: ``w_q`` is not int8.
        ValueError: wrong ndim, empty, K > ``MAX_K``, or a scale/bias of the wrong length or
            not finite.
    """
    if any(is_cuda(x) for x in (w_q, w_scale, bias)):
        return PackedLinear(_gemm_cuda.pack_weights(w_q, w_scale, bias))
    w = host_array(w_q, "w_q", dtypes=_INT8, ndim=2, hint="; quantize float weights first")
    n, k = w.shape
    check_k(k, "w_q")
    scale = _finite_vector(w_scale, "w_scale", n)
    b = _finite_vector(bias, "bias", n)
    return PackedLinear(_core.pack_weights(w, scale, b))


def linear_int8(
    x: Any,
    w: Any,
    w_scale: Any = None,
    bias: Any = None,
    activation: str | None = None,
    *,
    out_dtype: Any = None,
    out_scale: float | None = None,
    config: int | None = None,
    col_center: Any = None,
    col_mul: Any = None,
) -> np.ndarray:
    """``act((x quantized per row) @ w.T · scales + bias)``: an int8 linear layer.

    Each row of ``x`` is quantized symmetrically on the fly (exactly as ``quantize`` does,
    fused with the kernel's operand packing), multiplied with exact int32 accumulation, then
    scaled by the row's scale and ``w_scale``, biased and activated in float32. On the CPU the
    result may also be requantized to int8 in the same epilogue (``out_dtype="int8"``, with
    ``out_scale``: the rule of ``int8_gemm``), ready for the next int8 layer.

    Args:
        x: (M, K) or (K,) float32 (or float64) activations, finite.
        w: a ``PackedLinear`` (fast path), or (N, K) int8 weights, packed on every call.
        w_scale: (N,) weight scales, only with raw ``w`` (a PackedLinear carries its own).
        bias: (N,) bias, only with raw ``w``.
        activation: None, "relu", "gelu" or "sigmoid".
        out_dtype: None, "float32" or "int8" (needs ``out_scale``); on CUDA also "float16" or
            "bfloat16".
        out_scale: the int8 output's step (positive, finite as float32); only with
            ``out_dtype="int8"``.
        config: an int8_gemm (CUDA: int8_gemm_cuda) config id; None asks the tuning cache,
            then the heuristic.
        col_center, col_mul: CPU only, both or neither: (K,) finite arrays of ``x``'s dtype.
            The rows quantized are then ``(x − col_center) · col_mul``, computed per column in
            ``x``'s precision (a subtraction and a multiplication, each rounded) inside the
            kernel's row quantization: bit for bit ``linear_int8(ops.preprocess`` with that
            center and scale ``)`` without writing or re-reading the scaled array.

    Returns:
        (M, N), or (N,) for 1-D ``x``: float32 (or int8) numpy on the CPU; on CUDA an array of
        ``x``'s library. On CUDA ``x`` may also be float16, and a row of ``x`` with NaN/Inf
        gives a NaN output row (no host synchronisation to check it).

    Raises:
        TypeError: ``x`` is not float32/float64, or ``w`` is neither a PackedLinear nor int8.
        ValueError: shape mismatch, NaN/Inf in ``x`` or in a mapped row (the message names
            the row), scales or bias passed with a PackedLinear, ``col_center``/``col_mul``
            of the wrong length, with NaN/Inf, or only one of them, or any ``int8_gemm``
            argument error.
    """
    scale = out_scale_arg(out_scale)
    if (col_center is None) != (col_mul is None):
        msg = "col_center, col_mul: pass both or neither"
        raise ValueError(msg)
    if isinstance(w, PackedLinear):
        for name, value in (("w_scale", w_scale), ("bias", bias)):
            if value is not None:
                msg = f"{name}: the PackedLinear already holds it; pass None"
                raise ValueError(msg)
        packed = w
    else:
        packed = pack_weights(w, w_scale, bias)
    if packed.is_cuda or is_cuda(x):
        if not packed.is_cuda:
            msg = "w: the weights were packed on the host but x is a CUDA array; pack CUDA weights"
            raise TypeError(msg)
        if col_center is not None:
            msg = "col_center: the per-column map is fused on the CPU only; on CUDA apply it first"
            raise TypeError(msg)
        return _gemm_cuda.linear_int8(
            x, packed._handle, activation, out_dtype, config, out_scale=scale
        )
    out = "float32" if out_dtype is None else dtype_name(out_dtype)
    if out not in ("float32", "int8"):
        msg = (
            "out_dtype: the CPU linear_int8 writes float32 only (or int8 with out_scale), "
            f"got {out_dtype!r}"
        )
        raise ValueError(msg)
    check_out_scale(out, scale)
    n, k = packed.shape
    arr = host_array(x, "x", dtypes=_FLOATS, ndim=(1, 2))
    if arr.shape[-1] != k:
        msg = f"x: expected {k} features (the weights' K), got shape {arr.shape}"
        raise ValueError(msg)
    choice(activation, "activation", ACTIVATIONS)
    rows = arr.reshape(1, k) if arr.ndim == 1 else arr
    divisor = 1.0 if scale is None else scale
    handle = packed._handle
    center = _column_coefs(col_center, "col_center", arr.dtype, k)
    mul = _column_coefs(col_mul, "col_mul", arr.dtype, k)

    def launch(cfg: int) -> np.ndarray:
        return _core.linear_int8(rows, handle, activation, out, divisor, cfg, center, mul)[0]

    y = _run(launch, config, rows.shape[0], n, k)
    return y[0] if arr.ndim == 1 else y
