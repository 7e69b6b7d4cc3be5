import sys
import time

import pytest

from lepton.energy import (
    MeasurementWarning,
    NullMeter,
    NvmlMeter,
    RaplMeter,
    available_meters,
    measure,
    meter_for,
)
from lepton.energy import rapl as rapl_module
from lepton.energy.devices import normalize_device, nvml_selector
from lepton.energy.testing import ManualClock

# --- NVML ---------------------------------------------------------------------------------------


def test_nvml_counter_difference_gives_joules_and_temperature(fake_nvml):
    clock = ManualClock(100.0)
    meter = NvmlMeter(0, nvml=fake_nvml(clock=clock, counter_watts=250.0), clock=clock)
    meter.sample_interval_s = None  # the fake timeline does not move while a thread samples
    assert meter.available
    assert meter.device_name == "NVIDIA H100 80GB HBM3"
    assert meter.status() == "ok: NVIDIA H100 80GB HBM3, driver 550.54.15, counter read 0.00 ms"
    window = meter.begin()
    clock.advance(2.0)
    m = meter.end(window)
    assert m.source == "nvml"
    assert m.seconds == pytest.approx(2.0)
    assert m.joules == pytest.approx(500.0)
    assert m.avg_watts == pytest.approx(250.0)
    assert m.temperature_c == 61
    assert m.start_temperature_c == 61
    assert not m.short_window


def test_nvml_samples_agree_with_counter_without_warning(fake_nvml):
    meter = NvmlMeter(0, nvml=fake_nvml(counter_watts=300.0, instant_watts=300.0))
    meter.min_window_s = 0.2
    with measure(meter=meter, sync=None) as reading:
        time.sleep(0.3)
    m = reading.result
    assert len(m.samples) >= 5
    assert all(w == pytest.approx(300.0) for _, w in m.samples)
    assert m.gap is not None
    assert abs(m.gap) < 0.05


def test_nvml_read_costs_are_measured_when_the_meter_opens(fake_nvml):
    clock = ManualClock()
    meter = NvmlMeter(0, nvml=fake_nvml(clock=clock, energy_read_s=0.004), clock=clock)
    assert meter.read_cost_s == pytest.approx(0.004)
    assert meter.power_read_cost_s == pytest.approx(0.0)
    assert meter.status().endswith("counter read 4.00 ms")
    meter.sample_interval_s = None
    with measure(meter=meter, sync=None) as reading:
        clock.advance(2.0)
    assert reading.result.read_cost_s == pytest.approx(0.004)
    assert reading.result.seconds == pytest.approx(2.0)  # the edge reads stay outside


def test_nvml_large_counter_sample_gap_warns(fake_nvml):
    meter = NvmlMeter(0, nvml=fake_nvml(counter_watts=300.0, instant_watts=150.0))
    meter.min_window_s = 0.2
    # The fake counter moves every millisecond: a fine period lets 0.3 s span its updates, over
    # which counter and samples are compared.
    meter.counter_period_s = 0.02
    with (
        pytest.warns(MeasurementWarning, match="disagree by -50%"),
        measure(meter=meter, sync=None) as reading,
    ):
        time.sleep(0.3)
    assert reading.result.gap == pytest.approx(-0.5, abs=0.05)


def test_nvml_gap_not_judged_on_a_short_window(fake_nvml):
    meter = NvmlMeter(0, nvml=fake_nvml(counter_watts=300.0, instant_watts=150.0))
    with measure(meter=meter, sync=None) as reading:  # min_window_s is 1 s: 0.1 s is short
        time.sleep(0.1)
    assert reading.result.short_window


def test_nvml_without_instant_field_falls_back_to_power_usage(fake_nvml):
    meter = NvmlMeter(0, nvml=fake_nvml(instant_supported=False, instant_watts=120.0))
    assert meter.available
    assert not meter.instant_power
    assert "1 s averages" in meter.status()
    assert meter._read_watts() == pytest.approx(120.0)


def test_nvml_init_failure_is_a_reason_not_an_error(fake_nvml):
    meter = NvmlMeter(0, nvml=fake_nvml(init_error="Driver Not Loaded"))
    assert not meter.available
    assert "Driver Not Loaded" in meter.status()
    with pytest.raises(RuntimeError, match="cannot read energy"):
        meter.begin()


def test_nvml_without_energy_counter_says_so(fake_nvml):
    meter = NvmlMeter(0, nvml=fake_nvml(energy_supported=False))
    assert not meter.available
    assert "energy counter" in meter.reason


def test_nvml_missing_gpu_index(fake_nvml):
    meter = NvmlMeter(7, nvml=fake_nvml(count=2))
    assert "no GPU cuda:7" in meter.reason


def test_nvml_without_pynvml_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)
    meter = NvmlMeter(0)
    assert "nvidia-ml-py is not installed" in meter.reason


