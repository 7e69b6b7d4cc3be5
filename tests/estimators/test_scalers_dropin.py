"""lepton's drop-in StandardScaler, MinMaxScaler and SimpleImputer against scikit-learn's, on
hypothesis-generated data (NaN, constant and empty columns, float32 / float64, batches), and
the calls that run scikit-learn's own implementation. (scikit-learn's own test modules run in
scripts/sklearn_conformance.py.)"""

from __future__ import annotations

import inspect
import itertools
import logging
import warnings

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import impute, preprocessing
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import lepton
from lepton.estimators import MinMaxScaler, SimpleImputer, StandardScaler

PAIRS = [
    (StandardScaler, preprocessing.StandardScaler),
    (MinMaxScaler, preprocessing.MinMaxScaler),
    (SimpleImputer, impute.SimpleImputer),
]
VARIANTS = [
    (StandardScaler, {}),
    (StandardScaler, {"with_mean": False}),
    (StandardScaler, {"with_std": False}),
    (StandardScaler, {"with_mean": False, "with_std": False}),
    (MinMaxScaler, {}),
    (MinMaxScaler, {"feature_range": (-2, 3)}),
    (MinMaxScaler, {"feature_range": (-2, 3), "clip": True}),  # transform: scikit-learn's
    (SimpleImputer, {}),
    (SimpleImputer, {"keep_empty_features": True}),
    (SimpleImputer, {"strategy": "constant", "fill_value": -1.5}),
    (SimpleImputer, {"strategy": "constant", "keep_empty_features": True}),
]
SKLEARN = dict(PAIRS)


def _fitted_attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


EPS64 = float(np.finfo(np.float64).eps)


def _moment_tolerance(x):
    """Per-column relative bound on lepton's one-pass float64 mean/variance (its documented
    error, ~9·eps·(1 + |mean|/std)); scikit-learn's two-pass sums are often closer still, so
    this, not float round-off, is how far the two may be apart."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        mean = np.nanmean(x.astype(np.float64), axis=0)
        std = np.nanstd(x.astype(np.float64), axis=0)
    ratio = np.where(std > 0, 1 + np.abs(mean) / np.where(std > 0, std, 1), 1)
    return 32 * EPS64 * np.nan_to_num(ratio, nan=1.0), np.nan_to_num(std + np.abs(mean))


def _assert_same_model(ours, theirs, rtol, x=None, *, partial=False):
    mine, ref = _fitted_attributes(ours), _fitted_attributes(theirs)
    assert mine.keys() == ref.keys()
    moments = _moment_tolerance(x) if x is not None else None
    for name, want in ref.items():
        got = mine[name]
        if want is None or (np.isscalar(want) and not isinstance(want, np.generic)):
            assert got == want, name
            continue
        got, want = np.asarray(got), np.asarray(want)
        assert got.dtype == want.dtype, name
        if want.dtype == object:  # SimpleImputer(strategy="constant").statistics_
            got, want = got.astype(np.float64), want.astype(np.float64)
        if moments is not None and name in ("mean_", "var_", "scale_"):
            bound, size = moments
            # var_ / scale_: relative, with a floor for the rounding residue a constant column
            # leaves in scikit-learn's sums (lepton's is exactly 0)
            floor = (32 * EPS64 * size) ** (2 if name == "var_" else 1)
            tol = bound * (size if name == "mean_" else np.nan_to_num(np.abs(want))) + floor
            if partial:  # an all-NaN batch leaves scikit-learn's running mean/var NaN for good
                got, want, tol = got[~np.isnan(want)], want[~np.isnan(want)], tol[~np.isnan(want)]
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), name)
            error = np.nan_to_num(np.abs(got - want))
            assert np.all(error <= tol), (name, error, tol)
            continue
        np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True, err_msg=name)


def _affine(model):
    """(center, multiplier) of the model's transform ``(x − center)·multiplier``, float64."""
    if hasattr(model, "with_mean"):  # StandardScaler
        center = model.mean_ if model.with_mean else 0.0
        scale = model.scale_ if model.with_std else 1.0
        return np.asarray(center, np.float64), 1.0 / np.asarray(scale, np.float64)
    low, high = model.feature_range
    span = np.where(model.data_range_ == 0, 1, model.data_range_).astype(np.float64)
    multiplier = (high - low) / span
    return model.data_min_.astype(np.float64) - low / multiplier, multiplier


