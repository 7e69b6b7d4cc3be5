"""NvmlMeter and device timing on a real GPU (marked gpu: skipped without one). Needs torch.

Run with ``-s`` to see the measured numbers printed for the notes.
"""

import statistics

import pytest

from lepton.energy import NvmlMeter, idle_power, measure_repeated

pytestmark = [
    pytest.mark.gpu,
    # A large counter-vs-samples gap is a finding to report here, not a failure.
    pytest.mark.filterwarnings("default::lepton.energy.measurement.MeasurementWarning"),
]


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device")
    return torch


@pytest.fixture(scope="module")
def meter():
    meter = NvmlMeter(0)
    if not meter.available:
        pytest.skip(meter.status())
    print(
        f"\nNVML: counter read {meter.read_cost_s * 1e3:.3f} ms, power read "
        f"{(meter.power_read_cost_s or 0) * 1e3:.3f} ms, instant power {meter.instant_power}"
    )
    yield meter
    meter.close()


def _busy_gemm(torch, n=8192):
    """A callable that keeps the tensor cores busy (fp16 n×n @ n×n: ~1.4 ms on an H200)."""
    a = torch.rand((n, n), device="cuda:0", dtype=torch.float16)
    return (lambda: a @ a), (lambda: torch.cuda.synchronize(0))


def _event_seconds(torch, fn, calls):
    """Direct CUDA-event time per call of ``calls`` back-to-back calls (after a warm-up)."""
    fn()
    torch.cuda.synchronize(0)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(calls):
        fn()
    end.record()
    torch.cuda.synchronize(0)
    return start.elapsed_time(end) * 1e-3 / calls


def _sleep_kernel(torch, seconds):
    """``torch.cuda._sleep`` spinning for about ``seconds`` (cycles calibrated on this GPU)."""
    cycles = 10_000_000
    per_cycle = _event_seconds(torch, lambda: torch.cuda._sleep(cycles), 5) / cycles
    count = max(1, int(seconds / per_cycle))
    return lambda: torch.cuda._sleep(count)


@pytest.mark.parametrize("call_s", [20e-6, 200e-6, 2e-3, 8e-3])
def test_measure_repeated_time_is_the_cuda_event_time(torch, meter, call_s):
    fn = _sleep_kernel(torch, call_s)
    direct = statistics.median(
        _event_seconds(torch, fn, max(50, int(0.3 / call_s))) for _ in range(3)
    )
    m = measure_repeated(fn, meter=meter, sync=lambda: torch.cuda.synchronize(0), min_window_s=1.0)
    print(
        f"\n~{call_s * 1e6:.0f} µs kernel: events {direct * 1e6:.2f} µs, measure_repeated "
        f"{m.seconds * 1e6:.2f} µs ({m.time_from}, busy {m.busy_fraction}), {m.repetitions} calls"
    )
    assert m.time_from == "cuda-events"
    assert m.seconds == pytest.approx(direct, rel=0.03)


def test_repeated_measurement_of_the_same_work_agrees_within_5_percent(torch, meter):
    work, sync = _busy_gemm(torch)
    measure_repeated(work, meter=meter, sync=sync, min_window_s=0.5)  # warm-up, clocks up
    joules = [
        measure_repeated(work, meter=meter, sync=sync, min_window_s=2.0).joules for _ in range(3)
    ]
    spread = (max(joules) - min(joules)) / statistics.median(joules)
    print(f"\nbusy fp16 GEMM: J/call {joules}, spread {spread:.2%}")
    assert spread < 0.05


def test_a_two_second_gemm_loop_reads_well_above_idle_with_the_device_busy(torch, meter):
    idle = idle_power(meter=meter, seconds=2.0, sync=None)
    work, sync = _busy_gemm(torch)
    busy = measure_repeated(work, meter=meter, sync=sync, min_window_s=2.0)
    print(
        f"\nidle {idle.avg_watts:.1f} W (gap {idle.gap}); busy {busy.avg_watts:.1f} W over "
        f"{busy.window_s:.2f} s ({busy.joules_from}, gap {busy.gap} of ±{busy.gap_limit}), busy "
        f"fraction {busy.busy_fraction}, {busy.repetitions} calls of {busy.seconds * 1e3:.3f} ms, "
        f"temperature {busy.start_temperature_c} -> {busy.temperature_c} °C"
    )
    assert busy.window_s >= 2.0
    assert busy.busy_fraction >= 0.95
    assert busy.avg_watts > 1.3 * idle.avg_watts
    assert busy.joules_from == "ticks"
    assert busy.gap is not None
    assert idle.gap is not None
