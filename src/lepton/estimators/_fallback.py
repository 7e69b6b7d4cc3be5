"""scikit-learn's own implementation for what lepton does not accelerate.

The drop-in estimators (``lepton.PCA``, ``StandardScaler``, ``MinMaxScaler``, ``SimpleImputer``)
subclass scikit-learn's, and each has a ``fallback_reason(params, X, method=...)`` classmethod:
``None`` when lepton runs the call, else a short reason (sparse input, a solver or strategy
lepton has no kernel for...). :func:`sklearn_fallback` wraps a public method so that such calls
run the scikit-learn base class's method of the same name instead, and says so once per
(estimator, reason) and process on the ``lepton.estimators`` logger at INFO level, never as a
warning or an error. ``lepton.accel`` can ask the same classmethod before patching a call.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse
from sklearn import get_config

from lepton._cuda_arrays import is_cuda
from lepton._dask_input import is_dask_array

__all__ = ["input_reason", "logger", "sklearn_fallback"]

logger = logging.getLogger("lepton.estimators")
_SAID: set[tuple[str, str]] = set()


def _say_once(estimator: str, reason: str) -> None:
    if (estimator, reason) not in _SAID:
        _SAID.add((estimator, reason))
        logger.info("%s: %s; running scikit-learn's implementation", estimator, reason)


def input_reason(X: Any, *, float16: bool = False) -> str | None:
    """Input that only scikit-learn handles: sparse matrices, host arrays of another array-API
    library (torch CPU tensors, array_api_strict...) while scikit-learn's ``array_api_dispatch``
    is on (scikit-learn then computes and answers in that library; off, it converts them to
    numpy, and so does lepton), and with ``float16`` numpy float16 arrays (which scikit-learn
    keeps in float16 where lepton's host kernels read float32/float64)."""
    if scipy.sparse.issparse(X):
        return "sparse input"
    if float16 and isinstance(X, np.ndarray) and X.dtype == np.float16:
        return "float16 input on the host"
    if isinstance(X, np.ndarray) or not get_config().get("array_api_dispatch", False):
        return None
    foreign = hasattr(X, "__array_namespace__") or type(X).__module__.split(".")[0] == "torch"
    if foreign and not is_cuda(X) and not is_dask_array(X):
        return f"{type(X).__module__.split('.')[0]} host array with array_api_dispatch on"
    return None


class _Params:
    """The estimator's parameters read on demand (``get_params()`` introspects the constructor
    on every call, too slow for a check on every transform); ``fallback_reason`` takes this or
    a ``get_params()`` dict alike."""

    __slots__ = ("_est",)

    def __init__(self, est: Any) -> None:
        self._est = est

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self._est, name, default)


def sklearn_fallback(method: Callable) -> Callable:
    """Run the scikit-learn base class's method of this name when the estimator's
    ``fallback_reason(params, X, method=..., **arguments)`` names a reason for this call (the
    wrapped method otherwise). ``arguments`` are the call's other arguments by name
    (``sample_weight``...), however they were passed."""
    name = method.__name__
    signature = inspect.signature(method)

    @functools.wraps(method)
    def run(self: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
        others = {}
        if args or kwargs:
            arguments = signature.bind(self, X, *args, **kwargs).arguments
            others = {k: v for k, v in list(arguments.items())[2:] if k != "y"}
        reason = type(self).fallback_reason(_Params(self), X, method=name, **others)
        if reason is None:
            return method(self, X, *args, **kwargs)
        base = getattr(self._sklearn_class, name, None)
        if base is None:
            msg = f"{name}: {reason} is not supported by lepton, and scikit-learn has no {name}"
            raise TypeError(msg)
        _say_once(type(self).__name__, reason)
        result = base(self, X, *args, **kwargs)
        self._after_sklearn(name)
        return result

    return run
