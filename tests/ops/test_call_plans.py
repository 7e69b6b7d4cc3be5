"""Resolve once, launch many: a repeated op call finds its plan and launches, touching no file,
no NVML and never waiting for the device; its results are those of the core called directly.

The CUDA path runs on the host here: ``tests/fake_cupy.py`` stands in for cupy (host buffers)
and records ``_core``'s CUDA entry points instead of launching kernels.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import fake_cupy
import lepton
from child_env import child_env
from lepton import _core, ops
from lepton.ops import _plan, gemm, preprocess_stats
from lepton.tune.cache import TuningCache, key_parts, make_key

TESTS = Path(__file__).resolve().parents[1]


class Touches:
    """Counts the files a block opens or stats and the NVML calls it makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: Counter = Counter()
        self.active = False
        real_stat = os.stat

        def stat(path, *args, **kwargs):
            if self.active:
                self.counts[f"stat {Path(str(path)).name}"] += 1
            return real_stat(path, *args, **kwargs)

        monkeypatch.setattr(os, "stat", stat)
        sys.addaudithook(self._audit)  # hooks stay for the process: inactive outside a block
        try:
            import pynvml
        except ImportError:
            return
        for name in [n for n in dir(pynvml) if n.startswith("nvml")]:
            fn = getattr(pynvml, name)
            if callable(fn):
                monkeypatch.setattr(pynvml, name, self._counted(name, fn))

    def _counted(self, name, fn):
        def call(*args, **kwargs):
            if self.active:
                self.counts[f"NVML {name}"] += 1
            return fn(*args, **kwargs)

        return call

    def _audit(self, event, args):
        if self.active and event == "open":
            self.counts[f"open {Path(str(args[0])).name}"] += 1

    def __enter__(self) -> Counter:
        self.counts.clear()
        self.active = True
        return self.counts

    def __exit__(self, *exc) -> None:
        self.active = False


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """The entries these tests store stay theirs."""
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def touches(monkeypatch):
    return Touches(monkeypatch)


def _store(op, shape, dtype, device, config, objective="energy"):
    parts = key_parts(op, shape, dtype, device, objective)
    TuningCache().put(make_key(parts), {"config": config, "op": op, "key": parts})


def _recording(monkeypatch, module, name):
    """Replace ``module.name`` by a wrapper recording the config id (its last argument)."""
    real = getattr(module, name)
    ran = []
    monkeypatch.setattr(module, name, lambda *args: ran.append(args[-1]) or real(*args))
    return ran


# --- the CPU path -------------------------------------------------------------------------------


def test_repeated_cpu_calls_touch_no_file(touches, monkeypatch):
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (64, 64), dtype=np.int8)
    packed = ops.pack_weights(a, np.ones(64, np.float32))
    x = rng.standard_normal((8, 64)).astype(np.float32)
    _store("int8_gemm", (64, 64, 64), "int8", "cpu", 1)  # a file to find: a lookup reads it
    calls = {
        "int8_gemm": lambda: ops.int8_gemm(a, a),
        "linear_int8": lambda: ops.linear_int8(x, packed),
        "preprocess": lambda: ops.preprocess(x),
    }
    for name, call in calls.items():
        with touches as first:
            expected = call()
        assert first["stat tuning.json"] == 1, name  # one lookup per signature
        with touches as repeated:
            for _ in range(5):
                result = call()
        assert repeated == {}, name
        np.testing.assert_array_equal(result, expected)


def test_every_cpu_gemm_config_runs_as_the_core_called_directly(monkeypatch):
    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (33, 1040), dtype=np.int8)  # K long enough for split-K
    b = rng.integers(-128, 128, (47, 1040), dtype=np.int8)
    scale = rng.random(47, dtype=np.float32)
    x = rng.standard_normal((5, 1040)).astype(np.float32)
    packed = ops.pack_weights(b, scale)
    for config in [c["id"] for c in ops.config_table("int8_gemm")]:
        direct = _core.int8_gemm(a, b, None, None, None, None, "int32", 1.0, config)
        linear = _core.linear_int8(x, packed._handle, "relu", "float32", 1.0, config)[0]
        for _ in range(2):  # the first call plans, the second finds the plan
            np.testing.assert_array_equal(ops.int8_gemm(a, b, config=config), direct)
            np.testing.assert_array_equal(
                ops.linear_int8(x, packed, activation="relu", config=config), linear
            )
        # config=None with this id tuned: the plan runs it, bit for bit
        _plan.forget_plans()
        ran = _recording(monkeypatch, gemm._core, "int8_gemm")
        monkeypatch.setattr(gemm, "tuned_config", lambda *args, c=config: c)
        for _ in range(2):
            np.testing.assert_array_equal(ops.int8_gemm(a, b), direct)
        assert ran == [config, config]
        monkeypatch.undo()


