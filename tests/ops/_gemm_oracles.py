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


# --- requantized int8 output (out_dtype="int8") ---------------------------------------------


def requantize(y: np.ndarray, out_scale: float) -> np.ndarray:
    """The oracle: clip(rint(float32(y) / float32(out_scale)), ±127), NaN → 0, as int8."""
    with np.errstate(invalid="ignore", over="ignore"):
        q = np.rint(np.float32(y) / np.float32(out_scale))
    return np.clip(np.nan_to_num(q, nan=0.0), -127, 127).astype(np.int8)


# 3·2⁻⁶: exact in float32 but not a power of two, so the division by it does real rounding work,
# and (j + ½)·REQUANT_SCALE is exact for small j: those biases are true ties of y / out_scale.
REQUANT_SCALE = 0.046875
_TIES = (0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5)  # even: 0, 2, 2, 0, -2, -2, 126, -126


def requant_edge_operands(seed: int, m: int = 45, n: int = 67, k: int = 1101):
    """(a, b, {a_scale, b_scale, bias}, out_scale) whose requantized output takes every path.

    K = 1101 lets every CPU config run it (split-K needs K ≥ 1024) and leaves a K tail on every
    kernel. Built so that each path is reached on every device, whatever its rounding order
    (the float32 values below are exact or far from any threshold):
    - row m-1 of a is zero, so y = bias exactly; the last len(_TIES) biases are exact ties
      (j + ½)·out_scale, crossing the 64-column tile edge: round half to even, both ways;
    - row 0 has a_scale = 1: |y| ≈ |acc|·b_scale ~ 10², far past 127·out_scale ≈ 6: both signs
      saturate;
    - row m//2 is all ones with a_scale = 3e38, so acc·a_scale overflows to ±Inf (or is ~1e36
      where acc = ±1); column 1 is all ones with b_scale = 0, so at (m//2, 1) acc = K and
      Inf·0 = NaN → 0; the rest of the row saturates at ±127;
    - the other rows keep |y| a few out_scale steps wide: most outputs are not saturated.
    """
    rng = np.random.default_rng(seed)
    assert n > len(_TIES) + 2, n
    assert m >= 3, m
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    a_scale = rng.uniform(1e-3, 2e-3, m).astype(np.float32)
    b_scale = rng.uniform(1e-3, 1e-2, n).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    a[m - 1] = 0
    bias[n - len(_TIES) :] = np.float32(REQUANT_SCALE) * np.array(_TIES, np.float32)
    a_scale[0] = 1.0
    a[m // 2] = 1
    a_scale[m // 2] = np.float32(3e38)
    b[1] = 1
    b_scale[1] = 0.0
    return a, b, {"a_scale": a_scale, "b_scale": b_scale, "bias": bias}, REQUANT_SCALE


def assert_requant_edges_covered(y: np.ndarray, activation: str | None, out_scale: float) -> None:
    """The precondition of a requantization test: its float32 output y reaches every path.

    Saturation at +127 (every activation but sigmoid, whose range is (0, 1)) and at -127
    (no activation), NaN (no activation, gelu: relu and sigmoid of NaN are 0 and 1 on the CPU
    but NaN on CUDA), exact ties rounding down and up to even (no activation, relu), and a
    majority of unsaturated values.
    """
    y = np.asarray(y, np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        r = y / np.float32(out_scale)
        frac = r - np.floor(r)
    finite = np.isfinite(r)
    if activation in (None, "gelu"):
        assert np.isnan(y).any(), "no NaN output: the NaN → 0 path is not reached"
    assert (np.abs(r[finite]) <= 127).mean() > 0.5, "most outputs should not saturate"
    if activation != "sigmoid":
        assert (r > 127.5).any(), "no output saturates at +127"
    if activation is None:
        assert (r < -127.5).any(), "no output saturates at -127"
    if activation in (None, "relu"):
        ties = finite & (frac == 0.5)
        assert (np.rint(r[ties]) < r[ties]).any(), "no tie rounds down to even"
        assert (np.rint(r[ties]) > r[ties]).any(), "no tie rounds up to even"
