"""Benchmark suite ``gemm``: lepton's int8 GEMM and int8 linear layer on the CPU.

Cases:

- ``int8_gemm`` at 1024³ and 2048³ (int8 operands, exact int32 output; B is packed on every
  call, which is int8_gemm's contract) against numpy float32 matmul (OpenBLAS) on the same
  values, and numpy int32 matmul (numpy has no BLAS for integers, so it is a naive loop: it
  runs at 1024³ and is skipped at 2048³, where one call takes over five seconds).
- ``linear_int8`` with a ``PackedLinear`` (weights packed once, activations quantized per
  call) at M ∈ {1, 8, 32}, N = K = 4096, against numpy float32 ``x @ W.T`` with W a contiguous
  (N, K) float32 array, as torch/sklearn hold weights. At small M both are bound by reading
  the weights: int8 reads a quarter of the bytes. The int8 peer a CPU user would pick is there
  too when torch is installed: ``torch.ao.quantization.quantize_dynamic`` of an ``nn.Linear``
  (qint8 weights, activations quantized per call; torch's default ``x86`` engine, which
  dispatches to fbgemm or oneDNN, under ``inference_mode``), no bias on either side.

``full`` is the same as ``small`` on the CPU, plus the GPU cases of ``gemm_cuda`` when this is
a CUDA build with a GPU and torch (see that module).
"""

from __future__ import annotations

import warnings

import numpy as np

from lepton import get_isa, get_num_threads
from lepton._validate import choice
from lepton.bench.case import Case, Impl
from lepton.bench.suites import gemm_cuda
from lepton.ops import int8_gemm, linear_int8, pack_weights, quantize

GEMM_SIZES = (1024, 2048)
LINEAR_ROWS = (1, 8, 32)
LINEAR_FEATURES = 4096
# numpy's integer matmul measured 0.53 s at 1024³ and ~5.5 s at 2048³ (Zen 5, one call).
INT32_MATMUL_MAX_N = 1024


def _params(**shape: int) -> dict[str, object]:
    return {**shape, "isa": get_isa(), "threads": get_num_threads()}


def _gemm_case(n: int, rng: np.random.Generator) -> Case:
    a = rng.integers(-128, 128, (n, n), dtype=np.int8)
    b = rng.integers(-128, 128, (n, n), dtype=np.int8)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    impls = [
        Impl("lepton int8_gemm", lambda: int8_gemm(a, b), is_lepton=True),
        Impl("numpy f32 matmul", lambda: np.matmul(a32, b32.T)),
    ]
    skipped = {}
    if n <= INT32_MATMUL_MAX_N:
        ai, bi = a.astype(np.int32), b.astype(np.int32)
        impls.append(Impl("numpy int32 matmul", lambda: np.matmul(ai, bi.T)))
    else:
        skipped["numpy int32 matmul"] = (
            f"no BLAS path for integers: ~5.5 s per call at {n}³ (0.53 s at 1024³), over the "
            "suite's 5 s per-call budget"
        )
    return Case(
        suite="gemm",
        name=f"int8_gemm {n}x{n}x{n}",
        params=_params(M=n, N=n, K=n),
        impls=impls,
        work_ops=2.0 * n * n * n,
        work_bytes=2.0 * n * n + 4.0 * n * n,  # int8 A and B in, int32 C out
        notes="exact int32 output; B packed per call",
        skipped=skipped,
    )


def torch_dynamic_quantized(layers: list[tuple[np.ndarray, np.ndarray | None, bool]]):
    """``[(W (N, K), b or None, relu after)]`` as torch's dynamic-quantized ``nn.Sequential``
    and the quantized engine it runs on; ``(None, why)`` without torch."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return None, "torch is not installed"
    modules: list = []
    for w, b, relu in layers:
        linear = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)))
            if b is not None:
                linear.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
        modules += [linear, nn.ReLU()] if relu else [linear]
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; it is still torch's own CPU path
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        from torch.ao.quantization import quantize_dynamic

        net = quantize_dynamic(nn.Sequential(*modules).eval(), {nn.Linear}, dtype=torch.qint8)
    return net, str(torch.backends.quantized.engine)


def torch_call(net, x: np.ndarray):
    """``net(x)`` under ``inference_mode`` on a tensor viewing ``x`` (no copy)."""
    import torch

    xt = torch.from_numpy(x)

    def run():
        with torch.inference_mode():
            return net(xt)

    return run


def _linear_case(m: int, rng: np.random.Generator, weights: tuple) -> Case:
    w, packed, (dynamic, engine) = weights
    n, k = w.shape
    x = rng.standard_normal((m, k), dtype=np.float32)
    impls = [
        Impl("lepton linear_int8 (packed)", lambda: linear_int8(x, packed), is_lepton=True),
        Impl("numpy f32 x @ W.T", lambda: x @ w.T),
    ]
    skipped = {}
    if dynamic is None:
        skipped["torch dynamic-quant Linear"] = engine
    else:
        impls.append(Impl(f"torch dynamic-quant Linear ({engine})", torch_call(dynamic, x)))
    return Case(
        suite="gemm",
        name=f"linear_int8 M={m} N={n} K={k}",
        params=_params(M=m, N=n, K=k),
        impls=impls,
        work_ops=2.0 * m * n * k,
        work_bytes=float(n * k + 4 * m * k + 4 * m * n),  # int8 weights, float32 x and out
        notes="float32 x quantized per row on every call; weights packed once",
        skipped=skipped,
    )


def cases(size: str) -> list[Case]:
    """The gemm suite's cases for ``size`` ("small" or "full"; "full" adds GPU cases)."""
    choice(size, "size", ("small", "full"))
    rng = np.random.default_rng(0)
    out = [_gemm_case(n, rng) for n in GEMM_SIZES]
    w = rng.standard_normal((LINEAR_FEATURES, LINEAR_FEATURES), dtype=np.float32)
    w_q, w_scale = quantize(w)
    weights = (w, pack_weights(w_q, w_scale), torch_dynamic_quantized([(w, None, False)]))
    out += [_linear_case(m, rng, weights) for m in LINEAR_ROWS]
    if size == "full":
        out += gemm_cuda.cases()
    return out
