"""Device names as the energy and tuning code spell them, and what identifies a device.

A device is ``"cpu"`` or ``"cuda:N"`` (N the CUDA index the caller's array library uses). The
identity (model name, driver, active ISA) is what a tuning result is only valid for.
"""

from __future__ import annotations

import functools
import os
import platform
from typing import Any

from lepton import _core


def normalize_device(device: Any) -> str:
    """``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a GPU index ``N`` -> ``"cpu"`` or ``"cuda:N"``."""
    if isinstance(device, bool):
        msg = f"device: expected 'cpu', 'cuda', 'cuda:N' or a GPU index, got {device!r}"
        raise TypeError(msg)
    if isinstance(device, int):
        if device < 0:
            msg = f"device: expected a GPU index >= 0, got {device}"
            raise ValueError(msg)
        return f"cuda:{device}"
    if not isinstance(device, str):
        msg = f"device: expected 'cpu', 'cuda', 'cuda:N' or an index, got {type(device).__name__}"
        raise TypeError(msg)
    text = device.strip().lower()
    if text == "cpu":
        return "cpu"
    if text == "cuda":
        return "cuda:0"
    if text.startswith("cuda:") and text[5:].isdigit():
        return f"cuda:{int(text[5:])}"
    msg = f"device: expected 'cpu', 'cuda', 'cuda:N' or a GPU index, got {device!r}"
    raise ValueError(msg)


def cuda_index(device: str) -> int:
    """N of ``"cuda:N"`` (the device must already be normalised)."""
    return int(device.split(":", 1)[1])


def nvml_selector(index: int) -> tuple[str, int | str]:
    """How NVML names the GPU that CUDA calls ``index``: ("index", i) or ("uuid", "GPU-...").

    CUDA numbers only the devices in CUDA_VISIBLE_DEVICES, NVML numbers all of them, so the
    variable is followed. NVML orders by PCI bus; CUDA does too when CUDA_DEVICE_ORDER=PCI_BUS_ID
    (otherwise fastest first, which matches PCI order on machines with one GPU model).
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if not visible:
        return ("index", index)
    entries = [e.strip() for e in visible.split(",") if e.strip()]
    if index >= len(entries):
        msg = f"device: cuda:{index} is not visible (CUDA_VISIBLE_DEVICES={visible!r})"
        raise ValueError(msg)
    entry = entries[index]
    return ("index", int(entry)) if entry.isdigit() else ("uuid", entry)


@functools.lru_cache(maxsize=1)
def cpu_model_name() -> str:
    """The CPU's model name from /proc/cpuinfo (platform's answer elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Processor", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown cpu"


@functools.lru_cache(maxsize=16)
def _gpu_identity(device: str) -> tuple[str, str]:
    # NVML names the driver; without it the CUDA runtime still names the board.
    from lepton.energy.nvml import NvmlMeter

    meter = NvmlMeter(cuda_index(device))
    if meter.available:
        return meter.device_name, meter.driver
    if getattr(_core, "cuda_compiled", False) and cuda_index(device) < _core.cuda_device_count():
        return str(_core.cuda_device_info(cuda_index(device))["name"]), "unknown driver"
    return "unknown gpu", "unknown driver"


def device_identity(device: str) -> dict[str, str]:
    """``{"name", "driver"}`` of a normalised device; for the CPU the driver is the active ISA.

    The ISA is read each time: ``lepton.isa(...)`` can change it within a process, and a
    configuration tuned on the AVX-512 path says nothing about the AVX2 path.
    """
    if device == "cpu":
        return {"name": cpu_model_name(), "driver": f"isa={_core.active_isa()}"}
    name, driver = _gpu_identity(device)
    return {"name": name, "driver": driver}
