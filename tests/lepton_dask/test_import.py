"""lepton.dask is optional: `import lepton` never loads dask; without dask, importing
lepton.dask names the extra to install. (These run with or without dask installed.)"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lepton._dask_input import is_dask_array


def _forget_lepton_dask(monkeypatch):
    for name in list(sys.modules):
        if name == "lepton.dask" or name.startswith("lepton.dask."):
            monkeypatch.delitem(sys.modules, name)
    import lepton

    if "dask" in vars(lepton):
        monkeypatch.delattr(lepton, "dask")


def test_missing_dask_gives_an_install_hint(monkeypatch):
    _forget_lepton_dask(monkeypatch)
    # None in sys.modules makes `import dask...` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    with pytest.raises(ImportError, match=r"pip install 'lepton-kernels\[dask\]'"):
        import lepton.dask  # noqa: F401


def test_import_lepton_does_not_import_dask():
    code = (
        "import sys, numpy as np, lepton; from lepton import PCA, Preprocessor; "
        "PCA(1).fit(np.eye(3)); Preprocessor().fit(np.eye(3)); "
        "assert 'dask' not in sys.modules, sorted(m for m in sys.modules if 'dask' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_is_dask_array_without_and_with_dask(monkeypatch):
    assert not is_dask_array(np.ones(3))
    monkeypatch.delitem(sys.modules, "dask.array", raising=False)
    assert not is_dask_array(np.ones(3))  # dask.array not loaded: nothing can be a dask array


def test_is_dask_array_on_dask_arrays():
    da = pytest.importorskip("dask.array")
    assert is_dask_array(da.ones((2, 2)))
    assert not is_dask_array(np.ones((2, 2)))
