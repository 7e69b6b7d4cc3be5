"""scripts/gpu_session.sh: syntax, phase names, and what lands in $OUT without a GPU build."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gpu_session.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _run(tmp_path, steps):
    env = os.environ | {"OUT": str(tmp_path / "out"), "LEPTON_GPU_STEPS": steps}
    return subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_script_parses():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_an_unknown_phase_is_refused_by_name(tmp_path):
    done = _run(tmp_path, "build,benchh")
    assert done.returncode == 2
    assert "unknown phase 'benchh'" in done.stdout


def test_a_phase_without_the_cuda_build_fails_cleanly_with_a_summary_and_archive(tmp_path):
    from lepton import _core

    if getattr(_core, "cuda_compiled", False):
        pytest.skip("this build has CUDA: the phase would really run")
    done = _run(tmp_path, "tests")
    assert done.returncode == 1
    out = tmp_path / "out"
    summary = (out / "summary.md").read_text()
    assert "## tests: exit 1" in summary
    assert "run the build phase first" in summary
    assert (out / "results-tests.tar.gz").is_file()
    assert len(list(out.iterdir())) <= 8  # the device tool brings back at most 8 files
