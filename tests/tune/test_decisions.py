"""Issue 11's decision defects, each reproduced on a scripted meter and kept fixed.

Each test states the defect it guards; the scenarios are the issue's (found with the scripted
meter on the CPU, before any GPU saw them).
"""

from __future__ import annotations

import json
import warnings
from collections import Counter

import pytest

from lepton.energy.testing import ScriptedMeter
from lepton.tune import TuneWarning, TuningCache, tune
from lepton.tune.protocol import BUDGET_SLACK

SHAPE = (64, 32, 16)


def nvml_like(seed: int = 0, **options) -> ScriptedMeter:
    """NVML as seen on an H200: a 100 ms counter with 10% noise per tick, 4 ms per counter
    read, instant power every 10 ms (5% noise), 60 W idle, W = 1 s."""
    settings = {
        "counter_period_s": 0.1, "noise": 0.10, "seed": seed, "idle_watts": 60.0,
        "read_cost_s": 0.004, "sample_interval_s": 0.01, "power_noise": 0.05,
    } | options  # fmt: skip
    return ScriptedMeter(**settings)


def _table_with_a_known_best() -> dict[int, tuple[float, float]]:
    """24 configs 4 ms apart by 2% steps, each 1% dearer; cfg5 is 10% cheaper than the fastest
    at 5% slower: the one right answer under a 1.10 guarantee."""
    costs = {i: (0.004 * (1 + 0.02 * i), 0.40 * (1 + 0.01 * i)) for i in range(24)}
    costs[5] = (0.004 * 1.05, 0.40 * 0.90)
    return costs


def test_the_known_best_is_picked_in_95_percent_of_seeded_runs_at_10_percent_tick_noise(fake_op):
    # Measured over 200 seeds: 200/200 (196/200 without power samples; the code before issue 11:
    # 189/200). CI runs 20 of them.
    winners, longest = Counter(), 0.0
    for run in range(20):
        meter = nvml_like(seed=1000 + run)
        fake_op(_table_with_a_known_best(), meter=meter)
        result = tune("fake", SHAPE, "energy", 1.10, 60, meter=meter, seed=run, save=False)
        winners[result.winner.name] += 1
        longest = max(longest, result.elapsed_s)
    assert winners["cfg5"] >= 19
    assert longest <= 60


def test_refine_slots_go_first_to_configs_inside_the_guarantee(fake_op):
    # Defect: contenders were ordered by screened objective alone, so six cheap configs at
    # 1.12-1.13× the fastest (inside the screen's 3% time margin, outside the 1.10 guarantee)
    # filled the refine and cut cfg1 at 1.05×, 10% cheaper: the result said "saving 0".
    costs = {0: (0.010, 1.00), 1: (0.0105, 0.90)}
    for i, factor in enumerate((1.12, 1.122, 1.124, 1.126, 1.128, 1.13), start=2):
        costs[i] = (0.010 * factor, 0.80)
    kernels = fake_op(costs)
    result = tune("fake", SHAPE, "energy", 1.10, 60, meter=kernels.meter, seed=0)
    assert result.protocol.contenders[:2] == ["cfg0", "cfg1"]
    assert "cfg1" in result.protocol.refined
    assert result.winner.name == "cfg1"
    assert result.energy_saving == pytest.approx(0.10)
    assert any(cut.startswith("refine:") for cut in result.protocol.cuts)  # the cheap ones


def test_one_outlier_window_does_not_decide_a_tie(fake_op):
    # Defect: ties compared the lowest window of one config with the highest of the other, so
    # cfg1, 13% cheaper, lost to the fastest over one noisy window (1.05 J among 0.87 J).
    # W = 0.1 s: every window is one 1 s call; cfg1's 7th call (its third refine window) reads
    # 21% high.
    meter = ScriptedMeter(min_window_s=0.1)
    jitter = {1: [1.0] * 6 + [1.05 / 0.87]}
    kernels = fake_op({0: (1.0, 1.0), 1: (1.05, 0.87)}, jitter=jitter, meter=meter)
    result = tune("fake", SHAPE, "energy", 1.10, meter=kernels.meter, seed=0)
    cfg1 = next(r for r in result.rows if r.name == "cfg1")
    assert sorted(t.joules for t in cfg1.stage_trials("refine")) == pytest.approx(
        [0.87, 0.87, 1.05]
    )
    assert result.winner.name == "cfg1"
    assert result.energy_saving == pytest.approx(0.13)


