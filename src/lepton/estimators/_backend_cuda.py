"""The estimators' CUDA backend: cupy arrays, torch CUDA tensors (and other
``__cuda_array_interface__`` / CUDA DLPack objects, viewed through cupy or torch).

The heavy work stays on the device: the statistics kernels (column stats, centred Gram), the
eigen-solver of the Gram, the randomized solver's products, the SVD of the full solver and the
projections. The small results (d eigenvalues, k × d components) make one round trip through the
host so that the component-count rules, ratios and sign flips are the estimator's own code;
:meth:`Device.publish` then moves PCA's fitted arrays to the input's library and device (their
place under scikit-learn's array-API convention). A model fitted on the device takes only that
library's arrays on that device afterwards, one fitted on the host only host arrays: a mix is a
``TypeError``, never an implicit copy.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from lepton import _cuda_arrays as ca
from lepton._dispatch import placement
from lepton.estimators._backend_base import Sketch, check_width, non_finite
from lepton.ops import _pca_cuda as dev
from lepton.ops._gemm_cuda import require_cuda_build
from lepton.ops.pca import GramStats
from lepton.ops.pca_solver import choose_device_solver, choose_eigen
from lepton.ops.preprocess_stats import column_stats

__all__ = ["DEVICE", "Device", "choose_solver"]

# PCA's fitted arrays, moved to the device after a device fit.
_FITTED_ARRAYS = (
    "mean_",
    "components_",
    "explained_variance_",
    "explained_variance_ratio_",
    "singular_values_",
    "noise_variance_",
)

# ops.pca_solver's names for the solvers, and the estimator's (scikit-learn's).
_SOLVER_NAMES = {"covariance": "covariance_eigh", "randomized": "randomized"}


def choose_solver(
    n: int,
    d: int,
    k: Any,
    n_oversamples: int,
    n_iter: int,
    *,
    itemsize: int = 4,
    gram_engine: str = "tf32x3",
) -> str:
    """svd_solver="auto" on the device: "covariance_eigh" or "randomized", the cheaper by the
    device cost model (``ops.pca_solver.choose_device_solver``) for the Gram engine that will
    run and the eigen-solver :meth:`Device.eigh` will run (``ops.pca_solver.choose_eigen``: the
    k-eigenpair iteration where it is cheaper than the full syevd)."""
    pick = choose_device_solver(
        n, d, k, n_oversamples, n_iter, itemsize=itemsize, gram_engine=gram_engine,
        eigen=choose_eigen(d, k),
    )  # fmt: skip
    return _SOLVER_NAMES[pick]


def _library(x: Any) -> str:
    return "torch" if ca.describe(x, "X").library == "torch" else "cupy"


def _column_mean(x: Any) -> Any:
    if dev.library_of(x) == "torch":
        import torch

        return x.sum(0, dtype=torch.float64) / x.shape[0]
    return x.sum(axis=0, dtype="float64") / x.shape[0]


def _sum_squares(x: Any, mean: Any) -> float:
    """Σ (x − mean)² in float64, one row block at a time (the total variance · (n − 1))."""
    total, step = 0.0, max(1, dev._BLOCK_BYTES // (x.shape[1] * dev.itemsize(x)))
    mu = dev.astype(mean, "float64")
    for start in range(0, x.shape[0], step):
        block = dev.astype(x[start : start + step], "float64") - mu
        total += float((block * block).sum().item())
    return total


def _svd(centred: Any) -> tuple[Any, Any]:
    """Singular values and right singular vectors of a device matrix (thin SVD)."""
    if dev.library_of(centred) == "torch":
        import torch

        _, s, vt = torch.linalg.svd(centred, full_matrices=False)
    else:
        import cupy

        _, s, vt = cupy.linalg.svd(centred, full_matrices=False)
    return s, vt


class Device:
    """CUDA arrays: lepton's CUDA kernels, cuSOLVER through cupy / torch."""

    name = "cuda"
    in_memory = True
    solvers = ("auto", "covariance_eigh", "randomized", "full")
    fast_gram = False  # the CUDA Gram kernel has one accumulation scheme

    # -- input ---------------------------------------------------------------------------------

    @staticmethod
    def check(
        est: Any, X: Any, *, reset: bool, finite: bool = False, columns: int | None = None
    ) -> Any:
        """The array's metadata checked (dtype, 2-D, non-empty) before anything is launched, the
        feature count set or checked like ``validate_data`` does (devices carry no feature
        names); ``X`` as its library's array. Finiteness is left to the kernels and, for the
        projections, to a check of their output (``finite`` is a host concern)."""
        require_cuda_build("X")
        accepts = est._accepts
        d = ca.require(ca.describe(X, "X"), "X", dtypes=accepts.device_dtypes, ndim=2,
                       hint=accepts.device_hint)  # fmt: skip
        check_width(est, d.shape[1], reset=reset, columns=columns)
        return ca.as_library(d)

    @staticmethod
    def check_place(est: Any, X: Any) -> None:
        place = getattr(est, "_device", None)
        name = type(est).__name__
        if place is None:
            where = placement(X)
            msg = (
                f"X: got a {where.library} array on {where.device}, but this {name} was fitted "
                "on host (numpy) arrays; pass numpy X or refit on the device"
            )
            raise TypeError(msg)
        lib = _library(X)
        if lib != place[0]:
            msg = f"X: got a {lib} array, but this {name} was fitted on {place[0]} arrays"
            raise TypeError(msg)
        device = ca.describe(X, "X").device
        if device != place[1]:
            msg = f"X: on cuda:{device} while this {name} was fitted on cuda:{place[1]}"
            raise ValueError(msg)

    @staticmethod
    def dtype(x: Any) -> np.dtype:
        return np.dtype(dev.dtype_name(x))

    # -- statistics ----------------------------------------------------------------------------

    column_stats = staticmethod(column_stats)  # host ColumnStats: one synchronisation

    @staticmethod
    def gram(x: Any, accumulate: str = "float64") -> GramStats:
        return dev.gram(x, accumulate=accumulate, name="X")  # device mean and Gram

    @staticmethod
    def auto_solver(x: Any, k: Any, n_oversamples: int, n_iter: int) -> str:
        """:func:`choose_solver` for ``x``: its shape, item size, and the Gram engine
        :meth:`gram` will run on it (``_pca_cuda.gram_engine("auto", ...)``)."""
        d = ca.describe(x, "X")
        engine = dev.gram_engine("auto", d.dtype, d.device)
        n, cols = d.shape
        return choose_solver(n, cols, k, n_oversamples, n_iter, itemsize=d.itemsize,
                             gram_engine=engine)  # fmt: skip

    @staticmethod
    def sketch(
        x: Any, solver: str, k: int, *, n_oversamples: int, n_iter: int, random_state: Any
    ) -> Sketch:
        n = x.shape[0]
        mean = _column_mean(x)
        total = _sum_squares(x, mean) / (n - 1)
        if not np.isfinite(total):
            raise non_finite()
        if solver == "randomized":
            s, vt = dev.randomized_svd(
                x, mean, int(k), n_oversamples=n_oversamples, n_iter=n_iter,
                rng=check_random_state(random_state),
            )  # fmt: skip
            return Sketch(mean, s**2 / (n - 1), vt, total)
        s, vt = _svd(x - dev.astype(mean, dev.dtype_name(x)))
        return Sketch(mean, dev.to_host(s).astype(np.float64) ** 2 / (n - 1), vt, total)

    # -- on the statistics ---------------------------------------------------------------------

    @staticmethod
    def eigh(gram: Any, k: Any) -> tuple[np.ndarray, Any]:
        """Descending eigenvalues (host float64) and eigenvectors (device columns): the top k
        by ``_pca_cuda.top_eigen`` where ``choose_eigen`` finds that cheaper than the full
        syevd (an integer k ≤ d/4 of a wide Gram; eigenvalues to 1e-9 relative), else all of
        them (the full solve; its top k for an integer k)."""
        if choose_eigen(gram.shape[0], k) == "topk":
            values, vectors = dev.top_eigen(gram, int(k))
            return dev.to_host(values), vectors
        values, vectors = dev.eigh_descending(gram)
        if isinstance(k, Integral):
            vectors = vectors[:, : int(k)]
        return dev.to_host(values), vectors

    @staticmethod
    def trace(gram: Any) -> float:
        return float(gram.diagonal().sum().item())

    @staticmethod
    def to_host(a: Any) -> np.ndarray:
        return dev.to_host(a)

    @staticmethod
    def publish(est: Any, like: Any) -> None:
        """Move the fitted arrays ``est._store`` set on the host to ``like``'s library and
        device (their dtype is already the one of the fit's input)."""
        for name in _FITTED_ARRAYS:
            setattr(est, name, dev.to_device(np.asarray(getattr(est, name)), like))
        est._device = (_library(like), ca.describe(like, "X").device)

    # -- products ------------------------------------------------------------------------------

    @staticmethod
    def project(x: Any, mean: Any, components: Any, whiten: Any, total_variance: Any = None) -> Any:
        # Centred in L2-sized blocks whatever the mean (total_variance unused): on the device the
        # subtraction costs no pass over memory of its own.
        out = dev.centred_matmul(x, mean, components.T)
        if not dev.all_finite(out):  # any NaN/inf in x reaches every output column
            raise non_finite()
        if whiten is not None:
            scale = dev.astype(whiten, dev.dtype_name(out)) ** 0.5
            eps = float(np.finfo(np.dtype(dev.dtype_name(out))).eps)
            out = out / scale.clip(eps) if dev.library_of(out) == "cupy" else out / scale.clamp(eps)
        return out

    @staticmethod
    def unproject(x: Any, mean: Any, components: Any, whiten: Any) -> Any:
        dtype = dev.dtype_name(x)
        if whiten is not None:
            components = (whiten**0.5).reshape(-1, 1) * components
        return x @ dev.astype(components, dtype) + dev.astype(mean, dtype)

    @staticmethod
    def rows(est: Any, x: Any, fn: Any, **_: Any) -> Any:
        return fn(est, x)


DEVICE = Device()
