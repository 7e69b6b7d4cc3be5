"""CUDA arrays from other libraries: what the CUDA kernels need to know, and how to allocate.

Accepted inputs: cupy arrays, torch CUDA tensors, any object with ``__cuda_array_interface__``
(versions 2 and 3) and any object whose ``__dlpack_device__`` is CUDA. ``describe`` reads the
metadata without copying (data pointer, shape, byte strides, dtype name, device index,
read-only flag, the producer's stream); the checks below run on that metadata, so wrong dtypes,
host+device mixes and two-device calls raise before anything is allocated or launched.

Outputs and any copies are made by the input's own library on the input's device: cupy for
cupy arrays, torch for torch tensors. Other ``__cuda_array_interface__`` / DLPack objects are
viewed zero-copy through cupy (or torch when cupy is missing), and results come back in that
library. C++ never allocates device memory; it receives raw pointers and a stream.

Streams: kernels are launched on the output library's current stream for the input's device
(``cupy.cuda.get_current_stream().ptr``, ``torch.cuda.current_stream(device).cuda_stream``), the
stream its allocations (outputs, copies, workspace) are ordered on. A version-3
``__cuda_array_interface__`` object that names another stream is waited for on the device
(event record + stream wait, no host synchronisation) before the launch.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton._dispatch import _kind, _kinds, is_cuda, library_name, placement
from lepton._validate import check_shape

__all__ = [  # is_cuda is lepton._dispatch's, re-exported for the modules that import it here
    "DeviceArray", "contiguous", "copy", "describe", "describe_all", "empty", "is_cuda", "new",
    "order_after_producers", "padded_rows", "require", "stream_of",
]  # fmt: skip

_DLPACK_CUDA = 2
_TORCH_DTYPES = {
    "int8": "int8",
    "uint8": "uint8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "float16": "float16",
    "bfloat16": "bfloat16",
    "float32": "float32",
    "float64": "float64",
    "bool": "bool",
}


@dataclass(slots=True, eq=False)  # not frozen: a frozen dataclass costs µs to build
class DeviceArray:
    """Metadata of one CUDA array, and the library object that owns its memory (read-only by
    convention)."""

    obj: Any  # the caller's object
    library: str  # "cupy", "torch", or "cai" (another __cuda_array_interface__ producer)
    ptr: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]  # in bytes
    dtype: str  # numpy-style name; "bfloat16" for torch.bfloat16
    itemsize: int
    device: int
    readonly: bool
    stream: int | None  # the producer's stream (CAI v3 "stream"), None if not given

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def where(self) -> str:
        return f"cuda:{self.device}"

    def is_c_contiguous(self) -> bool:
        expected = self.itemsize
        for dim, stride in zip(reversed(self.shape), reversed(self.strides), strict=True):
            if dim != 1 and stride != expected:
                return False
            expected *= dim
        return True


def _c_strides(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    if len(shape) == 1:
        return (itemsize,)
    if len(shape) == 2:
        return (itemsize * max(shape[1], 1), itemsize)
    strides, step = [], itemsize
    for dim in reversed(shape):
        strides.append(step)
        step *= max(dim, 1)
    return tuple(reversed(strides))


def _describe_torch(x: Any) -> DeviceArray:
    dtype = _TORCH_DTYPES.get(str(x.dtype).removeprefix("torch."), str(x.dtype))
    itemsize = int(x.element_size())
    return DeviceArray(
        obj=x,
        library="torch",
        ptr=int(x.data_ptr()),
        shape=tuple(int(d) for d in x.shape),
        strides=tuple(int(s) * itemsize for s in x.stride()),
        dtype=dtype,
        itemsize=itemsize,
        device=int(x.device.index or 0),
        readonly=False,
        stream=None,
    )


def _cai_device(x: Any, ptr: int) -> int:
    device = getattr(getattr(x, "device", None), "id", None)  # cupy and look-alikes
    if device is not None:
        return int(device)
    from lepton import _core

    if ptr and getattr(_core, "cuda_compiled", False) and _core.cuda_device_count() > 0:
        return int(_core.cuda_pointer_device(ptr))
    return 0


# typestr -> (dtype name, itemsize, native byte order): numpy's dtype.name is slow to compute
_typestrs: dict[str, tuple[str, int, bool]] = {}


def _typestr(typestr: str) -> tuple[str, int, bool]:
    known = _typestrs.get(typestr)
    if known is None:
        dt = np.dtype(typestr)
        known = _typestrs[typestr] = (dt.name, dt.itemsize, dt.isnative)
    return known


def _describe_cai(x: Any, name: str, cai: dict[str, Any]) -> DeviceArray:
    version = int(cai.get("version", 0))
    if version < 2:
        msg = f"{name}: __cuda_array_interface__ version {version} is not supported (need 2+)"
        raise TypeError(msg)
    if cai.get("mask") is not None:
        msg = f"{name}: masked CUDA arrays are not supported"
        raise TypeError(msg)
    dtype, itemsize, native = _typestr(cai["typestr"])
    if not native:
        msg = f"{name}: expected a native-endian dtype, got {cai['typestr']!r}"
        raise TypeError(msg)
    shape = tuple(map(int, cai["shape"]))
    strides = cai.get("strides")
    strides = _c_strides(shape, itemsize) if strides is None else tuple(map(int, strides))
    ptr, readonly = int(cai["data"][0]), bool(cai["data"][1])
    library = library_name(x)
    stream = cai.get("stream") if version >= 3 else None
    return DeviceArray(
        obj=x,
        library="cupy" if library == "cupy" else "cai",
        ptr=ptr,
        shape=shape,
        strides=strides,
        dtype=dtype,
        itemsize=itemsize,
        device=_cai_device(x, ptr),
        readonly=readonly,
        # cupy reports its current stream, which is the one lepton launches on anyway
        stream=None if stream is None or library == "cupy" else int(stream),
    )


def _from_dlpack(x: Any, name: str) -> Any:
    cupy = _import("cupy")
    if cupy is not None:
        return cupy.from_dlpack(x)
    torch = _import("torch")
    if torch is not None:
        return torch.from_dlpack(x)
    msg = f"{name}: a CUDA DLPack object needs cupy or torch installed to be read"
    raise TypeError(msg)


def describe(x: Any, name: str) -> DeviceArray:
    """Metadata of CUDA array ``x`` (no copy); ``TypeError`` naming ``name`` if it is not one."""
    kind = _kinds.get(type(x)) or _kind(type(x))
    if kind == "torch":
        if x.device.type != "cuda":
            msg = f"{name}: expected a CUDA tensor, got one on {x.device}"
            raise TypeError(msg)
        return _describe_torch(x)
    # read once: producers build the dict on every access
    cai = getattr(x, "__cuda_array_interface__", None)
    if cai is not None:
        return _describe_cai(x, name, cai)
    dev = getattr(x, "__dlpack_device__", None)
    if dev is not None and int(dev()[0]) == _DLPACK_CUDA:
        return describe(_from_dlpack(x, name), name)
    msg = f"{name}: expected a CUDA array (cupy, torch CUDA tensor, __cuda_array_interface__), "
    msg += f"got {type(x).__name__}"
    raise TypeError(msg)


def require(
    d: DeviceArray,
    name: str,
    *,
    dtypes: tuple[str, ...] | None = None,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = False,
    hint: str = "",
) -> DeviceArray:
    """The dtype / ndim / emptiness checks of ``_validate.host_array`` for a CUDA array."""
    if dtypes is not None and d.dtype not in dtypes:
        msg = f"{name}: expected dtype {' or '.join(dtypes)}, got {d.dtype} (on {d.where}){hint}"
        raise TypeError(msg)
    check_shape(d.shape, name, ndim=ndim, allow_empty=allow_empty)
    return d


def describe_all(args: dict[str, Any]) -> dict[str, DeviceArray]:
    """Describe every non-None argument; all must be CUDA arrays on one device.

    Raises ``TypeError`` for a host array among device ones (naming both), ``ValueError`` for
    arrays on two devices. A ``DeviceArray`` value (described before) is taken as it is.
    """
    out: dict[str, DeviceArray] = {}
    host: list[str] = []
    for key, value in args.items():
        if value is None:
            continue
        if isinstance(value, DeviceArray):
            out[key] = value
        elif is_cuda(value):
            out[key] = describe(value, key)
        else:
            host.append(key)
    first_cuda, ref = next(iter(out.items()))
    if host:
        where = placement(args[host[0]])
        msg = (
            f"{host[0]}: got a {where.library} array on the host while {first_cuda} is on "
            f"{ref.where}; pass every array on the same device (host+device mixes are "
            "not copied implicitly)"
        )
        raise TypeError(msg)
    for key, d in out.items():
        if d.device != ref.device:
            msg = f"{key}: on {d.where} while {first_cuda} is on {ref.where}; use one device"
            raise ValueError(msg)
    return out


# --- the owning library: allocation, copies, streams -------------------------------------------


def _import(module: str) -> Any:
    if module in sys.modules:
        return sys.modules[module]
    try:
        return __import__(module)
    except ImportError:
        return None


def _library_of(d: DeviceArray) -> str:
    """Which library allocates outputs for ``d``: cupy or torch."""
    if d.library in ("cupy", "torch"):
        return d.library
    if _import("cupy") is not None:
        return "cupy"
    if _import("torch") is not None:
        return "torch"
    msg = "a __cuda_array_interface__ input needs cupy or torch installed to allocate outputs"
    raise TypeError(msg)


def as_library(d: DeviceArray) -> Any:
    """``d`` as a cupy array or torch tensor, zero-copy."""
    lib = _library_of(d)
    if d.library == lib:
        return d.obj
    if lib == "cupy":
        return _import("cupy").asarray(d.obj)
    return _import("torch").as_tensor(d.obj, device=f"cuda:{d.device}")


def _torch_dtype(dtype: str) -> Any:
    torch = _import("torch")
    return getattr(torch, dtype)


def empty(like: DeviceArray, shape: tuple[int, ...], dtype: str, *, zero: bool = False) -> Any:
    """A new C-contiguous array of ``like``'s library on its device (zero-filled if asked)."""
    lib = _library_of(like)
    if lib == "torch":
        torch = _import("torch")
        make = torch.zeros if zero else torch.empty
        return make(shape, dtype=_torch_dtype(dtype), device=f"cuda:{like.device}")
    cupy = _import("cupy")
    if dtype == "bfloat16":
        msg = "out_dtype: cupy has no bfloat16 dtype; use torch tensors for bfloat16 output"
        raise ValueError(msg)
    with cupy.cuda.Device(like.device):
        return (cupy.zeros if zero else cupy.empty)(shape, dtype=dtype)


