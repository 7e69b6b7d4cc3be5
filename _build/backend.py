"""PEP 517 build backend: scikit-build-core, plus two things it cannot know.

1. The CUTLASS headers. The sm_90a int8 GEMM kernels are CUTLASS instantiations; their headers
   come from the ``nvidia-cutlass`` wheel (pinned: kernels are tuned and tested against one
   CUTLASS). It is a build requirement only when sm_90a will be compiled
   (``lepton_cuda_archs.py`` decides, as CMake does), a CUDA compiler is visible the way CMake's
   ``check_language(CUDA)`` looks for one, and no ``LEPTON_CUTLASS_DIR`` points at other headers.

2. A second ``pip install .`` of unchanged sources compiles nothing. pip builds in a new
   isolated environment every time (``/tmp/pip-build-env-XXXX``), which undoes the persistent
   build dir (``build-dir`` in pyproject.toml) twice over:
   - scikit-build-core sees its own package at a new path and clears the CMake cache and
     ``CMakeFiles/`` (where the object files are). Where nothing else differs (same sources,
     interpreter and scikit-build-core version) the backend points the build dir's record at
     the new path first: everything the cache took from the old environment is set again by
     this configure (scikit-build-core's init cache, the two paths below).
   - the pybind11 and CUTLASS headers live inside that environment: every compile command
     would name a new include path. So each is copied once per version into
     ``build/deps/<name>-<version>/`` and the build points there (``pybind11_DIR``,
     ``LEPTON_CUTLASS_DIR``): same versions, same paths, same commands, nothing to rebuild.

Everything else is scikit-build-core's.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import lepton_cuda_archs  # beside this file: backend-path in pyproject.toml puts _build on sys.path
from scikit_build_core import build as _skbuild
from scikit_build_core.build import *  # noqa: F403  (the PEP 517 hooks we do not change)

CUTLASS = "nvidia-cutlass==4.2.0.0"
DEPS_DIR = Path("build") / "deps"  # relative to the source tree, where pip runs the hooks


def _cuda_compiler_visible() -> bool:
    cudacxx = os.environ.get("CUDACXX")
    if cudacxx:
        return Path(cudacxx).exists()
    return shutil.which("nvcc") is not None or Path("/usr/local/cuda/bin/nvcc").exists()


def _needs_cutlass() -> bool:
    if os.environ.get("LEPTON_CUTLASS_DIR") or not _cuda_compiler_visible():
        return False
    try:
        archs, _ = lepton_cuda_archs.resolve(
            os.environ.get("LEPTON_CUDA", "AUTO"), os.environ.get("LEPTON_CUDA_ARCHITECTURES", "")
        )
    except ValueError:
        return False  # CMake reports the bad setting
    return lepton_cuda_archs.builds_sm90a(archs)


def _with_cutlass(requires: list[str]) -> list[str]:
    return [*requires, CUTLASS] if _needs_cutlass() else list(requires)


def get_requires_for_build_wheel(config_settings=None):
    return _with_cutlass(_skbuild.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_editable(config_settings=None):
    return _with_cutlass(_skbuild.get_requires_for_build_editable(config_settings))


# --- stable header paths -------------------------------------------------------------------------


def stable_copy(source: Path, name: str, version: str, parts: tuple[str, ...]) -> Path:
    """``parts`` of ``source`` copied to ``DEPS_DIR/<name>-<version>`` once; the copy's path.

    Copied under a unique name and renamed into place, so two builds at once cannot leave a half
    copy behind; a version already there is used as it is (its files keep their times, so
    nothing that includes them looks changed)."""
    target = (DEPS_DIR / f"{name}-{version}").resolve()
    if target.is_dir():
        return target
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    for part in parts:
        shutil.copytree(source / part, scratch / part)
    try:
        scratch.rename(target)
    except OSError:  # another build put it there first
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _pybind11_dir() -> Path | None:
    try:
        pybind11 = importlib.import_module("pybind11")
    except ImportError:
        return None  # CMake finds it, or says it cannot
    root = Path(pybind11.__file__).resolve().parent
    if not (root / "share" / "cmake" / "pybind11").is_dir():
        return None
    copy = stable_copy(root, "pybind11", pybind11.__version__, ("include", "share"))
    return copy / "share" / "cmake" / "pybind11"


def _cutlass_include() -> Path | None:
    try:
        version = importlib.metadata.version("nvidia-cutlass")
        spec = importlib.util.find_spec("cutlass_library")
    except (importlib.metadata.PackageNotFoundError, ImportError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations))) / "source"
    if not (root / "include" / "cutlass" / "cutlass.h").is_file():
        return None
    return stable_copy(root, "cutlass", version, ("include",)) / "include"


def keep_build_dirs(roots: list[Path]) -> list[Path]:
    """Point each build dir's ``.skbuild-info.json`` under ``roots`` at this environment's
    scikit-build-core when that is all that changed; returns the build dirs it updated."""
    import scikit_build_core

    here = {
        "source_dir": str(Path.cwd().resolve()),
        "skbuild_version": scikit_build_core.__version__,
        "python_executable": sys.executable,
    }
    skbuild_path = str(Path(scikit_build_core.__file__).resolve().parent)  # what it records
    kept = []
    for root in roots:
        for record in sorted(Path(root).glob("*/.skbuild-info.json")):
            try:
                info = json.loads(record.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # scikit-build-core clears an unreadable record itself
            if not isinstance(info, dict) or info.get("skbuild_path") == skbuild_path:
                continue
            if any(info.get(key) != value for key, value in here.items()):
                continue  # a real change: let scikit-build-core start afresh
            info["skbuild_path"] = skbuild_path
            record.write_text(json.dumps(info, indent=2), encoding="utf-8")
            kept.append(record.parent)
    return kept


@contextlib.contextmanager
def _stable_paths(config_settings: dict | None) -> Iterator[dict]:
    settings = dict(config_settings or {})
    build_dir = settings.get("build-dir")
    keep_build_dirs([DEPS_DIR.parent, *([Path(build_dir).parent] if build_dir else [])])
    pybind11_dir = _pybind11_dir()
    if pybind11_dir is not None:
        settings.setdefault("cmake.define.pybind11_DIR", str(pybind11_dir))
    saved = os.environ.get("LEPTON_CUTLASS_DIR")
    cutlass = None if saved or not _needs_cutlass() else _cutlass_include()
    if cutlass is not None:
        os.environ["LEPTON_CUTLASS_DIR"] = str(cutlass)
    try:
        yield settings
    finally:
        if cutlass is not None:
            os.environ.pop("LEPTON_CUTLASS_DIR", None)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    with _stable_paths(config_settings) as settings:
        return _skbuild.build_wheel(wheel_directory, settings, metadata_directory)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    with _stable_paths(config_settings) as settings:
        return _skbuild.build_editable(wheel_directory, settings, metadata_directory)


# Optional hooks scikit-build-core defines only in some configurations (not in its __all__).
for _hook in ("prepare_metadata_for_build_wheel", "prepare_metadata_for_build_editable"):
    if hasattr(_skbuild, _hook):
        globals()[_hook] = getattr(_skbuild, _hook)
