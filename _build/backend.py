"""PEP 517 build backend: scikit-build-core, plus the CUTLASS headers when CUDA will be built.

The sm_90a int8 GEMM kernels are CUTLASS instantiations; their headers come from the
``nvidia-cutlass`` wheel (pinned: kernels are tuned and tested against one CUTLASS). A build
that compiles no CUDA must not need it, so it is a build requirement only when a CUDA compiler
is visible the way CMake's ``check_language(CUDA)`` looks for one, ``LEPTON_CUDA`` is not OFF
and no ``LEPTON_CUTLASS_DIR`` points at other headers. Everything else is scikit-build-core's.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from scikit_build_core import build as _skbuild
from scikit_build_core.build import *  # noqa: F403  (the PEP 517 hooks we do not change)

CUTLASS = "nvidia-cutlass==4.2.0.0"


def _cuda_compiler_visible() -> bool:
    cudacxx = os.environ.get("CUDACXX")
    if cudacxx:
        return Path(cudacxx).exists()
    return shutil.which("nvcc") is not None or Path("/usr/local/cuda/bin/nvcc").exists()


def _needs_cutlass() -> bool:
    if os.environ.get("LEPTON_CUDA", "AUTO").upper() == "OFF":
        return False
    if os.environ.get("LEPTON_CUTLASS_DIR"):
        return False
    return _cuda_compiler_visible()


def _with_cutlass(requires: list[str]) -> list[str]:
    return [*requires, CUTLASS] if _needs_cutlass() else list(requires)


def get_requires_for_build_wheel(config_settings=None):
    return _with_cutlass(_skbuild.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_editable(config_settings=None):
    return _with_cutlass(_skbuild.get_requires_for_build_editable(config_settings))


# Optional hooks scikit-build-core defines only in some configurations (not in its __all__).
for _hook in ("prepare_metadata_for_build_wheel", "prepare_metadata_for_build_editable"):
    if hasattr(_skbuild, _hook):
        globals()[_hook] = getattr(_skbuild, _hook)
