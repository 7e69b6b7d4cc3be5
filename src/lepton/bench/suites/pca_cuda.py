"""GPU cases of the ``pca`` suite (``full`` size; CUDA build + GPU + torch present).

The issue-13 comparison rows, each case with the same float32 data:

- **lepton PCA auto** (the timed lepton row): ``lepton.PCA(k)`` as a user calls it; the solver
  and eigen-solve the device rule picks (``estimators._backend_cuda.choose_solver``,
  ``ops.pca_solver.choose_eigen``) are in the case's params with the predicted costs;
- lepton variants: the covariance solver (3×TF32 tensor-core Gram + the eigen-solve
  ``choose_eigen`` picks: ``_pca_cuda.top_eigen`` on the wide case, the full syevd on the tall
  one), the Gram + full eigh on each Gram engine (``simt`` and ``tf32x3``,
  ``_pca_cuda.gram``), each Gram engine alone, the tf32x3 Gram + ``top_eigen``, and the
  randomized solver with ``torch.pca_lowrank``'s 2 power iterations;
- peers: ``cupy.cov`` + ``cupy.linalg.eigh`` as a cupy user writes it (cupy promotes float32 to a
  float64 covariance), ``torch.cov`` + ``torch.linalg.eigh``, ``torch.pca_lowrank(q=k)``
  (niter = 2) and cuML's PCA when importable.

Cases: tall, 1M × 256, k = 16 (issue bar: ≤ 0.5× cupy cov + eigh joules) and wide, 200k × 2048,
k = 64 (bar: ≤ 1.0× torch.pca_lowrank time and joules); both: explained variances within 1e-4
relative of float64. The data (rank d/4 signal with scales logspace(20 → 3), unit noise, column
offsets ±50) is generated on the device. The notes record, for every implementation that returns
explained variances, the largest relative error of its top-k against a float64 eigen-solution of
the same data, and the first-principles predicted times of each Gram engine. Timed with
``Impl.sync = torch.cuda.synchronize`` (a device-wide wait, covering cupy's stream too).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lepton.bench.case import Case, Impl
from lepton.bench.suites.gemm_cuda import _cupy, _params, available

TALL = (1_000_000, 256, 16)
WIDE = (200_000, 2048, 64)
DEVICE = "cuda:0"
POWER_ITERATIONS = 2  # torch.pca_lowrank's default niter
ENGINES = ("simt", "tf32x3")  # the centred Gram's engines (lepton.ops._pca_cuda.gram_engine)


def _data(torch: Any, n: int, d: int, seed: int) -> Any:
    gen = torch.Generator(device=DEVICE)
    gen.manual_seed(seed)
    rank = max(1, d // 4)
    basis = torch.linalg.qr(torch.randn(d, rank, device=DEVICE, generator=gen))[0].T
    scales = torch.logspace(np.log10(20.0), np.log10(3.0), rank, device=DEVICE)
    x = (torch.randn(n, rank, device=DEVICE, generator=gen) * scales) @ basis
    x += torch.randn(n, d, device=DEVICE, generator=gen)
    x += (torch.rand(d, device=DEVICE, generator=gen) - 0.5) * 100
    return x.contiguous()


def _exact_variances(torch: Any, x: Any, k: int) -> np.ndarray:
    x64 = x.double()
    x64 -= x64.mean(0)
    values = torch.linalg.eigvalsh(x64.T @ x64).flip(0)[:k] / (x.shape[0] - 1)
    del x64
    return values.cpu().numpy()


def _peers(torch: Any, x: Any, k: int) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """Each peer returns its top-k explained variances (device or host array) when asked."""
    n = x.shape[0]
    runs: dict[str, Callable[[], Any]] = {
        "torch cov + eigh": lambda: torch.linalg.eigh(torch.cov(x.T))[0].flip(0)[:k],
        "torch.pca_lowrank": lambda: torch.pca_lowrank(x, q=k, center=True)[1] ** 2 / (n - 1),
    }
    skipped = {}
    cupy = _cupy()
    if cupy is not None:
        xc = cupy.asarray(x)
        runs["cupy cov + eigh"] = lambda: cupy.linalg.eigh(cupy.cov(xc, rowvar=False))[0][::-1][:k]
        try:
            import cuml

            runs["cuML PCA"] = lambda: cuml.PCA(n_components=k).fit(xc).explained_variance_
        except ImportError:
            skipped["cuML PCA"] = "cuml is not installed"
    else:
        skipped["cupy cov + eigh"] = "cupy is not installed"
        skipped["cuML PCA"] = "cuml needs cupy, which is not installed"
    return runs, skipped


def _host(a: Any) -> np.ndarray:
    if type(a).__module__.split(".")[0] == "torch":
        return a.detach().double().cpu().numpy()
    return np.asarray(a.get() if hasattr(a, "get") else a, dtype=np.float64)


def _lepton_impls(x_in: Any, n: int, d: int, k: int, sync: Any) -> list[Impl]:
    from lepton.estimators import PCA
    from lepton.ops import _pca_cuda

    def pca(**kw: Any) -> Callable[[], Any]:
        return lambda: PCA(k, random_state=0, **kw).fit(x_in).explained_variance_

    def gram_eigh(engine: str) -> Callable[[], Any]:
        def run() -> Any:
            stats = _pca_cuda.gram(x_in, engine=engine)
            return _pca_cuda.eigh_descending(stats.gram)[0][:k] / (n - 1)

        return run

    def gram_only(engine: str) -> Callable[[], None]:
        return lambda: _pca_cuda.gram(x_in, engine=engine) and None

    def gram_top_eigen() -> Any:  # the covariance solver with a k-eigenpair solve
        stats = _pca_cuda.gram(x_in, engine="tf32x3")
        return _pca_cuda.top_eigen(stats.gram, k)[0] / (n - 1)

    impls = [
        Impl("lepton PCA auto", pca(), is_lepton=True, sync=sync),
        Impl("lepton PCA covariance", pca(svd_solver="covariance_eigh"), sync=sync),
        Impl(f"lepton PCA randomized n_iter={POWER_ITERATIONS}",
             pca(svd_solver="randomized", iterated_power=POWER_ITERATIONS), sync=sync),
    ]  # fmt: skip
    for engine in ENGINES:
        impls.append(Impl(f"lepton Gram {engine} + eigh", gram_eigh(engine), sync=sync))
        impls.append(Impl(f"lepton Gram {engine} only", gram_only(engine), sync=sync))
    impls.append(Impl("lepton Gram tf32x3 + top_eigen", gram_top_eigen, sync=sync))
    return impls


def _predictions(n: int, d: int, k: int) -> tuple[dict[str, Any], str]:
    """The estimator's pick on the device (float32 input, the tf32x3 Gram) and the predicted
    costs (params), and each Gram engine's predicted time from its flops and bytes (notes);
    H200 leads of ops.pca_solver."""
    from lepton.estimators._backend_cuda import choose_solver
    from lepton.ops.pca_solver import H200, choose_eigen, device_solver_costs, gram_flops

    n_iter = 7 if k < 0.1 * min(n, d) else 4  # PCA's iterated_power="auto" (sklearn's)
    costs = device_solver_costs(n, d, k, n_oversamples=10, n_iter=n_iter)
    topk = device_solver_costs(n, d, k, n_oversamples=10, n_iter=n_iter, eigen="topk")
    params = {
        "auto solver": choose_solver(n, d, k, 10, n_iter),
        "auto eigen solve": choose_eigen(d, k),
        **{f"predicted {name} ms": round(1e3 * c, 2) for name, c in costs.items()},
        "predicted covariance (topk eigen) ms": round(1e3 * topk["covariance"], 2),
    }
    read = n * d * 4 / H200.read_bytes_per_s
    flops = gram_flops(n, d)
    grams = "; ".join(
        f"{engine} {1e3 * max(read, flops / rate):.2f} ms ({flops / 1e12:.3g} TFLOP at "
        f"{rate / 1e12:.0f} TFLOP/s, read {1e3 * read:.2f} ms)"
        for engine, rate in H200.gram_flops.items()
    )
    return params, f"predicted Gram pass (H200 leads, + {1e3 * read:.2f} ms column sums): {grams}"


def _case(torch: Any, name: str, n: int, d: int, k: int, seed: int) -> Case:
    x = _data(torch, n, d, seed)
    exact = _exact_variances(torch, x, k)
    cupy = _cupy()
    x_in = cupy.asarray(x) if cupy is not None else x
    runs, skipped = _peers(torch, x, k)
    sync = torch.cuda.synchronize
    impls = _lepton_impls(x_in, n, d, k, sync)
    impls += [Impl(label, run, sync=sync) for label, run in runs.items()]
    errors = []
    for impl in impls:
        got = impl.run()
        if got is not None:  # the Gram-only rows return nothing to compare
            errors.append(f"{impl.name}: {np.max(np.abs(_host(got)[:k] / exact - 1)):.1e}")
    params, predicted = _predictions(n, d, k)
    return Case(
        suite="pca",
        name=f"cuda {name} {n}x{d} k={k}",
        params=_params(n=n, d=d, k=k)
        | {"dtype": "float32", "input": "cupy" if cupy else "torch"}
        | params,
        impls=impls,
        work_ops=2.0 * n * d * d,
        work_bytes=float(n * d * 4),
        device=DEVICE,
        notes="max rel. error of the top-k explained variances vs float64 eigh: "
        + "; ".join(errors)
        + f". {predicted}",
        skipped=skipped,
    )


def cases() -> list[Case]:
    """The GPU PCA cases (empty when ``available()`` is false)."""
    if not available():
        return []
    import torch

    return [_case(torch, "tall", *TALL, seed=10), _case(torch, "wide", *WIDE, seed=11)]
