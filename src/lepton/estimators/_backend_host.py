"""The estimators' numpy backend: lepton's CPU kernels, LAPACK and BLAS (see
:mod:`lepton.estimators._backend` for the interface)."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, validate_data

from lepton._dispatch import placement
from lepton.estimators._backend_base import Sketch, columns_mismatch, non_finite
from lepton.ops.pca import (
    GramStats,
    centred_matmul,
    column_moments_checked,
    gram_checked,
    randomized_svd,
    top_eigen,
)
from lepton.ops.preprocess_stats import column_stats

__all__ = ["FLOATS", "HOST", "Host", "choose_solver"]

FLOATS = [np.float64, np.float32]  # kept as they are; anything else becomes float64

# Cost model of the host's svd_solver="auto", in units of one multiply-add of the Gram kernel.
# Measured on a 2-core AVX-512 (Zen 5) machine with OpenBLAS, float32: the Gram kernel runs
# ~3e11 n·d² units/s; a multiply-add of the randomized solver's thin BLAS products (with its
# LU/QR steps) costs ~6 units; LAPACK's symmetric eigen-solve ~12·d³ units for a few eigenpairs
# (syevr, k ≤ d/4) and ~35·d³ for all of them (syevd); the SVD of a short, wide n × d copy
# (gesdd) ~100·n²·d.
_THIN_GEMM_COST = 6.0
_EIGH_SUBSET_COST = 12.0
_EIGH_FULL_COST = 35.0
_SVD_COST = 100.0


def choose_solver(n: int, d: int, k: Any, n_oversamples: int, n_iter: int) -> str:
    """The host's svd_solver="auto": scikit-learn's rule where it is about accuracy, the cost
    model above where it is about speed.

    - tall data (d ≤ 1000, n ≥ 10·d): "covariance_eigh", as scikit-learn picks (and the cost
      model would);
    - small data (both sides ≤ 500) or n_components="mle": "full", as scikit-learn picks: the
      most accurate solver (small eigenvalues too), at a cost that does not matter there;
    - otherwise (scikit-learn's shape rule picks "randomized" or "full") the cheapest by the
      cost model: covariance_eigh = n·d² (Gram) + eigen-solve (subset cost when an integer
      k ≤ d/4); randomized (integer k only) = _THIN_GEMM_COST · (2·n_iter + 2) passes ·
      2·n·d·(k + p); full (only when n < d) = _SVD_COST · n²·d. In practice covariance_eigh
      up to d ≈ 2000 (k = 32), randomized for wider data with a few components, full for
      short, wide data when all components or a variance fraction are asked for. (Units are
      float32's; float64 slows both products alike.)
    """
    if d <= 1000 and n >= 10 * d:
        return "covariance_eigh"
    if max(n, d) <= 500 or k == "mle":
        return "full"
    subset = isinstance(k, Integral) and 4 * k <= d
    eigh = (_EIGH_SUBSET_COST if subset else _EIGH_FULL_COST) * d**3
    costs = {"covariance_eigh": n * d * d + eigh}
    if isinstance(k, Integral):
        size = min(int(k) + n_oversamples, n, d)
        costs["randomized"] = _THIN_GEMM_COST * (2 * n_iter + 2) * 2 * n * d * size
    if n < d:
        costs["full"] = _SVD_COST * n * n * d
    return min(costs, key=costs.__getitem__)


class Host:
    """numpy arrays on the host: lepton's CPU kernels and LAPACK."""

    name = "numpy"
    in_memory = True
    solvers = ("auto", "covariance_eigh", "randomized", "full")
    fast_gram = True  # gram(x, "input"): float32 block sums (see PCA._fit_covariance)

    # -- input ---------------------------------------------------------------------------------

    @staticmethod
    def check(
        est: Any, X: Any, *, reset: bool, finite: bool = False, columns: int | None = None
    ) -> np.ndarray:
        """``validate_data`` (float32/float64 kept, others to float64; the estimator's layout).

        ``finite``: refuse NaN/inf here, for work that has no finiteness check of its own (the
        kernels' first passes have one, a free by-product of their sums). ``columns``: ``X``
        holds projections with that many columns (PCA's inverse_transform), not features.
        """
        if columns is not None:
            x = check_array(X, dtype=FLOATS, input_name="X")
            if x.shape[1] != columns:
                raise columns_mismatch(columns, x.shape[1])
            return x
        order = est._accepts.host_order
        return validate_data(
            est, X, dtype=FLOATS, order=order, reset=reset, ensure_all_finite=finite
        )

    @staticmethod
    def check_place(est: Any, X: Any) -> None:
        place = getattr(est, "_device", None)
        if place is not None:
            msg = (
                f"X: got a {placement(X).library} array on the host, but this "
                f"{type(est).__name__} was fitted on {place[0]} arrays on cuda:{place[1]}; pass "
                "X on that device (host+device mixes are not copied implicitly)"
            )
            raise TypeError(msg)

    @staticmethod
    def dtype(x: np.ndarray) -> np.dtype:
        return x.dtype

    # -- statistics ----------------------------------------------------------------------------

    column_stats = staticmethod(column_stats)

    @staticmethod
    def gram(x: np.ndarray, accumulate: str = "float64") -> GramStats:
        return gram_checked(x, "X", accumulate)

    @staticmethod
    def auto_solver(x: np.ndarray, k: Any, n_oversamples: int, n_iter: int) -> str:
        """:func:`choose_solver` for ``x``'s shape."""
        n, d = x.shape
        return choose_solver(n, d, k, n_oversamples, n_iter)

    @staticmethod
    def sketch(
        x: np.ndarray, solver: str, k: int, *, n_oversamples: int, n_iter: int, random_state: Any
    ) -> Sketch:
        """The randomized solver (range finder with power iterations, mean subtracted
        implicitly) or the full one (LAPACK's SVD of a centred copy)."""
        n = x.shape[0]
        if solver == "randomized":
            moments = column_moments_checked(x, "X")
            s, vt = randomized_svd(
                x, moments.mean, int(k), n_oversamples=n_oversamples, n_iter=n_iter,
                random_state=check_random_state(random_state),
            )  # fmt: skip
            total = float(moments.m2.sum()) / (n - 1)
            return Sketch(moments.mean, s**2 / (n - 1), vt, total)
        import scipy.linalg

        with np.errstate(invalid="ignore", over="ignore"):  # +inf and -inf in one column
            mean = x.mean(axis=0, dtype=np.float64)
        if not np.isfinite(mean).all():  # NaN/inf anywhere in a column reaches its mean
            raise non_finite()
        _, s, vt = scipy.linalg.svd(x - mean, full_matrices=False, check_finite=False)
        variances = s.astype(np.float64) ** 2 / (n - 1)
        return Sketch(mean, variances, vt, float(variances.sum()))

    # -- on the statistics ---------------------------------------------------------------------

    @staticmethod
    def eigh(gram: np.ndarray, k: Any) -> tuple[np.ndarray, np.ndarray]:
        """Descending eigenvalues (host float64) and eigenvectors (columns): the top k for an
        integer k, else all."""
        return top_eigen(gram, k if isinstance(k, Integral) and k > 0 else None)

    @staticmethod
    def trace(gram: np.ndarray) -> float:
        return float(np.trace(gram))

    @staticmethod
    def to_host(a: Any) -> Any:
        return a

    @staticmethod
    def publish(est: Any, like: Any) -> None:
        """Fitted arrays stay the host arrays ``est._store`` set."""

    # -- products ------------------------------------------------------------------------------

    @staticmethod
    def project(
        x: np.ndarray, mean: Any, components: Any, whiten: Any, total_variance: float | None = None
    ) -> np.ndarray:
        """``(x − mean) @ componentsᵀ``, divided by ``sqrt(whiten)`` unless ``whiten`` is None;
        ``total_variance`` lets a mean small against the data's spread skip the centring pass
        (``ops.pca.centred_matmul``)."""
        out = centred_matmul(x, mean, components.T, total_variance=total_variance)
        if whiten is not None:
            scale = np.sqrt(whiten).astype(out.dtype)
            out /= np.maximum(scale, np.finfo(out.dtype).eps)
        return out

    @staticmethod
    def unproject(x: np.ndarray, mean: Any, components: Any, whiten: Any) -> np.ndarray:
        if whiten is not None:
            components = np.sqrt(whiten)[:, None] * components
        return x @ components.astype(x.dtype, copy=False) + mean.astype(x.dtype, copy=False)

    @staticmethod
    def rows(est: Any, x: Any, fn: Any, **_: Any) -> Any:
        """A row-wise method on an in-memory array: ``fn(est, x)``, now."""
        return fn(est, x)


HOST = Host()
