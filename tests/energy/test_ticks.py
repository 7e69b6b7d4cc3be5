"""Tick-aligned energy (lepton.energy.ticks) on a scripted meter whose counter moves in ticks."""

from __future__ import annotations

import pytest

from lepton.energy import idle_power, measure_repeated
from lepton.energy.testing import ScriptedMeter
from lepton.energy.ticks import TickLog, aligns

CALL_S, CALL_J = 0.004, 0.34  # 85 W of work per call


def _ticking(**options) -> ScriptedMeter:
    return ScriptedMeter(counter_period_s=0.1, idle_watts=20.0, **options)


def _work(meter: ScriptedMeter):
    return lambda: meter.spend(CALL_S, CALL_J)


@pytest.mark.parametrize("phase", [0.0, 0.013, 0.05, 0.099])
def test_aligned_joules_are_exact_where_the_ends_are_not(phase):
    meter = _ticking()
    meter.sleep(1.0 + phase)  # idle before the window, at every phase against the ticks
    m = measure_repeated(_work(meter), meter=meter, min_window_s=1.0)
    assert m.joules_from == "ticks"
    assert m.joules == pytest.approx(CALL_J, rel=1e-6)
    assert m.avg_watts == pytest.approx(CALL_J / CALL_S, rel=1e-6)
    assert m.counter_joules is not None


def test_the_end_to_end_reading_is_off_by_up_to_a_tick_of_power():
    # The window opens 1 ms before a tick (after one sizing call): the start reading is 99 ms
    # stale, so that idle stretch (20 W) replaces 99 ms of work (85 W) of a 1 s window, ~7.5% low.
    # The aligned reading does not care.
    meter = _ticking()
    meter.sleep(1.095)
    m = measure_repeated(_work(meter), meter=meter, min_window_s=1.0)
    assert m.counter_joules < 0.95 * CALL_J
    assert m.joules == pytest.approx(CALL_J, rel=1e-6)


def test_too_few_ticks_keep_the_end_to_end_reading():
    meter = _ticking()
    meter.sleep(0.05)
    m = measure_repeated(_work(meter), meter=meter, min_window_s=0.12)  # ≤ 2 ticks, short span
    assert m.joules_from == "counter"
    assert m.counter_joules is None


def test_fast_counters_and_meterless_windows_are_not_aligned():
    assert aligns(_ticking())
    assert not aligns(ScriptedMeter(counter_period_s=0.001))  # RAPL-like: ends are precise
    assert not aligns(ScriptedMeter())  # continuous counter


def test_polls_are_spaced_by_the_interval():
    meter = _ticking()
    log = TickLog(meter)
    reads = []
    original = meter.read_counter
    meter.read_counter = lambda: reads.append(meter.clock()) or original()
    for _ in range(100):
        meter.spend(0.0005, 0.0)  # 0.5 ms calls: a poll every 2 ms at most
        log.poll()
    assert len(reads) == pytest.approx(100 * 0.0005 / log.interval_s, abs=1)


def test_idle_power_is_tick_aligned():
    meter = _ticking()
    meter.spend(0.05, 5.0)  # a burst just before: the stale start reading would include it
    m = idle_power(meter=meter, seconds=1.0)
    assert m.joules_from == "ticks"
    assert m.avg_watts == pytest.approx(20.0, rel=1e-6)


def test_per_repetition_divides_the_end_to_end_reading_too():
    meter = _ticking()
    m = measure_repeated(_work(meter), meter=meter, min_window_s=1.0)
    assert m.repetitions > 100
    assert m.counter_joules == pytest.approx(m.joules, rel=0.1)
