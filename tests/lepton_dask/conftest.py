import importlib.util

import pytest


@pytest.fixture(autouse=True)
def _sync_scheduler():
    # One thread: the test machine is small and shared; results do not depend on the scheduler.
    if importlib.util.find_spec("dask") is None:
        yield
        return
    import dask

    with dask.config.set(scheduler="sync"):
        yield
