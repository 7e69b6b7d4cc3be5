"""Recognise dask arrays without importing dask: ``import lepton`` never loads it.

A ``dask.array.Array`` can only exist once ``dask.array`` has been imported (unpickling one
imports it too), so looking the class up in ``sys.modules`` is enough, and free when dask is
absent. The estimators' backend seam (:func:`lepton.estimators._backend.backend_of`) asks
:func:`is_dask_array` first and imports its dask backend (and so dask) only then.
"""

from __future__ import annotations

import sys
from typing import Any


def is_dask_array(x: Any) -> bool:
    """True for a ``dask.array.Array`` (without importing dask)."""
    module = sys.modules.get("dask.array")
    array_type = getattr(module, "Array", None)
    return array_type is not None and isinstance(x, array_type)
