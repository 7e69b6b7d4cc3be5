"""What the last layer's outputs mean: the model's own prediction methods.

A head receives the last layer's pre-activation scores ``z`` (M, N_out) and maps them the way
the float model does. The output activation (softmax, logistic) is applied here rather than
fused into the GEMM: ``predict`` and ``decision_function`` need only the scores (argmax and
thresholds are unchanged by a monotone activation), and the N_out columns are few.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from lepton.inference.arrays import to_host
from lepton.inference.layers import sigmoid

CLASSIFIER_OUTPUTS = ("logistic", "softmax", "ovr", "multilabel")


def take_labels(classes: np.ndarray, index: Any, xp: ModuleType) -> Any:
    """``classes[index]``: numeric labels stay on the input's device; strings and objects exist
    only in numpy, so those come back as numpy arrays."""
    if xp is not np and np.issubdtype(classes.dtype, np.number):
        return xp.asarray(classes)[index]
    return classes[to_host(index)]


def softmax(z: Any, xp: ModuleType) -> Any:
    e = xp.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


@dataclass(frozen=True)
class ClassifierHead:
    """Class scores → labels and probabilities.

    ``output``: ``logistic`` (binary, one score column), ``softmax`` (multinomial), ``ovr``
    (one-vs-rest sigmoids normalised per row, as sklearn's ovr LogisticRegression) or
    ``multilabel`` (independent sigmoids, MLPClassifier on an indicator matrix).
    """

    classes: np.ndarray
    output: str
    has_decision_function: bool

    @property
    def methods(self) -> tuple[str, ...]:
        extra = ("decision_function",) if self.has_decision_function else ()
        return ("predict", "predict_proba", *extra)

    @property
    def is_classifier(self) -> bool:
        return True

    def predict(self, z: Any, xp: ModuleType) -> Any:
        if self.output == "multilabel":
            return (z > 0).astype(np.int64)
        index = (z[:, 0] > 0).astype(np.int64) if self.output == "logistic" else z.argmax(axis=1)
        return take_labels(self.classes, index, xp)

    def predict_proba(self, z: Any, xp: ModuleType) -> Any:
        if self.output == "softmax":
            return softmax(z, xp)
        p = sigmoid(z, xp)
        if self.output == "logistic":
            return xp.concatenate([1.0 - p, p], axis=1)
        if self.output == "ovr":
            p /= p.sum(axis=1, keepdims=True)
        return p

    def decision_function(self, z: Any, xp: ModuleType) -> Any:
        return z[:, 0].copy() if self.output == "logistic" else z


@dataclass(frozen=True)
class RegressorHead:
    """Scores are the prediction; one target is returned 1-D, as sklearn does."""

    ravel: bool

    methods = ("predict",)
    is_classifier = False

    def predict(self, z: Any, xp: ModuleType) -> Any:
        return z.ravel() if self.ravel else z


@dataclass(frozen=True)
class RawHead:
    """torch and raw layer lists: ``predict`` is the network's output (its last activation is
    part of the last layer, fused or applied by the layer chain)."""

    methods = ("predict",)
    is_classifier = False

    def predict(self, z: Any, xp: ModuleType) -> Any:
        return z


Head = ClassifierHead | RegressorHead | RawHead
