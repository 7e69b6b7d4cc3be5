"""lepton.dask with cupy chunks (GPU only): per-block statistics stay on the device, the merged
model matches fitting the computed array, and transforms stay lazy and on the device."""

from __future__ import annotations

import numpy as np
import pytest
from _dask_cases import gaussian, with_missing

da = pytest.importorskip("dask.array")

from lepton import PCA, Preprocessor  # noqa: E402

pytestmark = pytest.mark.gpu


@pytest.fixture
def cupy():
    return pytest.importorskip("cupy")


def cupy_chunked(cupy, x, rows):
    x_da = da.from_array(cupy.asarray(x), chunks=(rows, (x.shape[1],)), asarray=False)
    assert isinstance(x_da._meta, cupy.ndarray)
    return x_da


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pca_on_cupy_chunks_matches_one_device_array(cupy, dtype):
    rng = np.random.default_rng(0)
    x = gaussian(rng, 1000, 16, dtype)
    x_da = cupy_chunked(cupy, x, (1, 7, 300, 0, 692))
    got = PCA(4).fit(x_da)
    want = PCA(4, svd_solver="covariance_eigh").fit(cupy.asarray(x))
    assert isinstance(got.components_, cupy.ndarray)
    assert got.components_.dtype == dtype
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(
        got.explained_variance_.get(), want.explained_variance_.get(), rtol=tol
    )
    np.testing.assert_allclose(got.components_.get(), want.components_.get(), atol=tol)
    z = got.transform(x_da)
    assert isinstance(z._meta, cupy.ndarray)
    out = z.compute()
    assert isinstance(out, cupy.ndarray)
    np.testing.assert_allclose(out.get(), got.transform(cupy.asarray(x)).get(), rtol=tol)


def test_preprocessor_on_cupy_chunks(cupy):
    # Needs the CUDA path of lepton.ops.column_stats / the Preprocessor's transform on cupy.
    rng = np.random.default_rng(1)
    x = with_missing(rng, gaussian(rng, 500, 8, np.float32))
    got = Preprocessor().fit(cupy_chunked(cupy, x, 64))
    want = Preprocessor().fit(x)
    np.testing.assert_array_equal(got.stats_.count, want.stats_.count)
    np.testing.assert_allclose(got.mean_, want.mean_, rtol=1e-12)
    np.testing.assert_allclose(got.var_, want.var_, rtol=1e-10)
