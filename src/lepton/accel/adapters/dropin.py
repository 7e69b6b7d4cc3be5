"""A table row for a lepton estimator that already has scikit-learn's signature (a drop-in).

``DropIn("lepton.estimators:StandardScaler", fitted=(...))`` builds the drop-in with the
scikit-learn estimator's parameters, runs the method on it, and copies ``fitted`` — the names of
the attributes scikit-learn's own ``fit`` sets, private ones included — onto the scikit-learn
estimator, so that everything scikit-learn does with a fitted estimator (its other methods,
pickling, cloning) sees scikit-learn's state and nothing of lepton's.

If the drop-in class has a classmethod ``fallback_reason(params, X, method=...) -> str | None``
(the convention of lepton's drop-in estimators) it decides, before the call, which calls lepton
takes — the reason goes to the report and scikit-learn's own method runs; without one, every
call is handed to the drop-in.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from lepton.accel.adapters.base import FITTING, Call, Implementation, set_fitted


@dataclass(frozen=True)
class DropIn(Implementation):
    target: str = ""  # "package.module:ClassName" of the drop-in
    fitted: tuple[str, ...] = ()

    def drop_in(self) -> type:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def unsupported(self, est: Any, call: Call) -> str | None:
        check = getattr(self.drop_in(), "fallback_reason", None)
        if check is None:
            return None
        return check(est.get_params(deep=False), call.X, method=call.method)

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
