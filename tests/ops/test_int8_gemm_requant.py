"""int8 requantized output of the fused epilogue (out_dtype="int8", out_scale).

The epilogue computes the same float32 y whatever the output dtype, so the int8 output must be
exactly ``requantize(y, out_scale)`` of the float32 output of the same call: numpy's float32
division, round half to even, clip to ±127, NaN → 0 (the rule of ``ops.quantize``).
"""

from __future__ import annotations

import numpy as np
import pytest
from _gemm_oracles import assert_requant_edges_covered, requant_edge_operands, requantize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lepton
from lepton import _core
from lepton.ops import config_table, gemm, int8_gemm, linear_int8, pack_weights

ISAS = list(_core.available_isas())
CONFIGS = config_table("int8_gemm")
ACTIVATIONS = [None, "relu", "gelu", "sigmoid"]
# 1, 7, 33, 255, 1000 in every dimension; N = 7, 33, 255, 1000 leave a tail on every kernel.
SHAPES = [
    (1, 1, 1),
    (1, 1000, 255),
    (7, 33, 1000),
    (33, 7, 33),
    (255, 1, 7),
    (1000, 255, 1),
    (33, 255, 255),
]


def _operands(seed: int, m: int, n: int, k: int):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    # y = acc·a_scale·b_scale + bias around ±4 for K ~ 300: every activation sees both regimes.
    scale = 1.0 / np.sqrt(max(k, 1))
    a_scale = (rng.random(m) * 0.1 + 0.01).astype(np.float32) * np.float32(scale)
    b_scale = (rng.random(n) * 4e-3 + 1e-4).astype(np.float32)
    bias = rng.normal(0, 1, n).astype(np.float32)
    return a, b, {"a_scale": a_scale, "b_scale": b_scale, "bias": bias}


def _both(a, b, out_scale, **kw):
    """(float32 y, int8 q) of the same call."""
    y = int8_gemm(a, b, out_dtype="float32", **kw)
    q = int8_gemm(a, b, out_dtype="int8", out_scale=out_scale, **kw)
    assert q.dtype == np.int8
    assert q.shape == y.shape
    return y, q


