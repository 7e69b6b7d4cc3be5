"""lepton.PCA against sklearn.decomposition.PCA(svd_solver="full") and the sklearn contract."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sklearn = pytest.importorskip("sklearn")

from sklearn.decomposition import PCA as SkPCA  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import lepton  # noqa: E402
from lepton.estimators import PCA  # noqa: E402
from lepton.estimators._backend_host import choose_solver as _choose_solver  # noqa: E402


def _separated(rng, n, d, dtype, *, mean=5.0):
    """Rows with well-separated covariance eigenvalues (ratios ≥ 1.15) in a random basis."""
    basis = np.linalg.qr(rng.standard_normal((d, d)))[0]
    scales = np.geomspace(10.0, 0.5, d)
    return (rng.standard_normal((n, d)) * scales @ basis.T + mean).astype(dtype)


def _low_rank_plus_noise(rng, n, d, rank, dtype):
    u = rng.standard_normal((n, rank))
    v = np.linalg.qr(rng.standard_normal((d, rank)))[0].T
    return ((u * np.geomspace(60, 4, rank)) @ v + rng.standard_normal((n, d)) + 3.0).astype(dtype)


def _rel(a, b):
    return np.max(np.abs(np.asarray(a, np.float64) - b) / np.abs(b))


def _assert_matches_sklearn(ours, ref):
    assert ours.n_components_ == ref.n_components_
    comp_err = np.linalg.norm(ours.components_ - ref.components_, axis=1)
    assert np.all(comp_err <= 1e-4 * np.linalg.norm(ref.components_, axis=1))
    assert _rel(ours.explained_variance_, ref.explained_variance_) <= 1e-5
    assert _rel(ours.explained_variance_ratio_, ref.explained_variance_ratio_) <= 1e-5
    assert _rel(ours.singular_values_, ref.singular_values_) <= 1e-5
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-6)
    np.testing.assert_allclose(ours.noise_variance_, ref.noise_variance_, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["auto", "covariance_eigh", "full"])
@pytest.mark.parametrize("n_components", [None, 1, 5, 0.9])
def test_matches_sklearn_full(n_components, solver, dtype):
    x = _separated(np.random.default_rng(0), 500, 12, dtype)
    ours = PCA(n_components, svd_solver=solver).fit(x)
    ref = SkPCA(n_components, svd_solver="full").fit(x)
    _assert_matches_sklearn(ours, ref)
    for attr in ("components_", "explained_variance_", "mean_", "singular_values_"):
        assert getattr(ours, attr).dtype == dtype
    # scikit-learn's types: the noise variance in X's dtype, a plain 0.0 when every component is
    # kept; n_components_ as asked, a numpy integer where a fraction chose it
    assert type(ours.noise_variance_) is type(ref.noise_variance_)
    assert type(ours.n_components_) is type(ref.n_components_)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wide_short_data_matches_sklearn(dtype):
    x = _separated(np.random.default_rng(1), 40, 12, dtype)[:, :10]
    x = np.hstack([x, x[:, :5] * 0.5 + 1.0])[:8]  # 8 rows, 15 columns: rank 7 after centring
    for solver in ("auto", "covariance_eigh", "full"):
        ours = PCA(5, svd_solver=solver).fit(x)
        # n < d: sklearn's noise variance averages over d − k eigenvalues for covariance_eigh,
        # over min(n, d) − k for full ("auto" picks full on data this small)
        ref = SkPCA(5, svd_solver="full" if solver == "auto" else solver).fit(x)
        _assert_matches_sklearn(ours, ref)


def test_mle_matches_sklearn():
    x = _low_rank_plus_noise(np.random.default_rng(2), 1500, 25, 7, np.float64)
    ours = PCA("mle").fit(x)
    assert ours.n_components_ == SkPCA("mle", svd_solver="full").fit(x).n_components_ == 7


def test_components_follow_svd_flip_sign_convention():
    x = _separated(np.random.default_rng(3), 300, 9, np.float64)
    comps = PCA(svd_solver="covariance_eigh").fit(x).components_
    largest = comps[np.arange(9), np.argmax(np.abs(comps), axis=1)]
    assert np.all(largest > 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("whiten", [False, True])
def test_transforms_match_sklearn(whiten, dtype):
    rng = np.random.default_rng(4)
    x = _separated(rng, 400, 10, dtype)
    new = _separated(rng, 50, 10, dtype)
    ours = PCA(4, whiten=whiten)
    ref = SkPCA(4, whiten=whiten, svd_solver="full")
    tol = 1e-4 if dtype == np.float32 else 1e-10
    z = ours.fit_transform(x)
    assert z.dtype == dtype
    np.testing.assert_allclose(z, ref.fit_transform(x), atol=tol * np.abs(z).max())
    z_new = ours.transform(new)
    np.testing.assert_allclose(z_new, ref.transform(new), atol=tol * np.abs(z_new).max())
    back = ours.inverse_transform(z_new)
    assert back.dtype == dtype
    np.testing.assert_allclose(back, ref.inverse_transform(z_new), atol=tol * np.abs(back).max())


def test_full_rank_round_trip_is_identity():
    x = _separated(np.random.default_rng(5), 100, 6, np.float64)
    pca = PCA(whiten=True).fit(x)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(x)), x, atol=1e-10)


def test_float32_wide_spectrum_matches_sklearn_with_float64_gram(monkeypatch):
    # λ₁/λ_k = 400 > _FAST_GRAM_MAX_SPREAD: the fast float32-block Gram is recomputed in float64.
    import lepton.estimators._backend_host as host
    import lepton.estimators.pca as mod

    calls = []
    real = host.gram_checked
    monkeypatch.setattr(mod, "_FAST_GRAM_MIN", 0)
    monkeypatch.setattr(host, "gram_checked", lambda *a: calls.append(a[2]) or real(*a))
    x = _separated(np.random.default_rng(0), 500, 12, np.float32)
    ours = PCA(12, svd_solver="covariance_eigh").fit(x)
    _assert_matches_sklearn(ours, SkPCA(12, svd_solver="full").fit(x))
    assert calls == ["input", "float64"]


def test_float32_narrow_spectrum_keeps_the_fast_gram(monkeypatch):
    import lepton.estimators._backend_host as host
    import lepton.estimators.pca as mod

    calls = []
    real = host.gram_checked
    monkeypatch.setattr(mod, "_FAST_GRAM_MIN", 0)
    monkeypatch.setattr(host, "gram_checked", lambda *a: calls.append(a[2]) or real(*a))
    x = _separated(np.random.default_rng(0), 500, 12, np.float32)
    ours = PCA(3, svd_solver="covariance_eigh").fit(x)  # λ₁/λ₃ ≈ 3.4
    _assert_matches_sklearn(ours, SkPCA(3, svd_solver="full").fit(x))
    assert calls == ["input"]


@pytest.mark.parametrize("fast_gram_min", [0, 1e8])
def test_large_mean_float32_stays_accurate(fast_gram_min, monkeypatch):
    # |mean| / spread ≈ 1e4: explained variance against the float64 exact solution, with the
    # float32-block Gram (0) and the float64-accumulated one (this size's default).
    import lepton.estimators.pca as mod

    monkeypatch.setattr(mod, "_FAST_GRAM_MIN", fast_gram_min)
    rng = np.random.default_rng(6)
    x = _separated(rng, 5000, 8, np.float32, mean=2e4)
    exact = SkPCA(3, svd_solver="full").fit(x.astype(np.float64))
    ours = PCA(3).fit(x)
    assert _rel(ours.explained_variance_, exact.explained_variance_) <= 1e-5
    comp_err = np.linalg.norm(ours.components_ - exact.components_, axis=1)
    assert np.all(comp_err <= 1e-4)
    z = ours.transform(x)
    np.testing.assert_allclose(
        z, exact.transform(x.astype(np.float64)), atol=1e-4 * np.abs(z).max()
    )


@settings(max_examples=30, deadline=None)
@given(
    cuts=st.lists(st.integers(1, 299), max_size=5),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_partial_fit_over_random_splits_equals_fit(cuts, dtype):
    x = _separated(np.random.default_rng(7), 300, 7, dtype, mean=40.0)
    whole = PCA(4).fit(x)
    bounds = sorted({0, 300, *cuts})
    # Later batches may hold a single row; the first must reach n_components rows (as in fit).
    while bounds[1] < 4:
        bounds.remove(bounds[1])
    inc = PCA(4)
    for start, stop in itertools.pairwise(bounds):
        inc.partial_fit(x[start:stop])
    assert inc.n_samples_ == 300
    tol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(inc.mean_, whole.mean_, rtol=tol)
    np.testing.assert_allclose(inc.explained_variance_, whole.explained_variance_, rtol=tol)
    np.testing.assert_allclose(inc.components_, whole.components_, atol=10 * tol)


def test_partial_fit_continues_a_covariance_fit():
    x = _separated(np.random.default_rng(8), 200, 5, np.float64)
    pca = PCA(3, svd_solver="covariance_eigh").fit(x[:120]).partial_fit(x[120:])
    whole = PCA(3).fit(x)
    np.testing.assert_allclose(pca.explained_variance_, whole.explained_variance_, rtol=1e-12)


def test_randomized_matches_exact_on_wide_low_rank_data():
    x = _low_rank_plus_noise(np.random.default_rng(9), 1500, 1200, 30, np.float32)
    exact = PCA(16, svd_solver="covariance_eigh").fit(x)
    fast = PCA(16, svd_solver="randomized", random_state=0).fit(x)
    assert fast._fit_svd_solver == "randomized"
    assert _rel(fast.explained_variance_, exact.explained_variance_) <= 1e-3
    assert _rel(fast.explained_variance_ratio_, exact.explained_variance_ratio_) <= 1e-3
    np.testing.assert_allclose(fast.noise_variance_, exact.noise_variance_, rtol=1e-3)
    overlap = np.abs(np.sum(fast.components_ * exact.components_, axis=1))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-3)


def test_randomized_is_reproducible_with_random_state():
    x = _low_rank_plus_noise(np.random.default_rng(10), 300, 80, 5, np.float64)
    a = PCA(3, svd_solver="randomized", random_state=1).fit(x)
    b = PCA(3, svd_solver="randomized", random_state=1).fit(x)
    np.testing.assert_array_equal(a.components_, b.components_)


@pytest.mark.parametrize(
    ("n", "d", "k", "expected"),
    [
        (200_000, 256, 16, "covariance_eigh"),  # tall: sklearn's choice too
        (5000, 100, None, "covariance_eigh"),
        (300, 40, 5, "full"),  # small: sklearn's choice (exact, cheap there)
        (2000, 1500, "mle", "full"),
        (50_000, 1024, 32, "covariance_eigh"),  # sklearn: randomized; the Gram is cheaper
        (20_000, 8192, 32, "randomized"),
        (100, 5000, None, "full"),
        (100, 5000, 0.9, "full"),
    ],
)
def test_auto_solver_rule(n, d, k, expected):
    assert _choose_solver(n, d, k, 10, 4) == expected


def test_auto_runs_the_chosen_solver():
    rng = np.random.default_rng(11)
    assert PCA(2).fit(rng.standard_normal((50, 4)))._fit_svd_solver == "covariance_eigh"
    assert PCA().fit(rng.standard_normal((6, 30)))._fit_svd_solver == "full"
    # sklearn's rule says randomized here; the Gram is cheaper
    assert PCA(100).fit(rng.standard_normal((2000, 600)))._fit_svd_solver == "covariance_eigh"


def test_constant_columns_have_zero_variance():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((100, 4))
    x[:, 1] = 7.0
    pca = PCA().fit(x)
    assert pca.explained_variance_[-1] == pytest.approx(0.0, abs=1e-12)
    assert np.abs(pca.components_[:3, 1]).max() < 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_constant_data_gives_zero_variances_and_ratios(dtype):
    pca = PCA(2).fit(np.full((10, 3), 4.0, dtype=dtype))
    assert np.all(pca.explained_variance_ == 0)
    assert np.all(pca.explained_variance_ratio_ == 0)
    assert pca.noise_variance_ == 0


def test_integer_input_is_fitted_in_float64():
    pca = PCA(1).fit(np.arange(20).reshape(10, 2) ** 2)
    assert pca.components_.dtype == np.float64


def test_works_in_pipeline_and_grid_search():
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    pipe = Pipeline([("pca", PCA()), ("clf", LogisticRegression(max_iter=2000))])
    search = GridSearchCV(pipe, {"pca__n_components": [2, 5], "pca__whiten": [True]}, cv=3)
    search.fit(x, y)
    assert search.best_params_["pca__n_components"] in (2, 5)
    assert search.score(x, y) > 0.85


def test_lazy_top_level_name():
    assert lepton.PCA is PCA


# -- bad inputs: one test per class ---------------------------------------------------------------


def test_one_sample_is_a_value_error():
    with pytest.raises(ValueError, match="n_samples = 1"):
        PCA(1).fit(np.ones((1, 4)))
    with pytest.raises(ValueError, match="n_samples = 1"):
        PCA(1).partial_fit(np.ones((1, 4)))


@pytest.mark.parametrize("solver", ["auto", "covariance_eigh", "randomized", "full"])
def test_too_many_components_is_a_value_error(solver):
    with pytest.raises(ValueError, match=r"n_components=6 must be between [01] and .*=5"):
        PCA(6, svd_solver=solver).fit(np.random.default_rng(0).standard_normal((5, 8)))


@pytest.mark.parametrize("bad", [-1, 1.0, 1.5, 0.0, "max", [2]])
def test_invalid_n_components_is_a_value_error(bad):
    with pytest.raises(ValueError, match="n_components"):
        PCA(bad).fit(np.random.default_rng(0).standard_normal((20, 4)))


def test_mle_with_fewer_samples_than_features_is_a_value_error():
    with pytest.raises(ValueError, match="'mle' is only supported if n_samples >= n_features"):
        PCA("mle").fit(np.random.default_rng(0).standard_normal((5, 8)))


def test_randomized_with_fraction_is_a_value_error():
    with pytest.raises(ValueError, match=r"n_components=0.5 must be between 1 and .*'randomized'"):
        PCA(0.5, svd_solver="randomized").fit(np.random.default_rng(0).standard_normal((20, 4)))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"svd_solver": "qr"}, "svd_solver"),
        ({"n_oversamples": -1}, "n_oversamples"),
        ({"iterated_power": -2}, "iterated_power"),
        ({"iterated_power": "many"}, "iterated_power"),
        ({"power_iteration_normalizer": "SVD"}, "power_iteration_normalizer"),
    ],
)
def test_invalid_parameters_are_value_errors(params, match):
    with pytest.raises(ValueError, match=match):
        PCA(**params).fit(np.random.default_rng(0).standard_normal((20, 4)))


@pytest.mark.parametrize("solver", ["covariance_eigh", "randomized", "full"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_to_fit_names_x(solver, bad):
    x = np.random.default_rng(0).standard_normal((20, 4))
    x[3, 2] = bad
    with pytest.raises(ValueError, match="X: contains NaN or inf"):
        PCA(2, svd_solver=solver).fit(x)


# lepton's kernels say "X: contains NaN or inf"; sklearn's validation "Input X contains NaN"
# or "... infinity" (transform validates before its BLAS product).
_NON_FINITE = r"X:? contains (NaN|inf)"


@pytest.mark.parametrize("method", ["transform", "partial_fit"])
def test_non_finite_input_after_fit_names_x(method):
    rng = np.random.default_rng(0)
    pca = PCA(2, svd_solver="covariance_eigh").fit(rng.standard_normal((20, 4)))
    x = rng.standard_normal((5, 4))
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match=_NON_FINITE):
        getattr(pca, method)(x)


def test_non_finite_rows_are_refused_before_any_blas_product():
    # A row of infinities makes inf − inf inside the product on every CPU, so numpy would warn
    # "invalid value encountered in matmul" if the check came after it (as some BLAS kernels
    # also do for a lone NaN); validating first gives the ValueError on any CPU.
    rng = np.random.default_rng(0)
    pca = PCA(2).fit(rng.standard_normal((20, 4)))
    x = rng.standard_normal((5, 4))
    x[1] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=_NON_FINITE):
            pca.transform(x)


def test_full_solver_refuses_opposite_infinities_in_one_column():
    x = np.random.default_rng(0).standard_normal((20, 4))
    x[2, 1], x[5, 1] = np.inf, -np.inf  # their sum is NaN: numpy's "invalid value" warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="X: contains NaN or inf"):
            PCA(2, svd_solver="full").fit(x)


@pytest.mark.parametrize("method", ["transform", "inverse_transform"])
def test_use_before_fit_is_not_fitted_error(method):
    with pytest.raises(NotFittedError):
        getattr(PCA(), method)(np.ones((3, 2)))


def test_wrong_feature_count_is_a_value_error():
    pca = PCA(2, svd_solver="covariance_eigh").fit(
        np.random.default_rng(0).standard_normal((20, 4))
    )
    with pytest.raises(ValueError, match="features"):
        pca.transform(np.ones((3, 5)))
    with pytest.raises(ValueError, match="features"):
        pca.partial_fit(np.ones((3, 5)))
    with pytest.raises(ValueError, match="X: expected 2 columns"):
        pca.inverse_transform(np.ones((3, 3)))


def test_partial_fit_first_batch_smaller_than_n_components_is_a_value_error():
    pca = PCA(4)
    with pytest.raises(ValueError, match=r"n_components=4 must be between 0 and .*=3"):
        pca.partial_fit(np.random.default_rng(0).standard_normal((3, 6)))
    pca.partial_fit(np.random.default_rng(1).standard_normal((5, 6)))  # a fresh start works
    assert pca.n_samples_ == 5


def test_partial_fit_after_randomized_fit_is_a_value_error():
    pca = PCA(2, svd_solver="randomized").fit(np.random.default_rng(0).standard_normal((20, 6)))
    with pytest.raises(ValueError, match="keeps no Gram statistics"):
        pca.partial_fit(np.ones((3, 6)))


# -- the sklearn contract ----------------------------------------------------------------------

_NO_GRAM = "partial_fit after a randomized/full fit: that fit keeps no mergeable Gram to extend"


def _expected_failures(estimator):
    if estimator.svd_solver in ("randomized", "full"):
        return {"check_fit_score_takes_y": _NO_GRAM}
    return {}


@parametrize_with_checks(
    [
        PCA(),
        PCA(1, svd_solver="covariance_eigh", whiten=True),
        PCA(2, svd_solver="randomized", random_state=0),
        PCA(0.8, svd_solver="full"),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(("offset", "centres"), [(0.5, False), (1e4, True)])
def test_transform_centres_x_only_when_its_mean_would_cancel(monkeypatch, offset, centres):
    # A mean small against the spread: scikit-learn's single product (a pass over X cheaper);
    # a large one: X centred block by block first (the single product would lose ~offset·eps).
    from lepton.ops import pca as pca_ops

    rng = np.random.default_rng(3)
    x = (offset + rng.standard_normal((1001, 40))).astype(np.float32)
    model = PCA(n_components=7, svd_solver="covariance_eigh").fit(x)
    blocks = []
    original = pca_ops._centred_blocks
    monkeypatch.setattr(pca_ops, "_centred_blocks", lambda *a: blocks.append(1) or original(*a))
    got = model.transform(x)
    assert bool(blocks) == centres
    want = (x.astype(np.float64) - model.mean_) @ model.components_.T.astype(np.float64)
    np.testing.assert_allclose(got, want, atol=2e-5 * np.abs(want).max())