def test_every_cpu_preprocess_config_runs_as_the_core_called_directly(monkeypatch):
    x = np.random.default_rng(2).normal(size=(999, 7)).astype(np.float32)
    for config in [c["id"] for c in ops.config_table("preprocess")]:
        direct = _core.prep_column_stats(x, config)
        for _ in range(2):
            stats = ops.column_stats(x, config=config)
            np.testing.assert_array_equal(stats.mean, direct[1])
        _plan.forget_plans()
        monkeypatch.setattr(preprocess_stats, "tuned_config", lambda *args, c=config: c)
        for _ in range(2):
            np.testing.assert_array_equal(ops.column_stats(x).m2, direct[2])
        monkeypatch.undo()


def test_cpu_plans_follow_the_isa_cap_and_thread_count(monkeypatch):
    a = np.ones((8, 32), np.int8)
    asked = []
    monkeypatch.setattr(gemm, "tuned_config", lambda *args: asked.append(args) or None)
    ops.int8_gemm(a, a)
    ops.int8_gemm(a, a)
    assert len(asked) == 1
    threads = lepton.get_num_threads()
    lepton.set_num_threads(threads + 1)
    try:
        ops.int8_gemm(a, a)  # another thread count: another plan, another lookup
    finally:
        lepton.set_num_threads(threads)
    assert len(asked) == 2
    if lepton.get_isa() != "scalar":
        with lepton.isa("scalar"):
            ops.int8_gemm(a, a)
        assert len(asked) == 3


# --- the CUDA path, on the fake library --------------------------------------------------------


@pytest.fixture
def fake(monkeypatch):
    lib, stub = fake_cupy.install(monkeypatch)
    from lepton import _device

    _device.gpu_identity.cache_clear()  # the fake board is a new device to this process
    yield lib, stub
    _device.gpu_identity.cache_clear()


def test_repeated_cuda_calls_touch_no_file_no_nvml_and_never_sync(fake, touches):
    lib, stub = fake
    rng = np.random.default_rng(3)
    a = lib.wrap(rng.integers(-128, 128, (64, 64), dtype=np.int8))
    w = lib.wrap(rng.integers(-127, 128, (96, 64), dtype=np.int8))
    packed = ops.pack_weights(w, lib.wrap(np.ones(96, np.float32)))
    x = lib.wrap(rng.standard_normal((32, 64)).astype(np.float32))
    _store("int8_gemm", (64, 64, 64), "int8", "cuda:0", 1)
    calls = {
        "int8_gemm": lambda: ops.int8_gemm(a, a),
        "int8_gemm config=6": lambda: ops.int8_gemm(a, a, config=6),
        "linear_int8": lambda: ops.linear_int8(x, packed, activation="relu"),
    }
    for name, call in calls.items():
        stub.calls.clear()
        with touches:
            call()
        assert stub.calls["gemm_cuda_resolve_config"] == 1, name
        assert stub.calls["gemm_cuda_workspace_elems"] == 1, name
        first = stub.launches[-1]
        stub.calls.clear()
        lib.counts.clear()
        with touches as repeated:
            for _ in range(5):
                call()
        assert repeated == {}, name  # no file stat or read, no NVML call
        assert set(stub.calls) <= {"int8_gemm_cuda", "quantize_rows_cuda"}, name
        assert stub.calls["int8_gemm_cuda"] == 5, name
        assert lib.counts["sync"] == 0  # the fake raises on any synchronisation anyway
        assert stub.launches[-5:] == [first] * 5, name  # same config and workspace each time
    assert stub.launches[0]["config"] == 1  # config=None ran the tuned id


