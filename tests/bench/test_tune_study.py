"""The tuner study's report, from a sweep and tuning runs on a scripted meter with known costs."""

from __future__ import annotations

import json

import pytest

from lepton.bench.suites import tune_study
from lepton.energy.testing import ScriptedMeter
from lepton.tune import Problem, TunableOp, register, unregister

# per call (seconds, joules): 0 fastest and the heuristic; 1 is 5% slower and 20% cheaper;
# 2 too slow, cheapest
COSTS = {0: (1.0e-3, 0.50), 1: (1.05e-3, 0.40), 2: (1.5e-3, 0.30)}
CASES = (tune_study.Case("study_fake", (64, 64, 64)), tune_study.Case("study_fake", (8, 64, 64)))


@pytest.fixture
def study_op(tmp_path, monkeypatch):
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path / "cache"))
    meter = ScriptedMeter(device="cuda:0", idle_watts=70.0)
    timer = meter.timer()

    def prepare(shape, device, seed):
        def run(config):
            seconds, joules = COSTS[config]
            meter.spend(seconds, joules)

        m, n, k = shape
        return Problem(shape, "int8", run, lambda: None, 2.0 * m * n * k, timer=timer, heuristic=0)

    table = [{"id": i, "name": f"cfg{i}", "tile_m": 64, "tile_n": 32, "split_k": 1} for i in COSTS]
    register(TunableOp("study_fake", ("m", "n", "k"), lambda d: table, lambda d: "h", prepare))
    yield meter
    unregister("study_fake")


def _settings(**extra):
    base = {"device": "cuda:0", "cases": CASES, "budget_s": 30.0, "idle_s": 2.0, "part": "t"}
    return tune_study.Settings(**(base | extra))


def test_the_study_reports_the_issue_numbers_for_each_case(study_op):
    summary, raw = tune_study.run_study(_settings(), meter=study_op)
    assert summary["objective"] == "energy"
    assert summary["idle"]["watts"] == pytest.approx(70.0)
    assert summary["warnings"] == []
    assert [len(v) for v in raw.values()] == [3, 3]
    case = summary["cases"][0]
    assert case["case"] == "study_fake-64x64x64"
    sweep = {r["name"]: r for r in case["sweep"]}
    assert sweep["cfg1"]["ms"] == pytest.approx(1.05)
    assert sweep["cfg1"]["joules"] == pytest.approx(0.40)
    assert sweep["cfg1"]["watts"] == pytest.approx(0.40 / 1.05e-3)
    assert sweep["cfg1"]["busy_fraction"] == pytest.approx(1.0)
    assert sweep["cfg1"]["time_from"] == "scripted"
    assert sweep["cfg0"]["tiles"] == 1 * 2  # 64/64 × 64/32 tiles, from the table
    assert case["fastest"] == "cfg0"
    assert case["trade"] == {
        "name": "cfg1",
        "slowdown": pytest.approx(1.05),
        "saving": pytest.approx(0.2),
    }
    assert case["winner"] == "cfg1"
    assert case["winner_runs"] == 3
    assert case["heuristic"] == "cfg0"
    assert case["tuned_vs_heuristic"] == pytest.approx(0.2)
    assert case["winner_joules_per_run"] == pytest.approx([0.40] * 3)
    assert case["winner_joules_spread"] == pytest.approx(0.0, abs=1e-9)
    assert case["tuner_vs_sweep_ms"] == pytest.approx([1.0] * 6)  # 2 refined × 3 runs
    assert sweep["cfg1"]["chosen_in"] == [0, 1, 2]
    assert sweep["cfg2"]["refined_in"] == []
    assert all(t <= 30.0 * 1.05 for t in case["tune_seconds"])
    assert case["bar"] == {
        "saving_ok": True, "slowdown_ok": True, "spread_ok": True, "tune_time_ok": True,
        "time_agreement_ok": True,
    }  # fmt: skip


def test_a_winner_that_changes_between_runs_fails_the_spread_bar(study_op):
    summary, raw = tune_study.run_study(_settings(cases=CASES[:1]), meter=study_op)
    results = raw[CASES[0].name]
    for result, joules in zip(results, (0.40, 0.42, 0.44), strict=True):
        result.winner.joules = joules
    sweep = summary["cases"][0]["sweep"]
    case = tune_study.summarise_case(CASES[0], sweep, 0, results, _settings())
    assert case["winner_joules_spread"] == pytest.approx(0.04 / 0.42)
    assert not case["bar"]["spread_ok"]


