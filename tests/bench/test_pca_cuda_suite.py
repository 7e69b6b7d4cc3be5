"""The GPU cases of the pca bench suite: built only where they can run, and correct."""

from __future__ import annotations

import numpy as np
import pytest

from lepton.bench.suites import pca, pca_cuda


def test_no_gpu_means_no_gpu_cases(monkeypatch):
    monkeypatch.setattr(pca_cuda, "available", lambda: False)
    assert pca_cuda.cases() == []
    calls = []
    monkeypatch.setattr(pca_cuda, "cases", lambda: calls.append(1) or [])
    monkeypatch.setattr(pca, "_SIZES", {"full": {"tall": (300, 40), "wide": (200, 64)}})
    names = [c.name for c in pca.cases("full")]
    assert calls == [1]  # full asks for the GPU cases
    assert not any(name.startswith("cuda") for name in names)


def test_the_cases_show_the_estimators_device_choice():
    """The params name what lepton.PCA(k) runs on the device for each case (the wide case: the
    Gram + the top-k eigen-solve, which the first GPU run's estimator did not have)."""
    wide, _ = pca_cuda._predictions(*pca_cuda.WIDE)
    tall, _ = pca_cuda._predictions(*pca_cuda.TALL)
    assert (wide["auto solver"], wide["auto eigen solve"]) == ("covariance_eigh", "topk")
    assert (tall["auto solver"], tall["auto eigen solve"]) == ("covariance_eigh", "full")
    assert wide["predicted covariance (topk eigen) ms"] < wide["predicted randomized ms"]


@pytest.mark.gpu
def test_gpu_cases_agree(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(pca_cuda, "TALL", (20_000, 64, 4))
    monkeypatch.setattr(pca_cuda, "WIDE", (5_000, 512, 8))
    cases = pca_cuda.cases()
    assert [c.name for c in cases] == ["cuda tall 20000x64 k=4", "cuda wide 5000x512 k=8"]
    for case in cases:
        assert case.device == "cuda:0"
        assert sum(impl.is_lepton for impl in case.impls) == 1
        assert "torch.pca_lowrank" in [impl.name for impl in case.impls]
        ours = next(impl for impl in case.impls if impl.is_lepton)
        got = ours.run()
        ours.sync()
        assert np.asarray(torch.as_tensor(got, device="cuda:0").cpu()).shape == (case.params["k"],)
        assert "lepton PCA" in case.notes
