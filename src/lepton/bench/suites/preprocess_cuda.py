"""GPU cases of the ``preprocess`` suite (``full`` size, CUDA build + GPU + torch present).

4M × 64 float32 with 1% NaN, impute(mean) + clip(3σ) + standard scale:

- ``cuda fit_transform``: both passes (statistics, then apply) into a reused output, against
  the same steps written as a cupy user writes them (``nanmean`` / ``nanstd`` / ``where`` /
  ``clip``, each a pass over memory with its own temporaries) and as a torch user writes them
  (torch has ``nanmean`` but no ``nanstd``). ``work_bytes`` is what the two fused passes must
  move: read x, read x again and write the output (3 × 1 GiB).
- ``cuda transform``: the apply pass alone, statistics known (read + write, 2 × 1 GiB).
- Roofline: each case also times a device-to-device copy moving exactly its ``work_bytes``
  (``torch`` ``copy_`` of a buffer of half that many bytes, and cupy's when installed). Its
  ``speedup`` entry (copy time ÷ lepton time) is lepton's fraction of the measured copy
  bandwidth; the issue's bar is ≥ 0.8 for the two passes, and ≥ 50× the cupy chain.
- ``cuda preprocess configs``: every ``preprocess_cuda`` config on the same data (the spread
  the tuner exploits); the heuristic's choice is the lepton one.

GPU work is timed with ``Impl.sync = torch.cuda.synchronize`` (device-wide: covers cupy too).
"""

from __future__ import annotations

from typing import Any

from lepton import _core
from lepton.bench.case import Case, Impl
from lepton.bench.suites.gemm_cuda import available
from lepton.ops import column_stats, config_table, preprocess
from lepton.ops.preprocess import apply_plan, make_plan

SHAPE = (4 << 20, 64)
NAN_FRACTION = 0.01
CLIP_SIGMA = 3.0
DEVICE = "cuda:0"
OPTIONS = {"impute": "mean", "clip_sigma": CLIP_SIGMA, "scale": "standard"}

__all__ = ["available", "cases"]


def _cupy() -> Any:
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def cupy_fit_transform(cupy: Any, x: Any) -> Any:
    """The steps as a cupy user writes them: one reduction or elementwise pass each."""
    mean = cupy.nanmean(x, axis=0)
    std = cupy.nanstd(x, axis=0)
    y = cupy.where(cupy.isnan(x), mean, x)
    y = cupy.clip(y, mean - CLIP_SIGMA * std, mean + CLIP_SIGMA * std)
    return (y - mean) / std


def cupy_apply(cupy: Any, x: Any, mean: Any, std: Any) -> Any:
    y = cupy.where(cupy.isnan(x), mean, x)
    y = cupy.clip(y, mean - CLIP_SIGMA * std, mean + CLIP_SIGMA * std)
    return (y - mean) / std


def torch_coefficients(torch: Any, x: Any) -> tuple[Any, Any]:
    mean = torch.nanmean(x, dim=0)
    std = torch.sqrt(torch.nanmean((x - mean) ** 2, dim=0))  # torch has no nanstd
    return mean, std


def torch_apply(torch: Any, x: Any, mean: Any, std: Any) -> Any:
    y = torch.where(torch.isnan(x), mean, x)
    y = torch.clamp(y, mean - CLIP_SIGMA * std, mean + CLIP_SIGMA * std)
    return (y - mean) / std


def make_data(torch: Any, rows: int, cols: int) -> Any:
    gen = torch.Generator(device=DEVICE)
    gen.manual_seed(0)
    x = torch.randn(rows, cols, device=DEVICE, generator=gen)
    scale = torch.linspace(0.5, 4.0, cols, device=DEVICE)
    x = x * scale + torch.linspace(-10.0, 10.0, cols, device=DEVICE)
    x[torch.rand(rows, cols, device=DEVICE, generator=gen) < NAN_FRACTION] = float("nan")
    return x


def _params(rows: int, cols: int) -> dict[str, Any]:
    info = _core.cuda_device_info(0)
    return {"rows": rows, "cols": cols, "dtype": "float32", "nan_fraction": NAN_FRACTION,
            "steps": "impute(mean) + clip(3σ) + standard scale", "gpu": info["name"],
            "sm_count": info["sm_count"]}  # fmt: skip


