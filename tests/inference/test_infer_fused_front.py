"""A pipeline whose per-column steps are a pure affine map skips the separate pass on the host:
the first int8 layer scales its rows while it quantizes them, with the same results bit for bit.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

import lepton
from lepton import Lepton, Preprocessor
from lepton._dispatch import Backend
from lepton.inference.arrays import to_backend
from lepton.inference.feature_pass import FrontPass

ISAS = list(lepton._core.available_isas())

FUSED = {
    "standard-mlp": lambda: make_pipeline(
        StandardScaler(), MLPClassifier((24,), max_iter=60, random_state=0)
    ),
    "robust-maxabs-pca-logistic": lambda: make_pipeline(
        RobustScaler(), MaxAbsScaler(), PCA(20), LogisticRegression(max_iter=300)
    ),
    "pca-whiten-standard-mlp": lambda: make_pipeline(
        StandardScaler(),
        PCA(0.9, whiten=True),
        StandardScaler(),
        MLPClassifier((16,), max_iter=60, random_state=0),
    ),
}

NOT_FUSED = {
    "impute": lambda: make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()),
    "clip": lambda: make_pipeline(MinMaxScaler(clip=True), LogisticRegression()),
    "preprocessor": lambda: make_pipeline(Preprocessor(clip_sigma=4.0), LogisticRegression()),
}


def _fit(make, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make().fit(X, y)


def _outputs(lep, x):
    return [getattr(lep, m)(x) for m in lep.methods]


def _two_step(lep, monkeypatch):
    """The path without fusion: the pass, then the layers."""
    monkeypatch.setattr(lep, "_fused_front", lambda x, backend: None)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("shape", list(FUSED))
def test_fused_front_gives_the_two_step_results_bit_for_bit(shape, isa, monkeypatch):
    X, y = load_digits(return_X_y=True)
    pipe = _fit(FUSED[shape], X, y)
    lep = Lepton(pipe)
    with lepton.isa(isa):
        results = {}
        for dtype in (np.float32, np.float64):
            x = X.astype(dtype)
            arr, backend = to_backend(x)
            assert lep._fused_front(arr, backend) is not None
            results[dtype] = _outputs(lep, x)
        _two_step(lep, monkeypatch)
        for dtype, fused in results.items():
            x = X.astype(dtype)
            want = _outputs(lep, x)
            for got, ref in zip(fused, want, strict=True):
                np.testing.assert_array_equal(got, ref)


def test_the_fused_path_writes_no_scaled_array(monkeypatch):
    X, y = load_digits(return_X_y=True)
    lep = Lepton(_fit(FUSED["standard-mlp"], X, y))

    def no_pass(self, x):
        raise AssertionError("the separate pass ran")

    monkeypatch.setattr(FrontPass, "__call__", no_pass)
    assert lep.predict(X).shape == (len(X),)


@pytest.mark.parametrize("shape", list(NOT_FUSED))
def test_fill_clip_or_inf_replacement_keeps_the_pass(shape):
    X, y = load_wine(return_X_y=True)
    front = Lepton(_fit(NOT_FUSED[shape], X, y)).plan_.front
    assert front is not None
    assert not front.affine_only
    assert front.column_map(np.float32) is None


def test_static_scales_keep_the_pass():
    X, y = load_digits(return_X_y=True)
    lep = Lepton(_fit(FUSED["standard-mlp"], X, y))
    arr, backend = to_backend(X)
    assert lep._fused_front(arr, backend) is not None
    lep._static = True  # the static path quantizes the scaled array with one scale
    assert lep._fused_front(arr, backend) is None


def test_cuda_inputs_keep_the_pass():
    """The map is fused on the CPU only: a CUDA backend runs the pass, then the layers."""
    X, y = load_digits(return_X_y=True)
    lep = Lepton(_fit(FUSED["standard-mlp"], X, y))
    arr, _ = to_backend(X)
    assert lep._fused_front(arr, Backend(np, "cuda:0", lambda a: a)) is None


def test_a_coefficient_past_float32_keeps_the_pass_for_float32():
    X, y = load_wine(return_X_y=True)
    pipe = _fit(lambda: make_pipeline(StandardScaler(), LogisticRegression()), X, y)
    pipe[0].scale_[0] = 1e-40  # mul = 1e40: finite in float64 only
    front = Lepton(pipe).plan_.front
    assert front.column_map(np.float32) is None
    assert front.column_map(np.float64) is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_bad_row_is_named_as_before(dtype, value, monkeypatch):
    X, y = load_wine(return_X_y=True)
    lep = Lepton(_fit(lambda: make_pipeline(StandardScaler(), LogisticRegression()), X, y))
    x = X.astype(dtype)
    x[5, 3] = value
    x[9, 0] = value
    with pytest.raises(ValueError, match="x: row 5 holds NaN or Inf") as fused:
        lep.predict(x)
    _two_step(lep, monkeypatch)
    with pytest.raises(ValueError, match="x: row 5 holds NaN or Inf") as two_step:
        lep.predict(x)
    assert str(fused.value) == str(two_step.value)
