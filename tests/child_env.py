"""The environment for a test's child interpreter: it imports the same lepton as the test run.

The suite runs against an installed wheel (CI: `pip install ".[test]"`, where `src/lepton` has no
compiled `_core`) or a source tree with `_core` built into it (`PYTHONPATH=src`). A child pointed
at `src/` would import the uncompiled copy in the first case, so it is pointed at the directory
holding the `lepton` this process imported.
"""

from __future__ import annotations

import os
from pathlib import Path

import lepton

LEPTON_PARENT = str(Path(lepton.__file__).resolve().parents[1])
TESTS = str(Path(__file__).resolve().parent)


def child_env(*extra_paths: str, **variables: str) -> dict[str, str]:
    """os.environ with PYTHONPATH = the imported lepton's parent, *extra_paths, the old value."""
    env = {**os.environ, **variables}
    paths = [LEPTON_PARENT, *extra_paths, env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env
