"""Bad models and bad inputs fail early with errors that say what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from lepton import Lepton


@pytest.fixture(scope="module")
def lep():
    rng = np.random.default_rng(0)
    return Lepton([(rng.standard_normal((3, 5)).astype(np.float32), None, "relu")])


# --- models ---------------------------------------------------------------------------------
def test_unsupported_object_lists_what_is_supported():
    with pytest.raises(
        TypeError,
        match=r"dict is not supported; supported: .*MLPClassifier.*nn\.Sequential.*raw layers",
    ):
        Lepton({"weights": 1})


def test_unsupported_sklearn_model():
    with pytest.raises(TypeError, match="SVC is not supported; supported: a fitted scikit-learn"):
        Lepton(SVC())


def test_unfitted_sklearn_model():
    with pytest.raises(NotFittedError):
        Lepton(LogisticRegression())


def test_empty_layer_list():
    with pytest.raises(ValueError, match="at least one"):
        Lepton([])


def test_layer_is_not_a_triple():
    with pytest.raises(TypeError, match=r"model\[0\]: expected a \(W, b, activation\) triple"):
        Lepton([(np.ones((2, 2), np.float32), None)])


def test_layer_shapes_do_not_chain():
    layers = [
        (np.ones((4, 3), np.float32), None, "relu"),
        (np.ones((2, 5), np.float32), None, None),
    ]
    with pytest.raises(
        ValueError, match=r"model\[1\]: weight expects 5 inputs but layer 0 gives 4"
    ):
        Lepton(layers)


def test_unknown_activation():
    with pytest.raises(ValueError, match="unsupported activation 'swish'"):
        Lepton([(np.ones((2, 2), np.float32), None, "swish")])


def test_activation_of_the_wrong_type():
    with pytest.raises(TypeError, match="activation name or None"):
        Lepton([(np.ones((2, 2), np.float32), None, 3)])


def test_bias_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"model\[0\] bias: expected length 2, got 3"):
        Lepton([(np.ones((2, 2), np.float32), np.ones(3), None)])


def test_weight_not_2d():
    with pytest.raises(ValueError, match=r"model\[0\] weight: expected a 2-D array"):
        Lepton([(np.ones(4, np.float32), None, None)])


def test_weight_not_finite():
    w = np.ones((2, 2), np.float32)
    w[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        Lepton([(w, None, None)])


def test_weight_not_numeric():
    with pytest.raises(TypeError, match="weight"):
        Lepton([(np.array([["a", "b"]]), None, None)])


# --- inputs ---------------------------------------------------------------------------------
def test_input_none(lep):
    with pytest.raises(TypeError, match="x: expected an array, got None"):
        lep.predict(None)


def test_input_1d(lep):
    with pytest.raises(ValueError, match="x: expected a 2-D array"):
        lep.predict(np.ones(5, np.float32))


def test_input_wrong_feature_count(lep):
    with pytest.raises(ValueError, match="x: expected 5 features"):
        lep.predict(np.ones((2, 4), np.float32))


def test_input_empty(lep):
    with pytest.raises(ValueError, match="non-empty"):
        lep.predict(np.ones((0, 5), np.float32))


def test_input_not_finite(lep):
    x = np.ones((2, 5), np.float32)
    x[1, 2] = np.inf
    with pytest.raises(ValueError, match=r"x: .*(NaN|Inf|inf)"):
        lep.predict(x)


def test_input_not_numeric(lep):
    with pytest.raises(TypeError, match="x: expected"):
        lep.predict(np.array([["a"] * 5]))


def test_input_complex(lep):
    with pytest.raises(TypeError, match="x: expected a real numeric array"):
        lep.predict(np.ones((1, 5), np.complex64))


def test_compare_labels_of_the_wrong_length(lep):
    with pytest.raises(ValueError, match="y: expected 2 rows"):
        lep.compare(np.ones((2, 5), np.float32), np.zeros(3), rounds=1, min_window_s=0)


def test_compare_rounds(lep):
    with pytest.raises(ValueError, match="rounds: expected an int >= 1"):
        lep.compare(np.ones((2, 5), np.float32), rounds=0)


def test_calibration_sample_is_checked(lep):
    layers = [(np.ones((3, 5), np.float32), None, None)]
    with pytest.raises(ValueError, match="expected 5 features"):
        Lepton(layers, calibration=np.ones((4, 6), np.float32))