def _exact(model, x):
    """The transform ``model``'s fitted attributes define, in extended precision (float64
    input: long double's 64-bit significand)."""
    center, multiplier = _affine(model)
    return (x.astype(np.longdouble) - center.astype(np.longdouble)) * multiplier.astype(
        np.longdouble
    )


def _assert_no_worse(ours, theirs, x, columns=slice(None)):
    """Each transform against the exact transform of its own model's attributes: lepton's error
    is within the rounding bound of scikit-learn's arithmetic, a few ulps of
    ``|x·m| + |c·m| + |y|`` for ``y = (x − c)·m`` (an affine map rounded in X's precision; where
    scikit-learn's subtracts after scaling, lepton's rounds the center instead)."""
    got, want = ours.transform(x), theirs.transform(x)
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got[:, columns]), np.isnan(want[:, columns]))
    center, multiplier = _affine(theirs)
    with np.errstate(invalid="ignore"):
        terms = np.abs(x * multiplier) + np.abs(center * multiplier) + np.abs(want)
    err_ours = np.abs(got - _exact(ours, x))[:, columns]
    err_theirs = np.abs(want - _exact(theirs, x))[:, columns]
    observed = ~np.isnan(want[:, columns])
    ulp = float(np.finfo(x.dtype).eps)
    slack = 4 * ulp * np.maximum(terms[:, columns][observed], 1.0)
    err_ours, err_theirs = err_ours[observed], err_theirs[observed]
    assert np.all(err_ours <= err_theirs + slack), float(np.max(err_ours - err_theirs - slack))


@st.composite
def tables(draw):
    """Columns of several kinds: spread normal data with NaN, constant, all-NaN, huge offsets."""
    seed = draw(st.integers(0, 2**32 - 1))
    rows = draw(st.integers(2, 60))
    kinds = draw(st.lists(st.sampled_from(["normal", "constant", "empty", "offset"]),
                          min_size=1, max_size=6))  # fmt: skip
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    nan_fraction = draw(st.sampled_from([0.0, 0.1, 0.5]))
    rng = np.random.default_rng(seed)
    columns = []
    for kind in kinds:
        col = rng.normal(rng.uniform(-10, 10), rng.uniform(0.1, 5), rows)
        if kind == "constant":
            col[:] = rng.uniform(-3, 3)
        elif kind == "offset":
            col = col * 1e-3 + 1e4
        col[rng.random(rows) < nan_fraction] = np.nan
        if kind == "empty":
            col[:] = np.nan
        columns.append(col)
    x = np.stack(columns, axis=1).astype(dtype)
    x[0, ~np.isnan(x).all(axis=0) & np.isnan(x[0])] = 1.0  # keep some rows observed
    return x


@settings(max_examples=40, deadline=None)
@given(x=tables(), variant=st.sampled_from(VARIANTS))
def test_matches_sklearn_on_generated_tables(x, variant):
    cls, params = variant
    theirs_cls = SKLEARN[cls]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scikit-learn's all-NaN columns
        warnings.simplefilter("ignore", UserWarning)  # SimpleImputer's skipped columns
        ref = theirs_cls(**params).fit(x)
        want = ref.transform(x)
        ours = cls(**params).fit(x)
        got = ours.transform(x)
    # SimpleImputer's float32 means: scikit-learn sums in float32, lepton in float64
    rtol = 1e-5 if cls is SimpleImputer and x.dtype == np.float32 else 1e-10
    _assert_same_model(ours, ref, rtol, x)
    if cls is SimpleImputer:  # observed values untouched, NaN filled with the statistic
        np.testing.assert_allclose(got, want, rtol=rtol, equal_nan=True)
        return
    if not params.get("clip"):  # clip=True transforms with scikit-learn's code
        _assert_no_worse(ours, ref, x)


@settings(max_examples=20, deadline=None)
@given(x=tables(), cuts=st.lists(st.integers(1, 59), max_size=3),
       cls=st.sampled_from([StandardScaler, MinMaxScaler]))  # fmt: skip
