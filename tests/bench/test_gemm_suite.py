"""The gemm bench suite builds well-formed cases whose implementations agree."""

from __future__ import annotations

import numpy as np
import pytest

from lepton.bench.suites import gemm as suite


@pytest.fixture
def small_cases(monkeypatch):
    # Smaller problems, same structure: the suite's sizes are module constants.
    monkeypatch.setattr(suite, "GEMM_SIZES", (64, 96))
    monkeypatch.setattr(suite, "INT32_MATMUL_MAX_N", 64)
    monkeypatch.setattr(suite, "LINEAR_FEATURES", 128)
    return suite.cases("small")


def test_every_case_has_one_lepton_impl_and_its_work(small_cases):
    assert [c.name for c in small_cases] == [
        "int8_gemm 64x64x64",
        "int8_gemm 96x96x96",
        "linear_int8 M=1 N=128 K=128",
        "linear_int8 M=8 N=128 K=128",
        "linear_int8 M=32 N=128 K=128",
    ]
    for case in small_cases:
        assert case.suite == "gemm"
        assert sum(impl.is_lepton for impl in case.impls) == 1
        p = case.params
        assert case.work_ops == 2.0 * p["M"] * p["N"] * p["K"]


def test_linear_cases_have_torchs_dynamic_quantized_linear(small_cases):
    pytest.importorskip("torch")
    import torch

    engine = torch.backends.quantized.engine
    for case in small_cases[2:]:
        names = [impl.name for impl in case.impls]
        assert f"torch dynamic-quant Linear ({engine})" in names
        assert "torch dynamic-quant Linear" not in case.skipped


def test_without_torch_the_int8_peer_is_skipped_with_a_reason(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)  # import torch fails
    monkeypatch.setattr(suite, "GEMM_SIZES", ())
    monkeypatch.setattr(suite, "LINEAR_FEATURES", 64)
    for case in suite.cases("small"):
        assert case.skipped["torch dynamic-quant Linear"] == "torch is not installed"


def test_int32_peer_is_skipped_with_a_reason_past_its_size(small_cases):
    small, large = small_cases[0], small_cases[1]
    assert "numpy int32 matmul" in [impl.name for impl in small.impls]
    assert "numpy int32 matmul" in large.skipped
    assert "5 s" in large.skipped["numpy int32 matmul"]


def test_impls_agree(small_cases):
    for case in small_cases:
        results = [np.asarray(impl.run(), dtype=np.float64) for impl in case.impls]
        ours = results[next(i for i, impl in enumerate(case.impls) if impl.is_lepton)]
        for other in results:
            # gemm: exact; linear: the int8 quantization error of a float32 layer (~1%; torch's
            # per-tensor activation scale is coarser than lepton's per-row one)
            assert np.abs(ours - other).max() <= 0.05 * np.abs(other).max()


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="size"):
        suite.cases("huge")
