import json

import pytest

from lepton import cli
from lepton.energy import NullMeter
from lepton.energy.testing import ManualClock
from lepton.tune import search

ARGS = ["tune", "fake", "--m", "64", "--n", "32", "--k", "16", "--seed", "0"]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps tables to the terminal width


@pytest.fixture
def scripted(trade_off, monkeypatch):
    """The CLI's meter is the fake kernels' scripted one."""
    monkeypatch.setattr(search, "meter_for", lambda device: trade_off.meter)
    return trade_off


def test_cli_tunes_prints_the_table_stores_and_plots(scripted, tmp_path, capsys):
    png = tmp_path / "pareto.png"
    assert cli.main([*ARGS, "--max-slowdown", "1.6", "--plot", str(png)]) == 0
    out = capsys.readouterr()
    assert "★ chosen" in out.out
    assert "cfg2" in out.out
    assert "stored for config=None" in out.out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert cli.main(["tune", "show"]) == 0
    assert "cfg2" in capsys.readouterr().out


def test_cli_json(scripted, capsys):
    assert cli.main([*ARGS, "--objective", "edp", "--json", "--no-save"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["winner"] == "cfg1"
    assert result["cache_key"] is None
    assert len(result["configs"]) == 4


def test_cli_needs_every_dimension(scripted, capsys):
    assert cli.main(["tune", "fake", "--m", "4"]) == 2
    assert "--n --k" in capsys.readouterr().err


def test_cli_energy_without_meter_says_use_time(trade_off, monkeypatch, capsys, tmp_path):
    clock = ManualClock()
    monkeypatch.setattr(search, "meter_for", lambda device: NullMeter("none here", clock=clock))
    trade_off.meter.spend = lambda seconds, joules: clock.advance(seconds)
    assert cli.main(ARGS) == 2
    assert "--objective time" in capsys.readouterr().err
    png = tmp_path / "time.png"
    assert cli.main([*ARGS, "--objective", "time", "--plot", str(png)]) == 0
    captured = capsys.readouterr()
    assert "no meter" in captured.out
    assert "time only" in captured.err
    assert png.exists()


def test_cli_clear(scripted, capsys):
    assert cli.main(ARGS) == 0
    assert cli.main(["tune", "clear", "--op", "fake"]) == 0
    assert "removed 1 tuning cache entry" in capsys.readouterr().out
    assert cli.main(["tune", "clear"]) == 0
    assert "removed 0" in capsys.readouterr().out


def test_cli_bad_values_are_reported_not_raised(scripted, capsys):
    assert cli.main([*ARGS, "--max-slowdown", "0.5"]) == 2
    assert "max_slowdown" in capsys.readouterr().err


def test_cli_gemm_without_a_table_explains(capsys, monkeypatch):
    # A build without the table (e.g. a CUDA op on a CPU-only build) is simulated here.
    monkeypatch.setattr("lepton._configs.ops_with_configs", list)
    assert (
        cli.main(["tune", "gemm", "--m", "4", "--n", "4", "--k", "4", "--objective", "time"]) == 2
    )
    assert "no configuration table" in capsys.readouterr().err
