import json

import pytest

from lepton.energy import NullMeter
from lepton.energy.testing import ManualClock, ScriptedMeter
from lepton.tune import TuneWarning, tune
from lepton.tune.objectives import choose
from lepton.tune.result import ConfigResult
from lepton.tune.rows import relative_mad

SHAPE = {"m": 64, "n": 32, "k": 16}


@pytest.mark.parametrize(
    ("objective", "max_slowdown", "winner"),
    [
        ("energy", 1.10, "cfg1"),  # cfg2, cfg3 cheaper but too slow
        ("energy", 1.60, "cfg2"),  # cfg3 still too slow
        ("energy", 2.00, "cfg3"),
        ("edp", 1.60, "cfg1"),  # 8.64 J·s beats cfg2's 9.75 and cfg0's 10
        ("time", 1.60, "cfg0"),
        ("time", 2.00, "cfg0"),
    ],
)
def test_exact_winner_for_each_objective(trade_off, objective, max_slowdown, winner):
    result = tune("fake", SHAPE, objective, max_slowdown, meter=trade_off.meter, seed=1)
    assert result.winner.name == winner
    assert result.fastest.name == "cfg0"
    assert result.winner.seconds <= max_slowdown * result.fastest.seconds


def test_cheaper_but_too_slow_config_is_never_picked(trade_off):
    for objective in ("energy", "edp", "time"):
        result = tune("fake", SHAPE, objective, 1.10, meter=trade_off.meter, seed=2)
        eligible = {r.name: r.eligible for r in result.rows}
        assert eligible == {"cfg0": True, "cfg1": True, "cfg2": False, "cfg3": False}
        assert result.winner.name in ("cfg0", "cfg1")
        assert result.guarantee_s == pytest.approx(1.10)


def test_result_numbers_are_the_measured_ones(trade_off):
    result = tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=3)
    mid = next(r for r in result.rows if r.name == "cfg1")
    assert mid.seconds == pytest.approx(1.08)
    assert mid.joules == pytest.approx(8.0)
    assert mid.watts == pytest.approx(8.0 / 1.08)
    assert mid.efficiency == pytest.approx(2 * 64 * 32 * 16 / 8.0 / 1e12)
    assert mid.time_spread == pytest.approx(0.0)
    assert result.energy_saving == pytest.approx(0.2)
    assert result.slowdown == pytest.approx(1.08)
    assert result.idle_watts == pytest.approx(50.0)
    assert result.meter == "scripted"
    assert [r.name for r in result.rows] == ["cfg0", "cfg1", "cfg2", "cfg3"]  # fastest first
    json.dumps(result.to_dict())  # serialisable as it stands


def test_protocol_warm_up_then_interleaved_shuffled_rounds(fake_op):
    kernels = fake_op({i: (1.0 + 0.1 * i, 5.0) for i in range(5)}, first_call_extra_s=9.0)
    result = tune("fake", SHAPE, "energy", 1.5, 200, meter=kernels.meter, rounds=4, seed=5)
    orders = []
    for stage, rounds in (("screen", 2), ("refine", 4)):  # equal joules: all five contend
        for round_index in range(rounds):
            trials = sorted(
                (t.position, r.name)
                for r in result.rows
                for t in r.stage_trials(stage)
                if t.round == round_index
            )
            assert [p for p, _ in trials] == list(range(5))  # every config once per round
            orders.append(tuple(name for _, name in trials))
    assert len(set(orders)) > 1  # a fresh random order per round
    # the slow first call of each config is warm-up, outside every window
    assert all(t.seconds < 2.0 for r in result.rows for t in r.trials)
    assert all(len(r.stage_trials("refine")) == 4 for r in result.rows)


def test_each_window_spans_the_meter_minimum(fake_op):
    kernels = fake_op({0: (0.3, 1.0), 1: (0.25, 0.8)})
    result = tune("fake", SHAPE, "energy", 1.5, meter=kernels.meter, seed=0)
    for row in result.rows:  # ScriptedMeter: W = 1 s; screen W/4, refine at least 2.5 W
        assert all(t.seconds * t.repetitions >= 0.25 for t in row.stage_trials("screen"))
        assert all(t.seconds * t.repetitions >= 2.5 for t in row.stage_trials("refine"))
    assert {r.name: r.joules for r in result.rows} == {
        "cfg0": pytest.approx(1.0),
        "cfg1": pytest.approx(0.8),
    }


def test_cooldown_idles_before_each_window_without_touching_the_readings(trade_off):
    plain = tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0)
    cooled = tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0, cooldown_s=0.5)
    windows = sum(len(r.trials) for r in cooled.rows)
    assert windows == 4 * 2 + 2 * 3  # screen: 4 configs × 2 rounds; refine: 2 contenders × 3
    assert cooled.elapsed_s == pytest.approx(plain.elapsed_s + windows * 0.5)
    assert [r.joules for r in cooled.rows] == pytest.approx([r.joules for r in plain.rows])