def test_the_screen_reads_power_samples_and_the_true_best_always_reaches_the_refine(fake_op):
    # Defect: a 0.25 s screen window spans too few 100 ms ticks and fell back to the counter's
    # edges (20% low in half the windows, plus the previous config's tail): with 10% tick noise
    # the true best missed the refine in about 1 run in 6. The screen now reads the instant
    # power samples.
    for run in range(12):
        meter = nvml_like(seed=2000 + run)
        fake_op(_table_with_a_known_best(), meter=meter)
        result = tune("fake", SHAPE, "energy", 1.10, 60, meter=meter, seed=run, save=False)
        best = next(r for r in result.rows if r.name == "cfg5")
        assert best.refined, run
        assert {t.joules_from for t in best.stage_trials("screen")} == {"samples"}
        assert result.protocol.screen_on == "power samples"


def test_without_power_samples_screen_windows_span_the_counter(fake_op):
    meter = nvml_like(seed=7, sample_interval_s=None)
    fake_op(_table_with_a_known_best(), meter=meter)
    result = tune("fake", SHAPE, "energy", 1.10, 60, meter=meter, seed=7, save=False)
    assert result.protocol.screen_on == "counter updates"
    assert result.protocol.screen_window_s == pytest.approx(0.6)
    screened = [t for r in result.rows for t in r.stage_trials("screen")]
    assert Counter(t.joules_from for t in screened)["ticks"] >= 0.9 * len(screened)


@pytest.mark.parametrize("seed", [2, 5])
def test_admission_predicts_each_config_from_its_own_call(fake_op, seed):
    # Defect: admission predicted a config's screen from the median of those admitted before
    # it, so one slow config early in the order made a 20 s run screen 2-3 of 10 configs
    # without a word (seeds 2 and 5: 3 and 2 of 10 before issue 11).
    costs = {i: (0.010, 1.0 - 0.01 * i) for i in range(10)}
    costs[3] = (2.0, 0.5)  # one slow config: 2 s a call
    kernels = fake_op(costs)
    result = tune("fake", SHAPE, "energy", 1.10, 20, meter=kernels.meter, seed=seed)
    assert len(result.rows) == 9
    assert list(result.skipped) == ["cfg3"]
    assert "(2e+03 ms a call)" in result.skipped["cfg3"]
    assert any(cut.startswith("screen: 9 of 10") for cut in result.protocol.cuts)
    assert result.elapsed_s <= 20


@pytest.mark.parametrize("budget", [20, 25])
def test_a_small_budget_still_compares_two_contenders(fake_op, budget, cache_dir):
    # Defect: at 20-25 s only the fastest was refined, without a warning, and the result was
    # cached as an energy choice.
    meter = nvml_like(seed=budget)
    fake_op(_table_with_a_known_best(), meter=meter)
    result = tune("fake", SHAPE, "energy", 1.10, budget, meter=meter, seed=1)
    assert len(result.refined) >= 2
    assert result.window_s >= result.protocol.unit_s
    assert result.cacheable
    assert result.elapsed_s <= budget


def test_a_budget_too_small_to_compare_warns_and_is_not_stored(fake_op, cache_dir):
    meter = nvml_like(seed=3)
    fake_op(_table_with_a_known_best(), meter=meter)
    with pytest.warns(TuneWarning, match="not stored"):
        result = tune("fake", SHAPE, "energy", 1.10, 8, meter=meter, seed=1)
    assert not result.cacheable
    assert result.cache_key is None
    assert TuningCache().entries() == {}


@pytest.mark.parametrize("budget", [10, 30, 60])
def test_the_budget_is_a_hard_limit_with_a_slow_meter_and_slow_first_calls(fake_op, budget):
    # A meter whose every read costs 50 ms (two per window) and first calls that record a CUDA
    # graph (0.4 s each): the warm-up, the screen and the refine share the budget.
    # (The code before issue 11, read costs emulated by a meter sleeping 50 ms per read, took
    # 34.2 / 99.2 / 155.7 s on these.)
    meter = nvml_like(seed=budget, read_cost_s=0.05)
    fake_op(_table_with_a_known_best(), meter=meter, first_call_extra_s=0.4)
    with warnings.catch_warnings(record=True):  # a 10 s budget may warn: not the point here
        warnings.simplefilter("always", TuneWarning)
        result = tune("fake", SHAPE, "energy", 1.10, budget, meter=meter, seed=0, save=False)
    assert result.elapsed_s <= budget * (1 + BUDGET_SLACK)
    assert result.read_cost_s == result.protocol.read_cost_s == 0.05
    if result.sampled:
        assert any(cut.startswith("screen:") for cut in result.protocol.cuts)


