"""Principal component analysis: a drop-in ``sklearn.decomposition.PCA`` on lepton's kernels.

The covariance solver runs lepton's one-pass centred-Gram kernel (float64 statistics, no
centred copy of X) and a symmetric eigen-solver on the d × d result; the randomized solver runs
a range finder with power iterations on X with its mean subtracted implicitly; the full solver
is LAPACK's SVD of a centred copy, for data with fewer rows than columns. Attributes, their
definitions (ddof = 1 variances) and the sign convention (largest-|loading| of each component
positive, sklearn's ``svd_flip(u_based_decision=False)``) match ``sklearn.decomposition.PCA``.
The class subclasses it: same constructor, attributes and methods (``score``,
``get_covariance``... are scikit-learn's own, on lepton's fitted attributes); what lepton does
not accelerate runs scikit-learn's implementation (:mod:`lepton.estimators._fallback`).

Where the data lives (numpy, CUDA, dask) is the backend's business
(:mod:`lepton.estimators._backend`): it validates X and computes the statistics (the centred
Gram, or the randomized / full solvers' sketch); this module turns them into the model.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import sklearn.decomposition
from sklearn.base import _fit_context
from sklearn.decomposition._pca import _infer_dimension
from sklearn.utils.validation import check_is_fitted

from lepton._sklearn_original import original_class
from lepton.estimators._backend import backend_of
from lepton.estimators._backend_base import Accepts
from lepton.estimators._fallback import input_reason, sklearn_fallback
from lepton.ops.pca import GramStats, merge_gram

# scikit-learn's own class, also when lepton.accel has put its routing class in its place.
_SklearnPCA = original_class(sklearn.decomposition.PCA)

# The two solvers with rules of their own: the one whose statistics merge (partial_fit, dask),
# and the one that needs a count of components ("full" is the third; "auto" picks one).
_COVARIANCE, _RANDOMIZED = "covariance_eigh", "randomized"

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


class PCA(_SklearnPCA):
    """Principal component analysis, ``sklearn.decomposition.PCA`` on lepton's kernels.

    Same constructor (``n_components=None, *, copy=True, whiten=False, svd_solver="auto",
    tol=0.0, iterated_power="auto", n_oversamples=10, power_iteration_normalizer="auto",
    random_state=None``), attributes, methods and numbers (within float round-off; the same
    component signs). numpy, cupy and torch CUDA input, and dask arrays of those.

    Solvers (``svd_solver``; ``_fit_svd_solver`` names the one that ran):

    - "covariance_eigh": lepton's one-pass centred Gram kernel (float64 statistics, no centred
      copy of X) + a symmetric eigen-solver of the d × d result; the solver of ``partial_fit``
      and of dask input (its statistics merge).
    - "randomized": a range finder with ``iterated_power`` LU-normalised power iterations on X
      with its mean subtracted implicitly (sklearn's algorithm, the same random matrix for a
      given ``random_state``).
    - "full": LAPACK's SVD of a centred copy (float64 for float32 input).
    - "auto" on the host: scikit-learn's choice where it is about accuracy (covariance_eigh for
      tall data, d ≤ 1000 and n ≥ 10·d; full for data up to 500 on each side and for "mle"),
      elsewhere the cheapest of the three by a measured cost model (covariance_eigh up to
      d ≈ 2000 where scikit-learn picks randomized, randomized for wider data and few
      components, full for short wide data); on the GPU a device cost model
      (``ops.pca_solver``: covariance_eigh or randomized, for the Gram engine that runs and
      with the eigen-solve below). Where lepton runs an exact solver and scikit-learn
      "randomized", results agree within the randomized solver's error.
    - The covariance solver's eigen-solve on the GPU: the k leading eigenpairs by block
      subspace iteration (``_pca_cuda.top_eigen``, eigenvalues to 1e-9 relative of the Gram's)
      where the device cost model finds it cheaper than cuSOLVER's full syevd (an integer
      n_components ≤ d/4 of wide data, d ≳ 800), the full syevd otherwise.
    - "arpack": scikit-learn's own (see below).

    scikit-learn's own implementation runs (said once at INFO level on the ``lepton.estimators``
    logger) for sparse input, ``svd_solver="arpack"``, ``svd_solver="randomized"`` with
    ``power_iteration_normalizer`` "QR" or "none", and host arrays of other array-API libraries
    under ``array_api_dispatch``: see :meth:`fallback_reason`.

    Differences: ``copy`` is accepted and X is never modified (lepton never centres it in
    place); an all-constant X gives explained variance ratios of 0 (not NaN); at least 2 samples
    are needed; ``partial_fit`` (lepton's: the centred Gram of every batch merges exactly, so
    batches give the model of one fit) runs the covariance solver whatever ``svd_solver`` says.
    Fitted arrays have X's dtype (float32 or float64; others become float64) and, for CUDA
    input, X's library and device. X is read in place when it is a C-contiguous
    float32/float64 array, copied once otherwise. NaN or inf in X is a ValueError.
    """

    _sklearn_class = _SklearnPCA
    _accepts = Accepts(
        host_order="C",
        device_dtypes=("float32", "float64"),
        device_hint=" (convert with x.float() / x.astype('float32') or float64)",
        follows_input=True,
    )

    @classmethod
    def fallback_reason(
        cls, params: dict, X: Any = None, *, method: str = "fit", **_: Any
    ) -> str | None:
        """Why this call would run scikit-learn's implementation, or None when lepton runs it.

        ``params``: the estimator's ``get_params()``; ``X``: the call's input (None: judge the
        parameters alone); ``method``: "fit", "fit_transform", "transform",
        "inverse_transform" or "partial_fit". Parameters matter to the fits only: a model
        fitted by scikit-learn transforms on lepton.
        """
        reason = None if X is None else input_reason(X)
        if reason is not None or method not in ("fit", "fit_transform"):
            return reason
        solver = params.get("svd_solver", "auto")
        if solver == "arpack":
            return "svd_solver='arpack' (lepton has no ARPACK solver)"
        normalizer = params.get("power_iteration_normalizer", "auto")
        if solver == _RANDOMIZED and normalizer in ("QR", "none"):
            return f"power_iteration_normalizer={normalizer!r} (lepton's randomized solver uses LU)"
        return None

    # -- public API -----------------------------------------------------------------------------

    @sklearn_fallback
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> PCA:
        """Fit the model on X (n_samples, n_features); numpy, cupy or torch CUDA, or a dask
        array of those (covariance solver: the statistics that merge across blocks)."""
        self._fit_lepton(X)
        return self

    @sklearn_fallback
    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit on X and return its projection (n_samples, n_components_)."""
        data, x = self._fit_lepton(X)  # x is validated and known finite here
        return data.rows(self, x, PCA._project, width=self.n_components_, dtype=data.dtype(x),
                         finite=True)  # fmt: skip

    @sklearn_fallback
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any = None) -> PCA:
        """Add the rows of X to the accumulated statistics and refit the components.

        The centred Gram and mean of every batch merge exactly, so any split of the rows gives
        the model a single ``fit`` on all of them gives. partial_fit always runs the covariance
        solver, whatever ``svd_solver`` says (only the Gram merges); a model fitted by another
        solver keeps no Gram and cannot be continued.
        """
        first = not hasattr(self, "components_")
        if not first and getattr(self, "_gram_stats", None) is None:
            msg = (
                f"partial_fit: this model was fitted with svd_solver={self._fit_svd_solver!r}, "
                "which keeps no Gram statistics to extend; refit it with "
                f"svd_solver='{_COVARIANCE}'"
            )
            raise ValueError(msg)
        data = self._backend(X, fitted=not first)
        x = data.check(self, X, reset=first)
        stats = data.gram(x)
        self._fit_gram(stats if first else merge_gram(self._gram_stats, stats), data.dtype(x))
        return self

    @sklearn_fallback
    def transform(self, X: Any) -> Any:
        """Project X on the components: ``(X − mean_) @ components_ᵀ`` (whitened if asked)."""
        check_is_fitted(self)
        data = self._backend(X, fitted=True)
        # Checked before the product: BLAS may raise the FPU's invalid flag on NaN/inf (numpy
        # then warns "invalid value encountered in matmul"), depending on the CPU's kernels.
        x = data.check(self, X, reset=False, finite=True)
        return data.rows(self, x, PCA._project, width=self.n_components_, dtype=data.dtype(x),
                         finite=True)  # fmt: skip

    @sklearn_fallback
    def inverse_transform(self, X: Any) -> Any:
        """Map projections (n_samples, n_components_) back to the feature space."""
        check_is_fitted(self)
        data = self._backend(X, fitted=True)
        x = data.check(self, X, reset=False, columns=self.n_components_)
        return data.rows(self, x, PCA._unproject, width=self.n_features_in_,
                         dtype=data.dtype(x), columns=self.n_components_)  # fmt: skip

    def _after_sklearn(self, method: str) -> None:
        if method in ("fit", "fit_transform"):  # scikit-learn's fit: host arrays, no Gram
            self._gram_stats = None
            self._device = None

    # -- row-wise work (on an in-memory array or a dask block) ----------------------------------

    def _project(self, x: Any) -> Any:
        whiten = self.explained_variance_ if self.whiten else None
        return backend_of(x).project(
            x, self.mean_, self.components_, whiten, total_variance=self._total_variance()
        )

    def _total_variance(self) -> float | None:
        """The fitted data's total variance (the trace of its covariance), from the attributes
        scikit-learn defines: the kept eigenvalues plus noise_variance_ for each left out."""
        try:
            kept = np.asarray(self.explained_variance_, dtype=np.float64)
            rank = min(int(self.n_samples_), int(self.n_features_in_))
            return float(kept.sum() + float(self.noise_variance_) * max(rank - kept.size, 0))
        except (AttributeError, TypeError, ValueError):
            return None

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

    def _fit_lepton(self, X: Any) -> tuple[Any, Any]:
        data = backend_of(X)
        x = data.check(self, X, reset=True)
        solver, k = self._solver_for(data, x)
        if solver == _COVARIANCE:
            self._fit_covariance(data, x)
        else:
            n, d = x.shape
            sketch = data.sketch(
                x, solver, k, n_oversamples=self.n_oversamples,
                n_iter=self._power_iterations(n, d, k), random_state=self.random_state,
            )  # fmt: skip
            mean, variances, vt, total = sketch
            self._store_fit(data, mean, variances, vt, total, n, d, data.dtype(x), solver, x)
            self._gram_stats = None
        return data, x

    def _solver_for(self, data: Any, x: Any) -> tuple[str, Any]:
        """The solver to run on ``x`` and the n_components it is asked for (scikit-learn's
        checks and messages; None: the row count is not known before the statistics)."""
        if self.svd_solver not in data.solvers:
            msg = (
                f"svd_solver={self.svd_solver!r}: not available on a {data.name} array, because "
                f"it needs all rows at once; use svd_solver='{_COVARIANCE}' (or 'auto', which is "
                f"'{_COVARIANCE}' on {data.name} input), whose Gram statistics merge across "
                "blocks, or fit on x.compute()"
            )
            raise ValueError(msg)
        if not data.in_memory:  # the row count may be known only once the Gram is
            return _COVARIANCE, None
        n, d = x.shape
        _check_samples(n)
        k = min(n, d) if self.n_components is None else self.n_components
        solver = self.svd_solver
        if solver == "auto":
            n_iter = self._power_iterations(n, d, k)
            wanted = None if self.n_components is None else k  # None: every component
            solver = data.auto_solver(x, wanted, self.n_oversamples, n_iter)
        self._fit_svd_solver = solver
        _check_n_components(k, n, d, solver)
        return solver, k

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
        """n_components for the covariance solver on these statistics (checked)."""
        n, d = stats.n, stats.mean.shape[0]
        _check_samples(n)
        self._fit_svd_solver = _COVARIANCE
        k = min(n, d) if self.n_components is None else self.n_components
        _check_n_components(k, n, d, _COVARIANCE)
        return k

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
        self._store_fit(place, stats.mean, variances, vectors.T, total, n, d, dtype, _COVARIANCE,
                        stats.mean)  # fmt: skip
        self._gram_stats = stats

    def _store_fit(self, place, mean, variances, vectors, total, n, d, dtype, solver, like) -> None:
        """The fitted attributes from host copies of the (small) results, then moved where
        ``like`` lives by its backend."""
        self._store(place.to_host(mean), variances, place.to_host(vectors), total, n, d, dtype,
                    solver)  # fmt: skip
        place.publish(self, like)

    def _store(self, mean, variances, vectors, total, n, d, dtype, solver) -> None:
        """Set the fitted attributes from (possibly all) descending variances and components.

        The noise variance is scikit-learn's per solver: the mean of the discarded covariance
        eigenvalues, over all d of them for the covariance solver and over the min(n, d)
        singular values' for the others (they differ when n < d), 0 when none is discarded.
        """
        variances = np.maximum(np.asarray(variances, dtype=np.float64), 0.0)
        k = self._final_components(variances, total, n, d)
        rank = min(n, d)
        variances, vectors = variances[:k], np.asarray(vectors, dtype=np.float64)[:k]
        ratio = variances / total if total > 0 else np.zeros_like(variances)
        discarded = (d if solver == _COVARIANCE else rank) - k
        noise = max(total - float(variances.sum()), 0.0) / discarded if k < rank else 0.0
        self.mean_ = np.asarray(mean, dtype=dtype)
        self.components_ = _flip_signs(vectors).astype(dtype)
        self.explained_variance_ = variances.astype(dtype)
        self.explained_variance_ratio_ = ratio.astype(dtype)
        self.singular_values_ = np.sqrt(variances * (n - 1)).astype(dtype)
        # scikit-learn's types: a plain 0.0 when no component is discarded
        self.noise_variance_ = dtype.type(noise) if k < rank else 0.0
        self.n_components_ = k
        self.n_samples_ = int(n)
        self._device = None  # (library, device index) once the device path moves the arrays

    def _final_components(self, variances: np.ndarray, total: float, n: int, d: int) -> Any:
        """The number of components kept, with scikit-learn's type: a plain int for None, the
        count asked for as given, a numpy integer where it is found ("mle", a fraction)."""
        k = self.n_components
        if k is None:
            return min(n, d)
        if isinstance(k, str):  # "mle", validated before: scikit-learn's own rule
            return np.int64(_infer_dimension(variances, n))
        if isinstance(k, Integral):
            return k
        ratio = np.cumsum(variances) / total if total > 0 else np.ones_like(variances)
        return np.int64(min(np.searchsorted(ratio, k, side="right") + 1, variances.size))

    def _power_iterations(self, n: int, d: int, k: Any) -> int:
        """``iterated_power``; "auto" is 7 when n_components < 0.1 · min(n, d), else 4."""
        if self.iterated_power != "auto":
            return int(self.iterated_power)
        small = isinstance(k, Integral) and k < 0.1 * min(n, d)
        return 7 if small else 4


