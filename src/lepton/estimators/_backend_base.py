"""What the estimators' backends share: the estimator's input spec, the solvers' result type and
the error messages every backend raises alike (see :mod:`lepton.estimators._backend`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Accepts", "Sketch", "check_width", "columns_mismatch", "non_finite"]


@dataclass(frozen=True)
class Accepts:
    """What an estimator reads, per backend (a class attribute of each estimator)."""

    host_order: str | None  # numpy layout its kernels read in place: "C", or None for C or F
    device_dtypes: tuple[str, ...]  # CUDA input dtypes
    device_hint: str  # appended to the device dtype error
    # The fitted arrays live where the fit's input did (PCA): later input must live there too.
    follows_input: bool


class Sketch(NamedTuple):
    """What PCA's randomized and full solvers leave: enough to set the fitted attributes."""

    mean: Any  # (d,) float64, host or device
    variances: np.ndarray  # (k,) host float64, descending
    vt: Any  # (k, d) right singular vectors, host or device
    total: float  # total variance (ddof = 1)


def non_finite(name: str = "X") -> ValueError:
    return ValueError(f"{name}: contains NaN or inf; remove or impute them first")


def columns_mismatch(expected: int, got: int) -> ValueError:
    return ValueError(f"X: expected {expected} columns (n_components_), got {got}")


def check_width(est: Any, width: int, *, reset: bool, columns: int | None) -> None:
    """What ``validate_data`` does with the column count of a nameless array (device and dask
    arrays carry no feature names): set ``n_features_in_`` (``reset``) or check it, with
    scikit-learn's message; ``columns``: the array holds that many projections instead."""
    if columns is not None:
        if width != columns:
            raise columns_mismatch(columns, width)
    elif reset:
        est.n_features_in_ = width
        if hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    elif width != est.n_features_in_:
        msg = (
            f"X has {width} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
        raise ValueError(msg)
