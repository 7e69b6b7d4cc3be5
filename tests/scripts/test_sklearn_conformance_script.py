"""scripts/sklearn_conformance.py: it finds scikit-learn's test modules, swaps lepton's classes
in after their imports, and counts a pytest report. (The suites themselves run in CI; they
take minutes.)"""

from __future__ import annotations

import ast
import importlib.util
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("sklearn_conformance", ROOT / "scripts" /
                                                  "sklearn_conformance.py")  # fmt: skip
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.mark.parametrize("suite", ["pca", "scalers", "imputer"])
def test_rewrite_imports_lepton_after_the_modules_imports(script, suite):
    source = (script._sklearn_dir() / script.SUITES[suite].module).read_text()
    rewritten = script.rewrite(suite, source)
    tree = ast.parse(rewritten)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    last = imports[-1]
    assert isinstance(last, ast.ImportFrom)
    assert last.module == "lepton"
    lepton_names = {alias.name for alias in last.names}
    assert lepton_names == set(script.SUITES[suite].lepton_import.split("import ")[1].split(", "))
    # nothing but the one line changed
    assert rewritten.replace(f"{script.SUITES[suite].lepton_import}  # lepton's drop-in\n", "") \
        == source  # fmt: skip


def test_summary_counts_a_junit_report(script):
    report = ET.ElementTree(ET.fromstring(
        "<testsuites><testsuite>"
        "<testcase name='a'/><testcase name='b'><failure message='boom'/></testcase>"
        "<testcase name='c'><skipped/></testcase><testcase name='d'><error message='x'/>"
        "</testcase></testsuite></testsuites>"
    ))  # fmt: skip
    result = script._summary("pca", report, 1.0)
    assert (result["passed"], result["failed"], result["skipped"]) == (1, 2, 1)
    assert result["pass_rate"] == pytest.approx(1 / 3)
    assert result["failures"] == [("b", "boom"), ("d", "x")]


def test_unknown_suite_is_refused(script, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.main(["pcaa"])
    assert exit_info.value.code == 2
    assert "unknown suite(s) pcaa" in capsys.readouterr().err
