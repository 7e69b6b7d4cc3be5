"""The mini-batch gradient-descent logistic regression."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split

from lepton import Preprocessor
from lepton.pipeline import LogisticGD


def test_within_one_point_of_sklearn_on_breast_cancer():
    """Five-fold accuracy, both models fitted on the same rows after the same preprocessing
    (the pipeline's Preprocessor); GD holds out a fifth of them for early stopping. sklearn's
    C = 1 is l2 = 1 / n_rows for a mean loss."""
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    ours, theirs = [], []
    for fold, (train, test) in enumerate(
        StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
    ):
        fit_rows, val_rows = train_test_split(
            train, test_size=0.2, random_state=fold, stratify=y[train]
        )
        prep = Preprocessor(impute="mean", clip_sigma=None, scale="standard").fit(X[fit_rows])
        X_fit, X_val, X_test = (prep.transform(X[rows]) for rows in (fit_rows, val_rows, test))
        reference = LogisticRegression(max_iter=5000).fit(X_fit, y[fit_rows])
        model = LogisticGD(l2=1 / len(fit_rows), seed=fold)
        model.fit(X_fit, y[fit_rows], validation=(X_val, y[val_rows]))
        theirs.append(np.mean(reference.predict(X_test) == y[test]))
        ours.append(np.mean(model.predict(X_test) == y[test]))
    assert np.mean(theirs) > 0.95
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.01


def test_multiclass_softmax_on_digits():
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    model = LogisticGD(learning_rate=0.1, l2=1e-4).fit(X_tr, y_tr)
    assert model.coef_.shape == (64, 10)
    assert np.mean(model.predict(X_te) == y_te) > 0.93
    proba = model.predict_proba(X_te)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), model.predict(X_te))
    assert model.decision_function(X_te).shape == (len(y_te), 10)


def test_early_stopping_restores_the_best_epoch():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.standard_normal(400) > 0).astype(int)
    model = LogisticGD(learning_rate=0.5, max_epochs=500, patience=3).fit(X, y)
    assert model.n_epochs_ < 500  # it stopped
    assert model.n_epochs_ - model.best_epoch_ == 3
    assert model.best_loss_ == pytest.approx(min(model.history_))
    scores = X[:5] @ model.coef_[:, 0] + model.intercept_[0]
    np.testing.assert_allclose(model.decision_function(X[:5]), scores, rtol=1e-5)


def test_labels_keep_their_values_and_training_is_float32():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    y = np.where(X[:, 1] > 0, "yes", "no")
    model = LogisticGD(learning_rate=0.2).fit(X, y)
    assert model.coef_.dtype == np.float32
    assert set(model.predict(X)) <= {"yes", "no"}
    assert np.mean(model.predict(X) == y) > 0.95
    assert model.predict_proba(X).shape == (200, 2)


def test_same_seed_same_model():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 4)).astype(np.float32)
    y = (X.sum(axis=1) > 0).astype(int)
    a = LogisticGD(seed=5).fit(X, y)
    b = LogisticGD(seed=5).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"learning_rate": 0}, "learning_rate: expected a number > 0"),
        ({"l2": -1.0}, "l2: expected a number >= 0"),
        ({"momentum": 1.0}, r"momentum: expected a number in \[0, 1\)"),
        ({"batch_size": 0}, "batch_size: expected an int >= 1"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"decay": -0.1}, "decay: expected a number >= 0"),
    ],
)
def test_bad_parameters(params, match):
    X = np.zeros((10, 2), np.float32)
    with pytest.raises(ValueError, match=match):
        LogisticGD(**params).fit(X, np.arange(10) % 2)


def test_bad_data():
    X = np.ones((10, 2), np.float32)
    with pytest.raises(ValueError, match="y: expected 10 labels"):
        LogisticGD().fit(X, np.zeros(9))
    with pytest.raises(ValueError, match="at least two classes"):
        LogisticGD().fit(X, np.zeros(10))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        LogisticGD().fit(X, np.arange(10) % 2)
    with pytest.raises(ValueError, match="2-D"):
        LogisticGD().fit(np.ones(10), np.arange(10) % 2)


def test_diverging_learning_rate_is_reported():
    rng = np.random.default_rng(3)
    X = (rng.standard_normal((200, 3)) * 1e4).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match="diverge"):
        LogisticGD(learning_rate=1e6, momentum=0.0).fit(X, y)


def test_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LogisticGD().predict(np.ones((2, 2), np.float32))
