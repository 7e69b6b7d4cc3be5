"""Process-wide knobs of the CPU core: thread count and the ISA cap."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from lepton import _core


def set_num_threads(n: int) -> None:
    """Threads used by every CPU kernel (default: OpenMP's, usually the core count)."""
    if isinstance(n, bool) or not isinstance(n, int):
        msg = f"n: expected an int >= 1, got {n!r}"
        raise TypeError(msg)
    _core.set_num_threads(n)


def get_num_threads() -> int:
    return int(_core.num_threads())


def get_isa() -> str:
    """ISA the CPU kernels dispatch to now: scalar, avx2, avx_vnni or avx512_vnni."""
    return str(_core.active_isa())


def set_isa(name: str | None) -> None:
    """Cap the CPU kernels at ``name`` (for tests and comparisons); ``None`` lifts the cap.

    The environment variable ``LEPTON_ISA`` sets the same cap at import time.
    """
    if name is None:
        _core.clear_isa()
    else:
        _core.set_isa(name)


@contextlib.contextmanager
def isa(name: str) -> Iterator[str]:
    """``with lepton.isa("avx2"): ...`` runs the block on that ISA path, then restores."""
    previous = get_isa()
    set_isa(name)
    try:
        yield get_isa()
    finally:
        set_isa(previous)