def test_partial_fit_batches_match_sklearn(x, cuts, cls):
    bounds = sorted({0, x.shape[0], *(c for c in cuts if c < x.shape[0])})
    ours, ref = cls(), SKLEARN[cls]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for start, stop in itertools.pairwise(bounds):
            ours.partial_fit(x[start:stop])
            ref.partial_fit(x[start:stop])
    # scikit-learn's min/max of an all-NaN batch stays NaN forever (np.minimum); lepton's
    # merge ignores it (fmin): compare where scikit-learn's has a value
    if cls is MinMaxScaler:
        seen = ~np.isnan(ref.data_min_)
        np.testing.assert_array_equal(ours.data_min_[seen], ref.data_min_[seen])
        np.testing.assert_array_equal(ours.data_max_[seen], ref.data_max_[seen])
        assert ours.n_samples_seen_ == ref.n_samples_seen_
        _assert_no_worse(ours, ref, x, columns=seen)
        return
    _assert_same_model(ours, ref, 1e-9, x, partial=True)
    seen = ~np.isnan(ref.var_) if ref.var_ is not None else slice(None)
    _assert_no_worse(ours, ref, x, columns=seen)


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_same_constructor_and_params(ours, theirs):
    assert issubclass(ours, theirs)
    assert str(inspect.signature(ours)) == str(inspect.signature(theirs))  # (nan != nan)
    assert ours().get_params() == theirs().get_params()
    assert type(clone(ours())) is ours
    assert getattr(lepton, ours.__name__) is ours


def test_copy_false_writes_in_place():
    x = np.random.default_rng(0).normal(2, 3, (50, 4))
    x[3, 1] = np.nan
    before = x.copy()
    out = StandardScaler(copy=False).fit(x).transform(x)
    assert out is x
    np.testing.assert_allclose(x, preprocessing.StandardScaler().fit_transform(before),
                               rtol=1e-12, equal_nan=True)  # fmt: skip
    y = before.copy()
    assert SimpleImputer(copy=False).fit(y).transform(y) is y
    assert not np.isnan(y).any()
    z = before.copy()
    assert StandardScaler().fit(z).transform(z) is not z
    np.testing.assert_array_equal(z, before)


def test_fortran_order_is_kept():
    x = np.asfortranarray(np.random.default_rng(1).normal(size=(40, 5)))
    out = MinMaxScaler().fit(x).transform(x)
    assert out.flags.f_contiguous


def test_inf_is_refused_like_sklearn():
    x = np.ones((5, 2))
    x[1, 1] = np.inf
    for cls in (StandardScaler, MinMaxScaler, SimpleImputer):
        with pytest.raises(ValueError, match="infinity"):
            cls().fit(x)


def test_empty_column_dropped_with_sklearns_warning():
    x = np.random.default_rng(2).normal(size=(20, 3))
    x[:, 1] = np.nan
    with pytest.warns(UserWarning, match=r"Skipping features without any observed values: \[1\]"):
        out = SimpleImputer().fit(x).transform(x)
    assert out.shape == (20, 2)


# -- what runs scikit-learn's implementation ----------------------------------------------------


@pytest.mark.parametrize(
    ("est", "x", "kwargs", "reason"),
    [
        (StandardScaler(), np.ones((3, 2)), {}, None),
        (StandardScaler(), np.ones((3, 2)), {"sample_weight": np.ones(3)}, "sample_weight"),
        (StandardScaler(with_mean=False), scipy.sparse.eye(3, format="csr"), {}, "sparse"),
        (MinMaxScaler(), np.ones((3, 2), np.float16), {}, "float16"),
        (MinMaxScaler(clip=True), np.ones((3, 2)), {}, None),  # fit: lepton's
        (SimpleImputer(strategy="median"), None, {}, "'median'"),
        (SimpleImputer(strategy="most_frequent"), None, {}, "'most_frequent'"),
        (SimpleImputer(missing_values=-1), None, {}, "missing_values=-1"),
        (SimpleImputer(add_indicator=True), None, {}, "add_indicator"),
        (SimpleImputer(strategy="constant", fill_value="x"), None, {}, "fill_value='x'"),
        (SimpleImputer(strategy="constant"), np.ones((3, 2), np.int64), {}, "int64"),
        (SimpleImputer(), np.array([["a", "b"]], dtype=object), {}, "non-numeric"),
        (SimpleImputer(), np.ones((3, 2), np.int64), {}, None),  # mean: float64, as sklearn
    ],
)
def test_fallback_reason(est, x, kwargs, reason):
    got = type(est).fallback_reason(est.get_params(), x, method="fit", **kwargs)
    assert got is None if reason is None else reason in got


