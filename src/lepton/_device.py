"""Device names, and what identifies a device: the facts a tuned configuration is valid for.

A device is ``"cpu"`` or ``"cuda:N"`` (N the CUDA index the caller's array library uses). Its
identity is the model name and the driver (on the CPU: the active ISA, which ``lepton.isa``
can change within a process). This module sits below the ops, the energy meters and the tuner:
it asks NVML directly (no meter) and imports nothing of lepton but the core.
"""

from __future__ import annotations

import functools
import importlib
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


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _nvml_identity(index: int) -> tuple[str, str] | None:
    """(board name, "driver X") from NVML, or None when NVML cannot name this GPU."""
    try:
        nvml = importlib.import_module("pynvml")
    except ImportError:
        return None
    error = getattr(nvml, "NVMLError", Exception)
    try:
        nvml.nvmlInit()
    except error:
        return None
    try:
        kind, key = nvml_selector(index)
        if kind == "uuid":
            handle = nvml.nvmlDeviceGetHandleByUUID(key)
        else:
            handle = nvml.nvmlDeviceGetHandleByIndex(key)
        name = _text(nvml.nvmlDeviceGetName(handle))
        return name, f"driver {_text(nvml.nvmlSystemGetDriverVersion())}"
    except (error, ValueError):
        return None
    finally:
        nvml.nvmlShutdown()  # NVML counts initialisations: this one is ours to undo


@functools.lru_cache(maxsize=16)
def gpu_identity(device: str) -> tuple[str, str]:
    """(name, driver) of a normalised ``"cuda:N"``, asked once per process and device."""
    index = cuda_index(device)
    found = _nvml_identity(index)
    if found is not None:
        return found
    # Without NVML the CUDA runtime still names the board.
    if getattr(_core, "cuda_compiled", False) and index < _core.cuda_device_count():
        return str(_core.cuda_device_info(index)["name"]), "unknown driver"
    return "unknown gpu", "unknown driver"


def device_identity(device: str) -> dict[str, str]:
    """``{"name", "driver"}`` of a normalised device; for the CPU the driver is the active ISA.

    The ISA is read each time: ``lepton.isa(...)`` can change it within a process, and a
    configuration tuned on the AVX-512 path says nothing about the AVX2 path.
    """
    if device == "cpu":
        return {"name": cpu_model_name(), "driver": f"isa={_core.active_isa()}"}
    name, driver = gpu_identity(device)
    return {"name": name, "driver": driver}
