"""CUDA-graph replay of ``Lepton.predict``: when to capture, what a graph is keyed on, fallbacks.

A CUDA input pays host work per kernel (validation, config lookup, allocation, launch: about
0.25 ms per op measured on an H200) while the kernels of a small batch take microseconds.
Captured once into a CUDA graph, the whole forward — layers and head — is one launch.

What one graph is: a static input buffer, the captured work reading it, and the static output
the work writes. A replay copies the caller's input into the static buffer, launches the graph
and returns a *copy* of the static output (the next replay overwrites it; a caller holding the
previous result must not see it change). Everything is enqueued on the caller's current
stream, so it is ordered with the caller's other work and costs no host synchronisation.

Keys: (method, input shape, dtype, device, stream). A graph is specialised to shapes (the
kernels' grids and the buffers' sizes are baked in) and to a device; the stream is part of the
key because the static buffers are the graph's own: two streams replaying one graph could
interleave one's copy-in with the other's launch. A new shape, device or stream therefore
captures a new graph; an input with the same key but new contents replays the old one (the
copy-in reads the new contents).

When (``cuda_graph``): ``False`` never; ``True`` at the first call of every key; ``"auto"`` (the
default) at the second call of a key with at most ``AUTO_MAX_ROWS`` rows — a one-off batch
does not pay a capture (a few eager calls' worth), and a large batch's kernels outlast its host
work anyway while its graph would pin the batch's intermediate arrays in memory.

Capture is checked: the call that captures also runs eagerly, and the graph's first replay must
give the same output bit for bit. A capture that raises, or a replay that differs, leaves that
key on the eager path for good (with one ``RuntimeWarning`` saying why; ``status()`` keeps
the reason). At most ``MAX_GRAPHS`` graphs are kept per model, least recently used evicted.

The device work is behind ``GraphBackend`` (cupy: ``cupy_graphs``), so that all of the above is
tested on the CPU with a fake backend.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import numpy as np

AUTO_MAX_ROWS = 16384
MAX_GRAPHS = 8


class GraphKey(NamedTuple):
    # A tuple, built and hashed on every CUDA call: a frozen dataclass or ``str(dtype)`` cost
    # microseconds each, which is the budget of a small batch's whole call.
    method: str
    shape: tuple[int, ...]
    dtype: str  # numpy's one-letter code ("f": float32)
    device: int
    stream: int

    def __str__(self) -> str:
        return (
            f"{self.method} {'x'.join(map(str, self.shape))} {np.dtype(self.dtype).name} on "
            f"cuda:{self.device} stream {self.stream:#x}"
        )


class Captured(Protocol):
    def replay(self, x: Any) -> Any:
        """Copy ``x`` (C-contiguous, the captured shape and dtype) into the static input,
        launch, return a copy of the static output."""

    def release(self) -> None:
        """Let the graph and its buffers go (after the device is done with them)."""


class GraphBackend(Protocol):
    def stream(self, device: int) -> int:
        """The caller's current stream on ``device`` (what replays are enqueued on)."""

    def capture(self, fn: Callable[[Any], Any], x: Any, device: int) -> Captured:
        """Record ``fn`` on a static copy of ``x``'s shape and dtype (not run)."""

    def equal(self, a: Any, b: Any) -> bool:
        """Bit-for-bit equality of two device arrays (may synchronise: capture time only)."""


def check_mode(mode: Any) -> bool | str:
    if isinstance(mode, bool) or mode == "auto":
        return mode
    msg = f"cuda_graph: expected True, False or 'auto', got {mode!r}"
    raise ValueError(msg)