_ITEMSIZES = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "float16": 2, "bfloat16": 2,
               "int32": 4, "float32": 4, "int64": 8, "float64": 8}  # fmt: skip


def new(
    like: DeviceArray, shape: tuple[int, ...], dtype: str, *, zero: bool = False
) -> DeviceArray:
    """``empty(...)`` described: a fresh array's metadata is known, only its address is read."""
    obj = empty(like, shape, dtype, zero=zero)
    torch = _library_of(like) == "torch"
    itemsize = _ITEMSIZES[dtype]
    return DeviceArray(
        obj=obj,
        library="torch" if torch else "cupy",
        ptr=int(obj.data_ptr() if torch else obj.data.ptr),
        shape=shape,
        strides=_c_strides(shape, itemsize),
        dtype=dtype,
        itemsize=itemsize,
        device=like.device,
        readonly=False,
        stream=None,
    )


def contiguous(d: DeviceArray, dtype: str | None = None) -> DeviceArray:
    """``d`` C-contiguous (and converted to ``dtype``), copied by its library only if needed."""
    if d.is_c_contiguous() and (dtype is None or dtype == d.dtype):
        return d
    arr = as_library(d)
    if _library_of(d) == "torch":
        arr = arr.contiguous() if dtype is None else arr.to(_torch_dtype(dtype)).contiguous()
    else:
        cupy = _import("cupy")
        with cupy.cuda.Device(d.device):
            arr = cupy.ascontiguousarray(arr if dtype is None else arr.astype(dtype))
    return describe(arr, "copy")


