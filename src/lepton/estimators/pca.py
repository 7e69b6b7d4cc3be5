"""Principal component analysis with the scikit-learn estimator API.

The covariance solver runs lepton's one-pass centred-Gram kernel (float64 statistics, no
centred copy of X) and a symmetric eigen-solver on the d × d result; the randomized solver runs
a range finder with power iterations on X with its mean subtracted implicitly; the full solver
is LAPACK's SVD of a centred copy, for data with fewer rows than columns. Attributes, their
definitions (ddof = 1 variances) and the sign convention (largest-|loading| of each component
positive, sklearn's ``svd_flip(u_based_decision=False)``) match ``sklearn.decomposition.PCA``.

Where the data lives (numpy, CUDA, dask) is the backend's business
(:mod:`lepton.estimators._backend`): it validates X and computes the statistics (the centred
Gram, or the randomized / full solvers' sketch); this module turns them into the model.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from lepton.estimators._backend import backend_of
from lepton.estimators._backend_base import Accepts
from lepton.ops.pca import GramStats, merge_gram, mle_dimension

_SOLVERS = ("auto", "covariance", "randomized", "full")

# Float32 Gram with float32 block sums (see _fit_covariance): used from this much work (n·d²)
# on, where it pays, and kept while the kept spectrum spans at most this factor.
_FAST_GRAM_MIN = 1e8
_FAST_GRAM_MAX_SPREAD = 100.0


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
    ValueError (detected by the fits' kernels from their own sums, not by an extra pass).
    """

    _accepts = Accepts(
        host_order="C",
        device_dtypes=("float32", "float64"),
        device_hint=" (convert with x.float() / x.astype('float32') or float64)",
        follows_input=True,
    )

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
        array of those (covariance solver: the statistics that merge across blocks)."""
        self._fit(X)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit on X and return its projection (n_samples, n_components_)."""
        data, x = self._fit(X)  # x is validated and known finite here
        return data.rows(self, x, PCA._project, width=self.n_components_, dtype=data.dtype(x),
                         finite=True)  # fmt: skip

    def partial_fit(self, X: Any, y: Any = None) -> PCA:
        """Add the rows of X to the accumulated statistics and refit the components.

        The centred Gram and mean of every batch merge exactly, so any split of the rows gives
        the model a single ``fit`` on all of them gives. partial_fit always runs the covariance
        solver, whatever ``solver`` says (only the Gram merges); a model fitted by the
        randomized or full solver keeps no Gram and cannot be continued.
        """
        self._check_params()
        first = not hasattr(self, "components_")
        if not first and getattr(self, "_gram_stats", None) is None:
            msg = (
                f"partial_fit: this model was fitted with solver={self.solver_!r}, which keeps "
                "no Gram statistics to extend; refit it with solver='covariance'"
            )
            raise ValueError(msg)
        data = self._backend(X, fitted=not first)
        x = data.check(self, X, reset=first)
        stats = data.gram(x)
        self._fit_gram(stats if first else merge_gram(self._gram_stats, stats), data.dtype(x))
        return self

    def transform(self, X: Any) -> Any:
        """Project X on the components: ``(X − mean_) @ components_ᵀ`` (whitened if asked)."""
        check_is_fitted(self)
        data = self._backend(X, fitted=True)
        # Checked before the product: BLAS may raise the FPU's invalid flag on NaN/inf (numpy
        # then warns "invalid value encountered in matmul"), depending on the CPU's kernels.
        x = data.check(self, X, reset=False, finite=True)
        return data.rows(self, x, PCA._project, width=self.n_components_, dtype=data.dtype(x),
                         finite=True)  # fmt: skip

    def inverse_transform(self, X: Any) -> Any:
        """Map projections (n_samples, n_components_) back to the feature space."""
        check_is_fitted(self)
        data = self._backend(X, fitted=True)
        x = data.check(self, X, reset=False, columns=self.n_components_)
        return data.rows(self, x, PCA._unproject, width=self.n_features_in_,
                         dtype=data.dtype(x), columns=self.n_components_)  # fmt: skip

    @property
    def _n_features_out(self) -> int:
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- row-wise work (on an in-memory array or a dask block) ----------------------------------

    def _project(self, x: Any) -> Any:
        whiten = self.explained_variance_ if self.whiten else None
        return backend_of(x).project(x, self.mean_, self.components_, whiten)

    def _unproject(self, x: Any) -> Any:
        whiten = self.explained_variance_ if self.whiten else None
        return backend_of(x).unproject(x, self.mean_, self.components_, whiten)

    # -- fitting --------------------------------------------------------------------------------

    def _backend(self, X: Any, *, fitted: bool) -> Any:
        """X's backend; a fitted model takes X only where its fitted arrays live."""
        data = backend_of(X)
        if fitted:
            data.check_place(self, X)
        return data

    def _fit(self, X: Any) -> tuple[Any, Any]:
        self._check_params()
        data = backend_of(X)
        x = data.check(self, X, reset=True)
        solver = self._solver_for(data, x)
        if solver == "covariance":
            self._fit_covariance(data, x)
        else:
            n, d = x.shape
            k = self.n_components
            sketch = data.sketch(
                x, solver, k, n_oversamples=self.n_oversamples,
                n_iter=self._power_iterations(n, d, k), random_state=self.random_state,
            )  # fmt: skip
            mean, variances, vt, total = sketch
            self._store_fit(data, mean, variances, vt, total, n, d, data.dtype(x), solver, x)
            self._gram_stats = None
        return data, x

    def _solver_for(self, data: Any, x: Any) -> str:
        if self.solver not in data.solvers:
            msg = (
                f"solver={self.solver!r}: not available on a {data.name} array, because it needs "
                "all rows at once; use solver='covariance' (or 'auto', which is 'covariance' on "
                f"{data.name} input), whose Gram statistics merge across blocks, or fit on "
                "x.compute()"
            )
            raise ValueError(msg)
        if not data.in_memory:  # the row count may be known only once the Gram is
            return "covariance"
        n, d = x.shape
        _check_samples(n)
        k = self._check_n_components(n, d)
        if self.solver == "auto":
            n_iter = self._power_iterations(n, d, k)
            return data.auto_solver(n, d, k, self.n_oversamples, n_iter)
        if self.solver == "randomized" and not isinstance(k, Integral):
            msg = f"n_components={k!r}: solver='randomized' needs an integer n_components"
            raise ValueError(msg)
        return self.solver

    def _fit_covariance(self, data: Any, x: Any) -> None:
        """The covariance solver, with float32 block accumulation where it is accurate enough.

        Summing each block of float32 rows in float32 halves the Gram's cost; its eigenvalues
        then carry an error of about 3e-8 · λ₁, so the fast Gram is kept only when the top-k
        spectrum spans at most _FAST_GRAM_MAX_SPREAD (relative error ≲ 3e-6 for every kept
        eigenvalue); otherwise the Gram is recomputed with float64 accumulation.
        """
        n, d = x.shape
        fast = (
            data.fast_gram
            and x.dtype == np.float32
            and isinstance(self.n_components, Integral)
            and n * d * d >= _FAST_GRAM_MIN
        )
        stats = data.gram(x, accumulate="input" if fast else "float64")
        k = self._check_gram(stats)
        eigen = self._eigen(stats, k)
        if fast and not _spread_within(eigen[0], _FAST_GRAM_MAX_SPREAD):
            stats = data.gram(x, accumulate="float64")
            eigen = self._eigen(stats, k)
        self._store_gram(stats, eigen, data.dtype(x))

    # -- from statistics to the model (every backend's) ------------------------------------------

    def _check_gram(self, stats: GramStats) -> Any:
        _check_samples(stats.n)
        return self._check_n_components(stats.n, stats.mean.shape[0])

    def _fit_gram(self, stats: GramStats, dtype: np.dtype) -> None:
        self._store_gram(stats, self._eigen(stats, self._check_gram(stats)), dtype)

    @staticmethod
    def _eigen(stats: GramStats, k: Any) -> tuple[np.ndarray, Any]:
        """Descending covariance eigenvalues (the top k, or all; host float64) and eigenvectors
        (columns, where the Gram is)."""
        values, vectors = backend_of(stats.mean).eigh(stats.gram, k)
        return values / (stats.n - 1), vectors

    def _store_gram(self, stats: GramStats, eigen: tuple, dtype: np.dtype) -> None:
        n, d = stats.n, stats.mean.shape[0]
        variances, vectors = eigen
        place = backend_of(stats.mean)
        total = place.trace(stats.gram) / (n - 1)
        self._store_fit(place, stats.mean, variances, vectors.T, total, n, d, dtype, "covariance",
                        stats.mean)  # fmt: skip
        self._gram_stats = stats

    def _store_fit(self, place, mean, variances, vectors, total, n, d, dtype, solver, like) -> None:
        """The fitted attributes from host copies of the (small) results, then moved where
        ``like`` lives by its backend."""
        self._store(place.to_host(mean), variances, place.to_host(vectors), total, n, d, dtype,
                    solver)  # fmt: skip
        place.publish(self, like)

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

    def _power_iterations(self, n: int, d: int, k: Any) -> int:
        if self.n_power_iterations != "auto":
            return int(self.n_power_iterations)
        small = isinstance(k, Integral) and k < 0.1 * min(n, d)
        return 7 if small else 4


def _spread_within(variances: np.ndarray, limit: float) -> bool:
    return bool(variances[-1] > 0 and variances[0] <= limit * variances[-1])


def _check_samples(n: int) -> None:
    if n < 2:
        msg = f"X: expected at least 2 samples to estimate a covariance, got n_samples = {n}"
        raise ValueError(msg)


__all__ = ["PCA"]
