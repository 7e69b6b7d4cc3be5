import io
import json
import multiprocessing

import numpy as np
import pytest
from rich.console import Console

import lepton
from lepton import _core, ops
from lepton.ops import _tuned
from lepton.tune import CacheWarning, TuningCache, cache_path, clear, shape_bucket, show, tune
from lepton.tune import cache as cache_module
from lepton.tune.cache import lookup as tuned_config
from lepton.tune.cache import make_key

SHAPE = (64, 32, 16)


@pytest.fixture
def tuned(trade_off):
    """One energy tuning run of the fake op stored in the cache (winner cfg1, id 1)."""
    return tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0)


def test_cache_path_follows_the_environment(cache_dir, monkeypatch, tmp_path):
    assert cache_path() == cache_dir / "tuning.json"
    monkeypatch.delenv("LEPTON_CACHE_DIR")
    # the platform's user cache dir: $XDG_CACHE_HOME/lepton on Linux, as platformdirs says
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_path() == tmp_path / "xdg" / "lepton" / "tuning.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_path().parts[-3:] == (".cache", "lepton", "tuning.json")
    monkeypatch.setenv("LEPTON_CACHE_DIR", "")  # empty: not set
    assert cache_path().parts[-3:] == (".cache", "lepton", "tuning.json")


def test_shape_bucket_rounds_up_to_powers_of_two():
    assert shape_bucket((1, 3, 4, 5, 4096, 4097)) == (1, 4, 4, 8, 4096, 8192)


def test_round_trip_through_the_run_time_lookup(tuned, cache_dir):
    assert tuned.winner.name == "cfg1"
    assert tuned_config("fake", SHAPE, "int8") == 1
    assert tuned_config("fake-alias", SHAPE, "int8", "cpu") == 1
    stored = json.loads((cache_dir / "tuning.json").read_text())
    assert stored["version"] == 2
    (entry,) = stored["entries"].values()
    assert entry["config"] == 1
    assert entry["objective"] == "energy"
    key = entry["key"]
    assert key["shape"] == "64x32x16"  # the exact shape tuned
    assert key["objective"] == "energy"
    assert key["threads"] == str(lepton.get_num_threads())
    assert key["kind"] == "cpu"
    assert key["version"] == lepton.__version__


def test_nothing_stored_when_asked_not_to(trade_off, cache_dir):
    tune("fake", SHAPE, "energy", meter=trade_off.meter, save=False)
    assert not (cache_dir / "tuning.json").exists()
    assert tuned_config("fake", SHAPE, "int8") is None


def test_lookup_without_cache_or_for_untunable_ops_is_none():
    assert tuned_config("fake", SHAPE, "int8") is None
    assert tuned_config("not_an_op", SHAPE, "int8") is None


def test_other_bucket_dtype_or_device_misses(tuned):
    assert tuned_config("fake", (65, 32, 16), "int8") is None
    assert tuned_config("fake", SHAPE, "uint8") is None
    assert tuned_config("fake", SHAPE, "int8", "cuda:0") is None


def test_new_package_version_invalidates(tuned, monkeypatch):
    monkeypatch.setattr(_core, "__version__", "9.9.9")
    assert tuned_config("fake", SHAPE, "int8") is None


def test_new_config_table_invalidates(tuned, fake_op):
    assert tuned_config("fake", SHAPE, "int8") == 1
    fake_op({0: (1.0, 1.0)}, table_hash="hash-2")  # the table changed: ids may mean other tiles
    assert tuned_config("fake", SHAPE, "int8") is None


def test_other_device_or_driver_invalidates(tuned, monkeypatch):
    monkeypatch.setattr(
        _tuned, "device_identity", lambda device: {"name": "Other CPU", "driver": "isa=x"}
    )
    assert tuned_config("fake", SHAPE, "int8") is None


@pytest.mark.skipif(lepton.get_isa() == "scalar", reason="only the scalar path on this CPU")
def test_other_isa_invalidates(tuned):
    assert tuned_config("fake", SHAPE, "int8") == 1
    with lepton.isa("scalar"):
        assert tuned_config("fake", SHAPE, "int8") is None
    assert tuned_config("fake", SHAPE, "int8") == 1