# --- exactness against the oracle -----------------------------------------------------------


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize(("m", "n", "k"), SHAPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_matches_the_oracle_of_the_float32_output(isa, m, n, k, activation):
    a, b, kw = _operands(m * 7 + n * 3 + k, m, n, k)
    # ±127 steps cover ±2.7 (sigmoid: 0.76): some outputs saturate, most do not.
    out_scale = 0.006 if activation == "sigmoid" else 0.021
    with lepton.isa(isa):
        y, q = _both(a, b, out_scale, activation=activation, **kw)
    np.testing.assert_array_equal(q, requantize(y, out_scale))
    if m * n >= 1000:  # enough values that both regimes must show up
        assert (np.abs(q) == 127).any()
        assert (np.abs(q) < 127).mean() > 0.5


# The CPU twin of test_int8_gemm_cuda.py::test_int8_output_is_the_requantized_float_output:
# the same operands, which must reach saturation, NaN → 0 and ties on every device.
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("config", [c["id"] for c in CONFIGS])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_edge_operands_reach_every_requantization_path(isa, config, activation):
    a, b, kw, out_scale = requant_edge_operands(9)
    with lepton.isa(isa), np.errstate(over="ignore", invalid="ignore"):
        y, q = _both(a, b, out_scale, activation=activation, config=config, **kw)
    assert_requant_edges_covered(y, activation, out_scale)
    np.testing.assert_array_equal(q, requantize(y, out_scale))
    np.testing.assert_array_equal(q[np.isnan(y)], 0)


@pytest.mark.parametrize("isa", ISAS)
def test_without_an_epilogue_the_accumulator_is_requantized(isa):
    a, b, _ = _operands(3, 33, 70, 255)
    with lepton.isa(isa):
        y, q = _both(a, b, 1000.0)
    np.testing.assert_array_equal(y, (a.astype(np.int64) @ b.T.astype(np.int64)).astype(np.float32))
    np.testing.assert_array_equal(q, requantize(y, 1000.0))


# K = 1101 passes every config's kc (partial sums carried between k blocks) and allows split-K.
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("config", [c["id"] for c in CONFIGS])
@pytest.mark.parametrize("threads", [1, 3])
def test_every_config(isa, config, threads):
    a, b, kw = _operands(config, 37, 75, 1101)
    previous = lepton.get_num_threads()
    lepton.set_num_threads(threads)
    try:
        with lepton.isa(isa):
            y, q = _both(a, b, 0.03, activation="gelu", config=config, **kw)
    finally:
        lepton.set_num_threads(previous)
    np.testing.assert_array_equal(q, requantize(y, 0.03))


def test_every_isa_gives_identical_bytes():
    a, b, kw = _operands(11, 19, 70, 333)
    outs = {}
    for isa in ISAS:
        with lepton.isa(isa):
            outs[isa] = int8_gemm(
                a, b, activation="sigmoid", out_dtype="int8", out_scale=0.004, **kw
            )
    for isa in ISAS[1:]:
        np.testing.assert_array_equal(outs[isa], outs[ISAS[0]], err_msg=f"{isa} vs {ISAS[0]}")


# --- the rounding rule at its edges ---------------------------------------------------------


@pytest.mark.parametrize("isa", ISAS)
def test_ties_round_to_even_and_saturate_at_127(isa):
    # a = 0, so y = bias exactly; out_scale = 1 puts each y on its quotient. N = 19 leaves a
    # tail on every kernel (nr 8, 16, 64).
    cases = {  # y: q
        0.5: 0, 1.5: 2, 2.5: 2, -0.5: 0, -1.5: -2, -2.5: -2,  # ties to even
        126.5: 126, 127.5: 127, 128.5: 127, -126.5: -126, -127.5: -127, -128.5: -127,
        0.49999997: 0, 0.50000006: 1,  # float32 neighbours of a tie
        1e6: 127, -1e6: -127, 3.4e38: 127, -3.4e38: -127, 0.0: 0,
    }  # fmt: skip
    bias = np.array(list(cases), dtype=np.float32)
    expected = list(cases.values())
    a = np.zeros((5, 9), np.int8)
    b = np.ones((bias.size, 9), np.int8)
    with lepton.isa(isa):
        q = int8_gemm(a, b, bias=bias, out_dtype="int8", out_scale=1.0)
    np.testing.assert_array_equal(q, np.tile(np.array(expected, np.int8), (5, 1)))


@pytest.mark.parametrize("isa", ISAS)
def test_ties_of_a_scale_that_is_not_a_power_of_two(isa):
    # y = v/2 (exact) for v = a·1 over all int8 values; out_scale = 3 makes y/3 = j + 0.5 exactly
    # for v = 6j + 3, and the float32 division is correctly rounded, so those are true ties.
    v = np.arange(-128, 128, dtype=np.int8)
    a = v.reshape(-1, 1)
    b = np.ones((37, 1), np.int8)
    a_scale = np.full(v.size, 0.5, np.float32)
    with lepton.isa(isa):
        y, q = _both(a, b, 3.0, a_scale=a_scale)
    np.testing.assert_array_equal(q, requantize(y, 3.0))
    ties = {3: 0, 9: 2, 15: 2, 21: 4, -3: 0, -9: -2, -15: -2, 123: 20, -123: -20}
    for value, even in ties.items():
        assert (q[value + 128] == even).all(), value


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_nan_and_inf_from_finite_inputs(isa, activation):
    # acc·a_scale overflows to ±Inf for |acc| ≥ 2 (a_scale = 3e38, finite); b_scale = 0 then
    # gives Inf·0 = NaN, b_scale = 1 keeps ±Inf. NaN → 0 and ±Inf → ±127.
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (9, 40), dtype=np.int8)
    b = rng.integers(-128, 128, (21, 40), dtype=np.int8)
    a_scale = np.full(9, 3e38, np.float32)
    b_scale = np.tile(np.array([0.0, 1.0, 1e-30], np.float32), 7)
    with lepton.isa(isa), np.errstate(over="ignore", invalid="ignore"):
        y, q = _both(a, b, 0.5, a_scale=a_scale, b_scale=b_scale, activation=activation)
    np.testing.assert_array_equal(q, requantize(y, 0.5))
    if activation is None:
        assert np.isnan(y).any()
        assert np.isposinf(y).any()
        assert np.isneginf(y).any()
        np.testing.assert_array_equal(q[np.isnan(y)], 0)
        np.testing.assert_array_equal(q[np.isinf(y)], np.sign(y[np.isinf(y)]) * 127)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    m=st.integers(1, 40),
    n=st.integers(1, 90),
    k=st.integers(1, 400),
    isa=st.sampled_from(ISAS),
    activation=st.sampled_from(ACTIVATIONS),
    config=st.sampled_from([c["id"] for c in CONFIGS if c["k_split"] == 1]),
    out_scale=st.floats(1e-4, 10.0),
    use_bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_fuzz_against_oracle(m, n, k, isa, activation, config, out_scale, use_bias, seed):
    a, b, kw = _operands(seed, m, n, k)
    if not use_bias:
        del kw["bias"]
    with lepton.isa(isa):
        y, q = _both(a, b, out_scale, activation=activation, config=config, **kw)
    np.testing.assert_array_equal(q, requantize(y, out_scale))


