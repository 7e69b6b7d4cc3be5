"""``int8_gemm``, ``pack_weights`` and ``linear_int8`` for CUDA arrays (contract: ops.gemm).

Kernel needs, met here (copies are made by the input's library and documented on the ops):

- int8 operands K-major with 16-byte aligned rows and K a multiple of 16. An operand that is
  non-contiguous along K, misaligned, or whose K is not a multiple of 16 is copied into a
  zero-padded (rows, ⌈K/16⌉·16) array: the zero columns add nothing to the products, so any K
  works. Row-strided views with aligned rows are used in place.
- scales and bias as contiguous, 16-byte aligned float32 device vectors (converted or copied by
  the library if needed: the sm_90a kernels read b_scale and bias with 16-byte vector loads).
  They are not checked for NaN/Inf on the device (that would cost a host synchronisation):
  non-finite values propagate into the output.
- split-K configs and CUTLASS's tile scheduler get their workspace allocated here, by the
  input's library (C++ never allocates device memory).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from lepton import _core
from lepton import _cuda_arrays as ca
from lepton._validate import choice
from lepton.ops import _plan, _quant_cuda
from lepton.ops._gemm_args import ACT_CODES, CUDA_OUT_CODES, check_k, out_dtype_arg
from lepton.ops._tuned import lookup as tuned_config

OUT_CODES = CUDA_OUT_CODES
_ALIGN = 16  # bytes: cp.async 16-byte copies
_REAL = ("int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64")
_OUT_DTYPES = tuple(CUDA_OUT_CODES)
_ACTIVATIONS = tuple(ACT_CODES)
# (M, N, K, padded K, output code, device, requested config) -> (config id, workspace elements)
_PLANS = _plan.plans()


def require_cuda_build(name: str) -> None:
    if not getattr(_core, "cuda_compiled", False):
        msg = (
            f"{name}: got a CUDA array, but this lepton build has no CUDA kernels "
            "(build with LEPTON_CUDA=ON)"
        )
        raise TypeError(msg)


def k_major(d: ca.DeviceArray, name: str) -> tuple[ca.DeviceArray, int]:
    """``d`` (rows, K) int8 as the kernel wants it, and its row stride in bytes."""
    rows, k = d.shape
    k_padded = -(-k // _ALIGN) * _ALIGN
    ld = d.strides[0] if rows > 1 else k_padded
    unit_inner = d.strides[1] == 1 or k == 1
    if unit_inner and k == k_padded and d.ptr % _ALIGN == 0 and ld % _ALIGN == 0 and ld >= k:
        return d, ld
    return ca.padded_rows(d, k_padded), k_padded


def device_vector(d: ca.DeviceArray | None, name: str, length: int) -> ca.DeviceArray | None:
    """A (length,) real device vector as contiguous float32 (converted by its library)."""
    if d is None:
        return None
    ca.require(d, name, dtypes=_REAL, ndim=1)
    if d.shape[0] != length:
        msg = f"{name}: expected length {length}, got {d.shape[0]}"
        raise ValueError(msg)
    v = ca.contiguous(d, "float32")
    return v if v.ptr % _ALIGN == 0 else ca.copy(v)


@functools.cache
def built_config_ids() -> frozenset[int]:
    """Ids whose kernel this build compiled (all of them unless LEPTON_CUDA_CONFIGS=minimal)."""
    return frozenset(c["id"] for c in _core.gemm_cuda_configs() if c["built"])


def resolve_config(
    config: Any, m: int, n: int, k: int, device: int, out_dtype: str = "int32"
) -> int:
    """The caller's config, the tuning cache's, or the heuristic's; checked for the shape.

    The cache is the tuner's entry for op ``int8_gemm`` on this device (tuned on int32 output).
    A cached id that cannot serve this call — its kernel left out of this build (a cache tuned
    on a full build), or unusable for this output (an sm_90a kernel and int8 output or an
    unaligned N) — falls back to the heuristic; the caller asking for one gets the core's
    ValueError saying why. Once per call signature: ``launch_gemm`` keeps the answer.
    """
    code = OUT_CODES[out_dtype]

    def tuned() -> int | None:
        cached = tuned_config("int8_gemm", (m, n, k), "int8", f"cuda:{device}")
        return cached if cached in built_config_ids() else None

    def check(cfg: int) -> int:
        return int(_core.gemm_cuda_resolve_config(cfg, m, n, k, code, device))

    return _plan.resolve_config(config, "int8_gemm_cuda", tuned, check)


def _plan_gemm(config: Any, m: int, n: int, k: int, k_padded: int, out_dtype: str, device: int):
    """``(config id, workspace elements)`` for this signature, resolved on its first call."""
    if config is not None:
        config = _plan.config_arg(config, "int8_gemm_cuda")
    key = (m, n, k, k_padded, out_dtype, device, config)
    plan = _PLANS.get(key)
    if plan is None:
        cfg = resolve_config(config, m, n, k, device, out_dtype)
        code = OUT_CODES[out_dtype]
        ws = int(_core.gemm_cuda_workspace_elems(cfg, m, n, k_padded, code, device))
        plan = _plan.remember(_PLANS, key, (cfg, ws))
    return plan


def _ptr(d: ca.DeviceArray | None) -> int:
    return 0 if d is None else d.ptr


def launch_gemm(
    a: ca.DeviceArray,
    b: ca.DeviceArray,
    *,
    a_scale: ca.DeviceArray | None,
    b_scale: ca.DeviceArray | None,
    bias: ca.DeviceArray | None,
    activation: str | None,
    out_dtype: str,
    config: Any,
    k: int | None = None,
    out_scale: float | None = None,
    stream: int | None = None,
) -> Any:
    """Run the GEMM on operands already in kernel layout (``k_major``); returns the output.

    ``k`` is the logical K for the config lookup (the operands' may be padded); ``stream`` the
    one to launch on when the caller has asked the library already.
    """
    m, n, k_padded = a.shape[0], b.shape[0], a.shape[1]
    cfg, ws_elems = _plan_gemm(config, m, n, k or k_padded, k_padded, out_dtype, a.device)
    if stream is None:
        stream = ca.stream_of(a)
    ca.order_after_producers(stream, [x for x in (a, b, a_scale, b_scale, bias) if x is not None])
    out = ca.new(a, (m, n), out_dtype)
    ws = ca.new(a, (ws_elems,), "int32") if ws_elems else None
    _core.int8_gemm_cuda(
        a.ptr, a.strides[0] if m > 1 else k_padded, b.ptr, b.strides[0] if n > 1 else k_padded,
        m, n, k_padded, out.ptr, OUT_CODES[out_dtype], _ptr(a_scale), _ptr(b_scale), _ptr(bias),
        ACT_CODES[activation], 1.0 if out_scale is None else out_scale,
        _ptr(ws), ws_elems, cfg, a.device, stream,
    )  # fmt: skip
    return out.obj


def int8_gemm(
    args: dict[str, Any],
    activation: str | None,
    out_dtype: Any,
    config: Any,
    out_scale: float | None = None,
) -> Any:
    """The CUDA path of ``ops.int8_gemm``; ``args`` maps a, b, a_scale, b_scale, bias."""
    d = ca.describe_all(args)  # a host+device mix is an error in every build
    require_cuda_build("a")
    hint = "; quantize float data first with lepton.ops.quantize"
    a = ca.require(d["a"], "a", dtypes=("int8",), ndim=2, hint=hint)
    b = ca.require(d["b"], "b", dtypes=("int8",), ndim=2, hint=hint)
    (m, k), n = a.shape, b.shape[0]
    if b.shape[1] != k:
        msg = f"b: expected shape (N, {k}) to match a's K={k}, got {b.shape}"
        raise ValueError(msg)
    check_k(k, "a")
    choice(activation, "activation", _ACTIVATIONS)
    a_scale = device_vector(d.get("a_scale"), "a_scale", m)
    b_scale = device_vector(d.get("b_scale"), "b_scale", n)
    bias = device_vector(d.get("bias"), "bias", n)
    epilogue = not (a_scale is None and b_scale is None and bias is None and activation is None)
    out = out_dtype_arg(out_dtype, epilogue, out_scale, _OUT_DTYPES)
    a_op, _ = k_major(a, "a")
    b_op, _ = k_major(b, "b")
    return launch_gemm(
        a_op, b_op, a_scale=a_scale, b_scale=b_scale, bias=bias, activation=activation,
        out_dtype=out, config=config, k=k, out_scale=out_scale,
    )  # fmt: skip


@dataclass(frozen=True)
class CudaPackedWeights:
    """Weights of a linear layer on a CUDA device, in kernel layout (see ``pack_weights``)."""

    w: ca.DeviceArray  # (N, ⌈K/16⌉·16) int8, zero-padded, 16-byte aligned rows
    w_scale: ca.DeviceArray | None  # (N,) float32
    bias: ca.DeviceArray | None  # (N,) float32
    n: int
    k: int  # the logical K (x's features)

    @property
    def nbytes(self) -> int:
        extra = sum(4 * self.n for v in (self.w_scale, self.bias) if v is not None)
        return self.w.size + extra

    @property
    def device(self) -> int:
        return self.w.device


def pack_weights(w_q: Any, w_scale: Any, bias: Any) -> CudaPackedWeights:
    """The CUDA path of ``ops.pack_weights``: an aligned, K-padded copy made once."""
    d = ca.describe_all({"w_q": w_q, "w_scale": w_scale, "bias": bias})
    require_cuda_build("w_q")
    w = ca.require(d["w_q"], "w_q", dtypes=("int8",), ndim=2, hint="; quantize weights first")
    n, k = w.shape
    check_k(k, "w_q")
    k_padded = -(-k // _ALIGN) * _ALIGN
    # Always a private copy: later writes to the caller's w_q must not change the layer.
    packed = ca.padded_rows(w, k_padded)
    scale = device_vector(d.get("w_scale"), "w_scale", n)
    b = device_vector(d.get("bias"), "bias", n)
    scale = None if scale is None else ca.copy(scale)
    b = None if b is None else ca.copy(b)
    return CudaPackedWeights(packed, scale, b, n, k)


def linear_int8(
    x: Any,
    packed: CudaPackedWeights,
    activation: str | None,
    out_dtype: Any,
    config: Any,
    out_scale: float | None = None,
) -> Any:
    """The CUDA path of ``ops.linear_int8``: the quantize kernel, then the fused GEMM.

    A row of ``x`` holding NaN/Inf gets scale NaN, so its output row is NaN (no host
    synchronisation to check it).
    """
    require_cuda_build("x")
    d = ca.describe_all({"x": x, "w": packed.w})
    xd = ca.require(d["x"], "x", dtypes=_quant_cuda.FLOAT_INPUTS, ndim=(1, 2))
    if xd.shape[-1] != packed.k:
        msg = f"x: expected {packed.k} features (the weights' K), got shape {xd.shape}"
        raise ValueError(msg)
    choice(activation, "activation", _ACTIVATIONS)
    out = out_dtype_arg(out_dtype, True, out_scale, _OUT_DTYPES)
    rows = xd.shape[0] if xd.ndim == 2 else 1
    stream = ca.stream_of(xd)
    q, scale = _quant_cuda.quantize_rows(xd, rows, packed.w.shape[1], flag=False, stream=stream)
    result = launch_gemm(
        q, packed.w, a_scale=scale, b_scale=packed.w_scale, bias=packed.bias,
        activation=activation, out_dtype=out, config=config, k=packed.k, out_scale=out_scale,
        stream=stream,
    )  # fmt: skip
    return result[0] if xd.ndim == 1 else result
