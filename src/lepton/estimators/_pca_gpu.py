"""The CUDA path of ``lepton.PCA``: fit / partial_fit / transform / inverse_transform on cupy
arrays and torch CUDA tensors.

Fitted arrays (``mean_``, ``components_``, ``explained_variance_``, ``explained_variance_ratio_``,
``singular_values_``, ``noise_variance_`` 0-d) are arrays of the fit input's library on its
device, sklearn's convention under array-API dispatch; ``transform`` returns that library's
arrays. The heavy work stays on the device (centred Gram kernel + ``eigh``, or the randomized
solver's products); the small results (d eigenvalues, k × d components) make one round trip
through the host so that the component-count rules, ratios and sign flips are the CPU
estimator's own code. A model fitted on the device takes only that library's arrays on that
device (and one fitted on the host only host arrays): a mix is a ``TypeError``, never an
implicit copy.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from lepton import _cuda_arrays as ca
from lepton._dispatch import placement
from lepton.ops import _pca_cuda as dev
from lepton.ops._gemm_cuda import require_cuda_build
from lepton.ops.pca import GramStats, merge_gram

_FITTED_ARRAYS = (
    "mean_",
    "components_",
    "explained_variance_",
    "explained_variance_ratio_",
    "singular_values_",
    "noise_variance_",
)

# solver="auto" on the GPU (seconds; leads from first principles on an H100, to be calibrated
# by the GPU session, see csrc/cuda/pca/NOTES.md): the Gram kernel's FP32 SIMT rate on the
# upper-triangle tiles (~0.6 of the square), cuBLAS SGEMM for the randomized products, cuSOLVER
# syevd ~5e-12·d³ s plus ~2 ms of launches, a QR of the small d × l basis ~0.3 ms.
_GRAM_FLOPS = 4e13
_GEMM_FLOPS = 4e13
_EIGH_PER_D3, _EIGH_FIXED = 5e-12, 2e-3
_SMALL_QR = 3e-4


def choose_solver(n: int, d: int, k: Any, n_oversamples: int, n_iter: int) -> str:
    """solver="auto" for a device fit: covariance or randomized, by the cost model above."""
    costs = {"covariance": 2.0 * n * d * d * 0.6 / _GRAM_FLOPS + _EIGH_PER_D3 * d**3 + _EIGH_FIXED}
    if isinstance(k, Integral):
        size = min(int(k) + n_oversamples, n, d)
        passes = 2 * (n_iter + 1) + 1
        costs["randomized"] = passes * 2.0 * n * d * size / _GEMM_FLOPS + (n_iter + 2) * _SMALL_QR
    return min(costs, key=costs.__getitem__)


def fitted_place(est: Any) -> tuple[str, int] | None:
    """(library, device) of a device-fitted model, None for a host-fitted one."""
    return getattr(est, "_device", None)


def check_same_place(est: Any, X: Any) -> None:
    """TypeError unless X lives where the model was fitted (host vs device, library, device)."""
    place = fitted_place(est)
    if not ca.is_cuda(X):
        if place is not None:
            msg = (
                f"X: got a {placement(X).library} array on the host, but this PCA was fitted on "
                f"{place[0]} arrays on cuda:{place[1]}; pass X on that device (host+device "
                "mixes are not copied implicitly)"
            )
            raise TypeError(msg)
        return
    where = placement(X)
    if place is None:
        msg = (
            f"X: got a {where.library} array on {where.device}, but this PCA was fitted on host "
            "(numpy) arrays; pass numpy X or refit on the device"
        )
        raise TypeError(msg)
    library = ca.describe(X, "X")
    lib = "torch" if library.library == "torch" else "cupy"
    if lib != place[0]:
        msg = f"X: got a {lib} array, but this PCA was fitted on {place[0]} arrays"
        raise TypeError(msg)
    if library.device != place[1]:
        msg = f"X: on cuda:{library.device} while this PCA was fitted on cuda:{place[1]}"
        raise ValueError(msg)


def _matrix(est: Any, X: Any, *, reset: bool) -> Any:
    require_cuda_build("X")
    d = dev.check_matrix(X, "X")
    if reset:
        est.n_features_in_ = d.shape[1]
        if hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    elif d.shape[1] != est.n_features_in_:
        msg = (
            f"X has {d.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
        raise ValueError(msg)
    return ca.as_library(d)


def _place_of(x: Any) -> tuple[str, int]:
    d = ca.describe(x, "X")
    return ("torch" if d.library == "torch" else "cupy"), d.device


def _store_on_device(est: Any, x: Any, mean, variances, vectors, total, n, d, solver) -> None:
    """The CPU estimator's _store on host copies of the small results, then the fitted arrays
    moved to ``x``'s library and device."""
    dtype = np.dtype(dev.dtype_name(x))
    est._store(dev.to_host(mean), variances, dev.to_host(vectors), total, n, d, dtype, solver)
    for name in _FITTED_ARRAYS:
        setattr(est, name, dev.to_device(np.asarray(getattr(est, name)), x))
    est._device = _place_of(x)