def test_joules_above_idle(fake_op):
    kernels = fake_op({0: (1.0, 10.0), 1: (1.08, 8.0)}, meter=ScriptedMeter(idle_watts=5.0))
    result = tune("fake", SHAPE, "energy", 1.10, meter=kernels.meter, seed=0)
    assert result.idle_watts == pytest.approx(5.0)
    assert [r.above_idle_j for r in result.rows] == pytest.approx([5.0, 8.0 - 5.4])


def test_windows_shorter_than_the_meter_needs_warn(trade_off):
    with pytest.warns(TuneWarning, match="coarse"):
        tune("fake", SHAPE, "energy", meter=trade_off.meter, min_window_s=0.1)


def test_temperature_recorded_per_trial(trade_off):
    result = tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0)
    temps = [t.temperature_c for r in result.rows for t in r.trials]
    assert all(t is not None for t in temps)
    assert len(set(temps)) > 1  # the scripted device warms as it spends joules
    assert all(r.temperature_c is not None for r in result.rows)


def test_configs_within_noise_tie_and_the_faster_wins(fake_op):
    # cfg0's median is lower than cfg1's but its windows scatter ±5% (relative MAD 5%): the 3%
    # difference is within the measured noise, a tie, so the faster cfg1 wins.
    # W = 0.1 s: every window is one 1 s call, so the per-call jitter is each window's reading.
    jitter = {0: [0.95, 1.0, 1.05], 1: [1.0]}
    meter = ScriptedMeter(min_window_s=0.1)
    kernels = fake_op({0: (1.05, 1.0), 1: (1.0, 1.03)}, jitter=jitter, meter=meter)
    result = tune("fake", SHAPE, "energy", 1.10, meter=kernels.meter, seed=0)
    by_name = {r.name: r for r in result.rows}
    assert by_name["cfg0"].objective < by_name["cfg1"].objective
    assert by_name["cfg0"].tied
    assert by_name["cfg1"].tied
    assert result.winner.name == "cfg1"


def test_difference_beyond_noise_is_not_a_tie(fake_op):
    jitter = {0: [0.95, 1.05], 1: [0.95, 1.05]}
    kernels = fake_op({0: (1.05, 1.0), 1: (1.0, 1.2)}, jitter=jitter)
    result = tune("fake", SHAPE, "energy", 1.10, meter=kernels.meter, seed=0)
    assert result.winner.name == "cfg0"
    assert not next(r for r in result.rows if r.name == "cfg1").tied


def test_energy_objectives_without_meter_refuse_clearly(trade_off):
    meter = NullMeter("RAPL: permission denied", clock=ManualClock())
    for objective in ("energy", "edp"):
        with pytest.raises(ValueError, match=r"needs an energy meter.*objective='time'"):
            tune("fake", SHAPE, objective, meter=meter)


def test_time_objective_without_meter(fake_op):
    clock = ManualClock()
    meter = NullMeter("none", clock=clock)
    kernels = fake_op({0: (0.2, 0.0), 1: (0.1, 0.0)})
    kernels.meter.spend = lambda seconds, joules: clock.advance(seconds)  # time only
    result = tune("fake", SHAPE, "time", meter=meter, seed=0)
    assert result.winner.name == "cfg1"
    assert result.meter == "none"
    assert result.idle_watts is None
    assert all(r.joules is None and r.efficiency is None for r in result.rows)
    assert result.energy_saving is None
    assert "no meter" in str(result)


def test_budget_is_honoured_by_sampling_the_table(fake_op):
    kernels = fake_op({i: (1.0, 5.0 - 0.1 * i) for i in range(20)})
    result = tune("fake", SHAPE, "energy", 1.10, budget_s=30, meter=kernels.meter, seed=7)
    assert result.elapsed_s <= 30
    assert result.sampled
    assert 2 <= len(result.rows) < 20
    assert len(result.rows) + len(result.skipped) == 20
    assert all("budget" in why for why in result.skipped.values())
    # Each config is admitted on its own warm-up call: one warmed and then found not to fit says
    # its call time; once the screen's share is spent the rest are never run.
    warmed = [i for i in range(20) if f"cfg{i}" in result.skipped and kernels.calls[i]]
    assert len(warmed) < len(result.skipped)
    assert all(kernels.calls[i] == 2 for i in warmed)
    assert all("1e+03 ms a call" in result.skipped[f"cfg{i}"] for i in warmed)


def test_generous_budget_measures_the_whole_table(fake_op):
    kernels = fake_op({i: (1.0, 5.0 - 0.1 * i) for i in range(6)})
    result = tune("fake", SHAPE, "energy", 1.10, budget_s=60, meter=kernels.meter, seed=7)
    assert not result.sampled
    assert result.skipped == {}
    assert result.elapsed_s <= 60
    assert result.winner.name == "cfg5"


def test_configs_that_cannot_run_the_shape_are_skipped_with_the_reason(fake_op):
    kernels = fake_op(dict.fromkeys(range(3), (1.0, 2.0)), cannot_run=frozenset({1}))
    result = tune("fake", SHAPE, "energy", meter=kernels.meter, seed=0)
    assert "cfg1" not in {r.name for r in result.rows}
    assert "not divisible" in result.skipped["cfg1"]


