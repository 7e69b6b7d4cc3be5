"""Reference implementations for the int8 GEMM / quantization tests: numpy, exact or float64.

Tolerances are derived from float32/float16 rounding (u = 2⁻²⁴, the float32 unit roundoff),
not tuned to pass: each bound below says which roundings it covers.
"""

from __future__ import annotations

import numpy as np
from scipy import special

U32 = 2.0**-24  # float32 unit roundoff
U16 = 2.0**-11  # float16 unit roundoff
F16_TINY = 2.0**-25  # half of float16's smallest subnormal: the absolute rounding floor


def gemm_int64(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact a @ b.T for int8 operands.

    float64 BLAS is exact here: every product and partial sum is an integer of magnitude
    ≤ 128·128·65536 = 2³⁰ < 2⁵³, so no rounding ever happens (FMA or not).
    """
    return (a.astype(np.float64) @ b.astype(np.float64).T).astype(np.int64)


def activation_f64(v: np.ndarray, activation: str | None) -> np.ndarray:
    if activation is None:
        return v
    if activation == "relu":
        return np.maximum(v, 0.0)
    if activation == "sigmoid":
        return special.expit(v)
    if activation == "gelu":  # erf form: v·Φ(v), Φ(v) = erfc(−v/√2)/2
        return v * 0.5 * special.erfc(-v / np.sqrt(2.0))
    raise AssertionError(activation)


def epilogue_f64(
    acc: np.ndarray,
    a_scale: np.ndarray | None,
    b_scale: np.ndarray | None,
    bias: np.ndarray | None,
    activation: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(pre-activation value, activated value) in float64 from the exact accumulator."""
    v = acc.astype(np.float64)
    if a_scale is not None:
        v = v * a_scale.astype(np.float64)[:, None]
    if b_scale is not None:
        v = v * b_scale.astype(np.float64)[None, :]
    if bias is not None:
        v = v + bias.astype(np.float64)[None, :]
    return v, activation_f64(v, activation)


def epilogue_tolerance(
    acc: np.ndarray,
    a_scale: np.ndarray | None,
    b_scale: np.ndarray | None,
    bias: np.ndarray | None,
    activation: str | None,
    out_dtype: str = "float32",
) -> np.ndarray:
    """Per-element bound on |kernel − float64 oracle|.

    Pre-activation v = ((float(acc)·a_scale)·b_scale) + bias takes at most four float32
    roundings: ≤ 4u·|acc·a_scale·b_scale| + u·|v| ≤ 5u·(|p| + |bias|), doubled for margin.
    The activation passes that on with its Lipschitz constant (relu 1, gelu < 1.13,
    sigmoid 1/4) and adds its own approximation error: a few u relative to the result, plus for
    GELU's tail the z² growth of float32 exp arguments (u·v² relative). float16 output adds
    half an ulp of the result.
    """
    p = np.abs(acc.astype(np.float64))
    if a_scale is not None:
        p = p * np.abs(a_scale.astype(np.float64))[:, None]
    if b_scale is not None:
        p = p * np.abs(b_scale.astype(np.float64))[None, :]
    b = np.zeros_like(p) if bias is None else np.abs(bias.astype(np.float64))[None, :]
    pre = 10 * U32 * (p + b)
    v, out = epilogue_f64(acc, a_scale, b_scale, bias, activation)
    if activation is None or activation == "relu":
        tol = pre
    elif activation == "sigmoid":
        tol = 0.25 * pre + 8 * U32 * np.abs(out)
    else:  # gelu
        tol = 1.13 * pre + 8 * U32 * np.abs(v) + 16 * U32 * np.abs(out) * (1 + v * v)
    tol = tol + 1e-45  # float32 subnormal floor (results that underflow)
    if out_dtype == "float16":
        tol = tol + U16 * np.abs(out) + F16_TINY
    return tol


def quantize_rows_ref(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The documented quantization of each row of a 2-D float32/float64 array."""
    absmax = np.max(np.abs(x), axis=1)
    if x.dtype == np.float32:
        scale = absmax / np.float32(127)
    else:
        scale = (absmax / 127.0).astype(np.float32)
    tiny = np.float32(np.finfo(np.float32).tiny)
    scale = np.where(absmax == 0, np.float32(1), np.maximum(scale, tiny)).astype(np.float32)
    q = np.rint(x / scale.astype(x.dtype)[:, None])
    return np.clip(q, -127, 127).astype(np.int8), scale


def quantize_ref(x: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    wide = x.astype(np.float32) if x.dtype == np.float16 else x
    moved = np.moveaxis(wide, axis, -1)
    q, s = quantize_rows_ref(moved.reshape(-1, moved.shape[-1]))
    return np.moveaxis(q.reshape(moved.shape), -1, axis), s.reshape(moved.shape[:-1])
