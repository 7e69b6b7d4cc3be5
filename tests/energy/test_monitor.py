import pytest

from lepton.energy import Monitor, NullMeter
from lepton.energy.testing import ManualClock, ScriptedMeter


def test_monitor_keeps_running_totals_per_region():
    meter = ScriptedMeter(min_window_s=0.5)
    monitor = Monitor(meter=meter)
    for _ in range(3):
        with monitor.region("gemm"):
            meter.spend(1.0, 5.0)
    with monitor.region("pca"):
        meter.spend(0.25, 1.0)
    totals = monitor.totals
    assert (totals["gemm"].calls, totals["gemm"].seconds, totals["gemm"].joules) == (3, 3.0, 15.0)
    assert totals["gemm"].avg_watts == pytest.approx(5.0)
    assert totals["pca"].short_windows == 1
    assert monitor.as_dict()["pca"] == {
        "calls": 1,
        "seconds": 0.25,
        "joules": 1.0,
        "short_windows": 1,
        "avg_watts": 4.0,
    }


def test_monitor_wraps_callables():
    meter = ScriptedMeter()
    monitor = Monitor(meter=meter)

    @monitor.wrap
    def step(x):
        """Docstring kept."""
        meter.spend(1.0, 2.0)
        return x + 1

    named = monitor.wrap(lambda: meter.spend(2.0, 8.0), name="other")
    decorated = monitor(name="third")(lambda: None)
    assert step(1) == 2
    assert step.__doc__ == "Docstring kept."
    named()
    decorated()
    totals = monitor.totals
    assert totals["test_monitor_wraps_callables.<locals>.step"].joules == 2.0
    assert totals["other"].seconds == 2.0
    assert totals["third"].calls == 1


def test_monitor_counts_a_region_that_raises():
    meter = ScriptedMeter()
    monitor = Monitor(meter=meter)

    def failing_step():
        with monitor.region("bad"):
            meter.spend(1.0, 1.0)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_step()
    assert monitor.totals["bad"].calls == 1


def test_monitor_without_meter_reports_no_joules():
    clock = ManualClock()
    monitor = Monitor(meter=NullMeter("none", clock=clock))
    with monitor.region("step"):
        clock.advance(0.5)
    assert monitor.totals["step"].joules is None
    text = str(monitor)
    assert "step" in text
    assert "no meter" in text


def test_monitor_table_reset_and_bad_input():
    meter = ScriptedMeter()
    monitor = Monitor(meter=meter)
    with monitor.region("a"):
        meter.spend(1.0, 1.0)
    assert monitor.table().row_count == 1
    monitor.reset()
    assert monitor.totals == {}
    with pytest.raises(TypeError, match="name"), monitor.region(""):
        pass
    with pytest.raises(TypeError, match="fn"):
        monitor.wrap(3)
