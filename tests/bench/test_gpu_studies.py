"""The GPU halves of the inference suite and the pipeline study (marked gpu)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gpu


def test_the_full_inference_suite_has_cuda_cases_with_rows_and_agreement():
    pytest.importorskip("torch")
    from lepton.bench.suites import inference

    cuda = [c for c in inference.cases("full") if c.device.startswith("cuda")]
    assert [c.rows for c in cuda] == list(inference.GPU_BATCHES)
    for case in cuda:
        names = [impl.name for impl in case.impls]
        assert "torch f16 CUDA graph" in names
        assert "torch f16 (inference_mode)" in names
        if case.rows >= 32:  # one row agrees or not: no rate to hold it to
            assert all(rate >= 0.99 for rate in case.params["label_agreement"].values())
        # every graph-mode lepton captured its graph while the case was built
        for name, captures in case.params["graphs_captured"].items():
            assert captures >= (0 if "eager" in name else 1), name
        for impl in case.impls:
            impl.run()
            impl.sync()


def test_the_pipeline_study_runs_lepton_on_the_gpu_without_errors():
    pytest.importorskip("cupy")
    from lepton.bench.suites import pipeline as study
    from lepton.pipeline import load

    record = study.compare(load("synthetic", rows=2000, cols=8, seed=0), "cuda:0", search=False)
    assert "error" not in record["lepton"], record["lepton"].get("traceback")
    assert record["lepton"]["device"] == "cuda:0"
