"""The `lepton` command line's conventions: --version, --json everywhere, one-line errors with
exit status 2, subcommands that say what to install when their dependency is missing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from child_env import child_env
from lepton import _cliutil, cli

ROOT = Path(__file__).resolve().parents[1]


def _lepton(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`lepton ARGS` in a fresh interpreter, as a user runs it."""
    full_env = child_env(**(env or {}))
    full_env.pop(_cliutil.DEBUG_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "lepton.cli", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_version():
    import lepton

    done = _lepton("--version")
    assert done.returncode == 0
    assert done.stdout.strip().startswith(f"lepton {lepton.__version__}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tune", "clear", "--op", "bogus"], "op: expected one of"),
        (["tune", "bogus"], "invalid choice: 'bogus'"),
        (["tune", "show", "--op", "int8_gemm"], "--op applies to 'clear' only"),
        (["tune", "int8_gemm", "--m", "8"], "int8_gemm needs --n --k"),
        (["tune", "int8_gemm", "--m", "8", "--n", "8", "--k", "8", "--price", "-1"], "--price"),
        (["bench", "nosuch"], "unknown suite(s) ['nosuch']"),
        (["bench", "--rounds", "0"], "--rounds: expected an int >= 1"),
        (["pipeline", "--rows", "-5"], "rows: expected an int >= 10"),
        (["pipeline", "--data", "missing.csv", "--target", "y"], "no such file 'missing.csv'"),
        (["pipeline", "--data", "digits", "--target", "y"], "--target: applies to a --data file"),
        (["info", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_traceback(args, message, tmp_path):
    done = _lepton(*args, env={"LEPTON_CACHE_DIR": str(tmp_path)})
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_bad_environment_setting_is_one_line_naming_it(tmp_path):
    done = _lepton(
        "tune", "int8_gemm", "--m", "8", "--n", "8", "--k", "8",
        env={"LEPTON_GRID_INTENSITY": "lots", "LEPTON_CACHE_DIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "LEPTON_GRID_INTENSITY: expected a number >= 0, got 'lots'" in done.stderr


def test_debug_flag_shows_the_traceback(tmp_path):
    env = child_env(LEPTON_CACHE_DIR=str(tmp_path))
    env[_cliutil.DEBUG_ENV] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "lepton.cli", "tune", "clear", "--op", "bogus"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" in done.stderr


def _subcommands() -> list[str]:
    return list(cli._commands())


@pytest.mark.parametrize("name", ["info", "tune", "bench", "pipeline"])
def test_every_subcommand_takes_json(name, capsys):
    assert name in _subcommands()
    with pytest.raises(SystemExit) as stop:
        cli.main([name, "--help"])
    assert stop.value.code == 0
    assert "--json" in capsys.readouterr().out


def test_tune_show_and_clear_in_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path))
    assert cli.main(["tune", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown == {"path": str(tmp_path / "tuning.json"), "entries": {}, "unusable": {}}
    assert cli.main(["tune", "clear", "--op", "gemm", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": 0, "op": "gemm"}


def test_a_subcommand_whose_dependency_is_missing_stays_and_says_what_to_install(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "needs_pandas_cmd.py").write_text(
        "import pandas\nCOMMAND = ('frames', ('uses pandas', lambda p: None, lambda a: 0))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    monkeypatch.setitem(cli._MODULES, "frames", "needs_pandas_cmd")
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    listed = " ".join(capsys.readouterr().out.split())
    assert "frames (unavailable:" in listed
    assert "pip install 'lepton-kernels[data]'" in listed
    assert cli.main(["frames", "--anything", "goes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("lepton frames: error: unavailable:")
    assert "pip install 'lepton-kernels[data]'" in err


@pytest.mark.parametrize(
    ("module", "hint"),
    [
        ("matplotlib.pyplot", "pip install 'lepton-kernels[bench]'"),
        ("pyarrow", "pip install 'lepton-kernels[data]'"),
        ("distributed", "pip install 'lepton-kernels[dask]'"),
        ("cupy", "'lepton-kernels[cuda12]' or 'lepton-kernels[cuda13]'"),
        ("torch", "pip install 'lepton-kernels[torch]'"),
        ("lepton._core", "reinstall lepton-kernels"),
        ("somethingelse", "pip install somethingelse"),
        (None, "reinstall lepton-kernels"),
    ],
)
def test_install_hints(module, hint):
    assert hint in _cliutil.install_hint(module)


def test_tune_reports_the_winners_energy_in_reported_units(monkeypatch):
    from argparse import Namespace
    from types import SimpleNamespace

    from lepton.tune import cli as tune_cli

    monkeypatch.delenv("LEPTON_ENERGY_PRICE", raising=False)
    args = Namespace(grid_intensity=400.0, price=None, rate=10.0)
    winner = SimpleNamespace(winner=SimpleNamespace(name="cfg7", joules=0.0036))
    lines = tune_cli._energy_lines(winner, args)
    assert lines == [
        "winner cfg7, per 1M calls (extrapolated): 3600 J, 1 Wh, 0.4 gCO2e at 400 g/kWh",
        "winner cfg7, per day at 10 calls/s (extrapolated): 3110 J, 0.864 Wh, 0.3456 gCO2e at "
        "400 g/kWh",
    ]
    no_meter = SimpleNamespace(winner=SimpleNamespace(name="cfg7", joules=None))
    assert tune_cli._energy_lines(no_meter, args) == []


def test_tune_json_has_energy_units_only_with_a_meter(tmp_path):
    done = _lepton(
        "tune", "int8_gemm", "--m", "8", "--n", "8", "--k", "8", "--objective", "time",
        "--budget", "1", "--no-save", "--json", env={"LEPTON_CACHE_DIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["op"] == "int8_gemm"
    winner = next(c for c in out["configs"] if c["name"] == out["winner"])
    # units lines exactly when the winner has joules (a machine with a meter); none without
    assert (out["energy_units"] == []) == (winner["joules"] is None)


def test_import_errors_name_what_to_install_once():
    plain = ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow")
    assert _cliutil.import_error_text(plain) == (
        "No module named 'pyarrow' (pip install 'lepton-kernels[data]')"
    )
    said = ImportError("reading x.parquet needs pyarrow (pip install 'lepton-kernels[data]')")
    said.name = "pyarrow"
    assert _cliutil.import_error_text(said) == str(said)
    assert _cliutil.import_error_text(ImportError("cannot import name 'x'")) == (
        "cannot import name 'x'"
    )
