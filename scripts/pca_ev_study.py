"""Which explained variances are right on the GPU PCA bench data? A CPU study against float64.

Run from the repository root (on 2 busy cores: wide 47 min, tall 11 min; about 5 GB of memory):

    PYTHONPATH=src:tests/ops python scripts/pca_ev_study.py wide   # 200k × 2048, k = 64
    PYTHONPATH=src:tests/ops python scripts/pca_ev_study.py tall   # 1M × 256, k = 16

The data are the bench's (src/lepton/bench/suites/pca_cuda.py ``_data``: rank d/4 signal with
scales logspace(20 → 3), unit noise, column offsets ±50, float32), drawn by torch on the CPU
(same recipe and distribution; not the same random numbers as the CUDA generator). The
reference is float64 arithmetic on the same float32 numbers: exact float64 centring, a float64
Gram and ``numpy.linalg.eigh``. Compared, as max relative error over the top k explained
variances (and at the k-th):

- what a float64 cov + eigh computes: ``cupy.cov`` promotes float32 input to float64 (it
  follows numpy), so the bench's "cupy cov + eigh" is this reference up to float64 round-off;
- lepton's CPU covariance path (``ops.gram``, compiled kernel, float64 sums) + ``top_eigen``;
- the CUDA SIMT Gram's arithmetic (centring rounded to float32, float32 sums of ≤ 128 rows,
  float64 over blocks), emulated with float32 BLAS per 128-row block;
- tensor-core Gram variants on the same centred float32 values (bit-exact operand splits from
  tests/ops/_gram_cuda_model.py, products accumulated exactly, first-order perturbation
  vᵢᵀ ΔG vᵢ on the reference eigenvectors): 1×TF32, 1×bf16, 3×TF32, 3×bf16, and int8 Ozaki
  splits with 3 and 4 slices on a per-column power-of-two scale;
- the randomized solvers: lepton's device algorithm (``ops._pca_cuda.randomized_svd``, run on
  CPU torch tensors) with the bench's 2 power iterations and with sklearn's auto 7, lepton's CPU
  ``randomized_svd``, and ``torch.pca_lowrank(q=k, niter=2)`` as the bench calls it.

An optional second argument sets n (same spectrum shape, fewer rows). Results: NOTES.md.
"""

from __future__ import annotations

import sys
import time

import numpy as np

CASES = {"wide": (200_000, 2048, 64, 11), "tall": (1_000_000, 256, 16, 10)}
BLOCK = 128  # rows per float32 partial sum of the SIMT kernel


def bench_data(n: int, d: int, seed: int) -> np.ndarray:
    """The bench's ``_data`` recipe on the CPU (float32 throughout, as on the device)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    rank = max(1, d // 4)
    basis = torch.linalg.qr(torch.randn(d, rank, generator=gen))[0].T
    scales = torch.logspace(np.log10(20.0), np.log10(3.0), rank)
    x = (torch.randn(n, rank, generator=gen) * scales) @ basis
    x += torch.randn(n, d, generator=gen)
    x += (torch.rand(d, generator=gen) - 0.5) * 100
    return x.contiguous().numpy()


def row_blocks(n: int, rows: int = 8192):
    for start in range(0, n, rows):
        yield slice(start, min(n, start + rows))


def reference(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact-centred float64 Gram and its mean."""
    n, d = x.shape
    mean = x.sum(axis=0, dtype=np.float64) / n
    g = np.zeros((d, d))
    for b in row_blocks(n):
        c = x[b].astype(np.float64) - mean
        g += c.T @ c
    return mean, g


