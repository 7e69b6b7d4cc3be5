"""The tuner study's report, from tuning runs on a scripted meter with known costs."""

from __future__ import annotations

import json

import pytest

from lepton.bench.suites import tune_study
from lepton.energy.testing import ScriptedMeter
from lepton.tune import Problem, TunableOp, register, unregister

# per call (seconds, joules): 0 fastest; 1 is 5% slower and 20% cheaper; 2 too slow, cheapest
COSTS = {0: (1.0e-3, 0.50), 1: (1.05e-3, 0.40), 2: (1.5e-3, 0.30)}


@pytest.fixture
def study_op(tmp_path, monkeypatch):
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path / "cache"))
    meter = ScriptedMeter(device="cuda:0", idle_watts=70.0)

    def prepare(shape, device, seed):
        def run(config):
            seconds, joules = COSTS[config]
            meter.spend(seconds, joules)

        m, n, k = shape
        return Problem(shape, "int8", run, lambda: None, 2.0 * m * n * k)

    table = [{"id": i, "name": f"cfg{i}"} for i in COSTS]
    register(TunableOp("study_fake", ("m", "n", "k"), lambda d: table, lambda d: "h", prepare))
    yield meter
    unregister("study_fake")


def _settings(**extra):
    base = {"device": "cuda:0", "shapes": ((64, 64, 64), (8, 64, 64)), "op": "study_fake"}
    return tune_study.Settings(**(base | {"budget_s": 30.0, "idle_s": 2.0} | extra))


def test_the_study_reports_the_issue_numbers_for_each_shape(study_op):
    summary, raw = tune_study.run_study(_settings(), meter=study_op)
    assert summary["objective"] == "energy"
    assert summary["idle"]["watts"] == pytest.approx(70.0)
    assert [len(v) for v in raw.values()] == [3, 3]
    shape = summary["shapes"][0]
    assert shape["fastest"] == "cfg0"
    assert shape["winner"] == "cfg1"
    assert shape["winner_runs"] == 3
    assert shape["saving_median"] == pytest.approx(0.20)
    assert shape["slowdown_median"] == pytest.approx(1.05)
    assert shape["winner_joules_per_run"] == pytest.approx([0.40] * 3)
    assert shape["winner_joules_spread"] == pytest.approx(0.0, abs=1e-9)
    work = 2.0 * 64**3
    assert shape["tops_max"] == pytest.approx(work / 1.0e-3 / 1e12)
    assert shape["tops_min"] == pytest.approx(work / 1.5e-3 / 1e12)
    assert (shape["joules_min"], shape["joules_max"]) == pytest.approx((0.30, 0.50))
    rows = {r["name"]: r for r in shape["configs"]}
    assert rows["cfg1"]["chosen_in"] == [0, 1, 2]
    assert rows["cfg2"]["chosen_in"] == []
    assert rows["cfg0"]["windows"] == 9  # refine: 3 rounds × 3 runs
    assert rows["cfg0"]["screen_windows"] == 6  # screen: 2 rounds × 3 runs
    assert [rows[c]["stage"] for c in ("cfg0", "cfg1", "cfg2")] == ["refine", "refine", "screen"]
    assert rows["cfg2"]["refined_in"] == []
    assert rows["cfg2"]["note"].startswith("screen:")  # too slow on the screen: never refined
    assert rows["cfg2"]["screen_ms"] == pytest.approx(1.5)
    assert rows["cfg1"]["screen_joules"] == pytest.approx(0.40)
    assert shape["refined_per_run"] == [2, 2, 2]
    assert shape["protocol"]["refine_rounds"] == 3
    assert shape["cuts_per_run"] == [[], [], []]
    assert rows["cfg1"]["watts"] == pytest.approx(0.40 / 1.05e-3)
    assert all(t <= 30.0 * 1.25 for t in shape["tune_seconds"])
    assert shape["bar"] == {
        "saving_ok": True, "slowdown_ok": True, "spread_ok": True, "tune_time_ok": True
    }  # fmt: skip


def test_a_winner_that_changes_between_runs_fails_the_spread_bar():
    from lepton.tune.result import ConfigResult, Trial, TuneResult

    def result(winner_joules):
        def row(i, seconds, joules, chosen):
            trial = Trial(0, 0, seconds, joules, 1)
            r = ConfigResult(i, f"cfg{i}", [trial], seconds, joules, joules / seconds, 1.0,
                             0.0, 0.0, joules, joules, joules)  # fmt: skip
            r.chosen = r.eligible = chosen or i == 0
            return r

        rows = [row(0, 1e-3, 0.5, False), row(1, 1.05e-3, winner_joules, True)]
        return TuneResult("op", (4, 4, 4), "int8", "cuda:0", "gpu", "energy", 1.1, rows,
                          rows[1], rows[0], "nvml", 60.0, 3, 1.0, 60.0, 50.0, 2)  # fmt: skip

    shape = tune_study.summarise_shape((4, 4, 4), [result(0.40), result(0.42), result(0.44)])
    assert shape["winner_joules_spread"] == pytest.approx(0.04 / 0.42)
    assert not shape["bar"]["spread_ok"]
    assert shape["bar"]["saving_ok"]  # median saving 16%


def test_without_a_meter_the_study_tunes_time_and_says_no_meter(study_op, tmp_path):
    from lepton.energy.base import NullMeter

    meter = NullMeter("no energy here", device="cuda:0", clock=study_op.clock)
    meter.sleep = study_op.sleep
    summary, _raw = tune_study.run_study(_settings(shapes=((64, 64, 64),)), meter=meter)
    assert summary["objective"] == "time"
    assert summary["idle"] is None
    text = tune_study.markdown(summary)
    assert "idle: no meter" in text
    assert "no meter" in text.split("| cfg0 |")[1].split("\n")[0]


def test_the_study_writes_json_markdown_and_a_pareto_png_per_shape(study_op, tmp_path):
    pytest.importorskip("matplotlib")
    summary, raw = tune_study.run_study(_settings(), meter=study_op)
    json_path, md_path, pngs = tune_study.write(tmp_path, summary, raw)
    record = json.loads(json_path.read_text())
    assert len(record["results"]["64x64x64"]) == 3
    assert record["shapes"][1]["shape"] == [8, 64, 64]
    text = md_path.read_text()
    assert "## 64×64×64" in text
    assert "energy winner: cfg1 in 3 of 3 runs" in text
    assert "spread < 3% yes" in text
    assert "| cfg2 | screen |" in text
    assert "refine 3 × 3.00 s windows" in text
    assert [p.name for p in pngs] == [
        "tune_study-pareto-64x64x64.png", "tune_study-pareto-8x64x64.png"
    ]  # fmt: skip
    assert all(p.stat().st_size > 0 for p in pngs)


def test_full_size_settings_are_the_issue_shapes_on_the_gpu(monkeypatch):
    monkeypatch.delenv("LEPTON_STUDY_BUDGET_S", raising=False)
    full = tune_study.settings_for("full")
    assert full.device == "cuda:0"
    assert full.shapes == ((8192, 8192, 8192), (256, 4096, 4096))
    assert (full.runs, full.max_slowdown, full.budget_s) == (3, 1.10, 60.0)
    assert tune_study.settings_for("small").device == "cpu"