def test_lookup_parses_the_file_only_when_it_changed(tuned, trade_off, monkeypatch):
    parses = []
    real = _tuned.parse
    monkeypatch.setattr(_tuned, "parse", lambda text: parses.append(1) or real(text))
    _tuned.forget()
    for _ in range(5):
        tuned_config("fake", SHAPE, "int8")
    assert len(parses) == 1
    tune("fake", (8, 8, 8), "energy", meter=trade_off.meter)  # replaces the file
    parses.clear()
    assert tuned_config("fake", (8, 8, 8), "int8") is not None
    assert len(parses) == 1


def test_corrupt_file_is_set_aside_with_a_warning(cache_dir, trade_off):
    cache_dir.mkdir()
    (cache_dir / "tuning.json").write_text("{ not json")
    with pytest.warns(CacheWarning, match="not valid JSON"):
        assert TuningCache().entries() == {}
    assert not (cache_dir / "tuning.json").exists()
    (aside,) = cache_dir.glob("tuning.json.bad-*")
    assert aside.read_text() == "{ not json"  # kept for the user to inspect
    tune("fake", SHAPE, "energy", meter=trade_off.meter)
    assert tuned_config("fake", SHAPE, "int8") == 1


def test_foreign_json_is_ignored_by_the_ops_and_set_aside_by_the_tuner(cache_dir, trade_off):
    cache_dir.mkdir()
    (cache_dir / "tuning.json").write_text(json.dumps({"entries": {"x": {"config": 1}}}))
    a = np.ones((4, 8), np.int8)
    with pytest.warns(CacheWarning, match="not a lepton tuning cache.*ignoring it"):
        np.testing.assert_array_equal(ops.int8_gemm(a, a), np.full((4, 4), 8, np.int32))
    assert not list(cache_dir.glob("tuning.json.bad-*"))  # the reader never moves files
    with pytest.warns(CacheWarning, match="not a lepton tuning cache.*moved it"):
        tune("fake", SHAPE, "energy", meter=trade_off.meter)
    assert len(list(cache_dir.glob("tuning.json.bad-*"))) == 1
    assert tuned_config("fake", SHAPE, "int8") == 1


def test_other_format_version_is_set_aside_when_writing(cache_dir):
    cache_dir.mkdir()
    (cache_dir / "tuning.json").write_text(
        json.dumps({"format": "lepton-tuning", "version": 99, "entries": {}})
    )
    with pytest.warns(CacheWarning, match="format version 99"):
        TuningCache().put("k", {"config": 3, "op": "fake"})
    assert TuningCache().get("k") == {"config": 3, "op": "fake"}


def test_unreadable_cache_never_breaks_the_op(cache_dir):
    (cache_dir / "tuning.json").mkdir(parents=True)  # a directory where the file should be
    a = np.ones((4, 8), np.int8)
    with pytest.warns(RuntimeWarning, match="using the heuristic"):
        np.testing.assert_array_equal(ops.int8_gemm(a, a), np.full((4, 4), 8, np.int32))


def test_put_rejects_entries_without_a_config():
    with pytest.raises(ValueError, match="config"):
        TuningCache().put("k", {"config": "3"})


def test_writes_are_atomic_and_leave_no_temporary_files(cache_dir):
    cache = TuningCache()
    for i in range(5):
        cache.put(f"k{i}", {"config": i, "op": "fake"})
    names = sorted(p.name for p in cache_dir.iterdir())
    assert names == ["tuning.json", "tuning.json.lock"]


def test_clear_everything_or_one_op(tuned, fake_op):
    cache = TuningCache()
    cache.put("other", {"config": 0, "op": "int8_gemm"})
    assert clear("fake-alias") == 1
    assert set(cache.entries()) == {"other"}
    assert clear() == 1
    assert cache.entries() == {}


def test_show_prints_and_returns_entries(tuned):
    buffer = io.StringIO()
    entries = show(console=Console(file=buffer, width=200, color_system=None))
    assert [e["config_name"] for e in entries] == ["cfg1"]
    assert "cfg1" in buffer.getvalue()
    assert "64x32x16" in buffer.getvalue()


def _write_entries(path: str, prefix: str, count: int) -> None:
    cache = TuningCache(path)
    for i in range(count):
        cache.put(f"{prefix}-{i}", {"config": i, "op": "fake", "writer": prefix})


