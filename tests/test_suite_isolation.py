"""The suite never touches the user's state."""

import os
from pathlib import Path


def test_the_tuning_cache_is_private_to_the_suite(tmp_path_factory):
    cache = Path(os.environ["LEPTON_CACHE_DIR"]).resolve()
    assert tmp_path_factory.getbasetemp().resolve() in cache.parents
