"""linear_int8 and PackedLinear: dynamic quantization + int8 GEMM + epilogue."""

from __future__ import annotations

import numpy as np
import pytest
from _gemm_oracles import epilogue_f64, epilogue_tolerance, gemm_int64

import lepton
from lepton import _core
from lepton.ops import PackedLinear, int8_gemm, linear_int8, pack_weights, quantize

ISAS = list(_core.available_isas())


def _layer(seed: int, m: int, n: int, k: int, x_dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (m, k)).astype(x_dtype)
    w_q = rng.integers(-127, 128, (n, k), dtype=np.int8)
    w_scale = (rng.random(n) * 0.02 + 1e-3).astype(np.float32)
    bias = rng.normal(0, 0.5, n).astype(np.float32)
    return x, w_q, w_scale, bias


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize(("m", "n", "k"), [(1, 33, 255), (3, 1000, 7), (8, 255, 1000), (33, 7, 33)])
@pytest.mark.parametrize("activation", [None, "relu", "gelu", "sigmoid"])
def test_matches_float64_oracle_of_the_quantized_layer(isa, m, n, k, activation):
    x, w_q, w_scale, bias = _layer(m + n + k, m, n, k)
    with lepton.isa(isa):
        packed = pack_weights(w_q, w_scale, bias)
        out = linear_int8(x, packed, activation=activation)
        x_q, x_scale = quantize(x)
    acc = gemm_int64(x_q, w_q)
    _, expected = epilogue_f64(acc, x_scale, w_scale, bias, activation)
    tol = epilogue_tolerance(acc, x_scale, w_scale, bias, activation)
    assert out.dtype == np.float32
    assert out.shape == (m, n)
    assert (np.abs(out - expected) <= tol).all()


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
def test_packed_raw_and_int8_gemm_paths_agree_bit_for_bit(isa, x_dtype):
    x, w_q, w_scale, bias = _layer(4, 9, 70, 301, x_dtype)
    with lepton.isa(isa):
        packed = linear_int8(x, pack_weights(w_q, w_scale, bias), activation="gelu")
        raw = linear_int8(x, w_q, w_scale, bias, activation="gelu")
        x_q, x_scale = quantize(x)
        via_gemm = int8_gemm(
            x_q, w_q, a_scale=x_scale, b_scale=w_scale, bias=bias, activation="gelu"
        )
    np.testing.assert_array_equal(packed, raw)
    np.testing.assert_array_equal(packed, via_gemm)


def test_one_dimensional_input_is_one_row():
    x, w_q, w_scale, bias = _layer(5, 4, 40, 64)
    packed = pack_weights(w_q, w_scale, bias)
    out = linear_int8(x[2], packed)
    assert out.shape == (40,)
    np.testing.assert_array_equal(out, linear_int8(x, packed)[2])


def test_scales_and_bias_are_optional():
    x, w_q, *_ = _layer(6, 3, 20, 50)
    x_q, x_scale = quantize(x)
    expected = gemm_int64(x_q, w_q) * x_scale.astype(np.float64)[:, None]
    out = linear_int8(x, pack_weights(w_q))
    np.testing.assert_allclose(out, expected, rtol=4 * 2**-24, atol=0)


def test_isa_change_after_packing_repacks_and_stays_exact():
    x, w_q, w_scale, bias = _layer(7, 5, 45, 130)
    packed = pack_weights(w_q, w_scale, bias)
    first_isa = packed.isa
    assert first_isa == lepton.get_isa()
    reference = linear_int8(x, packed, activation="sigmoid")
    for isa in ISAS:
        with lepton.isa(isa):
            np.testing.assert_array_equal(linear_int8(x, packed, activation="sigmoid"), reference)
            assert packed.isa == isa  # repacked for the active kernel, the cap respected
    linear_int8(x, packed)
    assert packed.isa == first_isa


def test_packed_linear_describes_itself():
    _, w_q, w_scale, _ = _layer(8, 1, 30, 70)
    packed = pack_weights(w_q, w_scale)
    assert packed.shape == (30, 70)
    assert packed.nbytes >= 30 * 70
    assert "N=30" in repr(packed)
    assert "K=70" in repr(packed)


# --- bad inputs: one test per class --------------------------------------------------------


@pytest.fixture
def packed():
    _, w_q, w_scale, bias = _layer(9, 1, 12, 16)
    return pack_weights(w_q, w_scale, bias)


def test_x_of_the_wrong_dtype(packed):
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64, got int8"):
        linear_int8(np.ones((2, 16), np.int8), packed)


def test_x_of_the_wrong_width(packed):
    with pytest.raises(ValueError, match="x: expected 16 features"):
        linear_int8(np.ones((2, 15), np.float32), packed)


def test_non_finite_x_names_the_row(packed):
    x = np.ones((3, 16), np.float32)
    x[1, 0] = np.nan
    with pytest.raises(ValueError, match="x: row 1 holds NaN or Inf"):
        linear_int8(x, packed)


def test_scales_passed_twice(packed):
    with pytest.raises(ValueError, match="w_scale: the PackedLinear already holds it"):
        linear_int8(np.ones((1, 16), np.float32), packed, w_scale=np.ones(12, np.float32))


def test_weights_that_are_not_int8():
    with pytest.raises(TypeError, match="w_q: expected dtype int8"):
        linear_int8(np.ones((1, 4), np.float32), np.ones((3, 4), np.float32))


def test_packed_linear_is_made_by_pack_weights():
    with pytest.raises(TypeError, match="pack_weights"):
        PackedLinear(np.ones((3, 4), np.int8))


@pytest.mark.parametrize("x_dtype", [np.float32, np.float64])
def test_an_array_read_back_by_pickle_is_accepted(x_dtype):
    """Its dtype is equal to, not the same object as, numpy's canonical one (joblib, pickle)."""
    import pickle

    x, w_q, w_scale, bias = _layer(6, 5, 40, 64, x_dtype)
    restored = pickle.loads(pickle.dumps(x))
    assert restored.dtype is not np.dtype(x_dtype)  # the case the binding must accept
    packed = pack_weights(w_q, w_scale, bias)
    np.testing.assert_array_equal(linear_int8(restored, packed), linear_int8(x, packed))
