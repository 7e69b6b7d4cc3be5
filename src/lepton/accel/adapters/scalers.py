"""StandardScaler and MinMaxScaler on lepton's fused kernels.

``fit`` is one pass of :func:`lepton.ops.column_stats` (count, mean, M2, min, max of the finite
values, float64); the fitted attributes are then computed from those statistics exactly as
scikit-learn computes them from its own (names, dtypes, constant-feature rules).
``transform`` is one pass of the fused apply kernel with scikit-learn's coefficients;
``fit_transform`` is the two passes, with no second validation of X.
"""

from __future__ import annotations

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

_PARTIAL_FIT = (
    "partial_fit: lepton's mergeable statistics are not wired to scikit-learn's running state here"
)


def column_statistics(est: Any, X: Any, *, for_transform: bool) -> tuple[np.ndarray, Any, bool]:
    """Validate X for ``fit`` and read its statistics in one pass. Returns X (validated), the
    statistics and whether they show every value finite.

    A column without any value is left to scikit-learn (it warns and keeps NaN). ±inf is
    scikit-learn's error: searched for here when the statistics saw NaN or ±inf — unless
    ``for_transform``, where the transform's output shows it at less cost.
    """
    validate_params(est)
    arr = validated(est, X, reset=True, dtype=KEEP_FLOATS, writeable=for_transform and not est.copy)
    stats = column_stats(arr)
    if (stats.count == 0).any():
        cols = stats.empty_columns.tolist()[:5]
        msg = f"column(s) {cols} hold no value: scikit-learn's handling of empty columns applies"
        raise Unsupported(msg)
    finite = bool((stats.count == arr.shape[0]).all())
    if not (finite or for_transform):
        check_no_inf(arr, est)
    return arr, stats, finite


def _transform_input(est: Any, call: Call, copy: bool) -> np.ndarray:
    check_is_fitted(est)
    return validated(est, call.X, reset=False, dtype=KEEP_FLOATS, writeable=not copy)


@dataclass(frozen=True)
class _Scaler(Implementation):
    def writes_input(self, est: Any, call: Call) -> bool:
        copy = call.get("copy")
        return not (est.copy if copy is None else copy) and call.method != "fit"

    def run(self, est: Any, call: Call) -> Any:
        if call.method == "transform":
            copy = call.get("copy")
            copy = est.copy if copy is None else copy
            arr = _transform_input(est, call, copy)
            return self.apply(est, vars(est), arr, copy, inf_checked=False)
        fitting_only = call.method == "fit"
        arr, stats, finite = column_statistics(est, call.X, for_transform=not fitting_only)
        fitted = self.fitted(est, arr, stats)
        if fitting_only:
            set_fitted(est, fitted)
            return est
        out = self.apply(est, fitted, arr, est.copy, inf_checked=finite)
        set_fitted(est, fitted)
        return out

    def fitted(self, est: Any, arr: np.ndarray, stats: Any) -> dict[str, Any]:
        """The fitted attributes scikit-learn's ``fit`` sets, from lepton's statistics."""
        raise NotImplementedError

    def apply(
        self, est: Any, fitted: Mapping[str, Any], arr: np.ndarray, copy: bool, inf_checked: bool
    ) -> np.ndarray:
        """scikit-learn's ``transform`` with the ``fitted`` attributes, on validated ``arr``."""
        raise NotImplementedError


