"""lepton.PCA as a drop-in for sklearn.decomposition.PCA: signature, methods, numbers, and the
calls that run scikit-learn's own implementation (scikit-learn's test module itself runs in
scripts/sklearn_conformance.py)."""

from __future__ import annotations

import inspect
import logging
import warnings

import numpy as np
import pytest
import scipy.sparse
from sklearn.base import clone
from sklearn.decomposition import PCA as SkPCA

from lepton.estimators import PCA

LOGGER = "lepton.estimators"


def _data(n=400, d=9, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((d, d)))[0]
    return (rng.standard_normal((n, d)) * np.geomspace(8, 0.5, d) @ basis.T + 3).astype(dtype)


def test_same_constructor_and_params_as_sklearn():
    assert issubclass(PCA, SkPCA)
    assert inspect.signature(PCA) == inspect.signature(SkPCA)
    assert PCA().get_params() == SkPCA().get_params()
    est = PCA(3, svd_solver="randomized", iterated_power=5, random_state=1, whiten=True)
    twin = clone(est)
    assert type(twin) is PCA
    assert twin.get_params() == est.get_params()
    assert repr(est).startswith("PCA(")


@pytest.mark.parametrize("solver", ["auto", "full", "covariance_eigh", "randomized"])
@pytest.mark.parametrize("whiten", [False, True])
def test_methods_match_sklearn(solver, whiten):
    x, new = _data(), _data(50, seed=1)
    kwargs = {"svd_solver": solver, "whiten": whiten, "random_state": 0}
    ours, ref = PCA(4, **kwargs).fit(x), SkPCA(4, **kwargs).fit(x)
    assert ours._fit_svd_solver == (ref._fit_svd_solver if solver != "auto" else "covariance_eigh")
    np.testing.assert_allclose(ours.components_, ref.components_, atol=1e-9)  # same signs
    for name in ("explained_variance_", "explained_variance_ratio_", "singular_values_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-9)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-9)
    np.testing.assert_allclose(ours.transform(new), ref.transform(new), rtol=1e-8, atol=1e-9)
    z = ours.transform(new)
    np.testing.assert_allclose(ours.inverse_transform(z), ref.inverse_transform(z), atol=1e-9)
    np.testing.assert_allclose(ours.score_samples(new), ref.score_samples(new), rtol=1e-9)
    assert ours.score(new) == pytest.approx(ref.score(new), rel=1e-9)
    np.testing.assert_allclose(ours.get_covariance(), ref.get_covariance(), atol=1e-9)
    np.testing.assert_allclose(ours.get_precision(), ref.get_precision(), rtol=1e-7, atol=1e-9)


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_data(), columns=[f"c{i}" for i in range(9)])
    est = PCA(3).set_output(transform="pandas").fit(frame)
    assert list(est.feature_names_in_) == list(frame.columns)
    np.testing.assert_array_equal(est.get_feature_names_out(), ["pca0", "pca1", "pca2"])
    out = est.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["pca0", "pca1", "pca2"]
    assert isinstance(est.fit_transform(frame), pd.DataFrame)


def test_zero_components_like_sklearn():
    x = _data()
    ours, ref = PCA(0, svd_solver="full").fit(x), SkPCA(0, svd_solver="full").fit(x)
    assert ours.n_components_ == ref.n_components_ == 0
    assert ours.transform(x).shape == (400, 0)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-12)
    assert ours.score(x) == pytest.approx(ref.score(x), rel=1e-12)


def test_never_modifies_x():
    x = _data()
    kept = x.copy()
    PCA(3, svd_solver="full", copy=False).fit_transform(x)
    np.testing.assert_array_equal(x, kept)


# -- what runs scikit-learn's implementation ----------------------------------------------------


