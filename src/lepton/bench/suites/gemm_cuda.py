"""GPU cases of the ``gemm`` suite (``full`` size, CUDA build + GPU + torch present).

- ``int8_gemm`` at 4096³ and 8192³, int8 → exact int32, against ``torch._int_mm`` (cuBLASLt
  int8, the fastest thing a torch user has), torch float16 and bfloat16 matmul on the same
  values, and cupy float16 matmul when cupy is installed.
- ``int8_gemm configs`` at 8192³ and at M=256, N=K=4096: one implementation per usable entry of
  ``config_table("int8_gemm_cuda")`` (the spread of time and joules the tuner exploits); the
  heuristic's choice is the lepton one.
- linear layer M ∈ {1, 32, 128, 256}, N = K = 4096, per-row a_scale · per-column w_scale +
  bias → relu → float16, all fused in lepton's epilogue, against ``torch._int_mm`` followed by
  torch's own dequant/bias/relu/cast ops (M > 16 only: ``_int_mm``'s own limit), and torch
  float16 ``linear`` + relu. ``linear_int8`` (float16 activations quantized on every call, then
  the fused GEMM) is listed as well. Host work per call hides a kernel of a few µs, so the fused
  GEMM and the float16 layer also run as replays of a CUDA graph of one call each
  (``torch.cuda.graph``): the device time users of graphs see, side by side.
- ``int8_gemm`` 64×64×64, exact int32, called back to back: the kernel takes a few µs, so the
  time per call is the host-side cost of one repeated call (issue 12's bar: ≤ 20 µs), against
  ``torch._int_mm`` the same way.

All GPU work is timed with ``Impl.sync = torch.cuda.synchronize`` (a device-wide wait, which
covers cupy's stream too).
"""

from __future__ import annotations

from typing import Any

from lepton import _core
from lepton.bench.case import Case, Impl
from lepton.ops import config_table, int8_gemm, linear_int8, pack_weights, quantize

GEMM_SIZES = (4096, 8192)
CONFIG_SPREAD_SHAPES = ((8192, 8192, 8192), (256, 4096, 4096))
LINEAR_ROWS = (1, 32, 128, 256)
HOST_COST_SIZE = 64
INT_MM_MIN_ROWS = 17  # torch._int_mm needs M > 16
LINEAR_FEATURES = 4096
DEVICE = "cuda:0"


def available() -> bool:
    """CUDA build, a GPU and torch with CUDA: the GPU cases can run."""
    if not getattr(_core, "cuda_compiled", False) or _core.cuda_device_count() == 0:
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def _cupy() -> Any:
    try:
        import cupy
    except ImportError:
        return None
    return cupy


def _params(**shape: int) -> dict[str, object]:
    info = _core.cuda_device_info(0)
    return {**shape, "gpu": info["name"], "sm_count": info["sm_count"]}


def _int8(torch: Any, shape: tuple[int, int], gen: Any) -> Any:
    return torch.randint(-128, 128, shape, dtype=torch.int8, device=DEVICE, generator=gen)


def _gemm_case(torch: Any, n: int, gen: Any) -> Case:
    a, b = _int8(torch, (n, n), gen), _int8(torch, (n, n), gen)
    a16, b16 = a.half(), b.half()
    abf, bbf = a.bfloat16(), b.bfloat16()
    sync = torch.cuda.synchronize
    impls = [
        Impl("lepton int8_gemm", lambda: int8_gemm(a, b), is_lepton=True, sync=sync),
        Impl("torch._int_mm", lambda: torch._int_mm(a, b.t()), sync=sync),
        Impl("torch f16 matmul", lambda: a16 @ b16.t(), sync=sync),
        Impl("torch bf16 matmul", lambda: abf @ bbf.t(), sync=sync),
    ]
    skipped = {}
    cupy = _cupy()
    if cupy is not None:
        c16, d16 = cupy.asarray(a16), cupy.asarray(b16)
        impls.append(Impl("cupy f16 matmul", lambda: c16 @ d16.T, sync=sync))
    else:
        skipped["cupy f16 matmul"] = "cupy is not installed"
    return Case(
        suite="gemm",
        name=f"cuda int8_gemm {n}x{n}x{n}",
        params=_params(M=n, N=n, K=n),
        impls=impls,
        work_ops=2.0 * n**3,
        work_bytes=2.0 * n * n + 4.0 * n * n,
        device=DEVICE,
        notes="exact int32 output; float peers on the same integer values",
        skipped=skipped,
    )


def _config_spread_case(torch: Any, m: int, n: int, k: int, gen: Any) -> Case:
    a, b = _int8(torch, (m, k), gen), _int8(torch, (n, k), gen)
    sync = torch.cuda.synchronize
    default = int(_core.gemm_cuda_resolve_config(-1, m, n, k, 0, 0))  # int32 out, device 0
    impls, skipped = [], {}
    for cfg in config_table("int8_gemm_cuda"):
        try:
            _core.gemm_cuda_resolve_config(cfg["id"], m, n, k, 0, 0)
        except ValueError as exc:
            skipped[f"config {cfg['id']}"] = str(exc)
            continue
        impls.append(
            Impl(
                f"config {cfg['id']}: {cfg['name']}",
                lambda c=cfg["id"]: int8_gemm(a, b, config=c),
                is_lepton=cfg["id"] == default,
                sync=sync,
            )
        )
    return Case(
        suite="gemm",
        name=f"cuda int8_gemm configs {m}x{n}x{k}",
        params=_params(M=m, N=n, K=k),
        impls=impls,
        work_ops=2.0 * m * n * k,
        work_bytes=float(m * k + n * k + 4 * m * n),
        device=DEVICE,
        notes=f"every int8_gemm_cuda config; lepton = the heuristic's choice ({default})",
        skipped=skipped,
    )


