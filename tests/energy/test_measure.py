import sys
from types import SimpleNamespace

import pytest

from lepton.energy import Measurement, NullMeter, idle_power, measure, measure_repeated
from lepton.energy.measure import resolve_sync
from lepton.energy.measurement import integrate_samples, relative_gap
from lepton.energy.testing import ManualClock, ScriptedMeter


def test_measure_reads_the_window():
    meter = ScriptedMeter()
    with measure(meter=meter) as reading:
        meter.spend(2.0, 10.0)
    m = reading.result
    assert (m.seconds, m.joules, m.avg_watts) == (2.0, 10.0, 5.0)
    assert m.source == "scripted"
    assert m.temperature_c == 40.0
    assert not m.short_window


def test_measure_flags_a_window_shorter_than_the_meter_needs():
    meter = ScriptedMeter(min_window_s=1.0)
    with measure(meter=meter) as reading:
        meter.spend(0.2, 1.0)
    assert reading.result.short_window
    assert reading.result.joules == 1.0  # flagged, not hidden


def test_measure_still_records_when_the_block_raises():
    meter = ScriptedMeter()
    readings = []

    def failing_work():
        with measure(meter=meter) as reading:
            readings.append(reading)
            meter.spend(1.0, 3.0)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        failing_work()
    assert readings[0].result.joules == 3.0


def test_measure_synchronises_at_both_ends():
    meter = ScriptedMeter()
    calls = []
    with measure(meter=meter, sync=lambda: calls.append(meter.counter_j)) as reading:
        meter.spend(1.0, 4.0)
    assert calls == [0.0, 4.0]
    assert reading.result.joules == 4.0


def test_measure_without_meter_has_no_joules():
    clock = ManualClock()
    with measure(meter=NullMeter("none here", clock=clock)) as reading:
        clock.advance(0.5)
    assert reading.result.joules is None
    assert reading.result.source == "none"
    assert reading.result.seconds == 0.5


def test_measure_repeated_divides_by_repetitions():
    meter = ScriptedMeter(min_window_s=1.0)
    m = measure_repeated(lambda: meter.spend(0.3, 3.0), meter=meter)
    assert m.repetitions == 4  # ceil(1.0 / 0.3); the sizing call is not in the window
    assert m.window_s == pytest.approx(1.2)
    assert m.seconds == pytest.approx(0.3)
    assert m.joules == pytest.approx(3.0)
    assert m.avg_watts == pytest.approx(10.0)


def test_measure_repeated_extends_a_window_that_ended_short():
    meter = ScriptedMeter(min_window_s=1.0)
    costs = iter([1.0] + [0.2] * 100)  # the sizing call was slow, later ones are fast

    m = measure_repeated(lambda: meter.spend(next(costs), 1.0), meter=meter)
    assert m.window_s >= 1.0
    assert m.repetitions == 6
    assert m.seconds == pytest.approx(0.2)
    assert m.joules == pytest.approx(1.0)


def test_measure_repeated_with_given_repetitions_and_window():
    meter = ScriptedMeter(min_window_s=1.0)
    calls = []

    def work():
        calls.append(1)
        meter.spend(0.5, 2.0)

    m = measure_repeated(work, meter=meter, repetitions=3, min_window_s=0.5)
    assert len(calls) == 3
    assert m.repetitions == 3
    assert m.joules == pytest.approx(2.0)


def test_measure_repeated_rejects_bad_arguments():
    meter = ScriptedMeter()
    with pytest.raises(ValueError, match="repetitions"):
        measure_repeated(lambda: None, meter=meter, repetitions=0)
    with pytest.raises(ValueError, match="min_window_s"):
        measure_repeated(lambda: None, meter=meter, min_window_s=-1.0)


def test_idle_power():
    meter = ScriptedMeter(idle_watts=70.0)
    m = idle_power(meter=meter, seconds=2.0)
    assert m.avg_watts == pytest.approx(70.0)
    assert m.seconds == pytest.approx(2.0)


def test_above_idle():
    m = Measurement(seconds=2.0, joules=300.0, avg_watts=150.0, source="x")
    assert m.above_idle(70.0) == pytest.approx(160.0)
    assert m.above_idle(None) is None


def test_per_repetition_and_dict():
    m = Measurement(seconds=2.0, joules=8.0, avg_watts=4.0, source="x", sampled_joules=6.0)
    per = m.per_repetition(4)
    assert (per.seconds, per.joules, per.sampled_joules, per.repetitions) == (0.5, 2.0, 1.5, 4)
    assert per.avg_watts == 4.0
    assert per.to_dict()["samples"] == 0
    with pytest.raises(ValueError, match="repetitions"):
        m.per_repetition(0)


def test_integrate_samples_constant_and_ramp():
    constant = [(t / 10, 100.0) for t in range(1, 10)]
    assert integrate_samples(constant, 1.0) == pytest.approx(100.0)
    ramp = [(t / 10, 100.0 * t / 10) for t in range(11)]
    assert integrate_samples(ramp, 1.0) == pytest.approx(50.0)
    assert integrate_samples(constant[:3], 1.0) is None


def test_relative_gap():
    assert relative_gap(100.0, 60.0) == pytest.approx(-0.4)
    assert relative_gap(0.0, 1.0) is None
    assert relative_gap(None, 1.0) is None


def test_resolve_sync():
    def wait():
        return None

    assert resolve_sync(wait, "cuda:0") is wait
    assert resolve_sync("auto", "cpu") is None
    assert resolve_sync(None, "cuda:0") is None
    with pytest.raises(TypeError, match="sync"):
        resolve_sync(3, "cpu")


def test_resolve_sync_auto_uses_loaded_cupy(monkeypatch):
    synced = []
    fake_cupy = SimpleNamespace(
        cuda=SimpleNamespace(Device=lambda i: SimpleNamespace(synchronize=lambda: synced.append(i)))
    )
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    resolve_sync("auto", "cuda:1")()
    assert synced == [1]
