"""A table row for a lepton estimator that already has scikit-learn's signature (a drop-in).

``DropIn("lepton.estimators:StandardScaler", fitted=(...))`` builds the drop-in with the
scikit-learn estimator's parameters, runs the method on it, and copies ``fitted`` — the names of
the attributes scikit-learn's own ``fit`` sets, private ones included — onto the scikit-learn
estimator, so that everything scikit-learn does with a fitted estimator (its other methods,
pickling, cloning) sees scikit-learn's state and nothing of lepton's. A method that does not fit
(``transform``) runs on a drop-in given the estimator's fitted attributes, whoever fitted them.

If the drop-in class has a classmethod ``fallback_reason(params, X, method=..., **arguments)``
(the convention of lepton's drop-in estimators; ``arguments``: the call's other arguments by
name, ``sample_weight``...) it decides, before the call, which calls lepton takes — the reason
goes to the report and scikit-learn's own method runs; without one, every call is handed to the
drop-in. A ``partial_fit`` that continues a fitted estimator is scikit-learn's: the statistics
lepton merges batches with are the drop-in's own, never kept on scikit-learn's estimator.

The drop-ins are the one implementation of what lepton accelerates: :data:`PCA`,
:data:`STANDARD_SCALER`, :data:`MINMAX_SCALER` and :data:`SIMPLE_IMPUTER` are the table's rows.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton.accel._agreement import Agreement, array_agreement
from lepton.accel.adapters.base import FITTING, Call, Implementation, joined, set_fitted

_CONTINUED = (
    "partial_fit of a fitted estimator: scikit-learn's running statistics continue it "
    "(lepton's mergeable statistics live in its drop-in, not on scikit-learn's estimator)"
)
# PCA.transform on the host is one BLAS product either way (lepton's is scikit-learn's
# x·Cᵀ − mean·Cᵀ unless the mean would cancel, when it centres X first: more accurate, slower),
# so accel leaves it to scikit-learn — and with it scikit-learn's result dtype for mixed
# float32/float64 input, which lepton's (X's dtype) does not follow.
_HOST_PROJECTION = (
    "PCA.transform on the host: one BLAS product either way; scikit-learn's keeps its own "
    "result dtype"
)


@dataclass(frozen=True)
class DropIn(Implementation):
    target: str = ""  # "package.module:ClassName" of the drop-in
    fitted: tuple[str, ...] = ()

    def drop_in(self) -> type:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def unsupported(self, est: Any, call: Call) -> str | None:
        if call.method == "partial_fit" and any(n in vars(est) for n in self.fitted):
            return _CONTINUED
        check = getattr(self.drop_in(), "fallback_reason", None)
        if check is None:
            return None
        others = {k: v for k, v in call.arguments.items() if k not in ("X", "y")}
        return check(est.get_params(deep=False), call.X, method=call.method, **others,
                     **call.kwargs)  # fmt: skip

    def writes_input(self, est: Any, call: Call) -> bool:
        # copy=False (the estimator's or the call's): the drop-in may write into X where
        # scikit-learn would, so a --compare run gives scikit-learn a copy.
        copy = call.get("copy")
        return (getattr(est, "copy", True) if copy is None else copy) is False

    def run(self, est: Any, call: Call) -> Any:
        model = self.drop_in()(**est.get_params(deep=False))
        if call.method not in FITTING:
            set_fitted(model, {n: getattr(est, n) for n in self.fitted if hasattr(est, n)})
        extra = {k: v for k, v in call.arguments.items() if k != "X"}
        result = getattr(model, call.method)(call.X, **extra, **call.kwargs)
        if call.method in FITTING:
            set_fitted(est, {n: getattr(model, n) for n in self.fitted if hasattr(model, n)})
            for name in self.fitted:  # e.g. feature_names_in_ after a refit on a plain array
                if not hasattr(model, name) and name in vars(est):
                    delattr(est, name)
        return est if result is model else result


@dataclass(frozen=True)
class PCADropIn(DropIn):
    """PCA's comparison with scikit-learn: components up to sign-free round-off where their
    eigenvalues are distinct, singular values through their squares, the mean against the
    data's spread."""

    def unsupported(self, est: Any, call: Call) -> str | None:
        if call.method == "transform":  # (device arrays never reach here: common_reason)
            return _HOST_PROJECTION
        return super().unsupported(est, call)

    def agreement(self, est: Any, twin: Any, call: Call, ours: Any, theirs: Any) -> Agreement:
        parts = self.compared_parts(est, twin, call, ours, theirs)
        if "components_" not in parts:
            return joined(parts)
        tol = self.tolerances.get(np.asarray(twin.components_).dtype.name, 0.0)
        # singular_values_ = sqrt(λ·(n−1)): the square root magnifies the round-off of
        # eigenvalues near zero; compare their squares (the variances, linear in the data).
        parts["singular_values_"] = array_agreement(
            np.square(est.singular_values_, dtype=np.float64),
            np.square(twin.singular_values_, dtype=np.float64),
            {"float64": tol},
        )
        # A component whose eigenvalue lies within √tol·λ₁ of a neighbour's is not unique to
        # that precision (any rotation within the shared eigenspace is as good): leave it out,
        # and with it the output's comparison.
        lam = np.asarray(twin.explained_variance_, dtype=np.float64)
        unique = _separated(lam, np.sqrt(tol) * float(np.max(lam, initial=0.0)))
        parts["components_"] = array_agreement(
            np.asarray(est.components_)[unique], np.asarray(twin.components_)[unique],
            self.tolerances,
        )  # fmt: skip
        if "output" in parts and not unique.all():
            parts["output"] = (parts["output"][0], True)
        parts["components_not_unique"] = (float(np.count_nonzero(~unique)), True)
        return joined(parts)

    def attribute_scale(self, est: Any, twin: Any, name: str) -> float | None:
        # The mean of centred (standardised) data is ~1e-17: its error is set against the
        # spread of the data (the largest component's standard deviation), not against itself.
        if name == "mean_" and hasattr(twin, "explained_variance_"):
            return float(np.sqrt(np.max(twin.explained_variance_, initial=0.0)))
        return None


