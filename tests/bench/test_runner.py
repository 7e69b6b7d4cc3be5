import json

import pytest

from lepton.bench import report
from lepton.bench.case import Case, Impl
from lepton.bench.runner import run_case


def _case(log):
    def impl(name, is_lepton=False):
        return Impl(name, lambda: log.append(name), is_lepton=is_lepton)

    return Case(
        "fake",
        "fake 8x8",
        {"n": 8},
        [impl("mine", True), impl("peer a"), impl("peer b")],
        work_ops=2e9,
        work_bytes=1e9,
    )


def _fake_window(cost):
    """A window whose seconds and joules per call are known: cost[name] for the last impl run."""

    def window(fn, device):
        before = len(calls)
        fn()
        ran = calls[before:]
        name = ran[-1]
        return cost[name][0] * len(ran), cost[name][1] * len(ran), False

    calls: list[str] = []
    return window, calls


def test_ratios_come_from_the_measured_windows():
    cost = {"mine": (0.5, 2.0), "peer a": (1.0, 8.0), "peer b": (2.0, 2.0)}
    window, calls = _fake_window(cost)
    out = run_case(_case(calls), rounds=3, min_window_s=0.0, settle_s=0.0, window=window)
    assert out["results"]["mine"]["seconds_median"] == pytest.approx(0.5)
    assert out["results"]["mine"]["gops"] == pytest.approx(4.0)
    assert out["results"]["mine"]["gops_per_joule"] == pytest.approx(1.0)
    assert out["ratios"]["mine vs peer a"] == {
        "speedup": pytest.approx(2.0),
        "energy_ratio": pytest.approx(4.0),
    }
    assert out["ratios"]["mine vs peer b"]["speedup"] == pytest.approx(4.0)
    json.dumps(out)  # JSON-ready


def test_rounds_are_interleaved_in_varying_order():
    calls: list[str] = []
    case = _case(calls)
    window = lambda fn, device: (fn(), (1.0, None, False))[1]  # noqa: E731
    run_case(case, rounds=6, min_window_s=0.0, settle_s=0.0, window=window, seed=1)
    timed = calls[6:]  # two warm-up calls per impl come first
    orders = {tuple(timed[i : i + 3]) for i in range(0, len(timed), 3)}
    assert len(timed) == 18
    assert len(orders) > 1


def test_report_outputs(tmp_path):
    cost = {"mine": (0.5, 2.0), "peer a": (1.0, 8.0), "peer b": (2.0, 2.0)}
    window, calls = _fake_window(cost)
    case = _case(calls)
    case.skipped["peer c"] = "not installed"
    out = run_case(case, rounds=2, min_window_s=0.0, settle_s=0.0, window=window)
    text = report.markdown([out], "fake")
    assert "**mine**" in text
    assert "2.00×" in text
    assert "skipped: not installed" in text
    path = report.write_json(tmp_path, "fake", [out], {"cpu": "x"})
    assert json.loads(path.read_text())["cases"][0]["case"] == "fake 8x8"


def test_cases_with_rows_also_report_per_million_rows():
    from lepton.bench.case import Case, Impl
    from lepton.bench.report import markdown
    from lepton.bench.runner import run_case

    case = Case("s", "rows case", {}, [Impl("lepton", lambda: None, is_lepton=True)], rows=4096)
    result = run_case(case, rounds=3, min_window_s=0.001, settle_s=0.0)
    row = result["results"]["lepton"]
    assert result["rows"] == 4096
    assert row["seconds_per_1m_rows"] == row["seconds_median"] * 1e6 / 4096
    assert row["joules_per_1m_rows"] is None
    assert "rows case, per 1M rows: lepton" in markdown([result], "none")


def test_a_zero_joule_reading_is_a_reading_not_no_meter():
    """A counter that did not move reads 0.0 J: shown as 0 J, never as "no meter", and no
    ratio or per-joule figure is made by dividing by it."""
    cost = {"mine": (0.5, 0.0), "peer a": (1.0, 8.0), "peer b": (2.0, 0.0)}
    window, calls = _fake_window(cost)
    out = run_case(_case(calls), rounds=2, min_window_s=0.0, settle_s=0.0, window=window)
    mine = out["results"]["mine"]
    assert mine["joules_median"] == 0.0
    assert mine["avg_watts"] == 0.0
    assert "gops_per_joule" not in mine
    assert out["ratios"]["mine vs peer a"]["energy_ratio"] is None
    text = report.markdown([out], "fake")
    assert "| 0 J |" in text
    assert "no meter" not in text


def test_short_windows_are_flagged_where_joules_are_shown():
    calls: list[str] = []

    def window(fn, device):
        fn()
        return 0.01, 0.5, calls[-1] == "peer a"  # only peer a's windows were short

    out = run_case(_case(calls), rounds=3, min_window_s=0.0, settle_s=0.0, window=window)
    assert out["results"]["peer a"]["short_windows"] == 3
    assert out["results"]["mine"]["short_windows"] == 0
    text = report.markdown([out], "rapl")
    assert f"0.5 J{report.SHORT_MARK} |" in text
    assert "| 0.5 J |" in text  # mine: not marked
    assert "shorter than the rapl meter's minimum" in text


def test_no_meter_shows_no_energy_units(monkeypatch):
    monkeypatch.setenv("LEPTON_GRID_INTENSITY", "400")
    calls: list[str] = []
    window = lambda fn, device: (fn(), (1.0, None, False))[1]  # noqa: E731
    out = run_case(_case(calls), rounds=1, min_window_s=0.0, settle_s=0.0, window=window)
    text = report.markdown([out], "none")
    assert "gCO2e" not in text
    assert "Wh" not in text


def test_energy_units_lines_are_labelled_extrapolations(monkeypatch):
    monkeypatch.delenv("LEPTON_GRID_INTENSITY", raising=False)
    monkeypatch.delenv("LEPTON_ENERGY_PRICE", raising=False)
    cost = {"mine": (0.5, 3.6), "peer a": (1.0, 7.2), "peer b": (2.0, 36.0)}
    window, calls = _fake_window(cost)
    out = run_case(_case(calls), rounds=1, min_window_s=0.0, settle_s=0.0, window=window)
    units = report.EnergyUnits(grid_intensity=500, price=0.25)
    text = report.markdown([out], "fake", units=units, rate_per_s=10)
    # 3.6 J per call × 1M calls = 3.6 MJ = 1 kWh = 1000 Wh, 500 g, cost 0.25
    assert (
        "mine, per 1M calls (extrapolated): 3,600,000 J, 1000 Wh, 500 gCO2e at 500 g/kWh, "
        "cost 0.25 at 0.25/kWh" in text
    )
    assert "mine, per day at 10 calls/s (extrapolated)" in text