@pytest.mark.parametrize(
    ("params", "x", "method", "reason"),
    [
        ({}, np.ones((3, 2)), "fit", None),
        ({"svd_solver": "arpack"}, None, "fit", "svd_solver='arpack'"),
        ({"svd_solver": "arpack"}, np.ones((3, 2)), "transform", None),  # transforms on lepton
        ({"svd_solver": "randomized", "power_iteration_normalizer": "QR"}, None, "fit", "'QR'"),
        ({"svd_solver": "randomized", "power_iteration_normalizer": "LU"}, None, "fit", None),
        ({}, scipy.sparse.csr_matrix(np.eye(3)), "fit", "sparse input"),
        ({}, scipy.sparse.csr_matrix(np.eye(3)), "transform", "sparse input"),
    ],
)
def test_fallback_reason(params, x, method, reason):
    got = PCA.fallback_reason(PCA(**params).get_params(), x, method=method)
    assert got == reason if reason is None else reason in got


def test_arpack_runs_sklearn_and_says_so_once(caplog):
    from lepton.estimators import _fallback

    _fallback._SAID.clear()
    x = _data()
    with caplog.at_level(logging.INFO, logger=LOGGER), warnings.catch_warnings():
        warnings.simplefilter("error")  # said at INFO level, never as a warning
        ours = PCA(3, svd_solver="arpack", random_state=0).fit(x)
        PCA(2, svd_solver="arpack", random_state=0).fit(x)
    said = [r for r in caplog.records if r.name == LOGGER]
    assert len(said) == 1
    assert "PCA: svd_solver='arpack'" in said[0].getMessage()
    assert "scikit-learn's implementation" in said[0].getMessage()
    ref = SkPCA(3, svd_solver="arpack", random_state=0).fit(x)
    np.testing.assert_array_equal(ours.components_, ref.components_)  # the same code ran
    np.testing.assert_allclose(ours.transform(x), ref.transform(x), rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="keeps no Gram statistics"):
        ours.partial_fit(x)


def test_sparse_input_runs_sklearn():
    rng = np.random.default_rng(3)
    x = scipy.sparse.random(300, 40, density=0.1, format="csr", random_state=3) * 5
    ours = PCA(5, svd_solver="covariance_eigh").fit(x)
    ref = SkPCA(5, svd_solver="covariance_eigh").fit(x)
    np.testing.assert_array_equal(ours.components_, ref.components_)
    np.testing.assert_allclose(ours.transform(x), ref.transform(x), rtol=1e-12)
    dense = rng.standard_normal((7, 40))
    np.testing.assert_allclose(ours.transform(dense), ref.transform(dense), rtol=1e-9, atol=1e-12)
    with pytest.raises(TypeError, match="randomized"):  # sklearn's own refusal
        PCA(5, svd_solver="randomized").fit(x)
    with pytest.raises(TypeError, match="partial_fit: sparse input is not supported"):
        PCA(5).partial_fit(x)


def test_randomized_qr_normalizer_runs_sklearn():
    x = _data(600, 40)
    kwargs = {"svd_solver": "randomized", "power_iteration_normalizer": "QR", "random_state": 0}
    ours, ref = PCA(5, **kwargs).fit(x), SkPCA(5, **kwargs).fit(x)
    np.testing.assert_array_equal(ours.components_, ref.components_)


def test_randomized_uses_sklearns_random_matrix():
    # Same Gaussian test matrix for a seed, LU-normalised power iterations: close to sklearn's
    # own randomized result, far closer than to another seed's on this flat-tailed spectrum.
    rng = np.random.default_rng(4)
    x = rng.standard_normal((500, 120)) @ rng.standard_normal((120, 120))
    ours = PCA(10, svd_solver="randomized", iterated_power=1, random_state=0).fit(x)
    ref = SkPCA(10, svd_solver="randomized", iterated_power=1, random_state=0).fit(x)
    other = SkPCA(10, svd_solver="randomized", iterated_power=1, random_state=1).fit(x)
    near = np.abs(ours.explained_variance_ - ref.explained_variance_).max()
    far = np.abs(other.explained_variance_ - ref.explained_variance_).max()
    assert near < 1e-6 * far
