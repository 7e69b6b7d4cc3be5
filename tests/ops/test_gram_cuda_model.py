"""The CUDA centred-Gram kernels' index arithmetic, checked on the CPU through a numpy model
(tests/ops/_gram_cuda_model.py) of csrc/cuda/pca/gram_cuda.cu."""

from __future__ import annotations

import _gram_cuda_model as model
import numpy as np
import pytest

from lepton import _core
from lepton.ops.pca import gram_reference


@pytest.mark.parametrize("nb", [1, 2, 3, 7, 32])
def test_tile_enumeration_covers_the_upper_triangle_once(nb):
    seen = [model.tile_coords(t, nb) for t in range(nb * (nb + 1) // 2)]
    assert sorted(seen) == [(i, j) for i in range(nb) for j in range(i, nb)]
    assert [model.tile_index(bi, bj, nb) for bi, bj in seen] == list(range(len(seen)))


@pytest.mark.parametrize("col_major", [False, True])
def test_load_slots_cover_a_stage_once(col_major):
    slots = [model.load_slot(tid, q, col_major) for tid in range(model.THREADS) for q in range(4)]
    assert sorted(slots) == [(k, c) for k in range(model.STAGE) for c in range(model.TILE)]
    # row-major: a warp reads 32 consecutive columns of one row; column-major: 16 rows of a column
    warp = [model.load_slot(tid, 0, col_major) for tid in range(32)]
    if col_major:
        assert warp[:16] == [(k, 0) for k in range(16)]
    else:
        assert warp == [(0, c) for c in range(32)]


@pytest.mark.parametrize("n", [1, 7, 256, 1000, 100_003, 10**6])
@pytest.mark.parametrize("d", [1, 3, 64, 257, 2048])
@pytest.mark.parametrize("sms", [1, 132])
def test_plan_splits_rows_without_gaps(n, d, sms):
    p = model.plan(n, d, sms)
    assert p["chunk_rows"] % model.STAGE == 0
    assert (p["chunks"] - 1) * p["chunk_rows"] < n <= p["chunks"] * p["chunk_rows"]
    assert (p["sum_chunks"] - 1) * p["sum_rows"] < n <= p["sum_chunks"] * p["sum_rows"]
    assert p["chunks"] < 65536
    assert p["sum_chunks"] < 65536
    if hasattr(_core, "gram_cuda_plan"):
        assert _core.gram_cuda_plan(n, d, sms) == p  # the model is the kernel's plan


@pytest.mark.parametrize(
    ("n", "d", "sms"), [(1, 1, 1), (7, 3, 1), (33, 65, 1), (300, 70, 2), (600, 5, 8)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("col_major", [False, True])
def test_model_matches_the_oracle(n, d, sms, dtype, col_major):
    rng = np.random.default_rng(n * 1000 + d)
    x = (rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-5, 5, d)).astype(dtype)
    mean, g = model.centred_gram(x, col_major=col_major, sm_count=sms)
    ref = gram_reference(x)
    np.testing.assert_allclose(mean, ref.mean, rtol=1e-12, atol=1e-12)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    scale = max(np.abs(ref.gram).max(), 1.0)
    assert np.abs(g - ref.gram).max() <= tol * scale
    assert np.array_equal(g, g.T)


def test_model_large_mean_float32_keeps_the_spread():
    rng = np.random.default_rng(5)
    x = (1e4 + rng.standard_normal((200, 5))).astype(np.float32)
    _, g = model.centred_gram(x, col_major=False, sm_count=1)
    ref = gram_reference(x)
    assert np.abs(g - ref.gram).max() <= 1e-5 * np.abs(ref.gram).max()