def test_a_run_records_its_seed_cuts_and_skips_and_repeats_exactly(fake_op, cache_dir):
    # Defect: seed=None made order and inputs differ every run without recording them.
    costs = {i: (0.010 * (1 + 0.01 * i), 1.0 - 0.02 * i) for i in range(30)}
    kernels = fake_op(costs)
    first = tune("fake", SHAPE, "energy", 1.10, 20, meter=kernels.meter)
    assert isinstance(first.seed, int)
    entry = json.loads((cache_dir / "tuning.json").read_text())["entries"][first.cache_key]
    assert entry["seed"] == first.seed
    assert entry["cuts"] == first.protocol.cuts
    assert entry["skipped"] == first.skipped
    assert entry["skipped"]  # 30 configs do not all fit 20 s
    rerun = fake_op(costs)  # a later re-tune, same seed: the same configs, the same order
    again = tune("fake", SHAPE, "energy", 1.10, 20, meter=rerun.meter, seed=first.seed)
    assert again.skipped == first.skipped
    assert [(r.name, [t.position for t in r.trials]) for r in again.rows] == [
        (r.name, [t.position for t in r.trials]) for r in first.rows
    ]


def _with_timer(kernels, meter):
    """Re-register the fake op with a device timer on the meter's timeline."""
    from lepton.tune import Problem, TunableOp, register

    table = [{"id": i, "name": f"cfg{i}"} for i in kernels.costs]
    timer = meter.timer()

    def prepare(shape, device, seed):
        return Problem(shape, "int8", kernels.run, None, 1.0, timer=timer)

    register(
        TunableOp("fake", ("m", "n", "k"), lambda d: table, lambda d: "h", prepare), replace=True
    )


def test_windows_the_device_spent_idle_are_measured_again_then_excluded(fake_op):
    # cfg1 looks 20% cheaper, but its calls leave the device idle 30% of each window (a host
    # stall in every call): those windows timed the stalls, not the kernel.
    meter = ScriptedMeter(idle_watts=5.0)
    kernels = fake_op({0: (0.010, 1.0), 1: (0.0105, 0.8)}, meter=meter)
    plain = kernels.run

    def run(config):
        if config == 1:
            meter.idle(0.0045)
        plain(config)

    kernels.run = run
    _with_timer(kernels, meter)
    with pytest.warns(TuneWarning, match="busy 70% of the window"):
        result = tune("fake", SHAPE, "energy", 1.10, 60, meter=meter, seed=0)
    cfg1 = next(r for r in result.rows if r.name == "cfg1")
    assert all(t.excluded.startswith("device busy 70%") for t in cfg1.trials)
    assert not cfg1.decidable
    assert "every window excluded" in cfg1.note
    assert result.winner.name == "cfg0"
    assert result.protocol.remeasured >= len(cfg1.trials)  # each was measured twice
    assert result.winner.busy_fraction == pytest.approx(1.0)


class _BiasedSamples(ScriptedMeter):
    """Power samples reading 40% high: the meter disagrees with itself in every window."""

    def _sampled_watts(self, t):
        return 1.4 * super()._sampled_watts(t)


def test_a_meter_that_disagrees_with_itself_about_the_winner_warns_and_is_not_stored(
    fake_op, cache_dir
):
    meter = _BiasedSamples(counter_period_s=0.1, sample_interval_s=0.01, idle_watts=60.0)
    fake_op({0: (0.004, 0.4), 1: (0.0042, 0.34)}, meter=meter)
    with pytest.warns(
        TuneWarning, match=r"meter readings are doubtful: counter vs power samples \+40%"
    ):
        result = tune("fake", SHAPE, "energy", 1.10, 60, meter=meter, seed=0)
    assert result.winner.name == "cfg1"  # the counter is the measurement ...
    assert result.winner.joules == pytest.approx(0.34, rel=0.01)
    assert "counter vs power samples +40%" in result.winner.note  # ... and the doubt is said
    assert not result.cacheable
    assert TuningCache().entries() == {}
    assert result.max_gap == pytest.approx(0.4, abs=0.02)


def test_the_protocol_docstring_arithmetic():
    # NVML, W = 1 s, r = 4 ms, 60 s, 24 configs: refine ≈ 41 s holds 4 contenders at 3 s or 5
    # at ≈ 2.7 s; a sixth would need 45 s.
    from lepton.tune import Protocol
    from lepton.tune.protocol import fit_refine

    plan = Protocol().plan(
        unit_s=1.0, budget_s=60, rounds=3, cooldown_s=0.0, counter_period_s=0.1, energy=True,
        read_cost_s=0.004, power_samples=True,
    )  # fmt: skip
    assert plan.screen_window_s == 0.25
    assert 24 * plan.screen_rounds * plan.trial_cost(0.25, 8e-4) == pytest.approx(12.4, abs=0.1)
    assert 4 * 3 * plan.trial_cost(3.0, 8e-4) == pytest.approx(36.1, abs=0.1)
    count, window = fit_refine([8e-4] * 6, plan, 41.0)
    assert count == 5
    assert window == pytest.approx(2.7, abs=0.03)
    assert 6 * 3 * plan.trial_cost(2.5, 8e-4) == pytest.approx(45.1, abs=0.1)
    assert plan.deadline_s == pytest.approx(63.0)
