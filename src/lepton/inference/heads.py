"""What the last layer's outputs mean: the model's own prediction methods.

A head receives the last layer's pre-activation scores ``z`` (M, N_out) and maps them the way
the float model does. The output activation (softmax, logistic) is applied here rather than
fused into the GEMM: ``predict`` and ``decision_function`` need only the scores (argmax and
thresholds are unchanged by a monotone activation), and the N_out columns are few.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from lepton.inference.arrays import to_host
from lepton.inference.layers import sigmoid

CLASSIFIER_OUTPUTS = ("logistic", "softmax", "ovr", "multilabel", "modified_huber")


def numeric_labels(classes: np.ndarray) -> bool:
    """Whether labels can live on a device (strings and objects exist only in numpy)."""
    return bool(np.issubdtype(classes.dtype, np.number) or classes.dtype == np.bool_)


def take_labels(classes: np.ndarray, index: Any, xp: ModuleType, device_classes: Any = None) -> Any:
    """``classes[index]``: numeric labels stay on the input's device (``device_classes``: the
    labels already there, so that no host-to-device copy happens per call); strings and objects
    exist only in numpy, so those come back as numpy arrays."""
    if xp is not np and numeric_labels(classes):
        return (xp.asarray(classes) if device_classes is None else device_classes)[index]
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
    ``multilabel`` (independent sigmoids, MLPClassifier on an indicator matrix) or
    ``modified_huber`` (SGDClassifier's ``(clip(z, -1, 1) + 1) / 2``, normalised per row).
    A binary problem has one score column: ``z > 0`` is the second class. Linear classifiers
    without probabilities (RidgeClassifier, LinearSVC, ...) have ``has_predict_proba=False``.
    """

    classes: np.ndarray
    output: str
    has_decision_function: bool
    has_predict_proba: bool = True
    # Labels copied to each device once ({device id: array}), so predict copies nothing per call
    # and can be captured in a CUDA graph (a host-to-device copy cannot be).
    _on_device: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def methods(self) -> tuple[str, ...]:
        proba = ("predict_proba",) if self.has_predict_proba else ()
        extra = ("decision_function",) if self.has_decision_function else ()
        return ("predict", *proba, *extra)

    @property
    def is_classifier(self) -> bool:
        return True

    def runs_on_device(self, method: str) -> bool:
        """Whether ``method`` computes on the input's device with no host transfer (what a CUDA
        graph can capture): everything but string/object labels."""
        return method != "predict" or self.output == "multilabel" or numeric_labels(self.classes)

    def predict(self, z: Any, xp: ModuleType) -> Any:
        if self.output == "multilabel":
            return (z > 0).astype(np.int64)
        binary = z.shape[1] == 1
        index = (z[:, 0] > 0).astype(np.int64) if binary else z.argmax(axis=1)
        return take_labels(self.classes, index, xp, self._device_classes(index, xp))

    def _device_classes(self, index: Any, xp: ModuleType) -> Any:
        if xp is np or not numeric_labels(self.classes):
            return None
        device = int(index.device.id)
        cached = self._on_device.get(device)
        if cached is None:
            cached = self._on_device[device] = xp.asarray(self.classes)
        return cached

    def predict_proba(self, z: Any, xp: ModuleType) -> Any:
        if self.output == "softmax":
            return softmax(z, xp)
        if self.output == "modified_huber":
            p = (xp.clip(z, -1.0, 1.0) + 1.0) / 2.0
        else:
            p = sigmoid(z, xp)
        if z.shape[1] == 1 and self.output != "multilabel":
            return xp.concatenate([1.0 - p, p], axis=1)
        if self.output == "modified_huber":
            total = p.sum(axis=1, keepdims=True)
            # sklearn: a row whose clipped scores are all -1 gets equal probabilities
            return xp.where(total == 0, 1.0 / p.shape[1], p / xp.where(total == 0, 1.0, total))
        if self.output == "ovr":
            p /= p.sum(axis=1, keepdims=True)
        return p

    def decision_function(self, z: Any, xp: ModuleType) -> Any:
        return z[:, 0].copy() if z.shape[1] == 1 and self.output != "multilabel" else z


@dataclass(frozen=True)
class RegressorHead:
    """Scores are the prediction; one target is returned 1-D, as sklearn does."""

    ravel: bool

    methods = ("predict",)
    is_classifier = False

    def runs_on_device(self, method: str) -> bool:
        return True

    def predict(self, z: Any, xp: ModuleType) -> Any:
        return z.ravel() if self.ravel else z


@dataclass(frozen=True)
class RawHead:
    """torch and raw layer lists: ``predict`` is the network's output (its last activation is
    part of the last layer, fused or applied by the layer chain)."""

    methods = ("predict",)
    is_classifier = False

    def runs_on_device(self, method: str) -> bool:
        return True

    def predict(self, z: Any, xp: ModuleType) -> Any:
        return z


Head = ClassifierHead | RegressorHead | RawHead