class GraphCache:
    """The graphs of one model, and the decision to capture, replay or run eagerly."""

    def __init__(
        self,
        mode: bool | str,
        backend: Callable[[], GraphBackend],
        *,
        max_graphs: int = MAX_GRAPHS,
        auto_max_rows: int = AUTO_MAX_ROWS,
    ) -> None:
        self.mode = check_mode(mode)
        self._make_backend = backend
        self._backend: GraphBackend | None = None
        self._unavailable: str | None = None
        self.max_graphs = max_graphs
        self.auto_max_rows = auto_max_rows
        self._graphs: OrderedDict[GraphKey, Captured] = OrderedDict()
        self._seen: dict[GraphKey, int] = {}
        self._failed: dict[GraphKey, str] = {}
        self._lock = threading.Lock()
        self.captures = 0  # graphs captured so far (evicted ones included)

    def status(self) -> dict[str, Any]:
        """What the cache holds: captured keys, keys left eager and why, and the backend."""
        return {
            "mode": self.mode,
            "graphs": [str(k) for k in self._graphs],
            "eager": {str(k): why for k, why in self._failed.items()},
            "unavailable": self._unavailable,
            "captures": self.captures,
        }

    def key(self, method: str, x: Any, device: int) -> GraphKey | None:
        """The key of this call, or None when it runs eagerly regardless."""
        backend = self._get_backend() if self.mode is not False else None
        if backend is None:
            return None
        return GraphKey(method, tuple(x.shape), x.dtype.char, device, backend.stream(device))

    def run(self, key: GraphKey | None, fn: Callable[[Any], Any], x: Any) -> Any:
        """``fn(x)``, from a graph when one is (or now gets) captured for ``key``."""
        if key is None:
            return fn(x)
        with self._lock:
            captured = self._graphs.get(key)
            if captured is not None:
                self._graphs.move_to_end(key)
                return captured.replay(x)
            if key in self._failed or not self._capture_now(key):
                return fn(x)
            return self._capture(key, fn, x)

    def _capture_now(self, key: GraphKey) -> bool:
        if self.mode is True:
            return True
        if key.shape[0] > self.auto_max_rows:
            return False
        seen = self._seen.get(key, 0)
        if seen >= 1:
            self._seen.pop(key, None)
            return True
        if len(self._seen) >= 4 * self.max_graphs:  # keys seen once: bounded memory
            self._seen.clear()
        self._seen[key] = seen + 1
        return False

    def _capture(self, key: GraphKey, fn: Callable[[Any], Any], x: Any) -> Any:
        backend = self._backend
        assert backend is not None
        # The eager call first: it is this call's answer, it raises the caller's own errors
        # (outside any capture), and it allocates what lives across calls (packed weights,
        # labels on the device) with the ordinary allocator before the graph's pool exists.
        expected = fn(x)
        try:
            captured = backend.capture(fn, x, key.device)
        except Exception as exc:  # any capture failure: this key runs eagerly
            self._give_up(key, f"capture failed: {type(exc).__name__}: {exc}")
            return expected
        try:
            replayed = captured.replay(x)
            same = backend.equal(replayed, expected)
        except Exception as exc:
            captured.release()
            self._give_up(key, f"replay failed: {type(exc).__name__}: {exc}")
            return expected
        if not same:
            captured.release()
            self._give_up(key, "the graph's output differs from the eager output")
            return expected
        self.captures += 1
        self._graphs[key] = captured
        while len(self._graphs) > self.max_graphs:
            _, oldest = self._graphs.popitem(last=False)
            oldest.release()
        return replayed

    def _give_up(self, key: GraphKey, why: str) -> None:
        self._failed[key] = why
        message = f"lepton: CUDA graph for {key}: {why}; this shape runs eagerly"
        warnings.warn(message, RuntimeWarning, stacklevel=4)

    def _get_backend(self) -> GraphBackend | None:
        if self._backend is None and self._unavailable is None:
            try:
                self._backend = self._make_backend()
            except Exception as exc:  # no usable graph support: eager, said once
                self._unavailable = f"{type(exc).__name__}: {exc}"
                message = f"lepton: CUDA graphs unavailable ({self._unavailable}); running eagerly"
                warnings.warn(message, RuntimeWarning, stacklevel=4)
        return self._backend

    def clear(self) -> None:
        """Release every graph (e.g. before freeing device memory)."""
        with self._lock:
            while self._graphs:
                _, captured = self._graphs.popitem(last=False)
                captured.release()
            self._seen.clear()
