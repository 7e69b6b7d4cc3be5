"""SimpleImputer (NaN, strategy "mean" or "constant") on lepton's fused kernels.

``fit`` is one pass of :func:`lepton.ops.column_stats` (the column means of the finite values,
float64); ``transform`` is one pass of the apply kernel writing the statistics where X is NaN.
Strategies without a lepton kernel ("median", "most_frequent", callables), missing values other
than NaN, the missing-value indicator and columns scikit-learn drops run scikit-learn's code.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from lepton.accel.adapters._affine import apply_affine
from lepton.accel.adapters.base import (
    KEEP_FLOATS,
    Call,
    Implementation,
    Unsupported,
    check_no_inf,
    set_fitted,
    validate_params,
    validated,
)
from lepton.ops.preprocess import column_stats

_STRATEGIES = ("mean", "constant")
# The dtypes SimpleImputer converts X to: floats for "mean" (float16 kept, then Unsupported),
# none for "constant" (integer data stays integer there, and has no NaN to fill).
_MEAN_DTYPES = KEEP_FLOATS


def _is_nan(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isnan(value)


@dataclass(frozen=True)
class SimpleImputerImpl(Implementation):
    compared_attributes: tuple[str, ...] = ("statistics_",)

    def unsupported(self, est: Any, call: Call) -> str | None:
        if not _is_nan(est.missing_values):
            return f"missing_values={est.missing_values!r}: lepton's kernels impute NaN only"
        if not isinstance(est.strategy, str) or est.strategy not in _STRATEGIES:
            return f"strategy={est.strategy!r}: no lepton kernel (mean and constant have one)"
        if est.add_indicator:
            return "add_indicator=True: the missing-value indicator is scikit-learn's"
        fill = est.fill_value
        if (
            est.strategy == "constant"
            and fill is not None
            and (isinstance(fill, bool) or not isinstance(fill, numbers.Real))
        ):
            return f"fill_value={fill!r}: lepton fills numbers only"
        return None

    def writes_input(self, est: Any, call: Call) -> bool:
        return not est.copy and call.method != "fit"

    def _dtypes(self, est: Any) -> Any:
        return _MEAN_DTYPES if est.strategy == "mean" else None

    def run(self, est: Any, call: Call) -> Any:
        if call.method == "transform":
            check_is_fitted(est)
            if est._fit_dtype.kind == "O":
                msg = "fitted on object data: scikit-learn's path"
                raise Unsupported(msg)
            arr = validated(est, call.X, reset=False, dtype=self._dtypes(est),
                            writeable=not est.copy)  # fmt: skip
            return self._apply(est, vars(est), arr, inf_checked=False)
        fitting_only = call.method == "fit"
        fitted, arr, finite = self._fit(est, call.X, for_transform=not fitting_only)
        if fitting_only:
            set_fitted(est, fitted)
            return est
        out = self._apply(est, fitted, arr, inf_checked=finite)
        set_fitted(est, fitted)
        return out

    def _fit(
        self, est: Any, X: Any, *, for_transform: bool
    ) -> tuple[dict[str, Any], np.ndarray, bool]:
        validate_params(est)
        writeable = for_transform and not est.copy
        arr = validated(est, X, reset=True, dtype=self._dtypes(est), writeable=writeable)
        stats = column_stats(arr)
        # NaN (fine) or ±inf (scikit-learn's error) somewhere: a fit_transform finds ±inf in
        # its output at less cost than a search of X here.
        finite = bool((stats.count == arr.shape[0]).all())
        if not (finite or for_transform):
            check_no_inf(arr, est)
        empty = stats.count == 0
        if est.strategy == "mean":
            statistics = np.array(stats.mean, dtype=np.float64)
            statistics[empty] = 0.0 if est.keep_empty_features else np.nan
        else:
            fill = 0 if est.fill_value is None else est.fill_value
            statistics = np.full(arr.shape[1], fill, dtype=object)
            if not est.keep_empty_features:
                statistics[empty] = np.nan
        fitted = {
            "_fit_dtype": arr.dtype,
            "_fill_dtype": arr.dtype,
            "indicator_": None,
            "statistics_": statistics,
        }
        return fitted, arr, finite

    def _apply(
        self, est: Any, fitted: Mapping[str, Any], arr: np.ndarray, *, inf_checked: bool
    ) -> np.ndarray:
        statistics = fitted["statistics_"]
        if arr.shape[1] != statistics.shape[0]:
            msg = f"X has {arr.shape[1]} features per sample, expected {statistics.shape[0]}"
            raise ValueError(msg)
        # scikit-learn writes the statistics cast to the dtype X had at fit.
        fill = np.asarray(statistics.astype(fitted["_fill_dtype"]), dtype=np.float64)
        if not est.keep_empty_features and np.isnan(fill).any():
            msg = "columns without observed values: scikit-learn drops them (and warns)"
            raise Unsupported(msg)
        d = arr.shape[1]
        return apply_affine(arr, fill=fill, center=np.zeros(d), mul=np.ones(d),
                            in_place=not est.copy, inf_checked=inf_checked, est=est)  # fmt: skip


SIMPLE_IMPUTER = SimpleImputerImpl()

__all__ = ["SIMPLE_IMPUTER"]
