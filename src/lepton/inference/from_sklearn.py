"""Fitted scikit-learn models as dense layers plus the head that reproduces their outputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton.inference.heads import ClassifierHead, Head, RegressorHead
from lepton.inference.layers import Layer, activation_name, check_chain, make_layer

SUPPORTED = (
    "MLPClassifier",
    "MLPRegressor",
    "LogisticRegression",
    "LinearRegression",
    "Ridge",
)


def is_sklearn_model(model: Any) -> bool:
    return type(model).__module__.split(".")[0] == "sklearn"


def convert(model: Any) -> tuple[list[Layer], Head] | None:
    """Layers and head for a supported fitted model; None when the type is not supported."""
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.utils.validation import check_is_fitted

    kinds = (MLPClassifier, MLPRegressor, LogisticRegression, LinearRegression, Ridge)
    if not isinstance(model, kinds):
        return None
    check_is_fitted(model)  # NotFittedError (a ValueError) names the model
    if isinstance(model, MLPClassifier):
        return _mlp_layers(model), _mlp_classifier_head(model)
    if isinstance(model, MLPRegressor):
        return _mlp_layers(model), RegressorHead(ravel=model.n_outputs_ == 1)
    if isinstance(model, LogisticRegression):
        return [_linear_layer(model)], _logistic_head(model)
    return [_linear_layer(model)], RegressorHead(ravel=np.ndim(model.coef_) == 1)


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