def _sum_squares(x: Any, mean: Any) -> float:
    """Σ (x − mean)² in float64, one row block at a time (the total variance · (n − 1))."""
    total, step = 0.0, max(1, dev._BLOCK_BYTES // (x.shape[1] * dev.itemsize(x)))
    mu = dev.astype(mean, "float64")
    for start in range(0, x.shape[0], step):
        block = dev.astype(x[start : start + step], "float64") - mu
        total += float((block * block).sum().item())
    return total


def _column_mean(x: Any) -> Any:
    if dev.library_of(x) == "torch":
        import torch

        return x.sum(0, dtype=torch.float64) / x.shape[0]
    return x.sum(axis=0, dtype="float64") / x.shape[0]


def _check_finite(value: float) -> None:
    if not np.isfinite(value):
        msg = "X: contains NaN or inf; remove or impute them first"
        raise ValueError(msg)


def _fit_from_gram(est: Any, x: Any, stats: GramStats) -> None:
    from lepton.estimators.pca import _check_samples

    n, d = stats.n, stats.mean.shape[0]
    _check_samples(n)
    k = est._check_n_components(n, d)
    values, vectors = dev.eigh_descending(stats.gram)
    variances = dev.to_host(values) / (n - 1)
    if isinstance(k, Integral):
        vectors = vectors[:, : int(k)]
    total = float(stats.gram.diagonal().sum().item()) / (n - 1)
    _store_on_device(est, x, stats.mean, variances, vectors.T, total, n, d, "covariance")
    est._gram_stats = stats


def fit(est: Any, X: Any) -> Any:
    """Fit ``est`` on device matrix X; returns X as its library's array."""
    from lepton.estimators.pca import _check_samples

    est._check_params()
    x = _matrix(est, X, reset=True)
    n, d = x.shape
    _check_samples(n)
    k = est._check_n_components(n, d)
    if est.solver == "auto":
        solver = choose_solver(n, d, k, est.n_oversamples, est._power_iterations(n, d, k))
    else:
        solver = est._resolve_solver(n, d, k)
    if solver == "covariance":
        _fit_from_gram(est, x, dev.gram(x, name="X"))
        return x
    mean = _column_mean(x)
    total = _sum_squares(x, mean) / (n - 1)
    _check_finite(total)
    if solver == "randomized":
        from sklearn.utils import check_random_state

        s, vt = dev.randomized_svd(
            x, mean, int(k), n_oversamples=est.n_oversamples,
            n_iter=est._power_iterations(n, d, k), rng=check_random_state(est.random_state),
        )  # fmt: skip
        variances = s**2 / (n - 1)
    else:  # full: SVD of a centred copy
        centred = x - dev.astype(mean, dev.dtype_name(x))
        if dev.library_of(x) == "torch":
            import torch

            _, s_dev, vt = torch.linalg.svd(centred, full_matrices=False)
        else:
            import cupy

            _, s_dev, vt = cupy.linalg.svd(centred, full_matrices=False)
        variances = dev.to_host(s_dev).astype(np.float64) ** 2 / (n - 1)
    _store_on_device(est, x, mean, variances, vt, total, n, d, solver)
    est._gram_stats = None
    return x


def partial_fit(est: Any, X: Any, first: bool) -> None:
    if not first:
        check_same_place(est, X)
    x = _matrix(est, X, reset=first)
    stats = dev.gram(x, name="X")
    if not first:
        stats = merge_gram(est._gram_stats, stats)
    _fit_from_gram(est, x, stats)


def transform(est: Any, X: Any) -> Any:
    check_same_place(est, X)
    x = _matrix(est, X, reset=False)
    out = dev.centred_matmul(x, est.mean_, est.components_.T)
    if not dev.all_finite(out):
        msg = "X: contains NaN or inf; remove or impute them first"
        raise ValueError(msg)
    if est.whiten:
        scale = dev.astype(est.explained_variance_, dev.dtype_name(out)) ** 0.5
        eps = float(np.finfo(np.dtype(dev.dtype_name(out))).eps)
        out = out / scale.clip(eps) if dev.library_of(out) == "cupy" else out / scale.clamp(eps)
    return out


def inverse_transform(est: Any, X: Any) -> Any:
    check_same_place(est, X)
    require_cuda_build("X")
    x = ca.as_library(dev.check_matrix(X, "X"))
    if x.shape[1] != est.n_components_:
        msg = f"X: expected {est.n_components_} columns (n_components_), got {x.shape[1]}"
        raise ValueError(msg)
    dtype = dev.dtype_name(x)
    components = est.components_
    if est.whiten:
        components = (est.explained_variance_**0.5).reshape(-1, 1) * components
    return x @ dev.astype(components, dtype) + dev.astype(est.mean_, dtype)
