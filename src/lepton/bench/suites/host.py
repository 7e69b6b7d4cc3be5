"""Benchmark suite ``host``: what a small, repeated op call costs the host.

Calls are issued back to back and the device (if any) is waited for once per window, so when
the kernel is shorter than the host's work per call — int8_gemm at 64×64×64 runs in about
2 µs on a GPU — the time per call is the host's cost: argument checks, the plan lookup,
allocating the output, the launch. The issue's bar for a repeated CUDA ``int8_gemm`` 64³ call
is 20 µs.

- CPU, 64×64×64: ``int8_gemm`` with ``config=None`` (the plan's tuned-or-heuristic config)
  and with an explicit config, against the core called directly (``_core.int8_gemm``, no
  Python checks: the floor the op layer adds to) and numpy float32 matmul (what a user would
  compare a tiny product with). ``linear_int8`` M=1, N=K=256 with a ``PackedLinear`` against
  its core call.
- GPU (``full``, CUDA build + GPU + torch): ``int8_gemm`` 64³ on torch tensors, config=None
  and explicit, against ``torch._int_mm`` and torch float16 matmul; ``linear_int8`` M=1 and
  32, N=K=4096, float16 in, against torch float16 ``F.linear``.
"""

from __future__ import annotations

import numpy as np

from lepton import _core, get_isa, get_num_threads
from lepton._validate import choice
from lepton.bench.case import Case, Impl
from lepton.bench.suites import gemm_cuda
from lepton.ops import int8_gemm, linear_int8, pack_weights

SIZE = 64  # M = N = K of the tiny GEMM
LINEAR_CPU = (1, 256)  # M, N = K
LINEAR_GPU = ((1, 4096), (32, 4096))
EXPLICIT_CPU_CONFIG = 0


def _params(**shape: int) -> dict[str, object]:
    return {**shape, "isa": get_isa(), "threads": get_num_threads()}


def _cpu_cases(rng: np.random.Generator) -> list[Case]:
    a = rng.integers(-128, 128, (SIZE, SIZE), dtype=np.int8)
    b = rng.integers(-128, 128, (SIZE, SIZE), dtype=np.int8)
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    cfg = EXPLICIT_CPU_CONFIG
    gemm = Case(
        suite="host",
        name=f"host int8_gemm {SIZE}x{SIZE}x{SIZE}",
        params=_params(M=SIZE, N=SIZE, K=SIZE),
        impls=[
            Impl("lepton int8_gemm", lambda: int8_gemm(a, b), is_lepton=True),
            Impl(f"lepton int8_gemm config={cfg}", lambda: int8_gemm(a, b, config=cfg)),
            Impl(
                "core call alone (floor)",
                lambda: _core.int8_gemm(a, b, None, None, None, None, "int32", 1.0, -1),
            ),
            Impl("numpy f32 matmul", lambda: a32 @ b32.T),
        ],
        work_ops=2.0 * SIZE**3,
        notes="repeated calls; the gap to the core call is the op layer's host cost",
    )
    m, n = LINEAR_CPU
    w = rng.integers(-127, 128, (n, n), dtype=np.int8)
    packed = pack_weights(w, rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32))
    x = rng.standard_normal((m, n), dtype=np.float32)
    linear = Case(
        suite="host",
        name=f"host linear_int8 M={m} N={n} K={n}",
        params=_params(M=m, N=n, K=n),
        impls=[
            Impl("lepton linear_int8 (packed)", lambda: linear_int8(x, packed), is_lepton=True),
            Impl(
                "core call alone (floor)",
                lambda: _core.linear_int8(x, packed._handle, None, "float32", 1.0, -1)[0],
            ),
        ],
        work_ops=2.0 * m * n * n,
        notes="repeated calls; the gap to the core call is the op layer's host cost",
    )
    return [gemm, linear]


def _gpu_cases() -> list[Case]:
    import torch
    import torch.nn.functional as F

    gen = torch.Generator(device=gemm_cuda.DEVICE).manual_seed(0)
    sync = torch.cuda.synchronize
    a = torch.randint(-128, 128, (SIZE, SIZE), dtype=torch.int8, device=gemm_cuda.DEVICE,
                      generator=gen)  # fmt: skip
    b = torch.randint(-128, 128, (SIZE, SIZE), dtype=torch.int8, device=gemm_cuda.DEVICE,
                      generator=gen)  # fmt: skip
    a16, b16 = a.half(), b.half()
    cfg = int(_core.gemm_cuda_resolve_config(-1, SIZE, SIZE, SIZE, 0, 0))
    out: list[Case] = [
        Case(
            suite="host",
            name=f"host cuda int8_gemm {SIZE}x{SIZE}x{SIZE}",
            params=gemm_cuda._params(M=SIZE, N=SIZE, K=SIZE),
            impls=[
                Impl("lepton int8_gemm", lambda: int8_gemm(a, b), is_lepton=True, sync=sync),
                Impl(
                    f"lepton int8_gemm config={cfg}", lambda: int8_gemm(a, b, config=cfg), sync=sync
                ),
                Impl("torch._int_mm", lambda: torch._int_mm(a, b.t()), sync=sync),
                Impl("torch f16 matmul", lambda: a16 @ b16.t(), sync=sync),
            ],
            work_ops=2.0 * SIZE**3,
            device=gemm_cuda.DEVICE,
            notes="calls back to back, one sync per window: time per call = host cost "
            "(issue 12 bar: <= 20 us for lepton int8_gemm)",
        )
    ]
    for m, n in LINEAR_GPU:
        w = torch.randn((n, n), device=gemm_cuda.DEVICE, generator=gen) / n**0.5
        x = torch.randn((m, n), device=gemm_cuda.DEVICE, generator=gen).half()
        w16 = w.half()
        scale = w.abs().amax(dim=1) / 127
        w_q = torch.round(w / scale[:, None]).to(torch.int8)
        packed = pack_weights(w_q, scale)
        out.append(
            Case(
                suite="host",
                name=f"host cuda linear_int8 M={m} N={n} K={n}",
                params=gemm_cuda._params(M=m, N=n, K=n),
                impls=[
                    Impl(
                        "lepton linear_int8 (packed, f16 out)",
                        lambda x=x, p=packed: linear_int8(x, p, out_dtype="float16"),
                        is_lepton=True,
                        sync=sync,
                    ),
                    Impl("torch f16 F.linear", lambda x=x, w16=w16: F.linear(x, w16), sync=sync),
                ],
                work_ops=2.0 * m * n * n,
                device=gemm_cuda.DEVICE,
                notes="calls back to back, one sync per window",
            )
        )
    return out


def cases(size: str) -> list[Case]:
    """The host suite's cases for ``size`` ("small": CPU; "full": plus the GPU's)."""
    choice(size, "size", ("small", "full"))
    out = _cpu_cases(np.random.default_rng(0))
    if size == "full" and gemm_cuda.available():
        out += _gpu_cases()
    return out