# --- linear_int8 ----------------------------------------------------------------------------


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize(("m", "n", "k"), [(1, 33, 255), (7, 1000, 7), (33, 7, 1000)])
def test_linear_int8_requantizes_its_float32_output(isa, m, n, k):
    rng = np.random.default_rng(m + n + k)
    x = rng.normal(0, 1, (m, k)).astype(np.float32)
    w_q = rng.integers(-127, 128, (n, k), dtype=np.int8)
    w_scale = (rng.random(n) * 0.02 + 1e-3).astype(np.float32)
    bias = rng.normal(0, 0.5, n).astype(np.float32)
    with lepton.isa(isa):
        packed = pack_weights(w_q, w_scale, bias)
        y = linear_int8(x, packed, activation="relu")
        q = linear_int8(x, packed, activation="relu", out_dtype="int8", out_scale=0.01)
        q_raw = linear_int8(x, w_q, w_scale, bias, "relu", out_dtype=np.int8, out_scale=0.01)
        q_row = linear_int8(x[0], packed, activation="relu", out_dtype="int8", out_scale=0.01)
    assert q.dtype == np.int8
    np.testing.assert_array_equal(q, requantize(y, 0.01))
    np.testing.assert_array_equal(q_raw, q)
    np.testing.assert_array_equal(q_row, q[0])


# --- argument errors ------------------------------------------------------------------------


@pytest.fixture
def ab():
    rng = np.random.default_rng(0)
    return (
        rng.integers(-128, 128, (5, 40), dtype=np.int8),
        rng.integers(-128, 128, (6, 40), dtype=np.int8),
    )


def test_int8_output_without_out_scale(ab):
    with pytest.raises(ValueError, match="out_scale: required with out_dtype='int8'"):
        int8_gemm(*ab, bias=np.zeros(6, np.float32), out_dtype="int8")


@pytest.mark.parametrize("out_dtype", ["float32", np.float16, None])
def test_out_scale_with_a_float_output(ab, out_dtype):
    with pytest.raises(ValueError, match=r"out_scale: required with out_dtype='int8' .*only then"):
        int8_gemm(*ab, bias=np.zeros(6, np.float32), out_dtype=out_dtype, out_scale=0.1)


def test_out_scale_with_int32_output(ab):
    with pytest.raises(ValueError, match=r"out_scale: .*out_dtype='int32'"):
        int8_gemm(*ab, out_dtype="int32", out_scale=0.1)


@pytest.mark.parametrize("value", [0.0, -0.5, -0.0, 1e-50])
def test_out_scale_not_positive(ab, value):
    # 1e-50 is positive as a Python float but 0 as the float32 the kernel divides by.
    with pytest.raises(ValueError, match="out_scale: expected a positive finite float"):
        int8_gemm(*ab, out_dtype="int8", out_scale=value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1e39, 10**400])
