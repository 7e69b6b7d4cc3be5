"""Centred Gram, column moments and the PCA array helpers against float64 numpy oracles."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lepton
from lepton import _core
from lepton.ops.pca import (
    CANCELLATION_FACTOR,
    GramStats,
    centred_matmul,
    centred_tmatmul,
    column_moments,
    gram,
    gram_reference,
    mean_cancels,
    merge_gram,
    mle_dimension,
    randomized_svd,
    randomized_svd_reference,
    top_eigen,
)

ISAS = list(_core.available_isas())
# Entry-wise bound relative to sqrt(G_ii G_jj) (the Cauchy-Schwarz scale of G_ij). The default
# float64 accumulation sums exact products; accumulate="input" sums each float32 block of rows
# in float32 before the float64 merge.
GRAM_TOL = {np.float32: 1e-12, np.float64: 1e-12, "input32": 1e-5}


def _data(rng, n, d, dtype, *, mean=3.0, spread=2.0):
    scales = np.linspace(0.5, 1.5, d)
    return (mean + spread * rng.standard_normal((n, d)) * scales).astype(dtype)


def _assert_gram_close(got: GramStats, want: GramStats, dtype, accumulate="float64") -> None:
    assert got.n == want.n
    assert got.mean.dtype == np.float64
    assert got.gram.dtype == np.float64
    np.testing.assert_allclose(
        got.mean, want.mean, rtol=1e-12, atol=1e-12 * np.abs(want.mean).max()
    )
    diag = np.sqrt(np.clip(np.diag(want.gram), 0, None))
    scale = np.outer(diag, diag)
    err = np.abs(got.gram - want.gram)
    fast32 = accumulate == "input" and dtype == np.float32
    tol = GRAM_TOL["input32" if fast32 else dtype]
    assert np.all(err <= tol * scale + 1e-300), float(np.max(err / (scale + 1e-300)))
    np.testing.assert_array_equal(got.gram, got.gram.T)


@pytest.mark.parametrize("accumulate", ["float64", "input"])
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("d", [1, 3, 64, 257])
@pytest.mark.parametrize("n", [1, 3, 7, 33, 255, 1000])
def test_gram_matches_float64_oracle(n, d, dtype, isa, accumulate):
    x = _data(np.random.default_rng(n * 1000 + d), n, d, dtype)
    with lepton.isa(isa):
        got = gram(x, accumulate=accumulate)
    _assert_gram_close(got, gram_reference(x), dtype, accumulate)


@pytest.mark.parametrize("accumulate", ["float64", "input"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("n", "d"),
    [
        (256, 32),
        (512, 16),
        (257, 96),
        (_core.gram_block_rows(128) - 1, 128),
        (2048, 48),
        (1500, 1100),
    ],
)
def test_gram_tile_and_block_multiples(n, d, dtype, accumulate):
    x = _data(np.random.default_rng(7), n, d, dtype)
    _assert_gram_close(gram(x, accumulate=accumulate), gram_reference(x), dtype, accumulate)


@pytest.mark.parametrize("accumulate", ["float64", "input"])
@pytest.mark.parametrize("isa", ISAS)
def test_gram_large_mean_small_spread_float32(isa, accumulate):
    # |mean| / spread = 1e4: the textbook float32 XᵀX − n·μμᵀ keeps no correct digit here.
    rng = np.random.default_rng(3)
    x = (1e4 + rng.standard_normal((3000, 24)) * np.linspace(1, 3, 24)).astype(np.float32)
    want = gram_reference(x)
    with lepton.isa(isa):
        got = gram(x, accumulate=accumulate)
    _assert_gram_close(got, want, np.float32, accumulate)
    naive = (x.T @ x) - len(x) * np.outer(x.mean(0), x.mean(0)).astype(np.float32)
    naive_err = np.abs(naive - want.gram).max() / np.abs(want.gram).max()
    assert naive_err > 1e-2  # the case is hard: the naive formula fails on it


@pytest.mark.parametrize("accumulate", ["float64", "input"])
def test_gram_drifting_mean_float32(accumulate):
    # A trend along the rows: no single shift centres every block, per-block centring does.
    rng = np.random.default_rng(4)
    n = 20 * _core.gram_block_rows(5)
    trend = np.linspace(0, 5e4, n)[:, None]
    x = (trend + rng.standard_normal((n, 5))).astype(np.float32)
    _assert_gram_close(gram(x, accumulate=accumulate), gram_reference(x), np.float32, accumulate)


def test_gram_float64_accumulation_is_far_more_accurate_for_float32():
    x = _data(np.random.default_rng(16), 4000, 64, np.float32, mean=100.0)
    want = gram_reference(x).gram
    exact = np.abs(gram(x).gram - want).max()
    fast = np.abs(gram(x, accumulate="input").gram - want).max()
    assert exact * 100 < fast


def test_gram_constant_columns_are_exactly_zero():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((700, 6)).astype(np.float32)
    x[:, 2] = 12345.678
    x[:, 4] = -3.0
    g = gram(x).gram
    g_fast = gram(x, accumulate="input").gram
    for j in (2, 4):
        assert np.all(g_fast[j] == 0.0)
        assert np.all(g[j] == 0.0)
        assert np.all(g[:, j] == 0.0)


@pytest.mark.parametrize("threads", [1, 2])
def test_gram_thread_count_does_not_change_result(threads):
    x = _data(np.random.default_rng(6), 5000, 40, np.float64)
    before = lepton.get_num_threads()
    try:
        lepton.set_num_threads(threads)
        got = gram(x)
    finally:
        lepton.set_num_threads(before)
    _assert_gram_close(got, gram_reference(x), np.float64)


@pytest.mark.parametrize("accumulate", ["float64", "input"])
def test_gram_is_bit_reproducible(accumulate):
    x = _data(np.random.default_rng(17), 3000, 33, np.float32)
    first = gram(x, accumulate=accumulate)
    for _ in range(3):
        again = gram(x, accumulate=accumulate)
        np.testing.assert_array_equal(again.gram, first.gram)
        np.testing.assert_array_equal(again.mean, first.mean)


def test_gram_copies_non_contiguous_input():
    x = _data(np.random.default_rng(8), 300, 20, np.float64)
    fortran = np.asfortranarray(x)
    strided = np.ascontiguousarray(np.repeat(x, 2, axis=1))[:, ::2]
    for view in (fortran, strided):
        _assert_gram_close(gram(view), gram_reference(x), np.float64)


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(2, 600),
    d=st.integers(1, 12),
    cuts=st.lists(st.floats(0, 1), max_size=4),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_merge_of_random_splits_equals_whole(n, d, cuts, dtype):
    x = _data(np.random.default_rng(n + d), n, d, dtype, mean=50.0)
    bounds = sorted({0, n, *(int(c * n) for c in cuts)})
    parts = [gram(x[a:b]) for a, b in itertools.pairwise(bounds) if b > a]
    merged = parts[0]
    for part in parts[1:]:
        merged = merge_gram(merged, part)
    _assert_gram_close(merged, gram_reference(x), dtype)


def test_merge_with_empty_statistics_is_identity():
    x = _data(np.random.default_rng(9), 50, 4, np.float64)
    g = gram(x)
    empty = GramStats(0, np.zeros(4), np.zeros((4, 4)))
    assert merge_gram(empty, g) is g
    assert merge_gram(g, empty) is g


def test_merge_rejects_different_widths():
    a = gram(np.ones((3, 2)))
    b = gram(np.ones((3, 4)))
    with pytest.raises(ValueError, match="b: expected 2 columns"):
        merge_gram(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("n", "d"), [(1, 1), (7, 3), (1000, 257)])
def test_column_moments_match_oracle(n, d, dtype):
    x = _data(np.random.default_rng(10), n, d, dtype, mean=1e3)
    got = column_moments(x)
    want = gram_reference(x)
    assert got.n == n
    np.testing.assert_allclose(got.mean, want.mean, rtol=1e-12)
    np.testing.assert_allclose(got.m2, np.diag(want.gram), rtol=1e-9, atol=1e-9)


# -- bad inputs: one test per class ---------------------------------------------------------------


@pytest.mark.parametrize("fn", [gram, column_moments])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_is_a_value_error(fn, bad):
    x = np.ones((10, 3))
    x[4, 1] = bad
    with pytest.raises(ValueError, match="x: contains NaN or inf"):
        fn(x)


@pytest.mark.parametrize("fn", [gram, column_moments])
@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.complex64, bool])
def test_wrong_dtype_is_a_type_error(fn, dtype):
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64"):
        fn(np.ones((4, 3), dtype=dtype))


@pytest.mark.parametrize("fn", [gram, column_moments])
@pytest.mark.parametrize("shape", [(5,), (2, 3, 4)])
def test_wrong_ndim_is_a_value_error(fn, shape):
    with pytest.raises(ValueError, match="x: expected a 2-D array"):
        fn(np.ones(shape))


@pytest.mark.parametrize("fn", [gram, column_moments])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_empty_input_is_a_value_error(fn, shape):
    with pytest.raises(ValueError, match="x: expected a non-empty array"):
        fn(np.ones(shape))


def test_unknown_accumulation_is_a_value_error():
    with pytest.raises(ValueError, match="accumulate: expected one of 'float64', 'input'"):
        gram(np.ones((3, 2)), accumulate="float16")


def test_none_is_a_type_error():
    with pytest.raises(TypeError, match="x: expected an array"):
        gram(None)


def test_core_rejects_bad_arrays_without_crashing():
    with pytest.raises(ValueError, match="X: expected a C-contiguous"):
        _core.centred_gram(np.asfortranarray(np.ones((3, 2))))
    with pytest.raises(ValueError, match="X: expected dtype float32 or float64"):
        _core.centred_gram(np.ones((3, 2), dtype=np.int32))
    with pytest.raises(ValueError, match="X: expected a 2-D array"):
        _core.column_moments(np.ones(3))


# -- centred products, randomized SVD, eigen-solve ------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 33, 70_000])
def test_centred_products_match_oracle_at_large_mean(n, dtype):
    rng = np.random.default_rng(11)
    x = (1e4 + rng.standard_normal((n, 16))).astype(dtype)
    w = rng.standard_normal((16, 3))
    q = rng.standard_normal((n, 3))
    mean = x.astype(np.float64).mean(0)
    centred = x.astype(np.float64) - mean
    want, want_t = centred @ w, centred.T @ q
    tol = 1e-5 if dtype == np.float32 else 1e-12
    got = centred_matmul(x, mean, w)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, atol=tol * np.abs(want).max() * 10)
    got_t = centred_tmatmul(x, mean, q)
    np.testing.assert_allclose(got_t, want_t, atol=tol * np.sqrt(n) * 20)


def test_mean_cancels_at_the_stated_factor():
    mean = np.array([3.0, 4.0])  # norm 5
    assert not mean_cancels(mean, (5.0 / CANCELLATION_FACTOR) ** 2)
    assert mean_cancels(mean, (5.0 / CANCELLATION_FACTOR) ** 2 * 0.99)
    assert not mean_cancels(np.zeros(2), 0.0)
    assert mean_cancels(mean, 0.0)


@pytest.mark.parametrize("offset", [0.0, 2.0, 1e4])
@pytest.mark.parametrize("n", [7, 33, 1000])
def test_centred_matmul_with_the_total_variance_is_as_accurate_as_centring(n, offset):
    # The single product x·w − mean·w is taken only while the mean is small against the spread;
    # at offset 1e4 it would lose ~1e4·eps (checked below), so the blocks are centred instead.
    rng = np.random.default_rng(5)
    x = (offset + rng.standard_normal((n, 33))).astype(np.float32)
    w = rng.standard_normal((33, 4))
    mean = x.astype(np.float64).mean(0)
    total_variance = float(x.astype(np.float64).var(0).sum())
    want = (x.astype(np.float64) - mean) @ w
    got = centred_matmul(x, mean, w, total_variance=total_variance)
    scale = np.abs(want).max() + 1e-30
    assert got.dtype == np.float32
    assert np.abs(got - want).max() <= 2e-6 * scale * np.sqrt(33)
    implicit = x @ w.astype(np.float32) - (mean @ w).astype(np.float32)
    takes_single = not mean_cancels(mean, total_variance)
    assert takes_single == (offset < 1e4)
    if offset == 1e4:
        assert np.abs(implicit - want).max() > 1e-4 * scale  # what centring avoids


def _low_rank_plus_noise(rng, n, d, rank, dtype):
    u = rng.standard_normal((n, rank))
    v = np.linalg.qr(rng.standard_normal((d, rank)))[0].T
    s = np.geomspace(100, 5, rank)
    return ((u * s) @ v + 0.5 * rng.standard_normal((n, d)) + 7.0).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_randomized_svd_matches_exact_svd(dtype):
    rng = np.random.default_rng(12)
    x = _low_rank_plus_noise(rng, 600, 900, 20, dtype)
    mean = x.astype(np.float64).mean(0)
    s, vt = randomized_svd(x, mean, 8, n_iter=4, random_state=0)
    s_ref, vt_ref = randomized_svd_reference(x, 8)
    np.testing.assert_allclose(s, s_ref, rtol=1e-3)
    overlap = np.abs(np.sum(vt * vt_ref, axis=1))  # |cos| between matching singular vectors
    np.testing.assert_allclose(overlap, 1.0, atol=1e-3)


def test_randomized_svd_is_reproducible_with_a_seed():
    x = _low_rank_plus_noise(np.random.default_rng(13), 200, 50, 5, np.float64)
    mean = x.mean(0)
    a = randomized_svd(x, mean, 3, random_state=5)
    b = randomized_svd(x, mean, 3, random_state=np.random.default_rng(5))
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize("k", [None, 2, 20, 60])
def test_top_eigen_matches_numpy(k):
    rng = np.random.default_rng(14)
    a = rng.standard_normal((200, 64))
    g = a.T @ a
    values, vectors = top_eigen(g, k)
    ref_values, ref_vectors = np.linalg.eigh(g)
    count = k or 64
    np.testing.assert_allclose(values, ref_values[::-1][:count], rtol=1e-10)
    overlap = np.abs(np.sum(vectors * ref_vectors[:, ::-1][:, :count], axis=0))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-8)


def test_mle_dimension_finds_the_planted_rank():
    rng = np.random.default_rng(15)
    x = _low_rank_plus_noise(rng, 2000, 30, 6, np.float64)
    variances = np.linalg.eigvalsh(np.cov(x.T))[::-1]
    assert mle_dimension(variances, 2000) == 6
    assert mle_dimension(variances[:1], 2000) == 1
