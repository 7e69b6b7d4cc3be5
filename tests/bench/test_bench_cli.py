"""`python -m bench` / `lepton bench`: JSON output, failures, charts named like their JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from child_env import child_env
from lepton.bench import cli, report
from lepton.bench.case import Case, Impl
from lepton.bench.suites import SUITES

ROOT = Path(__file__).resolve().parents[2]


def _suite(name: str, *, fail: bool = False) -> types.ModuleType:
    module = types.ModuleType(f"fake_suite_{name}")

    def cases(size: str) -> list[Case]:
        if fail:
            raise RuntimeError(f"{name} broke")
        impls = [Impl("lepton", lambda: None, is_lepton=True), Impl("peer", lambda: sum(range(50)))]
        return [Case(name, f"{name} case", {}, impls, work_ops=1e3)]

    module.cases = cases
    return module


@pytest.fixture
def fake_suites(monkeypatch):
    for name, fail in (("ok1", False), ("broken", True), ("ok2", False)):
        module = _suite(name, fail=fail)
        monkeypatch.setitem(sys.modules, module.__name__, module)
        monkeypatch.setitem(SUITES, name, module.__name__)


FAST = ["--rounds", "1", "--min-window", "0", "--settle", "0"]


def test_json_is_one_document_and_files_share_a_stamp(fake_suites, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert cli.main(["ok1", *FAST, "--out", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)  # nothing else on stdout
    suite = doc["suites"]["ok1"]
    assert suite["status"] == "ok"
    joules = suite["cases"][0]["results"]["lepton"]["joules_median"]
    assert (joules is None) == (doc["machine"]["meter"] == "none")
    assert Path(suite["chart"]).stem == Path(suite["json"]).stem
    assert Path(suite["chart"]).read_bytes()[:4] == b"\x89PNG"
    assert doc["failed"] == []


def test_a_failing_suite_exits_1_and_the_others_still_run(fake_suites, tmp_path, capsys):
    code = cli.main(["ok1", "broken", "ok2", *FAST, "--out", str(tmp_path), "--no-plot"])
    assert code == 1
    captured = capsys.readouterr()
    assert "## ok1" in captured.out
    assert "## ok2" in captured.out
    assert "suite broken failed: RuntimeError: broken broke" in captured.err
    assert len(list(tmp_path.glob("*.json"))) == 2


def test_unknown_suite_and_bad_options_exit_2_with_one_line(capsys):
    assert cli.main(["nosuch"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unknown suite(s) ['nosuch']" in err
    with pytest.raises(SystemExit) as stop:
        cli.main(["--rounds", "0"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--rounds: expected an int >= 1" in err


def test_replot_redraws_a_committed_result_beside_it(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    committed = sorted((ROOT / "bench" / "results").glob("gemm-*.json"))[0]
    copy = tmp_path / committed.name
    copy.write_text(committed.read_text())
    assert cli.main(["--replot", str(copy)]) == 0
    png = copy.with_suffix(".png")
    assert f"chart: {png}" in capsys.readouterr().out
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["--replot", str(tmp_path / "missing.json")]) == 2


def _chart_width(path: Path) -> int:
    from matplotlib.image import imread

    return imread(path).shape[1]


def test_charts_put_joules_beside_time_when_there_is_a_meter(tmp_path):
    pytest.importorskip("matplotlib")

    def result(energy):
        ratios = {
            "lepton vs numpy": {"speedup": 208.0, "energy_ratio": energy},
            "lepton vs numba": {"speedup": 0.8, "energy_ratio": energy and energy / 100},
        }
        return [{"case": "c", "ratios": ratios}]

    time_only = report.plot(tmp_path / "a.png", "s", result(None))
    both = report.plot(tmp_path / "b.png", "s", result(150.0))
    assert _chart_width(both) > 1.8 * _chart_width(time_only)
    assert report.plot(tmp_path / "c.png", "s", [{"case": "c", "ratios": {}}]) is None


def test_python_m_bench_runs_from_a_checkout():
    env = child_env(str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    for option in ("--json", "--grid-intensity", "--price", "--replot"):
        assert option in done.stdout