def test_without_a_meter_the_study_tunes_time_and_says_no_meter(study_op):
    from lepton.energy.base import NullMeter

    meter = NullMeter("no energy here", device="cuda:0", clock=study_op.clock)
    meter.sleep = study_op.sleep
    summary, _raw = tune_study.run_study(_settings(cases=CASES[:1]), meter=meter)
    assert summary["objective"] == "time"
    assert summary["idle"] is None
    text = tune_study.markdown(summary)
    assert "idle: no meter" in text
    assert "no meter" in text.split("| cfg0 (heuristic) |")[1].split("\n")[0]


def test_the_study_writes_json_markdown_and_a_pareto_png_per_case(study_op, tmp_path):
    pytest.importorskip("matplotlib")
    summary, raw = tune_study.run_study(_settings(), meter=study_op)
    json_path, md_path, pngs = tune_study.write(tmp_path, summary, raw)
    record = json.loads(json_path.read_text())
    assert len(record["results"]["study_fake-64x64x64"]) == 3
    assert record["cases"][1]["shape"] == [8, 64, 64]
    assert md_path.name == "tune_study-t.md"
    text = md_path.read_text()
    assert "## study_fake-64x64x64" in text
    assert "tuned winner: cfg1 in 3 of 3 runs" in text
    assert "fewer J at 1.050×" in text
    assert "spread < 3% yes" in text
    assert [p.name for p in pngs] == [
        "tune_study-study_fake-64x64x64.png", "tune_study-study_fake-8x64x64.png"
    ]  # fmt: skip
    assert all(p.stat().st_size > 0 for p in pngs)


def test_full_size_parts_hold_the_issue_cases(monkeypatch):
    monkeypatch.delenv("LEPTON_STUDY_BUDGET_S", raising=False)
    monkeypatch.delenv("LEPTON_STUDY_PART", raising=False)
    first = tune_study.settings_for("full")
    assert first.device == "cuda:0"
    assert [c.shape for c in first.cases] == [(8192, 8192, 8192), (4096, 4096, 4096)]
    assert (first.runs, first.max_slowdown, first.budget_s) == (3, 1.10, 60.0)
    monkeypatch.setenv("LEPTON_STUDY_PART", "all")
    names = [c.name for c in tune_study.settings_for("full").cases]
    assert names == [
        "int8_gemm-8192x8192x8192", "int8_gemm-4096x4096x4096", "int8_gemm-4096x11008x4096",
        "int8_gemm-256x4096x4096", "int8_gemm-32x4096x4096", "preprocess-4194304x64",
    ]  # fmt: skip
    monkeypatch.setenv("LEPTON_STUDY_PART", "4")
    with pytest.raises(ValueError, match="LEPTON_STUDY_PART"):
        tune_study.settings_for("full")
    assert tune_study.settings_for("small").device == "cpu"


def test_grid_facts_follow_the_launchers():
    gemm = tune_study.Case("int8_gemm", (8192, 8192, 8192))
    wgmma = {"engine": "wgmma_s8", "tile_m": 128, "tile_n": 256, "split_k": 1, "cta_cap_div": 2}
    facts = tune_study.grid_facts(gemm, wgmma, 132)
    assert facts["tiles"] == 64 * 32
    assert facts["ctas"] == 66  # a persistent grid capped at sm/2
    assert facts["ctas_per_sm"] == pytest.approx(0.5)
    mma = {"engine": "mma_s8", "tile_m": 128, "tile_n": 128, "split_k": 2, "cta_cap_div": 0}
    assert tune_study.grid_facts(gemm, mma, 132)["ctas"] == 64 * 64 * 2  # one CTA per tile
    prep = tune_study.Case("preprocess", (4 * 1024 * 1024, 64))
    config = {"chunk_kib": 512, "ctas_per_sm": 2, "sm_div": 2, "threads": 256}
    facts = tune_study.grid_facts(prep, config, 132)
    assert facts["work_items"] == 2048  # 1 GiB in 512 KiB items
    assert facts["ctas"] == 2 * 66
    assert "tiles" not in tune_study.grid_facts(gemm, {"threads": 256}, None)
