"""Lepton(Pipeline): the pipeline's own methods, classes and shapes, computed with int8 layers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge, RidgeClassifier, SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import SVC, LinearSVC

import lepton
from lepton import Lepton, Preprocessor
from lepton.inference.layers import float_forward

# Convergence is not what is tested (small iteration counts keep the suite fast).
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}

SHAPES = {
    "standard-mlp": lambda: make_pipeline(
        StandardScaler(), MLPClassifier((48,), max_iter=100, random_state=0)
    ),
    "standard-pca-logistic": lambda: make_pipeline(
        StandardScaler(), PCA(0.95), LogisticRegression(max_iter=1000)
    ),
    "impute-standard-mlp": lambda: make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        MLPClassifier((32, 16), max_iter=100, random_state=0),
    ),
    "minmax-clip-ridgeclassifier": lambda: make_pipeline(
        MinMaxScaler(clip=True), RidgeClassifier()
    ),
    "robust-linearsvc": lambda: make_pipeline(RobustScaler(), LinearSVC()),
    "lepton-preprocessor-pca-mlp": lambda: make_pipeline(
        Preprocessor(clip_sigma=4.0),
        lepton.PCA(n_components=0.95),
        MLPClassifier((64,), max_iter=100, random_state=0),
    ),
    "pca-whiten-standard-mlp": lambda: make_pipeline(
        StandardScaler(),
        PCA(0.9, whiten=True),
        StandardScaler(),
        MLPClassifier((64,), max_iter=100, random_state=0),
    ),
}


@pytest.fixture(scope="module")
def fitted():
    cache: dict[tuple[str, str], tuple] = {}

    def get(data: str, shape: str):
        if (data, shape) not in cache:
            X, y = DATASETS[data](return_X_y=True)
            X_tr, _, y_tr, _ = train_test_split(X, y, test_size=0.5, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                cache[data, shape] = (SHAPES[shape]().fit(X_tr, y_tr), X)
        return cache[data, shape]

    return get


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("data", list(DATASETS))
def test_labels_agree_with_the_float_pipeline(fitted, data, shape):
    pipe, X = fitted(data, shape)
    lep = Lepton(pipe)
    labels = lep.predict(X)
    want = pipe.predict(X)
    assert labels.dtype == want.dtype
    assert labels.shape == want.shape
    assert np.mean(labels == want) >= 0.99
    np.testing.assert_array_equal(lep.classes_, pipe.classes_)
    for method in ("predict_proba", "decision_function"):
        assert hasattr(lep, method) == hasattr(pipe, method), method
        if hasattr(pipe, method):
            got, ref = getattr(lep, method)(X), getattr(pipe, method)(X)
            assert got.shape == ref.shape, method
            assert got.dtype == ref.dtype, method
    if hasattr(pipe, "predict_proba"):
        assert np.abs(lep.predict_proba(X) - pipe.predict_proba(X)).mean() < 0.01


def test_compare_reports_against_the_pipeline(fitted):
    pipe, X = fitted("digits", "standard-pca-logistic")
    report = Lepton(pipe).compare(X, rounds=1, min_window_s=0.0)
    assert report.model == "sklearn Pipeline(StandardScaler, PCA, LogisticRegression)"
    assert report.output == "predict_proba"
    assert report.label_agreement >= 0.99


def _float_scores(lep: Lepton, X: np.ndarray) -> np.ndarray:
    """The plan's float32 layers (before quantization) on the fused pass's output."""
    h = lep._features(np.ascontiguousarray(X, dtype=np.float32))
    return float_forward(lep.plan_.layers, h, np).astype(np.float64)


@pytest.mark.parametrize(
    ("make", "n_layers"),
    [
        # 30 → 20 → 2 classes: folding the PCA into the logistic layer is cheaper
        (lambda: make_pipeline(StandardScaler(), PCA(20), LogisticRegression(max_iter=500)), 1),
        # 30 → 5 → 256 hidden: the PCA stays a layer (30·256 > 30·5 + 5·256)
        (
            lambda: make_pipeline(
                RobustScaler(),
                PCA(5, whiten=True),
                StandardScaler(),
                MLPClassifier((256,), max_iter=50, random_state=0),
            ),
            3,
        ),
        (lambda: make_pipeline(StandardScaler(), TruncatedSVD(8), LogisticRegression()), 1),
    ],
)
def test_the_steps_are_the_pipelines_function_before_quantization(make, n_layers):
    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make().fit(X, y)
    lep = Lepton(pipe)
    assert len(lep.plan_.layers) == n_layers
    final = pipe[-1]
    Xt = pipe[:-1].transform(X)
    if hasattr(final, "coefs_"):  # the MLP's pre-softmax scores
        h = Xt
        for w, b in zip(final.coefs_[:-1], final.intercepts_[:-1], strict=True):
            h = np.maximum(h @ w + b, 0)
        want = h @ final.coefs_[-1] + final.intercepts_[-1]
    else:
        want = final.decision_function(Xt).reshape(len(X), -1)
    got = _float_scores(lep, X)
    # float32 weights and activations: a few float32 ulps of the scores' magnitude
    np.testing.assert_allclose(got, want, atol=2e-5 * np.abs(want).max())


def test_nan_is_imputed_only_where_the_pipeline_imputes(fitted):
    X, y = load_wine(return_X_y=True)
    rng = np.random.default_rng(0)
    holes = X.copy()
    holes[rng.random(X.shape) < 0.1] = np.nan
    pipe = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=500))
    pipe.fit(holes, y)
    lep = Lepton(pipe)
    assert np.mean(lep.predict(holes) == pipe.predict(holes)) >= 0.99
    plain = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        Lepton(plain).predict(holes)
    with pytest.raises(ValueError, match="NaN"):
        plain.predict(holes)  # the pipeline's own behaviour, for the record


@pytest.mark.filterwarnings("ignore:Skipping features without any observed values")
def test_imputer_drops_columns_without_values_like_sklearn():
    X, y = load_iris(return_X_y=True)
    X = np.column_stack([X[:, :2], np.full(len(X), np.nan), X[:, 2:]])
    pipe = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression(max_iter=500))
    pipe.fit(X, y)
    assert pipe[0].transform(X).shape[1] == 4  # the empty column is gone
    lep = Lepton(pipe)
    assert lep.n_features_in_ == 5
    np.testing.assert_allclose(
        _float_scores(lep, X), pipe.decision_function(X), atol=1e-4 * np.nanmax(np.abs(X))
    )
    assert np.mean(lep.predict(X) == pipe.predict(X)) >= 0.99


def test_lepton_preprocessor_step_is_its_own_transform():
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    X[::7, 3] = np.nan
    X[::11, 5] = np.inf
    for prep in (Preprocessor(clip_sigma=3.0), Preprocessor(impute=0.5, scale="minmax")):
        pipe = make_pipeline(prep, LogisticRegression(max_iter=2000)).fit(X, y)
        lep = Lepton(pipe)
        np.testing.assert_allclose(lep._features(X), prep.transform(X), rtol=1e-5, atol=1e-5)
        assert np.mean(lep.predict(X) == pipe.predict(X)) >= 0.99


def test_regression_pipeline_keeps_shape_and_dtype():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), PCA(6), Ridge()).fit(X, y)
    got, want = Lepton(pipe).predict(X), pipe.predict(X)
    assert got.shape == want.shape == (len(X),)
    assert got.dtype == want.dtype
    assert np.linalg.norm(got - want) / np.linalg.norm(want) < 0.01


def test_nested_pipelines_and_passthrough_steps():
    X, y = load_iris(return_X_y=True)
    inner = Pipeline([("scale", StandardScaler()), ("skip", "passthrough")])
    pipe = Pipeline(
        [("prep", inner), ("identity", FunctionTransformer()), ("clf", LogisticRegression())]
    ).fit(X, y)
    lep = Lepton(pipe)
    assert np.mean(lep.predict(X) == pipe.predict(X)) >= 0.99


def test_max_abs_scaler_and_sgd_probabilities():
    X, y = load_digits(return_X_y=True)
    for loss in ("log_loss", "modified_huber"):
        pipe = make_pipeline(MaxAbsScaler(), SGDClassifier(loss=loss, random_state=0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X, y)
        lep = Lepton(pipe)
        assert np.mean(lep.predict(X) == pipe.predict(X)) >= 0.99
        assert np.abs(lep.predict_proba(X) - pipe.predict_proba(X)).mean() < 0.01


# --- errors ----------------------------------------------------------------------------------


def _iris():
    return load_iris(return_X_y=True)


def test_unsupported_step_is_named_with_what_is_supported():
    X, y = _iris()
    pipe = make_pipeline(Normalizer(), LogisticRegression()).fit(X, y)
    with pytest.raises(
        TypeError,
        match=r"step 'normalizer' \(Normalizer\) is not supported; supported steps: "
        r"StandardScaler.*then a final .*LogisticRegression",
    ):
        Lepton(pipe)


def test_unsupported_final_model_is_named():
    X, y = _iris()
    pipe = make_pipeline(StandardScaler(), SVC()).fit(X, y)
    with pytest.raises(TypeError, match=r"step 'svc' \(SVC\) is not supported"):
        Lepton(pipe)


def test_per_column_step_after_a_dense_step_is_refused():
    X, y = _iris()
    pipe = make_pipeline(PCA(2), MinMaxScaler(clip=True), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match=r"minmaxscaler: MinMaxScaler\(clip=True\) after a dense"):
        Lepton(pipe)
    holes = make_pipeline(PCA(2), SimpleImputer(), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match="simpleimputer: SimpleImputer after a dense step"):
        Lepton(holes)


def test_imputer_options_the_fused_pass_cannot_express():
    X, y = _iris()
    for imputer, what in (
        (SimpleImputer(missing_values=0.0), "missing_values=0.0"),
        (SimpleImputer(add_indicator=True), "add_indicator=True"),
    ):
        pipe = make_pipeline(imputer, LogisticRegression()).fit(X, y)
        with pytest.raises(TypeError, match=f"simpleimputer: SimpleImputer\\({what}\\)"):
            Lepton(pipe)


def test_int8_preprocessor_output_is_refused():
    X, y = _iris()
    pipe = make_pipeline(Preprocessor(out_dtype=np.int8), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match=r"Preprocessor\(out_dtype=int8\) is not supported"):
        Lepton(pipe)


def test_unfitted_pipeline():
    with pytest.raises(NotFittedError):
        Lepton(make_pipeline(StandardScaler(), LogisticRegression()))


def test_wrong_input_width_names_the_pipelines_width():
    X, y = _iris()
    lep = Lepton(make_pipeline(StandardScaler(), PCA(2), LogisticRegression()).fit(X, y))
    with pytest.raises(ValueError, match="x: expected 4 features"):
        lep.predict(X[:, :3])
