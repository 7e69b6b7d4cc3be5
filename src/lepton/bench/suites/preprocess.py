"""Benchmark suite ``preprocess``: impute(mean) + clip(3σ) + standard scale on float32.

Peers: the same steps written as a numpy user would (nanmean / nanstd / where / clip), and a
numba ``@njit(parallel=True, fastmath=False)`` version written with care: per-block shifted sums
over ``prange`` for the statistics, then one fused ``prange`` loop for the apply, in float32
arithmetic like lepton's. numba runs on lepton's thread count; numpy's reductions are
single-threaded by design.

Cases: ``fit_transform`` (both passes: statistics, then apply) and ``transform`` (the apply pass
alone, statistics known — ``Preprocessor.transform``), each allocating its output like numpy
does; and ``fit_transform_out``, lepton and numba writing into a reused output buffer. For large
arrays the OS zeroing the fresh output pages costs about as much as the apply pass itself, the
same for every implementation, so the ``_out`` case is the kernel-against-kernel comparison.

``full`` adds the GPU cases of ``preprocess_cuda`` (4M × 64 against cupy and torch, with a
measured copy-bandwidth roofline) when this is a CUDA build with a GPU and torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lepton import get_num_threads
from lepton.bench.case import Case, Impl
from lepton.bench.suites import preprocess_cuda
from lepton.ops import column_stats, preprocess
from lepton.ops.preprocess import apply_plan, make_plan

SIZES = {"small": (1 << 20, 64), "full": (4 << 20, 64)}
NAN_FRACTION = 0.01
CLIP_SIGMA = 3.0


def make_data(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols), dtype=np.float32)
    x *= rng.uniform(0.5, 4.0, cols).astype(np.float32)
    x += rng.uniform(-10.0, 10.0, cols).astype(np.float32)
    x[rng.random((rows, cols), dtype=np.float32) < NAN_FRACTION] = np.nan
    return x


# --- numpy, as a user writes it ----------------------------------------------------------------


def numpy_coefficients(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.nanmean(x, axis=0), np.nanstd(x, axis=0)


def numpy_apply(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    y = np.where(np.isnan(x), mean, x)
    y = np.clip(y, mean - CLIP_SIGMA * std, mean + CLIP_SIGMA * std)
    return (y - mean) / std


def numpy_fit_transform(x: np.ndarray) -> np.ndarray:
    return numpy_apply(x, *numpy_coefficients(x))


# --- numba, written well -------------------------------------------------------------------------


def numba_kernels() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Compile-on-first-call numba kernels (ImportError without numba)."""
    from numba import njit, prange

    @njit(parallel=True, fastmath=False, cache=False)
    def stats(x, shift, blocks):  # pragma: no cover - compiled
        n, d = x.shape
        count = np.zeros((blocks, d))
        s1 = np.zeros((blocks, d))
        s2 = np.zeros((blocks, d))
        for b in prange(blocks):  # one accumulator row per block: no sharing between threads
            for i in range(b * n // blocks, (b + 1) * n // blocks):
                for j in range(d):
                    v = np.float64(x[i, j])
                    if np.isfinite(v):
                        dv = v - shift[j]  # shifted sums: no cancellation for |mean| >> std
                        count[b, j] += 1.0
                        s1[b, j] += dv
                        s2[b, j] += dv * dv
        return count, s1, s2

    # The output comes from numpy: numba's own np.empty skips numpy's huge-page advice and pays a
    # 4 KiB page fault per page (several times slower here), which a careful user avoids.
    @njit(parallel=True, fastmath=False, cache=False)
    def apply(x, fill, lo, hi, center, mul, out):  # pragma: no cover - compiled
        n, d = x.shape
        for i in prange(n):
            for j in range(d):
                v = x[i, j]
                if np.isnan(v):
                    v = fill[j]
                v = min(max(v, lo[j]), hi[j])
                out[i, j] = (v - center[j]) * mul[j]
        return out

    return stats, apply


class NumbaFused:
    """Statistics then apply, both in numba, coefficients in float32 like lepton's kernel."""

    def __init__(self) -> None:
        import numba

        self.stats, self.apply_kernel = numba_kernels()
        self.threads = get_num_threads()
        numba.set_num_threads(min(self.threads, numba.config.NUMBA_NUM_THREADS))

    def coefficients(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        first = x[0].astype(np.float64)
        shift = np.where(np.isfinite(first), first, 0.0)
        count, s1, s2 = self.stats(x, shift, 4 * self.threads)
        n, t1, t2 = count.sum(axis=0), s1.sum(axis=0), s2.sum(axis=0)
        mean = shift + t1 / n
        std = np.sqrt(np.maximum(t2 / n - (t1 / n) ** 2, 0.0))
        f32 = np.float32
        return (
            mean.astype(f32),
            (mean - CLIP_SIGMA * std).astype(f32),
            (mean + CLIP_SIGMA * std).astype(f32),
            mean.astype(f32),
            (1.0 / std).astype(f32),
        )

    def transform(
        self, x: np.ndarray, coefficients: tuple[np.ndarray, ...], out: np.ndarray | None = None
    ) -> np.ndarray:
        out = np.empty(x.shape, dtype=np.float32) if out is None else out
        return self.apply_kernel(x, *coefficients, out)

    def fit_transform(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return self.transform(x, self.coefficients(x), out)


# --- cases ----------------------------------------------------------------------------------


def cases(size: str = "small") -> list[Case]:
    rows, cols = SIZES[size]
    x = make_data(rows, cols)
    params = {
        "rows": rows,
        "cols": cols,
        "dtype": "float32",
        "nan_fraction": NAN_FRACTION,
        "steps": "impute(mean) + clip(3σ) + standard scale",
    }
    options = {"impute": "mean", "clip_sigma": CLIP_SIGMA, "scale": "standard"}
    stats = column_stats(x)
    plan = make_plan(stats, **options)
    mean, std = numpy_coefficients(x)

    both = Case(
        suite="preprocess",
        name="fit_transform",
        params=params,
        impls=[
            Impl("lepton", lambda: preprocess(x, **options), is_lepton=True),
            Impl("numpy", lambda: numpy_fit_transform(x)),
        ],
        work_bytes=3.0 * x.nbytes,  # read (stats), read + write (apply)
        notes="two passes: column statistics, then fused impute/clip/scale",
    )
    apply_only = Case(
        suite="preprocess",
        name="transform",
        params=params,
        impls=[
            Impl("lepton", lambda: apply_plan(x, plan), is_lepton=True),
            Impl("numpy", lambda: numpy_apply(x, mean, std)),
        ],
        work_bytes=2.0 * x.nbytes,  # read + write
        notes="apply pass alone, statistics known (Preprocessor.transform)",
    )
    reused = np.empty_like(x)
    into_out = Case(
        suite="preprocess",
        name="fit_transform_out",
        params=params,
        impls=[Impl("lepton", lambda: preprocess(x, **options, out=reused), is_lepton=True)],
        work_bytes=3.0 * x.nbytes,
        notes="both passes, writing into a reused output buffer (no fresh-page zeroing)",
        skipped={"numpy": "its ufunc chain has no single fused out="},
    )
    _add_dask(both, x, options)
    try:
        fused = NumbaFused()
    except ImportError:
        for case in (both, apply_only, into_out):
            case.skipped["numba fused"] = "numba is not installed"
    else:
        coefs = fused.coefficients(x)
        both.impls.append(Impl("numba fused", lambda: fused.fit_transform(x)))
        apply_only.impls.append(Impl("numba fused", lambda: fused.transform(x, coefs)))
        into_out.impls.append(Impl("numba fused", lambda: fused.fit_transform(x, out=reused)))
    gpu = preprocess_cuda.cases() if size == "full" else []
    return [both, apply_only, into_out, *gpu]


DASK_CHUNKS = 8


def _add_dask(case: Case, x: np.ndarray, options: dict[str, Any]) -> None:
    """lepton.dask on the same data in DASK_CHUNKS row blocks: its per-block stats, tree merge
    and graph overhead next to the one-array call. The synchronous scheduler runs the blocks one
    after another, each with all of lepton's threads (a thread pool on top would oversubscribe
    the cores)."""
    try:
        import dask.array as da
    except ImportError:
        case.skipped["lepton.dask"] = "dask is not installed"
        return
    from lepton.estimators import Preprocessor

    x_da = da.from_array(x, chunks=(-(-x.shape[0] // DASK_CHUNKS), -1))

    def run() -> np.ndarray:
        return Preprocessor(**options).fit_transform(x_da).compute(scheduler="sync")

    case.impls.append(Impl(f"lepton.dask, {DASK_CHUNKS} chunks", run))
