"""PCA with scikit-learn's "covariance_eigh" solver on lepton's one-pass centred Gram kernel.

That is the solver scikit-learn's ``svd_solver="auto"`` picks for tall data (n_features ≤ 1000,
n_samples ≥ 10 · n_features) and the one lepton's ``PCA(svd_solver="covariance_eigh")`` runs: a
centred Gram matrix with float64 statistics, its eigen-decomposition and scikit-learn's sign rule.
Other solvers stay scikit-learn's: "full" and "arpack" are LAPACK/ARPACK calls lepton would make
the same way, and "randomized" draws random numbers scikit-learn's results depend on.
``transform`` is ``(X − mean_) @ components_ᵀ`` in row blocks, valid for any fitted PCA.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from lepton.accel._agreement import Agreement, array_agreement
from lepton.accel.adapters.base import (
    Call,
    Implementation,
    Unsupported,
    set_fitted,
    validate_params,
    validated,
)

# Imported with the adapter (when scikit-learn's class is patched), not inside a measured call.
from lepton.estimators import PCA as LeptonPCA

_SOLVERS = ("auto", "covariance_eigh")
_COPIED = (
    "mean_", "components_", "explained_variance_", "explained_variance_ratio_",
    "singular_values_", "n_components_", "n_samples_",
)  # fmt: skip


def _sklearn_solver(est: Any, n: int, d: int) -> str:
    """The solver scikit-learn's ``_fit`` resolves ``svd_solver`` to for dense (n, d) data."""
    if est.svd_solver != "auto":
        return est.svd_solver
    if d <= 1_000 and n >= 10 * d:
        return "covariance_eigh"
    k = min(n, d) if est.n_components is None else est.n_components
    if max(n, d) <= 500 or k == "mle":
        return "full"
    if isinstance(k, numbers.Real) and 1 <= k < 0.8 * min(n, d):
        return "randomized"
    return "full"


def _components_type(asked: Any, k: int) -> Any:
    """``n_components_`` with scikit-learn's type: the integer asked for as given, a numpy
    int64 where it was found (a variance fraction, "mle"), a plain int for None."""
    if asked is None:
        return int(k)
    if isinstance(asked, numbers.Integral):
        return asked
    return np.int64(k)


def _components_reason(k: Any) -> str | None:
    if k is None or k == "mle":
        return None
    if isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 1:
        return None
    if isinstance(k, numbers.Real) and not isinstance(k, bool) and 0 < k < 1:
        return None
    return f"n_components={k!r}: scikit-learn's handling applies"


@dataclass(frozen=True)
class PCAImpl(Implementation):
    compared_attributes: tuple[str, ...] = (
        "mean_", "explained_variance_", "explained_variance_ratio_", "singular_values_",
        "components_", "noise_variance_", "n_components_",
    )  # fmt: skip

    def unsupported(self, est: Any, call: Call) -> str | None:
        if call.method == "transform":
            return None
        if est.svd_solver not in _SOLVERS:
            return (
                f"svd_solver={est.svd_solver!r}: lepton accelerates 'covariance_eigh' (what "
                "'auto' picks for tall data)"
            )
        return _components_reason(est.n_components)

    def run(self, est: Any, call: Call) -> Any:
        if call.method == "transform":
            return self._transform(est, call.X)
        validate_params(est)
        arr = validated(est, call.X, reset=True, order="C")
        n, d = arr.shape
        solver = _sklearn_solver(est, n, d)
        if solver != "covariance_eigh":
            msg = (
                f"svd_solver='auto' resolves to {solver!r} for {n} × {d} data: lepton "
                "accelerates 'covariance_eigh' (n_features ≤ 1000, n_samples ≥ 10·n_features)"
            )
            raise Unsupported(msg)
        model = LeptonPCA(est.n_components, svd_solver="covariance_eigh", whiten=est.whiten)
        # lepton's kernel reports NaN/inf from its own sums (ValueError): scikit-learn's fit
        # then raises its error.
        model.fit(arr)
        fitted = {name: getattr(model, name) for name in _COPIED}
        k, rank = model.n_components_, min(n, d)
        # scikit-learn stores a plain 0.0 when every component is kept.
        fitted["noise_variance_"] = model.noise_variance_ if k < rank else 0.0
        fitted["n_components_"] = _components_type(est.n_components, k)
        fitted["_fit_svd_solver"] = "covariance_eigh"
        out = est if call.method == "fit" else _project(arr, fitted, est.whiten)
        set_fitted(est, fitted)
        return out

    def _transform(self, est: Any, X: Any) -> np.ndarray:
        check_is_fitted(est)
        arr = validated(est, X, reset=False)
        if arr.dtype != est.components_.dtype:
            msg = (
                f"{arr.dtype} data with {est.components_.dtype} components: scikit-learn's "
                "result type follows numpy's promotion"
            )
            raise Unsupported(msg)
        return _project(arr, vars(est), est.whiten)

    def agreement(self, est: Any, twin: Any, call: Call, ours: Any, theirs: Any) -> Agreement:
        result = super().agreement(est, twin, call, ours, theirs)
        if "components_" not in result.values:
            return result
        values = dict(result.values)
        tol = self.tolerances.get(np.asarray(twin.components_).dtype.name, 0.0)
        # singular_values_ = sqrt(λ·(n−1)): the square root magnifies the round-off of
        # eigenvalues near zero; compare their squares (the variances, linear in the data).
        err, ok_sv = array_agreement(
            np.square(est.singular_values_, dtype=np.float64),
            np.square(twin.singular_values_, dtype=np.float64),
            {"float64": tol},
        )
        values["singular_values_"] = err
        # A component whose eigenvalue lies within √tol·λ₁ of a neighbour's is not unique to
        # that precision (any rotation within the shared eigenspace is as good): leave it out.
        lam = np.asarray(twin.explained_variance_, dtype=np.float64)
        unique = _separated(lam, np.sqrt(tol) * float(np.max(lam, initial=0.0)))
        err, ok_c = array_agreement(
            np.asarray(est.components_)[unique], np.asarray(twin.components_)[unique],
            self.tolerances,
        )  # fmt: skip
        values["components_"] = err
        values["components_not_unique"] = float(np.count_nonzero(~unique))
        others = [
            array_agreement(getattr(est, n), getattr(twin, n), self.tolerances,
                            scale=self.attribute_scale(est, twin, n))[1]
            for n in self.compared_attributes
            if n not in ("components_", "singular_values_")
        ]  # fmt: skip
        out_ok = True
        if "output" in values and call.method != "fit":
            out_ok = array_agreement(ours, theirs, self.tolerances)[1] or not unique.all()
        within = ok_sv and ok_c and all(others) and out_ok
        return Agreement(values, within, result.metric)

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


def _project(arr: np.ndarray, fitted: Mapping[str, Any], whiten: bool) -> np.ndarray:
    """scikit-learn's own projection, ``X @ Cᵀ − mean_ @ Cᵀ`` (one BLAS product, the numbers
    scikit-learn gets), with finiteness checked on the (n_components-wide) output instead of a
    pass over X: NaN or inf in a row of X reaches every output column of that row."""
    components = fitted["components_"]
    out = arr @ components.T
    out -= np.reshape(fitted["mean_"], (1, -1)) @ components.T
    if not np.isfinite(out).all():
        msg = "X holds NaN or inf: scikit-learn raises its error"
        raise Unsupported(msg)
    if whiten:
        scale = np.sqrt(fitted["explained_variance_"])
        scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
        out /= scale
    return out


PCA_ADAPTER = PCAImpl()

__all__ = ["PCA_ADAPTER"]
