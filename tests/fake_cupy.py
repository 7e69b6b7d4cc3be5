"""A stand-in for cupy, backed by host memory, for running lepton's CUDA call path without a GPU.

Everything lepton does on the host for a CUDA call runs for real (describing arrays, checks,
config resolution, the tuning-cache lookup, allocations and stream queries through "cupy");
only the ``_core`` CUDA entry points are replaced, by ``CoreStub``, with recorders that do no
device work (and cost next to nothing, so that timings show lepton's own host cost). Arrays
keep their data in numpy buffers whose addresses stand in for device pointers, so alignment and
strides are those of real memory.

Counters say what each call did: ``FakeCupy.counts`` (allocations, stream queries, host
synchronisations: ``.get()``, ``.item()``, ``deviceSynchronize``) and ``CoreStub.calls``. A
host synchronisation is an error unless the test allows it (``FakeCupy.allow_sync``): lepton's
hot paths must never wait for the device.
"""

from __future__ import annotations

import sys
import types
from collections import Counter
from typing import Any

import numpy as np

STREAM = 0x5000  # the fake current stream's handle


class HostSync(AssertionError):
    """A call synchronised the host with the (fake) device."""


class ndarray:  # cupy's spelling
    """A cupy-like array over a numpy buffer."""

    __slots__ = ("_a", "_c", "_lib", "_ptr")

    def __init__(self, a: np.ndarray, lib: FakeCupy) -> None:
        self._a = a
        self._lib = lib
        # read once: numpy builds __array_interface__ anew on each access, and the fake's own
        # costs should stay out of the host cost it helps measure
        self._ptr = a.__array_interface__["data"][0]
        self._c = a.flags.c_contiguous

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        a = self._a
        return {
            "shape": a.shape,
            "typestr": a.dtype.str,
            "data": (self._ptr, False),
            "strides": None if self._c else a.strides,
            "version": 3,
            "stream": STREAM,  # cupy reports its current stream
        }

    device = types.SimpleNamespace(id=0)
    data = property(lambda self: types.SimpleNamespace(ptr=self._ptr))
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    strides = property(lambda self: self._a.strides)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    T = property(lambda self: ndarray(self._a.T, self._lib))

    def reshape(self, *shape: Any) -> ndarray:
        return ndarray(self._a.reshape(*shape), self._lib)

    def astype(self, dtype: Any) -> ndarray:
        self._lib.counts["copy"] += 1
        return ndarray(self._a.astype(dtype), self._lib)

    def __getitem__(self, index: Any) -> ndarray:
        return ndarray(self._a[index], self._lib)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._lib.counts["copy"] += 1
        self._a[index] = value._a if isinstance(value, ndarray) else value

    def get(self) -> np.ndarray:
        self._lib.sync("ndarray.get")
        return self._a.copy()

    def set(self, host: np.ndarray) -> None:
        self._lib.counts["host_to_device"] += 1
        self._a[...] = host

    def item(self) -> Any:
        self._lib.sync("ndarray.item")
        return self._a.item()

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        self._lib.sync("np.asarray(cupy array)")
        return self._a

    @property
    def host(self) -> np.ndarray:
        """The data, for tests (not a synchronisation: nothing runs on a device here)."""
        return self._a


ndarray.__module__ = "cupy"


