"""compare() and measure=True: agreement numbers and costs, joules never invented."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from lepton import Lepton
from lepton.energy import meter_for


def test_compare_classifier_with_labels(fit, breast_cancer):
    X_tr, X_te, y_tr, y_te = breast_cancer
    model = fit(LogisticRegression(max_iter=500), X_tr, y_tr)
    lep = Lepton(model)
    report = lep.compare(X_te, y_te, rounds=2, min_window_s=0.01)
    assert report.model == "sklearn LogisticRegression"
    assert report.rows == X_te.shape[0]
    assert report.output == "predict_proba"
    want_err = np.abs(lep.predict_proba(X_te) - model.predict_proba(X_te.astype(np.float32)))
    assert report.max_abs_error == pytest.approx(want_err.max())
    assert report.mean_abs_error == pytest.approx(want_err.mean())
    agreement = np.mean(lep.predict(X_te) == model.predict(X_te.astype(np.float32)))
    assert report.label_agreement == pytest.approx(agreement)
    assert report.metric == "accuracy"
    assert report.metric_float == pytest.approx(np.mean(model.predict(X_te) == y_te), abs=0.01)
    assert abs(report.metric_int8 - report.metric_float) <= 0.01
    assert report.int8_cost.seconds > 0
    assert report.float_cost.seconds > 0
    assert report.int8_cost.calls >= 2
    assert report.float_cost.calls >= 2
    json.dumps(report.to_dict())  # serialisable


def test_compare_regressor_reports_r2(fit, diabetes):
    X_tr, X_te, y_tr, y_te = diabetes
    report = Lepton(fit(Ridge(), X_tr, y_tr)).compare(X_te, y_te, rounds=1, min_window_s=0)
    assert report.label_agreement is None
    assert report.metric == "r2"
    assert abs(report.metric_int8 - report.metric_float) < 0.01


@pytest.mark.skipif(meter_for("cpu").has_energy, reason="this machine has a CPU energy meter")
def test_no_meter_means_no_joules(fit, diabetes):
    X_tr, X_te, y_tr, _ = diabetes
    lep = Lepton(fit(Ridge(), X_tr, y_tr))
    report = lep.compare(X_te, rounds=1, min_window_s=0)
    assert report.int8_cost.joules is None
    assert report.float_cost.joules is None
    assert report.joules_ratio is None
    assert "no meter" in str(report)
    lep.predict(X_te, measure=True)
    assert lep.last_measurement.joules is None
    assert lep.last_measurement.source == "none"


def test_measure_records_the_call(fit, diabetes):
    X_tr, X_te, y_tr, _ = diabetes
    lep = Lepton(fit(Ridge(), X_tr, y_tr))
    assert lep.last_measurement is None
    plain = lep.predict(X_te)
    assert lep.last_measurement is None  # only measure=True records
    measured = lep.predict(X_te, measure=True)
    np.testing.assert_array_equal(plain, measured)
    assert lep.last_measurement.seconds > 0
    assert lep.last_measurement.device == "cpu"
