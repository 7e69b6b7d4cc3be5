"""``solver="auto"`` for a PCA fit on a CUDA device: the cheaper solver for the shape, by cost.

The device counterpart of scikit-learn's CPU rule (covariance for tall data, randomized when a
few components of wide data are asked for), decided from the work each solver does on the GPU
and the device's rates instead of fixed size thresholds:

* **covariance** — one read of X for the column sums, one fused pass for the centred Gram
  (``_pca_cuda.gram``: the larger of reading X again and the upper-triangle 64×64 tiles'
  ``2·n·64²·tiles`` flops at the Gram engine's rate), then a symmetric eigen-solve of the
  d × d Gram (cuSOLVER ``syevd``: a fixed cost plus one proportional to d³).
* **randomized** — ``2·n_iter + 3`` passes over X (``_pca_cuda.randomized_svd``: the power
  iterations' two products each, the first and the Rayleigh–Ritz one), each the larger of
  reading X and ``2·n·d·l`` flops (l = k + n_oversamples) at the GEMM rate, plus a QR of the
  small d × l basis per iteration.

``choose_device_solver`` returns the cheaper; only the covariance solver serves a fractional,
``"mle"`` or ``None`` ``n_components`` (the randomized solver needs an integer k). In practice on
an H100/H200 (float32, 3×TF32 Gram, sklearn's n_iter): covariance for 1M × d at k = 16 up to
d ≈ 1000 (3.3 ms vs 9.1 at d = 256), randomized for 200k × 2048 at k = 64 (25 ms vs 38: the
full d³ eigen-solve dominates) and for 50k × 1024 at k = 16. With ``eigen="topk"`` (the
covariance solver solving for its k eigenpairs only, ``_pca_cuda.top_eigen``) the Gram wins
200k × 2048 at k = 64 too (~15 ms vs 25), with float64-accurate explained variances. The
rates are first-principles leads (``H200``), to be recalibrated from the GPU bench (``lepton
bench pca``); the randomized solver's accuracy is not part of the rule (as in scikit-learn): on
a flat spectrum its explained variances can be percent-level off (csrc/cuda/pca/NOTES.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

GRAM_TILE = 64  # csrc/cuda/pca: the Gram kernels' tile edge (upper-triangle tiles only)


@dataclass(frozen=True)
class DeviceRates:
    """What one solver step costs on a GPU (bytes/s, flop/s, seconds)."""

    read_bytes_per_s: float  # streaming read of X from device memory
    gram_flops: dict[str, float]  # per Gram engine ("simt", "tf32x3"), float32 multiply-adds·2
    gemm_flops: float  # the library's float32 GEMM (cuBLAS SGEMM, FP32 SIMT, no TF32)
    eigh_fixed_s: float  # cuSOLVER syevd of a d × d float64 matrix: fixed part …
    eigh_per_d3_s: float  # … and the part that grows as d³
    small_qr_s: float  # QR of a d × l basis (launch-bound at these sizes)
    dgemm_flops: float  # float64 GEMM (the top-k eigen-solver's G·Z products)
    launch_s: float  # one small kernel launch or host round trip
    topk_sweeps: int  # sweeps _pca_cuda.top_eigen typically needs (bench spectra: 3–5)


# H200 SXM leads (H100 rates, 4.8 TB/s HBM): a device copy measured 4.3 TB/s read + write
# (KINDS.md) → ~3.8 TB/s for a pure stream; FP32 SIMT peak 67 TFLOP/s → ~40 effective in the
# SIMT Gram; 3×TF32 on mma.sync: ~50 % of the 495 TFLOP/s dense TF32 peak over 3 products →
# ~85 (issue-bound: csrc/cuda/pca/NOTES.md); SGEMM ~50; syevd(2048) ≈ 28 ms inferred from the
# first H200 run (cupy cov + eigh 60.8 ms, of which the float64 covariance ~33 ms).
H200 = DeviceRates(
    read_bytes_per_s=3.8e12,
    gram_flops={"simt": 4.0e13, "tf32x3": 8.5e13},
    gemm_flops=5.0e13,
    eigh_fixed_s=2e-3,
    eigh_per_d3_s=3.0e-12,
    small_qr_s=5e-4,
    dgemm_flops=5.0e13,
    launch_s=2e-5,
    topk_sweeps=5,
)

EIGEN_SOLVERS = ("full", "topk")  # _pca_cuda.eigh_descending / _pca_cuda.top_eigen
# _pca_cuda.top_eigen's block subspace iteration, declared here for it and for its cost: it
# solves in full below TOPK_MIN_D or above k = d / TOPK_MAX_SHARE (the full solve is as cheap
# there), on a block of k + max(k, TOPK_MIN_EXTRA) columns, TOPK_PRODUCTS products G·Z a sweep.
TOPK_MIN_D = 512
TOPK_MAX_SHARE = 4
TOPK_MIN_EXTRA = 16
TOPK_PRODUCTS = 4


def topk_applies(d: int, k: Any, full_below: int = TOPK_MIN_D) -> bool:
    """Whether top_eigen iterates for ``k`` of a d × d Gram (an integer 1 ≤ k ≤ d / 4, d ≥
    ``full_below``) rather than slicing the full solve."""
    integer = isinstance(k, Integral) and not isinstance(k, bool)
    return integer and k >= 1 and TOPK_MAX_SHARE * int(k) <= d and d >= full_below


def topk_block(d: int, k: int) -> int:
    """Columns of top_eigen's iterated block for k eigenpairs of a d × d Gram."""
    return min(d, int(k) + max(int(k), TOPK_MIN_EXTRA))


