"""The pipeline end to end on the CPU, at a small size."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytest.importorskip("sklearn")

from lepton.energy import Meter
from lepton.pipeline import STEPS, default_components, load, run
from lepton.pipeline.run import _split


class ConstantPowerMeter(Meter):
    """A meter reading a steady 10 W off the wall clock: joules are exactly 10 × seconds."""

    source = "constant 10 W"
    min_window_s = 0.0

    def _read_joules(self) -> float:
        return 10.0 * time.perf_counter()


@pytest.fixture(scope="module")
def unmetered():
    calls = []
    result = run(
        "synthetic",
        rows=3000,
        cols=12,
        progress=lambda what, done, total: calls.append((what, done, total)),
    )
    return result, calls


def test_every_step_is_recorded_in_order(unmetered):
    result, _ = unmetered
    assert [s.name for s in result.steps] == list(STEPS)
    assert all(s.seconds > 0 for s in result.steps)
    assert result.total_seconds == pytest.approx(sum(s.seconds for s in result.steps))
    assert sum(result.share(s) for s in result.steps) == pytest.approx(1.0)
    assert (result.rows, result.cols, result.n_classes) == (3000, 12, 2)


def test_without_a_meter_there_are_no_joules(unmetered):
    result, _ = unmetered
    if result.meter != "no meter":
        pytest.skip("this machine has a CPU energy meter")
    assert all(s.joules is None for s in result.steps)
    assert result.total_joules is None
    assert result.share_basis == "seconds"
    assert all(c.joules is None for c in result.search.candidates)


def test_the_model_learns_and_the_search_is_recorded(unmetered):
    result, _ = unmetered
    assert set(result.metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc"}
    assert result.metrics["accuracy"] > 0.75
    assert result.metrics["roc_auc"] > 0.8
    search = result.search
    assert len(search.candidates) == 2 * 2 * 2  # learning rates × L2 × PCA sizes
    assert {c.n_components for c in search.candidates} == {3, 6}
    assert search.chosen.accuracy == max(c.accuracy for c in search.candidates)
    assert search.test_metrics["accuracy"] > 0.75


def test_progress_counts_up_to_the_total(unmetered):
    _, calls = unmetered
    done = [d for _, d, _ in calls]
    assert done == sorted(done)
    assert calls[-1][0] == "done"
    assert calls[-1][1] == calls[-1][2] == len(STEPS) + 8


def test_result_is_json(unmetered):
    result, _ = unmetered
    out = json.loads(json.dumps(result.to_dict()))
    assert [s["name"] for s in out["steps"]] == list(STEPS)
    assert out["share_basis"] in ("joules", "seconds")


def test_with_a_meter_joules_rank_the_candidates():
    result = run(
        "breast_cancer",
        meter=ConstantPowerMeter(),
        selection="accuracy_per_joule",
        min_accuracy=0.9,
        learning_rates=(0.05,),
        l2s=(1e-3,),
        components=(2, 8),
    )
    assert result.meter == "constant 10 W"
    assert result.share_basis == "joules"
    for step in result.steps:
        assert step.joules == pytest.approx(10 * step.seconds, abs=1e-3)  # clock read twice
    search = result.search
    assert search.selection_used == "accuracy_per_joule"
    assert search.note == ""
    eligible = [c for c in search.candidates if c.accuracy >= 0.9]
    assert search.chosen == max(eligible, key=lambda c: c.accuracy / c.joules)


def test_per_joule_without_a_meter_falls_back_explicitly():
    result = run("breast_cancer", selection="accuracy_per_joule", components=(4,), l2s=(1e-3,))
    if result.meter != "no meter":
        pytest.skip("this machine has a CPU energy meter")
    assert result.search.selection_used == "accuracy_per_second"
    assert "no energy meter" in result.search.note


def test_arrays_with_missing_values_and_no_search():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 5)).astype(np.float32)
    y = np.where(X[:, 0] - X[:, 1] > 0, "up", "down")
    X[rng.random(X.shape) < 0.05] = np.nan
    result = run(X, y, search=False, n_components=5)
    assert [s.name for s in result.steps] == list(STEPS[:-1])
    assert result.search is None
    assert result.dataset == "array"
    assert result.metrics["accuracy"] > 0.85


def test_multiclass_digits():
    result = run("digits", search=False)
    assert result.n_classes == 10
    assert result.metrics["accuracy"] > 0.9


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"selection": "fastest"}, "selection: expected one of"),
        ({"min_accuracy": 2}, "min_accuracy"),
        ({"n_components": 0}, r"n_components: expected ints in \[1, 30\]"),
        ({"components": (40,)}, r"components: expected ints in \[1, 30\]"),
        ({"test_fraction": 0.7}, "test_fraction"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run("breast_cancer", **kwargs)


def _linear_reference_accuracy(rows: int, cols: int) -> float:
    """sklearn's answer to the pipeline's question: mean imputation, standard scaling, PCA to the
    pipeline's default size and a logistic regression, fitted on the pipeline's own train split
    and scored on its test split."""
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    splits = _split(load("synthetic", rows=rows, cols=cols), 0.2, 0.2, 0, "cpu")
    model = make_pipeline(
        SimpleImputer(),
        StandardScaler(),
        PCA(default_components(cols), random_state=0),
        LogisticRegression(max_iter=1000),
    )
    model.fit(*splits["train"])
    return float(model.score(*splits["test"]))


# The bar is sklearn's linear model on the same splits, not a fixed number: 32 synthetic columns
# (16 informative, two clusters per class) reduced to 16 components cap any linear model near
# 0.71 (sklearn: 0.709, lepton 0.711 on both devices), so the 0.75 this test once asked for held
# nowhere. 0.02 is ~3 binomial standard deviations of an accuracy near 0.7 on 4000 test rows.
@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_accuracy_matches_a_linear_reference(device):
    if device == "cuda":
        pytest.importorskip("cupy")
    result = run("synthetic", rows=20_000, cols=32, device=device, search=False)
    assert result.device == ("cpu" if device == "cpu" else "cuda:0")
    assert result.metrics["accuracy"] >= _linear_reference_accuracy(20_000, 32) - 0.02


def test_an_estimator_that_moves_device_data_to_the_host_is_refused():
    from lepton.pipeline.run import _check_kept_in_place

    class FakeDeviceArray:  # what placement() reads: a CUDA array interface
        __cuda_array_interface__ = {  # noqa: RUF012
            "shape": (4, 2), "typestr": "<f4", "data": (0, False), "version": 3, "strides": None
        }  # fmt: skip

    host = np.zeros((4, 2), np.float32)
    before = {"train": (FakeDeviceArray(), None)}
    with pytest.raises(TypeError, match=r"PCA\.transform returned the train split on cpu"):
        _check_kept_in_place(before, {"train": (host, None)}, "PCA")
    _check_kept_in_place({"train": (host, None)}, {"train": (host.copy(), None)}, "PCA")