def test_processes_writing_at_once_lose_no_entry(cache_dir):
    path = str(cache_dir / "tuning.json")
    context = multiprocessing.get_context("spawn")  # the core uses OpenMP: fork is unsafe
    workers = [
        context.Process(target=_write_entries, args=(path, name, 25)) for name in ("a", "b", "c")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    entries = TuningCache(path).entries()
    assert len(entries) == 75
    assert {e["writer"] for e in entries.values()} == {"a", "b", "c"}


# --- keys: objective, thread count, exact shapes ------------------------------------------------


def test_each_objective_keeps_its_entry_and_config_none_prefers_energy(trade_off):
    assert tune("fake", SHAPE, "time", meter=trade_off.meter, seed=0).winner.id == 0
    assert tuned_config("fake", SHAPE, "int8") == 0  # the only entry: time's
    assert tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0).winner.id == 1
    entries = TuningCache().entries()
    assert sorted(e["objective"] for e in entries.values()) == ["energy", "time"]  # both kept
    assert tuned_config("fake", SHAPE, "int8") == 1  # energy before edp before time
    assert _tuned.OBJECTIVE_ORDER == ("energy", "edp", "time")


def test_exact_shapes_keep_their_own_entries_and_neighbours_take_the_nearest():
    cache = TuningCache()
    for shape, config in (((256, 32, 16), 3), ((200, 32, 16), 5)):  # one bucket, M 129..256
        parts = cache_module.key_parts("int8_gemm", shape, "int8", "cpu", "time")
        cache.put(make_key(parts), {"config": config, "op": "int8_gemm", "key": parts})
    assert len(cache.entries()) == 2  # M=200 did not overwrite M=256
    assert tuned_config("int8_gemm", (256, 32, 16), "int8") == 3
    assert tuned_config("int8_gemm", (200, 32, 16), "int8") == 5
    assert tuned_config("int8_gemm", (250, 32, 16), "int8") == 3  # nearest tuned shape
    assert tuned_config("int8_gemm", (140, 32, 16), "int8") == 5
    assert tuned_config("int8_gemm", (128, 32, 16), "int8") is None  # the bucket below
    assert _tuned.bucket_range((200, 32, 16)) == "129..256 x 17..32 x 9..16"


@pytest.mark.skipif(lepton.get_num_threads() == 1, reason="one thread only here")
def test_thread_count_is_part_of_the_key(tuned):
    threads = lepton.get_num_threads()
    assert tuned_config("fake", SHAPE, "int8") == 1
    lepton.set_num_threads(1)
    try:
        assert tuned_config("fake", SHAPE, "int8") is None
    finally:
        lepton.set_num_threads(threads)
    assert tuned_config("fake", SHAPE, "int8") == 1


# --- format 1 files -----------------------------------------------------------------------------


def _format1_file(cache_dir, entries):
    cache_dir.mkdir(exist_ok=True)
    data = {"format": "lepton-tuning", "version": 1, "entries": entries}
    (cache_dir / "tuning.json").write_text(json.dumps(data))


def _v1_entry(driver, device, config, bucket="64x32x16", shape=(64, 32, 16)):
    key = {"version": lepton.__version__, "table": _core.gemm_config_hash(), "device": device,
           "driver": driver, "op": "int8_gemm", "dtype": "int8", "bucket": bucket}  # fmt: skip
    old_key = "|".join(key[f] for f in ("version", "table", "device", "driver", "op", "dtype",
                                        "bucket"))  # fmt: skip
    value = {"config": config, "op": "int8_gemm", "shape": list(shape), "objective": "energy",
             "key": key}  # fmt: skip
    return old_key, value


def test_format_1_file_loads_and_its_cpu_entries_are_marked_for_re_tuning(cache_dir):
    here = _tuned.device_identity("cpu")
    old_key, value = _v1_entry(here["driver"], here["name"], 4)
    _format1_file(cache_dir, {old_key: value})
    (entry,) = TuningCache().entries().values()
    assert entry["key"]["shape"] == "64x32x16"
    assert entry["key"]["threads"] == "?"  # format 1 did not record it: no call matches
    assert entry["migrated_from_format"] == 1
    assert tuned_config("int8_gemm", (64, 32, 16), "int8") is None
    assert "did not record the thread count" in cache_module.unusable_reason(entry)
    TuningCache().put("k", {"config": 1, "op": "fake"})  # a write keeps it, as format 2
    stored = json.loads((cache_dir / "tuning.json").read_text())
    assert stored["version"] == 2
    assert len(stored["entries"]) == 2


