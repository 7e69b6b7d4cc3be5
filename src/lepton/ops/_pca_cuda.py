"""PCA building blocks for CUDA arrays (cupy arrays, torch CUDA tensors): contract of ops.pca.

- :func:`gram`: GramStats ``(n, mean, G)`` with ``mean`` (d,) and ``G`` (d, d) float64 **device**
  arrays of the input's library (the eigen-solver that follows runs on the device:
  ``cupy.linalg.eigh`` / ``torch.linalg.eigh``). Four launches of csrc/cuda/pca on the library's
  current stream; one host synchronisation reads the NaN/Inf flag. The centred tile products run
  on the tensor cores (3×TF32) for float32 input, or on the SIMT cores (:func:`gram_engine`).
- :func:`centred_matmul`: ``(x − mean) @ w`` in row blocks centred explicitly (no centred copy
  of ``x``), accurate when ``|mean| ≫ spread``.
- :func:`randomized_svd`: subspace iteration on ``CᵀC`` (``C = x − mean`` implicit:
  ``x Z − 1 (meanᵀ Z)``) with a QR of the small d × l basis after each step, then
  Rayleigh–Ritz on the last basis from a block-centred product, in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lepton import _core
from lepton import _cuda_arrays as ca
from lepton._validate import choice
from lepton.ops.pca_solver import TOPK_MIN_D, TOPK_PRODUCTS, topk_applies, topk_block
from lepton.ops.statistics import GramStats

FLOATS = ("float32", "float64")
_DTYPE_CODES = {"float32": 0, "float64": 1}
GRAM_ENGINES = {"simt": 0, "tf32x3": 1}  # csrc/cuda/pca/gram_cuda.hpp: GramEngine
_TF32_MIN_MAJOR = 8  # mma.sync TF32: Ampere and newer
_CAPABILITY: dict[int, int] = {}  # device index -> compute capability major
# Row blocks of centred_matmul: small enough to stay in a GPU's L2 cache between the subtraction
# and the product that reads it back.
_BLOCK_BYTES = 16 << 20


def _non_finite(name: str) -> ValueError:
    return ValueError(f"{name}: contains NaN or inf; remove or impute them first")


def check_matrix(x: Any, name: str) -> ca.DeviceArray:
    """The CUDA array behind ``x``, checked: 2-D, non-empty, float32 or float64."""
    d = ca.describe(x, name)
    hint = " (convert with x.float() / x.astype('float32') or float64)"
    return ca.require(d, name, dtypes=FLOATS, ndim=2, hint=hint)


def _unit_stride_layout(d: ca.DeviceArray) -> tuple[int, int] | None:
    """(row, column) element strides when one of them is 1 (the kernel reads any such layout;
    a length-1 axis's stride does not matter), else None (the caller copies)."""
    rs, cs = d.strides
    if rs % d.itemsize or cs % d.itemsize:
        return None
    rs, cs = rs // d.itemsize, cs // d.itemsize
    n, cols = d.shape
    rs = 1 if n == 1 else rs
    cs = 1 if cols == 1 else cs
    if rs <= 0 or cs <= 0 or (rs != 1 and cs != 1):
        return None
    return rs, cs


def gram_engine(engine: str, dtype: str, device: int) -> str:
    """The engine that multiplies the centred tiles: ``engine`` checked, or ``"auto"``'s pick.

    - ``"simt"``: FMA on the SIMT cores in the input's precision, float32 sums of ≤ 128 rows
      (float64 input: float64 throughout), then float64.
    - ``"tf32x3"`` (float32 input, compute capability ≥ 8.0): tensor cores, each centred value
      split into two TF32 numbers (hi + lo, 22 significant bits), three MMAs per product, FP32
      accumulation over ≤ 64 rows, then float64. Per Gram entry
      ``|error| ≤ 3.7e-6 · Σᵣ |cᵣᵢ cᵣⱼ|`` (SIMT: 7.6e-6), csrc/cuda/pca/NOTES.md.
    - ``"auto"``: tf32x3 for float32 input on a GPU that has it, else simt.
    """
    choice(engine, "engine", (*GRAM_ENGINES, "auto"))
    if engine == "auto":
        capable = dtype == "float32" and _capability_major(device) >= _TF32_MIN_MAJOR
        return "tf32x3" if capable else "simt"
    _core.gram_cuda_check_engine(GRAM_ENGINES[engine], _DTYPE_CODES[dtype])
    return engine


def _capability_major(device: int) -> int:
    if device not in _CAPABILITY:
        _CAPABILITY[device] = int(_core.cuda_device_info(device)["capability"][0])
    return _CAPABILITY[device]


def gram(x: Any, *, accumulate: str = "float64", engine: str = "auto", name: str = "x") -> Any:
    """GramStats of a CUDA matrix, as device arrays (see the module docstring).

    ``accumulate`` is accepted for the CPU signature; on the GPU the scheme is the engine's
    (:func:`gram_engine`): products summed over a few dozen rows, then in float64.
    """
    choice(accumulate, "accumulate", ("float64", "input"))
    d = check_matrix(x, name)
    engine = gram_engine(engine, d.dtype, d.device)
    layout = _unit_stride_layout(d)
    if layout is None:
        d = ca.contiguous(d)
        layout = (d.shape[1], 1)
    n, cols = d.shape
    ws_elems = int(_core.gram_cuda_workspace_elems(n, cols, d.device))
    mean = ca.empty(d, (cols,), "float64")
    g = ca.empty(d, (cols, cols), "float64")
    ws = ca.empty(d, (ws_elems,), "float64")
    flag = ca.empty(d, (1,), "int32", zero=True)
    ptr = {k: ca.describe(v, k).ptr for k, v in (("mean", mean), ("g", g), ("ws", ws), ("f", flag))}
    stream = ca.stream_of(d)
    ca.order_after_producers(stream, [d])
    _core.centred_gram_cuda(
        d.ptr, _DTYPE_CODES[d.dtype], n, cols, layout[0], layout[1], ptr["mean"], ptr["g"],
        ptr["ws"], ws_elems, ptr["f"], d.device, stream, GRAM_ENGINES[engine],
    )  # fmt: skip
    if ca.read_scalar(flag):
        raise _non_finite(name)
    return GramStats(int(n), mean, g)


# --- library-neutral helpers: cupy and torch spell these differently ---------------------------


def library_of(obj: Any) -> str:
    return "torch" if type(obj).__module__.split(".")[0] == "torch" else "cupy"


def to_host(obj: Any) -> np.ndarray:
    return obj.detach().cpu().numpy() if library_of(obj) == "torch" else obj.get()


def to_device(a: np.ndarray, like: Any) -> Any:
    """Host array ``a`` on ``like``'s device, in ``like``'s library."""
    a = np.ascontiguousarray(a)
    if library_of(like) == "torch":
        import torch

        return torch.from_numpy(a).to(like.device)
    import cupy

    with cupy.cuda.Device(like.device.id):
        return cupy.asarray(a)


def astype(obj: Any, dtype: str) -> Any:
    if library_of(obj) == "torch":
        import torch

        return obj.to(getattr(torch, dtype))
    return obj.astype(dtype, copy=False)


def dtype_name(obj: Any) -> str:
    return str(obj.dtype).removeprefix("torch.")


def itemsize(obj: Any) -> int:
    return int(obj.element_size()) if library_of(obj) == "torch" else int(obj.itemsize)


def eigh_descending(a: Any) -> tuple[Any, Any]:
    """Eigenvalues (descending) and eigenvectors (columns) of a symmetric device matrix."""
    if library_of(a) == "torch":
        import torch

        values, vectors = torch.linalg.eigh(a)
        return values.flip(0), vectors.flip(1)
    import cupy

    values, vectors = cupy.linalg.eigh(a)
    return values[::-1], vectors[:, ::-1]


# top_eigen: sweeps before the full eigh takes over, and the relative eigenvalue accuracy asked
# of the Ritz values (the PCA bar is 1e-4; float64 G allows ~1e-13, so 1e-9 leaves room both
# ways). Its block size, products per sweep and when it iterates at all: ops.pca_solver (TOPK_*).
_TOP_MAX_SWEEPS = 25
_TOP_TOL = 1e-9


def top_eigen(
    g: Any,
    k: int,
    *,
    tol: float = _TOP_TOL,
    max_sweeps: int = _TOP_MAX_SWEEPS,
    full_below: int = TOPK_MIN_D,
    seed: int = 0,
) -> tuple[Any, Any]:
    """The ``k`` largest eigenvalues (descending, device float64) and eigenvectors (d × k
    columns) of a symmetric positive semi-definite device matrix, by block subspace iteration.

    Instead of a full ``eigh`` of d × d (cuSOLVER syevd: ~28 ms at d = 2048 on an H200, lead),
    sweeps of ``TOPK_PRODUCTS`` products G·Z on a block of l = k + max(k, 16) columns (float64
    GEMMs, ~25 µs each at d = 2048), one QR, then Rayleigh–Ritz (the l × l projection solved on
    the host). A sweep shrinks the error of eigenvalue i by (λ_{l+1}/λᵢ)^(2·products). It stops
    when every Ritz value θᵢ (i < k) is within ``tol``·θᵢ of an eigenvalue by the residual
    bound min(‖rᵢ‖, ‖rᵢ‖²/δᵢ) (rᵢ = Gxᵢ − θᵢxᵢ, δᵢ the gap to the nearest other Ritz value);
    after ``max_sweeps`` sweeps, or when k > d/4 or d < ``full_below`` (the full solve is as
    cheap), it returns the full ``eigh_descending`` slice instead. Deterministic for a given
    ``seed``.
    """
    d = g.shape[0]
    if not 1 <= k <= d:
        msg = f"k: expected 1 <= k <= {d}, got {k}"
        raise ValueError(msg)
    if not topk_applies(d, k, full_below):
        values, vectors = eigh_descending(g)
        return values[:k], vectors[:, :k]
    size = topk_block(d, k)
    omega = np.random.default_rng(seed).standard_normal((d, size))
    z = orthonormal(g @ to_device(omega, g))
    for _ in range(max_sweeps):
        y = g @ z
        theta, w = np.linalg.eigh(to_host(z.T @ y))  # Rayleigh–Ritz on the host: l × l
        theta, w = theta[::-1], np.ascontiguousarray(w[:, ::-1])
        w_dev = to_device(w, g)
        x = z @ w_dev
        r = y @ w_dev - x * to_device(theta.reshape(1, -1), g)
        res = np.sqrt(np.maximum(to_host((r[:, :k] * r[:, :k]).sum(0)), 0.0))
        if _ritz_converged(theta, res, k, tol):
            return to_device(theta[:k].copy(), g), x[:, :k]
        z = x
        for _ in range(TOPK_PRODUCTS - 1):
            z = g @ z
        z = orthonormal(g @ z)
    values, vectors = eigh_descending(g)
    return values[:k], vectors[:, :k]


def _ritz_converged(theta: np.ndarray, res: np.ndarray, k: int, tol: float) -> bool:
    """Whether each of the first k Ritz values is within tol·θᵢ of an eigenvalue: the residual
    bounds |θᵢ − λ| ≤ ‖rᵢ‖ and ≤ ‖rᵢ‖²/δᵢ (δᵢ: gap to the nearest other Ritz value)."""
    gaps = np.full(k, np.inf)
    gaps[1:] = theta[:k - 1] - theta[1:k]  # fmt: skip
    gaps[:-1] = np.minimum(gaps[:-1], theta[: k - 1] - theta[1:k])
    gaps = np.minimum(gaps, theta[:k] - theta[k])
    bound = np.minimum(res, res**2 / np.maximum(gaps, np.finfo(float).tiny))
    return bool(np.all(bound <= tol * np.maximum(theta[:k], np.finfo(float).tiny)))


def orthonormal(a: Any) -> Any:
    """An orthonormal basis (Q of a reduced QR) of the columns of device matrix ``a``."""
    if library_of(a) == "torch":
        import torch

        return torch.linalg.qr(a, mode="reduced")[0]
    import cupy

    return cupy.linalg.qr(a, mode="reduced")[0]


def all_finite(a: Any) -> bool:
    if library_of(a) == "torch":
        import torch

        return bool(torch.isfinite(a).all().item())
    import cupy

    return bool(cupy.isfinite(a).all().item())


def empty_like_rows(x: Any, rows: int, cols: int) -> Any:
    if library_of(x) == "torch":
        import torch

        return torch.empty((rows, cols), dtype=x.dtype, device=x.device)
    import cupy

    with cupy.cuda.Device(x.device.id):
        return cupy.empty((rows, cols), dtype=x.dtype)


# --- products and the randomized solver --------------------------------------------------------


def centred_matmul(x: Any, mean: Any, w: Any) -> Any:
    """``(x − mean) @ w`` in ``x``'s dtype, centring one L2-sized row block at a time."""
    mu = astype(mean, dtype_name(x))
    w = astype(w, dtype_name(x))
    n, d = x.shape
    rows = max(64, _BLOCK_BYTES // (d * itemsize(x)))
    if rows >= n:
        return (x - mu) @ w
    out = empty_like_rows(x, n, w.shape[1])
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        out[start:stop] = (x[start:stop] - mu) @ w
    return out


def randomized_svd(
    x: Any, mean: Any, n_components: int, *, n_oversamples: int, n_iter: int, rng: Any
) -> tuple[np.ndarray, Any]:
    """Top singular values (host float64) and right singular vectors ((k, d) device float64)
    of ``x − mean``.

    With ``l = n_components + n_oversamples`` columns: Z₀ = orth(Ω) (Ω Gaussian from ``rng``,
    a numpy RandomState/Generator, so a seed gives the same Ω on every library); ``n_iter + 1``
    times Z = orth(Cᵀ(C Z)) with C = x − mean applied implicitly (x Z − 1 (meanᵀ Z)); then
    Y = C Z block-centred (accurate at large means) and Rayleigh–Ritz: the eigenpairs of YᵀY
    (float64) are σ² and the rotation of Z onto the singular vectors. The span after the last
    step equals that of Halko et al.'s ``Qᵀ C`` with ``n_iter`` power iterations, without a QR
    of a tall n × l matrix (the costly step on a GPU).
    """
    n, d = x.shape
    size = min(n_components + n_oversamples, n, d)
    dtype = dtype_name(x)
    mu = astype(mean, dtype).reshape(1, d)
    omega = rng.standard_normal(size=(d, size))
    z = orthonormal(to_device(omega.astype(dtype), x))
    for _ in range(n_iter + 1):
        y = x @ z - mu @ z
        w = x.T @ y - mu.reshape(d, 1) * y.sum(0).reshape(1, size)
        z = orthonormal(w)
    y = astype(centred_matmul(x, mean, z), "float64")
    values, rotation = eigh_descending(y.T @ y)
    vt = (astype(z, "float64") @ rotation).T
    s = np.sqrt(np.maximum(to_host(values), 0.0))
    return s[:n_components], vt[:n_components]
