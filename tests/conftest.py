import pytest

from lepton import _core


def _gpu_available() -> bool:
    return bool(getattr(_core, "cuda_compiled", False)) and _core.cuda_device_count() > 0


def pytest_collection_modifyitems(config, items):
    if _gpu_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU and the CUDA build")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)
