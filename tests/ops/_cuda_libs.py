"""Moving test data between numpy and the CUDA array libraries (GPU tests only)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

LIBRARIES = ("torch", "cupy")


def library(name: str) -> Any:
    """The library module, or a skip when it is not installed."""
    mod = pytest.importorskip(name)
    if name == "torch" and not mod.cuda.is_available():
        pytest.skip("torch without CUDA")
    return mod


def to_device(x: np.ndarray, lib: str) -> Any:
    if lib == "torch":
        torch = library("torch")
        return torch.from_numpy(np.ascontiguousarray(x)).to("cuda:0")
    return library("cupy").asarray(x)


def to_host(x: Any) -> np.ndarray:
    if type(x).__module__.split(".")[0] == "torch":
        torch = library("torch")
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    return x.get()


def synchronize(lib: str) -> None:
    if lib == "torch":
        library("torch").cuda.synchronize()
    else:
        library("cupy").cuda.runtime.deviceSynchronize()


def poison_allocator(lib: str, nbytes: int) -> None:
    """Fill then free a block of ``nbytes`` so the caching allocator hands the kernel memory full
    of 0x7f bytes: an output element the kernel never writes then shows up as a mismatch."""
    if lib == "torch":
        torch = library("torch")
        block = torch.full((nbytes,), 0x7F, dtype=torch.uint8, device="cuda:0")
    else:
        cupy = library("cupy")
        block = cupy.full((nbytes,), 0x7F, dtype=cupy.uint8)
    del block