def padded_rows(d: DeviceArray, width: int) -> DeviceArray:
    """A zero-padded C-contiguous copy of 2-D ``d`` with rows ``width`` elements long."""
    out = empty(d, (d.shape[0], width), d.dtype, zero=True)
    out[:, : d.shape[1]] = as_library(d)
    return describe(out, "copy")


def stream_of(d: DeviceArray) -> int:
    """The stream lepton launches on for work on ``d``: its library's current stream."""
    lib = _library_of(d)
    if lib == "torch":
        return int(_import("torch").cuda.current_stream(d.device).cuda_stream)
    cupy = _import("cupy")
    with cupy.cuda.Device(d.device):
        return int(cupy.cuda.get_current_stream().ptr)


def order_after_producers(stream: int, arrays: list[DeviceArray]) -> None:
    """Make ``stream`` wait (on the device, not the host) for each CAI v3 producer stream."""
    producers = {d.stream for d in arrays if d.stream is not None}
    if not producers:  # cupy and torch arrays: their library's stream is the one launched on
        return
    from lepton import _core

    same = {stream} | ({0, 1} if stream in (0, 1) else set())  # 0 and 1: the legacy stream
    for producer in producers - same:
        _core.cuda_stream_wait(arrays[0].device, stream, producer)


# --- library-neutral array manipulation (cupy and torch spell these differently) ---------------


def copy(d: DeviceArray) -> DeviceArray:
    """A private C-contiguous copy of ``d`` by its library."""
    arr = as_library(d)
    if _library_of(d) == "torch":
        return describe(arr.clone(memory_format=_import("torch").contiguous_format), "copy")
    cupy = _import("cupy")
    with cupy.cuda.Device(d.device):
        return describe(cupy.array(arr, copy=True, order="C"), "copy")


def moveaxis(obj: Any, source: int, destination: int) -> Any:
    """``obj`` (a cupy array or torch tensor) with one axis moved, as a view."""
    if type(obj).__module__.split(".")[0] == "torch":
        return obj.movedim(source, destination)
    return _import("cupy").moveaxis(obj, source, destination)


def read_scalar(obj: Any) -> int:
    """The single element of a device array (synchronises the host with the device)."""
    return int(obj.reshape(-1)[0].item())