def test_nvml_follows_cuda_visible_devices(fake_nvml, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    nvml = fake_nvml()
    assert NvmlMeter(1, nvml=nvml).available
    assert nvml.opened == [("index", 3)]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-abc")
    assert nvml_selector(0) == ("uuid", "GPU-abc")
    with pytest.raises(ValueError, match="not visible"):
        nvml_selector(1)


def test_nvml_close_releases_the_library(fake_nvml):
    nvml = fake_nvml()
    meter = NvmlMeter(0, nvml=nvml)
    meter.close()
    assert nvml.inits == 0
    assert not meter.available


# --- RAPL ---------------------------------------------------------------------------------------


def test_rapl_reads_package_zones_only(powercap, set_energy):
    clock = ManualClock()
    meter = RaplMeter(root=powercap, clock=clock)
    assert meter.available, meter.reason
    assert meter.driver == "package-0"
    window = meter.begin(sample=False)
    set_energy(powercap, "intel-rapl:0", 9_400_000)
    set_energy(powercap, "intel-rapl:0:0", 9_000_000)  # sub-zone: already in the package
    set_energy(powercap, "intel-rapl:1", 9_999_999)  # psys: the platform, not added
    clock.advance(0.5)
    m = meter.end(window)
    assert m.joules == pytest.approx(0.4)
    assert m.avg_watts == pytest.approx(0.8)
    assert m.source == "rapl"


def test_rapl_counter_wrap_is_handled(powercap, set_energy):
    meter = RaplMeter(root=powercap, clock=ManualClock())
    window = meter.begin(sample=False)
    set_energy(powercap, "intel-rapl:0", 500_000)  # 9.0 J -> wrapped at 10.0 J -> 0.5 J
    assert meter.end(window).joules == pytest.approx(1.5)


def test_rapl_poll_catches_several_wraps_in_one_window(powercap, set_energy):
    meter = RaplMeter(root=powercap, clock=ManualClock())
    window = meter.begin(sample=False)
    for energy_uj in (2_000_000, 9_500_000, 1_000_000):  # wraps twice
        set_energy(powercap, "intel-rapl:0", energy_uj)
        meter._poll()
    assert meter.end(window).joules == pytest.approx(3.0 + 7.5 + 1.5)


def test_rapl_sums_packages(powercap, set_energy, write_zone):
    write_zone(powercap, "intel-rapl:2", "package-1", 100, 10_000_000)
    meter = RaplMeter(root=powercap, clock=ManualClock())
    assert meter.driver == "package-0+package-1"
    window = meter.begin(sample=False)
    set_energy(powercap, "intel-rapl:0", 9_100_000)
    set_energy(powercap, "intel-rapl:2", 200_100)
    assert meter.end(window).joules == pytest.approx(0.3)


def test_rapl_unreadable_counter_says_why(powercap, monkeypatch):
    real = rapl_module._read_int

    def denied(path):
        if path.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(rapl_module, "_read_int", denied)
    meter = RaplMeter(root=powercap)
    assert not meter.available
    assert "permission denied" in meter.reason
    assert "root" in meter.reason


def test_rapl_missing_tree_says_why(tmp_path):
    meter = RaplMeter(root=tmp_path / "absent")
    assert "does not exist" in meter.reason


def test_rapl_without_package_zone(tmp_path, write_zone):
    write_zone(tmp_path, "intel-rapl:0", "psys", 1, 10)
    assert "no package zone" in RaplMeter(root=tmp_path).reason


# --- null meter, selection ----------------------------------------------------------------------


def test_null_meter_never_invents_energy():
    clock = ManualClock()
    meter = NullMeter("nothing readable", clock=clock)
    window = meter.begin()
    clock.advance(0.25)
    m = meter.end(window)
    assert m.source == "none"
    assert m.joules is None
    assert m.avg_watts is None
    assert m.seconds == pytest.approx(0.25)
    assert meter.status() == "no meter: nothing readable"
    assert not meter.has_energy


def test_meter_for_cpu_is_rapl_or_says_why_not():
    meter = meter_for("cpu")
    assert meter is meter_for("cpu")
    assert meter.source in ("rapl", "none")
    if meter.source == "none":
        assert "RAPL" in meter.status()


def test_available_meters_lists_each_source_with_a_status():
    found = available_meters()
    assert {entry["source"] for entry in found} == {"rapl", "nvml"}
    assert all(isinstance(entry["status"], str) and entry["status"] for entry in found)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("cpu", "cpu"), ("CPU", "cpu"), ("cuda", "cuda:0"), ("cuda:2", "cuda:2"), (1, "cuda:1")],
)
def test_normalize_device(given, expected):
    assert normalize_device(given) == expected


@pytest.mark.parametrize("bad", ["graphics", "cuda:x", "cuda:-1"])
def test_normalize_device_rejects_unknown_names(bad):
    with pytest.raises(ValueError, match="device"):
        normalize_device(bad)


@pytest.mark.parametrize("bad", [True, 1.0, None])
def test_normalize_device_rejects_other_types(bad):
    with pytest.raises(TypeError, match="device"):
        normalize_device(bad)


def test_normalize_device_rejects_negative_index():
    with pytest.raises(ValueError, match="device"):
        normalize_device(-1)


def test_scripted_meter_counter_moves_on_ticks_with_seeded_noise():
    from lepton.energy.testing import ScriptedMeter

    exact = ScriptedMeter(counter_period_s=0.1)
    exact.spend(0.25, 25.0)  # 100 W for 0.25 s: the counter has ticked at 0.1 and 0.2 s
    assert exact._read_joules() == pytest.approx(20.0)
    exact.spend(0.05, 5.0)
    assert exact._read_joules() == pytest.approx(30.0)

    def window(seed):
        meter = ScriptedMeter(counter_period_s=0.1, noise=0.1, seed=seed)
        start = meter.begin()
        for _ in range(100):
            meter.spend(0.01, 1.0)
        return meter.end(start).joules

    assert window(1) == window(1)
    assert window(1) != window(2)
    assert window(1) == pytest.approx(100.0, rel=0.2)
    with pytest.raises(ValueError, match="noise"):
        ScriptedMeter(noise=0.1)  # noise needs a counter period
