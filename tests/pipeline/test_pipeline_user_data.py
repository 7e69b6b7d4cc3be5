"""The pipeline on users' own data: CSV / Parquet files, DataFrames, arrays; and how its report
shows energy (0 J is a reading; windows under the meter's minimum are marked)."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("pandas")

import pandas as pd
from rich.console import Console

from lepton.cli import main
from lepton.energy import Meter
from lepton.pipeline import Candidate, load, run, select
from lepton.pipeline.report import SHORT_MARK, search_table, steps_table


def _frame(rows: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 5))
    label = np.where(x[:, 0] + 0.5 * x[:, 1] > 0, "yes", "no")
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(5)]).assign(label=label)
    frame.loc[3, "f2"] = np.nan  # an empty cell: the clean step imputes it
    return frame


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "mine.csv"
    _frame().to_csv(path, index=False)
    return path


def test_csv_file(csv_file):
    data = load(csv_file, "label")
    assert data.name == "mine.csv"
    assert (data.rows, data.cols) == (400, 5)
    assert data.feature_names == ("f0", "f1", "f2", "f3", "f4")
    assert list(data.classes) == ["no", "yes"]
    assert np.isnan(data.X[3, 2])
    assert load(str(csv_file), "label").rows == 400  # a str path too


def test_parquet_file(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "mine.parquet"
    _frame().to_parquet(path)
    data = load(path, "label")
    np.testing.assert_array_equal(data.X, load(_frame(), "label").X)


@pytest.mark.parametrize(
    ("make", "y", "error", "match"),
    [
        (lambda p: p / "absent.csv", "label", ValueError, "no such file"),
        (lambda p: p / "data.txt", "label", ValueError, r"expected a \.csv"),
        (lambda p: _write(p, _frame()), None, ValueError, "--target COLUMN"),
        (lambda p: _write(p, _frame()), "nope", ValueError, "column 'nope' is not in"),
        (lambda p: _write(p, _frame().assign(city="x")), "label", TypeError, r"\['city'\]"),
        (
            lambda p: _write(p, _frame().assign(label=[None, *["a", "b"] * 199, "a"])),
            "label",
            ValueError,
            "1 rows have no label",
        ),
    ],
)
def test_bad_files(tmp_path, make, y, error, match):
    with pytest.raises(error, match=match):
        load(make(tmp_path), y)


def _write(directory, frame):
    path = directory / "t.csv"
    frame.to_csv(path, index=False)
    return path


def test_cli_on_a_csv_file(csv_file, capsys):
    args = ["--data", str(csv_file), "--target", "label", "--components", "5", "--json"]
    code = main(["pipeline", *args])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["dataset"], out["rows"], out["cols"], out["n_classes"]) == ("mine.csv", 400, 5, 2)
    assert out["metrics"]["accuracy"] > 0.9, out["metrics"]  # the labels are linear in f0, f1
    assert out["energy_units"] is None or out["meter"] != "no meter"


def test_cli_file_errors_are_one_line(tmp_path, capsys):
    bad = _write(tmp_path, _frame().assign(city="x"))
    assert main(["pipeline", "--data", str(bad), "--target", "label"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "feature columns must be numeric" in err
    assert main(["pipeline", "--data", str(bad)]) == 2
    assert "--target: name the label column" in capsys.readouterr().err


def test_python_api_on_a_dataframe_and_on_arrays():
    frame = _frame()
    from_frame = run(frame, "label", search=False)
    from_arrays = run(
        frame.drop(columns="label").to_numpy(), frame["label"].to_numpy(), search=False
    )
    assert from_frame.rows == from_arrays.rows == 400
    assert from_frame.metrics == from_arrays.metrics  # same data, same seed, same model


class FrozenMeter(Meter):
    """A meter whose counter never moves and that needs 1 s windows: every reading is 0 J, from
    a window shorter than its minimum."""

    source = "frozen"
    min_window_s = 1.0

    def _read_joules(self) -> float:
        return 5.0

    def __init__(self) -> None:
        super().__init__(clock=time.perf_counter)


def _text(table) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(table)
    return buffer.getvalue()


def test_zero_joules_are_shown_and_short_windows_marked():
    result = run("synthetic", rows=600, cols=6, meter=FrozenMeter(), selection="accuracy_per_joule")
    assert result.meter == "frozen"
    assert all(s.joules == 0.0 and s.short_windows == 1 for s in result.steps)
    steps = _text(steps_table(result))
    assert "no meter" not in steps
    assert f"0.000{SHORT_MARK}" in steps
    assert "less than the frozen meter's 1 s minimum window" in steps
    search = _text(search_table(result))
    assert "meter read 0 J" in search  # accuracy per joule could not rank by 0 J
    assert result.to_dict()["steps"][0]["short_windows"] == 1


def test_select_does_not_divide_by_a_zero_joule_reading():
    candidates = [
        Candidate(0.1, 1e-3, 4, 0.9, 0.5, 0.0),
        Candidate(0.1, 1e-3, 4, 0.9, 0.25, 1.0),
    ]
    best, used, note = select(candidates, "accuracy_per_joule", 0.0)
    assert (best, used) == (1, "accuracy_per_second")
    assert "read 0 J" in note
    assert "no energy meter" not in note