def gram_flops(n: int, d: int) -> float:
    """Flops of the Gram kernels: 2·n·64² per upper-triangle tile (padded tiles in full)."""
    nb = -(-d // GRAM_TILE)
    return 2.0 * n * GRAM_TILE * GRAM_TILE * (nb * (nb + 1) // 2)


def eigen_cost(d: int, k: Any, eigen: str = "full", rates: DeviceRates = H200) -> float:
    """Seconds to get the covariance solver's eigenpairs from the d × d Gram on the device.

    ``"full"``: cuSOLVER syevd of all d (``_pca_cuda.eigh_descending``). ``"topk"``: the block
    subspace iteration of ``_pca_cuda.top_eigen`` for an integer k ≤ d/4 and d ≥ 512 — per
    sweep 4 float64 products d²·l (l = 2k, at least k + 16), one QR and a host Rayleigh–Ritz
    round trip — and the full solve otherwise (what top_eigen itself falls back to).
    """
    full = rates.eigh_fixed_s + rates.eigh_per_d3_s * d**3
    if eigen == "full" or not topk_applies(d, k):
        return full
    size = topk_block(d, k)
    products = TOPK_PRODUCTS * (2.0 * d * d * size / rates.dgemm_flops + rates.launch_s)
    ritz = 2.0 * d * size * size / rates.dgemm_flops + 6 * rates.launch_s
    return rates.topk_sweeps * (products + rates.small_qr_s + ritz)


def choose_eigen(d: int, k: Any, rates: DeviceRates = H200) -> str:
    """The covariance solver's eigen-solver for ``k`` components of a d × d Gram: ``"topk"``
    (``_pca_cuda.top_eigen``) where :func:`eigen_cost` predicts it cheaper than the full
    solve, else ``"full"`` (every non-integer ``k``, small d, k > d/4; with the H200 leads the
    iteration's fixed ~3.5 ms of sweeps pays from d ≈ 800 on)."""
    costs = {eigen: eigen_cost(d, k, eigen, rates) for eigen in EIGEN_SOLVERS}
    return min(costs, key=costs.__getitem__)  # ties: "full" (listed first)


def device_solver_costs(
    n: int,
    d: int,
    k: Any,
    *,
    n_oversamples: int,
    n_iter: int,
    itemsize: int = 4,
    gram_engine: str = "tf32x3",
    eigen: str = "full",
    rates: DeviceRates = H200,
) -> dict[str, float]:
    """Predicted seconds of each solver that can serve ``k`` (see the module docstring)."""
    read = n * d * itemsize / rates.read_bytes_per_s
    gram = max(read, gram_flops(n, d) / rates.gram_flops[gram_engine])
    costs = {"covariance": read + gram + eigen_cost(d, k, eigen, rates)}
    if isinstance(k, Integral) and not isinstance(k, bool):
        size = min(int(k) + n_oversamples, n, d)
        per_pass = max(read, 2.0 * n * d * size / rates.gemm_flops)
        costs["randomized"] = (2 * n_iter + 3) * per_pass + (n_iter + 2) * rates.small_qr_s
    return costs


def choose_device_solver(
    n: int,
    d: int,
    k: Any,
    n_oversamples: int,
    n_iter: int,
    *,
    itemsize: int = 4,
    gram_engine: str = "tf32x3",
    eigen: str = "full",
    rates: DeviceRates = H200,
) -> str:
    """``"covariance"`` or ``"randomized"``: the cheaper on the device for an n × d fit with
    ``k`` components (an int, a variance fraction, ``"mle"`` or ``None``); ``n_iter`` power
    iterations and ``n_oversamples`` extra columns for the randomized solver; ``itemsize`` of
    X's dtype; ``gram_engine`` the Gram engine and ``eigen`` the eigen-solver (``"full"`` or
    ``"topk"``, :func:`eigen_cost`) the covariance solver would run."""
    if n < 1 or d < 1:
        msg = f"n, d: expected a non-empty shape, got {(n, d)}"
        raise ValueError(msg)
    if gram_engine not in rates.gram_flops:
        msg = f"gram_engine: expected one of {sorted(rates.gram_flops)}, got {gram_engine!r}"
        raise ValueError(msg)
    if eigen not in EIGEN_SOLVERS:
        msg = f"eigen: expected one of {list(EIGEN_SOLVERS)}, got {eigen!r}"
        raise ValueError(msg)
    costs = device_solver_costs(
        n, d, k, n_oversamples=n_oversamples, n_iter=n_iter, itemsize=itemsize,
        gram_engine=gram_engine, eigen=eigen, rates=rates,
    )  # fmt: skip
    return min(costs, key=costs.__getitem__)
