"""`lepton pipeline` on the command line."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sklearn")

from lepton.cli import main


def test_json_output_parses(capsys):
    code = main(["pipeline", "--data", "synthetic", "--rows", "1500", "--cols", "8", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows"] == 1500
    assert out["cols"] == 8
    assert out["steps"][0]["name"] == "load"
    assert out["search"]["candidates"]
    assert out["plot"] is None


def test_table_and_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    png = tmp_path / "steps.png"
    code = main(["pipeline", "--data", "breast_cancer", "--no-search", "--plot", str(png)])
    assert code == 0
    out = capsys.readouterr().out
    for word in ("clean", "normalise", "reduce", "train", "evaluate", "share", "test metrics"):
        assert word in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_arguments_exit_with_a_message(capsys):
    assert main(["pipeline", "--data", "digits", "--cols", "5"]) == 2
    assert "cols: applies to synthetic data only" in capsys.readouterr().err
