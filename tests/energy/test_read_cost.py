"""A measurement must not perturb what it measures: slow meter reads, device time, busy fraction.

Issue 11: one NVML counter read costs 4 ms on an H200, and a counter polled between calls made
``measure_repeated`` report every call as >= 4 ms. Here the meter's reads cost that much and the
reported per-call time must not move.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from lepton.energy import MeasurementWarning, Meter, NullMeter, measure_repeated
from lepton.energy.measurement import BUSY_MIN
from lepton.energy.testing import ManualClock, ScriptedMeter
from lepton.energy.timing import (
    PER_CALL_EVENTS_MIN_S,
    CudaEventTimer,
    HostTimer,
    resolve_timer,
)

WATTS = 300.0


@pytest.mark.parametrize("call_s", [20e-6, 200e-6, 2e-3])
def test_a_4_ms_counter_read_changes_the_per_call_time_by_under_2_percent(call_s):
    readings = {}
    for read_cost_s in (0.0, 0.004):
        meter = ScriptedMeter(
            counter_period_s=0.1, idle_watts=100.0, read_cost_s=read_cost_s, min_window_s=1.0
        )
        m = measure_repeated(lambda: meter.spend(call_s, call_s * WATTS), meter=meter)  # noqa: B023
        readings[read_cost_s] = m
        assert meter.edge_reads == 2  # the window's edges; the sampler (model) read the rest
    fast, slow = readings[0.0], readings[0.004]
    assert slow.read_cost_s == 0.004
    assert abs(slow.seconds / fast.seconds - 1) < 0.02
    assert slow.seconds == pytest.approx(call_s, rel=1e-9)
    assert slow.joules == pytest.approx(call_s * WATTS, rel=0.02)
    assert slow.joules_from == "ticks"


class _SlowCounter(Meter):
    """A real-clock meter: 100 W, the counter moving every 20 ms, each read sleeping 4 ms."""

    source = "slow"
    min_window_s = 0.3
    counter_period_s = 0.02

    def __init__(self) -> None:
        super().__init__()
        self.origin = time.perf_counter()
        self.readers: list[str] = []

    def _read_joules(self) -> float:
        self.readers.append(threading.current_thread().name)
        now = time.perf_counter() - self.origin
        time.sleep(0.004)
        return 100.0 * self.counter_period_s * int(now / self.counter_period_s)


def _busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_with_a_real_thread_the_launching_thread_reads_the_counter_at_the_edges_only():
    meter = _SlowCounter()
    meter.measure_read_costs(reads=3)
    assert meter.read_cost_s >= 0.004
    meter.readers.clear()
    m = measure_repeated(lambda: _busy_wait(200e-6), meter=meter)
    launcher = threading.current_thread().name
    assert meter.readers.count(launcher) == 2
    assert meter.readers.count("lepton-meter") > 10  # the sampler polled meanwhile
    assert m.joules_from == "ticks"
    # (No timing assert on a shared machine: the scripted test above pins the time. Before
    # issue 11 every call here included a 4 ms read: >= 4.2 ms a call, 5.2 ms measured.)


# --- device time and busy fraction -------------------------------------------------------------


def test_device_time_comes_from_the_timer_and_the_busy_fraction_flags_gaps():
    meter = ScriptedMeter(idle_watts=50.0, min_window_s=0.5)

    def launch_bound():  # 0.1 ms of host work between 0.4 ms kernels: the device idles 20%
        meter.idle(1e-4)
        meter.spend(4e-4, 4e-4 * WATTS)

    with pytest.warns(MeasurementWarning, match="80% of the window"):
        m = measure_repeated(launch_bound, meter=meter, timer=meter.timer())
    assert m.time_from == "scripted"
    assert m.busy_fraction == pytest.approx(0.8)
    assert not m.busy
    assert m.seconds == pytest.approx(5e-4)

    def back_to_back():
        meter.spend(4e-4, 4e-4 * WATTS)

    m = measure_repeated(back_to_back, meter=meter, timer=meter.timer())
    assert m.busy_fraction == pytest.approx(1.0)
    assert m.busy_fraction >= BUSY_MIN
    assert m.problems() == []


class _AsyncDevice:
    """A GPU behind a queue, with torch.cuda's event API: the host's ``ManualClock`` moves with
    host work; a kernel starts when both the host has launched it and the device is free; an
    event completes (is stamped) when the queue reaches it."""

    def __init__(self, clock):
        self.clock, self.free_at, self.records = clock, 0.0, 0
        device = self

        class Event:
            def __init__(self, enable_timing=False):
                assert enable_timing
                self.t = None

            def record(self, stream=None):
                assert stream == "stream-0"
                device.records += 1
                self.t = max(device.clock(), device.free_at)

            def elapsed_time(self, end):
                return (end.t - self.t) * 1e3  # ms, as torch

        self.cuda = SimpleNamespace(Event=Event, current_stream=lambda index: f"stream-{index}")

    def launch(self, host_s, kernel_s):
        self.clock.advance(host_s)  # the op's host-side work, then the launch
        self.free_at = max(self.free_at, self.clock()) + kernel_s

    def sync(self):
        self.clock.advance(max(0.0, self.free_at - self.clock()))


def test_cuda_event_timer_times_the_device_not_the_launches():
    meter = NullMeter("no energy", clock=ManualClock())
    gpu = _AsyncDevice(meter.clock)
    timer = CudaEventTimer("torch", gpu, 0, per_call=True)
    call = lambda: gpu.launch(1e-4, 1e-3)  # noqa: E731  0.1 ms to launch a 1 ms kernel
    m = measure_repeated(call, meter=meter, sync=gpu.sync, timer=timer, repetitions=500)
    assert m.time_from == "cuda-events"
    assert m.seconds == pytest.approx(1e-3, rel=1e-3)  # the kernel, queued back to back
    assert m.busy_fraction == pytest.approx(1.0, abs=2e-3)
    assert gpu.records == 2 + 2 * m.repetitions  # the window's pair and one pair per call


def test_cuda_event_timer_sees_host_work_between_calls_as_idle():
    # What measure_repeated did before issue 11: a 4 ms counter read between 0.78 ms kernels.
    clock = ManualClock()
    gpu = _AsyncDevice(clock)
    timer = CudaEventTimer("torch", gpu, 0, per_call=True)
    timed = timer.wrap(lambda: gpu.launch(2e-5, 7.8e-4))
    timer.prepare(100)
    t0 = clock()
    timer.start()
    for _ in range(100):
        timed()
        clock.advance(0.004)  # the meter read, on the launching thread
    timer.stop()
    gpu.sync()
    device = timer.read()
    assert device.window_s / 100 == pytest.approx(4.02e-3, rel=0.01)  # the meter's pace
    # < 95%: flagged. (The 20 µs launch inside each call counts as busy: events see the idle
    # time between calls, not inside one — why short calls are replayed as CUDA graphs.)
    assert device.busy_s / (clock() - t0) == pytest.approx(0.80 / 4.02, rel=1e-3)
    whole = CudaEventTimer("torch", gpu, 0, per_call=False)
    whole.start()
    whole.stop()
    assert whole.read().busy_s is None


def test_resolve_timer(monkeypatch):
    assert isinstance(resolve_timer("auto", "cpu", 1.0), HostTimer)
    assert isinstance(resolve_timer(None, "cuda:0", 1.0), HostTimer)
    given = HostTimer()
    assert resolve_timer(given, "cuda:0", 1.0) is given
    with pytest.raises(TypeError, match="timer"):
        resolve_timer("events", "cpu", 1.0)
    fake_cupy = SimpleNamespace(
        cuda=SimpleNamespace(
            Device=lambda i: SimpleNamespace(__enter__=None),
            Event=lambda: None,
        )
    )
    monkeypatch.setitem(__import__("sys").modules, "cupy", fake_cupy)
    monkeypatch.setattr(CudaEventTimer, "_new", lambda self: object())
    long_calls = resolve_timer("auto", "cuda:1", PER_CALL_EVENTS_MIN_S)
    assert isinstance(long_calls, CudaEventTimer)
    assert (long_calls.library, long_calls.index, long_calls.per_call) == ("cupy", 1, True)
    assert not resolve_timer("auto", "cuda:0", PER_CALL_EVENTS_MIN_S / 2).per_call
    with pytest.raises(ValueError, match="library"):
        CudaEventTimer("jax", None, 0)
