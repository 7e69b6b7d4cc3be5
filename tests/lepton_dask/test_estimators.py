"""lepton.Preprocessor and lepton.PCA on dask arrays: fit equals fitting the computed array,
transform is lazy and blockwise."""

from __future__ import annotations

import numpy as np
import pytest
from _dask_cases import (
    EPS,
    assert_stats_match,
    gaussian,
    random_row_chunks,
    ulps_for,
    with_missing,
)
from sklearn.exceptions import NotFittedError

da = pytest.importorskip("dask.array")

from lepton import PCA, Preprocessor  # noqa: E402
from lepton.ops.pca import gram_reference  # noqa: E402

EPS32 = float(np.finfo(np.float32).eps)


def chunked(x, rng, kind="uneven"):
    rows = random_row_chunks(rng, x.shape[0], kind)
    return da.from_array(x, chunks=(rows, (x.shape[1],))), len(rows)


class Counter:
    """A block function that counts how often dask runs it on data (laziness checks); dask's
    own calls on empty meta arrays, to infer the output type, are not counted."""

    def __init__(self):
        self.calls = 0

    def __call__(self, block):
        self.calls += block.size > 0
        return block


# -- Preprocessor -------------------------------------------------------------------------------

OPTIONS = [
    {},
    {"impute": "zero", "clip_sigma": 2.0, "scale": "minmax"},
    {"impute": 1.5, "clip_sigma": 3.0, "out_dtype": np.float64},
    {"impute": None, "scale": None, "out_dtype": None},
    {"impute": "mean", "clip_sigma": 2.5, "out_dtype": np.int8},
]


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("kind", ["ones", "uneven", "with_empty"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_preprocessor_fit_equals_single_array(options, kind, dtype):
    rng = np.random.default_rng(len(options) * 7 + len(kind))
    x = with_missing(rng, gaussian(rng, 200, 6, dtype))
    x_da, blocks = chunked(x, rng, kind)
    on_dask = Preprocessor(**options).fit(x_da)
    single = Preprocessor(**options).fit(x)
    assert on_dask.n_features_in_ == 6
    assert on_dask.n_samples_seen_ == 200
    assert_stats_match(on_dask.stats_, x, blocks)
    out = on_dask.transform(x_da)
    assert isinstance(out, da.Array)
    assert out.chunks == x_da.chunks
    computed = out.compute()
    assert out.dtype == computed.dtype == single.transform(x).dtype
    # Same fitted model: the blockwise transform is exactly the one-array transform.
    np.testing.assert_array_equal(computed, on_dask.transform(x))
    # Different fits: coefficients agree to ~1e-13 relative (the stats bound), so the outputs
    # agree to one rounding of the output type (an int8 code may round the other way).
    want = single.transform(x)
    if computed.dtype == np.int8:
        assert np.abs(computed.astype(int) - want.astype(int)).max() <= 1
    else:
        ulp = float(np.finfo(computed.dtype).eps)
        np.testing.assert_allclose(computed, want, rtol=2 * ulp, atol=1e-10)


def test_preprocessor_partial_fit_mixes_dask_and_numpy_batches():
    rng = np.random.default_rng(3)
    x = with_missing(rng, gaussian(rng, 300, 5, np.float64))
    est = Preprocessor()
    est.partial_fit(da.from_array(x[:120], chunks=17))
    est.partial_fit(x[120:200])
    est.partial_fit(da.from_array(x[200:], chunks=(1, 5)))
    assert_stats_match(est.stats_, x, 100)
    assert est.n_samples_seen_ == 300


def test_preprocessor_partial_fit_reports_columns_empty_in_all_batches_once():
    import warnings

    from lepton.ops import EmptyColumnWarning

    rng = np.random.default_rng(5)
    x = with_missing(rng, gaussian(rng, 200, 4, np.float64))
    x[:60, 1] = np.nan  # empty in the first dask batch only
    x[:, 3] = np.nan  # empty everywhere
    est = Preprocessor()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.partial_fit(da.from_array(x[:60], chunks=7))  # a block-level empty column too
        est.partial_fit(da.from_array(x[60:], chunks=50))
    with pytest.warns(EmptyColumnWarning, match=r"\[3\]") as record:
        out = est.transform(da.from_array(x, chunks=30))
    assert len(record) == 1  # on the client, when the graph is built
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        computed = out.compute()  # the blocks' transforms do not warn again
    np.testing.assert_array_equal(computed[:, 3], 0.0)
    assert not np.isnan(est.mean_[1])


def test_preprocessor_fit_transform_is_lazy_and_computes_fit_once():
    rng = np.random.default_rng(4)
    x = with_missing(rng, gaussian(rng, 100, 3, np.float32))
    count = Counter()
    x_da = da.from_array(x, chunks=25).map_blocks(count, dtype=x.dtype)
    out = Preprocessor().fit_transform(x_da)
    assert count.calls == 4  # the fit read every block once; the transform nothing yet
    assert isinstance(out, da.Array)
    result = out.compute()
    assert count.calls == 8
    np.testing.assert_array_equal(result, Preprocessor().fit(x).transform(x))


def test_preprocessor_integer_dask_input_becomes_float64():
    x = np.arange(40, dtype=np.int32).reshape(10, 4)
    est = Preprocessor(out_dtype=None).fit(da.from_array(x, chunks=3))
    single = Preprocessor(out_dtype=None).fit(x)
    np.testing.assert_allclose(est.mean_, single.mean_, rtol=1e-15)
    out = est.transform(da.from_array(x, chunks=3))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.compute(), single.transform(x), rtol=1e-12, atol=1e-12)


# -- PCA ----------------------------------------------------------------------------------------


def pca_tolerances(x, blocks, k):
    """Bounds on how far two covariance fits (dask and one array) can be apart.

    Both Grams lie within ΔG_ij ≤ ulps·eps·n·(sd_i + |μ_i|)(sd_j + |μ_j|) of the float64
    reference, plus the eigensolver's backward error d·eps·‖G‖. Weyl: |Δλ| ≤ ‖ΔG‖₂/(n − 1).
    Davis–Kahan: a unit eigenvector moves by ≤ √2·sin θ ≤ 2√2·‖ΔG‖₂/gap, with gap the
    distance of its eigenvalue to the rest of the spectrum. ‖·‖_F bounds ‖·‖₂.
    """
    ref = gram_reference(x.astype(np.float64))
    n, d = x.shape
    size = np.sqrt(np.diag(ref.gram) / n) + np.abs(ref.mean)
    delta = 2 * ulps_for(blocks) * EPS * n * np.linalg.norm(np.outer(size, size))
    delta += 2 * d * EPS * np.linalg.norm(ref.gram)
    lam = np.linalg.eigvalsh(ref.gram)[::-1]
    gaps = np.abs(lam[:k, None] - lam[None, :])
    gaps[np.arange(k), np.arange(k)] = np.inf
    return delta / (n - 1), 2 * np.sqrt(2) * delta / gaps.min()


def assert_pca_close(got, want, x, blocks):
    assert got._fit_svd_solver == "covariance_eigh"
    assert got.n_components_ == want.n_components_
    assert got.n_samples_ == want.n_samples_ == x.shape[0]
    assert got.n_features_in_ == want.n_features_in_ == x.shape[1]
    k = got.n_components_
    var_tol, vec_tol = pca_tolerances(x, blocks, k)
    if x.dtype == np.float32:  # fitted arrays are stored in X's dtype: one more rounding each
        var_tol += 2 * EPS32 * float(np.max(want.explained_variance_))
        vec_tol += 2 * EPS32
    for name in ("mean_", "components_", "explained_variance_", "singular_values_"):
        assert getattr(got, name).dtype == x.dtype, name
    np.testing.assert_allclose(got.explained_variance_, want.explained_variance_, atol=var_tol)
    np.testing.assert_allclose(got.components_, want.components_, atol=vec_tol)
    mean_tol = ulps_for(blocks) * EPS * np.abs(x).max() * 2
    if x.dtype == np.float32:
        mean_tol += 2 * EPS32 * np.abs(want.mean_).max()
    np.testing.assert_allclose(got.mean_, want.mean_, atol=mean_tol)


@pytest.mark.parametrize("n_components", [3, None, 0.9, "mle"])
@pytest.mark.parametrize("kind", ["ones", "uneven", "with_empty", "one"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pca_fit_equals_covariance_fit_of_the_computed_array(n_components, kind, dtype):
    rng = np.random.default_rng(11)
    x = gaussian(rng, 150, 6, dtype)
    x_da, blocks = chunked(x, rng, kind)
    got = PCA(n_components).fit(x_da)  # "auto" is the covariance solver on dask input
    want = PCA(n_components, svd_solver="covariance_eigh").fit(x)
    assert_pca_close(got, want, x, blocks)


def assert_same_product(got, want):
    """A blockwise BLAS product equals the one-array product up to the summation order BLAS
    picks for a block of another height: a few ulps of the largest entry (bit-identical with
    most BLAS builds, but no BLAS promises that rows are independent of the others)."""
    assert got.dtype == want.dtype
    ulp = float(np.finfo(want.dtype).eps)
    np.testing.assert_allclose(got, want, rtol=0, atol=16 * ulp * float(np.abs(want).max()))


@pytest.mark.parametrize("whiten", [False, True])
def test_pca_transform_and_inverse_are_lazy_blockwise(whiten):
    rng = np.random.default_rng(12)
    x = gaussian(rng, 120, 5, np.float32)
    count = Counter()
    x_da = da.from_array(x, chunks=(30, 2)).map_blocks(count, dtype=x.dtype)
    est = PCA(2, whiten=whiten, svd_solver="covariance_eigh").fit(x_da)
    calls = count.calls
    z = est.transform(x_da)
    back = est.inverse_transform(z)
    assert count.calls == calls  # nothing computed yet
    assert isinstance(z, da.Array)
    assert z.chunks == ((30, 30, 30, 30), (2,))
    assert z.dtype == np.float32
    assert isinstance(z._meta, np.ndarray)
    assert back.chunks == ((30, 30, 30, 30), (5,))
    z_now, back_now = z.compute(), back.compute()
    assert count.calls > calls
    assert_same_product(z_now, est.transform(x))
    assert_same_product(back_now, est.inverse_transform(est.transform(x)))
    assert z_now.dtype == back_now.dtype == np.float32


def test_pca_transform_keeps_the_model_it_was_built_with():
    rng = np.random.default_rng(13)
    x = gaussian(rng, 80, 4, np.float64)
    x_da = da.from_array(x, chunks=20)
    est = PCA(2).fit(x_da)
    lazy = est.transform(x_da)
    want = est.transform(x)
    est.fit(x[:, ::-1].copy())  # refit: the graph holds a snapshot of the earlier model
    assert_same_product(lazy.compute(), want)


def test_pca_fit_transform_returns_dask():
    rng = np.random.default_rng(14)
    x = gaussian(rng, 60, 4, np.float64)
    z = PCA(2).fit_transform(da.from_array(x, chunks=7))
    assert isinstance(z, da.Array)
    assert z.shape == (60, 2)


def test_pca_partial_fit_mixes_dask_and_numpy_batches():
    rng = np.random.default_rng(15)
    x = gaussian(rng, 200, 5, np.float64)
    est = PCA(3)
    est.partial_fit(da.from_array(x[:90], chunks=13))
    est.partial_fit(x[90:150])
    est.partial_fit(da.from_array(x[150:], chunks=(1, 5)))
    want = PCA(3, svd_solver="covariance_eigh").fit(x)
    assert_pca_close(est, want, x, 100)


def test_pca_integer_dask_input_becomes_float64():
    x = (np.arange(60) ** 2 % 17).reshape(15, 4)
    est = PCA(2).fit(da.from_array(x, chunks=4))
    assert est.components_.dtype == np.float64
    want = PCA(2, svd_solver="covariance_eigh").fit(x)
    np.testing.assert_allclose(est.explained_variance_, want.explained_variance_, rtol=1e-12)


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ["randomized", "full"])
def test_pca_solvers_that_need_all_rows_are_refused(solver):
    with pytest.raises(ValueError, match=f"svd_solver='{solver}': not available on a dask array"):
        PCA(2, svd_solver=solver).fit(da.ones((10, 4), chunks=5))


def test_pca_unknown_solver():
    with pytest.raises(ValueError, match="'svd_solver' parameter of PCA must be"):
        PCA(2, svd_solver="qr").fit(da.ones((10, 4), chunks=5))


def test_pca_nonfinite_dask_input():
    x = np.ones((10, 3)) + np.arange(30).reshape(10, 3) % 4
    x[7, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        PCA(2).fit(da.from_array(x, chunks=3))


def test_pca_partial_fit_after_randomized_fit_is_refused():
    rng = np.random.default_rng(16)
    x = gaussian(rng, 40, 6, np.float64)
    est = PCA(2, svd_solver="randomized", random_state=0).fit(x)
    with pytest.raises(ValueError, match="keeps no Gram statistics"):
        est.partial_fit(da.from_array(x, chunks=10))


@pytest.mark.parametrize("est", [Preprocessor(), PCA(1)])
def test_one_dimensional_input(est):
    with pytest.raises(ValueError, match="X: expected a 2-D dask array"):
        est.fit(da.ones(10, chunks=3))


@pytest.mark.parametrize("est", [Preprocessor(), PCA(1)])
def test_transform_feature_count_mismatch(est):
    est.fit(da.from_array(np.random.default_rng(0).normal(size=(10, 3)), chunks=4))
    with pytest.raises(ValueError, match=r"X has 4 features, but \w+ is expecting 3 features"):
        est.transform(da.ones((5, 4), chunks=2))


@pytest.mark.parametrize("est", [Preprocessor(), PCA(1)])
def test_transform_before_fit(est):
    with pytest.raises(NotFittedError):
        est.transform(da.ones((5, 4), chunks=2))


def test_complex_input_is_refused():
    with pytest.raises(TypeError, match="X: expected a real numeric dask array, got dtype complex"):
        Preprocessor().fit(da.ones((5, 2), dtype=np.complex64, chunks=2))


def test_inverse_transform_column_mismatch():
    est = PCA(2).fit(da.from_array(np.random.default_rng(1).normal(size=(20, 4)), chunks=5))
    with pytest.raises(ValueError, match=r"X: expected 2 columns \(n_components_\), got 3"):
        est.inverse_transform(da.ones((5, 3), chunks=2))


def test_lepton_dask_functions_reject_other_estimators():
    from sklearn.preprocessing import StandardScaler

    import lepton.dask as ld

    with pytest.raises(TypeError, match="est: expected a lepton Preprocessor or PCA"):
        ld.fit(StandardScaler(), da.ones((4, 2), chunks=2))
    with pytest.raises(TypeError, match="est: expected a lepton PCA"):
        ld.inverse_transform(Preprocessor(), da.ones((4, 2), chunks=2))