def _separated(lam: np.ndarray, gap: float) -> np.ndarray:
    """Which eigenvalues are at least ``gap`` away from both neighbours (descending order)."""
    if lam.size < 2:
        return np.ones(lam.size, dtype=bool)
    d = np.abs(np.diff(lam))
    left = np.concatenate([[np.inf], d])
    right = np.concatenate([d, [np.inf]])
    return (left > gap) & (right > gap)


# The attributes scikit-learn's own fit sets (dense input; feature_names_in_ with named
# columns), for DropIn rows: tests/accel check them against scikit-learn's.
_INPUT = ("n_features_in_", "feature_names_in_")
SKLEARN_FITTED = {
    "PCA": (*_INPUT, "_fit_svd_solver", "mean_", "noise_variance_", "n_samples_",
            "n_components_", "components_", "explained_variance_",
            "explained_variance_ratio_", "singular_values_"),
    "StandardScaler": (*_INPUT, "n_samples_seen_", "mean_", "var_", "scale_"),
    "MinMaxScaler": (*_INPUT, "n_samples_seen_", "scale_", "min_", "data_min_", "data_max_",
                     "data_range_"),
    "SimpleImputer": (*_INPUT, "_fit_dtype", "_fill_dtype", "indicator_", "statistics_"),
}  # fmt: skip

_ESTIMATORS = "lepton.estimators"

# The table's rows (lepton.accel.table names them); compared_attributes: the fitted attributes a
# --compare run sets against scikit-learn's beside the output.
PCA = PCADropIn(
    target=f"{_ESTIMATORS}:PCA",
    fitted=SKLEARN_FITTED["PCA"],
    compared_attributes=(
        "mean_", "explained_variance_", "explained_variance_ratio_", "singular_values_",
        "components_", "noise_variance_", "n_components_",
    ),
)  # fmt: skip
STANDARD_SCALER = DropIn(
    target=f"{_ESTIMATORS}:StandardScaler",
    fitted=SKLEARN_FITTED["StandardScaler"],
    compared_attributes=("mean_", "var_", "scale_", "n_samples_seen_"),
)
MINMAX_SCALER = DropIn(
    target=f"{_ESTIMATORS}:MinMaxScaler",
    fitted=SKLEARN_FITTED["MinMaxScaler"],
    compared_attributes=(
        "data_min_", "data_max_", "data_range_", "scale_", "min_", "n_samples_seen_",
    ),
)  # fmt: skip
SIMPLE_IMPUTER = DropIn(
    target=f"{_ESTIMATORS}:SimpleImputer",
    fitted=SKLEARN_FITTED["SimpleImputer"],
    compared_attributes=("statistics_",),
)

__all__ = ["MINMAX_SCALER", "PCA", "SIMPLE_IMPUTER", "SKLEARN_FITTED", "STANDARD_SCALER",
           "DropIn", "PCADropIn"]  # fmt: skip
