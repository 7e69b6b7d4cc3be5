"""PCA building blocks on numpy arrays.

- :func:`gram`: ``(n, mean, G)`` with ``G = Σ (x_i − mean)(x_i − mean)ᵀ`` in float64, from the
  compiled one-pass kernel (per-block exact centring, float64 merge; no centred copy of ``x``).
- :func:`merge_gram`: the exact (parallel-axis) combination of two such results, for
  ``partial_fit`` and partitioned data.
- :func:`column_moments`: per-column mean and sum of squared deviations (the Gram's diagonal).
- :func:`centred_matmul` / :func:`centred_tmatmul`: ``(x − mean) @ w`` and ``(x − mean)ᵀ @ q``
  through a cache-sized centred row block, never a centred copy of ``x``.
- :func:`randomized_svd`: range finder with power iterations on ``x − mean`` (mean subtracted
  implicitly), for wide data and a few components.

Each has a float64 numpy reference (``*_reference``) that the tests compare against.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from lepton import _core
from lepton._cuda_arrays import is_cuda
from lepton._validate import choice, host_array
from lepton.ops import _pca_cuda
from lepton.ops._gemm_cuda import require_cuda_build
from lepton.ops.statistics import ColumnMoments, GramStats

_FLOATS = (np.float32, np.float64)
# centred_matmul's implicit product x @ w − mean @ w is used while the mean's norm is at most
# this many times the data's spread: its rounding error then grows by at most this factor.
CANCELLATION_FACTOR = 8.0
# Bytes per centred row block of centred_matmul: it stays in the last-level cache while BLAS
# multiplies it.
_BLOCK_BYTES = 4 << 20
# top_eigen solves for a subset only when k ≤ d / _SUBSET_FRACTION: measured at d = 1024, syevr on
# the subset beats syevd on everything up to about k = d/4.
_SUBSET_FRACTION = 4


def _matrix(x: Any, name: str) -> np.ndarray:
    return host_array(
        x,
        name,
        dtypes=_FLOATS,
        ndim=2,
        hint=" (convert with x.astype(np.float32) or np.float64)",
    )


def _non_finite(name: str) -> ValueError:
    return ValueError(f"{name}: contains NaN or inf; remove or impute them first")


_ACCUMULATE = ("float64", "input")


def gram_checked(x: np.ndarray, name: str = "x", accumulate: str = "float64") -> GramStats:
    """:func:`gram` for an already validated C-contiguous float matrix (errors name ``name``)."""
    choice(accumulate, "accumulate", _ACCUMULATE)
    n, mean, g, finite = _core.centred_gram(x, accumulate == "float64")
    if not finite:
        raise _non_finite(name)
    return GramStats(int(n), mean, g)


def gram(x: Any, *, accumulate: str = "float64") -> GramStats:
    """Row count, column means and centred Gram matrix of ``x`` (n, d), float32 or float64.

    One pass over ``x``: each block of rows is centred on its own float64 mean inside a
    cache-sized packed buffer (no centred copy of ``x``), its Gram computed, and the block merged
    into float64 totals exactly (Chan's update). Accurate when ``|mean| ≫ spread``, where the
    textbook ``XᵀX − n·μμᵀ`` loses every digit in float32.

    ``accumulate``: "float64" (default) sums the exact products of the centred values in
    float64; "input" sums each block of ``_core.gram_block_rows(d)`` rows in the input's
    precision — for float32 about twice as fast, with entries accurate to ~1e-7 of the largest
    (enough for the leading eigenvalues, not for those far below them).
    Raises ``ValueError`` if ``x`` holds NaN or inf.

    CUDA arrays (cupy, torch CUDA tensors; row- or column-major, strided rows or columns) run
    the fused CUDA kernel (csrc/cuda/pca): ``mean`` and ``gram`` are then float64 arrays of the
    input's library **on its device**, ready for ``cupy.linalg.eigh`` / ``torch.linalg.eigh``
    (``merge_gram`` combines them like host ones). The kernel sums the products of the centred
    values in the input's precision for at most 128 rows, then in float64, whatever
    ``accumulate`` says.
    """
    if is_cuda(x):
        require_cuda_build("x")
        return _pca_cuda.gram(x, accumulate=accumulate)
    return gram_checked(_matrix(x, "x"), "x", accumulate)


def gram_reference(x: Any) -> GramStats:
    """Float64 numpy oracle of :func:`gram` (two passes, explicit centred copy)."""
    x64 = np.asarray(x, dtype=np.float64)
    mean = x64.mean(axis=0)
    centred = x64 - mean
    return GramStats(x64.shape[0], mean, centred.T @ centred)


def merge_gram(a: GramStats, b: GramStats) -> GramStats:
    """Statistics of the union of two row sets (Chan et al.'s parallel update, exact)."""
    if is_cuda(a.mean) != is_cuda(b.mean):
        where = ("device", "host") if is_cuda(a.mean) else ("host", "device")
        msg = f"b: statistics on the {where[1]} while a's are on the {where[0]}; merge like ones"
        raise TypeError(msg)
    if tuple(a.mean.shape) != tuple(b.mean.shape):
        msg = f"b: expected {a.mean.shape[0]} columns like a, got {b.mean.shape[0]}"
        raise ValueError(msg)
    if a.n == 0:
        return b
    if b.n == 0:
        return a
    n = a.n + b.n
    delta = b.mean - a.mean
    mean = a.mean + delta * (b.n / n)
    # delta[:, None] * delta[None, :] is exactly symmetric, and numpy, cupy and torch spell it alike
    gram = a.gram + b.gram + (delta[:, None] * delta[None, :]) * (a.n * b.n / n)
    return GramStats(n, mean, gram)


def column_moments_checked(x: np.ndarray, name: str = "x") -> ColumnMoments:
    n, mean, m2, finite = _core.column_moments(x)
    if not finite:
        raise _non_finite(name)
    return ColumnMoments(int(n), mean, m2)


def column_moments(x: Any) -> ColumnMoments:
    """Row count, column means and per-column Σ (x − mean)², float64, in one pass."""
    return column_moments_checked(_matrix(x, "x"), "x")


def _centred_blocks(x: np.ndarray, shift: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
    """Row blocks of ``x − shift`` in ``x``'s dtype (about _BLOCK_BYTES each), reusing one buffer.

    ``shift`` is the mean rounded to ``x``'s dtype (:func:`_split_mean`): the subtraction is one
    rounding of ``x − shift``, an error relative to the spread of ``x``, not to its mean; what the
    rounding of the mean left out is taken off the product once, in float64.
    """
    rows = max(64, _BLOCK_BYTES // (x.shape[1] * x.itemsize))
    buffer = np.empty((min(rows, x.shape[0]), x.shape[1]), dtype=x.dtype)
    for start in range(0, x.shape[0], rows):
        stop = min(start + rows, x.shape[0])
        block = buffer[: stop - start]
        np.subtract(x[start:stop], shift, out=block)
        yield slice(start, stop), block


def _split_mean(x: np.ndarray, mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(shift, residual)``: the mean rounded to ``x``'s dtype, and the float64 remainder."""
    mean = np.asarray(mean, dtype=np.float64)
    shift = mean.astype(x.dtype)
    return shift, mean - shift


def mean_cancels(mean: np.ndarray, total_variance: float) -> bool:
    """Whether ``x @ w − mean @ w`` would lose accuracy to cancellation: the mean's norm is more
    than CANCELLATION_FACTOR times the data's spread (the root of the total variance)."""
    spread = float(np.sqrt(max(float(total_variance), 0.0)))
    norm = float(np.linalg.norm(np.asarray(mean, dtype=np.float64)))
    return not norm <= CANCELLATION_FACTOR * spread


def centred_matmul(
    x: np.ndarray, mean: np.ndarray, w: np.ndarray, *, total_variance: float | None = None
) -> np.ndarray:
    """``(x − mean) @ w`` in ``x``'s dtype.

    Given the data's ``total_variance`` and a mean small against it (not :func:`mean_cancels`):
    one product ``x @ w − mean @ w`` (scikit-learn's), as accurate to CANCELLATION_FACTOR and a
    pass over x cheaper. Otherwise the rows are centred one cache-sized block at a time before
    the product, so the rounding error stays relative to the spread of ``x``.
    """
    w = np.asarray(w, dtype=x.dtype)
    if total_variance is not None and not mean_cancels(mean, total_variance):
        out = np.matmul(x, w)
        out -= (np.asarray(mean, dtype=np.float64) @ w.astype(np.float64)).astype(x.dtype)
        return out
    shift, residual = _split_mean(x, mean)
    out = np.empty((x.shape[0], w.shape[1]), dtype=x.dtype)
    for rows, block in _centred_blocks(x, shift):
        np.matmul(block, w, out=out[rows])
    if residual.any():
        out -= (residual @ w.astype(np.float64)).astype(x.dtype)
    return out


def centred_tmatmul(x: np.ndarray, mean: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``(x − mean)ᵀ @ q`` (d, l) in float64, summing per-block products in float64."""
    q = np.asarray(q, dtype=x.dtype)
    shift, residual = _split_mean(x, mean)
    out = np.zeros((x.shape[1], q.shape[1]), dtype=np.float64)
    for rows, block in _centred_blocks(x, shift):
        out += block.T @ q[rows]
    if residual.any():
        out -= np.outer(residual, q.sum(axis=0, dtype=np.float64))
    return out


def _lu_normalise(a: np.ndarray) -> np.ndarray:
    # Between power iterations only the spanned subspace matters: the permuted L factor of an
    # LU keeps it well conditioned at a quarter of a Householder QR's cost here.
    import scipy.linalg

    return scipy.linalg.lu(a, permute_l=True, check_finite=False)[0]


def randomized_svd(
    x: np.ndarray,
    mean: np.ndarray,
    n_components: int,
    *,
    n_oversamples: int = 10,
    n_iter: int = 4,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``n_components`` singular values and right singular vectors of ``x − mean``.

    Halko, Martinsson & Tropp's range finder: ``Y = (x − mean) Ω`` for a Gaussian Ω with
    ``n_components + n_oversamples`` columns, ``n_iter`` power iterations (LU-normalised)
    alternating ``(x − mean)ᵀ Y`` and ``(x − mean) Z``, then an orthonormal basis Q (QR) and the
    exact SVD of the small ``Qᵀ (x − mean)``. The iterations subtract the mean implicitly
    (``x Ω − 1 (meanᵀ Ω)``); the last product, which sets the singular values, centres per row
    block (:func:`centred_tmatmul`). Returns ``(s, vt)``: s (k,) float64, vt (k, d) float64.
    ``random_state``: None, an int seed, or a numpy ``Generator`` / ``RandomState``.
    """
    import scipy.linalg  # scipy loads only when a PCA solver runs

    n, d = x.shape
    size = min(n_components + n_oversamples, n, d)
    rng = (
        random_state
        if isinstance(random_state, np.random.Generator | np.random.RandomState)
        else np.random.default_rng(random_state)
    )
    mu = mean.astype(x.dtype)
    omega = rng.standard_normal(size=(d, size)).astype(x.dtype)
    y = x @ omega
    y -= mu @ omega
    for _ in range(n_iter):
        y = _lu_normalise(y)
        z = x.T @ y
        z -= np.outer(mu, y.sum(axis=0))
        z = _lu_normalise(z)
        y = x @ z
        y -= mu @ z
    q = scipy.linalg.qr(y, mode="economic", check_finite=False)[0]
    b = centred_tmatmul(x, mean, q).T  # (size, d) = Qᵀ (x − mean)
    _, s, vt = scipy.linalg.svd(b, full_matrices=False, check_finite=False)
    return s[:n_components], vt[:n_components]


def randomized_svd_reference(x: Any, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact float64 oracle for :func:`randomized_svd`: SVD of the explicitly centred copy."""
    x64 = np.asarray(x, dtype=np.float64)
    _, s, vt = np.linalg.svd(x64 - x64.mean(axis=0), full_matrices=False)
    return s[:n_components], vt[:n_components]


def top_eigen(gram: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Largest ``k`` (all if None) eigenvalues, descending, and eigenvectors (columns) of a
    symmetric matrix. A few of many use LAPACK's MRRR on the subset only (``syevr``); several
    times cheaper than the full divide-and-conquer ``syevd`` for d in the thousands.
    """
    import scipy.linalg

    d = gram.shape[0]
    if k is None or k * _SUBSET_FRACTION > d:
        values, vectors = np.linalg.eigh(gram)
        values, vectors = values[::-1], vectors[:, ::-1]
        return values[: k or d], vectors[:, : k or d]
    values, vectors = scipy.linalg.eigh(
        gram, subset_by_index=(d - k, d - 1), driver="evr", check_finite=False
    )
    return values[::-1], vectors[:, ::-1]


def mle_dimension(variances: np.ndarray, n_samples: int) -> int:
    """Minka's Laplace-approximated evidence for a PPCA model of each dimension k, maximised.

    ``variances``: every eigenvalue of the sample covariance, descending (n_samples ≥ d).
    Minka, "Automatic choice of dimensionality for PCA", NIPS 2000: for k = 1 … d − 1,
    log p(D|k) ≈ log p(U) − N/2 Σ_{j≤k} log λ_j − N(d−k)/2 log v + (m+k)/2 log 2π
    − ½ log |A_z| − k/2 log N, with v the mean of the discarded eigenvalues,
    m = dk − k(k+1)/2 and |A_z| = Π_{i≤k} Π_{j>i} N (1/λ̂_j − 1/λ̂_i)(λ_i − λ_j), λ̂_j = v for
    j > k. A k whose kept or discarded variance is numerically zero is not a candidate.
    """
    from scipy.special import gammaln

    lam = np.asarray(variances, dtype=np.float64)
    d, n = lam.size, float(n_samples)
    if d < 2:
        return d
    tiny = np.finfo(np.float64).eps * max(lam[0], np.finfo(np.float64).tiny)
    best_k, best = 1, -np.inf
    for k in range(1, d):
        v = lam[k:].sum() / (d - k)
        if lam[k - 1] <= tiny or v <= tiny:
            continue
        i = np.arange(1, k + 1)
        log_pu = -k * np.log(2.0) + np.sum(
            gammaln((d - i + 1) / 2.0) - (d - i + 1) / 2.0 * np.log(np.pi)
        )
        m = d * k - k * (k + 1) / 2.0
        hat = np.concatenate([lam[:k], np.full(d - k, v)])
        # pairs (i, j), i < k, j > i: upper part of a k × d table
        diff_inv = 1.0 / hat[None, :] - 1.0 / hat[:k, None]
        diff = lam[:k, None] - lam[None, :]
        upper = np.arange(d)[None, :] > np.arange(k)[:, None]
        prod = diff_inv[upper] * diff[upper]
        if np.any(prod <= 0):
            continue
        log_az = np.sum(np.log(prod)) + prod.size * np.log(n)
        ll = (
            log_pu
            - n / 2.0 * np.sum(np.log(lam[:k]))
            - n * (d - k) / 2.0 * np.log(v)
            + (m + k) / 2.0 * np.log(2.0 * np.pi)
            - 0.5 * log_az
            - k / 2.0 * np.log(n)
        )
        if ll > best:
            best_k, best = k, ll
    return best_k
