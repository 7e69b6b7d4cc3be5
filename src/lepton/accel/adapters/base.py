"""What an implementation in the table provides, and the checks every implementation shares.

An implementation answers two questions per call of a patched method:

* ``unsupported(est, call)`` — from the parameters and the kind of input, before any pass over
  the data: a one-line reason why lepton does not run this call, or None;
* ``run(est, call)`` — runs it on lepton, leaving ``est`` exactly as scikit-learn's method would
  (the same fitted attributes, names and dtypes), or raises :class:`Unsupported` with the reason
  when the data itself rules lepton out (an empty column, ±inf). ``run`` must not change ``est``
  or write into the caller's array before it is sure to finish.

``compared_attributes``, ``tolerances`` and ``agreement`` say how a ``--compare`` run of
scikit-learn's own method is set against lepton's result: the fitted attributes compared beside
the output, and the tolerance of each dtype (normwise: max |lepton − sklearn| / max |sklearn|).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse
import sklearn
from sklearn.utils.validation import validate_data

from lepton._cuda_arrays import is_cuda
from lepton.accel._agreement import Agreement, array_agreement

# Methods that fit: their twin in a --compare run is a fresh scikit-learn estimator.
FITTING = frozenset({"fit", "fit_transform", "partial_fit"})
FLOATS = (np.float64, np.float32)


class Unsupported(Exception):
    """lepton does not run this call; the message is the reason, shown in the report."""


@dataclass(frozen=True)
class Call:
    """One call of a patched method: its name, its bound arguments (``self`` left out) and the
    ``**kwargs`` part (fit_params / routed metadata) on its own."""

    method: str
    arguments: Mapping[str, Any]
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def X(self) -> Any:
        return self.arguments.get("X")

    def get(self, name: str, default: Any = None) -> Any:
        """A named argument, or one passed through ``**kwargs``."""
        if name in self.arguments:
            return self.arguments[name]
        return self.kwargs.get(name, default)


AGREEMENT_METRIC = "max |lepton − sklearn| / max |sklearn|"


@dataclass(frozen=True)
class Implementation:
    """Base of the table's implementations; subclasses override what they need."""

    # Fitted attributes a --compare run sets side by side (beyond the method's output).
    compared_attributes: tuple[str, ...] = ()
    ran_on: str = "lepton"
    # True: every call also runs scikit-learn's method, so its agreement is always reported.
    always_compare: bool = False
    tolerances: Mapping[str, float] = field(
        default_factory=lambda: {"float32": 1e-4, "float64": 1e-9}
    )

    def unsupported(self, est: Any, call: Call) -> str | None:
        return f"{call.method}: no lepton path"

    def run(self, est: Any, call: Call) -> Any:
        msg = f"{call.method}: no lepton path"
        raise Unsupported(msg)

    def writes_input(self, est: Any, call: Call) -> bool:
        """Whether ``run`` may write into X (a --compare run then gives scikit-learn a copy)."""
        return False

    def attribute_scale(self, est: Any, twin: Any, name: str) -> float | None:
        """What a fitted attribute's error is measured against (None: its own largest value)."""
        return None

    def agreement(self, est: Any, twin: Any, call: Call, ours: Any, theirs: Any) -> Agreement:
        """lepton's result against scikit-learn's, for a --compare run."""
        return joined(self.compared_parts(est, twin, call, ours, theirs))

    def compared_parts(
        self, est: Any, twin: Any, call: Call, ours: Any, theirs: Any
    ) -> dict[str, tuple[float, bool]]:
        """Per compared value (the output, then each fitted attribute): (error, within
        tolerance), for :meth:`agreement` to join or a subclass to amend."""
        parts: dict[str, tuple[float, bool]] = {}
        if call.method != "fit" and isinstance(theirs, np.ndarray):
            parts["output"] = array_agreement(ours, theirs, self.tolerances)
        if call.method in FITTING:
            for name in self.compared_attributes:
                mine, other = getattr(est, name, None), getattr(twin, name, None)
                if mine is None and other is None:
                    continue
                scale = self.attribute_scale(est, twin, name)
                parts[name] = array_agreement(mine, other, self.tolerances, scale=scale)
        return parts


def joined(parts: dict[str, tuple[float, bool]]) -> Agreement:
    """One Agreement of per-value (error, within tolerance) parts: within if every part is."""
    values = {name: err for name, (err, _) in parts.items()}
    return Agreement(values, all(good for _, good in parts.values()), AGREEMENT_METRIC)


def common_reason(est: Any, X: Any) -> str | None:
    """Reasons that hold for every implementation: the kind of input, callbacks, array API."""
    if scipy.sparse.issparse(X):
        return "sparse input: lepton's kernels read dense arrays"
    if is_cuda(X):
        return "device (CUDA) array: scikit-learn's own handling applies"
    # scikit-learn ≥ 1.9 callbacks: the estimator's own, or its meta-estimator's (whose task
    # tree the estimator's fit joins). A context without callbacks observes nothing.
    parent = getattr(est, "_parent_callback_ctx", None)
    if getattr(est, "_skl_callbacks", None) or getattr(parent, "_callbacks", None):
        return "scikit-learn fit callbacks are set on this estimator"
    if sklearn.get_config().get("array_api_dispatch", False):
        return "array_api_dispatch is on: scikit-learn's array-API path applies"
    return None


def validated(est: Any, X: Any, *, reset: bool) -> np.ndarray:
    """X checked and converted to float32/float64 as scikit-learn's own method does, without its
    finiteness pass (lepton's kernels report NaN/inf from their own pass).

    scikit-learn's ``validate_data`` on the scikit-learn estimator itself: it sets (``reset``) or
    checks ``n_features_in_`` and ``feature_names_in_`` with scikit-learn's own messages and
    warnings. Anything but float32/float64 after conversion is Unsupported.
    """
    arr = validate_data(est, X, reset=reset, dtype=list(FLOATS), ensure_all_finite=False)
    if arr.dtype not in FLOATS:
        msg = f"{arr.dtype} data: lepton's kernels take float32 or float64"
        raise Unsupported(msg)
    return arr


def set_fitted(est: Any, attributes: Mapping[str, Any]) -> None:
    """Set the fitted attributes all at once, after everything that could fail has run."""
    for name, value in attributes.items():
        setattr(est, name, value)
