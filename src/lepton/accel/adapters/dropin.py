"""A table row for a lepton estimator that already has scikit-learn's signature (a drop-in).

``DropIn("lepton.estimators:StandardScaler", fitted=(...))`` builds the drop-in with the
scikit-learn estimator's parameters, runs the method on it, and copies ``fitted`` — the names of
the attributes scikit-learn's own ``fit`` sets, private ones included — onto the scikit-learn
estimator, so that everything scikit-learn does with a fitted estimator (its other methods,
pickling, cloning) sees scikit-learn's state and nothing of lepton's.

If the drop-in class has a classmethod ``lepton_unsupported(params, X) -> str | None`` it
decides, before the call, which calls it takes (the reason goes to the report); without one,
every call is handed to it.
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
    methods: tuple[str, ...] = ("fit", "transform", "fit_transform")

    def drop_in(self) -> type:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)

    def unsupported(self, est: Any, call: Call) -> str | None:
        check = getattr(self.drop_in(), "lepton_unsupported", None)
        if check is None:
            return None
        return check(est.get_params(deep=False), call.X)

    def run(self, est: Any, call: Call) -> Any:
        model = self.drop_in()(**est.get_params(deep=False))
        if call.method not in FITTING:
            set_fitted(model, {n: getattr(est, n) for n in self.fitted if hasattr(est, n)})
        extra = {k: v for k, v in call.arguments.items() if k != "X"}
        result = getattr(model, call.method)(call.X, **extra, **call.kwargs)
        if call.method in FITTING:
            set_fitted(est, {n: getattr(model, n) for n in self.fitted if hasattr(model, n)})
        return est if result is model else result
