"""Run-time lookup of tuned configurations.

Ops call ``tuned_config`` when ``config=None``; ``None`` back means "use the heuristic". The
lookup is one ``stat`` of the cache file when nothing changed (the parsed file is kept in
memory, keyed by its modification time), so it is cheap enough for every call.

``shape`` is the op's problem shape in its tuning registry's dimension order (int8_gemm:
``(M, N, K)``), ``dtype`` the input dtype's name, ``device`` ``"cpu"`` or ``"cuda:N"``.
"""

from __future__ import annotations

import warnings
from typing import Any

_lookup: Any = None
_warned: set[str] = set()


def tuned_config(op: str, shape: tuple[int, ...], dtype: str, device: str = "cpu") -> int | None:
    global _lookup
    if _lookup is None:
        # Imported on first use: the tuner's modules stay out of `import lepton`.
        from lepton.tune.cache import lookup

        _lookup = lookup
    try:
        return _lookup(op, shape, dtype, device)
    except OSError as exc:
        # An unreadable cache must never break the op: say so once, fall back.
        message = f"lepton: tuned-config lookup for {op} failed ({exc}); using the heuristic"
        if message not in _warned:
            _warned.add(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        return None