def test_format_1_cuda_entries_are_read_under_their_new_keys(cache_dir, monkeypatch):
    old_key, value = _v1_entry("driver 580.1", "NVIDIA H200", 15, "8192x8192x8192", (8192,) * 3)
    _format1_file(cache_dir, {old_key: value})
    monkeypatch.setattr(
        _tuned, "device_identity", lambda device: {"name": "NVIDIA H200", "driver": "driver 580.1"}
    )
    table = _core.gemm_config_hash()  # what the entry names (a CPU build's stand-in here)
    assert _tuned.lookup_hashed("int8_gemm", table, (8192,) * 3, "int8", "cuda:0") == 15


def test_a_newer_format_is_ignored_at_run_time_and_set_aside_when_writing(cache_dir):
    cache_dir.mkdir()
    data = {"format": "lepton-tuning", "version": 3, "entries": {}}
    (cache_dir / "tuning.json").write_text(json.dumps(data))
    with pytest.warns(CacheWarning, match="format version 3, this lepton reads 1 and 2"):
        assert _tuned.lookup("int8_gemm", SHAPE, "int8") is None
    with pytest.warns(CacheWarning, match="format version 3"):
        TuningCache().put("k", {"config": 3, "op": "fake"})


# --- show: what this build or machine can no longer use -----------------------------------------


def test_show_marks_entries_this_build_or_machine_cannot_use(tuned):
    cache = TuningCache()
    (entry,) = cache.entries().values()
    assert cache_module.unusable_reason(entry) is None
    for field, value, why in (
        ("version", "0.0.1", "tuned by lepton 0.0.1"),
        ("table", "0123", "config table changed"),
        ("driver", "isa=avx512_vnni", "the CPU kernels now run isa="),
        ("device", "Some Other CPU", "tuned on Some Other CPU"),
        ("threads", "99", "tuned with 99 threads"),
    ):
        stale = {**entry, "key": {**entry["key"], field: value}}
        assert why in cache_module.unusable_reason(stale), field
    gpu = {**entry, "key": {**entry["key"], "kind": "cuda", "device": "NVIDIA H9"}}
    assert "no visible GPU is a NVIDIA H9" in cache_module.unusable_reason(gpu)
    stale = {**entry, "key": {**entry["key"], "version": "0.0.1"}}
    cache.put("stale", stale)
    buffer = io.StringIO()
    show(console=Console(file=buffer, width=250, color_system=None))
    text = buffer.getvalue()
    assert "yes" in text
    assert "no: tuned by lepton 0.0.1" in text


# --- the ops see what this process's tuner stores -----------------------------------------------


def test_a_stored_winner_is_what_the_next_call_runs(monkeypatch):
    from lepton.ops import gemm

    rng = np.random.default_rng(1)
    a = rng.integers(-128, 128, (48, 64), dtype=np.int8)
    b = rng.integers(-128, 128, (40, 64), dtype=np.int8)
    ran = []
    real = gemm._core.int8_gemm
    monkeypatch.setattr(gemm._core, "int8_gemm", lambda *args: ran.append(args[-1]) or real(*args))
    first = ops.int8_gemm(a, b)
    assert ran == [-1]  # no entry: the heuristic
    parts = cache_module.key_parts("int8_gemm", (48, 40, 64), "int8", "cpu", "energy")
    TuningCache().put(make_key(parts), {"config": 2, "op": "int8_gemm", "key": parts})
    np.testing.assert_array_equal(ops.int8_gemm(a, b), first)
    assert ran == [-1, 2]  # the writer dropped the plans: the new winner runs
    if lepton.get_isa() != "scalar":
        with lepton.isa("scalar"):  # tuned for another ISA: this path's plan has no entry
            ops.int8_gemm(a, b)
        assert ran == [-1, 2, -1]
    assert clear("int8_gemm") == 1
    ops.int8_gemm(a, b)
    assert ran[-1] == -1
