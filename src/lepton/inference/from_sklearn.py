"""Fitted scikit-learn models as dense layers plus the head that reproduces their outputs.

Linear models all predict ``x @ coef_.T + intercept_``; they differ only in the head: labels by
sign or argmax, and probabilities where the model has them (sigmoid / softmax for logistic
losses, SGDClassifier's modified-Huber rule). ``Pipeline`` models are taken apart in
``from_pipeline``, which hands their last step back here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton.inference.heads import ClassifierHead, Head, RegressorHead
from lepton.inference.layers import Layer, activation_name, check_chain, make_layer

MLPS = ("MLPClassifier", "MLPRegressor")
LOGISTIC = ("LogisticRegression", "LogisticRegressionCV")
# Linear classifiers whose predict is sign / argmax of the scores and that have no
# predict_proba of their own (SGDClassifier has one for two of its losses: see _sgd_output).
LINEAR_CLASSIFIERS = (
    "RidgeClassifier",
    "RidgeClassifierCV",
    "LinearSVC",
    "SGDClassifier",
    "Perceptron",
)
LINEAR_REGRESSORS = (
    "LinearRegression",
    "Ridge",
    "RidgeCV",
    "Lasso",
    "LassoCV",
    "ElasticNet",
    "ElasticNetCV",
    "Lars",
    "LassoLars",
    "OrthogonalMatchingPursuit",
    "BayesianRidge",
    "ARDRegression",
    "HuberRegressor",
    "QuantileRegressor",
    "TheilSenRegressor",
    "SGDRegressor",
    "LinearSVR",
)
SUPPORTED = (*MLPS, *LOGISTIC, *LINEAR_CLASSIFIERS, *LINEAR_REGRESSORS)


def is_sklearn_model(model: Any) -> bool:
    return type(model).__module__.split(".")[0] == "sklearn"


def convert(model: Any) -> tuple[list[Layer], Head] | None:
    """Layers and head for a supported fitted model; None when the type is not supported.

    Types are recognised by class name within scikit-learn (the classes above live in several
    modules whose paths change between releases).
    """
    from sklearn.utils.validation import check_is_fitted

    name = type(model).__name__
    if not is_sklearn_model(model) or name not in SUPPORTED:
        return None
    check_is_fitted(model)  # NotFittedError (a ValueError) names the model
    if name == "MLPClassifier":
        return _mlp_layers(model), _mlp_classifier_head(model)
    if name == "MLPRegressor":
        return _mlp_layers(model), RegressorHead(ravel=model.n_outputs_ == 1)
    if name in LOGISTIC:
        return [_linear_layer(model)], _logistic_head(model)
    if name in LINEAR_CLASSIFIERS:
        return [_linear_layer(model)], _linear_classifier_head(model)
    return [_linear_layer(model)], RegressorHead(ravel=np.ndim(model.coef_) == 1)


def first_layer_float64(model: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """The first layer's (N, K) weights and bias in the model's own float64 (for folding the
    steps before it without rounding twice)."""
    if type(model).__name__ in MLPS:
        return (
            np.asarray(model.coefs_[0], dtype=np.float64).T,
            np.asarray(model.intercepts_[0], dtype=np.float64),
        )
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
    intercept = np.broadcast_to(np.asarray(model.intercept_, dtype=np.float64), coef.shape[:1])
    return coef, intercept


def _mlp_layers(model: Any) -> list[Layer]:
    hidden = activation_name(model.activation, "model.activation")
    last = len(model.coefs_) - 1
    layers = [
        # sklearn stores (K, N); the GEMM wants one row per output channel.
        make_layer(w.T, b, None if i == last else hidden, name=f"model.coefs_[{i}]")
        for i, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True))
    ]
    check_chain(layers)
    return layers


def _mlp_classifier_head(model: Any) -> ClassifierHead:
    if model.out_activation_ == "softmax":
        output = "softmax"
    elif model.out_activation_ == "logistic":
        # One logistic output is a binary problem; several are independent labels.
        output = "logistic" if model.n_outputs_ == 1 else "multilabel"
    else:
        msg = (
            f"model: MLPClassifier with out_activation_={model.out_activation_!r} is not supported"
        )
        raise TypeError(msg)
    return ClassifierHead(np.asarray(model.classes_), output, has_decision_function=False)


def _linear_layer(model: Any) -> Layer:
    coef = np.atleast_2d(np.asarray(model.coef_))
    intercept = np.broadcast_to(np.asarray(model.intercept_, dtype=np.float64), coef.shape[:1])
    return make_layer(coef, intercept, None, name="model.coef_")


def _logistic_head(model: Any) -> ClassifierHead:
    classes = np.asarray(model.classes_)
    if classes.size <= 2:
        return ClassifierHead(classes, "logistic", has_decision_function=True)
    return ClassifierHead(classes, "ovr" if _is_ovr(model) else "softmax", True)


def _is_ovr(model: Any) -> bool:
    """sklearn < 1.7 could fit one-vs-rest inside LogisticRegression (``multi_class``)."""
    multi_class = getattr(model, "multi_class", "multinomial")
    if multi_class == "ovr":
        return True
    return multi_class in ("auto", "deprecated", "warn") and model.solver == "liblinear"


def _linear_classifier_head(model: Any) -> ClassifierHead:
    binarizer = getattr(model, "_label_binarizer", None)
    if binarizer is not None and str(getattr(binarizer, "y_type_", "")).startswith("multilabel"):
        msg = f"model: {type(model).__name__} fitted on multilabel targets is not supported"
        raise TypeError(msg)
    classes = np.asarray(model.classes_)
    output = _sgd_output(model) if type(model).__name__ == "SGDClassifier" else None
    # Without probabilities only the labels rule matters: sign (binary) or argmax, which the
    # head derives from the number of score columns whatever the output name.
    return ClassifierHead(
        classes,
        output or "ovr",
        has_decision_function=True,
        has_predict_proba=output is not None,
    )


def _sgd_output(model: Any) -> str | None:
    """SGDClassifier's probability rule: sklearn's one-vs-rest sigmoid for ``log_loss``, its
    clipped-linear rule for ``modified_huber``, none for the other losses."""
    return {"log_loss": "ovr", "modified_huber": "modified_huber"}.get(model.loss)
