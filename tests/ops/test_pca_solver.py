"""solver="auto" on a CUDA device (lepton.ops.pca_solver): a pure cost rule, checked on the CPU."""

from __future__ import annotations

import pytest

from lepton.ops.pca_solver import (
    H200,
    choose_device_solver,
    device_solver_costs,
    eigen_cost,
    gram_flops,
)


def _sklearn_iter(n: int, d: int, k: int) -> int:
    return 7 if k < 0.1 * min(n, d) else 4


@pytest.mark.parametrize(
    ("n", "d", "k", "expected"),
    [(1_000_000, 256, 16, "covariance"), (200_000, 2048, 64, "randomized"),
     (1_000_000, 128, 8, "covariance"), (10_000, 64, 4, "covariance"),
     (100_000, 4096, 64, "randomized"), (200_000, 2048, 16, "randomized")],
)  # fmt: skip
def test_tall_takes_the_gram_and_wide_few_components_the_randomized(n, d, k, expected):
    assert choose_device_solver(n, d, k, 10, _sklearn_iter(n, d, k)) == expected


@pytest.mark.parametrize("k", [0.9, "mle", None])
def test_non_integer_components_need_the_covariance_solver(k):
    assert choose_device_solver(200_000, 4096, k, 10, 4) == "covariance"
    assert set(device_solver_costs(200_000, 4096, k, n_oversamples=10, n_iter=4)) == {"covariance"}


def test_wider_never_turns_randomized_back_to_covariance():
    for n, k in ((1_000_000, 16), (50_000, 8), (200_000, 64)):
        picks = [choose_device_solver(n, d, k, 10, 4) for d in range(64, 8193, 64)]
        first = picks.index("randomized") if "randomized" in picks else len(picks)
        assert all(p == "randomized" for p in picks[first:]), (n, k)


def test_costs_follow_the_work():
    base = device_solver_costs(1_000_000, 256, 16, n_oversamples=10, n_iter=4)
    simt = device_solver_costs(1_000_000, 256, 16, n_oversamples=10, n_iter=4, gram_engine="simt")
    assert simt["covariance"] > base["covariance"]  # the SIMT Gram is slower
    assert simt["randomized"] == base["randomized"]
    more = device_solver_costs(1_000_000, 256, 16, n_oversamples=10, n_iter=7)
    assert more["randomized"] > base["randomized"]
    f64 = device_solver_costs(1_000_000, 256, 16, n_oversamples=10, n_iter=4, itemsize=8)
    assert f64["covariance"] >= base["covariance"]
    # a memory-bound Gram pass costs one read of X; the tiles' flops are counted in full
    assert gram_flops(10, 65) == 2.0 * 10 * 64 * 64 * 3
    tall = 1_000_000 * 256 * 4 / H200.read_bytes_per_s
    assert base["covariance"] >= 2 * tall


def test_a_top_k_eigen_solver_lets_the_gram_win_wide_data():
    """With _pca_cuda.top_eigen (eigen="topk") the covariance solver's d³ term goes: it wins
    200k × 2048 at k = 64, where the full syevd lost; nothing changes where the full solve is
    used anyway (small d, k > d/4, fractional k)."""
    assert choose_device_solver(200_000, 2048, 64, 10, 7, eigen="topk") == "covariance"
    assert eigen_cost(2048, 64, "topk") < 0.25 * eigen_cost(2048, 64, "full")
    for d, k in ((256, 16), (2048, 1000), (2048, 0.9)):
        assert eigen_cost(d, k, "topk") == eigen_cost(d, k, "full")


def test_bad_arguments():
    with pytest.raises(ValueError, match="gram_engine: expected one of"):
        choose_device_solver(100, 10, 2, 10, 4, gram_engine="wgmma")
    with pytest.raises(ValueError, match="n, d: expected a non-empty shape"):
        choose_device_solver(0, 10, 2, 10, 4)
    with pytest.raises(ValueError, match="eigen: expected one of"):
        choose_device_solver(100, 10, 2, 10, 4, eigen="lanczos")
