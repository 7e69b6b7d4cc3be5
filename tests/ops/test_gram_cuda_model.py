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


# --- the 3×TF32 tensor-core engine ---------------------------------------------------------------


def test_tc_output_slots_cover_the_tile_once():
    seen = np.zeros((model.TILE, model.TILE), int)
    for w in range(8):
        for mt in range(2):
            for nt in range(2):
                for r in range(4):
                    li, lj = model.tc_output_slot(w, mt, nt, r)
                    np.add.at(seen, (li, lj), 1)
    assert (seen == 1).all()
    # each lane's registers r = 0, 1 (and 2, 3) are adjacent: the kernel stores them as a double2
    li0, lj0 = model.tc_output_slot(5, 1, 0, 0)
    li1, lj1 = model.tc_output_slot(5, 1, 0, 1)
    assert (li0 == li1).all()
    assert (lj1 == lj0 + 1).all()
    assert (lj0 % 2 == 0).all()


def test_tc_fragments_compute_the_tile_product():
    """Through the kernel's fragment addresses and the PTX fragment layouts, a stage's MMAs give
    exactly A_stageᵀ·B_stage (64 × 64) — the index arithmetic, without any rounding."""
    rng = np.random.default_rng(0)
    ta = rng.integers(-8, 8, (model.STAGE, model.TILE + model.TC_PAD)).astype(np.float64)
    tb = rng.integers(-8, 8, (model.STAGE, model.TILE + model.TC_PAD)).astype(np.float64)
    out = np.full((model.TILE, model.TILE), np.nan)
    for w in range(8):
        acc = np.zeros((2, 2, 32, 4))
        for kb in (0, 8):
            (a_k, a_f), (b_k, b_f) = model.tc_fragment_addresses(w, kb)
            acc += model.mma_m16n8k8(ta[a_k, a_f][:, None], tb[b_k, b_f][None])
        for mt in range(2):
            for nt in range(2):
                for r in range(4):
                    out[model.tc_output_slot(w, mt, nt, r)] = acc[mt, nt, :, r]
    np.testing.assert_array_equal(out, ta[:, : model.TILE].T @ tb[:, : model.TILE])


def test_tc_fragment_loads_are_bank_conflict_free():
    """Each fragment load (one register of one MMA tile, 32 lanes) hits 32 distinct banks with
    the padded row of TILE + TC_PAD floats."""
    stride = model.TILE + model.TC_PAD
    for w in range(8):
        for kb in (0, 8):
            (a_k, a_f), (b_k, b_f) = model.tc_fragment_addresses(w, kb)
            for k, f in ((a_k, a_f), (b_k, b_f)):
                for tile in range(2):
                    for r in range(k.shape[2]):
                        banks = (k[tile, :, r] * stride + f[tile, :, r]) % 32
                        assert len(set(banks.tolist())) == 32


def _rna11(v: np.ndarray) -> np.ndarray:
    """Round float32 to TF32 by float64 arithmetic: to a multiple of its quantum (11 significant
    bits; subnormals keep float32's fixed exponent, quantum 2⁻¹³⁶), ties away from zero."""
    v64 = v.astype(np.float64)
    exp = np.frexp(v64)[1]  # v = m·2^exp, |m| in [0.5, 1)
    quantum = np.exp2(np.maximum(exp, -125) - 11.0)
    return (np.sign(v64) * np.floor(np.abs(v64) / quantum + 0.5) * quantum).astype(np.float32)


def test_round_tf32_is_rna_and_the_split_keeps_22_bits():
    rng = np.random.default_rng(1)
    v = (rng.standard_normal(100_000) * 10.0 ** rng.uniform(-30, 30, 100_000)).astype(np.float32)
    ties = np.float32(1) + np.float32(2.0**-11) * np.arange(1, 64, 2, dtype=np.float32)
    edges = [0.0, -0.0, 1e-45, 5e-42, 1.2e-38, 3e38]  # zeros, subnormals, the largest exponents
    v = np.concatenate([v, ties, -ties, edges]).astype(np.float32)
    np.testing.assert_array_equal(model.round_tf32(v), _rna11(v))
    hi, lo = model.split_tf32(v)
    assert (hi.view(np.uint32) & 0x1FFF == 0).all()
    assert (lo.view(np.uint32) & 0x1FFF == 0).all()
    err = np.abs(v.astype(np.float64) - hi.astype(np.float64) - lo.astype(np.float64))
    normal = np.abs(v) > 2.0**-100  # lo may go subnormal for tiny v: an absolute error then
    assert (err[normal] <= 2.0**-22 * np.abs(v[normal].astype(np.float64))).all()


@pytest.mark.parametrize(
    ("n", "d", "sms"),
    [
        (1, 1, 1),
        (7, 3, 1),
        (33, 65, 1),
        (255, 7, 2),
        (300, 70, 2),
        (1000, 33, 8),
        (7, 255, 1),
        (3, 2048, 1),
    ],
)
@pytest.mark.parametrize("col_major", [False, True])
def test_tf32x3_model_is_within_the_stated_bound(n, d, sms, col_major):
    rng = np.random.default_rng(n * 1000 + d)
    x = (rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.uniform(-50, 50, d)).astype(
        np.float32
    )
    mean, g = model.centred_gram_tf32x3(x, col_major=col_major, sm_count=sms)
    ref = gram_reference(x)
    np.testing.assert_allclose(mean, ref.mean, rtol=1e-12, atol=1e-12)
    assert np.array_equal(g, g.T)
    assert (np.abs(g - ref.gram) <= model.tf32x3_error_bound(x) + 1e-300).all()
    # and it is a float32-class result: no worse than the SIMT engine's own bound
    assert model.TF32X3_GAMMA < 128 * 2.0**-24


def test_tf32x3_model_keeps_the_spread_under_a_large_mean():
    rng = np.random.default_rng(5)
    x = (1e4 + rng.standard_normal((200, 5))).astype(np.float32)
    _, g = model.centred_gram_tf32x3(x, col_major=False, sm_count=1)
    ref = gram_reference(x)
    assert np.abs(g - ref.gram).max() <= 1e-5 * np.abs(ref.gram).max()