def test_fallbacks_run_sklearn_and_say_so_once(caplog):
    from lepton.estimators import _fallback

    _fallback._SAID.clear()
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 3))
    x[rng.random(x.shape) < 0.2] = np.nan
    weights = rng.uniform(0.5, 2, 30)
    with caplog.at_level(logging.INFO, logger="lepton.estimators"):
        ours = StandardScaler().fit(x, sample_weight=weights)
        StandardScaler().fit(x, None, weights)  # positional: the same reason, said once
        median = SimpleImputer(strategy="median").fit(x)
    said = [r.getMessage() for r in caplog.records if r.name == "lepton.estimators"]
    assert len(said) == 2
    assert "StandardScaler: sample_weight" in said[0]
    assert "SimpleImputer: strategy='median'" in said[1]
    ref = preprocessing.StandardScaler().fit(x, sample_weight=weights)
    np.testing.assert_array_equal(ours.mean_, ref.mean_)
    np.testing.assert_array_equal(ours.scale_, ref.scale_)
    np.testing.assert_allclose(ours.transform(x), ref.transform(x), rtol=1e-12, equal_nan=True)
    # A model scikit-learn fitted continues with scikit-learn's partial_fit
    ours.partial_fit(x)
    ref.partial_fit(x)
    np.testing.assert_allclose(ours.mean_, ref.mean_, rtol=1e-12)
    np.testing.assert_array_equal(median.statistics_, np.nanmedian(x, axis=0))


def test_sparse_fit_dense_transform():
    x = scipy.sparse.random(40, 6, density=0.3, format="csr", random_state=4)
    ours = StandardScaler(with_mean=False).fit(x)
    ref = preprocessing.StandardScaler(with_mean=False).fit(x)
    np.testing.assert_array_equal(ours.scale_, ref.scale_)
    dense = x.toarray()
    np.testing.assert_allclose(ours.transform(dense), ref.transform(dense), rtol=1e-12)
    assert scipy.sparse.issparse(ours.transform(x))


# -- dask and CUDA input --------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "params"), [*VARIANTS[:2], VARIANTS[4], VARIANTS[5], VARIANTS[7]])
def test_dask_input_matches_numpy(cls, params):
    import dask
    import dask.array as da

    rng = np.random.default_rng(5)
    x = rng.normal(3, 2, (90, 4))
    x[rng.random(x.shape) < 0.1] = np.nan
    with dask.config.set(scheduler="sync"):
        lazy_x = da.from_array(x, chunks=(17, 4))
        ours = cls(**params).fit(lazy_x)
        out = ours.transform(lazy_x)
        assert isinstance(out, da.Array)
        computed = out.compute()
    want = cls(**params).fit(x)
    _assert_same_model(ours, want, 1e-12)  # merged block statistics: float64 round-off
    np.testing.assert_array_equal(computed, ours.transform(x))  # same model, blockwise
    np.testing.assert_array_equal(x[np.isfinite(x)], x[np.isfinite(x)])  # not written in place


@pytest.mark.gpu
@pytest.mark.parametrize(("cls", "params"), [*VARIANTS[:2], VARIANTS[4], VARIANTS[5], VARIANTS[7]])
def test_cuda_input_matches_numpy(cls, params):
    cupy = pytest.importorskip("cupy")
    rng = np.random.default_rng(6)
    x = rng.normal(3, 2, (2000, 7)).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan
    ours = cls(**params).fit(cupy.asarray(x))
    want = cls(**params).fit(x)
    _assert_same_model(ours, want, 1e-10)
    out = ours.transform(cupy.asarray(x))
    assert isinstance(out, cupy.ndarray)
    np.testing.assert_allclose(out.get(), want.transform(x), rtol=1e-6, atol=1e-6,
                               equal_nan=True)  # fmt: skip


# -- the scikit-learn contract --------------------------------------------------------------------


@parametrize_with_checks(
    [
        StandardScaler(),
        StandardScaler(with_mean=False),
        MinMaxScaler(feature_range=(-1, 2)),
        SimpleImputer(),
        SimpleImputer(strategy="constant", keep_empty_features=True),
    ],
    expected_failed_checks=lambda est: (
        {"check_dtype_object": "scikit-learn's own constant imputer fails it: it imputes objects"}
        if getattr(est, "strategy", None) == "constant"
        else {}
    ),
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
