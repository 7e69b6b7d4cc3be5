"""Which array library an argument belongs to, where its memory lives, and its array namespace.

The one place that answers "is this a CUDA array, of which library, on which device": the ops
route on ``is_cuda`` (their hot path: a dict lookup by type for numpy, cupy and torch), the
checks and messages use ``placement``, and inference and the pipeline compute in the namespace
``to_backend`` gives (numpy on the CPU, cupy on a GPU; torch viewed without a copy).
``lepton._cuda_arrays`` reads a CUDA array's metadata and allocates through its library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

_DLPACK_CPU = 1
_DLPACK_CUDA = 2

# What a type is, decided once per type: "numpy", "torch" (a tensor: ask .is_cuda), "cupy"
# (always on a device), or "probe" (ask the instance: a __cuda_array_interface__ attribute, as
# other producers may set per instance or raise for host arrays, or a DLPack device).
_kinds: dict[type, str] = {np.ndarray: "numpy"}


def library_name(x: Any) -> str:
    """The top-level module of ``x``'s type: "numpy", "cupy", "torch", ..."""
    return type(x).__module__.split(".")[0]


def _kind(t: type) -> str:
    kind = _kinds.get(t)
    if kind is None:
        module = t.__module__.split(".")[0]
        if module == "torch" and hasattr(t, "data_ptr"):
            kind = "torch"
        elif module == "cupy" and hasattr(t, "__cuda_array_interface__"):
            kind = "cupy"
        elif issubclass(t, np.ndarray):
            kind = "numpy"
        else:
            kind = "probe"
        _kinds[t] = kind
    return kind


def is_cuda(x: Any) -> bool:
    """Whether ``x`` is an array in CUDA device memory (None and host arrays: False)."""
    if x is None:
        return False
    kind = _kinds.get(type(x)) or _kind(type(x))
    if kind == "numpy":
        return False
    if kind == "cupy":
        return True
    if kind == "torch":
        return bool(x.is_cuda)
    return placement(x).is_cuda


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
    library = library_name(x)
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


# --- the namespace to compute in (inference, pipeline) -----------------------------------------


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
    return _cupy() if is_cuda(x) else np


def to_host(a: Any) -> np.ndarray:
    """A numpy copy of a numpy or cupy array (numpy arrays are returned as they are)."""
    return a if isinstance(a, np.ndarray) else a.get()