class FakeCupy(types.ModuleType):
    """The module object installed as ``sys.modules["cupy"]``."""

    def __init__(self) -> None:
        super().__init__("cupy")
        self.ndarray = ndarray
        self.counts: Counter = Counter()
        self.allow_sync = False
        lib = self

        class _Stream:
            @property
            def ptr(self) -> int:
                lib.counts["stream_query"] += 1
                return STREAM

        class _Device:
            def __init__(self, index: int = 0) -> None:
                self.id = index

            def __enter__(self) -> _Device:
                return self

            def __exit__(self, *exc: Any) -> None:
                return None

        def _device_synchronize() -> None:
            lib.sync("deviceSynchronize")

        self.cuda = types.SimpleNamespace(
            Device=_Device,
            get_current_stream=lambda: _Stream(),
            runtime=types.SimpleNamespace(deviceSynchronize=_device_synchronize),
        )

    # --- bookkeeping ---------------------------------------------------------------------------
    def sync(self, what: str) -> None:
        self.counts["sync"] += 1
        if not self.allow_sync:
            raise HostSync(f"host synchronisation: {what}")

    def wrap(self, a: np.ndarray) -> ndarray:
        return ndarray(a, self)

    # --- the cupy functions lepton calls -------------------------------------------------------
    def _alloc(self, shape: Any, dtype: Any, fill: bool) -> ndarray:
        self.counts["alloc"] += 1
        a = np.zeros(shape, dtype) if fill else np.empty(shape, dtype)
        return ndarray(a, self)

    def empty(self, shape: Any, dtype: Any = np.float64) -> ndarray:
        return self._alloc(shape, dtype, False)

    def zeros(self, shape: Any, dtype: Any = np.float64) -> ndarray:
        return self._alloc(shape, dtype, True)

    def asarray(self, x: Any) -> ndarray:
        if isinstance(x, ndarray):
            return x
        if hasattr(x, "__cuda_array_interface__"):
            msg = "fake cupy: only its own arrays can be viewed"
            raise TypeError(msg)
        self.counts["host_to_device"] += 1
        return ndarray(np.array(x), self)

    def ascontiguousarray(self, x: ndarray) -> ndarray:
        if x._a.flags.c_contiguous:
            return x
        self.counts["copy"] += 1
        return ndarray(np.ascontiguousarray(x._a), self)

    def array(self, x: ndarray, copy: bool = True, order: str = "C") -> ndarray:
        self.counts["copy"] += 1
        return ndarray(np.array(x._a, copy=True, order=order), self)

    def moveaxis(self, x: ndarray, source: int, destination: int) -> ndarray:
        return ndarray(np.moveaxis(x._a, source, destination), self)


class CoreStub:
    """Replacements for ``_core``'s CUDA entry points: they record their calls and do nothing
    on a device. ``resolve_config`` runs the real C++ heuristic with an H100-like device's facts
    (132 SMs, 227 KiB shared memory, sm_90), so the config chosen is the one a GPU would get."""

    SM_COUNT, SMEM, CAPABILITY = 132, 227 * 1024, 90

    def __init__(self, core: Any) -> None:
        self.core = core
        self.calls: Counter = Counter()
        self.launches: list[dict[str, Any]] = []

    def device_info(self, index: int) -> dict[str, Any]:
        return {
            "index": index,
            "name": "Fake H100",
            "capability": (9, 0),
            "sm_count": self.SM_COUNT,
            "total_memory": 80 << 30,
        }

    def entry_points(self) -> dict[str, Any]:
        core, calls = self.core, self.calls
        split_k = [c["split_k"] for c in core.gemm_cuda_configs()]

        def resolve(config: int, m: int, n: int, k: int, out_dtype: int, device: int) -> int:
            calls["gemm_cuda_resolve_config"] += 1
            if config < 0:
                return int(
                    core.gemm_cuda_heuristic(
                        m, n, k, self.SM_COUNT, self.SMEM, out_dtype, self.CAPABILITY
                    )
                )
            return int(config)

        def workspace(config: int, m: int, n: int, k: int, out_dtype: int, device: int) -> int:
            calls["gemm_cuda_workspace_elems"] += 1
            return split_k[config] * m * n if split_k[config] > 1 else 0

        def launch(*args: Any) -> None:
            calls["int8_gemm_cuda"] += 1
            self.launches.append({"config": args[-3], "workspace_elems": args[-4]})

        def quantize_rows(*args: Any) -> None:
            calls["quantize_rows_cuda"] += 1

        def counted(name: str, value: Any) -> Any:
            def f(*args: Any) -> Any:
                calls[name] += 1
                return value(*args) if callable(value) else value

            return f

        return {
            "cuda_compiled": True,
            "gemm_cuda_resolve_config": resolve,
            "gemm_cuda_workspace_elems": workspace,
            "int8_gemm_cuda": launch,
            "quantize_rows_cuda": quantize_rows,
            "cuda_stream_wait": counted("cuda_stream_wait", None),
            "cuda_device_count": counted("cuda_device_count", 1),
            "cuda_device_info": counted("cuda_device_info", self.device_info),
            "cuda_pointer_device": counted("cuda_pointer_device", 0),
        }


def install(monkeypatch: Any = None) -> tuple[FakeCupy, CoreStub]:
    """Install the fake cupy and the ``_core`` stubs (undone by ``monkeypatch`` if given)."""
    from lepton import _core

    lib = FakeCupy()
    stub = CoreStub(_core)
    if monkeypatch is not None:
        monkeypatch.setitem(sys.modules, "cupy", lib)
        for name, value in stub.entry_points().items():
            monkeypatch.setattr(_core, name, value, raising=False)
    else:
        sys.modules["cupy"] = lib
        for name, value in stub.entry_points().items():
            setattr(_core, name, value)
    return lib, stub