def test_out_scale_not_finite(ab, value):
    # 1e39 and 10**400 overflow float32.
    with pytest.raises(ValueError, match="out_scale: expected a positive finite float"):
        int8_gemm(*ab, out_dtype="int8", out_scale=value)


@pytest.mark.parametrize("value", ["0.1", True, np.array([0.1]), [0.1]])
def test_out_scale_not_a_number(ab, value):
    with pytest.raises(TypeError, match="out_scale: expected a positive finite float"):
        int8_gemm(*ab, out_dtype="int8", out_scale=value)


def test_out_scale_of_numpy_and_int_types(ab):
    ref = int8_gemm(*ab, out_dtype="int8", out_scale=2.0)
    for value in (2, np.float64(2.0), np.float32(2.0), np.int16(2)):
        np.testing.assert_array_equal(int8_gemm(*ab, out_dtype="int8", out_scale=value), ref)


def test_the_core_refuses_a_bad_out_scale(ab):
    # The Python layer checks first; the C++ guard keeps a direct call from dividing by zero.
    with pytest.raises(ValueError, match="out_scale: expected a positive finite float"):
        _core.int8_gemm(*ab, None, None, None, None, "int8", 0.0, -1)


def test_linear_int8_out_scale_errors():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (3, 16)).astype(np.float32)
    packed = pack_weights(rng.integers(-127, 128, (4, 16), dtype=np.int8))
    with pytest.raises(ValueError, match="out_scale: required"):
        linear_int8(x, packed, out_dtype="int8")
    with pytest.raises(ValueError, match=r"out_scale: required .*only then"):
        linear_int8(x, packed, out_scale=0.1)
    with pytest.raises(ValueError, match="out_scale: expected a positive finite float"):
        linear_int8(x, packed, out_dtype="int8", out_scale=-1.0)
    with pytest.raises(
        ValueError, match=r"out_dtype: the CPU linear_int8 writes float32 only \(or int8"
    ):
        linear_int8(x, packed, out_dtype="float16")


class _FakeCuda:
    """Enough of a CUDA array for dispatch; nothing here dereferences it."""

    def __init__(self, shape, typestr="|i1"):
        self.__cuda_array_interface__ = {
            "shape": tuple(shape),
            "typestr": typestr,
            "data": (0x7F0000000000, False),
            "strides": None,
            "version": 3,
            "stream": None,
        }


def test_out_scale_reaches_the_cuda_path_as_float32(monkeypatch):
    seen = {}

    def fake_int8_gemm(args, activation, out_dtype, config, *, out_scale=None):
        seen.update(out_dtype=out_dtype, out_scale=out_scale)
        return "device result"

    monkeypatch.setattr(gemm._gemm_cuda, "int8_gemm", fake_int8_gemm)
    a, b = _FakeCuda((4, 32)), _FakeCuda((8, 32))
    assert int8_gemm(a, b, out_dtype="int8", out_scale=0.1) == "device result"
    assert seen == {"out_dtype": "int8", "out_scale": float(np.float32(0.1))}
    int8_gemm(a, b, out_dtype="float16")
    assert seen["out_scale"] is None
    with pytest.raises(ValueError, match="out_scale: expected a positive finite float"):
        int8_gemm(a, b, out_dtype="int8", out_scale=0.0)  # checked for both devices


def test_linear_int8_int8_output_reaches_the_cuda_path(monkeypatch):
    seen = {}

    def fake_linear(x, packed, activation, out_dtype, config, *, out_scale):
        seen.update(out_dtype=out_dtype, out_scale=out_scale)
        return "device result"

    monkeypatch.setattr(gemm._gemm_cuda, "linear_int8", fake_linear)
    packed = gemm.PackedLinear(gemm._gemm_cuda.CudaPackedWeights(None, None, None, 4, 32))
    out = linear_int8(_FakeCuda((2, 32), "<f4"), packed, out_dtype="int8", out_scale=0.5)
    assert out == "device result"
    assert seen == {"out_dtype": "int8", "out_scale": 0.5}
