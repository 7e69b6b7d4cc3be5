"""GPU cases of the ``pca`` suite (``full`` size; CUDA build + GPU + torch present).

- tall, 1M × 256 float32, k = 16: ``lepton.PCA`` (auto → centred Gram kernel + device eigh)
  against ``cupy.cov`` + ``cupy.linalg.eigh`` as a cupy user writes it (issue bar: ≤ 0.6× its
  time and joules), ``torch.cov`` + ``torch.linalg.eigh``, ``torch.pca_lowrank`` and cuML's PCA
  when importable.
- wide, 200k × 2048 float32, k = 64: ``lepton.PCA(svd_solver="randomized")`` with as many power
  iterations as ``torch.pca_lowrank``'s default (niter = 2) against ``torch.pca_lowrank``
  (issue bar: faster), cupy cov + eigh and cuML.

The data (rank d/4 signal, unit noise, column offsets ±50) is generated on the device. The
notes record, for every implementation, the largest relative error of its top-k explained
variances against a float64 eigen-solution of the same data. Timed with
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


def _case(torch: Any, name: str, n: int, d: int, k: int, seed: int, **pca: Any) -> Case:
    from lepton.estimators import PCA

    x = _data(torch, n, d, seed)
    exact = _exact_variances(torch, x, k)
    cupy = _cupy()
    x_in = cupy.asarray(x) if cupy is not None else x
    runs, skipped = _peers(torch, x, k)

    def lepton() -> Any:
        return PCA(k, random_state=0, **pca).fit(x_in).explained_variance_

    sync = torch.cuda.synchronize
    label = f"lepton PCA {pca.get('svd_solver', 'auto')}"
    impls = [Impl(label, lepton, is_lepton=True, sync=sync)]
    impls += [Impl(label, run, sync=sync) for label, run in runs.items()]
    errors = []
    for impl in impls:
        got = _host(impl.run())[:k]
        errors.append(f"{impl.name}: {np.max(np.abs(got / exact - 1)):.1e}")
    return Case(
        suite="pca",
        name=f"cuda {name} {n}x{d} k={k}",
        params=_params(n=n, d=d, k=k) | {"dtype": "float32", "input": "cupy" if cupy else "torch"},
        impls=impls,
        work_ops=2.0 * n * d * d,
        work_bytes=float(n * d * 4),
        device=DEVICE,
        notes="max rel. error of the top-k explained variances vs float64 eigh: "
        + "; ".join(errors),
        skipped=skipped,
    )


def cases() -> list[Case]:
    """The GPU PCA cases (empty when ``available()`` is false)."""
    if not available():
        return []
    import torch

    return [
        _case(torch, "tall", *TALL, seed=10),
        _case(
            torch, "wide", *WIDE, seed=11, svd_solver="randomized", iterated_power=POWER_ITERATIONS
        ),
    ]
