"""The Zeus cross-check's arithmetic, with a stand-in ZeusMonitor on the same scripted meter."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from lepton.bench.suites import zeus_check
from lepton.energy.testing import ScriptedMeter


class _EdgeMonitor:
    """What ZeusMonitor does on Volta+: the energy counter at each window edge."""

    def __init__(self, meter):
        self.meter, self.open = meter, {}

    def begin_window(self, key):
        self.open[key] = (self.meter.clock(), self.meter.true_at(self.meter.clock()))

    def end_window(self, key):
        t0, e0 = self.open.pop(key)
        now = self.meter.clock()
        return SimpleNamespace(time=now - t0, gpu_energy={0: self.meter.true_at(now) - e0})


def test_both_readings_of_each_window_agree_and_the_nesting_alternates():
    meter = ScriptedMeter(device="cuda:0", idle_watts=100.0, counter_period_s=0.1)
    work = lambda: meter.spend(8e-4, 8e-4 * 600.0)  # noqa: E731
    rows = zeus_check.run_check(
        _EdgeMonitor(meter), meter, work, lambda: None, meter.timer(), windows=4, window_s=2.0
    )
    assert [r["outer"] for r in rows] == ["zeus", "lepton", "zeus", "lepton"]
    assert rows[0]["lepton"] == "measure_window (ticks)"
    assert rows[1]["lepton"] == "measure() edges"
    assert all(r["ratio"] == pytest.approx(1.0, abs=0.03) for r in rows)
    assert all(r["ok"] for r in rows)
    text = zeus_check.markdown(rows, {"device": "d", "work": "w", "meter": "m", "zeus": "0"})
    assert "every window within 3%: yes" in text


def test_a_disagreement_fails_the_bar():
    meter = ScriptedMeter(device="cuda:0", idle_watts=100.0)

    class Inflated(_EdgeMonitor):
        def end_window(self, key):
            m = super().end_window(key)
            return SimpleNamespace(time=m.time, gpu_energy={0: 1.05 * m.gpu_energy[0]})

    rows = zeus_check.run_check(
        Inflated(meter), meter, lambda: meter.spend(1e-3, 0.5), lambda: None, meter.timer(),
        windows=2, window_s=1.0,
    )  # fmt: skip
    assert not any(r["ok"] for r in rows)
    assert "NO" in zeus_check.markdown(
        rows, {"device": "d", "work": "w", "meter": "m", "zeus": "0"}
    )


def test_without_zeus_the_study_says_so(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "zeus", None)
    assert zeus_check.study("full", tmp_path) == (
        "zeus not installed (pip install zeus): the cross-check did not run\n"
    )
