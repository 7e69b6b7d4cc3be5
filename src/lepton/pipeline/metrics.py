"""Evaluation: accuracy, precision, recall, F1 and ROC-AUC (scikit-learn's metrics, on the host)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton.inference.arrays import namespace, to_host

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


def evaluate(model: Any, X: Any, y: Any) -> dict[str, float]:
    """Scores of a fitted classifier with ``predict`` and ``predict_proba`` on (X, y).

    Two classes: precision/recall/F1 of the second class and ROC-AUC of its probability;
    more classes: macro averages and one-vs-rest ROC-AUC.
    """
    from sklearn import metrics

    y_true = np.asarray(to_host(y) if namespace(y) is not np else y)
    y_pred = np.asarray(to_host(model.predict(X)))
    proba = np.asarray(to_host(model.predict_proba(X)), dtype=np.float64)
    binary = proba.shape[1] == 2
    average = "binary" if binary else "macro"
    pos = {"pos_label": model.classes_[1]} if binary else {}
    scores = {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "precision": metrics.precision_score(
            y_true, y_pred, average=average, zero_division=0, **pos
        ),
        "recall": metrics.recall_score(y_true, y_pred, average=average, zero_division=0, **pos),
        "f1": metrics.f1_score(y_true, y_pred, average=average, zero_division=0, **pos),
        "roc_auc": _roc_auc(metrics, y_true, proba, model.classes_),
    }
    return {name: float(value) for name, value in scores.items()}


def _roc_auc(metrics: Any, y_true: np.ndarray, proba: np.ndarray, classes: Any) -> float:
    present = np.unique(y_true)
    if present.size < 2:  # undefined on one class: say so with NaN rather than fail the run
        return float("nan")
    if proba.shape[1] == 2:
        return metrics.roc_auc_score(y_true == classes[1], proba[:, 1])
    if present.size < proba.shape[1]:  # a class missing from this split: score the ones present
        columns = np.searchsorted(np.asarray(classes), present)
        proba = proba[:, columns] / proba[:, columns].sum(axis=1, keepdims=True)
        return metrics.roc_auc_score(y_true, proba, multi_class="ovr", labels=present)
    return metrics.roc_auc_score(y_true, proba, multi_class="ovr", labels=np.asarray(classes))
