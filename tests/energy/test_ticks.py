"""Tick-aligned energy (lepton.energy.ticks) on a scripted meter whose counter moves in ticks."""

from __future__ import annotations

import itertools

import pytest

from lepton.energy import idle_power, measure_repeated
from lepton.energy.testing import ScriptedMeter
from lepton.energy.ticks import MIN_UPDATES, Poll, tick_span

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


def test_a_window_too_short_for_the_counter_keeps_the_edge_reading_without_samples():
    meter = _ticking()
    meter.sleep(0.05)
    m = measure_repeated(_work(meter), meter=meter, min_window_s=0.25)  # < 4 ticks
    assert m.short_window
    assert m.joules_from == "counter"
    assert m.counter_joules is None


def test_a_window_too_short_for_the_counter_reads_the_power_samples():
    # An expensive config just ran: the stale start reading of a short window carries its tail
    # (and a 0.25 s window spans two or three ticks); the power samples cover this window only.
    meter = _ticking(sample_interval_s=0.01, power_noise=0.02, seed=3)
    meter.spend(0.25, 0.25 * 300.0)
    meter.spend(0.03, 0.0)
    m = measure_repeated(_work(meter), meter=meter, min_window_s=0.25)
    assert m.joules_from == "samples"
    assert m.joules == pytest.approx(CALL_J, rel=0.03)
    assert abs(m.counter_joules / CALL_J - 1) > 0.1  # what the edges would have said


def test_fast_counters_and_meterless_windows_are_not_aligned():
    assert _ticking().aligns
    assert not ScriptedMeter(counter_period_s=0.001).aligns  # RAPL-like: edges are precise
    assert not ScriptedMeter().aligns  # continuous counter


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


def _polls(times_values, cost=0.001):
    return [Poll(t, t + cost, v) for t, v in times_values]


def test_tick_span_brackets_each_update_between_the_reads_around_it():
    # reads every 10 ms taking 1 ms; the counter moves at 0.1 and at 0.6 s (and nothing else)
    reads = [
        (k * 0.01, 0.0 if k * 0.01 < 0.1 else (5.0 if k * 0.01 < 0.6 else 30.0)) for k in range(80)
    ]
    span = tick_span(_polls(reads), 0.0, 0.8, 0.1)
    assert span.start == pytest.approx(0.5 * (0.09 + 0.101))
    assert span.end == pytest.approx(0.5 * (0.59 + 0.601))
    assert span.joules == pytest.approx(25.0)
    assert span.uncertainty_s == pytest.approx(0.011)
    assert span.watts == pytest.approx(25.0 / (span.end - span.start))


def test_tick_span_needs_several_updates_and_most_of_the_window():
    reads = [(k * 0.01, float(int(k * 0.01 / 0.1))) for k in range(300)]  # a tick every 100 ms
    assert tick_span(_polls(reads), 0.0, 2.99, 0.1) is not None
    short = [(t, v) for t, v in reads if t < 0.35]  # 3 updates span 0.2 s < 4 periods
    assert tick_span(_polls(short), 0.0, 0.35, 0.1) is None
    assert MIN_UPDATES * 0.1 > 0.3
    # reads before the window opened (the sampler starts before the edge read) do not count
    assert tick_span(_polls(reads), 2.5, 2.99, 0.1) is None


def test_slow_reads_are_polled_back_to_back_and_bracket_wider():
    meter = _ticking(read_cost_s=0.004)
    window = meter.begin(ticks=True)
    for _ in range(250):
        meter.spend(CALL_S, CALL_J)
    meter.end(window)
    polls = window.sampler.polls
    steps = {round(b.before - a.before, 9) for a, b in itertools.pairwise(polls)}
    assert steps == {0.004}  # every 4 ms, not every 2 ms: a read cannot start before the last ends
    assert meter.edge_reads == 2  # the window's own thread read the counter at its edges only