def test_cuda_plans_give_each_config_its_own_resolution(fake):
    lib, stub = fake
    a = lib.wrap(np.ones((64, 1024), np.int8))
    table = ops.config_table("int8_gemm_cuda")
    for c in table:
        ops.int8_gemm(a, a, config=c["id"])
        ops.int8_gemm(a, a, config=c["id"])
        assert stub.launches[-1] == stub.launches[-2]
        assert stub.launches[-1]["config"] == c["id"]
        split_k = c["split_k"]
        assert stub.launches[-1]["workspace_elems"] == (split_k * 64 * 64 if split_k > 1 else 0)
    assert stub.calls["gemm_cuda_resolve_config"] == len(table)  # once per signature


def test_a_tuned_cuda_id_this_call_cannot_use_falls_back_once(fake, monkeypatch):
    lib, stub = fake
    a = lib.wrap(np.ones((64, 64), np.int8))
    refuse = stub.entry_points()["gemm_cuda_resolve_config"]

    def resolve(config, *args):
        if config == 1:
            stub.calls["refused"] += 1
            raise ValueError("config: int8_gemm_cuda config 1 ... cannot run this call")
        return refuse(config, *args)

    monkeypatch.setattr(_core, "gemm_cuda_resolve_config", resolve)
    _store("int8_gemm", (64, 64, 64), "int8", "cuda:0", 1)
    for _ in range(3):
        ops.int8_gemm(a, a)
    assert stub.calls["refused"] == 1
    heuristic = int(_core.gemm_cuda_heuristic(64, 64, 64, 132, 227 * 1024, 0, 90))
    assert [launch["config"] for launch in stub.launches] == [heuristic] * 3


# --- what the first call imports ----------------------------------------------------------------


def _run(code: str, cache_dir: Path) -> str:
    env = child_env(str(TESTS), LEPTON_CACHE_DIR=str(cache_dir))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


_CHECK_MODULES = """
    heavy = ("lepton.tune", "lepton.energy", "rich")
    loaded = sorted(m for m in sys.modules if m.startswith(heavy))
    assert not loaded, loaded
    print("ok")
"""


def test_the_first_cpu_call_imports_neither_the_tuner_nor_rich(tmp_path):
    _store("int8_gemm", (8, 8, 32), "int8", "cpu", 1)  # the lookup has a file to parse
    (tmp_path / "c").mkdir()
    src = Path(os.environ["LEPTON_CACHE_DIR"]) / "tuning.json"
    (tmp_path / "c" / "tuning.json").write_bytes(src.read_bytes())
    code = """
    import sys
    import numpy as np
    from lepton import ops
    a = np.ones((8, 32), np.int8)
    ops.int8_gemm(a, a)
    ops.preprocess(np.ones((10, 3), np.float32))
    """
    assert _run(code + _CHECK_MODULES, tmp_path / "c").strip() == "ok"


def test_the_first_cuda_call_imports_neither_the_tuner_nor_rich(tmp_path):
    code = """
    import sys
    import numpy as np
    import fake_cupy
    lib, stub = fake_cupy.install()
    from lepton import ops
    a = lib.wrap(np.ones((8, 32), np.int8))
    ops.int8_gemm(a, a)
    assert stub.calls["int8_gemm_cuda"] == 1
    """
    assert _run(code + _CHECK_MODULES, tmp_path).strip() == "ok"


# --- on a GPU -----------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("lib", ["cupy", "torch"])
def test_every_cuda_config_gives_the_same_bits_on_repeated_and_planned_calls(lib, monkeypatch):
    from _cuda_libs import to_device, to_host

    rng = np.random.default_rng(4)
    a_h = rng.integers(-128, 128, (96, 1024), dtype=np.int8)
    b_h = rng.integers(-128, 128, (80, 1024), dtype=np.int8)
    expected = a_h.astype(np.int32) @ b_h.astype(np.int32).T
    a, b = to_device(a_h, lib), to_device(b_h, lib)
    for c in ops.config_table("int8_gemm_cuda"):
        try:
            first = to_host(ops.int8_gemm(a, b, config=c["id"]))
        except ValueError:
            continue  # not built, or not for this device or shape: the core said why
        np.testing.assert_array_equal(first, expected)
        np.testing.assert_array_equal(to_host(ops.int8_gemm(a, b, config=c["id"])), first)
        _plan.forget_plans()
        monkeypatch.setattr("lepton.ops._gemm_cuda.tuned_config", lambda *args, i=c["id"]: i)
        for _ in range(2):
            np.testing.assert_array_equal(to_host(ops.int8_gemm(a, b)), first)
        monkeypatch.undo()
