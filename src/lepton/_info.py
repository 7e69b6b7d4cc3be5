"""What this installation can do: the facts `lepton info` prints."""

from __future__ import annotations

import importlib
import platform
from typing import Any

from lepton import _core


def version() -> str:
    return str(_core.__version__)


def _gpus() -> list[dict[str, Any]]:
    if not getattr(_core, "cuda_compiled", False):
        return []
    return [dict(_core.cuda_device_info(i)) for i in range(_core.cuda_device_count())]


def _meters() -> list[dict[str, Any]]:
    try:
        energy = importlib.import_module("lepton.energy")
    except ImportError:
        return []
    finder = getattr(energy, "available_meters", None)
    return list(finder()) if finder else []


def collect() -> dict[str, Any]:
    return {
        "version": version(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_isa_detected": _core.detected_isa(),
        "cpu_isa_active": _core.active_isa(),
        "cpu_isas_available": list(_core.available_isas()),
        "threads": _core.num_threads(),
        "openmp": bool(_core.have_openmp),
        "cuda_compiled": bool(getattr(_core, "cuda_compiled", False)),
        "cuda_architectures": getattr(_core, "cuda_architectures", ""),
        "cuda_kernels": getattr(_core, "cuda_configs_build", ""),  # all | minimal
        "cuda_wgmma": getattr(_core, "cuda_wgmma_build", ""),  # built | no-cutlass | no-sm90a
        "gpus": _gpus(),
        "meters": _meters(),
    }
