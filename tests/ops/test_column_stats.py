"""lepton.ops.column_stats / merge_stats against the float64 numpy reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import lepton
from lepton import _core
from lepton.ops import ColumnStats, column_stats, merge_stats
from lepton.ops.preprocess_reference import column_stats_reference

EPS = np.finfo(np.float64).eps
ISAS = _core.available_isas()
ROWS = (1, 3, 7, 33, 255, 1000)
COLS = (1, 3, 64, 257)


def make_data(rng, shape, dtype, *, nan=0.05, inf=0.01, loc=3.0, spread=2.0, order="C"):
    x = rng.normal(loc, spread, shape).astype(dtype)
    x[rng.random(shape) < nan] = np.nan
    x[rng.random(shape) < inf / 2] = np.inf
    x[rng.random(shape) < inf / 2] = -np.inf
    return np.asarray(x, order=order)


def exact_moments(x):
    """Mean and population variance of the finite values per column, with math.fsum."""
    means, variances = [], []
    for col in np.asarray(x, dtype=np.float64).T:
        v = col[np.isfinite(col)]
        if v.size == 0:
            means.append(np.nan), variances.append(np.nan)
            continue
        m = math.fsum(v) / v.size
        means.append(m)
        variances.append(math.fsum((v - m) ** 2) / v.size)
    return np.array(means), np.array(variances)


def assert_stats_match(stats: ColumnStats, x, *, ulps=64):
    """count/min/max exact; mean and var within `ulps`·eps of their condition number."""
    ref = column_stats_reference(x)
    np.testing.assert_array_equal(stats.count, ref["count"])
    np.testing.assert_array_equal(stats.min, ref["min"])
    np.testing.assert_array_equal(stats.max, ref["max"])
    assert stats.n_rows == x.shape[0]
    mean, var = exact_moments(x)
    has = ref["count"] > 0
    assert np.isnan(stats.mean[~has]).all()
    assert (stats.m2[~has] == 0).all()
    sd = np.sqrt(var[has])
    # Chan merges are first-order sensitive to the means' rounding: error ~ eps·|mean|/std.
    kappa = 1 + np.abs(mean[has]) / np.where(sd > 0, sd, 1)
    np.testing.assert_array_less(
        np.abs(stats.mean[has] - mean[has]), ulps * EPS * (np.abs(mean[has]) + sd) + 1e-300
    )
    # the rounding of the mean alone gives a variance of order (eps·mean)² (constant columns)
    floor = (ulps * EPS * np.abs(mean[has])) ** 2 + 1e-300
    np.testing.assert_array_less(
        np.abs(stats.var[has] - var[has]), ulps * EPS * kappa * var[has] + floor
    )


@pytest.mark.parametrize("rows", ROWS)
@pytest.mark.parametrize("cols", COLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_matches_reference_on_odd_shapes(rows, cols, dtype, order):
    rng = np.random.default_rng(rows * 1000 + cols)
    x = make_data(rng, (rows, cols), dtype, order=order)
    assert_stats_match(column_stats(x), x)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (33, 64), (255, 257), (1000, 5), (4100, 33)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_every_isa_path(isa, shape, dtype, order):
    rng = np.random.default_rng(shape[0] + shape[1])
    x = make_data(rng, shape, dtype, order=order)
    with lepton.isa(isa):
        assert_stats_match(column_stats(x), x)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_mean_small_spread(isa, dtype):
    # mean/std = 2.5e6, and a column whose first rows are missing (no running mean to shift by)
    rng = np.random.default_rng(1)
    x = rng.normal(5e6, 2.0, (3000, 40)).astype(dtype)
    x[:1500, 3] = np.nan
    x[::7, 5] = np.inf
    with lepton.isa(isa):
        assert_stats_match(column_stats(x), x)


@pytest.mark.parametrize("order", ["C", "F"])
def test_nan_inf_patterns(order):
    x = np.array(
        [
            [np.nan, np.inf, 1.0, np.nan, 5.0],
            [np.nan, -np.inf, 2.0, np.nan, 5.0],
            [np.nan, np.inf, np.nan, 7.0, 5.0],
            [np.nan, np.nan, -np.inf, 9.0, 5.0],
        ],
        dtype=np.float32,
        order=order,
    )
    s = column_stats(x)
    np.testing.assert_array_equal(s.count, [0, 0, 2, 2, 4])
    np.testing.assert_array_equal(s.nonfinite, [4, 4, 2, 2, 0])
    np.testing.assert_array_equal(s.empty_columns, [0, 1])
    np.testing.assert_array_equal(s.mean[2:], [1.5, 8.0, 5.0])
    np.testing.assert_array_equal(s.var[2:], [0.25, 1.0, 0.0])
    np.testing.assert_array_equal(s.min[2:], [1.0, 7.0, 5.0])
    np.testing.assert_array_equal(s.max[2:], [2.0, 9.0, 5.0])
    assert np.isnan(s.mean[:2]).all()
    assert np.isnan(s.min[:2]).all()
    assert np.isnan(s.var[:2]).all()


def test_float32_constant_column_is_exact():
    x = np.full((5000, 3), 0.1, dtype=np.float32)
    s = column_stats(x)
    np.testing.assert_array_equal(s.mean, np.float64(np.float32(0.1)))
    np.testing.assert_array_equal(s.m2, 0.0)


def test_result_does_not_depend_on_thread_count():
    rng = np.random.default_rng(2)
    x = make_data(rng, (40000, 64), np.float32)  # ~10 MB: several work items
    before = lepton.get_num_threads()
    try:
        lepton.set_num_threads(1)
        one = column_stats(x)
        lepton.set_num_threads(2)
        two = column_stats(x)
    finally:
        lepton.set_num_threads(before)
    for name in ("count", "mean", "m2", "min", "max"):
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))


def test_strided_and_byteswapped_input_is_copied_correctly():
    rng = np.random.default_rng(3)
    base = make_data(rng, (60, 20), np.float64)
    strided = base[::3, ::2]
    assert_stats_match(column_stats(strided), strided)
    swapped = base.astype(base.dtype.newbyteorder(">"))
    assert_stats_match(column_stats(swapped), base)


# --- merge_stats -----------------------------------------------------------------------------


def assert_same_stats(merged: ColumnStats, whole: ColumnStats, x):
    np.testing.assert_array_equal(merged.count, whole.count)
    np.testing.assert_array_equal(merged.min, whole.min)
    np.testing.assert_array_equal(merged.max, whole.max)
    assert merged.n_rows == whole.n_rows
    assert_stats_match(merged, x)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(merged.m2, whole.m2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_merge_random_splits(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(2, 400)), int(rng.integers(1, 70))
    x = make_data(rng, (n, d), np.float32 if seed % 2 else np.float64, nan=0.1)
    cuts = np.sort(
        rng.choice(np.arange(1, n), size=min(n - 1, int(rng.integers(1, 6))), replace=False)
    )
    parts = np.split(x, cuts)
    merged = column_stats(parts[0])
    for part in parts[1:]:
        merged = merge_stats(merged, column_stats(part))
    assert_same_stats(merged, column_stats(x), x)


def test_merge_with_empty_columns_on_either_side():
    a = np.array([[np.nan, 1.0], [np.nan, 2.0]])
    b = np.array([[3.0, np.nan], [5.0, np.nan]])
    c = np.array([[np.nan, np.nan]])
    x = np.vstack([a, b, c])
    merged = merge_stats(merge_stats(column_stats(a), column_stats(b)), column_stats(c))
    assert_same_stats(merged, column_stats(x), x)
    both_empty = merge_stats(column_stats(c), column_stats(c))
    np.testing.assert_array_equal(both_empty.count, [0, 0])
    assert np.isnan(both_empty.mean).all()
    assert np.isnan(both_empty.min).all()


@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40),
        elements=st.one_of(
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
            st.sampled_from([np.nan, np.inf, -np.inf]),
        ),
    ),
    split=st.floats(0, 1),
)
def test_fuzz_stats_and_merge(x, split):
    assert_stats_match(column_stats(x), x, ulps=256)
    k = int(split * x.shape[0])
    if 0 < k < x.shape[0]:
        merged = merge_stats(column_stats(x[:k]), column_stats(x[k:]))
        np.testing.assert_array_equal(merged.count, column_stats(x).count)
        assert_stats_match(merged, x, ulps=256)


# --- ColumnStats and bad input -------------------------------------------------------------------


def test_column_stats_object_is_read_only_and_validated():
    s = column_stats(np.ones((3, 2), dtype=np.float32))
    assert s.n_columns == 2
    with pytest.raises(ValueError, match="read-only"):
        s.mean[0] = 5.0
    with pytest.raises(AttributeError):
        s.n_rows = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="one length"):
        ColumnStats(3, [1, 2], [0.0], [0.0], [0.0], [0.0])
    with pytest.raises(ValueError, match="count"):
        ColumnStats(3, [4], [0.0], [0.0], [0.0], [0.0])
    with pytest.raises(TypeError, match="n_rows"):
        ColumnStats(3.0, [1], [0.0], [0.0], [0.0], [0.0])


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float16, np.bool_])
def test_rejects_other_dtypes(dtype):
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64"):
        column_stats(np.ones((3, 2), dtype=dtype))


def test_rejects_complex_and_object():
    with pytest.raises(TypeError, match="x:"):
        column_stats(np.ones((3, 2), dtype=np.complex64))
    with pytest.raises(TypeError, match="x:"):
        column_stats(np.array([[1.0, "a"]], dtype=object))


@pytest.mark.parametrize("shape", [(5,), (2, 3, 4)])
def test_rejects_wrong_ndim(shape):
    with pytest.raises(ValueError, match="x: expected a 2-D array"):
        column_stats(np.ones(shape, dtype=np.float32))


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_rejects_empty(shape):
    with pytest.raises(
        ValueError, match=rf"x: expected a non-empty array, got shape \({shape[0]}, {shape[1]}\)"
    ):
        column_stats(np.ones(shape, dtype=np.float32))
    with pytest.raises(ValueError, match="non-empty"):
        column_stats(np.asfortranarray(np.ones(shape, dtype=np.float32)))


def test_rejects_none():
    with pytest.raises(TypeError, match="x: expected an array"):
        column_stats(None)


def test_merge_rejects_bad_arguments():
    s2 = column_stats(np.ones((3, 2)))
    s3 = column_stats(np.ones((3, 3)))
    with pytest.raises(TypeError, match="b: expected a ColumnStats"):
        merge_stats(s2, np.ones(2))
    with pytest.raises(ValueError, match="b: has 3 columns, expected 2"):
        merge_stats(s2, s3)


def test_binding_rechecks_layout():
    with pytest.raises(ValueError, match="contiguous"):
        _core.prep_column_stats(np.ones((4, 6), dtype=np.float32)[:, ::2])
