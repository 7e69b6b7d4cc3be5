import io
import json
import multiprocessing

import pytest
from rich.console import Console

import lepton
from lepton import _core
from lepton._tuned import tuned_config
from lepton.tune import CacheWarning, TuningCache, cache_path, clear, shape_bucket, show, tune
from lepton.tune import cache as cache_module

SHAPE = (64, 32, 16)


@pytest.fixture
def tuned(trade_off):
    """One energy tuning run of the fake op stored in the cache (winner cfg1, id 1)."""
    return tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0)


def test_cache_path_follows_the_environment(cache_dir, monkeypatch):
    assert cache_path() == cache_dir / "tuning.json"
    monkeypatch.delenv("LEPTON_CACHE_DIR")
    assert cache_path().parts[-3:] == (".cache", "lepton", "tuning.json")


def test_shape_bucket_rounds_up_to_powers_of_two():
    assert shape_bucket((1, 3, 4, 5, 4096, 4097)) == (1, 4, 4, 8, 4096, 8192)


def test_round_trip_through_the_run_time_lookup(tuned, cache_dir):
    assert tuned.winner.name == "cfg1"
    assert tuned_config("fake", SHAPE, "int8") == 1
    assert tuned_config("fake", (33, 17, 9), "int8") == 1  # same bucket (64, 32, 16)
    assert tuned_config("fake-alias", SHAPE, "int8", "cpu") == 1
    stored = json.loads((cache_dir / "tuning.json").read_text())
    (entry,) = stored["entries"].values()
    assert entry["config"] == 1
    assert entry["objective"] == "energy"
    assert entry["key"]["bucket"] == "64x32x16"
    assert entry["key"]["version"] == lepton.__version__


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
        cache_module, "device_identity", lambda device: {"name": "Other CPU", "driver": "isa=x"}
    )
    cache_module.forget_memos()  # keys are memoised per process; a new machine is a new one
    assert tuned_config("fake", SHAPE, "int8") is None


@pytest.mark.skipif(lepton.get_isa() == "scalar", reason="only the scalar path on this CPU")
def test_other_isa_invalidates(tuned):
    assert tuned_config("fake", SHAPE, "int8") == 1
    with lepton.isa("scalar"):
        assert tuned_config("fake", SHAPE, "int8") is None
    assert tuned_config("fake", SHAPE, "int8") == 1


def test_lookup_parses_the_file_only_when_it_changed(tuned, trade_off, monkeypatch):
    reads = []
    real = TuningCache.entries

    def counting(self):
        reads.append(1)
        return real(self)

    monkeypatch.setattr(TuningCache, "entries", counting)
    cache_module._files.clear()
    for _ in range(5):
        tuned_config("fake", SHAPE, "int8")
    assert len(reads) == 1
    tune("fake", (8, 8, 8), "energy", meter=trade_off.meter)  # replaces the file
    assert tuned_config("fake", (8, 8, 8), "int8") is not None
    assert len(reads) == 2


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


def test_foreign_json_is_set_aside_by_the_run_time_lookup(cache_dir):
    cache_dir.mkdir()
    (cache_dir / "tuning.json").write_text(json.dumps({"entries": {"x": {"config": 1}}}))
    with pytest.warns(CacheWarning, match="not a lepton tuning cache"):
        assert tuned_config("fake", SHAPE, "int8") is None
    assert len(list(cache_dir.glob("tuning.json.bad-*"))) == 1


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
    with pytest.warns(RuntimeWarning, match="using the heuristic"):
        assert tuned_config("fake", SHAPE, "int8") is None


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
