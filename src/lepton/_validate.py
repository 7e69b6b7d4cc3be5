"""Argument checks shared by every public op.

Each helper raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError`` (wrong shape,
size or value) with the argument's name and what was expected, before any kernel runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from lepton._dispatch import placement


def host_array(
    x: Any,
    name: str,
    *,
    dtypes: Iterable[np.dtype | type | str] | None = None,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = False,
    hint: str = "",
) -> np.ndarray:
    """Return ``x`` as a C-contiguous, native-endian numpy array, checked.

    Non-contiguous or byte-swapped input is copied (documented on every op); dtypes are never
    converted silently: a wrong dtype is a ``TypeError``.
    """
    if type(x) is not np.ndarray:  # numpy arrays, the common case, skip the library checks
        x = _as_host_array(x, name)
    if x.dtype == object:
        msg = f"{name}: expected a numeric array, got dtype object"
        raise TypeError(msg)
    if not x.dtype.isnative:  # before the dtype check: '>f4' is float32 to the user
        x = x.astype(x.dtype.newbyteorder("="))
    if dtypes is not None and x.dtype not in dtypes:
        names = " or ".join(str(np.dtype(d)) for d in dtypes)
        msg = f"{name}: expected dtype {names}, got {x.dtype}{hint}"
        raise TypeError(msg)
    check_shape(x.shape, name, ndim=ndim, allow_empty=allow_empty)
    # ascontiguousarray would turn a 0-d array into shape (1,); 0-d is contiguous already.
    return x if x.flags.c_contiguous else np.ascontiguousarray(x)


def _as_host_array(x: Any, name: str) -> np.ndarray:
    if x is None:
        msg = f"{name}: expected an array, got None"
        raise TypeError(msg)
    where = placement(x)
    if where.is_cuda:
        msg = (
            f"{name}: got a {where.library} array on {where.device}; this operation runs on "
            "the CPU for numpy arrays only in this build (pass a numpy array)"
        )
        raise TypeError(msg)
    if not isinstance(x, np.ndarray):
        if where.library not in ("numpy", "builtins") and not hasattr(x, "__array__"):
            msg = f"{name}: expected a numpy array, got {type(x).__name__}"
            raise TypeError(msg)
        x = np.asarray(x)
    return x


def check_shape(
    shape: tuple[int, ...],
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    allow_empty: bool = False,
) -> None:
    """The rank and emptiness checks, shared by host and device arrays."""
    if ndim is not None and len(shape) != ndim:
        wanted = (ndim,) if isinstance(ndim, int) else ndim
        if len(shape) not in wanted:
            shape_word = " or ".join(f"{d}-D" for d in wanted)
            msg = f"{name}: expected a {shape_word} array, got shape {tuple(shape)}"
            raise ValueError(msg)
    if not allow_empty and 0 in shape:
        msg = f"{name}: expected a non-empty array, got shape {tuple(shape)}"
        raise ValueError(msg)


def vector(x: Any, name: str, length: int, *, dtype: np.dtype | type = np.float32) -> np.ndarray:
    """A 1-D float vector of the given length (scales, bias), converted to ``dtype``."""
    arr = host_array(x, name, ndim=1)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        msg = f"{name}: expected a real numeric vector, got dtype {arr.dtype}"
        raise TypeError(msg)
    if arr.shape[0] != length:
        msg = f"{name}: expected length {length}, got {arr.shape[0]}"
        raise ValueError(msg)
    return np.ascontiguousarray(arr, dtype=dtype)


def choice(value: Any, name: str, allowed: Iterable[Any]) -> Any:
    """``value`` must be one of ``allowed`` (a ``ValueError`` lists them otherwise)."""
    options = tuple(allowed)
    if value not in options:
        msg = f"{name}: expected one of {', '.join(repr(o) for o in options)}, got {value!r}"
        raise ValueError(msg)
    return value