def simt_gram(x: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The SIMT kernel's arithmetic: c = fl32(x − shift), float32 sums of 128 rows, float64 over
    blocks, minus n·δδᵀ (δ = mean − shift)."""
    n, d = x.shape
    shift = mean.astype(np.float32)
    g = np.zeros((d, d))
    for start in range(0, n, BLOCK):
        c = x[start : start + BLOCK] - shift
        g += (c.T @ c).astype(np.float64)
    delta = mean - shift.astype(np.float64)
    return g - n * np.outer(delta, delta)


def ozaki_digits(c: np.ndarray, e: np.ndarray, slices: int) -> list[np.ndarray]:
    """Balanced int8 digits (as float64) of q = rint(c · 2^(7S − e)): digit s weighs
    2^(e − 7s); the lower ones lie in [−64, 63] so that the dropped cross terms average out,
    the top one in [−127, 127] (``e`` leaves 2^-6 of headroom: |q| < 2^(7S) − 2^(7S − 6))."""
    bits = 7 * slices
    q = np.rint(c.astype(np.float64) * np.exp2(bits - e))
    digits = []
    for s in range(slices, 1, -1):
        low = np.mod(q + 64, 128) - 64
        digits.append(low * np.exp2(e - 7 * s))
        q = (q - low) / 128
    digits.append(q * np.exp2(e - 7))
    return digits[::-1]


def first_order_errors(x, mean, vectors, lam_gram) -> dict[str, np.ndarray]:
    """vᵢᵀ (G_variant − G) vᵢ / λᵢ for each tensor-core split, on the reference eigenvectors."""
    import _gram_cuda_model as model

    n, d = x.shape
    shift = mean.astype(np.float32)
    c_max = np.zeros(d, np.float32)
    for b in row_blocks(n):
        c_max = np.maximum(c_max, np.abs(x[b] - shift).max(axis=0))
    # c_max·(1 + 2^-6) < 2^e ≤ 2·c_max·(1 + 2^-6): the top digit stays inside int8
    e = np.frexp(c_max.astype(np.float64) * (1 + 2.0**-6))[1].astype(np.float64)
    names = ["1xTF32", "1xbf16", "3xTF32", "3xbf16", "ozaki int8 S=3", "ozaki int8 S=4"]
    delta = {k: np.zeros(vectors.shape[1]) for k in names}
    for b in row_blocks(n):
        c32 = x[b] - shift
        y = (x[b].astype(np.float64) - shift.astype(np.float64)) @ vectors  # exact centring
        for name, split in (("TF32", model.split_tf32), ("bf16", model.split_bf16)):
            hi, lo = split(c32)
            yh, yl = hi.astype(np.float64) @ vectors, lo.astype(np.float64) @ vectors
            eh = yh - y
            delta[f"1x{name}"] += np.sum(eh * (2 * y + eh), axis=0)
            e3 = yh + yl - y  # hi·hi + hi·lo + lo·hi = (hi + lo)² − lo²
            delta[f"3x{name}"] += np.sum(e3 * (2 * y + e3), axis=0) - np.sum(yl * yl, axis=0)
        for slices in (3, 4):
            ys = [dg @ vectors for dg in ozaki_digits(c32, e, slices)]
            kept = sum(
                ys[s] * ys[t]
                for s in range(slices)
                for t in range(slices)
                if s + t + 2 <= slices + 1
            )
            delta[f"ozaki int8 S={slices}"] += np.sum(kept - y * y, axis=0)
    return {k: v / lam_gram for k, v in delta.items()}


def randomized_rows(x, mean, k) -> dict[str, np.ndarray]:
    import torch

    from lepton.ops import _pca_cuda, pca

    n = x.shape[0]
    xt = torch.from_numpy(x)
    mt = torch.from_numpy(mean)
    out = {}
    for q in (2, 7):
        s, _ = _pca_cuda.randomized_svd(
            xt, mt, k, n_oversamples=10, n_iter=q, rng=np.random.RandomState(0)
        )
        out[f"lepton device randomized (n_iter={q}, l=k+10)"] = s**2 / (n - 1)
    s, _ = pca.randomized_svd(x, mean, k, n_oversamples=10, n_iter=7, random_state=0)
    out["lepton CPU randomized (n_iter=7)"] = s**2 / (n - 1)
    torch.manual_seed(0)
    _, s_t, _ = torch.pca_lowrank(xt, q=k, center=True, niter=2)
    out["torch.pca_lowrank(q=k, niter=2)"] = s_t.double().numpy() ** 2 / (n - 1)
    return out


def main(which: str) -> None:
    from lepton import ops
    from lepton.ops.pca import top_eigen

    n, d, k, seed = CASES[which]
    if len(sys.argv) > 2:
        n = int(sys.argv[2])
    t0 = time.perf_counter()
    x = bench_data(n, d, seed)
    mean, g = reference(x)
    values, vectors = np.linalg.eigh(g)
    lam = values[::-1][:k]
    vectors = vectors[:, ::-1][:, :k]
    ref = lam / (n - 1)
    print(f"{which}: {n}x{d} k={k}; float64 explained variances: first {ref[0]:.4f}, "
          f"k-th {ref[-1]:.4f}, gap to k+1: {1 - values[::-1][k] / lam[-1]:.2%}")  # fmt: skip
    rows: dict[str, np.ndarray] = {}
    stats = ops.gram(x)
    rows["lepton CPU covariance (ops.gram, float64 sums)"] = top_eigen(stats.gram, k)[0] / (n - 1)
    rows["CUDA SIMT Gram arithmetic (emulated)"] = np.linalg.eigvalsh(simt_gram(x, mean))[::-1][
        :k
    ] / (n - 1)
    rel = {name: np.abs(v / ref - 1) for name, v in rows.items()}
    for name, err in first_order_errors(x, mean, vectors, lam).items():
        rel[f"{name} Gram (first order)"] = np.abs(err)
    for name, v in randomized_rows(x, mean, k).items():
        rel[name] = np.abs(v[:k] / ref - 1)
    width = max(map(len, rel))
    print(f"{'variant':<{width}}  max rel. err  at k-th")
    for name, err in rel.items():
        print(f"{name:<{width}}  {err.max():11.2e}  {err[-1]:8.2e}")
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "wide")
