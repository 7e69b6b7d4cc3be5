"""The build's decisions that need no compiler: which CUDA architectures (LEPTON_CUDA=AUTO/ON/
OFF, LEPTON_CUDA_ARCHITECTURES) and the stable header copies that let a second `pip install .`
reuse the build dir."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, file: str | None = None) -> ModuleType:
    """A module of _build/ by its file (the build backend's directory is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "_build" / f"{file or name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the backend imports lepton_cuda_archs by this name
    spec.loader.exec_module(module)
    return module


archs = _load("lepton_cuda_archs")


@pytest.mark.parametrize(
    ("gpus", "expected"),
    [
        ([(9, 0)], "90a-real"),  # Hopper: the wgmma kernels need 90a, which `native` leaves out
        ([(8, 0), (8, 6), (8, 0)], "80-real;86-real"),
        ([(8, 9), (9, 0)], "89-real;90a-real"),
        ([(10, 0)], "100-real"),
        ([(7, 5), (8, 0)], "80-real"),  # Turing has no int8 m16n8k32 mma: left out
    ],
)
def test_auto_builds_for_the_gpus_it_sees(gpus, expected):
    found, why = archs.resolve("AUTO", "", gpus=gpus)
    assert found == expected
    assert "LEPTON_CUDA=AUTO" in why


def test_auto_without_a_usable_gpu_builds_no_cuda():
    assert archs.resolve("auto", "", gpus=[])[0] == ""
    assert "no GPU visible: CPU only" in archs.resolve("AUTO", "", gpus=[])[1]
    assert archs.resolve("AUTO", "", gpus=[(7, 0)]) == (
        "",
        "LEPTON_CUDA=AUTO: GPUs sm_70 predate sm_80: CPU only",
    )


def test_on_off_and_explicit_architectures():
    assert archs.resolve("ON", "", gpus=[]) == (
        archs.WHEEL_ARCHS,
        f"LEPTON_CUDA=ON: the wheel's architectures {archs.WHEEL_ARCHS}",
    )
    assert archs.resolve("ON", " 90a-real ", gpus=[])[0] == "90a-real"  # CI
    assert archs.resolve("AUTO", "86-real", gpus=[])[0] == "86-real"  # explicit: no detection
    assert archs.resolve("OFF", "90a-real", gpus=[(9, 0)])[0] == ""
    with pytest.raises(ValueError, match="LEPTON_CUDA must be one of AUTO, ON, OFF"):
        archs.resolve("maybe")


def test_nvidia_smi_output_parses():
    assert archs.parse_compute_caps("9.0\n8.6\n\n[N/A]\n") == [(9, 0), (8, 6)]


def test_detection_runs_here_without_failing():
    # this machine may or may not have a GPU; the answer must be a list of capabilities
    found = archs.visible_gpus()
    assert all(isinstance(a, int) and isinstance(b, int) for a, b in found)


def test_the_cmake_entry_point_prints_two_lines():
    import subprocess

    done = subprocess.run(
        [sys.executable, str(ROOT / "_build" / "lepton_cuda_archs.py"), "ON", "80-real;90a-real"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.splitlines() == [
        "80-real,90a-real",
        "LEPTON_CUDA_ARCHITECTURES=80-real,90a-real",
    ]
    bad = subprocess.run(
        [sys.executable, str(ROOT / "_build" / "lepton_cuda_archs.py"), "sometimes"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "LEPTON_CUDA must be one of" in bad.stderr


@pytest.fixture
def backend(monkeypatch, tmp_path):
    pytest.importorskip("scikit_build_core")
    module = _load("lepton_build_backend", "backend")
    monkeypatch.chdir(tmp_path)  # build/deps is relative to where pip runs the hooks
    return module


def test_cutlass_is_required_only_when_sm90a_is_built(backend, monkeypatch):
    monkeypatch.setattr(backend, "_cuda_compiler_visible", lambda: True)
    monkeypatch.delenv("LEPTON_CUTLASS_DIR", raising=False)
    monkeypatch.setattr(archs, "visible_gpus", lambda: [(8, 0)])
    for mode, explicit, needed in [
        ("AUTO", "", False),  # an A100: mma.sync only
        ("ON", "", True),  # the wheel's set has 90a
        ("ON", "80-real", False),
        ("AUTO", "90a-real", True),
        ("OFF", "90a-real", False),
    ]:
        monkeypatch.setenv("LEPTON_CUDA", mode)
        monkeypatch.setenv("LEPTON_CUDA_ARCHITECTURES", explicit)
        assert backend._needs_cutlass() is needed, (mode, explicit)
    monkeypatch.setattr(archs, "visible_gpus", lambda: [(9, 0)])
    monkeypatch.setenv("LEPTON_CUDA", "AUTO")
    monkeypatch.setenv("LEPTON_CUDA_ARCHITECTURES", "")
    assert backend._needs_cutlass()
    monkeypatch.setenv("LEPTON_CUTLASS_DIR", "/somewhere")
    assert not backend._needs_cutlass()
    monkeypatch.delenv("LEPTON_CUTLASS_DIR")
    monkeypatch.setattr(backend, "_cuda_compiler_visible", lambda: False)
    assert not backend._needs_cutlass()


def test_headers_are_copied_once_per_version_to_a_stable_path(backend, tmp_path):
    first_env = tmp_path / "pip-build-env-1" / "pkg"
    (first_env / "include" / "pkg").mkdir(parents=True)
    (first_env / "include" / "pkg" / "pkg.h").write_text("#define V 1\n")
    (first_env / "share").mkdir()
    (first_env / "other").mkdir()
    copy = backend.stable_copy(first_env, "pkg", "1.0", ("include", "share"))
    assert copy == (tmp_path / "build" / "deps" / "pkg-1.0").resolve()
    header = copy / "include" / "pkg" / "pkg.h"
    assert header.read_text() == "#define V 1\n"
    assert not (copy / "other").exists()
    stamp = header.stat().st_mtime_ns
    second_env = tmp_path / "pip-build-env-2" / "pkg"  # the next `pip install .`: a new env
    (second_env / "include" / "pkg").mkdir(parents=True)
    (second_env / "include" / "pkg" / "pkg.h").write_text("#define V 1\n")
    (second_env / "share").mkdir()
    again = backend.stable_copy(second_env, "pkg", "1.0", ("include", "share"))
    assert again == copy
    assert header.stat().st_mtime_ns == stamp  # untouched: nothing that includes it rebuilds
    newer = backend.stable_copy(second_env, "pkg", "1.1", ("include",))
    assert newer.name == "pkg-1.1"
    assert [p.name for p in copy.parent.iterdir() if p.name.startswith(".")] == []


def test_build_points_cmake_at_the_stable_pybind11(backend):
    pytest.importorskip("pybind11")
    with backend._stable_paths({"cmake.define.OTHER": "x"}) as settings:
        path = Path(settings["cmake.define.pybind11_DIR"])
    assert settings["cmake.define.OTHER"] == "x"
    assert (path / "pybind11Config.cmake").is_file()
    assert (path.parents[2] / "include" / "pybind11" / "pybind11.h").is_file()
    assert "build/deps/pybind11-" in path.as_posix()
    with backend._stable_paths({"cmake.define.pybind11_DIR": "/mine"}) as settings:
        assert settings["cmake.define.pybind11_DIR"] == "/mine"  # the user's choice wins


def test_a_new_isolated_env_alone_does_not_clear_the_build_dir(backend, tmp_path):
    import json

    import scikit_build_core

    current = str(Path(scikit_build_core.__file__).resolve().parent)

    def record(name, **changes):
        info = {
            "source_dir": str(tmp_path.resolve()),
            "build_dir": str(tmp_path / "build" / name),
            "cmake_path": "/usr/bin/cmake",
            "skbuild_path": "/tmp/pip-build-env-old/site-packages/scikit_build_core",
            "skbuild_version": scikit_build_core.__version__,
            "python_executable": sys.executable,
        } | changes
        path = tmp_path / "build" / name / ".skbuild-info.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(info))
        return path

    same = record("cp-same")
    other_python = record("cp-python", python_executable="/other/python")
    other_version = record("cp-version", skbuild_version="0.0.1")
    other_source = record("cp-source", source_dir="/elsewhere")
    (tmp_path / "build" / "cp-broken").mkdir()
    (tmp_path / "build" / "cp-broken" / ".skbuild-info.json").write_text("{")
    kept = backend.keep_build_dirs([Path("build")])
    assert kept == [Path("build") / "cp-same"]
    assert json.loads(same.read_text())["skbuild_path"] == current
    for untouched in (other_python, other_version, other_source):
        assert json.loads(untouched.read_text())["skbuild_path"].startswith(
            "/tmp/pip-build-env-old"
        )
    assert backend.keep_build_dirs([Path("build")]) == []  # already current