@dataclass(frozen=True)
class StandardScalerImpl(_Scaler):
    compared_attributes: tuple[str, ...] = ("mean_", "var_", "scale_", "n_samples_seen_")

    def unsupported(self, est: Any, call: Call) -> str | None:
        if call.method == "partial_fit":
            return _PARTIAL_FIT
        if call.get("sample_weight") is not None:
            return "sample_weight: lepton's column statistics are unweighted"
        return None

    def fitted(self, est: Any, arr: np.ndarray, stats: Any) -> dict[str, Any]:
        counts = stats.count
        same = counts.min() == counts.max()
        if not (est.with_mean or est.with_std):
            # scikit-learn counts the non-NaN values in int64 here, in float64 otherwise.
            return {"mean_": None, "var_": None, "scale_": None,
                    "n_samples_seen_": counts[0] if same else counts.copy()}  # fmt: skip
        n_seen = counts.astype(np.float64)
        n_seen = n_seen[0] if same else n_seen
        mean = np.array(stats.mean, dtype=np.float64)
        out: dict[str, Any] = {"mean_": mean, "n_samples_seen_": n_seen}
        if not est.with_std:
            out.update(var_=None, scale_=None)
            return out
        var = np.array(stats.var, dtype=np.float64)
        # scikit-learn's near-constant rule (Chan, Golub & LeVeque's bound on the variance
        # error), on float64 statistics: scale 1 for such columns.
        eps = np.finfo(np.float64).eps
        constant = var <= n_seen * eps * var + (n_seen * mean * eps) ** 2
        scale = np.sqrt(var)
        scale[constant] = 1.0
        out.update(var_=var, scale_=scale)
        return out

    def apply(
        self, est: Any, fitted: Mapping[str, Any], arr: np.ndarray, copy: bool, inf_checked: bool
    ) -> np.ndarray:
        d = arr.shape[1]
        center = fitted["mean_"] if est.with_mean else np.zeros(d)
        mul = 1.0 / fitted["scale_"] if est.with_std else np.ones(d)
        return apply_affine(arr, fill=np.full(d, np.nan), center=center, mul=mul,
                            in_place=not copy, inf_checked=inf_checked, est=est)  # fmt: skip


@dataclass(frozen=True)
class MinMaxScalerImpl(_Scaler):
    compared_attributes: tuple[str, ...] = (
        "data_min_", "data_max_", "data_range_", "scale_", "min_", "n_samples_seen_",
    )  # fmt: skip

    def unsupported(self, est: Any, call: Call) -> str | None:
        if call.method == "partial_fit":
            return _PARTIAL_FIT
        return None

    def fitted(self, est: Any, arr: np.ndarray, stats: Any) -> dict[str, Any]:
        lo, hi = est.feature_range
        if lo >= hi:  # scikit-learn's check, with its message
            msg = f"Minimum of desired feature range must be smaller than maximum. Got {(lo, hi)}."
            raise ValueError(msg)
        dt = arr.dtype
        lo, hi = np.asarray(lo, dtype=dt), np.asarray(hi, dtype=dt)
        data_min = np.asarray(stats.min, dtype=dt)  # exact: they are values of X
        data_max = np.asarray(stats.max, dtype=dt)
        data_range = data_max - data_min
        # scikit-learn's rule for a (near-)zero range: divide by 1 instead.
        divisor = np.where(data_range < 10 * np.finfo(dt).eps, np.asarray(1, dtype=dt), data_range)
        scale = (hi - lo) / divisor
        return {
            "n_samples_seen_": arr.shape[0],
            "scale_": scale,
            "min_": lo - data_min * scale,
            "data_min_": data_min,
            "data_max_": data_max,
            "data_range_": data_range,
        }

    def apply(
        self, est: Any, fitted: Mapping[str, Any], arr: np.ndarray, copy: bool, inf_checked: bool
    ) -> np.ndarray:
        d = arr.shape[1]
        scale = np.asarray(fitted["scale_"], dtype=np.float64)
        lo, hi = est.feature_range
        # y = x·scale + min_ = (x − (data_min − lo/scale))·scale: the centre is data_min_
        # itself for lo = 0, a value of X, exact in X's dtype.
        center = np.asarray(fitted["data_min_"], dtype=np.float64) - lo / scale
        out = apply_affine(arr, fill=np.full(d, np.nan), center=center, mul=scale,
                           in_place=not copy, inf_checked=inf_checked, est=est)  # fmt: skip
        if est.clip:
            np.clip(out, np.asarray(lo, out.dtype), np.asarray(hi, out.dtype), out=out)
        return out


STANDARD_SCALER = StandardScalerImpl()
MINMAX_SCALER = MinMaxScalerImpl()

__all__ = ["MINMAX_SCALER", "STANDARD_SCALER", "column_statistics"]
