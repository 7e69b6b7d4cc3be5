"""The estimators' backend seam: everything that depends on where the input lives, in one place.

An estimator never branches on the array type. It asks :func:`backend_of` for the backend of its
input and calls it for the few steps that differ between numpy, CUDA and dask arrays:

- ``check(est, X, reset=..., finite=..., columns=...)``: validate ``X`` and set or check
  ``n_features_in_`` (scikit-learn's ``validate_data`` on the host, its rules elsewhere);
  ``check_place``: a model whose fitted arrays live on a device takes input from there only;
- the statistics the fits start from: ``column_stats`` (Preprocessor), ``gram`` (PCA's
  covariance solver), ``sketch`` (PCA's randomized and full solvers, which need all rows);
  ``auto_solver(x, k, ...)``: PCA's ``svd_solver="auto"`` for ``x`` (in-memory backends: the
  host's cost rule, or the device's for its Gram engine and eigen-solver);
- ``project`` / ``unproject``: PCA's products with the fitted components;
- ``rows(est, x, fn, ...)``: a row-wise method, run at once on an in-memory array or mapped
  lazily over the row blocks of a dask array;
- on the statistics (host or device arrays): ``eigh`` (the top k, or all, eigenpairs),
  ``trace``, ``to_host``, ``publish``.

Three implementations: ``Host`` (numpy: :mod:`._backend_host`), ``Device`` (cupy / torch CUDA:
:mod:`._backend_cuda`) and ``Partitioned`` (dask: :mod:`._backend_dask`, whose statistics are
the merged statistics of all row blocks and whose row-wise methods map the in-memory backends
over the blocks; imported only for dask input, so ``import lepton`` never loads dask). The
estimators turn statistics into a model in one place, whichever backend computed them.
"""

from __future__ import annotations

from typing import Any

from lepton._cuda_arrays import is_cuda
from lepton._dask_input import is_dask_array
from lepton.estimators._backend_cuda import DEVICE
from lepton.estimators._backend_host import HOST

__all__ = ["backend_of"]


def backend_of(x: Any) -> Any:
    """The backend of ``x`` (an array, or statistics' arrays): dask arrays; CUDA arrays (cupy,
    torch, ``__cuda_array_interface__``, CUDA DLPack); everything else (numpy, and what
    scikit-learn's validation converts to numpy)."""
    if is_dask_array(x):
        from lepton.estimators._backend_dask import PARTITIONED

        return PARTITIONED
    return DEVICE if is_cuda(x) else HOST
