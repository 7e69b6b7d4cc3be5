import pytest

from lepton import _core
from lepton.ops._plan import forget_plans


def _gpu_available() -> bool:
    return bool(getattr(_core, "cuda_compiled", False)) and _core.cuda_device_count() > 0


def pytest_collection_modifyitems(config, items):
    if _gpu_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU and the CUDA build")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _own_tuning_cache(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's tuning cache, and none sees another's resolved plans
    (ops keep per-signature plans for the whole process)."""
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tuning-cache"))
    forget_plans()
    yield
    forget_plans()
