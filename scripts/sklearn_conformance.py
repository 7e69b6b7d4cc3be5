"""scikit-learn's own tests, run against lepton's drop-in estimators.

For each suite the test module shipped inside the installed scikit-learn wheel is copied to a
scratch folder, lepton's class is imported after its imports (so it replaces scikit-learn's), a
``conftest.py`` with ``from sklearn.conftest import *`` brings scikit-learn's fixtures
(``global_random_seed``, ``global_dtype``...), and pytest runs it with scikit-learn's defaults
(not this repository's pytest settings). The summary gives passed / failed / skipped and the
pass rate (passed ÷ (passed + failed)); ``--min-pass`` makes it a gate.

    python scripts/sklearn_conformance.py                     # every suite
    python scripts/sklearn_conformance.py pca --min-pass 0.9  # the CI gate of lepton.PCA
    python scripts/sklearn_conformance.py pca --sklearn       # the unmodified module (baseline)

Suites: ``pca`` (decomposition/tests/test_pca.py with ``from lepton import PCA``),
``scalers`` (preprocessing/tests/test_data.py with lepton's ``StandardScaler`` and
``MinMaxScaler``; only the tests that name them run), ``imputer`` (impute/tests/test_impute.py
with lepton's ``SimpleImputer``; only the tests that name it run). lepton must be importable
(installed, or on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Suite:
    module: str  # path inside the sklearn package
    lepton_import: str  # placed after the module's imports: a later import of a name wins
    select: str | None = None  # a pytest -k expression: the tests of the swapped classes


SUITES = {
    "pca": Suite("decomposition/tests/test_pca.py", "from lepton import PCA"),
    "scalers": Suite(
        "preprocessing/tests/test_data.py",
        "from lepton import MinMaxScaler, StandardScaler",
        "standard_scaler or min_max or minmax or scaler_float16 or StandardScaler or MinMaxScaler",
    ),
    "imputer": Suite(
        "impute/tests/test_impute.py",
        "from lepton import SimpleImputer",
        "simple or imputation_mean or imputation_median or imputation_const or SimpleImputer",
    ),
}


def rewrite(name: str, source: str) -> str:
    """``source`` with lepton's classes imported after its own imports (which stay: the
    module's other names still come from scikit-learn)."""
    end = _end_of_imports(source)
    return source[:end] + f"{SUITES[name].lepton_import}  # lepton's drop-in\n" + source[end:]


def _end_of_imports(source: str) -> int:
    tree = ast.parse(source)
    last = max(
        node.end_lineno
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node.col_offset == 0
    )
    lines = source.splitlines(keepends=True)
    return sum(len(line) for line in lines[:last])


def _sklearn_dir() -> Path:
    import sklearn

    return Path(sklearn.__file__).parent


def run_suite(name: str, *, sklearn_only: bool) -> dict:
    suite = SUITES[name]
    source = (_sklearn_dir() / suite.module).read_text()
    if not sklearn_only:
        source = rewrite(name, source)
    with tempfile.TemporaryDirectory(prefix=f"lepton-conformance-{name}-") as tmp:
        folder = Path(tmp)
        test_file = folder / Path(suite.module).name
        test_file.write_text(source)
        (folder / "conftest.py").write_text("from sklearn.conftest import *  # noqa: F403\n")
        (folder / "pytest.ini").write_text("[pytest]\n")  # scikit-learn's defaults, not ours
        report = folder / "report.xml"
        cmd = [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider",
               "--rootdir", str(folder), "-c", str(folder / "pytest.ini"),
               f"--junitxml={report}", "-o", "junit_family=xunit2", "-rN"]  # fmt: skip
        if suite.select:
            cmd += ["-k", suite.select]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        if not report.exists():
            sys.stdout.write(proc.stdout + proc.stderr)
            msg = f"{name}: pytest wrote no report (exit {proc.returncode})"
            raise SystemExit(msg)
        return _summary(name, ET.parse(report), seconds)


def _summary(name: str, tree: ET.ElementTree, seconds: float) -> dict:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    failures: list[tuple[str, str]] = []
    for case in tree.iter("testcase"):
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
                text = (child.get("message") or "").strip().splitlines()
                failures.append((case.get("name", "?"), text[0][:160] if text else child.tag))
            elif child.tag == "skipped":
                outcome = "skipped"
        counts[outcome] += 1
    ran = counts["passed"] + counts["failed"]
    rate = counts["passed"] / ran if ran else 0.0
    return {"suite": name, **counts, "pass_rate": rate, "seconds": seconds, "failures": failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suites", nargs="*", help=f"any of {', '.join(SUITES)} (default: all)")
    parser.add_argument("--min-pass", type=float, default=None,
                        help="exit 1 when a suite's pass rate is below this fraction")  # fmt: skip
    parser.add_argument("--sklearn", action="store_true",
                        help="run the unmodified modules (the baseline)")  # fmt: skip
    parser.add_argument("--list-failures", action="store_true", help="print every failed test")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.suites) - set(SUITES))
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    status = 0
    for name in args.suites or list(SUITES):
        result = run_suite(name, sklearn_only=args.sklearn)
        print(
            f"{name}: {result['passed']} passed, {result['failed']} failed, "
            f"{result['skipped']} skipped; pass rate {result['pass_rate']:.1%} "
            f"({result['seconds']:.0f} s)"
        )
        if args.list_failures:
            for test, message in result["failures"]:
                print(f"  FAILED {test}: {message}")
        if args.min_pass is not None and result["pass_rate"] < args.min_pass:
            print(f"{name}: pass rate below {args.min_pass:.0%}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
