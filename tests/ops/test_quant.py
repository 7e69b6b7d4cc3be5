"""quantize / dequantize: the documented rounding, edge rows, axes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from _gemm_oracles import quantize_ref

import lepton
from lepton import _core
from lepton.ops import dequantize, quantize

ISAS = list(_core.available_isas())
FLOATS = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", FLOATS)
def test_round_half_to_even(dtype):
    # absmax 127 makes the scale exactly 1, so q = round(x) with ties to even.
    x = np.array([[127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 126.5, -126.5]], dtype=dtype)
    q, scale = quantize(x)
    assert scale.tolist() == [1.0]
    assert q.tolist() == [[127, 0, 2, 2, 0, -2, -2, 4, 126, -126]]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(("rows", "k"), [(1, 1), (3, 7), (33, 255), (7, 1000), (255, 33)])
def test_matches_oracle_exactly(isa, dtype, rows, k):
    rng = np.random.default_rng(rows * 31 + k)
    x = (rng.normal(0, 1, (rows, k)) * np.geomspace(1e-20, 1e20, rows)[:, None]).astype(dtype)
    with lepton.isa(isa):
        q, scale = quantize(x)
    q_ref, s_ref = quantize_ref(x)
    np.testing.assert_array_equal(scale, s_ref)
    np.testing.assert_array_equal(q, q_ref)
    assert q.dtype == np.int8
    assert scale.dtype == np.float32
    assert q.min() >= -127


def test_all_zero_rows_get_scale_one():
    x = np.zeros((3, 9), np.float32)
    x[1, 4] = -2.0
    q, scale = quantize(x)
    assert scale.tolist() == [1.0, pytest.approx(2 / 127), 1.0]
    assert not q[[0, 2]].any()
    np.testing.assert_array_equal(dequantize(q, scale)[[0, 2]], 0.0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_tiny_rows_keep_a_normal_scale(dtype):
    tiny = np.finfo(np.float32).tiny
    x = np.array([[1e-40, -3e-41, 5e-42], [190 * 1.4e-45, 1.4e-45, 0]], dtype=dtype)
    q, scale = quantize(x)
    np.testing.assert_array_equal(scale, [tiny, tiny])
    err = np.abs(dequantize(q, scale).astype(np.float64) - x.astype(np.float32).astype(np.float64))
    assert (err <= tiny / 2 * (1 + 1e-6)).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_round_trip_error_is_at_most_half_a_scale(dtype):
    rng = np.random.default_rng(1)
    x = (rng.standard_t(2, (64, 300)) * np.geomspace(1e-30, 1e30, 64)[:, None]).astype(dtype)
    q, scale = quantize(x)
    err = np.abs(dequantize(q, scale).astype(np.float64) - x.astype(np.float64))
    # q·scale is rounded to float32 once more in dequantize: half an ulp of the result.
    bound = scale.astype(np.float64)[:, None] / 2 * (1 + 2**-22) + np.abs(x) * 2**-24
    assert (err <= bound).all()


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_axis_handling(axis):
    rng = np.random.default_rng(2)
    x = rng.normal(0, 1, (4, 5, 6)).astype(np.float32)
    q, scale = quantize(x, axis=axis)
    q_ref, s_ref = quantize_ref(x, axis)
    np.testing.assert_array_equal(q, q_ref)
    np.testing.assert_array_equal(scale, s_ref)
    assert scale.shape == tuple(np.delete(x.shape, axis % 3))
    assert q.flags.c_contiguous
    err = np.abs(dequantize(q, scale, axis=axis) - x)
    assert (err <= np.expand_dims(scale, axis) / 2 * (1 + 2**-22)).all()


def test_one_dimensional_and_float16_input():
    x = np.linspace(-3, 5, 11).astype(np.float16)
    q, scale = quantize(x)
    assert scale.shape == ()
    assert q.shape == (11,)
    q_ref, s_ref = quantize_ref(x)
    np.testing.assert_array_equal(q, q_ref)
    assert scale == s_ref


def test_non_contiguous_input_is_copied():
    x = np.random.default_rng(3).normal(0, 1, (10, 20)).astype(np.float32)
    q, scale = quantize(x[:, ::2])
    q_ref, s_ref = quantize_ref(np.ascontiguousarray(x[:, ::2]))
    np.testing.assert_array_equal(q, q_ref)
    np.testing.assert_array_equal(scale, s_ref)


# --- bad inputs: one test per class --------------------------------------------------------


def test_non_float_input_is_a_type_error():
    with pytest.raises(TypeError, match="x: expected dtype float16 or float32 or float64"):
        quantize(np.ones((2, 2), np.int32))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_names_the_row(bad):
    x = np.ones((4, 5), np.float32)
    x[2, 3] = bad
    with pytest.raises(ValueError, match="x: row 2 holds NaN or Inf"):
        quantize(x)


def test_float64_beyond_float32_scale_range():
    with pytest.raises(ValueError, match="row 0"):
        quantize(np.array([[1e300, 1.0]]))


def test_zero_dimensional_and_empty_input():
    with pytest.raises(ValueError, match="at least one dimension"):
        quantize(np.float32(1.0))
    with pytest.raises(ValueError, match="non-empty"):
        quantize(np.ones((0, 3), np.float32))


def test_bad_axis():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="axis: 2 is out of range"):
        quantize(x, axis=2)
    with pytest.raises(TypeError, match="axis: expected an int"):
        quantize(x, axis=1.0)


def test_dequantize_checks_its_arguments():
    q = np.ones((2, 3), np.int8)
    with pytest.raises(TypeError, match="q: expected dtype int8"):
        dequantize(q.astype(np.int16), np.ones(2, np.float32))
    with pytest.raises(ValueError, match=r"scale: expected shape \(2,\)"):
        dequantize(q, np.ones(3, np.float32))
