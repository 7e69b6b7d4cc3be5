"""The array namespace inference computes in (numpy on the CPU, cupy on a GPU) and how results
go back to the caller's library: defined once in :mod:`lepton._dispatch`, which also answers
which library and device an array is on; re-exported here for the inference modules."""

from __future__ import annotations

from lepton._dispatch import Backend, namespace, to_backend, to_host

__all__ = ["Backend", "namespace", "to_backend", "to_host"]
