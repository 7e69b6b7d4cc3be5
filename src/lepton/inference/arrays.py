"""Which array library an input lives in, and how to hand results back in that library.

Inference and the pipeline compute with the array namespace of their input: numpy on the CPU,
cupy on a GPU. torch tensors are viewed through numpy (CPU) or DLPack/cupy (CUDA) without a copy,
and results are converted back, so the caller gets their own library's arrays.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from lepton._dispatch import placement


@dataclass(frozen=True)
class Backend:
    xp: ModuleType  # numpy or cupy: the namespace the work runs in
    device: str  # "cpu" or "cuda:N"
    restore: Callable[[Any], Any]  # turns an xp array back into the caller's library

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")

    @property
    def device_index(self) -> int | None:
        return int(self.device.split(":")[1]) if self.is_cuda else None


def _identity(a: Any) -> Any:
    return a


def _cupy() -> ModuleType:
    try:
        return importlib.import_module("cupy")
    except ImportError as exc:  # a CUDA array without cupy: we have no namespace to compute in
        msg = "a CUDA array was given but cupy is not installed (pip install lepton-kernels[gpu])"
        raise TypeError(msg) from exc


def to_backend(x: Any, name: str = "x") -> tuple[Any, Backend]:
    """``x`` as a numpy or cupy array (no copy where possible) and the backend it belongs to."""
    where = placement(x)
    if where.library == "torch":
        torch = importlib.import_module("torch")
        if where.is_cuda:
            cp = _cupy()
            return cp.from_dlpack(x.detach()), Backend(cp, where.device, torch.from_dlpack)
        return x.detach().numpy(), Backend(np, "cpu", torch.from_numpy)
    if where.is_cuda:
        cp = _cupy()
        if not isinstance(x, cp.ndarray):
            x = cp.asarray(x)
        return x, Backend(cp, where.device, _identity)
    if x is None:
        msg = f"{name}: expected an array, got None"
        raise TypeError(msg)
    return x, Backend(np, "cpu", _identity)


def namespace(x: Any) -> ModuleType:
    """numpy for host arrays, cupy for cupy arrays."""
    return _cupy() if placement(x).is_cuda else np


def to_host(a: Any) -> np.ndarray:
    """A numpy copy of a numpy or cupy array (numpy arrays are returned as they are)."""
    return a if isinstance(a, np.ndarray) else a.get()
