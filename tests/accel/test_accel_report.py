"""The report: what ran where, measured time and joules, --compare and --int8 agreement."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sklearn.decomposition
import sklearn.impute
import sklearn.linear_model
import sklearn.neural_network
import sklearn.preprocessing
from _accel_helpers import EdgeCountingMeter, data, groups

from lepton import accel
from lepton.accel._agreement import array_agreement, label_agreement


def _workload():
    x = data(nan=0.1, shape=(500, 6))
    filled = sklearn.impute.SimpleImputer().fit_transform(x)
    sklearn.preprocessing.StandardScaler().fit(filled).transform(filled)
    sklearn.decomposition.PCA(2, svd_solver="arpack").fit(filled)  # falls back
    return filled


def test_text_report_says_what_ran_where_and_why(accel_on):
    _workload()
    text = str(accel.report())
    assert text.startswith("lepton.accel: 4 estimator calls, 3 ran on lepton, 1 fell back")
    assert "SimpleImputer.fit_transform" in text
    assert "fell back: svd_solver='arpack'" in text
    # No meter on this machine: the energy column says so, never a number.
    meter = accel.report().meter
    if meter["source"] == "none":
        assert "no meter" in text
        assert " J" not in text


def test_no_meter_means_no_joules(accel_on):
    _workload()
    report = accel.report()
    session_meter = accel._session.current().meter
    if session_meter.has_energy:
        pytest.skip("this machine has an energy meter")
    assert all(g.joules is None for g in report.groups if g.ran_on != "sklearn")
    assert report.to_dict()["accelerated"]["joules"] is None


def test_joules_come_from_the_meter_at_the_window_edges(accel_on, metered):
    _workload()
    report = accel.report()
    lepton = [g for g in report.groups if g.ran_on == "lepton"]
    assert lepton
    for g in lepton:
        # Two edge reads a call, nothing inside: exactly one counter step per call.
        assert g.joules == pytest.approx(EdgeCountingMeter.JOULES_PER_READ * g.calls)
    assert "J" in str(report)
    assert report.meter["source"] == "fake"
    # Fallbacks are timed, not metered.
    assert all(g.joules is None for g in report.groups if g.ran_on == "sklearn")


def test_json_report(accel_on, tmp_path):
    _workload()
    path = tmp_path / "report.json"
    accel.report().write_json(path)
    doc = json.loads(path.read_text())
    assert set(doc) >= {"versions", "options", "meter", "accelerated", "fell_back", "groups"}
    assert doc["accelerated"]["calls"] == 3
    assert doc["fell_back"]["calls"] == 1
    assert doc["options"] == {"compare": False, "int8": False}
    (back,) = [g for g in doc["groups"] if g["ran_on"] == "sklearn"]
    assert back["estimator"] == "sklearn.decomposition.PCA"
    assert "svd_solver='arpack'" in back["reason"]
    assert len(doc["calls"]) == 4
    assert doc["calls"][0]["shape"] == [500, 6]
    assert doc["compared"] is None


def test_empty_report(accel_on):
    assert "no call of an accelerated estimator" in str(accel.report())


def test_compare_runs_sklearn_on_the_same_inputs(compare_on, metered):
    filled = _workload()
    x = filled.copy()
    out = sklearn.preprocessing.StandardScaler(copy=False).fit_transform(x)
    assert out is x  # in place, as asked; scikit-learn's run got a copy of the input
    report = accel.report()
    compared = [g for g in report.groups if g.compared]
    assert {(g.estimator.rsplit(".", 1)[-1], g.method) for g in compared} == {
        ("SimpleImputer", "fit_transform"),
        ("StandardScaler", "fit"),
        ("StandardScaler", "transform"),
        ("StandardScaler", "fit_transform"),
    }
    for g in compared:
        assert g.within_tolerance is True, (g.method, g.worst)
        assert g.sklearn_seconds > 0
        assert g.sklearn_joules == pytest.approx(EdgeCountingMeter.JOULES_PER_READ * g.calls)
    total = report.compared
    assert total["calls"] == 4
    assert total["speedup"] == pytest.approx(total["sklearn_seconds"] / total["lepton_seconds"])
    text = str(report)
    assert "measured against scikit-learn on the same inputs" in text
    assert "within tolerance" in text
    doc = report.to_dict()
    (fit_transform,) = [
        g for g in doc["groups"] if g["method"] == "fit_transform" and "Imputer" in g["estimator"]
    ]
    assert fit_transform["comparison"]["worst"]["output"] <= 1e-12
    assert "statistics_" in fit_transform["comparison"]["worst"]


def test_compare_flags_a_disagreement(compare_on, monkeypatch):
    from lepton.estimators import scalers

    real = scalers.StandardScaler._set_moments

    def off_by_a_bit(self, stats):
        real(self, stats)
        self.mean_ = self.mean_ + 1e-3

    monkeypatch.setattr(scalers.StandardScaler, "_set_moments", off_by_a_bit)
    sklearn.preprocessing.StandardScaler().fit(data())
    (g,) = accel.report().groups
    assert g.within_tolerance is False
    assert g.worst["mean_"] > 1e-5
    assert "OUTSIDE tolerance" in str(accel.report())


def test_agreement_measure():
    tol = {"float64": 1e-9, "float32": 1e-4}
    a = np.array([1.0, np.nan, 3.0])
    assert array_agreement(a, a.copy(), tol) == (0.0, True)
    err, ok = array_agreement(a + 1e-6, a, tol)
    assert err == pytest.approx(1e-6 / 3)
    assert not ok
    assert array_agreement(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), tol)[0] == math.inf
    assert array_agreement(np.ones(3), np.ones(4), tol) == (math.inf, False)
    assert array_agreement(np.array([1, 2]), np.array([1, 3]), tol)[1] is False
    assert array_agreement(np.float32(2.0), np.float32(2.0), tol) == (0.0, True)
    assert array_agreement(np.array([1e-17]), np.array([2e-17]), tol, scale=1.0)[1] is True
    assert label_agreement(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2])) == 0.75


def test_int8_is_off_unless_asked(accel_on):
    assert not accel.is_accelerated(sklearn.neural_network.MLPClassifier)
    assert not accel.is_accelerated(sklearn.linear_model.LogisticRegression)


def _classification(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((600, 10))
    y = (x[:, 0] + 0.5 * x[:, 1] - x[:, 2] > 0).astype(int) + (x[:, 3] > 1)
    return x, y


def test_int8_predict_reports_agreement_with_the_float_model(int8_on):
    x, y = _classification()
    mlp = sklearn.neural_network.MLPClassifier((32,), max_iter=2000, random_state=0).fit(x, y)
    logistic = sklearn.linear_model.LogisticRegression().fit(x, y)
    ridge = sklearn.linear_model.Ridge().fit(x, x[:, 0] * 3.0 + 1.0)
    from lepton import Lepton

    for model in (mlp, logistic):
        labels = model.predict(x)
        np.testing.assert_array_equal(labels, Lepton(model).predict(x))
    ridge.predict(x)
    ran = groups()
    for name in ("MLPClassifier", "LogisticRegression"):
        g = ran[name, "predict", "lepton-int8"]
        assert 0.9 <= g.worst["labels"] <= 1.0  # measured, reported, not a pass/fail
        assert g.within_tolerance is None
        assert g.compared == 1
    g = ran["Ridge", "predict", "lepton-int8"]
    assert 0 <= g.worst["output"] < 0.05
    text = str(accel.report())
    assert "share of rows with the float model's label" in text
    # The float model's score goes through the int8 predict too (ClassifierMixin.score).
    assert 0.8 < mlp.score(x, y) <= 1.0
    assert ran_count("MLPClassifier") == 2


def ran_count(name):
    return sum(g.calls for (n, _, r), g in groups().items() if n == name and r == "lepton-int8")


def test_int8_unsupported_models_fall_back(int8_on):
    x, y = _classification()
    # The identity output activation is not a classifier head lepton has: TypeError → fallback.
    mlp = sklearn.neural_network.MLPClassifier((8,), max_iter=50, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(x, y)
    mlp.out_activation_ = "identity"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.predict(x)
    (g,) = [g for g in accel.report().groups if g.method == "predict"]
    assert g.ran_on == "sklearn"
    assert "lepton raised TypeError" in g.reason


def test_int8_model_cache_follows_the_weights(int8_on):
    from lepton.accel.adapters.int8 import quantized

    x, y = _classification()
    model = sklearn.linear_model.LogisticRegression().fit(x, y)
    first = quantized(model)
    assert quantized(model) is first
    model.coef_ = model.coef_ * 2.0
    assert quantized(model) is not first
