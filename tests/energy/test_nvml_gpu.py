"""NvmlMeter on a real GPU (marked gpu: skipped without one). Needs cupy or torch for work.

Run with ``-s`` to see the measured counter-vs-samples gaps printed for the notes.
"""

import statistics

import pytest

from lepton.energy import NvmlMeter, idle_power, measure, measure_repeated

pytestmark = [
    pytest.mark.gpu,
    # A large counter-vs-samples gap is a finding to report here, not a failure.
    pytest.mark.filterwarnings("default::lepton.energy.measurement.MeasurementWarning"),
]


def _busy_gemm():
    """A callable that keeps the GPU's tensor cores busy, and the matching sync."""
    try:
        import cupy

        a = cupy.random.random((4096, 4096), dtype=cupy.float32).astype(cupy.float16)
        return (lambda: a @ a), cupy.cuda.Device(0).synchronize
    except ImportError:
        torch = pytest.importorskip("torch")
        a = torch.rand((4096, 4096), device="cuda:0", dtype=torch.float16)
        return (lambda: a @ a), (lambda: torch.cuda.synchronize(0))


@pytest.fixture(scope="module")
def meter():
    meter = NvmlMeter(0)
    if not meter.available:
        pytest.skip(meter.status())
    yield meter
    meter.close()


def test_repeated_measurement_of_the_same_work_agrees_within_5_percent(meter):
    work, sync = _busy_gemm()
    measure_repeated(work, meter=meter, sync=sync, min_window_s=0.5)  # warm-up, clocks up
    joules = [
        measure_repeated(work, meter=meter, sync=sync, min_window_s=2.0).joules for _ in range(3)
    ]
    spread = (max(joules) - min(joules)) / statistics.median(joules)
    print(f"\nbusy fp16 GEMM: J/call {joules}, spread {spread:.2%}")
    assert spread < 0.05


def test_two_second_busy_kernel_reads_well_above_idle_and_reports_the_gap(meter):
    idle = idle_power(meter=meter, seconds=2.0, sync=None)
    work, sync = _busy_gemm()
    with measure(meter=meter, sync=sync) as reading:
        busy = measure_repeated(work, meter=meter, sync=sync, min_window_s=2.0)
    window = reading.result
    print(
        f"\nidle {idle.avg_watts:.1f} W (gap {idle.gap}); busy {window.avg_watts:.1f} W over "
        f"{window.seconds:.2f} s (gap {window.gap}); {busy.repetitions} calls, "
        f"temperature {window.start_temperature_c} -> {window.temperature_c} °C"
    )
    assert window.seconds >= 2.0
    assert window.avg_watts > 1.3 * idle.avg_watts
    assert window.gap is not None
    assert idle.gap is not None