def graphed(torch: Any, fn: Any) -> Any:
    """``fn`` (one call on fixed tensors) replayed from a CUDA graph; returns its static output.

    Warm-up on a side stream (as torch's graph notes ask), capture in "relaxed" mode (lepton's
    launch path may query device attributes), allocations from the graph's private pool.
    """
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(2):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, capture_error_mode="relaxed"):
        out = fn()

    def replay() -> Any:
        graph.replay()
        return out

    return replay


def _host_cost_case(torch: Any, gen: Any) -> Case:
    n = HOST_COST_SIZE
    a, b = _int8(torch, (n, n), gen), _int8(torch, (n, n), gen)
    sync = torch.cuda.synchronize
    return Case(
        suite="gemm",
        name=f"cuda int8_gemm {n}x{n}x{n} host cost per call",
        params=_params(M=n, N=n, K=n),
        impls=[
            Impl("lepton int8_gemm", lambda: int8_gemm(a, b), is_lepton=True, sync=sync),
            Impl("torch._int_mm", lambda: torch._int_mm(a, b.t()), sync=sync),
        ],
        work_ops=2.0 * n**3,
        device=DEVICE,
        notes="calls back to back, one sync per window: time per call = host cost per call",
    )


def _linear_case(torch: Any, m: int, weights: dict[str, Any], gen: Any) -> Case:
    n, k = weights["w_q"].shape
    x16 = torch.randn(m, k, device=DEVICE, generator=gen).half()
    a_q, a_scale = quantize(x16)  # every implementation computes the same layer
    w_q, w_scale, bias = weights["w_q"], weights["w_scale"], weights["bias"]
    w16, b16, packed = weights["w16"], weights["b16"], weights["packed"]
    relu = torch.nn.functional.relu
    sync = torch.cuda.synchronize

    def lepton_fused() -> Any:
        return int8_gemm(a_q, w_q, a_scale=a_scale, b_scale=w_scale, bias=bias,
                         activation="relu", out_dtype="float16")  # fmt: skip

    def torch_int_mm_chain() -> Any:
        acc = torch._int_mm(a_q, w_q.t())
        return relu(acc.float() * a_scale[:, None] * w_scale[None, :] + bias).half()

    def torch_f16() -> Any:
        return relu(torch.nn.functional.linear(x16, w16, b16))

    impls = [
        Impl("lepton int8_gemm fused epilogue", lepton_fused, is_lepton=True, sync=sync),
        Impl("torch f16 linear + relu", torch_f16, sync=sync),
        Impl(
            "lepton linear_int8 (quantize + GEMM)",
            lambda: linear_int8(x16, packed, activation="relu", out_dtype="float16"),
            sync=sync,
        ),
        Impl(
            "lepton int8_gemm fused epilogue, CUDA graph",
            graphed(torch, lepton_fused),
            is_lepton=True,
            sync=sync,
        ),
        Impl("torch f16 linear + relu, CUDA graph", graphed(torch, torch_f16), sync=sync),
    ]
    skipped = {}
    if m >= INT_MM_MIN_ROWS:
        impls.insert(1, Impl("torch._int_mm + dequant/bias/relu", torch_int_mm_chain, sync=sync))
    else:
        skipped["torch._int_mm + dequant/bias/relu"] = "torch._int_mm needs M > 16"
    return Case(
        suite="gemm",
        name=f"cuda linear M={m} N={n} K={k}",
        params=_params(M=m, N=n, K=k),
        impls=impls,
        work_ops=2.0 * m * n * k,
        work_bytes=float(n * k + m * k + 2 * m * n),  # int8 weights and activations, f16 out
        device=DEVICE,
        notes="scales + bias + relu, float16 output; graph rows: one call per replay",
        skipped=skipped,
    )


def cases() -> list[Case]:
    """The GPU cases (empty when ``available()`` is false)."""
    if not available():
        return []
    import torch

    gen = torch.Generator(device=DEVICE)
    gen.manual_seed(0)
    out = [_gemm_case(torch, n, gen) for n in GEMM_SIZES]
    out += [_config_spread_case(torch, *shape, gen) for shape in CONFIG_SPREAD_SHAPES]
    out.append(_host_cost_case(torch, gen))
    w = torch.randn(LINEAR_FEATURES, LINEAR_FEATURES, device=DEVICE, generator=gen)
    w_scale = w.abs().amax(dim=1) / 127
    w_q = torch.round(w / w_scale[:, None]).clamp(-127, 127).to(torch.int8)
    bias = torch.randn(LINEAR_FEATURES, device=DEVICE, generator=gen)
    weights = {
        "w_q": w_q,
        "w_scale": w_scale,
        "bias": bias,
        "w16": w.half(),
        "b16": bias.half(),
        "packed": pack_weights(w_q, w_scale, bias),
    }
    out += [_linear_case(torch, m, weights, gen) for m in LINEAR_ROWS]
    return out