def _check_n_components(k: Any, n: int, d: int, solver: str) -> None:
    """scikit-learn's checks of n_components for ``solver``, with its messages (the type and
    range of the parameter itself are checked by ``_validate_params``): the randomized solver
    needs a count of at least 1, the others take 0 … min(n, d), a fraction or "mle"."""
    if isinstance(k, str):
        if solver == _RANDOMIZED:
            msg = f"n_components={k!r} cannot be a string with svd_solver='{solver}'"
            raise ValueError(msg)
        if n < d:
            msg = "n_components='mle' is only supported if n_samples >= n_features"
            raise ValueError(msg)
        return
    low, rank = (1 if solver == _RANDOMIZED else 0), min(n, d)
    if not low <= k <= rank:
        msg = (
            f"n_components={k} must be between {low} and min(n_samples, n_features)={rank} "
            f"with svd_solver={solver!r}"
        )
        raise ValueError(msg)


def _spread_within(variances: np.ndarray, limit: float) -> bool:
    return bool(variances[-1] > 0 and variances[0] <= limit * variances[-1])


def _check_samples(n: int) -> None:
    if n < 2:
        msg = f"X: expected at least 2 samples to estimate a covariance, got n_samples = {n}"
        raise ValueError(msg)


__all__ = ["PCA"]
