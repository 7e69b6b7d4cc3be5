"""linear_int8 with a per-column map (col_center, col_mul): bit for bit the fused preprocessing
pass (``(x − center) · mul``, a pipeline's scaling) followed by linear_int8, on every ISA."""

from __future__ import annotations

import numpy as np
import pytest

import lepton
from lepton import _core
from lepton.inference.feature_pass import ColumnSteps
from lepton.ops import linear_int8, pack_weights

ISAS = list(_core.available_isas())
ROWS = (1, 7, 33, 255, 1000)
WIDTHS = (1, 7, 33, 784)


def _front(rng, k):
    """A pure per-column affine pass as a pipeline composes it: two scalers, columns of every
    magnitude, both signs, and (when k > 1) a constant column (scale 0)."""
    steps = ColumnSteps(k)
    steps.affine(10.0 ** rng.uniform(-3, 3, k) * rng.choice([-1, 1], k), rng.normal(0, 5, k), "s1")
    a = rng.uniform(0.5, 2, k)
    if k > 1:
        a[k // 2] = 0.0
    steps.affine(a, rng.normal(0, 1, k), "s2")
    front = steps.front_pass()
    assert front is not None
    assert front.affine_only
    return front


def _data(rng, m, k, dtype):
    spread = 10.0 ** rng.uniform(-2, 4, k)
    return (rng.normal(0, 1, (m, k)) * spread + rng.normal(0, 3, k) * spread).astype(dtype)


def _layer(rng, k, n=37):
    w_q = rng.integers(-127, 128, (n, k), dtype=np.int8)
    w_scale = (rng.random(n) * 0.02 + 1e-3).astype(np.float32)
    bias = rng.normal(0, 0.5, n).astype(np.float32)
    return pack_weights(w_q, w_scale, bias)


def _both(x, front, packed):
    """(two-step result, fused result), each (out, row scales) from the core, or the error."""
    center, mul = front.column_map(x.dtype)
    h = packed._handle

    def call(*args):
        try:
            return _core.linear_int8(*args)
        except ValueError as exc:
            return str(exc)

    two_step = call(front(x), h, "relu", "float32", 1.0, -1)
    fused = call(x, h, "relu", "float32", 1.0, -1, center, mul)
    return two_step, fused


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_map_is_bit_identical_to_the_pass_then_the_layer(isa, dtype):
    rng = np.random.default_rng(ISAS.index(isa) * 2 + (dtype == np.float64))
    with lepton.isa(isa):
        for k in WIDTHS:
            front, packed = _front(rng, k), _layer(rng, k)
            for m in ROWS:
                two_step, fused = _both(_data(rng, m, k, dtype), front, packed)
                assert not isinstance(two_step, str), two_step
                np.testing.assert_array_equal(fused[0], two_step[0], err_msg=f"{m}x{k}")
                np.testing.assert_array_equal(fused[1], two_step[1], err_msg=f"{m}x{k} scales")


def _bad_values(dtype):
    """Inputs that are bad after the map: NaN, ±Inf, and finite ones the map overflows (or,
    float64, that pass float32's range)."""
    huge = 3e38 if dtype == np.float32 else 1e308
    values = [np.nan, np.inf, -np.inf, huge]
    if dtype == np.float64:
        values.append(1e45)  # finite in float64, past a float32 scale
    return values


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_row_bad_after_the_map_is_reported_as_before(isa, dtype):
    rng = np.random.default_rng(7)
    with lepton.isa(isa):
        for m, k in ((1, 1), (7, 33), (255, 784)):
            steps = ColumnSteps(k)
            steps.affine(np.full(k, 4.0), np.zeros(k), "scale")  # 4·huge overflows
            front, packed = steps.front_pass(), _layer(rng, k)
            for value in _bad_values(dtype):
                for row in sorted({0, m // 2, m - 1}):
                    x = _data(rng, m, k, dtype)
                    x[row, rng.integers(k)] = value
                    if row + 1 < m:
                        x[m - 1, 0] = value  # a later bad row: the first is named
                    two_step, fused = _both(x, front, packed)
                    assert isinstance(two_step, str), (value, row)
                    assert f"x: row {row} holds NaN or Inf" in two_step
                    assert fused == two_step


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_public_op_matches_the_core(dtype):
    rng = np.random.default_rng(3)
    front, packed = _front(rng, 33), _layer(rng, 33)
    x = _data(rng, 9, 33, dtype)
    center, mul = front.column_map(dtype)
    out = linear_int8(x, packed, activation="relu", col_center=center, col_mul=mul)
    np.testing.assert_array_equal(out, linear_int8(front(x), packed, activation="relu"))
    one = linear_int8(x[4], packed, activation="relu", col_center=center, col_mul=mul)
    np.testing.assert_array_equal(one, out[4])


# --- bad inputs ----------------------------------------------------------------------------


@pytest.fixture
def layer():
    rng = np.random.default_rng(11)
    return np.ones((2, 16), np.float32), _layer(rng, 16)


def test_only_one_of_the_pair(layer):
    x, packed = layer
    with pytest.raises(ValueError, match="col_center, col_mul: pass both or neither"):
        linear_int8(x, packed, col_center=np.zeros(16, np.float32))
    with pytest.raises(ValueError, match="col_center, col_mul: pass both or neither"):
        linear_int8(x, packed, col_mul=np.ones(16, np.float32))


@pytest.mark.parametrize("name", ["col_center", "col_mul"])
def test_wrong_length(layer, name):
    x, packed = layer
    args = {"col_center": np.zeros(16, np.float32), "col_mul": np.ones(16, np.float32)}
    args[name] = args[name][:15]
    with pytest.raises(ValueError, match=f"{name}: expected 16 entries"):
        linear_int8(x, packed, **args)


@pytest.mark.parametrize("name", ["col_center", "col_mul"])
def test_wrong_dtype_is_not_converted(layer, name):
    x, packed = layer
    args = {"col_center": np.zeros(16, np.float32), "col_mul": np.ones(16, np.float32)}
    args[name] = args[name].astype(np.float64)
    with pytest.raises(TypeError, match=f"{name}: expected dtype float32, got float64"):
        linear_int8(x, packed, **args)


@pytest.mark.parametrize("name", ["col_center", "col_mul"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_coefficients(layer, name, value):
    x, packed = layer
    args = {"col_center": np.zeros(16, np.float32), "col_mul": np.ones(16, np.float32)}
    args[name][3] = value
    with pytest.raises(ValueError, match=f"{name}: expected finite values"):
        linear_int8(x, packed, **args)


def test_two_dimensional_coefficients(layer):
    x, packed = layer
    with pytest.raises(ValueError, match="col_center"):
        linear_int8(
            x, packed, col_center=np.zeros((1, 16), np.float32), col_mul=np.ones(16, np.float32)
        )


def test_the_binding_checks_too(layer):
    """The core guards its own invariants (a wrong array there is a bug, but not a crash)."""
    x, packed = layer
    h, c, m = packed._handle, np.zeros(16, np.float32), np.ones(16, np.float32)
    with pytest.raises(ValueError, match="col_mul: expected a \\(16,\\) array"):
        _core.linear_int8(x, h, None, "float32", 1.0, -1, c, m[:8])
    with pytest.raises(TypeError, match="col_center: expected x's dtype"):
        _core.linear_int8(x, h, None, "float32", 1.0, -1, c.astype(np.float64), m)
    with pytest.raises(ValueError, match="col_center, col_mul: pass both or neither"):
        _core.linear_int8(x, h, None, "float32", 1.0, -1, c, None)
    with pytest.raises(ValueError, match="col_mul: expected a C-contiguous array"):
        _core.linear_int8(x, h, None, "float32", 1.0, -1, c, np.ones(32, np.float32)[::2])
