"""Principal component analysis with the scikit-learn estimator API.

The covariance solver runs lepton's one-pass centred-Gram kernel (float64 statistics, no
centred copy of X) and a symmetric eigen-solver on the d × d result; the randomized solver runs
a range finder with power iterations on X with its mean subtracted implicitly; the full solver
is LAPACK's SVD of a centred copy, for data with fewer rows than columns. Attributes, their
definitions (ddof = 1 variances) and the sign convention (largest-|loading| of each component
positive, sklearn's ``svd_flip(u_based_decision=False)``) match ``sklearn.decomposition.PCA``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from lepton._cuda_arrays import is_cuda
from lepton._dask_input import is_dask_array, lepton_dask
from lepton.estimators import _pca_gpu
from lepton.ops.pca import (
    GramStats,
    centred_matmul,
    column_moments_checked,
    gram_checked,
    merge_gram,
    mle_dimension,
    randomized_svd,
    top_eigen,
)

_SOLVERS = ("auto", "covariance", "randomized", "full")
_FLOAT_DTYPES = [np.float64, np.float32]

# Cost model of solver="auto", in units of one multiply-add of the Gram kernel. Measured on a
# 2-core AVX-512 (Zen 5) machine with OpenBLAS, float32: the Gram kernel runs ~3e11 n·d² units/s;
# a multiply-add of the randomized solver's thin BLAS products (with its LU/QR steps) costs ~6
# units; LAPACK's symmetric eigen-solve ~12·d³ units for a few eigenpairs (syevr, k ≤ d/4) and
# ~35·d³ for all of them (syevd); the SVD of a short, wide n × d copy (gesdd) ~100·n²·d.
_THIN_GEMM_COST = 6.0
_EIGH_SUBSET_COST = 12.0
_EIGH_FULL_COST = 35.0
_SVD_COST = 100.0

# Float32 Gram with float32 block sums (see _fit_covariance): used from this much work (n·d²)
# on, where it pays, and kept while the kept spectrum spans at most this factor.
_FAST_GRAM_MIN = 1e8
_FAST_GRAM_MAX_SPREAD = 100.0


def _choose_solver(n: int, d: int, k: Any, n_oversamples: int, n_iter: int) -> str:
    """solver="auto": the cheapest of the three by the cost model above.

    - covariance: n·d² (Gram) + eigen-solve (subset cost when an integer k ≤ d/4);
    - randomized (integer k only): _THIN_GEMM_COST · (2·n_iter + 2) passes · 2·n·d·(k + p);
    - full (only when n < d): _SVD_COST · n²·d.
    In practice: covariance for tall data up to d ≈ 2000 (k = 32); randomized for wider data
    with a few components; full for short, wide data when all components or a variance
    fraction are asked for. (Units are float32's; float64 slows both products alike.)
    """
    subset = isinstance(k, Integral) and 4 * k <= d
    eigh = (_EIGH_SUBSET_COST if subset else _EIGH_FULL_COST) * d**3
    costs = {"covariance": n * d * d + eigh}
    if isinstance(k, Integral):
        size = min(int(k) + n_oversamples, n, d)
        costs["randomized"] = _THIN_GEMM_COST * (2 * n_iter + 2) * 2 * n * d * size
    if n < d:
        costs["full"] = _SVD_COST * n * n * d
    return min(costs, key=costs.__getitem__)


def _flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-|value| entry of each row positive (sklearn's svd_flip on Vᵀ)."""
    rows = np.arange(components.shape[0])
    signs = np.sign(components[rows, np.argmax(np.abs(components), axis=1)])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


class PCA(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Principal component analysis (sklearn-compatible) on lepton's kernels.

    Parameters
    ----------
    n_components : int, float in (0, 1), "mle" or None
        Components to keep: a count; the smallest count whose explained variance ratio exceeds
        the fraction; Minka's MLE of the dimension (needs n_samples ≥ n_features); or all
        (``min(n_samples, n_features)``).
    solver : {"auto", "covariance", "randomized", "full"}
        "covariance": centred Gram (one pass, float64) + eigen-decomposition; supports
        ``partial_fit``. "randomized": range finder with power iterations, integer
        ``n_components`` only. "full": SVD of a centred copy (exact; for few, wide rows).
        "auto" picks the cheapest by a cost model (see ``_choose_solver``).
    whiten : bool
        Scale the projections to unit variance.
    n_oversamples, n_power_iterations : randomized solver settings; ``n_power_iterations="auto"``
        is 7 when ``n_components < 0.1 · min(X.shape)``, else 4 (sklearn's rule).
    random_state : None, int or RandomState, for the randomized solver.

    Attributes are those of ``sklearn.decomposition.PCA``: ``components_``,
    ``explained_variance_``, ``explained_variance_ratio_``, ``singular_values_``, ``mean_``,
    ``n_components_``, ``noise_variance_``, ``n_samples_``, ``n_features_in_``; plus ``solver_``,
    the solver that ran. Fitted arrays have the dtype of X (float32 or float64; other inputs are
    converted to float64). An all-constant X gives zero variances and ratios. X is read in place
    when it is a C-contiguous float32/float64 array, copied once otherwise. NaN or inf in X is a
    ValueError (detected by the kernels' own sums, not by an extra pass).
    """

    def __init__(
        self,
        n_components: int | float | str | None = None,
        *,
        solver: str = "auto",
        whiten: bool = False,
        n_oversamples: int = 10,
        n_power_iterations: int | str = 4,
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.solver = solver
        self.whiten = whiten
        self.n_oversamples = n_oversamples
        self.n_power_iterations = n_power_iterations
        self.random_state = random_state

    # -- public API -----------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit the model on X (n_samples, n_features); numpy, cupy or torch CUDA, or a dask
        array of those (covariance solver, see :mod:`lepton.dask`)."""
        if is_dask_array(X):  # lepton.dask: merged block statistics / lazy blockwise map
            return lepton_dask().fit(self, X)
        if is_cuda(X):
            _pca_gpu.fit(self, X)
        else:
            self._fit(X)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit on X and return its projection (n_samples, n_components_)."""
        if is_dask_array(X):  # lepton.dask: merged block statistics / lazy blockwise map
            return lepton_dask().fit_transform(self, X)
        if is_cuda(X):
            _pca_gpu.fit(self, X)
            return _pca_gpu.transform(self, X)
        return self._project(self._fit(X))

    def partial_fit(self, X: Any, y: Any = None) -> PCA:
        """Add the rows of X to the accumulated statistics and refit the components.

        The centred Gram and mean of every batch merge exactly, so any split of the rows gives
        the model a single ``fit`` on all of them gives. partial_fit always runs the covariance
        solver, whatever ``solver`` says (only the Gram merges); a model fitted by the
        randomized or full solver keeps no Gram and cannot be continued.
        """
        if is_dask_array(X):  # lepton.dask: merged block statistics / lazy blockwise map
            return lepton_dask().partial_fit(self, X)
        self._check_params()
        first = not hasattr(self, "components_")
        if not first and getattr(self, "_gram_stats", None) is None:
            msg = (
                f"partial_fit: this model was fitted with solver={self.solver_!r}, which keeps "
                "no Gram statistics to extend; refit it with solver='covariance'"
            )
            raise ValueError(msg)
        if is_cuda(X) or (not first and _pca_gpu.fitted_place(self) is not None):
            _pca_gpu.partial_fit(self, X, first)
            return self
        X = self._validate(X, reset=first)
        stats = gram_checked(X, "X")
        if not first:
            stats = merge_gram(self._gram_stats, stats)
        self._fit_from_gram(stats, X.dtype)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Project X on the components: ``(X − mean_) @ components_ᵀ`` (whitened if asked)."""
        if is_dask_array(X):  # lepton.dask: merged block statistics / lazy blockwise map
            return lepton_dask().transform(self, X)
        check_is_fitted(self)
        if is_cuda(X) or _pca_gpu.fitted_place(self) is not None:
            return _pca_gpu.transform(self, X)
        # Checked before the product: BLAS may raise the FPU's invalid flag on NaN/inf (numpy
        # then warns "invalid value encountered in matmul"), depending on the CPU's kernels.
        return self._project(self._validate(X, reset=False, finite=True))

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Map projections (n_samples, n_components_) back to the feature space."""
        if is_dask_array(X):  # lepton.dask: merged block statistics / lazy blockwise map
            return lepton_dask().inverse_transform(self, X)
        check_is_fitted(self)
        if is_cuda(X) or _pca_gpu.fitted_place(self) is not None:
            return _pca_gpu.inverse_transform(self, X)
        X = check_array(X, dtype=_FLOAT_DTYPES, input_name="X")
        if X.shape[1] != self.n_components_:
            msg = f"X: expected {self.n_components_} columns (n_components_), got {X.shape[1]}"
            raise ValueError(msg)
        components = self.components_
        if self.whiten:
            components = np.sqrt(self.explained_variance_)[:, None] * components
        return X @ components.astype(X.dtype, copy=False) + self.mean_.astype(X.dtype, copy=False)

    @property
    def _n_features_out(self) -> int:
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- fitting --------------------------------------------------------------------------------

    def _validate(self, X: Any, *, reset: bool, finite: bool = False) -> np.ndarray:
        # The fits check finiteness in their compiled first pass (a free by-product of its
        # sums); numpy/BLAS work on unchecked data asks for ``finite=True`` instead.
        return validate_data(
            self, X, dtype=_FLOAT_DTYPES, order="C", reset=reset, ensure_all_finite=finite
        )

    def _fit(self, X: Any) -> np.ndarray:
        self._check_params()
        X = self._validate(X, reset=True)
        n, d = X.shape
        _check_samples(n)
        k = self._check_n_components(n, d)
        solver = self._resolve_solver(n, d, k)
        if solver == "covariance":
            self._fit_covariance(X, k)
        elif solver == "randomized":
            self._fit_randomized(X, k)
        else:
            self._fit_full(X)
        return X

    def _fit_covariance(self, X: np.ndarray, k: Any) -> None:
        """The covariance solver, with float32 block accumulation where it is accurate enough.

        Summing each block of float32 rows in float32 halves the Gram's cost; its eigenvalues
        then carry an error of about 3e-8 · λ₁, so the fast Gram is kept only when the top-k
        spectrum spans at most _FAST_GRAM_MAX_SPREAD (relative error ≲ 3e-6 for every kept
        eigenvalue); otherwise the Gram is recomputed with float64 accumulation.
        """
        n, d = X.shape
        fast = X.dtype == np.float32 and isinstance(k, Integral) and n * d * d >= _FAST_GRAM_MIN
        stats = gram_checked(X, "X", "input" if fast else "float64")
        eigen = _top_variances(stats, k)
        if fast and not _spread_within(eigen[0], _FAST_GRAM_MAX_SPREAD):
            stats = gram_checked(X, "X", "float64")
            eigen = _top_variances(stats, k)
        self._store_gram_fit(stats, eigen, X.dtype)

    def _fit_from_gram(self, stats: GramStats, dtype: np.dtype) -> None:
        _check_samples(stats.n)
        k = self._check_n_components(stats.n, stats.mean.shape[0])
        self._store_gram_fit(stats, _top_variances(stats, k), dtype)

    def _store_gram_fit(self, stats: GramStats, eigen: tuple, dtype: np.dtype) -> None:
        n, d = stats.n, stats.mean.shape[0]
        variances, vectors = eigen
        total = float(np.trace(stats.gram)) / (n - 1)
        self._store(stats.mean, variances, vectors.T, total, n, d, dtype, "covariance")
        self._gram_stats = stats

    def _fit_randomized(self, X: np.ndarray, k: int) -> None:
        n, d = X.shape
        moments = column_moments_checked(X, "X")
        s, vt = randomized_svd(
            X,
            moments.mean,
            int(k),
            n_oversamples=self.n_oversamples,
            n_iter=self._power_iterations(n, d, k),
            random_state=check_random_state(self.random_state),
        )
        total = float(moments.m2.sum()) / (n - 1)
        self._store(moments.mean, s**2 / (n - 1), vt, total, n, d, X.dtype, "randomized")
        self._gram_stats = None

    def _fit_full(self, X: np.ndarray) -> None:
        import scipy.linalg

        n, d = X.shape
        with np.errstate(invalid="ignore", over="ignore"):  # +inf and -inf in one column
            mean = X.mean(axis=0, dtype=np.float64)
        if not np.isfinite(mean).all():  # NaN/inf anywhere in a column reaches its mean
            msg = "X: contains NaN or inf; remove or impute them first"
            raise ValueError(msg)
        _, s, vt = scipy.linalg.svd(X - mean, full_matrices=False, check_finite=False)
        variances = s.astype(np.float64) ** 2 / (n - 1)
        self._store(mean, variances, vt, float(variances.sum()), n, d, X.dtype, "full")
        self._gram_stats = None

    def _store(self, mean, variances, vectors, total, n, d, dtype, solver) -> None:
        """Set the fitted attributes from (possibly all) descending variances and components."""
        variances = np.maximum(np.asarray(variances, dtype=np.float64), 0.0)
        k = self._final_components(variances, total, n, d)
        rank = min(n, d)
        variances, vectors = variances[:k], np.asarray(vectors, dtype=np.float64)[:k]
        ratio = variances / total if total > 0 else np.zeros_like(variances)
        noise = max(total - float(variances.sum()), 0.0) / (rank - k) if k < rank else 0.0
        self.mean_ = np.asarray(mean, dtype=dtype)
        self.components_ = _flip_signs(vectors).astype(dtype)
        self.explained_variance_ = variances.astype(dtype)
        self.explained_variance_ratio_ = ratio.astype(dtype)
        self.singular_values_ = np.sqrt(variances * (n - 1)).astype(dtype)
        self.noise_variance_ = dtype.type(noise)
        self.n_components_ = int(k)
        self.n_samples_ = int(n)
        self.solver_ = solver
        self._device = None  # (library, device index) once the device path moves the arrays

    def _final_components(self, variances: np.ndarray, total: float, n: int, d: int) -> int:
        k = self.n_components
        if k is None:
            return min(n, d)
        if isinstance(k, str):  # "mle", validated before
            return mle_dimension(variances, n)
        if isinstance(k, Integral):
            return int(k)
        ratio = np.cumsum(variances) / total if total > 0 else np.ones_like(variances)
        return int(min(np.searchsorted(ratio, k, side="right") + 1, variances.size))

    def _project(self, X: np.ndarray) -> np.ndarray:
        out = centred_matmul(X, self.mean_.astype(np.float64), self.components_.T)
        if self.whiten:
            scale = np.sqrt(self.explained_variance_).astype(out.dtype)
            out /= np.maximum(scale, np.finfo(out.dtype).eps)
        return out

    # -- parameter checks -----------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.solver not in _SOLVERS:
            msg = f"solver: expected one of {', '.join(map(repr, _SOLVERS))}, got {self.solver!r}"
            raise ValueError(msg)
        if not isinstance(self.n_oversamples, Integral) or self.n_oversamples < 0:
            msg = f"n_oversamples: expected an int >= 0, got {self.n_oversamples!r}"
            raise ValueError(msg)
        q = self.n_power_iterations
        if q != "auto" and (not isinstance(q, Integral) or isinstance(q, bool) or q < 0):
            msg = f"n_power_iterations: expected an int >= 0 or 'auto', got {q!r}"
            raise ValueError(msg)

    def _check_n_components(self, n: int, d: int) -> int | float | str | None:
        k = self.n_components
        if k is None:
            return None
        if isinstance(k, str):
            if k != "mle":
                msg = f"n_components: expected an int, a float in (0, 1), 'mle' or None, got {k!r}"
                raise ValueError(msg)
            if n < d:
                msg = f"n_components='mle' needs n_samples >= n_features, got {n} < {d}"
                raise ValueError(msg)
            return k
        if isinstance(k, Integral) and not isinstance(k, bool):
            if not 1 <= k <= min(n, d):
                msg = (
                    f"n_components={k} must be between 1 and min(n_samples, n_features)={min(n, d)}"
                )
                raise ValueError(msg)
            return int(k)
        if isinstance(k, Real) and not isinstance(k, bool) and 0 < k < 1:
            return float(k)
        msg = f"n_components: expected an int >= 1, a float in (0, 1), 'mle' or None, got {k!r}"
        raise ValueError(msg)

    def _resolve_solver(self, n: int, d: int, k: Any) -> str:
        if self.solver == "auto":
            return _choose_solver(n, d, k, self.n_oversamples, self._power_iterations(n, d, k))
        if self.solver == "randomized" and not isinstance(k, Integral):
            msg = f"n_components={k!r}: solver='randomized' needs an integer n_components"
            raise ValueError(msg)
        return self.solver

    def _power_iterations(self, n: int, d: int, k: Any) -> int:
        if self.n_power_iterations != "auto":
            return int(self.n_power_iterations)
        small = isinstance(k, Integral) and k < 0.1 * min(n, d)
        return 7 if small else 4


def _top_variances(stats: GramStats, k: Any) -> tuple[np.ndarray, np.ndarray]:
    """Descending covariance eigenvalues (the top k, or all) and eigenvectors (columns)."""
    values, vectors = top_eigen(stats.gram, k if isinstance(k, Integral) else None)
    return values / (stats.n - 1), vectors


def _spread_within(variances: np.ndarray, limit: float) -> bool:
    return bool(variances[-1] > 0 and variances[0] <= limit * variances[-1])


def _check_samples(n: int) -> None:
    if n < 2:
        msg = f"X: expected at least 2 samples to estimate a covariance, got n_samples = {n}"
        raise ValueError(msg)


__all__ = ["PCA"]
