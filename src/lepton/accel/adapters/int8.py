"""``--int8``: MLP / linear-model ``predict`` through ``lepton.Lepton(model)`` (int8 inference).

Opt-in only: int8 changes results. Every int8 call also runs the float model's own ``predict``
on the same rows (outside the int8 call's measured window), so the report always carries the
agreement: the fraction of rows with the float model's label for classifiers, the largest
error relative to the largest float prediction for regressors.

The quantized model is made once per fitted model and kept while its weights stay the same (a
checksum of the weight bytes, so a refit or a ``partial_fit`` is seen).
"""

from __future__ import annotations

import threading
import weakref
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from lepton.accel._agreement import Agreement, array_agreement, label_agreement
from lepton.accel.adapters.base import Call, Implementation, validated
from lepton.inference import Lepton

_WEIGHTS = ("coefs_", "intercepts_", "coef_", "intercept_", "classes_")
_cache: weakref.WeakKeyDictionary[Any, tuple[int, Any]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _weights_checksum(est: Any) -> int:
    crc = 0
    for name in _WEIGHTS:
        value = getattr(est, name, None)
        arrays = value if isinstance(value, list) else [value]
        for a in arrays:
            if a is None:
                continue
            a = np.ascontiguousarray(a)
            crc = zlib.crc32(f"{name}{a.dtype}{a.shape}".encode(), crc)
            if a.dtype != object:
                crc = zlib.crc32(memoryview(a).cast("B"), crc)
            else:
                crc = zlib.crc32(repr(a.tolist()).encode(), crc)
    return crc


def quantized(est: Any) -> Any:
    """``lepton.Lepton(est)``, made once per set of weights (TypeError if not supported)."""
    checksum = _weights_checksum(est)
    with _cache_lock:
        hit = _cache.get(est)
    if hit is not None and hit[0] == checksum:
        return hit[1]
    model = Lepton(est)
    with _cache_lock:
        _cache[est] = (checksum, model)
    return model


@dataclass(frozen=True)
class Int8PredictImpl(Implementation):
    ran_on: str = "lepton-int8"
    always_compare: bool = True

    def unsupported(self, est: Any, call: Call) -> str | None:
        return None

    def run(self, est: Any, call: Call) -> Any:
        check_is_fitted(est)
        arr = validated(est, call.X, reset=False)
        return quantized(est).predict(arr)

    def agreement(self, est: Any, twin: Any, call: Call, ours: Any, theirs: Any) -> Agreement:
        if is_classifier(est):
            share = label_agreement(ours, theirs)
            return Agreement({"labels": share}, None, "share of rows with the float model's label")
        err, _ = array_agreement(ours, theirs, {})
        return Agreement({"output": err}, None, "max |int8 − float| / max |float|")


INT8_PREDICT = Int8PredictImpl()

__all__ = ["INT8_PREDICT", "quantized"]
