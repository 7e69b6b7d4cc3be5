"""The cupy graph backend's calls, against a recording stand-in for cupy (no GPU needed).

What is checked is the protocol the module docstring describes: capture on a private
non-blocking stream with a private pool as the allocator, the capture always ended, replays
enqueued on the caller's current stream (copy in, launch, copy out into a fresh array), and a
release that waits for the device before the pool goes.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import numpy as np
import pytest

from lepton.inference.cupy_graphs import CupyGraphs


class _Ptr:
    def __init__(self, owner, log):
        self.owner, self.log = owner, log

    def copy_from_device_async(self, src, size, stream):
        self.log.append(("copy", size, stream.name))
        np.copyto(self.owner.a, src.owner.a)


class _Array:
    def __init__(self, a, log, pool=None):
        self.a, self.log, self.pool = a, log, pool
        self.shape, self.dtype, self.nbytes = a.shape, a.dtype, a.nbytes
        self.device = SimpleNamespace(id=0)

    @property
    def data(self):
        return _Ptr(self, self.log)


class FakeCupy:
    """Records the calls CupyGraphs makes; arrays are numpy underneath."""

    def __init__(self, fail_in_capture=False):
        self.log: list = []
        self.allocator = None
        self.current = SimpleNamespace(name="caller", ptr=0x1234)
        self.fail_in_capture = fail_in_capture
        fake = self

        class Stream:
            def __init__(self, non_blocking=False):
                self.name, self.ptr, self.capturing = "side", 0x99, False
                fake.log.append(("stream", non_blocking))

            def __enter__(self):
                self.saved, fake.current = fake.current, self
                return self

            def __exit__(self, *exc):
                fake.current = self.saved

            def begin_capture(self):
                fake.log.append(("begin_capture", fake.allocator is not None))
                self.capturing = True

            def end_capture(self):
                fake.log.append(("end_capture",))
                self.capturing = False
                return SimpleNamespace(
                    launch=lambda stream: fake.log.append(("launch", stream.name))
                )

        class MemoryPool:
            def malloc(self, size):
                return size

            def free_all_blocks(self):
                fake.log.append(("free_all_blocks",))

        @contextlib.contextmanager
        def using_allocator(alloc):
            fake.allocator = alloc
            try:
                yield
            finally:
                fake.allocator = None

        class Device:
            def __init__(self, index):
                self.index = index

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def synchronize(self):
                fake.log.append(("synchronize", self.index))

        self.cuda = SimpleNamespace(
            Stream=Stream,
            MemoryPool=MemoryPool,
            using_allocator=using_allocator,
            Device=Device,
            get_current_stream=lambda: fake.current,
        )

    def empty(self, shape, dtype):
        self.log.append(("empty", "private" if self.allocator else "default"))
        return _Array(np.empty(shape, dtype), self.log)

    def empty_like(self, x):
        return self.empty(x.shape, x.dtype)

    def ascontiguousarray(self, x):
        return x

    def array_equal(self, a, b, equal_nan=False):
        return np.array_equal(a.a, b.a, equal_nan=equal_nan)


def _fn(cp):
    def fn(h):
        assert cp.current.name == "side"  # the work is enqueued on the capture stream
        if cp.fail_in_capture:
            raise RuntimeError("operation not permitted when stream is capturing")
        out = cp.empty(h.shape, h.dtype)
        np.multiply(h.a, 2, out=out.a)  # (a real capture would not run this)
        return out

    return fn


def test_capture_uses_a_private_pool_on_a_side_stream_and_replays_on_the_callers():
    cp = FakeCupy()
    graphs = CupyGraphs(cp)
    assert graphs.stream(0) == 0x1234
    x = _Array(np.ones((2, 3), np.float32), cp.log)
    captured = graphs.capture(_fn(cp), x, 0)
    assert cp.log[:4] == [
        ("stream", True),  # non-blocking: the legacy stream cannot capture
        ("empty", "private"),  # the static input
        ("begin_capture", True),  # under the private allocator
        ("empty", "private"),  # what the work allocates
    ]
    assert cp.log[4] == ("end_capture",)
    cp.log.clear()
    x.a[:] = 5.0
    out = captured.replay(x)
    assert cp.log == [
        ("copy", x.nbytes, "caller"),  # copy-in on the caller's stream
        ("launch", "caller"),
        ("empty", "default"),  # the result: the ordinary pool, not the graph's
        ("copy", x.nbytes, "caller"),
    ]
    assert out is not captured.out
    np.testing.assert_array_equal(captured.static_in.a, 5.0)
    assert graphs.equal(out, captured.out)
    cp.log.clear()
    captured.release()
    assert cp.log == [("synchronize", 0), ("free_all_blocks",)]
    captured.release()  # twice is harmless
    assert len(cp.log) == 2


def test_a_failing_capture_is_ended_and_reported():
    cp = FakeCupy(fail_in_capture=True)
    x = _Array(np.ones((2, 3), np.float32), cp.log)
    with pytest.raises(RuntimeError, match="not permitted"):
        CupyGraphs(cp).capture(_fn(cp), x, 0)
    assert ("end_capture",) in cp.log
    assert cp.allocator is None  # the private allocator does not outlive the capture
    assert cp.current.name == "caller"
