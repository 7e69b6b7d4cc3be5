"""The pipeline study: lepton and numpy + scikit-learn per step, side by side (CPU, tiny)."""

from __future__ import annotations

import json

import pytest

from lepton.bench.suites import pipeline as study
from lepton.pipeline import STEPS, load


@pytest.fixture(scope="module")
def tiny():
    return load("synthetic", rows=600, cols=8, seed=0)


def test_the_baseline_runs_every_step_with_scikit_learn(tiny):
    result = study.sklearn_pipeline(tiny, search=True)
    assert [s.name for s in result.steps] == list(STEPS)
    assert result.metrics["accuracy"] > 0.6
    assert len(result.search.candidates) == 2 * 2 * 2
    assert result.device.startswith("cpu")


def test_both_pipelines_land_in_one_table(tmp_path):
    text = study.study("small", tmp_path, sizes={"small": (800, 8, "cpu")}, progress=lambda t: None)
    record = json.loads(next(tmp_path.glob("pipeline-*.json")).read_text())
    assert {"lepton", "sklearn"} <= set(record)
    assert "error" not in record["lepton"]
    assert "error" not in record["sklearn"]
    assert (tmp_path / "pipeline.md").read_text() in text
    for step in STEPS:
        assert f"| {step} |" in text


def test_a_failing_side_is_recorded_and_the_other_still_runs(tiny):
    def broken(dataset, **options):
        msg = "PCA: cupy input is not supported yet"
        raise TypeError(msg)

    record = {"rows": 600, "cols": 8, "device": "cuda:0"} | study.compare(
        tiny, "cuda:0", lepton_run=broken, search=False
    )
    assert record["lepton"]["error"] == "TypeError: PCA: cupy input is not supported yet"
    assert record["sklearn"]["metrics"]["accuracy"] > 0.6
    assert "lepton: FAILED: TypeError" in study.markdown(record)
