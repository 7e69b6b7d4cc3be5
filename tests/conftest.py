import os

import pytest

from lepton import _core
from lepton.ops import forget_plans


@pytest.fixture(autouse=True, scope="session")
def _private_tuning_cache(tmp_path_factory):
    """The whole suite reads and writes a tuning cache of its own, never the user's: a stale or
    corrupt user cache must not change what an op test runs (tests that need a fresh cache per
    test, like tests/tune, point LEPTON_CACHE_DIR elsewhere themselves)."""
    saved = os.environ.get("LEPTON_CACHE_DIR")
    os.environ["LEPTON_CACHE_DIR"] = str(tmp_path_factory.mktemp("lepton-cache"))
    yield
    if saved is None:
        os.environ.pop("LEPTON_CACHE_DIR", None)
    else:
        os.environ["LEPTON_CACHE_DIR"] = saved


def _gpu_available() -> bool:
    return bool(getattr(_core, "cuda_compiled", False)) and _core.cuda_device_count() > 0


def pytest_collection_modifyitems(config, items):
    # `slow` is off unless the -m expression names it (pyproject declares it so).
    if "slow" not in (config.getoption("markexpr") or ""):
        skip_slow = pytest.mark.skip(reason="slow: run with -m slow (or -m 'gpu and slow')")
        for item in items:
            if item.get_closest_marker("slow") is not None:
                item.add_marker(skip_slow)
    if _gpu_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU and the CUDA build")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_plans():
    """No test sees the call plans another resolved (ops keep them for the whole process: a
    config resolved under one test's tuning cache or monkeypatch must not serve the next)."""
    forget_plans()
    yield
    forget_plans()
