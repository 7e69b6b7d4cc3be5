"""Recognise dask arrays without importing dask: ``import lepton`` never loads it.

A ``dask.array.Array`` can only exist once ``dask.array`` has been imported (unpickling one
imports it too), so looking the class up in ``sys.modules`` is enough, and free when dask is
absent. The estimators call :func:`is_dask_array` first in each public method and hand dask
input to :mod:`lepton.dask`, imported only then.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any


def is_dask_array(x: Any) -> bool:
    """True for a ``dask.array.Array`` (without importing dask)."""
    module = sys.modules.get("dask.array")
    array_type = getattr(module, "Array", None)
    return array_type is not None and isinstance(x, array_type)


def lepton_dask() -> ModuleType:
    """:mod:`lepton.dask`, imported on first use."""
    import lepton.dask

    return lepton.dask
