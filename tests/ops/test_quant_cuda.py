"""CUDA quantize / dequantize / pack_weights / linear_int8 against the CPU's numbers (GPU)."""

from __future__ import annotations

import numpy as np
import pytest
from _cuda_libs import LIBRARIES, library, to_device, to_host
from _gemm_oracles import epilogue_f64, epilogue_tolerance, gemm_int64, quantize_ref

from lepton import ops

pytestmark = pytest.mark.gpu


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (33, 255), (255, 1000), (2, 3, 5)])
def test_quantize_matches_the_reference(lib, dtype, shape):
    library(lib)
    rng = np.random.default_rng(list(shape))
    x = (rng.standard_normal(shape) * rng.uniform(1e-3, 1e3, (*shape[:-1], 1))).astype(dtype)
    x[0, ...] = 0  # an all-zero row (first index): scale 1
    for axis in range(-1, -len(shape) - 1, -1):
        q, s = ops.quantize(to_device(x, lib), axis=axis)
        q_ref, s_ref = quantize_ref(x, axis)
        np.testing.assert_array_equal(to_host(q), q_ref)
        np.testing.assert_array_equal(to_host(s), s_ref)
        cpu_q, cpu_s = ops.quantize(x, axis=axis)  # and exactly the CPU path's numbers
        np.testing.assert_array_equal(to_host(q), cpu_q)
        np.testing.assert_array_equal(to_host(s), cpu_s)


@pytest.mark.parametrize("lib", LIBRARIES)
def test_quantize_ties_and_tiny_rows(lib):
    library(lib)
    x = np.array([[127.0, 0.5, 1.5, 2.5, -0.5, -2.5], [1e-40, 0, 0, 0, 0, 0]], np.float32)
    q, s = ops.quantize(to_device(x, lib))
    q_ref, s_ref = quantize_ref(x)
    np.testing.assert_array_equal(to_host(q), q_ref)  # half to even: 0, 2, 2, -0, -2
    np.testing.assert_array_equal(to_host(s), s_ref)


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_quantize_non_finite_raises(lib, bad):
    library(lib)
    x = np.ones((4, 100), np.float32)
    x[2, 17] = bad
    with pytest.raises(ValueError, match="x: expected finite values"):
        ops.quantize(to_device(x, lib))


@pytest.mark.parametrize("lib", LIBRARIES)
def test_dequantize(lib):
    library(lib)
    rng = np.random.default_rng(2)
    q = rng.integers(-127, 128, (5, 6, 7), dtype=np.int8)
    for axis in (0, 1, 2):
        s = rng.uniform(0.1, 2.0, np.delete(q.shape, axis)).astype(np.float32)
        got = to_host(ops.dequantize(to_device(q, lib), to_device(s, lib), axis=axis))
        np.testing.assert_array_equal(got, ops.dequantize(q, s, axis=axis))


def _layer(rng, n, k):
    w = rng.standard_normal((n, k)).astype(np.float32)
    w_q, w_scale = ops.quantize(w)
    bias = rng.standard_normal(n).astype(np.float32)
    return w_q, w_scale, bias


@pytest.mark.parametrize("lib", LIBRARIES)
@pytest.mark.parametrize("activation", [None, "relu", "gelu", "sigmoid"])
@pytest.mark.parametrize(
    ("m", "n", "k"), [(1, 8, 8), (7, 40, 1000), (64, 1000, 40), (33, 255, 4096)]
)
def test_linear_int8_matches_oracle(lib, activation, m, n, k):
    library(lib)
    rng = np.random.default_rng([m, n, k])
    w_q, w_scale, bias = _layer(rng, n, k)
    x = rng.standard_normal((m, k)).astype(np.float32)
    packed = ops.pack_weights(to_device(w_q, lib), to_device(w_scale, lib), to_device(bias, lib))
    assert packed.is_cuda
    assert packed.isa == "cuda:0"
    got = to_host(ops.linear_int8(to_device(x, lib), packed, activation=activation))
    x_q, x_scale = quantize_ref(x)
    acc = gemm_int64(x_q, w_q)
    _, want = epilogue_f64(acc, x_scale, w_scale, bias, activation)
    tol = epilogue_tolerance(acc, x_scale, w_scale, bias, activation)
    assert (np.abs(got - want) <= tol).all()
    raw = to_host(ops.linear_int8(to_device(x, lib), to_device(w_q, lib), to_device(w_scale, lib),
                                  to_device(bias, lib), activation))  # fmt: skip
    np.testing.assert_array_equal(raw, got)  # packing per call gives the same numbers


@pytest.mark.parametrize("lib", LIBRARIES)
def test_linear_int8_1d_float16_and_nan_rows(lib):
    library(lib)
    rng = np.random.default_rng(11)
    w_q, w_scale, bias = _layer(rng, 24, 72)
    packed = ops.pack_weights(to_device(w_q, lib), to_device(w_scale, lib), to_device(bias, lib))
    x = rng.standard_normal((3, 72)).astype(np.float32)
    one = to_host(ops.linear_int8(to_device(x[1], lib), packed))
    assert one.shape == (24,)
    np.testing.assert_array_equal(one, to_host(ops.linear_int8(to_device(x, lib), packed))[1])
    half = to_host(ops.linear_int8(to_device(x.astype(np.float16), lib), packed,
                                   out_dtype="float16"))  # fmt: skip
    assert half.dtype == np.float16
    x[1, 5] = np.nan
    out = to_host(ops.linear_int8(to_device(x, lib), packed, activation="relu"))
    assert np.isnan(out[1]).all()  # relu propagates NaN (as torch's does)
    assert np.isfinite(out[[0, 2]]).all()


@pytest.mark.parametrize("lib", LIBRARIES)
def test_pack_weights_copies(lib):
    library(lib)
    rng = np.random.default_rng(12)
    w_q, w_scale, bias = _layer(rng, 16, 48)
    dw = to_device(w_q, lib)
    packed = ops.pack_weights(dw, to_device(w_scale, lib), to_device(bias, lib))
    x = to_device(rng.standard_normal((4, 48)).astype(np.float32), lib)
    before = to_host(ops.linear_int8(x, packed))
    dw[:] = 0  # the caller's weights change; the packed layer must not
    np.testing.assert_array_equal(to_host(ops.linear_int8(x, packed)), before)