def test_no_runnable_config_is_an_error(fake_op):
    kernels = fake_op({0: (1.0, 2.0)}, cannot_run=frozenset({0}))
    with pytest.raises(ValueError, match="no configuration"):
        tune("fake", SHAPE, "energy", meter=kernels.meter)


def test_restricting_to_given_configs(trade_off):
    result = tune("fake", SHAPE, "energy", 2.0, meter=trade_off.meter, configs=[2, 0], seed=0)
    assert {r.name for r in result.rows} == {"cfg0", "cfg2"}
    assert result.winner.name == "cfg2"
    with pytest.raises(ValueError, match="configs"):
        tune("fake", SHAPE, meter=trade_off.meter, configs=[9])


def test_problem_as_sequence_and_alias(trade_off):
    result = tune("fake-alias", (64, 32, 16), "energy", meter=trade_off.meter, seed=0)
    assert result.op == "fake"
    assert result.shape == (64, 32, 16)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"objective": "joules"}, ValueError, "objective"),
        ({"max_slowdown": 0.9}, ValueError, "max_slowdown"),
        ({"max_slowdown": "1.1"}, TypeError, "max_slowdown"),
        ({"budget_s": 0}, ValueError, "budget_s"),
        ({"budget_s": float("inf")}, ValueError, "budget_s"),
        ({"rounds": 2}, ValueError, "rounds"),
        ({"rounds": 3.0}, TypeError, "rounds"),
        ({"problem": {"m": 4, "n": 4}}, ValueError, "missing k"),
        ({"problem": {"m": 4, "n": 4, "k": 4, "q": 1}}, ValueError, "unknown q"),
        ({"problem": (4, 0, 4)}, ValueError, "n must be >= 1"),
        ({"problem": (4, 4.0, 4)}, TypeError, "n must be an int"),
        ({"problem": (4, 4)}, ValueError, "3 dimensions"),
        ({"problem": "4x4x4"}, TypeError, "problem"),
        ({"op": "nope"}, ValueError, "op"),
        ({"device": "cuda:0"}, ValueError, "meter"),
        ({"min_window_s": -1}, ValueError, "min_window_s"),
        ({"cooldown_s": "1"}, TypeError, "cooldown_s"),
        ({"cooldown_s": float("nan")}, ValueError, "cooldown_s"),
    ],
)
def test_bad_arguments_name_the_argument(trade_off, kwargs, error, match):
    arguments = {"op": "fake", "problem": SHAPE, "meter": trade_off.meter, **kwargs}
    with pytest.raises(error, match=match):
        tune(**arguments)


def _row(name, seconds, low, mid, high):
    noise = relative_mad([low, mid, high])
    return ConfigResult(
        id=int(name[-1]),
        name=name,
        trials=[],
        seconds=seconds,
        joules=mid,
        watts=None,
        efficiency=None,
        time_spread=0.0,
        energy_spread=0.0,
        objective=mid,
        objective_low=low,
        objective_high=high,
        objective_noise=noise,
    )


def test_choose_marks_eligible_ties_and_winner():
    rows = [
        _row("c0", 1.00, 9.0, 10.0, 11.0),
        _row("c1", 1.05, 7.9, 8.0, 8.1),
        _row("c2", 1.09, 7.6, 7.85, 8.0),  # best median, 2% under c1's; noise 2%: a tie
        _row("c3", 1.20, 1.0, 1.0, 1.0),  # far cheaper, too slow
    ]
    winner = choose(rows, 1.10)
    assert winner.name == "c1"
    assert [r.eligible for r in rows] == [True, True, True, False]
    assert [r.tied for r in rows] == [False, True, True, False]
    assert [r.chosen for r in rows] == [False, True, False, False]


def test_choose_needs_rows():
    with pytest.raises(ValueError, match="no configuration"):
        choose([], 1.1)


def test_scripted_meter_rejects_backwards_time():
    with pytest.raises(ValueError, match="seconds"):
        ScriptedMeter().spend(-1.0, 0.0)


def test_calls_slower_than_their_warm_up_are_stopped_by_the_deadline(fake_op):
    kernels = fake_op({0: (0.1, 1.0), 1: (0.1, 1.0)})

    def slow_after_warm_up(config):  # the warm-up promises 0.1 s calls, the rounds get 1 s
        kernels.calls[config] += 1
        kernels.meter.spend(0.1 if kernels.calls[config] <= 2 else 1.0, 1.0)

    kernels.run = slow_after_warm_up
    with pytest.warns(TuneWarning, match="refined") as caught:
        result = tune("fake", SHAPE, "energy", budget_s=10, meter=kernels.meter, seed=0)
    assert result.elapsed_s <= 10 * 1.05 + 1.0  # the deadline, and at most the call under way
    assert not result.cacheable
    assert "not stored" in str(caught[0].message)
