"""The meters, and which one reads a given device.

``meter_for("cpu")`` is RAPL when readable; ``meter_for("cuda:N")`` is NVML when usable; anything
else is a ``NullMeter`` that carries the reason, never a made-up number.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from lepton.energy.base import Meter, NullMeter, Window
from lepton.energy.devices import cuda_index, normalize_device
from lepton.energy.nvml import NvmlMeter
from lepton.energy.rapl import RaplMeter

__all__ = [
    "Meter",
    "NullMeter",
    "NvmlMeter",
    "RaplMeter",
    "Window",
    "available_meters",
    "meter_for",
]

_meters: dict[str, Meter] = {}
_meters_lock = threading.Lock()


def _open_meter(device: str) -> Meter:
    if device == "cpu":
        rapl = RaplMeter()
        return rapl if rapl.available else NullMeter(f"RAPL: {rapl.reason}")
    nvml = NvmlMeter(cuda_index(device))
    return nvml if nvml.available else NullMeter(f"NVML: {nvml.reason}", device=device)


def meter_for(device: Any = "cpu") -> Meter:
    """The best meter for ``device`` ("cpu", "cuda", "cuda:N" or an index), opened once."""
    name = normalize_device(device)
    with _meters_lock:
        if name not in _meters:
            _meters[name] = _open_meter(name)
        return _meters[name]


def available_meters() -> list[dict[str, Any]]:
    """Every meter this machine could use, readable or not: source, device, status.

    Never raises: this feeds `lepton info`, which must work on any machine.
    """
    found: list[dict[str, Any]] = []
    rapl = RaplMeter()
    found.append(
        {"source": "rapl", "device": "cpu", "available": rapl.available, "status": rapl.status()}
    )
    first = NvmlMeter(0)
    if not first.available:
        found.append(
            {"source": "nvml", "device": "cuda", "available": False, "status": first.status()}
        )
        return found
    try:
        count = int(first._nvml.nvmlDeviceGetCount())
    except first._nvml.NVMLError:
        count = 1
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible:  # CUDA numbers only these; NVML counts every board
        count = min(count, len([e for e in visible.split(",") if e.strip()]))
    meters = [first, *(NvmlMeter(i) for i in range(1, count))]
    for meter in meters:
        found.append(
            {
                "source": "nvml",
                "device": meter.device,
                "available": meter.available,
                "status": meter.status(),
            }
        )
        meter.close()
    return found
