"""The GPU cases of the preprocess bench suite: absent without a GPU, and (on a GPU) every
implementation computes the same thing as lepton."""

from __future__ import annotations

import numpy as np
import pytest

from lepton.bench.suites import preprocess, preprocess_cuda


def test_no_gpu_cases_without_a_gpu(monkeypatch):
    monkeypatch.setattr(preprocess_cuda, "available", lambda: False)
    assert preprocess_cuda.cases() == []
    monkeypatch.setattr(preprocess, "SIZES", {"small": (100, 3), "full": (100, 3)})
    names = [c.name for c in preprocess.cases("full")]
    assert names == ["fit_transform", "transform", "fit_transform_out"]


def test_peer_coefficients_follow_the_documented_steps():
    """The torch/cupy peers are the numpy peer's steps: check the numpy twin on the CPU."""
    rng = np.random.default_rng(0)
    x = rng.normal(3, 2, (500, 4)).astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    mean, std = preprocess.numpy_coefficients(x)
    np.testing.assert_allclose(std, np.sqrt(np.nanmean((x - mean) ** 2, axis=0)), rtol=1e-5)


@pytest.mark.gpu
def test_gpu_cases_agree(monkeypatch):
    torch = pytest.importorskip("torch")
    if not preprocess_cuda.available():
        pytest.skip("needs a GPU, torch and the CUDA build")
    monkeypatch.setattr(preprocess_cuda, "SHAPE", (10_007, 64))
    cases = preprocess_cuda.cases()
    assert [c.name.split(" 1")[0] for c in cases] == [
        "cuda fit_transform", "cuda transform", "cuda preprocess configs"]  # fmt: skip
    for case in cases:
        assert case.device == "cuda:0"
        assert sum(impl.is_lepton for impl in case.impls) == 1
        outputs = {}
        for impl in case.impls:
            result = impl.run()
            impl.sync()
            if "copy" not in impl.name:
                outputs[impl.name] = torch.as_tensor(result, device="cuda:0").double().cpu()
        ours = next(outputs[i.name] for i in case.impls if i.is_lepton)
        for name, other in outputs.items():
            # the peers use float32 statistics: agree to float32 round-off of the scaled values
            assert float((ours - other).abs().max()) < 1e-3, name
