"""int8_gemm's fused epilogue: scales, bias, activations, float32/float16 output."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _gemm_oracles import epilogue_f64, epilogue_tolerance, gemm_int64

import lepton
from lepton import _core
from lepton.ops import int8_gemm

ISAS = list(_core.available_isas())
ACTIVATIONS = [None, "relu", "gelu", "sigmoid"]


def _operands(seed: int, m: int = 33, n: int = 77, k: int = 300):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    # Scales that put acc·a_scale·b_scale around ±4: every activation sees both of its regimes.
    a_scale = (rng.random(m) * 2e-3 + 1e-4).astype(np.float32)
    b_scale = (rng.random(n) * 4e-3 + 1e-4).astype(np.float32)
    bias = rng.normal(0, 1, n).astype(np.float32)
    return a, b, a_scale, b_scale, bias


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(
    ("use_a", "use_b", "use_bias"), list(itertools.product([False, True], repeat=3))
)
def test_epilogue_matches_float64_oracle(isa, activation, use_a, use_b, use_bias):
    a, b, a_scale, b_scale, bias = _operands(seed=len(isa) + 10 * ACTIVATIONS.index(activation))
    kw = {
        "a_scale": a_scale if use_a else None,
        "b_scale": b_scale if use_b else None,
        "bias": bias if use_bias else None,
    }
    acc = gemm_int64(a, b)
    _, expected = epilogue_f64(acc, kw["a_scale"], kw["b_scale"], kw["bias"], activation)
    # Unscaled accumulators (~1e5) overflow float16; its test below covers overflow itself.
    out_dtypes = ("float32", "float16") if use_a or use_b else ("float32",)
    for out_dtype in out_dtypes:
        with lepton.isa(isa):
            out = int8_gemm(a, b, activation=activation, out_dtype=out_dtype, **kw)
        assert out.dtype == np.dtype(out_dtype)
        tol = epilogue_tolerance(
            acc, kw["a_scale"], kw["b_scale"], kw["bias"], activation, out_dtype
        )
        err = np.abs(out.astype(np.float64) - expected)
        assert (err <= tol).all(), f"max excess {np.max(err - tol):.3g}"


@pytest.mark.parametrize("activation", ["relu", "gelu", "sigmoid"])
def test_activation_accuracy_on_a_dense_grid(activation):
    # acc = 1 (a = b = 1, K = 1), so out = act(a_scale): the activation alone, over its range.
    v = np.concatenate(
        [np.linspace(-20, 20, 40001), [-200.0, -104.0, -88.0, -87.0, -0.0, 1e-30, 88.0, 200.0]]
    ).astype(np.float32)
    a = np.ones((v.size, 1), dtype=np.int8)
    b = np.ones((1, 1), dtype=np.int8)
    out = int8_gemm(a, b, a_scale=v, activation=activation)[:, 0]
    acc = np.ones((v.size, 1), dtype=np.int64)
    _, expected = epilogue_f64(acc, v, None, None, activation)
    tol = epilogue_tolerance(acc, v, None, None, activation)[:, 0]
    err = np.abs(out.astype(np.float64) - expected[:, 0])
    assert (err <= tol).all(), f"worst at v={v[np.argmax(err - tol)]}"


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_isa_gives_identical_bits(activation):
    a, b, a_scale, b_scale, bias = _operands(seed=99, m=19, n=70, k=333)
    outs = {}
    for isa in ISAS:
        with lepton.isa(isa):
            outs[isa] = int8_gemm(
                a, b, a_scale=a_scale, b_scale=b_scale, bias=bias, activation=activation
            )
    for isa in ISAS[1:]:
        np.testing.assert_array_equal(outs[isa], outs[ISAS[0]], err_msg=f"{isa} vs {ISAS[0]}")


@pytest.mark.parametrize("isa", ISAS)
def test_float16_output_is_float32_rounded_to_nearest_even(isa):
    a, b, *_ = _operands(seed=5)
    # Scales spanning float16's subnormals, normals and overflow to Inf.
    b_scale = np.geomspace(1e-12, 30.0, b.shape[0]).astype(np.float32)
    with lepton.isa(isa):
        f32 = int8_gemm(a, b, b_scale=b_scale)
        f16 = int8_gemm(a, b, b_scale=b_scale, out_dtype=np.float16)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(f16, f32.astype(np.float16))
    assert np.isinf(f16).any()
    assert (np.abs(f16[np.isfinite(f16)]) < 6.2e-5).any()


def test_scales_and_bias_of_other_dtypes_are_converted():
    a, b, a_scale, b_scale, bias = _operands(seed=8)
    ref = int8_gemm(a, b, a_scale=a_scale, b_scale=b_scale, bias=bias)
    out = int8_gemm(
        a,
        b,
        a_scale=a_scale.astype(np.float64),
        b_scale=list(b_scale),
        bias=bias.astype(np.float64),
    )
    np.testing.assert_array_equal(out, ref)