def copy_impls(torch: Any, cupy: Any, nbytes: int, sync: Any) -> list[Impl]:
    """Device-to-device copies moving ``nbytes`` in all (read nbytes/2, write nbytes/2)."""
    n = nbytes // 8  # float32 elements per buffer
    src = torch.empty(n, device=DEVICE).uniform_()
    dst = torch.empty_like(src)
    impls = [Impl("torch copy, same bytes (peak)", lambda: dst.copy_(src), sync=sync)]
    if cupy is not None:
        csrc, cdst = cupy.asarray(src), cupy.empty(n, dtype=cupy.float32)
        impls.append(Impl("cupy copy, same bytes (peak)", lambda: cdst.__setitem__(..., csrc),
                          sync=sync))  # fmt: skip
    return impls


def cases() -> list[Case]:
    """The GPU cases (empty when ``available()`` is false)."""
    if not available():
        return []
    import torch

    cupy = _cupy()
    rows, cols = SHAPE
    x = make_data(torch, rows, cols)
    out = torch.empty_like(x)
    nbytes = x.numel() * x.element_size()
    sync = torch.cuda.synchronize
    skipped = {} if cupy is not None else {"cupy": "cupy is not installed"}
    stats = column_stats(x)
    plan = make_plan(stats, **OPTIONS)
    t_mean, t_std = torch_coefficients(torch, x)

    both = [
        Impl("lepton", lambda: preprocess(x, **OPTIONS, out=out), is_lepton=True, sync=sync),
        Impl(
            "torch unfused", lambda: torch_apply(torch, x, *torch_coefficients(torch, x)), sync=sync
        ),
        *copy_impls(torch, cupy, 3 * nbytes, sync),
    ]
    apply_only = [
        Impl("lepton", lambda: apply_plan(x, plan, out=out), is_lepton=True, sync=sync),
        Impl("torch unfused", lambda: torch_apply(torch, x, t_mean, t_std), sync=sync),
        *copy_impls(torch, cupy, 2 * nbytes, sync),
    ]
    if cupy is not None:
        cx = cupy.asarray(x)
        c_mean, c_std = cupy.nanmean(cx, axis=0), cupy.nanstd(cx, axis=0)
        both.insert(1, Impl("cupy unfused", lambda: cupy_fit_transform(cupy, cx), sync=sync))
        apply_only.insert(1, Impl("cupy unfused", lambda: cupy_apply(cupy, cx, c_mean, c_std),
                                  sync=sync))  # fmt: skip
    out_cases = [
        Case(suite="preprocess", name=f"cuda fit_transform {rows}x{cols}",
             params=_params(rows, cols), impls=both, work_bytes=3.0 * nbytes, device=DEVICE,
             notes="two passes into a reused output; 'copy, same bytes' = measured roofline",
             skipped=dict(skipped)),
        Case(suite="preprocess", name=f"cuda transform {rows}x{cols}",
             params=_params(rows, cols), impls=apply_only, work_bytes=2.0 * nbytes,
             device=DEVICE, notes="apply pass alone, statistics known",
             skipped=dict(skipped)),
    ]  # fmt: skip
    out_cases.append(_config_spread(x, out, nbytes, sync))
    return out_cases


def _config_spread(x: Any, out: Any, nbytes: int, sync: Any) -> Case:
    rows, cols = x.shape
    default = int(_core.prep_cuda_resolve_config(-1, rows, cols, 4, 0))
    impls = [
        Impl(f"config {c['id']}: {c['name']}",
             lambda c=c["id"]: preprocess(x, **OPTIONS, out=out, config=c),
             is_lepton=c["id"] == default, sync=sync)
        for c in config_table("preprocess_cuda")
    ]  # fmt: skip
    return Case(
        suite="preprocess",
        name=f"cuda preprocess configs {rows}x{cols}",
        params=_params(rows, cols),
        impls=impls,
        work_bytes=3.0 * nbytes,
        device=DEVICE,
        notes=f"every preprocess_cuda config; lepton = the heuristic's choice ({default})",
    )
