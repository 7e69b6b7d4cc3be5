"""ops._pca_cuda.top_eigen (block subspace iteration for the device covariance solver), run on
CPU torch tensors: the library-neutral code is the device code, only the tensors' place differs."""

from __future__ import annotations

import numpy as np
import pytest

from lepton.ops import _pca_cuda

torch = pytest.importorskip("torch")


def _psd(values: np.ndarray, seed: int) -> np.ndarray:
    d = values.size
    q = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))[0]
    g = (q * values) @ q.T
    return (g + g.T) / 2


def _bench_spectrum(d: int) -> np.ndarray:
    """The GPU bench's population spectrum: rank d/4 with scales logspace(20 → 3), unit noise."""
    scales = np.logspace(np.log10(20.0), np.log10(3.0), d // 4)
    return np.sort(np.concatenate([scales**2, np.zeros(d - d // 4)]) + 1.0)[::-1]


def _check(g: np.ndarray, k: int, tol: float = 1e-8, full_below: int = 0):
    values, vectors = _pca_cuda.top_eigen(torch.from_numpy(g), k, full_below=full_below)
    values, vectors = values.numpy(), vectors.numpy()
    want = np.linalg.eigvalsh(g)[::-1][:k]
    assert values.shape == (k,)
    assert vectors.shape == (g.shape[0], k)
    np.testing.assert_allclose(values, want, rtol=tol, atol=tol * want[0])
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(k), atol=1e-10)
    # each vector is an eigenvector to the accuracy its eigenvalue has
    resid = g @ vectors - vectors * values
    assert np.linalg.norm(resid, axis=0).max() <= 1e-3 * want[0]
    return values, vectors


@pytest.mark.parametrize(("d", "k"), [(256, 16), (512, 32), (301, 7)])
def test_flat_bench_spectrum(d, k):
    _check(_psd(_bench_spectrum(d), seed=d + k), k)


def test_clusters_and_repeated_eigenvalues():
    rng = np.random.default_rng(3)
    lam = np.concatenate([[50, 50, 50, 20, 20.0000001], rng.uniform(0.1, 10, 195)])
    g = _psd(np.sort(lam)[::-1], seed=4)
    _, vectors = _check(g, 5)
    top = np.linalg.eigh(g)[1][:, ::-1][:, :3]  # the 3-fold eigenspace is found as a space
    np.testing.assert_allclose(top @ top.T @ vectors[:, :3], vectors[:, :3], atol=1e-6)


def test_wide_k_or_small_d_take_the_full_solver_and_rank_deficient_is_fine():
    g = _psd(_bench_spectrum(64), seed=1)
    _check(g, 40)  # k > d/4: full eigh slice
    _check(g, 4, full_below=512)  # d < 512: full eigh slice
    low = _psd(np.concatenate([np.linspace(9, 1, 20), np.zeros(180)]), seed=2)
    _check(low, 10)


def test_deterministic_and_bad_k():
    g = torch.from_numpy(_psd(_bench_spectrum(256), seed=5))
    a = _pca_cuda.top_eigen(g, 8, full_below=0)
    b = _pca_cuda.top_eigen(g, 8, full_below=0)
    assert torch.equal(a[0], b[0])
    assert torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="k: expected 1 <= k <= 256, got 0"):
        _pca_cuda.top_eigen(g, 0)


def test_ritz_convergence_test():
    theta = np.array([10.0, 5.0, 4.0, 1.0])
    assert _pca_cuda._ritz_converged(theta, np.array([1e-9, 1e-9, 1e-9]), 3, 1e-9)
    # a residual of 1e-4 next to a gap of 1: bound 1e-8 > 1e-9·θ
    assert not _pca_cuda._ritz_converged(theta, np.array([1e-9, 1e-4, 1e-9]), 3, 1e-9)
