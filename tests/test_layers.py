"""The layering contracts in pyproject.toml (`lint-imports`, also run by .ci/run) hold for the
package, and they are not vacuous: a loop of a kind they forbid, planted in a copy, breaks one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lepton

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(lepton.__file__).resolve().parent


def _lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env={"PYTHONPATH": str(package_parent), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(
        PACKAGE, tmp_path / "lepton", ignore=shutil.ignore_patterns("*.so", "__pycache__")
    )
    return tmp_path


def test_the_package_keeps_its_layers(tmp_path):
    done = _lint_imports(_copy(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        # each of the loops the layering issue found, planted again
        ("dask/_estimators.py", "import lepton.estimators.pca", "Layers"),
        ("energy/devices.py", "import lepton.energy.nvml", "No import loops"),
        ("ops/_tuned.py", "import lepton.tune.cache", "never reaches the tuner"),
        ("energy/base.py", "import lepton.ops", "Layers"),
        ("ops/gemm.py", "import lepton.bench", "never reaches the tuner"),
        ("estimators/pca.py", "import rich", "terminal UI"),
    ],
)
def test_a_planted_violation_breaks_a_contract(tmp_path, module, planted, contract):
    parent = _copy(tmp_path)
    target = parent / "lepton" / module
    target.write_text(target.read_text() + f"\n\ndef _planted():\n    {planted}\n")
    done = _lint_imports(parent)
    assert done.returncode == 1, done.stdout + done.stderr
    broken = [line for line in done.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), done.stdout
