"""Shared pieces of the lepton.dask tests: chunkings, data and the derived tolerances."""

from __future__ import annotations

import math

import numpy as np

from lepton.ops import column_stats
from lepton.ops.pca import gram_reference
from lepton.ops.preprocess_reference import column_stats_reference

EPS = np.finfo(np.float64).eps
# Single-array kernels stay within this many eps of the condition-number bound
# (tests/ops/test_column_stats.py, tests/ops/test_gram.py use the same budget).
KERNEL_ULPS = 64
# One Chan merge rounds the merged mean by a few eps of (|mean| + spread), and the M2 / Gram
# correction term δ·δᵀ·n_a·n_b/n inherits that relative error through δ: a few eps·κ of M2,
# κ = 1 + |mean|/std. Allow this many eps per merge on the path from a block to the root.
MERGE_ULPS = 4


def merges_on_path(blocks: int, split_every: int = 8) -> int:
    """Merges a block's statistics go through up to the root of the fan-in tree: at each level
    a node folds up to ``split_every`` parts one after another."""
    levels = math.ceil(math.log(blocks, split_every)) if blocks > 1 else 0
    return levels * (split_every - 1)


def ulps_for(blocks: int, split_every: int = 8) -> float:
    return KERNEL_ULPS + MERGE_ULPS * merges_on_path(blocks, split_every)


def random_row_chunks(rng: np.random.Generator, n: int, kind: str) -> tuple[int, ...]:
    """Row chunk sizes summing to ``n``: 'ones' (1-row chunks), 'one' (a single block),
    'uneven' (random cut points), 'with_empty' (uneven with 0-row chunks mixed in)."""
    if kind == "ones":
        return (1,) * n
    if kind == "one":
        return (n,)
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, rng.integers(1, 12)), replace=False))
    sizes = np.diff(np.concatenate([[0], cuts, [n]])).tolist()
    if kind == "with_empty":
        for _ in range(3):
            sizes.insert(int(rng.integers(0, len(sizes) + 1)), 0)
    return tuple(int(s) for s in sizes)


def column_chunks(rng: np.random.Generator, d: int) -> tuple[int, ...]:
    """A random column chunking (rechunked to one block by lepton.dask)."""
    if d == 1:
        return (1,)
    cut = int(rng.integers(1, d))
    return (cut, d - cut)


def gaussian(rng, n, d, dtype, *, loc=3.0):
    """Columns with well separated spreads (distinct PCA eigenvalues) around ``loc``."""
    spreads = np.geomspace(4.0, 0.5, d)
    return (loc + rng.standard_normal((n, d)) * spreads).astype(dtype)


def with_missing(rng, x, *, nan=0.1, inf=0.02):
    x = x.copy()
    x[rng.random(x.shape) < nan] = np.nan
    x[rng.random(x.shape) < inf / 2] = np.inf
    x[rng.random(x.shape) < inf / 2] = -np.inf
    return x


def exact_moments(x):
    """Per-column mean and population variance of the finite values (math.fsum)."""
    means, variances = [], []
    for col in np.asarray(x, dtype=np.float64).T:
        v = col[np.isfinite(col)]
        if v.size == 0:
            means.append(np.nan)
            variances.append(np.nan)
            continue
        m = math.fsum(v) / v.size
        means.append(m)
        variances.append(math.fsum((v - m) ** 2) / v.size)
    return np.array(means), np.array(variances)


def assert_stats_match(got, x, blocks, split_every=8):
    """count/min/max exactly those of one pass (and of numpy); mean and variance within the
    kernel's budget plus MERGE_ULPS per merge on a block's path to the root, times the
    condition number κ = 1 + |mean|/std that a Chan merge amplifies rounding by."""
    single = column_stats(x)
    ref = column_stats_reference(x)
    assert got.n_rows == single.n_rows == x.shape[0]
    np.testing.assert_array_equal(got.count, single.count)
    np.testing.assert_array_equal(got.count, ref["count"])
    np.testing.assert_array_equal(got.min, single.min)
    np.testing.assert_array_equal(got.max, single.max)
    mean, var = exact_moments(x)
    has = got.count > 0
    assert np.isnan(got.mean[~has]).all()
    assert (got.m2[~has] == 0).all()
    ulps = ulps_for(blocks, split_every)
    sd = np.sqrt(var[has])
    kappa = 1 + np.abs(mean[has]) / np.where(sd > 0, sd, 1)
    np.testing.assert_array_less(
        np.abs(got.mean[has] - mean[has]), ulps * EPS * (np.abs(mean[has]) + sd) + 1e-300
    )
    floor = (ulps * EPS * np.abs(mean[has])) ** 2 + 1e-300
    np.testing.assert_array_less(
        np.abs(got.var[has] - var[has]), ulps * EPS * kappa * var[has] + floor
    )


def assert_gram_match(got, x, blocks, split_every=8):
    """Entries within ulps·eps·n·(sd_i + |μ_i|)(sd_j + |μ_j|): per merge the rounding of δ
    (≈ eps·|μ|) enters δ_i·δ_j·n_a·n_b/n, and the kernel's own budget is relative to the same
    scale. A missing or wrong merge term is off by O(n·sd_i·sd_j), far outside."""
    want = gram_reference(x)
    assert got.n == want.n
    ulps = ulps_for(blocks, split_every)
    sd = np.sqrt(np.diag(want.gram) / want.n)
    size = sd + np.abs(want.mean)
    np.testing.assert_array_less(np.abs(got.mean - want.mean), ulps * EPS * size + 1e-300)
    bound = ulps * EPS * want.n * np.outer(size, size)
    np.testing.assert_array_less(np.abs(got.gram - want.gram), bound + 1e-300)
    np.testing.assert_array_equal(got.gram, got.gram.T)
