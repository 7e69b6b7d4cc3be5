"""lepton.dask.column_stats / gram: per-block kernels merged in a tree equal one pass."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _dask_cases import (
    assert_gram_match,
    assert_stats_match,
    column_chunks,
    gaussian,
    random_row_chunks,
    with_missing,
)
from hypothesis import given, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array")

import lepton.dask as ld  # noqa: E402
from lepton.ops import gram  # noqa: E402

KINDS = ("ones", "one", "uneven", "with_empty")


def dask_of(x, rows, cols=None):
    return da.from_array(x, chunks=(rows, cols or (x.shape[1],)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (255, 33), (1000, 7)])
def test_column_stats_equals_one_pass(kind, dtype, shape):
    n, d = shape
    rng = np.random.default_rng(n * 31 + d)
    if kind != "ones" and n == 1:
        kind = "one"
    x = with_missing(rng, gaussian(rng, n, d, dtype))
    rows = random_row_chunks(rng, n, kind)
    got = ld.column_stats(dask_of(x, rows, column_chunks(rng, d)))
    assert_stats_match(got, x, len(rows))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 1), (7, 3), (255, 33), (1000, 7)])
def test_gram_equals_one_pass(kind, dtype, shape):
    n, d = shape
    rng = np.random.default_rng(n * 37 + d)
    x = gaussian(rng, n, d, dtype)
    rows = random_row_chunks(rng, n, kind)
    got = ld.gram(dask_of(x, rows, column_chunks(rng, d)))
    assert_gram_match(got, x, len(rows))
    assert got.mean.dtype == got.gram.dtype == np.float64


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 120),
    d=st.integers(1, 9),
    split_every=st.integers(2, 9),
    kind=st.sampled_from(KINDS),
    nan=st.sampled_from([0.0, 0.3, 1.0]),
)
def test_random_chunkings_and_missing_patterns(seed, n, d, split_every, kind, nan):
    rng = np.random.default_rng(seed)
    kind = "one" if n == 1 and kind != "ones" else kind
    clean = gaussian(rng, n, d, np.float64, loc=float(rng.uniform(-50, 50)))
    x = with_missing(rng, clean, nan=nan, inf=0.05 if nan < 1 else 0.0)
    rows = random_row_chunks(rng, n, kind)
    x_da = dask_of(x, rows, column_chunks(rng, d))
    assert_stats_match(ld.column_stats(x_da, split_every=split_every), x, len(rows), split_every)
    if n >= 2:
        g = ld.gram(dask_of(clean, rows), split_every=split_every)
        assert_gram_match(g, clean, len(rows), split_every)


def test_nonfinite_columns():
    rng = np.random.default_rng(5)
    x = gaussian(rng, 50, 4, np.float64)
    x[:, 1] = np.nan  # no finite value at all
    x[:, 2] = np.inf
    x[::3, 3] = -np.inf
    got = ld.column_stats(dask_of(x, 7))
    assert list(got.empty_columns) == [1, 2]
    assert got.count[3] == 50 - 17
    assert_stats_match(got, x, 8)


def test_unknown_row_chunks_after_filtering():
    rng = np.random.default_rng(6)
    x = gaussian(rng, 300, 5, np.float64)
    x_da = dask_of(x, 40)
    kept = x_da[x_da[:, 0] > 3.0]  # row chunk sizes unknown (NaN), some possibly empty
    assert math.isnan(kept.shape[0])
    sub = x[x[:, 0] > 3.0]
    assert_stats_match(ld.column_stats(kept), sub, 8)
    assert_gram_match(ld.gram(kept), sub, 8)


def test_all_rows_filtered_out_is_an_error():
    x_da = dask_of(np.ones((20, 3)), 5)
    empty = x_da[x_da[:, 0] > 2.0]
    with pytest.raises(ValueError, match="x: expected a non-empty array, got 0 rows"):
        ld.column_stats(empty)


def test_gram_rejects_nonfinite_when_computed():
    x = np.ones((20, 3))
    x[13, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        ld.gram(dask_of(x, 4))


def test_accumulate_is_passed_to_the_kernel():
    rng = np.random.default_rng(8)
    x = gaussian(rng, 600, 6, np.float32)
    got = ld.gram(dask_of(x, 200), accumulate="input")
    blocks = [gram(x[i : i + 200], accumulate="input") for i in (0, 200, 400)]
    assert got.n == 600
    # Same blocks and kernel: only the merge order can differ from merging by hand.
    from lepton.ops import merge_gram

    by_hand = merge_gram(merge_gram(blocks[0], blocks[1]), blocks[2])
    np.testing.assert_allclose(got.gram, by_hand.gram, rtol=1e-13, atol=0)


# -- bad input: one test per class --------------------------------------------------------------


def test_rejects_a_non_dask_array():
    with pytest.raises(TypeError, match=r"x: expected a dask\.array\.Array, got ndarray"):
        ld.column_stats(np.ones((3, 2)))


@pytest.mark.parametrize("shape", [(6,), (2, 3, 4)])
def test_rejects_wrong_rank(shape):
    with pytest.raises(ValueError, match="x: expected a 2-D dask array"):
        ld.gram(da.ones(shape, chunks=2))


@pytest.mark.parametrize("shape", [(0, 3), (4, 0)])
def test_rejects_empty(shape):
    with pytest.raises(ValueError, match="x: expected a non-empty array"):
        ld.column_stats(da.ones(shape))


def test_rejects_unknown_column_count():
    x = da.ones((6, 4), chunks=2)
    rows_unknown_cols = x[:, x[0] > 0]  # column count unknown
    with pytest.raises(ValueError, match="number of columns is unknown"):
        ld.column_stats(rows_unknown_cols)


def test_rejects_integer_dtype():
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64, got int64"):
        ld.column_stats(da.ones((4, 2), dtype=np.int64))


@pytest.mark.parametrize("split_every", [1, 0, True, 2.5])
def test_rejects_bad_split_every(split_every):
    with pytest.raises(ValueError, match="split_every: expected an int >= 2"):
        ld.gram(da.ones((4, 2), chunks=2), split_every=split_every)


def test_rejects_bad_accumulate():
    with pytest.raises(ValueError, match="accumulate"):
        ld.gram(da.ones((4, 2), chunks=2), accumulate="float16")
