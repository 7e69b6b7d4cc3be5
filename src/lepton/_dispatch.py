"""Which array library an argument belongs to, and where its memory lives.

The CPU kernels take numpy arrays. CUDA arrays (cupy, torch CUDA tensors, anything with
``__cuda_array_interface__`` or a CUDA DLPack device) are recognised here so that ops can route
them to the CUDA backend, or refuse them clearly where that backend is not built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

_DLPACK_CPU = 1
_DLPACK_CUDA = 2


@dataclass(frozen=True)
class Placement:
    library: str  # "numpy", "cupy", "torch", or the module name of another array type
    device: str  # "cpu" or "cuda:N"

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")


def placement(x: Any) -> Placement:
    """Library and device of ``x`` without copying it."""
    if isinstance(x, np.ndarray):
        return Placement("numpy", "cpu")
    library = type(x).__module__.split(".")[0]
    if library == "torch":
        dev = x.device
        return Placement("torch", f"cuda:{dev.index or 0}" if dev.type == "cuda" else dev.type)
    if hasattr(x, "__cuda_array_interface__"):
        device = getattr(getattr(x, "device", None), "id", 0)
        return Placement(library, f"cuda:{device}")
    if hasattr(x, "__dlpack_device__"):
        kind, index = x.__dlpack_device__()
        if int(kind) == _DLPACK_CUDA:
            return Placement(library, f"cuda:{index}")
        if int(kind) == _DLPACK_CPU:
            return Placement(library, "cpu")
    return Placement(library, "cpu")
