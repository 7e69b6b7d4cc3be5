"""The CUDA-graph backend of ``graphs.GraphCache``, on cupy (where Lepton's GPU work runs).

Inference computes in cupy whatever the input library (torch CUDA tensors are viewed through
DLPack), so graphs are cupy stream captures:

- Capture runs on a private non-blocking stream (the legacy default stream cannot capture) in
  cupy's relaxed mode, with a private ``MemoryPool`` as the allocator. Everything the captured
  work allocates — the static input, intermediates, the static output — comes from that pool.
  The graph keeps using those addresses at every replay, so nothing else may ever be handed
  them: the pool belongs to this one graph, which holds it until released. Within the capture
  a freed intermediate may be reused by a later one; that is safe because the capture is one
  stream, so its nodes run in order.
- Relaxed mode lets the empty private pool grow with ``cudaMalloc`` during capture (not a
  captured operation). The eager call before the capture (``GraphCache``) has already loaded
  the kernels and allocated the long-lived arrays (packed weights, device labels) with the
  ordinary allocator, so none of them lands in a graph's pool.
- A replay enqueues on the caller's current stream: an async device-to-device copy into the
  static input, the graph launch, and a copy of the static output into a new array of the
  default pool. No host synchronisation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any


def _cupy() -> Any:
    import cupy

    if cupy.cuda.runtime.is_hip:
        msg = "stream capture is not supported on HIP"
        raise RuntimeError(msg)
    if not hasattr(cupy.cuda.Stream, "begin_capture"):
        msg = f"cupy {cupy.__version__} has no stream capture"
        raise RuntimeError(msg)
    return cupy


def _copy_into(dst: Any, src: Any, stream: Any) -> None:
    dst.data.copy_from_device_async(src.data, src.nbytes, stream)


class CupyCaptured:
    """One captured graph with its static buffers and private pool."""

    def __init__(self, cp: Any, graph: Any, static_in: Any, out: Any, pool: Any, device: int):
        self._cp = cp
        self.graph, self.static_in, self.out, self.pool = graph, static_in, out, pool
        self.device = device

    def replay(self, x: Any) -> Any:
        """``x``: C-contiguous, of the captured shape and dtype (the cache's key says so)."""
        cp = self._cp
        with cp.cuda.Device(self.device):
            stream = cp.cuda.get_current_stream()
            _copy_into(self.static_in, x, stream)
            self.graph.launch(stream)
            result = cp.empty_like(self.out)
            _copy_into(result, self.out, stream)
        return result

    def release(self) -> None:
        if self.graph is None:
            return
        # The device may still be replaying: let it finish before the pool's memory goes.
        with self._cp.cuda.Device(self.device):
            self._cp.cuda.Device(self.device).synchronize()
        self.graph = self.static_in = self.out = None
        self.pool.free_all_blocks()
        self.pool = None


class CupyGraphs:
    """``graphs.GraphBackend`` for cupy arrays."""

    def __init__(self, cupy: Any = None) -> None:
        self._cp = _cupy() if cupy is None else cupy  # (tests pass a stand-in)

    def stream(self, device: int) -> int:
        cp = self._cp
        with cp.cuda.Device(device):
            return int(cp.cuda.get_current_stream().ptr)

    def capture(self, fn: Callable[[Any], Any], x: Any, device: int) -> CupyCaptured:
        cp = self._cp
        pool = cp.cuda.MemoryPool()
        with cp.cuda.Device(device):
            side = cp.cuda.Stream(non_blocking=True)
            with cp.cuda.using_allocator(pool.malloc), side:
                static_in = cp.empty(x.shape, dtype=x.dtype)
                side.begin_capture()
                try:
                    out = cp.ascontiguousarray(fn(static_in))
                except BaseException:
                    with contextlib.suppress(Exception):  # the capture is void anyway
                        side.end_capture()
                    raise
                graph = side.end_capture()
        return CupyCaptured(cp, graph, static_in, out, pool, device)

    def equal(self, a: Any, b: Any) -> bool:
        cp = self._cp
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        with cp.cuda.Device(a.device.id):
            return bool(cp.array_equal(a, b, equal_nan=True))
