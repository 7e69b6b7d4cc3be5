"""Preprocessor and PCA fitted through a distributed.LocalCluster with worker processes: the
block statistics are computed and merged on other processes (everything the graphs carry
must pickle: the kernels, the merges, the estimator snapshots) and the model is the one fitted
on the whole array."""

from __future__ import annotations

import numpy as np
import pytest
from _dask_cases import gaussian, with_missing

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

from lepton import PCA, Preprocessor, StandardScaler  # noqa: E402

_TIMEOUT = "60s"  # cluster start, and any single compute


@pytest.fixture(scope="module")
def client():
    # Two worker processes of one thread each: the shared test machine is small.
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            timeout=_TIMEOUT,
        ) as cluster,
        distributed.Client(cluster, timeout=_TIMEOUT) as client,
    ):
        yield client


def test_fits_on_worker_processes_equal_the_one_array_model(client):
    rng = np.random.default_rng(21)
    x = with_missing(rng, gaussian(rng, 3000, 12, np.float64))
    dense = gaussian(rng, 3000, 12, np.float64)
    with dask.config.set(scheduler=client):  # this module's cluster, not the sync default
        x_da = da.from_array(x, chunks=(350, 12))
        prep = Preprocessor(clip_sigma=3.0).fit(x_da)
        prep_out = prep.transform(x_da).compute()
        dense_da = da.from_array(dense, chunks=(400, 12))
        pca = PCA(4).fit(dense_da)
        z = pca.transform(dense_da).compute()
        nan_only = with_missing(rng, dense, inf=0.0)
        scaler = StandardScaler().fit(da.from_array(nan_only, chunks=(500, 12)))
    assert client.run(lambda: 1)  # the workers are alive and separate processes
    assert len(client.scheduler_info()["workers"]) == 2

    single = Preprocessor(clip_sigma=3.0).fit(x)
    np.testing.assert_array_equal(prep.stats_.count, single.stats_.count)
    np.testing.assert_allclose(prep.mean_, single.mean_, rtol=1e-12)
    np.testing.assert_allclose(prep.var_, single.var_, rtol=1e-10)
    np.testing.assert_array_equal(prep_out, prep.transform(x))  # same model, blockwise

    want = PCA(4, svd_solver="covariance_eigh").fit(dense)
    np.testing.assert_allclose(pca.explained_variance_, want.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(pca.components_, want.components_, atol=1e-9)
    np.testing.assert_allclose(z, want.transform(dense), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(scaler.mean_, np.nanmean(nan_only, axis=0), rtol=1e-12)
