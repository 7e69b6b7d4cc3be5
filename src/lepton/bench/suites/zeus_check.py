"""Study ``zeus_check``: lepton's joules against Zeus's ``ZeusMonitor`` on the same windows.

An independent check of ``lepton.energy`` on the GPU (issue 11): a GEMM loop (lepton's
``int8_gemm`` at 8192³ on torch arrays) runs for ``WINDOWS`` windows of ``WINDOW_S`` seconds;
each window is measured by both at once, nested, the nesting alternating so that neither always
pays the other's edge reads (NVML: 4 ms each, under 0.3% of a 3 s window):

- even windows: Zeus outside, lepton's ``measure_window`` inside (the tuner's reading: tick-
  aligned counter, CUDA-event time); lepton's window joules = per-call joules × calls;
- odd windows: lepton's ``measure()`` outside (the counter at the window's edges), Zeus inside.

The bar: every window's joules agree within 3%. Zeus is a peer for this check only, never a
dependency: it is imported here, lazily, and without it the study says "zeus not installed".
(``zeus`` 0.16 needs numpy, pandas, scikit-learn, nvidia-ml-py, pydantic, rich, tyro, httpx,
amdsmi and python-dateutil: carry the wheels.) About 25 s of device time.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lepton.energy.base import Meter
from lepton.energy.measure import measure, measure_window
from lepton.energy.timing import DeviceTimer

WINDOWS = 6
WINDOW_S = 3.0
BAR = 0.03  # |lepton / zeus - 1| per window


def run_check(
    monitor: Any,
    meter: Meter,
    work: Callable[[], Any],
    sync: Callable[[], Any],
    timer: DeviceTimer,
    *,
    gpu: int = 0,
    windows: int = WINDOWS,
    window_s: float = WINDOW_S,
) -> list[dict[str, Any]]:
    """``windows`` windows of ``work``, each measured by ``monitor`` (a ``ZeusMonitor``) and
    by lepton at once; one row per window."""
    start = meter.clock()
    work()
    sync()
    call_s = max(meter.clock() - start, 1e-9)
    calls = max(1, math.ceil(window_s / call_s))
    rows = []
    for index in range(windows):
        key = f"lepton-check-{index}"
        if index % 2 == 0:
            monitor.begin_window(key)
            m = measure_window(
                work, meter, wait=sync, timer=timer, window_s=window_s, repetitions=calls
            )
            zeus = monitor.end_window(key)
            lepton_j = None if m.joules is None else m.joules * m.repetitions
            how, seconds = f"measure_window ({m.joules_from})", m.window_s
        else:
            with measure(meter=meter, sync=sync) as reading:
                monitor.begin_window(key)
                for _ in range(calls):
                    work()
                zeus = monitor.end_window(key)
            lepton_j, how, seconds = (
                reading.result.joules,
                "measure() edges",
                reading.result.seconds,
            )
        zeus_j = float(zeus.gpu_energy[gpu])
        ratio = None if lepton_j is None or zeus_j <= 0 else lepton_j / zeus_j
        rows.append(
            {
                "window": index,
                "lepton": how,
                "outer": "zeus" if index % 2 == 0 else "lepton",
                "lepton_j": lepton_j,
                "zeus_j": zeus_j,
                "lepton_s": seconds,
                "zeus_s": float(zeus.time),
                "ratio": ratio,
                "ok": ratio is not None and abs(ratio - 1) <= BAR,
            }
        )
    return rows


def markdown(rows: list[dict[str, Any]], facts: dict[str, Any]) -> str:
    lines = [
        f"# lepton.energy vs Zeus on {facts['device']} ({facts['work']})",
        "",
        f"lepton meter: {facts['meter']}; zeus {facts['zeus']}",
        "",
        "| window | outer | lepton reading | lepton J | Zeus J | lepton s | Zeus s | ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lepton_j = "-" if r["lepton_j"] is None else f"{r['lepton_j']:.2f}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.4f}"
        lines.append(
            f"| {r['window']} | {r['outer']} | {r['lepton']} | {lepton_j} | {r['zeus_j']:.2f} | "
            f"{r['lepton_s']:.3f} | {r['zeus_s']:.3f} | {ratio} |"
        )
    ok = bool(rows) and all(r["ok"] for r in rows)
    lines += ["", f"- bar: every window within {BAR:.0%}: {'yes' if ok else 'NO'}", ""]
    return "\n".join(lines)


def study(size: str, out_dir: Path) -> str:
    """Entry point of ``python -m bench zeus_check``."""
    try:
        import zeus
        from zeus.monitor import ZeusMonitor
    except ImportError:
        return "zeus not installed (pip install zeus): the cross-check did not run\n"
    try:
        import torch
    except ImportError:
        return "zeus_check needs torch with CUDA: the cross-check did not run\n"
    if size != "full" or not torch.cuda.is_available():
        return "zeus_check needs a CUDA GPU (--size full): the cross-check did not run\n"
    from lepton.energy.meters import meter_for
    from lepton.energy.timing import CudaEventTimer
    from lepton.ops import int8_gemm

    meter = meter_for("cuda:0")
    if not meter.has_energy:
        return f"zeus_check: lepton has no meter on cuda:0 ({meter.status()})\n"
    a = torch.randint(-128, 128, (8192, 8192), dtype=torch.int8, device="cuda:0")
    b = torch.randint(-128, 128, (8192, 8192), dtype=torch.int8, device="cuda:0")
    monitor = ZeusMonitor(gpu_indices=[0], cpu_indices=[])
    rows = run_check(
        monitor,
        meter,
        lambda: int8_gemm(a, b),
        lambda: torch.cuda.synchronize(0),
        CudaEventTimer("torch", torch, 0, per_call=True),
    )
    facts = {
        "device": meter.device_name,
        "work": "lepton int8_gemm 8192³, torch arrays",
        "meter": meter.status(),
        "zeus": getattr(zeus, "__version__", "?"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"zeus_check-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"facts": facts, "windows": rows}, indent=1))
    print(f"wrote {path}", file=sys.stderr)
    return markdown(rows, facts)
