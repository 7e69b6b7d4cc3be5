"""Host cost of small repeated op calls on a real GPU (torch CUDA tensors; cupy when installed).

    PYTHONPATH=src python scripts/gpu_host_cost.py [--calls N] [--json out.json]

For each case the calls are issued back to back and the device is waited for once per batch,
so with kernels of a few µs the time per call is the host's: what lepton's op layer costs,
then what the library (allocation, stream query) and the C++ launcher add. Cases:

- ``int8_gemm`` 64×64×64 with config=None and with the heuristic's id; the issue's bar for the
  repeated call is 20 µs;
- the C++ launcher alone (``_core.int8_gemm_cuda`` on prepared pointers and output: its
  argument re-checks, device-attribute queries and the launch) and one library allocation and
  stream query, so the table splits the total;
- ``linear_int8`` M=1 and 32, N=K=4096, float16 in and out, with a ``PackedLinear``;
- the peers: ``torch._int_mm`` at 64³, torch float16 matmul at 64³ and ``F.linear`` at 4096.

It also prints cProfile's heaviest functions of the repeated int8_gemm call.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from pathlib import Path
from typing import Any


def per_call_us(fn: Any, sync: Any, calls: int, batches: int = 15) -> dict[str, float]:
    for _ in range(50):
        fn()
    sync()
    times = []
    for _ in range(batches):
        sync()
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        host = time.perf_counter_ns() - t0  # the calls' host time (launches are asynchronous)
        sync()
        times.append(host / calls / 1e3)
    times.sort()
    return {"median_us": round(times[len(times) // 2], 2), "min_us": round(times[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    from lepton import _core, ops
    from lepton import _cuda_arrays as ca
    from lepton.ops import _gemm_cuda

    dev = "cuda:0"
    sync = torch.cuda.synchronize
    g = torch.Generator(device=dev).manual_seed(0)
    a = torch.randint(-128, 128, (64, 64), dtype=torch.int8, device=dev, generator=g)
    b = torch.randint(-128, 128, (64, 64), dtype=torch.int8, device=dev, generator=g)
    a16, b16 = a.half(), b.half()
    heuristic = int(_core.gemm_cuda_resolve_config(-1, 64, 64, 64, 0, 0))
    out = torch.empty((64, 64), dtype=torch.int32, device=dev)
    stream = torch.cuda.current_stream(0).cuda_stream
    ws = int(_core.gemm_cuda_workspace_elems(heuristic, 64, 64, 64, 0, 0))
    wsbuf = torch.empty(max(ws, 1), dtype=torch.int32, device=dev)
    da = ca.describe(a, "a")

    def launcher_alone() -> None:
        _core.int8_gemm_cuda(
            a.data_ptr(), 64, b.data_ptr(), 64, 64, 64, 64, out.data_ptr(), 0, 0, 0, 0, 0, 1.0,
            wsbuf.data_ptr() if ws else 0, ws, heuristic, 0, stream,
        )  # fmt: skip

    cases: dict[str, Any] = {
        "lepton int8_gemm 64^3 config=None": lambda: ops.int8_gemm(a, b),
        f"lepton int8_gemm 64^3 config={heuristic}": lambda: ops.int8_gemm(a, b, config=heuristic),
        "C++ launcher alone (_core.int8_gemm_cuda)": launcher_alone,
        "library: torch.empty (64,64) int32 via lepton": lambda: ca.new(da, (64, 64), "int32"),
        "library: current stream via lepton": lambda: ca.stream_of(da),
        "torch._int_mm 64^3": lambda: torch._int_mm(a, b.t()),
        "torch f16 matmul 64^3": lambda: a16 @ b16.t(),
    }
    for m in (1, 32):
        w = torch.randn((4096, 4096), device=dev, generator=g) / 64
        scale = w.abs().amax(dim=1) / 127
        packed = ops.pack_weights(torch.round(w / scale[:, None]).to(torch.int8), scale)
        x = torch.randn((m, 4096), device=dev, generator=g).half()
        w16 = w.half()
        cases[f"lepton linear_int8 M={m} N=K=4096 f16"] = lambda x=x, p=packed: ops.linear_int8(
            x, p, out_dtype="float16"
        )
        cases[f"torch f16 F.linear M={m} N=K=4096"] = lambda x=x, w16=w16: F.linear(x, w16)
    try:
        import cupy

        ca_, cb_ = cupy.asarray(a), cupy.asarray(b)
        cases["lepton int8_gemm 64^3 config=None (cupy)"] = lambda: ops.int8_gemm(ca_, cb_)
    except ImportError:
        pass

    results = {name: per_call_us(fn, sync, args.calls) for name, fn in cases.items()}
    for name, row in results.items():
        print(f"{row['median_us']:9.2f} us median {row['min_us']:9.2f} us min  {name}")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(500):
        ops.int8_gemm(a, b)
    prof.disable()
    sync()
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)
    print("plan:", _gemm_cuda._plan_gemm(None, 64, 64, 64, 64, "int32", 0))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
