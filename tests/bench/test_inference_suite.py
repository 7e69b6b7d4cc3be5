"""The inference bench suite builds well-formed CPU cases whose implementations agree."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lepton.bench.runner import run_case
from lepton.bench.suites import inference as suite


@pytest.fixture(scope="module")
def small_cases():
    # Smaller network and batch, same structure: the suite's sizes are module constants. 1000
    # rows: the agreement bar then has a few rows of margin (0.997, 0.996 here; at 300 rows the
    # pipeline sat on 0.99 exactly).
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(suite, "LAYERS", (48, 64, 32, 6))
        mp.setattr(suite, "BATCH", 1000)
        mp.setattr(suite, "PIPELINE_COMPONENTS", 12)
        mp.setattr(suite, "PIPELINE_HIDDEN", 24)
        yield suite.cases("small")


def test_cases_are_the_mlp_and_the_pipeline(small_cases):
    names = [c.name for c in small_cases]
    assert names == [
        "MLP 48-64-32-6 batch 1000",
        "Pipeline StandardScaler-PCA-MLPClassifier batch 1000",
    ]
    for case in small_cases:
        assert case.suite == "inference"
        assert case.device == "cpu"
        assert case.rows == 1000
        assert sum(impl.is_lepton for impl in case.impls) == 1
    mlp, pipe = small_cases
    assert mlp.work_ops == 2.0 * 1000 * (48 * 64 + 64 * 32 + 32 * 6)
    # the PCA (48 → 12) stays an int8 layer: 48·24 > 48·12 + 12·24
    assert pipe.params["int8 layers"] == "48-12-24-6"
    assert pipe.work_ops == 2.0 * 1000 * (48 * 12 + 12 * 24 + 24 * 6)


def test_torch_peers_are_there_with_their_agreement(small_cases):
    torch = pytest.importorskip("torch")
    engine = torch.backends.quantized.engine
    mlp = small_cases[0]
    names = [impl.name for impl in mlp.impls]
    assert "torch f32 (inference_mode)" in names
    assert f"torch dynamic-quant int8 ({engine})" in names
    assert set(mlp.params["label_agreement"]) == {
        "lepton int8",
        f"torch dynamic-quant int8 ({engine})",
    }


def test_implementations_agree_on_labels(small_cases):
    for case in small_cases:
        labels = [np.asarray(impl.run()) for impl in case.impls]
        ours = labels[next(i for i, impl in enumerate(case.impls) if impl.is_lepton)]
        for impl, other in zip(case.impls, labels, strict=True):
            # torch returns class indices (the classes are 0..n-1 here). The same function,
            # up to quantization: torch's per-tensor int8 activations flip more labels of this
            # small, barely trained net than lepton's per-row ones.
            floor = 0.9 if "dynamic-quant" in impl.name else 0.97
            assert np.mean(ours == other) >= floor, impl.name


def _instant_window(fn, device):
    fn()
    return 1e-3, None, False  # seconds, joules (no meter), short


def test_label_agreement_is_reported_and_meets_the_bar(small_cases):
    """Each CPU case's report (the runner's JSON) carries lepton's label agreement with the
    float model, at least the documented bar."""
    mlp, pipe = (
        json.loads(json.dumps(run_case(case, rounds=1, min_window_s=0.0, settle_s=0.0,
                                       window=_instant_window)))
        for case in small_cases
    )  # fmt: skip
    assert mlp["params"]["label_agreement"]["lepton int8"] >= suite.LABEL_AGREEMENT_BAR
    assert pipe["params"]["label_agreement"] >= suite.LABEL_AGREEMENT_BAR
    assert "label agreement with the float model: lepton int8 " in mlp["notes"]
    assert "label agreement with the float pipeline: " in pipe["notes"]
